#!/usr/bin/env bash
# Runs pytest (the project's Python, third_party/python) on the given file in the runfiles
# tree, writing JUnit XML where Bazel expects it so every pytest case is counted.
set -euo pipefail
cd "$TEST_SRCDIR/marketsearch"
exec third_party/python -m pytest -q -p no:cacheprovider "$@" ${XML_OUTPUT_FILE:+--junitxml="$XML_OUTPUT_FILE"}
