#!/usr/bin/env bash
# Smoke run of the public-format path: a small synthetic catalog written as ESCI CSV and as
# WANDS TSV files, loaded with load_public_dataset, then ingest → train → index → lexical,
# and retrieval_bench on each (BENCH names prefixed esci_ / wands_).
# No real ESCI/WANDS files are on this machine; with them, point load_public_dataset at them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bazel-bin
D=var/bench/public
rm -rf "$D"; mkdir -p "$D/src"
"$BIN/jobs/make_marketplace" --seed=7 --listings=4000 --users=400 --queries=1200 --out_dir="$D/src" > /dev/null 2>&1
third_party/python bench/write_public_fixture.py "$D/src" "$D/files"
for fmt in esci wands; do
  echo "== $fmt"
  if [ "$fmt" = esci ]; then
    "$BIN/jobs/load_public_dataset" --format=esci --examples="$D/files/esci/examples.csv" \
      --products="$D/files/esci/products.csv" --out_dir="$D/$fmt/catalog" | tail -4
  else
    "$BIN/jobs/load_public_dataset" --format=wands --wands_dir="$D/files/wands" \
      --out_dir="$D/$fmt/catalog" | tail -4
  fi
  SKIP_GENERATE=1 SRC_ROOT=. bash tools/pipeline.sh "$BIN" "$D/$fmt" 0 0 6 > "$D/$fmt.pipeline.log" 2>&1 \
    || { tail -20 "$D/$fmt.pipeline.log"; exit 1; }
  "$BIN/bench/retrieval_bench" --data_dir="$D/$fmt" --label="$fmt format (smoke)" \
    --bench_prefix="${fmt}_" --speed=false
done
