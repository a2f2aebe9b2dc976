#!/usr/bin/env bash
# generator → ingest → export_training, then a NumPy check of every tensor written.
set -euo pipefail
R="$TEST_SRCDIR/marketsearch"
D="$TEST_TMPDIR/data"
"$R/jobs/make_marketplace" --listings=3000 --users=300 --queries=400 --out_dir="$D/catalog" > /dev/null 2>&1
"$R/jobs/ingest" --data_dir="$D" > /dev/null 2>&1
"$R/jobs/export_training" --data_dir="$D" 2>/dev/null
"$R/third_party/python" "$R/tests/check_training_tensors.py" "$D/training"
