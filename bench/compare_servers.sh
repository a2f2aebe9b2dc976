#!/usr/bin/env bash
# Two server builds on the same artifacts, side by side: starts OLD_BIN_DIR/serving/server on a
# copy of DATA_DIR and NEW_BIN_DIR/serving/server (default bazel-bin) on another copy (each a
# primary of its own store), then bench/compare_servers asks both every test query,
# interleaved: identical top-10 pages and single-client p50/p99 of each.
# usage: bench/compare_servers.sh OLD_BIN_DIR DATA_DIR
#   env: NEW_BIN_DIR, ROUNDS (3), A_ARGS / B_ARGS (extra flags of the old / new server, e.g. to
#   compare two settings of one build: NEW_BIN_DIR=bazel-bin bench/compare_servers.sh bazel-bin ...)
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="${1:?usage: bench/compare_servers.sh OLD_BIN_DIR DATA_DIR}"
D="${2:?usage: bench/compare_servers.sh OLD_BIN_DIR DATA_DIR}"
NEW="${NEW_BIN_DIR:-bazel-bin}"
W="$(mktemp -d "${TMPDIR:-/tmp}/compare_servers.XXXXXX")"
# Each server gets its own copy of what it writes (the store is opened as primary); the
# catalog files are only read by the client and are linked, not copied.
for side in a b; do
  mkdir -p "$W/$side"
  for part in "$D"/*; do
    name=$(basename "$part")
    case "$name" in
      catalog|run|bench) ln -s "$(cd "$part" && pwd)" "$W/$side/$name" ;;
      *) cp -a "$part" "$W/$side/$name" ;;
    esac
  done
done
source tools/server_lib.sh
# shellcheck disable=SC2086
start_server "$OLD" "$W/a" "$W/a.port" "$W/a.log" --log_impressions=false ${A_ARGS:-}
A_PID=$SERVER_PID
# shellcheck disable=SC2086
start_server "$NEW" "$W/b" "$W/b.port" "$W/b.log" --log_impressions=false ${B_ARGS:-}
B_PID=$SERVER_PID
trap 'kill $A_PID $B_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT
# Both servers tokenise their listing records in the background after start (builds before
# the serving record: "token cache warmed"); measure them once that is done, in steady state.
for log in "$W/a.log" "$W/b.log"; do
  for _ in $(seq 1 300); do
    grep -qE 'tokenised [0-9]+ listing records|token cache warmed' "$log" && break
    sleep 0.5
  done
done
echo "loadavg before: $(cat /proc/loadavg)"
bazel-bin/bench/compare_servers --a="127.0.0.1:$(cat "$W/a.port")" --b="127.0.0.1:$(cat "$W/b.port")" \
  --queries_file="$D/catalog/queries.tsv" --rounds="${ROUNDS:-3}"
echo "loadavg after: $(cat /proc/loadavg)"
