#!/usr/bin/env bash
# build_index end to end on a tiny marketplace: the default factory, IVF-PQ with and without
# exact re-ranking, and the recall gate (refusing to publish leaves everything as it was).
source "$(dirname "$0")/testdata_lib.sh" 2>/dev/null || source "$TEST_SRCDIR/marketsearch/tests/testdata_lib.sh"

D="$TMP/data"
note "tiny marketplace + towers"
make_data "$D" 3000

note "default factory (auto: families compared on a 1,000-listing sample, tuned at full size)"
"$BUILD_INDEX" --data_dir="$D" --threads=2 --auto_sample=1000 --tune_queries=200 --recall_queries=200 \
  > "$TMP/b1.log" 2>&1 || { cat "$TMP/b1.log"; fail "default build"; }
cat "$TMP/b1.log" | grep -E "sample |full |recall@"
[ "$(cat "$D/index/CURRENT")" = 1 ] || fail "CURRENT should be 1"
factory="$(manifest_field "$D/index/1" factory)"
case "$factory" in IVF64,Flat|HNSW32,Flat) ;; *) fail "auto chose '$factory'";; esac
# The manifest records both families on the sample (IVF lists scaled to it) and the full build.
[ "$(grep -c '^  sample {' "$D/index/1/MANIFEST")" = 2 ] || fail "sample results not recorded"
grep -q 'factory: "IVF21,Flat"' "$D/index/1/MANIFEST" || fail "IVF lists not scaled to the sample"
grep -q '^  full {' "$D/index/1/MANIFEST" || fail "full-size tuning not recorded"
nested() { sed -n "s/^ *$2: \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$1/MANIFEST" | head -1; }
[ "$(nested "$D/index/1" sample_listings)" = 1000 ] || fail "sample size"
[ "$(nested "$D/index/1" gate_queries)" -ge 100 ] || fail "gate queries"
awk -v r="$(manifest_field "$D/index/1" recall_at_100)" 'BEGIN{exit !(r >= 0.95)}' || fail "gate recall"
if [ "$factory" = IVF64,Flat ]; then
  [ "$(manifest_field "$D/index/1" ivf_nprobe)" -ge 1 ] || fail "tuned nprobe not recorded"
fi
# The tuning target may not be below the gate.
if "$BUILD_INDEX" --data_dir="$D" --target_recall=0.9 --publish=false > "$TMP/b0.log" 2>&1; then
  fail "--target_recall below --min_recall accepted"
fi
grep -q "target_recall" "$TMP/b0.log" || { cat "$TMP/b0.log"; fail "error does not name --target_recall"; }
grep -q 'name: "attributes.bin"' "$D/index/1/MANIFEST" || fail "attributes.bin not in MANIFEST"
[ -n "$(manifest_field "$D/index/1" snapshot_unix_ms)" ] || fail "no snapshot_unix_ms"
"$INSPECT" --data_dir="$D" --self_check || fail "self-check v1"

note "IVF32,PQ16 (PQ only) and IVF32,PQ16,RFlat (PQ candidates re-ranked exactly)"
"$BUILD_INDEX" --data_dir="$D" --factory='IVF32,PQ16' --nprobe=8 --min_recall=0.5 > "$TMP/b2.log" 2>&1 \
  || { cat "$TMP/b2.log"; fail "IVF32,PQ16 build"; }
"$INSPECT" --data_dir="$D" --self_check || fail "self-check PQ"
"$BUILD_INDEX" --data_dir="$D" --factory='IVF32,PQ16,RFlat' --nprobe=8 > "$TMP/b3.log" 2>&1 \
  || { cat "$TMP/b3.log"; fail "IVF32,PQ16,RFlat build (default --min_recall=0.95)"; }
"$INSPECT" --data_dir="$D" --self_check || fail "self-check PQ+RFlat"
[ "$(cat "$D/index/CURRENT")" = 3 ] || fail "CURRENT should be 3"
pq=$(manifest_field "$D/index/2" recall_at_100)
rf=$(manifest_field "$D/index/3" recall_at_100)
echo "Recall@100: IVF32,PQ16 $pq, IVF32,PQ16,RFlat $rf"
awk -v a="$pq" -v b="$rf" 'BEGIN{exit !(b > a && b >= 0.95)}' || fail "re-ranking should lift recall ($pq -> $rf)"

note "recall gate: below --min_recall nothing is published"
before_versions="$(versions "$D/index")"
before_current="$(cat "$D/index/CURRENT")"
cur_manifest_sum="$(sha256sum "$D/index/$before_current/MANIFEST")"
if "$BUILD_INDEX" --data_dir="$D" --factory='IVF32,PQ4' --nprobe=1 --min_recall=0.99 > "$TMP/b4.log" 2>&1; then
  cat "$TMP/b4.log"; fail "a build below --min_recall must fail"
fi
grep -q "not publishing" "$TMP/b4.log" || { cat "$TMP/b4.log"; fail "no refusal message"; }
grep -o "recall@100 vs exact search: [0-9.]*" "$TMP/b4.log"
[ "$(versions "$D/index")" = "$before_versions" ] || fail "a version appeared: $(versions "$D/index")"
[ "$(cat "$D/index/CURRENT")" = "$before_current" ] || fail "CURRENT changed"
[ "$(sha256sum "$D/index/$before_current/MANIFEST")" = "$cur_manifest_sum" ] || fail "served version modified"
[ -z "$(ls -A "$D/index" | grep '^\.tmp-' || true)" ] || fail "staging directory left behind"
# Also with the default factory and an impossible threshold.
if "$BUILD_INDEX" --data_dir="$D" --min_recall=1.01 > "$TMP/b5.log" 2>&1; then fail "min_recall 1.01 passed"; fi
[ "$(versions "$D/index")" = "$before_versions" ] || fail "a version appeared"
[ "$(cat "$D/index/CURRENT")" = "$before_current" ] || fail "CURRENT changed"

note "a bad factory string is an error that publishes nothing"
if "$BUILD_INDEX" --data_dir="$D" --factory='NoSuchIndex' > "$TMP/b6.log" 2>&1; then fail "bad factory passed"; fi
grep -q "factory" "$TMP/b6.log" || { cat "$TMP/b6.log"; fail "error does not name the factory"; }
[ "$(versions "$D/index")" = "$before_versions" ] || fail "a version appeared"
check_intact "$D"
echo "PASS"
