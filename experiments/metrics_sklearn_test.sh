#!/usr/bin/env bash
set -euo pipefail
R="$TEST_SRCDIR/marketsearch/experiments"
/usr/bin/python3 "$R/metrics_sklearn_check.py" "$R/ndcg_cli"
