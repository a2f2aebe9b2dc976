#!/usr/bin/env bash
# ingest on a file with bad rows: lenient mode writes the good rows and reports the bad ones
# by line; --strict writes nothing.
set -euo pipefail
INGEST="$TEST_SRCDIR/marketsearch/jobs/ingest"
D="$TEST_TMPDIR/data"
mkdir -p "$D/catalog"
printf 'listing_id\ttitle\tcategory\tprice\tcondition\n1\tgrey sofa\tsofas\t100\tused\n2\tbroken\tsofas\t-1\tused\n1\tdup\tsofas\t5\tnew\n3\tred bike\tbikes\t80\tlike_new\n' \
  > "$D/catalog/listings.tsv"

if "$INGEST" --data_dir="$D" --strict > "$TEST_TMPDIR/strict.out" 2>&1; then
  echo "FAIL: --strict accepted bad rows"; exit 1
fi
grep -q "nothing written" "$TEST_TMPDIR/strict.out" || { echo "FAIL: strict message"; cat "$TEST_TMPDIR/strict.out"; exit 1; }
[ ! -e "$D/store" ] || { echo "FAIL: --strict created a store"; exit 1; }

"$INGEST" --data_dir="$D" > "$TEST_TMPDIR/out" 2>&1 || { cat "$TEST_TMPDIR/out"; exit 1; }
grep -q "listings.tsv:3: price" "$TEST_TMPDIR/out" || { echo "FAIL: bad price not reported by line"; cat "$TEST_TMPDIR/out"; exit 1; }
grep -q "listings.tsv:4: duplicate listing_id 1" "$TEST_TMPDIR/out" || { echo "FAIL: duplicate not reported"; exit 1; }
grep -qE "listings written +2" "$TEST_TMPDIR/out" || { echo "FAIL: expected 2 written"; cat "$TEST_TMPDIR/out"; exit 1; }
grep -qE "bad rows +2" "$TEST_TMPDIR/out" || { echo "FAIL: expected 2 bad"; exit 1; }
echo "ingest_test: ok"
