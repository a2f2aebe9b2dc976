#!/usr/bin/env bash
# make bench: every benchmark at the scale the issues name; SCALE=small for a quick run.
# Each part writes var/bench/<part>.txt; the run ends with every BENCH line.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${SCALE:-default}"
if [ "$SCALE" = small ]; then BIG=100000; else BIG=1000000; fi
mkdir -p var/bench
BIN=bazel-bin

echo "== data layer: $BIG listings"
bash bench/data_bench.sh "$BIG" 2>&1 | tee var/bench/data.txt

echo "== retrieval: the default 20,000-listing marketplace"
R=var/bench/retrieval
rm -rf "$R"
SRC_ROOT=. bash tools/pipeline.sh "$BIN" "$R" 20000 3000 15 > var/bench/retrieval_pipeline.log 2>&1
"$BIN/bench/retrieval_bench" --data_dir="$R" 2>&1 | tee var/bench/retrieval.txt

echo "== public formats (ESCI, WANDS) smoke run"
bash bench/public_smoke.sh 2>&1 | tee var/bench/public.txt

if [ -f bench/ranking_bench.sh ]; then
  echo "== ranking"
  bash bench/ranking_bench.sh "$R" 2>&1 | tee var/bench/ranking.txt
  echo "== search quality: per query kind, both Recall@100 definitions, typo'd queries per kind"
  "$BIN/bench/quality_bench" --data_dir="$R" 2>&1 | tee var/bench/quality.txt
  echo "== no good match: queries for product types the catalog does not carry"
  bash bench/no_match_bench.sh var/bench/heldout 2>&1 | tee var/bench/no_match.txt
  echo "== model runtimes: AOTInductor vs the TorchScript fallback, same artifacts, one thread"
  "$BIN/bench/model_runtime_bench" --data_dir="$R" 2>&1 | tee var/bench/model_runtime.txt
fi
if [ -f bench/server_cpu_bench.sh ]; then
  # Before fresh_bench, which mutates the store of $R.
  echo "== server CPU per request, one client; idle CPU after the load (real server)"
  bash bench/server_cpu_bench.sh "$R" 2>&1 | tee var/bench/server_cpu.txt
fi
echo "== experiments: cost per request, calibration, A/B vs interleaving on the ranker"
bash bench/experiment_bench.sh "$R" 2>&1 | tee var/bench/experiments.txt
if [ -f bench/fresh_bench.sh ]; then
  # Last user of $R: the bench upserts and deletes listings in its store.
  echo "== fresh listings: upsert -> searchable, delete -> gone (real server)"
  bash bench/fresh_bench.sh "$R" 2>&1 | tee var/bench/fresh.txt
fi
if [ -f bench/index_bench.sh ]; then
  echo "== ANN index: $BIG listings"
  SCALE="$SCALE" bash bench/index_bench.sh 2>&1 | tee var/bench/index.txt
fi

echo
echo "== all BENCH lines"
grep -h '^BENCH' var/bench/*.txt
