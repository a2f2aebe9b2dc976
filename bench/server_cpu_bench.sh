#!/usr/bin/env bash
# Server CPU per request with one client, and the server's idle CPU: starts the real server on
# DATA_DIR (free loopback port, as tools/demo.sh does), measures its idle CPU for 5 s, runs
# bench/load_gen with one request in flight for 10 s (server CPU from /proc/<pid>/stat), then
# measures its idle CPU for the 5 s after the load, and stops it.
# usage: bench/server_cpu_bench.sh DATA_DIR
#   env: SERVER_BIN_DIR (default bazel-bin: runs SERVER_BIN_DIR/serving/server), CPU_DURATION_S (10),
#        SERVER_ARGS (extra server flags, e.g. --model_format=torchscript)
set -euo pipefail
cd "$(dirname "$0")/.."
D="${1:?usage: bench/server_cpu_bench.sh DATA_DIR}"
SERVER_BIN="${SERVER_BIN_DIR:-bazel-bin}"
LOAD_GEN="${LOAD_GEN:-bazel-bin/bench/load_gen}"
RUN="$D/run"
mkdir -p "$RUN"
LOG="$RUN/cpu_server.log"

# CPU seconds (utime + stime) of a process, from /proc/<pid>/stat (fields 14 and 15; the
# fields are counted after the ')' that closes the command name).
cpu_s() { sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($12 + $13) / hz }'; }
# idle_cores SECONDS: the server's CPU use over SECONDS of no requests, in cores.
idle_cores() {
  local a b
  a=$(cpu_s "$SERVER_PID")
  sleep "$1"
  b=$(cpu_s "$SERVER_PID")
  awk -v a="$a" -v b="$b" -v s="$1" 'BEGIN { printf "%.3f", (b - a) / s }'
}

source tools/server_lib.sh
trap stop_server EXIT
# shellcheck disable=SC2086
start_server "$SERVER_BIN" "$D" "$RUN/cpu_port" "$LOG" ${SERVER_ARGS:-}
echo "server $SERVER_BIN/serving/server on $D (pid $SERVER_PID):"
grep 'serving index' "$LOG" | sed 's/^/  /'
IDLE_BEFORE=$(idle_cores 5)
rc=0
"$LOAD_GEN" --target="127.0.0.1:$(cat "$RUN/cpu_port")" --in_flight=1 \
  --duration_s="${CPU_DURATION_S:-10}" --server_pid="$SERVER_PID" \
  --queries_file="$D/catalog/queries.tsv" --name=cpu > "$RUN/cpu_load.txt" 2>&1 || rc=$?
grep -v '^BENCH' "$RUN/cpu_load.txt"
if [ "$rc" != 0 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "load_gen exit $rc; server log ($LOG):" >&2
  tail -20 "$LOG" >&2
  exit 1
fi
IDLE_AFTER=$(idle_cores 5)
MS=$(awk '$2 == "cpu_inflight1_server_cpu_ms_per_request" { print $3 }' "$RUN/cpu_load.txt")
QPS=$(awk '$2 == "cpu_inflight1_qps" { print $3 }' "$RUN/cpu_load.txt")
P50=$(awk '$2 == "cpu_inflight1_p50_ms" { print $3 }' "$RUN/cpu_load.txt")
printf '\n%-44s %s\n' "server CPU per request, 1 client (ms)" "$MS"
printf '%-44s %s\n' "requests/s, 1 client" "$QPS"
printf '%-44s %s\n' "latency p50, 1 client (ms)" "$P50"
printf '%-44s %s\n' "server idle CPU, 5 s before the load (cores)" "$IDLE_BEFORE"
printf '%-44s %s\n' "server idle CPU, 5 s after the load (cores)" "$IDLE_AFTER"
echo "BENCH server_cpu_ms_per_request_1client $MS"
echo "BENCH server_qps_1client $QPS"
echo "BENCH server_idle_cores_before_load $IDLE_BEFORE"
echo "BENCH server_idle_cores_after_load $IDLE_AFTER"
