#!/usr/bin/env bash
# make load: closed-loop gRPC load on a 1,000,000-listing deployment.
#   1. builds the deployment once in var/load1m (each step skipped when its marker exists):
#      demo-scale models (two towers + ranker, trained on a 20k marketplace; or var/demo's),
#      the 1M catalog, ingest, models copied in, FAISS IVF4096,Flat index, Xapian index;
#   2. starts the server on it and runs bench/load_gen at each in-flight level (closed loop), then
#      open loop at increasing Poisson rates with a filtered share (BENCH <name>_max_qps_p99_25ms:
#      the highest rate with p99 <= 25 ms and >= 99% OK);
#   3. measures the served index's filtered Recall@100 per selectivity bucket, NDCG@10 and
#      Recall@100 through the API, and a single client of filtered requests;
#   4. prints every table and all BENCH lines (names prefixed 1m_, and the headline names:
#      index_recall100_real_1m, index_build_1m_s, index_encode_1m_s, filtered_recall100_min,
#      ndcg10_api_1m, search_p50_ms, search_p99_ms, search_filtered_p99_ms,
#      server_cpu_ms_per_request, max_qps_p99_25ms).
# If the server dies during a level, its exit status / signal and the end of its log are
# printed, the remaining levels are skipped and the script exits 3 after the report.
#
# env: LISTINGS (default 1000000; data in var/load1m, else var/load_<LISTINGS>)
#      LOAD_INFLIGHT (default "1 8 64 256 512"), LOAD_DURATION_S (default 10), LOAD_WARMUP_S (2)
#      LOAD_RATES (open-loop Poisson rates, default "50 100 150 200 300 400 600 800"; empty = none)
#      LOAD_FILTERED_SHARE (share of open-loop requests with a filter, default 0.3)
#      SERVER_BIN_DIR (default bazel-bin: runs SERVER_BIN_DIR/serving/server, e.g. /tmp/baseline)
#      TOOLS_BIN_DIR (default bazel-bin: the offline tools that build the deployment)
#      MODELS_SRC (default var/load1m/models_src: where the demo-scale models are trained)
#      LOAD_NAME (BENCH prefix; default 1m for 1,000,000 listings, 100k for 100,000, ...)
#      LOAD_BUILD_ONLY=1 (build the deployment, run no load), SERVER_ARGS (extra server flags)
set -euo pipefail
cd "$(dirname "$0")/.."
LISTINGS="${LISTINGS:-1000000}"
TOOLS="${TOOLS_BIN_DIR:-bazel-bin}"
SERVER_BIN="${SERVER_BIN_DIR:-bazel-bin}"
LOAD_GEN="${LOAD_GEN:-bazel-bin/bench/load_gen}"
INFLIGHT="${LOAD_INFLIGHT:-1 8 64 256 512}"
RATES="${LOAD_RATES-50 100 150 200 300 400 600 800}"
FILTERED_SHARE="${LOAD_FILTERED_SHARE:-0.3}"
DURATION="${LOAD_DURATION_S:-10}"
WARMUP="${LOAD_WARMUP_S:-2}"
if [ "$LISTINGS" = 1000000 ]; then D=var/load1m; else D="var/load_$LISTINGS"; fi
D="${LOAD_DATA_DIR:-$D}"
MSRC="${MODELS_SRC:-var/load1m/models_src}"
if [ -z "${LOAD_NAME:-}" ]; then
  if (( LISTINGS % 1000000 == 0 )); then LOAD_NAME="$((LISTINGS / 1000000))m"
  elif (( LISTINGS % 1000 == 0 )); then LOAD_NAME="$((LISTINGS / 1000))k"
  else LOAD_NAME="$LISTINGS"; fi
fi
USERS=$(( LISTINGS / 10 > 100 ? LISTINGS / 10 : 100 ))
PY=third_party/python
RUN="$D/run"
mkdir -p "$RUN"
TIMES="$RUN/build_times.txt"  # step -> seconds, kept so a reused deployment still shows them

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# run_logged LOG CMD...: runs CMD with its output in LOG, printing the log's last line every
# 20 s as progress; on failure prints the end of the log and returns the command's status.
run_logged() {
  local log="$1"; shift
  local t0 rc=0 pid
  t0=$(now)
  "$@" > "$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      printf '  ... %s s: %s\n' "$(secs "$t0" "$(now)")" \
        "$(tr '\r' '\n' < "$log" | grep -v '^\s*$' | tail -1 | cut -c1-150)"
    fi
  done
  wait "$pid" || rc=$?
  if [ "$rc" != 0 ]; then
    echo "  FAILED (exit $rc): $*" >&2
    tail -30 "$log" >&2
  fi
  return "$rc"
}

# step NAME MARKER CMD...: skips when MARKER exists (unless an earlier step ran this time),
# else runs CMD (logged to $RUN/build_<NAME>.log), times it and writes MARKER.
REBUILT=0
step() {
  local name="$1" marker="$2"; shift 2
  if [ -f "$marker" ] && [ "$REBUILT" = 0 ]; then
    printf '== %-8s done before (%s s), reused\n' "$name" "$(awk -v n="$name" '$1 == n { t = $2 } END { print t ? t : "?" }' "$TIMES" 2>/dev/null)"
    return 0
  fi
  REBUILT=1
  rm -f "$marker"
  printf '== %-8s %s (log %s)\n' "$name" "$*" "$RUN/build_$name.log"
  local t0 t
  t0=$(now)
  run_logged "$RUN/build_$name.log" "$@"
  t=$(secs "$t0" "$(now)")
  { grep -v "^$name " "$TIMES" 2>/dev/null || true; echo "$name $t"; } > "$TIMES.tmp" && mv "$TIMES.tmp" "$TIMES"
  printf '   %-8s %s s\n' "$name" "$t"
  touch "$marker"
}

# Newest version number under a versioned directory (0 when none).
latest() { ls "$1" 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1 || true; }

# --- 1. demo-scale models: two towers + a ranker trained on a 20k marketplace ----------------
train_models() {
  rm -rf "$MSRC"
  SRC_ROOT=. bash tools/pipeline.sh "$TOOLS" "$MSRC" 20000 3000 15
  "$PY" ranking/train/make_oof_folds.py --data_dir="$MSRC" --bin_dir="$TOOLS" --folds=2 --epochs=15
  "$TOOLS/jobs/export_ranking_data" --data_dir="$MSRC"
  "$PY" ranking/train/train_ranker.py --data_dir="$MSRC"
}
models_ready() { [ -n "$(latest "$1/models/ranker")" ] && [ -n "$(latest "$1/models/listing_tower")" ] &&
                 [ -n "$(latest "$1/models/query_tower")" ]; }

echo "load deployment: $LISTINGS listings in $D (tools: $TOOLS, models from $MSRC)"
cat /proc/loadavg | sed 's/^/loadavg: /'
if [ ! -f "$MSRC/.models_done" ] && models_ready var/demo; then
  echo "== models   reusing var/demo/models (has a ranker)"
  MSRC=var/demo
else
  mkdir -p "$MSRC"
  REBUILT_SAVE=$REBUILT
  step models "$MSRC/.models_done" train_models
  # New models do not invalidate a built catalog/store: only the copy + indexes depend on them.
  if [ "$REBUILT" = 1 ] && [ "$REBUILT_SAVE" = 0 ]; then MODELS_CHANGED=1; fi
  REBUILT=$REBUILT_SAVE
fi
models_ready "$MSRC" || { echo "no complete model set (query/listing tower + ranker) in $MSRC" >&2; exit 1; }

# --- 2. the deployment ----------------------------------------------------------------------
gen_catalog() {
  rm -rf "$D/catalog"
  "$TOOLS/jobs/make_marketplace" --seed=42 --listings="$LISTINGS" --users="$USERS" \
    --queries=20000 --out_dir="$D/catalog"
}
ingest() { rm -rf "$D/store" "$D/logs"; "$TOOLS/jobs/ingest" --data_dir="$D"; }
# The served ranker must have been trained on the served index's embedding space: the server
# takes the newest ranker whose manifest names the index's listing tower version
# (metric listing_tower_version), else it serves "no ranker: fused order". build_index embeds
# with the newest listing tower, so copy the newest tower pair and the newest ranker made for it.
copy_models() {
  local lt qt rk want=""
  lt=$(latest "$MSRC/models/listing_tower")
  qt=$(latest "$MSRC/models/query_tower")
  for rk in $(ls "$MSRC/models/ranker" | grep -E '^[0-9]+$' | sort -rn); do
    local v
    v=$(awk '/key: "listing_tower_version"/ { for (i = 1; i <= NF; ++i) if ($i == "value:") print int($(i + 1)) }' \
        "$MSRC/models/ranker/$rk/MANIFEST")
    if [ "$v" = "$lt" ]; then want=$rk; break; fi
  done
  [ -n "$want" ] || { echo "no ranker in $MSRC/models/ranker was trained for listing tower v$lt" >&2; return 1; }
  [ "$qt" = "$lt" ] || echo "note: query tower v$qt, listing tower v$lt (the server loads the pair of the index's version)"
  rm -rf "$D/models" "$D/index" "$D/lexical"
  mkdir -p "$D/models/query_tower" "$D/models/listing_tower" "$D/models/ranker"
  cp -r "$MSRC/models/query_tower/$lt" "$D/models/query_tower/"
  cp -r "$MSRC/models/listing_tower/$lt" "$D/models/listing_tower/"
  cp -r "$MSRC/models/ranker/$want" "$D/models/ranker/"
  # The ranker's features include the fused score: serve the fusion it was trained with.
  if [ -f "$MSRC/fusion.textproto" ]; then cp "$MSRC/fusion.textproto" "$D/"; else rm -f "$D/fusion.textproto"; fi
  echo "copied query_tower v$lt, listing_tower v$lt, ranker v$want (trained for listing tower v$lt), fusion: $(grep -E '^(method|ann_weight)' "$D/fusion.textproto" 2>/dev/null | tr '\n' ' ')"
}
# The default --factory=auto: the family and nprobe/efSearch chosen on these embeddings.
build_index() { "$TOOLS/jobs/build_index" --data_dir="$D"; }
build_lexical() { "$TOOLS/jobs/build_lexical" --data_dir="$D"; }

T_BUILD=$(now)
step catalog "$D/.catalog_done" gen_catalog
step ingest "$D/.ingest_done" ingest
[ "${MODELS_CHANGED:-0}" = 1 ] && REBUILT=1
step copy "$D/.models_done" copy_models
step index "$D/.index_done" build_index
step lexical "$D/.lexical_done" build_lexical
echo "deployment ready in $D ($(secs "$T_BUILD" "$(now)") s this run); build times (s):"
sed 's/^/  /' "$TIMES"
grep -h -E 'recall|Recall' "$RUN/build_index.log" 2>/dev/null | tail -3 | sed 's/^/  index: /' || true
# The served index's own measurements (its MANIFEST): gate recall on queries disjoint from the
# tuning ones, choose + build + tune + gate time, encode time.
IDX_MANIFEST="$D/index/$(cat "$D/index/CURRENT")/MANIFEST"
mf() { sed -n "s/^$1: \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$IDX_MANIFEST"; }
INDEX_BENCH=$(mktemp)
{
  echo "index: $(mf factory), nprobe $(mf ivf_nprobe), efSearch $(mf hnsw_ef_search) (manifest $IDX_MANIFEST)"
  [ -n "$(mf recall_at_100)" ] && echo "BENCH index_recall100_real_${LOAD_NAME} $(mf recall_at_100)"
  [ -n "$(mf index_seconds)" ] && printf 'BENCH index_build_%s_s %.1f\n' "$LOAD_NAME" "$(mf index_seconds)"
  [ -n "$(mf encode_seconds)" ] && printf 'BENCH index_encode_%s_s %.1f\n' "$LOAD_NAME" "$(mf encode_seconds)"
} | tee "$INDEX_BENCH"
[ "${LOAD_BUILD_ONLY:-0}" = 1 ] && exit 0

# --- 3. filtered retrieval recall of the served index (before the server starts: CPU-heavy) ----
if [ "${LOAD_INDEX_BUCKETS:-1}" = 1 ] && [ -x bazel-bin/bench/index_bench ]; then
  echo "== filtered Recall@100 of the served index per selectivity bucket (bench/index_bench --served_index_dir)"
  bazel-bin/bench/index_bench --data_dir="$D" --cache_dir=var/bench/index/cache \
    --served_index_dir="$D/index/$(cat "$D/index/CURRENT")" --filter_queries=200 \
    2> "$RUN/index_buckets.log" > "$RUN/index_buckets.txt" || { tail -5 "$RUN/index_buckets.log"; exit 1; }
  cat "$RUN/index_buckets.txt"
  grep '^BENCH' "$RUN/index_buckets.txt" >> "$INDEX_BENCH"
fi

# --- 4. load ---------------------------------------------------------------------------------
[ -x "$LOAD_GEN" ] || { echo "$LOAD_GEN not built (bazel build //bench:load_gen)" >&2; exit 1; }
[ -x "$SERVER_BIN/serving/server" ] || { echo "no server at $SERVER_BIN/serving/server" >&2; exit 1; }
source tools/server_lib.sh
trap stop_server EXIT
LOG="$RUN/load_server.log"
REPORT="$RUN/load_report.txt"
: > "$REPORT"
{
  echo "server: $SERVER_BIN/serving/server ($(md5sum < "$SERVER_BIN/serving/server" | cut -c1-12)$( [ -f "$SERVER_BIN/COMMIT" ] && echo ", commit $(cut -c1-12 "$SERVER_BIN/COMMIT")"))"
  echo "data: $D ($LISTINGS listings); in flight: $INFLIGHT; $DURATION s each after $WARMUP s warmup"
  echo "loadavg at start: $(cat /proc/loadavg)"
} | tee -a "$REPORT"
cat "$INDEX_BENCH" >> "$REPORT"; rm -f "$INDEX_BENCH"
T_START=$(now)
start_server "$SERVER_BIN" "$D" "$RUN/load_port" "$LOG" ${SERVER_ARGS:-}
echo "server up in $(secs "$T_START" "$(now)") s (pid $SERVER_PID):" | tee -a "$REPORT"
grep 'serving index' "$LOG" | sed 's/^/  /' | tee -a "$REPORT"
if grep -q 'no ranker' "$LOG"; then
  echo "WARNING: the server serves no ranker (see $LOG): the numbers are for the fused order only" | tee -a "$REPORT"
fi
TARGET="127.0.0.1:$(cat "$RUN/load_port")"

# Quality through the API (every test query, page of 100): what the latency is not bought with.
echo "== NDCG@10 / Recall@100 through the API (jobs/evaluate_search, test split)"
"$TOOLS/jobs/evaluate_search" --target="$TARGET" --data_dir="$D" --bench_lines > "$RUN/quality.txt" 2>&1 \
  || { tail -5 "$RUN/quality.txt"; exit 1; }
grep -v '^BENCH' "$RUN/quality.txt" | tail -6
{
  awk -v n="$LOAD_NAME" '$1 == "BENCH" && $2 == "e2e_ndcg10" { print "BENCH ndcg10_api_" n, $3 }
                         $1 == "BENCH" && $2 == "e2e_recall100" { print "BENCH recall100_api_" n, $3 }' "$RUN/quality.txt"
} | tee -a "$REPORT"
# Single client, filtered requests only (the open loop's filter mix: category, price, condition,
# geo), page of 10.
echo "== single client, filtered requests"
"$LOAD_GEN" --target="$TARGET" --in_flight=1 --filtered_share=1 --duration_s="$DURATION" \
  --warmup_s="$WARMUP" --queries_file="$D/catalog/queries.tsv" --server_pid="$SERVER_PID" \
  --name="${LOAD_NAME}_filtered" > "$RUN/load_filtered.txt" 2>&1 || true
cat "$RUN/load_filtered.txt" | tee -a "$REPORT" | grep -v '^BENCH'

server_alive() {
  [ -e "/proc/$SERVER_PID" ] && [ "$(awk '{ print $3 }' "/proc/$SERVER_PID/stat" 2>/dev/null)" != Z ]
}
CRASHED=""
for n in $INFLIGHT; do
  if ! server_alive; then CRASHED=before; break; fi
  echo
  echo "== in flight $n"
  rc=0
  "$LOAD_GEN" --target="$TARGET" --in_flight="$n" --duration_s="$DURATION" --warmup_s="$WARMUP" \
    --queries_file="$D/catalog/queries.tsv" --server_pid="$SERVER_PID" --name="$LOAD_NAME" \
    > "$RUN/load_$n.txt" 2>&1 || rc=$?
  cat "$RUN/load_$n.txt"
  cat "$RUN/load_$n.txt" >> "$REPORT"
  [ "$rc" = 0 ] || echo "load_gen exit $rc at in flight $n" | tee -a "$REPORT"
  if ! server_alive; then CRASHED=$n; break; fi
done
# Open loop: Poisson arrivals at increasing rates with the filtered share of the query mix;
# the highest rate whose p99 stays within 25 ms with >= 99% OK is the capacity figure.
MAX_QPS=0
if [ -z "$CRASHED" ] && [ -n "$RATES" ]; then
  for r in $RATES; do
    if ! server_alive; then CRASHED="rate $r"; break; fi
    echo
    echo "== open loop at $r qps, $FILTERED_SHARE filtered"
    rc=0
    "$LOAD_GEN" --target="$TARGET" --rate_qps="$r" --filtered_share="$FILTERED_SHARE" \
      --duration_s="$DURATION" --warmup_s="$WARMUP" --queries_file="$D/catalog/queries.tsv" \
      --server_pid="$SERVER_PID" --name="$LOAD_NAME" > "$RUN/load_rate_$r.txt" 2>&1 || rc=$?
    cat "$RUN/load_rate_$r.txt"
    cat "$RUN/load_rate_$r.txt" >> "$REPORT"
    p99=$(awk -v k="BENCH ${LOAD_NAME}_rate${r}_p99_ms" 'index($0, k " ") == 1 { print $NF }' "$RUN/load_rate_$r.txt")
    ok=$(awk -v k="BENCH ${LOAD_NAME}_rate${r}_ok" 'index($0, k " ") == 1 { print $NF }' "$RUN/load_rate_$r.txt")
    req=$(awk -v k="BENCH ${LOAD_NAME}_rate${r}_requests" 'index($0, k " ") == 1 { print $NF }' "$RUN/load_rate_$r.txt")
    if [ "$rc" = 0 ] && awk -v p="${p99:-1e9}" -v ok="${ok:-0}" -v n="${req:-1}" \
         'BEGIN { exit !(p <= 25 && ok >= 0.99 * n) }'; then
      MAX_QPS=$r
    else
      echo "  rate $r qps: p99 ${p99:-?} ms, ${ok:-0}/${req:-0} OK: past the 25 ms p99 budget; higher rates skipped"
      break
    fi
  done
  echo "BENCH ${LOAD_NAME}_max_qps_p99_25ms $MAX_QPS" | tee -a "$REPORT"
fi
if [ -n "$CRASHED" ]; then
  st=0
  wait "$SERVER_PID" 2>/dev/null || st=$?
  how="exit status $st"
  (( st > 128 )) && how="$how (signal $((st - 128)), SIG$(kill -l $((st - 128)) 2>/dev/null || echo '?'))"
  {
    echo
    echo "SERVER DIED during in flight $CRASHED: $how; remaining levels skipped. Last lines of $LOG:"
    tail -15 "$LOG" | sed 's/^/  | /'
    echo "BENCH ${LOAD_NAME}_server_died_at_inflight $CRASHED"
  } | tee -a "$REPORT"
else
  stop_server
fi
trap - EXIT

echo
echo "== summary ($LISTINGS listings, server $SERVER_BIN/serving/server)"
grep -m1 '^  in_flight' "$REPORT" || true
grep -A1 '^  in_flight' "$REPORT" | grep -E '^  [0-9]' || true
echo "loadavg at end: $(cat /proc/loadavg)" | tee -a "$REPORT"
# The headline names: single client (in flight 1, page of 10, unfiltered), filtered single
# client, server CPU per request at one in flight.
bench_of() { awk -v k="BENCH $1" 'index($0, k " ") == 1 { v = $NF } END { if (v != "") print v }' "$REPORT"; }
{
  v=$(bench_of "${LOAD_NAME}_inflight1_p50_ms"); [ -n "$v" ] && echo "BENCH search_p50_ms $v"
  v=$(bench_of "${LOAD_NAME}_inflight1_p99_ms"); [ -n "$v" ] && echo "BENCH search_p99_ms $v"
  v=$(bench_of "${LOAD_NAME}_filtered_inflight1_p99_ms"); [ -n "$v" ] && echo "BENCH search_filtered_p99_ms $v"
  v=$(bench_of "${LOAD_NAME}_inflight1_server_cpu_ms_per_request"); [ -n "$v" ] && echo "BENCH server_cpu_ms_per_request $v"
  v=$(bench_of "${LOAD_NAME}_max_qps_p99_25ms"); [ -n "$v" ] && echo "BENCH max_qps_p99_25ms $v"
} | tee -a "$REPORT" > /dev/null
echo
echo "== all BENCH lines"
grep '^BENCH' "$REPORT"
[ -z "$CRASHED" ] || exit 3
