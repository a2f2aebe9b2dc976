#!/usr/bin/env bash
# The experiment layer's benchmarks on a data directory with a trained ranker (after
# bench/ranking_bench.sh):
#   1. its cost per request (bench/experiment_overhead);
#   2. the calibration of the statistics (bench/experiment_calibration: A/A, peeking, SRM, CUPED);
#   3. the searches an A/B test and Team-Draft interleaving need to detect the ranker's win over
#      the fused order: the pages of both come from the real server (experiment_report replays
#      the judged test queries through each arm with QA overrides), clicks from the cascade model.
# usage: bench/experiment_bench.sh DATA_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
D="${1:?usage: bench/experiment_bench.sh DATA_DIR}"
BIN=bazel-bin
RUN="$D/run"
mkdir -p "$RUN"

echo "== cost per request (load average $(cut -d' ' -f1-3 /proc/loadavg))"
"$BIN/bench/experiment_overhead"

echo "== calibration"
"$BIN/bench/experiment_calibration" --runs=1000

echo "== detecting the ranker's win: A/B vs interleaving"
CONFIG="$RUN/bench_experiments.textproto"
cat > "$CONFIG" <<EOC
layers { name: "ranking" experiments { key: "ranker-vs-fused" range_begin: 0 range_end: 1
  arms { name: "fused" weight: 0.5 overrides { use_ranker: false } }
  arms { name: "ranker" weight: 0.5 overrides { use_ranker: true } } } }
EOC
source tools/server_lib.sh
trap stop_server EXIT
start_server "$BIN" "$D" "$RUN/bench_experiment.port" "$RUN/bench_experiment.log" \
  --experiment_qa_overrides --experiments_config="$CONFIG"
"$BIN/jobs/experiment_report" --data_dir="$D" --experiments_config="$CONFIG" \
  --replay_target="127.0.0.1:$(cat "$RUN/bench_experiment.port")" \
  --replay_pages_out="$RUN/replayed_pages.tsv" --bench_lines | grep -E "replay|NDCG|BENCH replay"
stop_server
trap - EXIT
"$BIN/bench/experiment_calibration" --calibrate=false --pages="$RUN/replayed_pages.tsv" \
  --judgments="$D/catalog/judgments.tsv"
