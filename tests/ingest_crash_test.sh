#!/usr/bin/env bash
# Durability: kill -9 a real ingest process mid-run, reopen the store, and check that every
# listing ingest acknowledged (--ack_log) is there, and the store is readable.
set -euo pipefail
R="$TEST_SRCDIR/marketsearch/jobs"
D="$TEST_TMPDIR/data"
mkdir -p "$D/catalog"
N=400000
awk -v n=$N 'BEGIN { print "listing_id\ttitle\tcategory\tprice\tcondition";
  for (i = 1; i <= n; i++) printf "%d\tlisting number %d with a reasonably long title\tcat%d\t%d.50\tused\n", i, i, i % 20, 10 + i % 500 }' \
  > "$D/catalog/listings.tsv"

"$R/ingest" --data_dir="$D" --batch_size=500 --ack_log="$D/acks" > "$D/ingest.out" 2>&1 &
PID=$!
# Wait until a good share is acknowledged but the run is not finished, then kill -9.
for _ in $(seq 1 600); do
  if [ -s "$D/acks" ] && [ "$(tail -1 "$D/acks")" -ge 20000 ]; then break; fi
  sleep 0.05
done
kill -9 $PID
wait $PID 2>/dev/null || true
ACKED=$(tail -1 "$D/acks")
echo "acknowledged before kill: $ACKED of $N"
[ "$ACKED" -lt "$N" ] || { echo "FAIL: ingest finished before the kill; test proves nothing"; exit 1; }

OUT=$("$R/store_inspect" --store="$D/store" --get=1,$ACKED)
COUNT=$(echo "$OUT" | awk '/^listings /{print $2}')
echo "listings in the reopened store: $COUNT"
[ "$COUNT" -ge "$ACKED" ] || { echo "FAIL: $COUNT listings survived, $ACKED were acknowledged"; exit 1; }
if echo "$OUT" | grep -q "not found"; then echo "FAIL: an acknowledged listing is missing"; echo "$OUT"; exit 1; fi
# Ids are written in order: everything up to the acknowledged count must be present.
MAXID=$(echo "$OUT" | awk '/^max_listing_id /{print $2}')
[ "$MAXID" -ge "$ACKED" ] || { echo "FAIL: max id $MAXID < $ACKED"; exit 1; }

# A rerun after the crash completes and ends with every listing.
"$R/ingest" --data_dir="$D" > "$D/rerun.out" 2>&1 || { cat "$D/rerun.out"; exit 1; }
COUNT=$("$R/store_inspect" --store="$D/store" | awk '/^listings /{print $2}')
[ "$COUNT" -eq "$N" ] || { echo "FAIL: after rerun $COUNT != $N"; exit 1; }
echo "ingest_crash_test: ok"
