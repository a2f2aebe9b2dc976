#!/usr/bin/env bash
# Runs pytest (Debian's python3, which has torch) on the given file in the runfiles tree,
# writing JUnit XML where Bazel expects it so every pytest case is counted.
set -euo pipefail
cd "$TEST_SRCDIR/marketsearch"
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" ${XML_OUTPUT_FILE:+--junitxml="$XML_OUTPUT_FILE"}
