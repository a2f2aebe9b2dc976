#!/usr/bin/env bash
# make bench: every benchmark at the scale the issues name (SCALE=small for a quick run).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${SCALE:-default}"
if [ "$SCALE" = small ]; then LISTINGS=100000; else LISTINGS=1000000; fi
mkdir -p var/bench
bash bench/data_bench.sh "$LISTINGS" 2>&1 | tee var/bench/data.txt
echo
echo "== all BENCH lines"
grep -h '^BENCH' var/bench/*.txt
