#!/usr/bin/env bash
set -euo pipefail
R="$TEST_SRCDIR/marketsearch/experiments"
"$R/../third_party/python" "$R/metrics_sklearn_check.py" "$R/ndcg_cli"
