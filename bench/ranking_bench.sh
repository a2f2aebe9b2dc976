#!/usr/bin/env bash
# Ranking benchmark (issue 6) on a data directory that tools/pipeline.sh filled (catalog,
# store, two-tower models, FAISS index, Xapian index):
#   out-of-fold retrievers (skipped when up to date) → export_ranking_data → train_ranker.py
#   → ranker_parity_check → ranking_bench (NDCG@10 side by side, latency, FLOPs, BENCH lines)
# usage: bench/ranking_bench.sh DATA_DIR
#   env: OOF_EPOCHS (two-tower epochs per fold, default 15 as in make demo), RANKER_ARGS (extra trainer flags)
set -euo pipefail
cd "$(dirname "$0")/.."
D="${1:?usage: bench/ranking_bench.sh DATA_DIR}"
BIN=bazel-bin
source tools/blas_env.sh  # OpenBLAS kernels named from the CPU flags (VMs hide the model)
PY=third_party/python

[ -f "$D/lexical/CURRENT" ] || "$BIN/jobs/build_lexical" --data_dir="$D"
echo "== out-of-fold retrievers for the ranker's training data"
"$PY" ranking/train/make_oof_folds.py --data_dir="$D" --bin_dir="$BIN" --folds=2 \
  --epochs="${OOF_EPOCHS:-15}" --if_stale
echo "== export_ranking_data"
"$BIN/jobs/export_ranking_data" --data_dir="$D"
echo "== train_ranker"
# shellcheck disable=SC2086
"$PY" ranking/train/train_ranker.py --data_dir="$D" ${RANKER_ARGS:-}
echo "== ranker_parity_check"
"$BIN/jobs/ranker_parity_check" --data_dir="$D"
echo "== ranking_bench"
"$BIN/bench/ranking_bench" --data_dir="$D"
