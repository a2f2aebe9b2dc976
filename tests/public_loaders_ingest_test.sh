#!/usr/bin/env bash
# A tiny WANDS dataset through load_public_dataset and then `ingest --strict`: the loader's
# listings.tsv must be accepted with 0 bad rows (placeholder price/condition, 14 fields,
# clean UTF-8, no tabs or line breaks inside fields).
set -euo pipefail
LOADER="$TEST_SRCDIR/marketsearch/jobs/load_public_dataset"
INGEST="$TEST_SRCDIR/marketsearch/jobs/ingest"
W="$TEST_TMPDIR/wands"
D="$TEST_TMPDIR/data"
rm -rf "$W" "$D"
mkdir -p "$W"

{
  printf 'product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\tproduct_features\trating_count\taverage_rating\treview_count\n'
  printf '0\tsolid wood platform bed\tBeds\tFurniture / Beds\t"a sturdy bed, with ""slats""\nand a headboard"\tcolor:brown\t15\t4.5\t15\n'
  printf '1\tleather accent chair\tAccent Chairs|Desk Chairs\tFurniture / Chairs\tcomfy\t\t3\t7.2\t3\n'
  printf '2\tfloor lamp \xff\t\tLighting\t\t\t0\t\t0\n'
  printf '3\t\tOrphans\t\t\t\t\t\t\n'
} > "$W/product.csv"
{
  printf 'query_id\tquery\tquery_class\n'
  for i in $(seq 0 19); do printf '%s\twooden bed %s\tBeds\n' "$i" "$i"; done
} > "$W/query.csv"
{
  printf 'id\tquery_id\tproduct_id\tlabel\n'
  n=0
  for i in $(seq 0 19); do
    printf '%s\t%s\t0\tExact\n' $((n++)) "$i"
    printf '%s\t%s\t1\tPartial\n' $((n++)) "$i"
    printf '%s\t%s\t2\tIrrelevant\n' $((n++)) "$i"
  done
  printf '%s\t0\t99\tExact\n' $((n++))
} > "$W/label.csv"

"$LOADER" --help > "$TEST_TMPDIR/help.out" 2>&1 || true
grep -q -- "--format" "$TEST_TMPDIR/help.out" || { echo "FAIL: --help lists no flags"; cat "$TEST_TMPDIR/help.out"; exit 1; }

"$LOADER" --format=wands --wands_dir="$W" --out_dir="$D/catalog" > "$TEST_TMPDIR/load.out" 2>&1 \
  || { echo "FAIL: loader"; cat "$TEST_TMPDIR/load.out"; exit 1; }
cat "$TEST_TMPDIR/load.out"
grep -qE "listings +3 " "$TEST_TMPDIR/load.out" || { echo "FAIL: expected 3 listings"; exit 1; }
grep -qE "judgments +60 " "$TEST_TMPDIR/load.out" || { echo "FAIL: expected 60 judgments"; exit 1; }
grep -qE "label: unknown product +1" "$TEST_TMPDIR/load.out" || { echo "FAIL: unknown product not counted"; exit 1; }
for f in listings.tsv queries.tsv judgments.tsv listing_ids.tsv; do
  [ -s "$D/catalog/$f" ] || { echo "FAIL: $f missing"; exit 1; }
done
awk -F'\t' 'NF != 14 { print "FAIL: listings.tsv line " NR " has " NF " fields"; bad = 1 } END { exit bad }' \
  "$D/catalog/listings.tsv"

# A bad --format is a usage error.
if "$LOADER" --format=nope > /dev/null 2>&1; then echo "FAIL: bad --format accepted"; exit 1; fi

"$INGEST" --data_dir="$D" --strict > "$TEST_TMPDIR/ingest.out" 2>&1 \
  || { echo "FAIL: ingest --strict rejected the loader output"; cat "$TEST_TMPDIR/ingest.out"; exit 1; }
cat "$TEST_TMPDIR/ingest.out"
grep -qE "bad rows +0" "$TEST_TMPDIR/ingest.out" || { echo "FAIL: bad rows"; exit 1; }
grep -qE "listings written +3" "$TEST_TMPDIR/ingest.out" || { echo "FAIL: expected 3 listings written"; exit 1; }
echo "public_loaders_ingest_test: ok"
