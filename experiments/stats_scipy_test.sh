#!/usr/bin/env bash
set -euo pipefail
R="$TEST_SRCDIR/marketsearch/experiments"
"$R/../third_party/python" "$R/stats_scipy_check.py" "$R/stats_cli"
