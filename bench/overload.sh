#!/usr/bin/env bash
# make overload (and the last step of make load): the server at FACTOR (default 3) times its
# measured saturation rate, with a new index, lexical index and ranker published during it.
#   1. unloaded: one client, closed loop -> the p99 that accepted requests are held to (2x);
#   2. saturation: closed loop at 2 per core in flight -> the rate the server completes (S qps);
#   3. open loop (Poisson) at FACTOR x S for OVERLOAD_S seconds, then at S/2 for AFTER_S
#      seconds (the load drops), every completion in a timeline; the server's resident memory
#      sampled every 0.5 s; at 1/4, 1/2 and 3/4 of the overload a new version of the index, the
#      lexical index and the ranker is published (the served one copied under the next version
#      number: the server verifies, loads and swaps it exactly as a new build's);
#   4. prints per-phase and per-second tables and BENCH overload_* lines: shed share, failed
#      requests other than sheds (the goal is 0), p99 of accepted requests vs unloaded, memory,
#      recovery time after the drop, and the swaps seen in responses.
# Needs the deployment bench/load.sh builds (LOAD_BUILD_ONLY=1 bash bench/load.sh; built here
# when missing). A server death ends the run with exit 3 and the end of its log.
#
# env: OVERLOAD_DATA_DIR (default var/load1m), OVERLOAD_FACTOR (3), OVERLOAD_S (30),
#      OVERLOAD_AFTER_S (15), SERVER_BIN_DIR (default bazel-bin), SERVER_ARGS (extra flags)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/server_lib.sh

D="${OVERLOAD_DATA_DIR:-var/load1m}"
FACTOR="${OVERLOAD_FACTOR:-3}"
OVER_S="${OVERLOAD_S:-30}"
AFTER_S="${OVERLOAD_AFTER_S:-15}"
SERVER_BIN="${SERVER_BIN_DIR:-bazel-bin}"
LOAD_GEN="${LOAD_GEN:-bazel-bin/bench/load_gen}"
PY=third_party/python

if [ ! -f "$D/.lexical_done" ]; then
  echo "== overload: no deployment in $D; building it (LOAD_BUILD_ONLY=1 bash bench/load.sh)"
  LOAD_BUILD_ONLY=1 LOAD_DATA_DIR="$D" bash bench/load.sh
fi
RUN="$D/run/overload"
rm -rf "$RUN"
mkdir -p "$RUN"
Q="$D/catalog/queries.tsv"

# A short reload interval so a published version is picked up within the overload window.
start_server "$SERVER_BIN" "$D" "$RUN/port" "$RUN/server.log" --reload_interval_ms=500 ${SERVER_ARGS:-}
RSS_PID=""
cleanup() {
  [ -n "$RSS_PID" ] && kill "$RSS_PID" 2>/dev/null || true
  stop_server
}
trap cleanup EXIT
TARGET="127.0.0.1:$(cat "$RUN/port")"
echo "== overload on $D: server pid $SERVER_PID at $TARGET; load average $(cut -d' ' -f1-3 /proc/loadavg)"

server_alive() {
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID" 2>/dev/null && rc=0 || rc=$?
    echo "SERVER DIED (exit status $rc); end of its log:" >&2
    tail -30 "$RUN/server.log" >&2
    exit 3
  fi
}

bench_value() { awk -v n="$1" '$1 == "BENCH" && $2 == n { print $3 }' "$2"; }

echo "-- 1. unloaded: one client, 10 s"
"$LOAD_GEN" --target="$TARGET" --in_flight=1 --duration_s=10 --warmup_s=2 --queries_file="$Q" \
  --server_pid="$SERVER_PID" --name=unloaded --filtered_share=0.3 | tee "$RUN/unloaded.txt" | grep -v '^BENCH'
server_alive
U99=$(bench_value unloaded_inflight1_p99_ms "$RUN/unloaded.txt")

# Two requests per core in flight: every worker busy, a short queue. (More clients than the
# queue holds measure less: each refusal is retried at once and costs the server CPU.)
SAT_IN_FLIGHT="${OVERLOAD_SAT_IN_FLIGHT:-$(( 2 * $(nproc) ))}"
echo "-- 2. saturation: closed loop, $SAT_IN_FLIGHT in flight, 10 s"
"$LOAD_GEN" --target="$TARGET" --in_flight="$SAT_IN_FLIGHT" --duration_s=10 --warmup_s=2 --queries_file="$Q" \
  --server_pid="$SERVER_PID" --name=sat --filtered_share=0.3 | tee "$RUN/saturation.txt" | grep -v '^BENCH'
server_alive
SAT=$(bench_value "sat_inflight${SAT_IN_FLIGHT}_qps" "$RUN/saturation.txt")
OVER_QPS=$(awk -v s="$SAT" -v f="$FACTOR" 'BEGIN { printf "%.0f", s * f }')
AFTER_QPS=$(awk -v s="$SAT" 'BEGIN { printf "%.0f", s / 2 }')

# A new version of ROOT, staged before the overload as a build job leaves it (the served version,
# CURRENT else the newest, copied to .tmp-<next>-<pid> and synced; the MANIFEST gets the new
# number where it records one: index and ranker, whose number every response reports, which is
# how the report sees the swap), then published during it: renamed into place, then CURRENT
# rewritten through a rename (common/versions.h). Staging first keeps the copy of ~0.6 GB off
# the two cores the server shares with this script; a build job writes from another machine.
stage_copy() {
  local root="$1" cur next
  if [ -f "$root/CURRENT" ]; then cur=$(tr -d '[:space:]' < "$root/CURRENT"); else
    cur=$(ls "$root" | grep -E '^[1-9][0-9]*$' | sort -n | tail -1); fi
  next=$(( $(ls "$root" | grep -E '^[1-9][0-9]*$' | sort -n | tail -1) + 1 ))
  cp -a "$root/$cur" "$root/.tmp-$next-$$"
  sed -i "s/^version: .*/version: $next/" "$root/.tmp-$next-$$/MANIFEST"
  sync -f "$root/.tmp-$next-$$" 2>/dev/null || true
  echo "$next"
}
publish_staged() {
  local root="$1" next="$2"
  mv "$root/.tmp-$next-$$" "$root/$next"
  if [ -f "$root/CURRENT" ]; then
    echo "$next" > "$root/CURRENT.tmp.$$" && mv "$root/CURRENT.tmp.$$" "$root/CURRENT"
  fi
}
KINDS="index lexical models/ranker"
declare -A STAGED
for kind in $KINDS; do STAGED[$kind]=$(stage_copy "$D/$kind"); done
echo "   staged index v${STAGED[index]}, lexical v${STAGED[lexical]}, ranker v${STAGED[models/ranker]}"

echo "-- 3. open loop: ${OVER_QPS} qps (${FACTOR} x ${SAT}) for ${OVER_S} s, then ${AFTER_QPS} qps for ${AFTER_S} s"
( while kill -0 "$SERVER_PID" 2>/dev/null; do
    echo "$(date +%s.%N) $(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null)"
    sleep 0.5
  done ) > "$RUN/rss.txt" &
RSS_PID=$!
T0=$(date +%s.%N)
"$LOAD_GEN" --target="$TARGET" --rate_phases="$OVER_QPS:$OVER_S,$AFTER_QPS:$AFTER_S" --warmup_s=0 \
  --queries_file="$Q" --server_pid="$SERVER_PID" --name=overload_run --filtered_share=0.3 \
  --timeline_file="$RUN/timeline.txt" > "$RUN/overload.txt" &
GEN_PID=$!
: > "$RUN/swaps.txt"
for kind in $KINDS; do
  # at 1/4, 1/2, 3/4 of the overload window
  n=$(grep -c . "$RUN/swaps.txt" || true)
  at=$(awk -v t0="$T0" -v o="$OVER_S" -v k="$n" 'BEGIN { printf "%.3f", t0 + o * (k + 1) / 4 }')
  while awk -v a="$at" -v now="$(date +%s.%N)" 'BEGIN { exit !(now < a) }'; do sleep 0.1; done
  t=$(date +%s.%N)
  v=${STAGED[$kind]}
  publish_staged "$D/$kind" "$v"
  echo "$kind $v $(awk -v t="$t" -v t0="$T0" 'BEGIN { printf "%.2f", t - t0 }')" >> "$RUN/swaps.txt"
  echo "   published $kind v$v at $(tail -1 "$RUN/swaps.txt" | cut -d' ' -f3) s"
done
wait "$GEN_PID" || true
grep -v '^BENCH' "$RUN/overload.txt"
server_alive
sleep 1
kill "$RSS_PID" 2>/dev/null || true
RSS_PID=""

"$PY" bench/overload_report.py --timeline="$RUN/timeline.txt" --rss="$RUN/rss.txt" --t0="$T0" \
  --swaps="$RUN/swaps.txt" --overload_s="$OVER_S" --after_s="$AFTER_S" --unloaded_p99_ms="$U99" \
  --saturation_qps="$SAT" --offered_qps="$OVER_QPS" --server_log="$RUN/server.log"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
