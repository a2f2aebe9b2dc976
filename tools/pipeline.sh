#!/usr/bin/env bash
# The offline half of marketsearch, end to end on one data directory:
#   make_marketplace → ingest → export_training → train_two_tower.py → build_index → build_lexical
#   → tune_fusion
# Used by `make demo` and by the end-to-end tests.
#
# usage: tools/pipeline.sh ROOT DATA_DIR [LISTINGS] [QUERIES] [EPOCHS]
#   ROOT      directory holding the built tools and the Python sources in the repo layout
#             (bazel-bin plus the source tree, or a Bazel runfiles tree)
set -euo pipefail
ROOT="$1"; DATA="$2"; LISTINGS="${3:-20000}"; QUERIES="${4:-3000}"; EPOCHS="${5:-15}"
SRC="${SRC_ROOT:-$ROOT}"
PY="$SRC/third_party/python"  # the project's virtual environment (requirements.txt)
USERS=$(( LISTINGS / 10 > 100 ? LISTINGS / 10 : 100 ))

step() { printf '\n== %s\n' "$*"; }

if [ -n "${SKIP_GENERATE:-}" ]; then
  step "1/7 catalog already in $DATA/catalog (SKIP_GENERATE)"
else
  step "1/7 synthetic marketplace: $LISTINGS listings, $QUERIES queries"
  "$ROOT/jobs/make_marketplace" --seed=42 --listings="$LISTINGS" --users="$USERS" \
    --queries="$QUERIES" --out_dir="$DATA/catalog"
fi
step "2/7 ingest into the RocksDB feature store"
"$ROOT/jobs/ingest" --data_dir="$DATA"
step "3/7 featurise training tensors (C++ featurizer)"
"$ROOT/jobs/export_training" --data_dir="$DATA"
step "4/7 train the two-tower retriever (PyTorch) and export TorchScript"
"$PY" "$SRC/retrieval/train/train_two_tower.py" --data_dir="$DATA" --epochs="$EPOCHS"
step "5/7 build, check and publish the FAISS index"
"$ROOT/jobs/build_index" --data_dir="$DATA"
step "6/7 build and publish the Xapian (BM25) index"
"$ROOT/jobs/build_lexical" --data_dir="$DATA"
step "7/7 choose how the two legs are fused, on the valid split"
"$ROOT/jobs/tune_fusion" --data_dir="$DATA"
