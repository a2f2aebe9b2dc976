#!/usr/bin/env bash
# "No good match" on queries for products the marketplace does not carry: the default
# marketplace (20,000 listings, 3,000 queries, seed 42) with ten product types held out
# (make_marketplace --hold_out_types: their listings are not written; their test queries stay
# as off-catalog queries, 45 of 450). Each held-out type shares words, brands or both with a
# carried one (coffee table / dining table, ebike / bike, acoustic / electric guitar, office /
# dining chair, smartwatch / watch, earbuds / headphones and earbud cases, armchair / sofa,
# laptop bag / laptop, camera lens / camera, running socks / running shoes), so "no lexical
# hit" alone cannot pass. The whole offline pipeline and the ranker (with its calibration and
# no-match threshold, chosen on valid queries that all have an Exact listing) are trained on
# that catalog, then quality_bench measures the flag on its test split.
# usage: bench/no_match_bench.sh [DATA_DIR]   (default var/bench/heldout)
set -euo pipefail
cd "$(dirname "$0")/.."
D="${1:-var/bench/heldout}"
BIN=bazel-bin
PY=third_party/python
HELD_OUT=coffee_table,ebike,acoustic_guitar,office_chair,smartwatch,earbuds,armchair,laptop_bag,camera_lens,running_socks
rm -rf "$D"
mkdir -p "$D"
"$BIN/jobs/make_marketplace" --seed=42 --listings=20000 --users=2000 --queries=3000 \
  --hold_out_types="$HELD_OUT" --out_dir="$D/catalog" 2>/dev/null | tail -1
SKIP_GENERATE=1 SRC_ROOT=. bash tools/pipeline.sh "$BIN" "$D" 0 0 15 > "$D/pipeline.log" 2>&1 ||
  { tail -20 "$D/pipeline.log"; exit 1; }
"$PY" ranking/train/make_oof_folds.py --data_dir="$D" --bin_dir="$BIN" --folds=2 --epochs=15 \
  > "$D/oof.log" 2>&1 || { tail -20 "$D/oof.log"; exit 1; }
"$BIN/jobs/export_ranking_data" --data_dir="$D" > "$D/export.log" 2>&1 || { tail -20 "$D/export.log"; exit 1; }
"$PY" ranking/train/train_ranker.py --data_dir="$D" > "$D/train_ranker.log" 2>&1 ||
  { tail -20 "$D/train_ranker.log"; exit 1; }
grep -E '^  (calibration|no-match threshold)' "$D/train_ranker.log"
"$BIN/bench/quality_bench" --data_dir="$D" --typo_kinds= --bench_prefix=heldout_ | sed -n '/^Relevance calibration/,$p'
