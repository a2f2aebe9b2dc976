#!/usr/bin/env bash
# Two server builds on the same artifacts, side by side: starts OLD_BIN_DIR/serving/server on a
# copy of DATA_DIR and NEW_BIN_DIR/serving/server (default bazel-bin) on another copy (each a
# primary of its own store), then bench/compare_servers asks both every test query,
# interleaved: identical top-10 pages and single-client p50/p99 of each.
# usage: bench/compare_servers.sh OLD_BIN_DIR DATA_DIR   env: NEW_BIN_DIR, ROUNDS (3)
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="${1:?usage: bench/compare_servers.sh OLD_BIN_DIR DATA_DIR}"
D="${2:?usage: bench/compare_servers.sh OLD_BIN_DIR DATA_DIR}"
NEW="${NEW_BIN_DIR:-bazel-bin}"
W="$(mktemp -d "${TMPDIR:-/tmp}/compare_servers.XXXXXX")"
cp -a "$D" "$W/a"
cp -a "$D" "$W/b"
source tools/server_lib.sh
start_server "$OLD" "$W/a" "$W/a.port" "$W/a.log" --log_impressions=false
A_PID=$SERVER_PID
start_server "$NEW" "$W/b" "$W/b.port" "$W/b.log" --log_impressions=false
B_PID=$SERVER_PID
trap 'kill $A_PID $B_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT
echo "loadavg before: $(cat /proc/loadavg)"
bazel-bin/bench/compare_servers --a="127.0.0.1:$(cat "$W/a.port")" --b="127.0.0.1:$(cat "$W/b.port")" \
  --queries_file="$D/catalog/queries.tsv" --rounds="${ROUNDS:-3}"
echo "loadavg after: $(cat /proc/loadavg)"
