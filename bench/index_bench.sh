#!/usr/bin/env bash
# ANN index benchmark (issue 5): 1,000,000 listings (SCALE=small: 100,000), L2-normalised
# 64-d vectors, factories HNSW32,Flat / IVF4096,Flat / IVF4096,PQ32 (+ exact re-rank), 2-3
# search settings each, Recall@100 vs exact, single-query p50/p99 (1 OpenMP thread),
# bytes per listing, filtered search (selectivity sweep, ~10% and ~0.5% filters).
#
# Vectors: clustered synthetic ones by default. Real listing-tower embeddings when
# INDEX_BENCH_DATA names a data directory with a feature store (and catalog/queries.tsv)
# and trained towers (in $INDEX_BENCH_DATA/models or INDEX_BENCH_MODELS); they are encoded
# once and cached under var/bench/index/.
#   usage: bench/index_bench.sh                      (1M, synthetic)
#          SCALE=small bench/index_bench.sh          (100k)
#          INDEX_BENCH_DATA=var/bench/data INDEX_BENCH_MODELS=var/demo/models bench/index_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${SCALE:-default}"
if [ "$SCALE" = small ]; then N=100000; NLIST=1024; else N=1000000; NLIST=4096; fi
OUT=var/bench/index
mkdir -p "$OUT"
ARGS=(--listings="$N" --factories="HNSW32,Flat;IVF${NLIST},Flat;IVF${NLIST},PQ32" --threads=2)
if [ -n "${INDEX_BENCH_DATA:-}" ]; then
  ARGS+=(--data_dir="$INDEX_BENCH_DATA" --cache_dir="$OUT/cache")
  [ -n "${INDEX_BENCH_MODELS:-}" ] && ARGS+=(--models_dir="$INDEX_BENCH_MODELS")
fi
echo "== index bench: $N listings ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
bazel-bin/bench/index_bench "${ARGS[@]}" 2> "$OUT/stderr.log"
