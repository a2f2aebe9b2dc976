#!/usr/bin/env bash
# Freshness benchmark (issue 5): starts the real server on DATA_DIR (free loopback port, as
# tools/demo.sh does), runs fresh_listing_bench against it, stops the server.
# The bench writes to the store (upserts, then deletes): use a scratch data directory, and
# no other server may have it open (this one opens the store as primary).
# usage: bench/fresh_bench.sh DATA_DIR   env: FRESH_ARGS (extra fresh_listing_bench flags)
set -euo pipefail
cd "$(dirname "$0")/.."
D="${1:?usage: bench/fresh_bench.sh DATA_DIR}"
BIN=bazel-bin

# The lexical leg is optional for freshness, but build it so the server runs as in production.
[ -f "$D/lexical/CURRENT" ] || "$BIN/jobs/build_lexical" --data_dir="$D"
RUN="$D/run"
PORT_FILE="$RUN/fresh_port"
mkdir -p "$RUN"
source tools/server_lib.sh
trap stop_server EXIT
start_server "$BIN" "$D" "$PORT_FILE" "$RUN/fresh_server.log"
# shellcheck disable=SC2086
"$BIN/bench/fresh_listing_bench" --target="127.0.0.1:$(cat "$PORT_FILE")" ${FRESH_ARGS:-} || {
  rc=$?
  echo "server log ($RUN/fresh_server.log):" >&2
  tail -20 "$RUN/fresh_server.log" >&2
  exit $rc
}
