#!/usr/bin/env bash
# Data layer benchmark (issue: marketplace data, featurizer, feature store):
# generation time, ingest throughput, MultiGet of 200 listings, store size, vocabulary gap.
# usage: bench/data_bench.sh [LISTINGS]   (default 1,000,000; SCALE=small uses 100,000)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
D="${BENCH_DATA_DIR:-var/bench/data}"
rm -rf "$D"; mkdir -p "$D"
BIN=bazel-bin
QUERIES=$(( N / 50 < 3000 ? 3000 : N / 50 ))

echo "== generate $N listings"
T0=$(date +%s.%N)
"$BIN/jobs/make_marketplace" --seed=42 --listings="$N" --users=$(( N / 10 )) --queries="$QUERIES" \
  --out_dir="$D/catalog" 2>/dev/null | tee "$D/gen.out"
T1=$(date +%s.%N)
GEN_S=$(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.2f", b-a}')

echo "== ingest"
T0=$(date +%s.%N)
"$BIN/jobs/ingest" --data_dir="$D" 2>/dev/null | tee "$D/ingest.out"
T1=$(date +%s.%N)
INGEST_S=$(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.3f", b-a}')
WRITTEN=$(awk '/listings written/{print $3}' "$D/ingest.out")
STORE_BYTES=$(du -sb "$D/store" | cut -f1)

echo "== feature fetch"
"$BIN/bench/multiget_bench" --store="$D/store" --batch=200 | tee "$D/multiget.out"

GAP=$(awk '/vocabulary gap: test/{print $4}' "$D/gen.out" | tr -d ',')
RATE=$(awk -v w="$WRITTEN" -v s="$INGEST_S" 'BEGIN{printf "%.0f", w/s}')
PER=$(awk -v b="$STORE_BYTES" -v w="$WRITTEN" 'BEGIN{printf "%.1f", b/w}')
printf '\n%-34s %12s\n' "figure" "value"
printf '%-34s %12.1f\n' "generate $N listings (s)" "$GEN_S"
printf '%-34s %12s\n' "ingest records/s (end to end)" "$RATE"
printf '%-34s %12s\n' "store bytes per listing" "$PER"
printf '%-34s %12s\n' "vocabulary-gap share (test)" "$GAP"
SUFFIX=$([ "$N" = 1000000 ] && echo "1m" || echo "$N")
echo "BENCH gen_${SUFFIX}_listings_s $GEN_S"
echo "BENCH ingest_records_per_s $RATE"
echo "BENCH store_bytes_per_listing $PER"
echo "BENCH vocab_gap_share $GAP"
