#!/usr/bin/env bash
# Injected I/O faults against the real job binaries (MARKETSEARCH_FAULTS, the test hook of
# common/fault_injection_env.h and common/versions.py): for build_index, build_lexical, ingest
# and the model export (make_test_ranker.py, common/model_artifact.py) an fsync, rename, write,
# read, mkdir error and an injected ENOSPC each make the job exit non-zero with one line naming
# the operation and the file (no crash, no stack trace), publish nothing (CURRENT unchanged and
# loadable, no new numbered version, no staging leftover taken for a version), and the next run
# without the fault succeeds. Then RocksDB opened on a corrupted store (garbage CURRENT,
# truncated MANIFEST, truncated SSTs) and on a locked one: a clear error naming the directory,
# from ingest and from the server. Each case prints a "MEASURED" line (RELIABILITY.md).
source "$(dirname "$0")/testdata_lib.sh" 2>/dev/null || source "$TEST_SRCDIR/marketsearch/tests/testdata_lib.sh"

BUILD_LEXICAL="$RUNFILES/jobs/build_lexical"
INGEST="$RUNFILES/jobs/ingest"
STORE_INSPECT="$RUNFILES/jobs/store_inspect"
PY="$RUNFILES/third_party/python"
MAKE_RANKER="$RUNFILES/ranking/train/make_test_ranker.py"
D="$TMP/data"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }

# run_fault NAME SPEC EXPECT... -- CMD...: runs CMD with MARKETSEARCH_FAULTS=SPEC; it must exit
# 1..127 (not killed by a signal), print the loud line, and its last stderr line must contain
# every EXPECT string (the operation and the file); no crash or trace may appear.
run_fault() {
  local name="$1" spec="$2"
  shift 2
  local expect=()
  while [ "$1" != "--" ]; do expect+=("$1"); shift; done
  shift
  local t0 rc
  t0=$(now)
  set +e
  MARKETSEARCH_FAULTS="$spec" "$@" > "$TMP/fault.out" 2> "$TMP/fault.err"
  rc=$?
  set -e
  FAULT_SECS=$(secs "$t0" "$(now)")
  local last
  last=$(grep -v '^\*\*\* MARKETSEARCH_FAULTS' "$TMP/fault.err" | grep -v '^rocksdb: ' | tr '\r' '\n' | grep -v '^ *$' | tail -1 || true)
  [ "$rc" -ge 1 ] && [ "$rc" -lt 128 ] || { cat "$TMP/fault.err" >&2; fail "$name [$spec]: exit $rc (want an error exit, not success or a signal)"; }
  grep -q '^\*\*\* MARKETSEARCH_FAULTS is set' "$TMP/fault.err" || fail "$name [$spec]: no loud line"
  if grep -qE 'Traceback|terminate called|Assertion|Aborted|Segmentation|^#[0-9]+ ' "$TMP/fault.err"; then
    cat "$TMP/fault.err" >&2; fail "$name [$spec]: a crash or stack trace instead of a message"
  fi
  for e in "${expect[@]}"; do
    [[ "$last" == *"$e"* ]] || { cat "$TMP/fault.err" >&2; fail "$name [$spec]: message '$last' does not name '$e'"; }
  done
  FAULT_RC=$rc
  FAULT_MSG="$last"
}

# The served lexical version is intact: every file matches its MANIFEST checksum.
check_lexical_intact() {
  local root="$1/lexical" cur
  cur="$(cat "$root/CURRENT")" || fail "no lexical CURRENT"
  [ -d "$root/$cur" ] || fail "lexical CURRENT names missing version $cur"
  sed -n 's/^file: \([^ ]*\) \([0-9a-f]*\) [0-9]*$/\2  \1/p' "$root/$cur/MANIFEST" > "$TMP/sums"
  [ -s "$TMP/sums" ] || fail "lexical v$cur has no checksums"
  (cd "$root/$cur" && sha256sum --quiet -c "$TMP/sums") || fail "lexical v$cur does not verify"
}

staging_left() { ls -A "$1" | grep '^\.tmp-' || true; }

note "tiny marketplace, store, towers (TorchScript), index, lexical index, ranker"
t0=$(now)
make_data "$D" 1500 --format=torchscript
"$INGEST" --data_dir="$D" > "$TMP/ingest2.log" 2>&1 || fail "second ingest"  # flushes SSTs
BI=("$BUILD_INDEX" --data_dir="$D" --threads=2 --factory=Flat --recall_queries=50)
"${BI[@]}" > "$TMP/bi.log" 2>&1 || { cat "$TMP/bi.log"; fail "first build_index"; }
"$BUILD_LEXICAL" --data_dir="$D" > "$TMP/bl.log" 2>&1 || { cat "$TMP/bl.log"; fail "first build_lexical"; }
"$PY" "$MAKE_RANKER" --models_dir="$D/models" --version=1 --listing_tower_version=1 \
  --featurizer_version=2 > "$TMP/ranker.log" 2>&1 || { cat "$TMP/ranker.log"; fail "make_test_ranker"; }
check_intact "$D"
check_lexical_intact "$D"
LISTINGS=$("$STORE_INSPECT" --store="$D/store" | sed -n 's/^listings //p')
[ "$LISTINGS" = 1500 ] || fail "store holds '$LISTINGS' listings"
echo "setup $(secs "$t0" "$(now)") s"

# expect_unpublished JOB ROOT SPEC CURRENT_BEFORE VERSIONS_BEFORE: the failed run left ROOT as
# it was: CURRENT unchanged, no new version, no staging directory left behind.
expect_unpublished() {
  local job="$1" root="$2" spec="$3"
  [ "$(cat "$root/CURRENT")" = "$4" ] || fail "$job [$spec]: CURRENT changed"
  [ "$(versions "$root")" = "$5" ] || fail "$job [$spec]: a version appeared: $(versions "$root")"
  [ -z "$(staging_left "$root")" ] || fail "$job [$spec]: staging left: $(staging_left "$root")"
}

note "build_index under faults"
for c in "write:index.faiss:EIO|write|index.faiss" \
         "write:attributes.bin:ENOSPC|No space left on device|attributes.bin" \
         "sync:index.faiss:EIO|fsync|index.faiss" \
         "write:MANIFEST:EROFS|write|MANIFEST" \
         "read:index.faiss:EIO|read|index.faiss" \
         "read:*/listing_tower/1/MANIFEST:EIO|read|listing_tower/1/MANIFEST" \
         "mkdir:.tmp-:EROFS|mkdir|index/.tmp-" \
         "syncdir:.tmp-:EIO|fsync dir|index/.tmp-" \
         "rename:*/index/[0-9]*:EIO|rename|index/.tmp-" \
         "syncdir:*/index:EIO|fsync dir|/index" \
         "rename:CURRENT:EIO|rename|index/CURRENT"; do
  IFS='|' read -r spec op file <<< "$c"
  before_current="$(cat "$D/index/CURRENT")"
  before_versions="$(versions "$D/index")"
  run_fault build_index "$spec" "$op" "$file" -- "${BI[@]}"
  expect_unpublished build_index "$D/index" "$spec" "$before_current" "$before_versions"
  check_intact "$D"
  echo "MEASURED build_index $spec: exit $FAULT_RC in $FAULT_SECS s, CURRENT $before_current unchanged: $FAULT_MSG"
done
t0=$(now)
"${BI[@]}" > "$TMP/bi.log" 2>&1 || { cat "$TMP/bi.log"; fail "build_index after the faults"; }
check_intact "$D"
[ "$(cat "$D/index/CURRENT")" -gt "$before_current" ] || fail "the rerun did not publish"
echo "MEASURED build_index rerun without faults: OK in $(secs "$t0" "$(now)") s, CURRENT $(cat "$D/index/CURRENT")"

note "build_lexical under faults"
for c in "write:MANIFEST:EIO|write|MANIFEST" \
         "write:MANIFEST:ENOSPC|No space left on device|MANIFEST" \
         "sync:postlist.glass:EIO|fsync|postlist.glass" \
         "read:postlist.glass:EIO|read|postlist.glass" \
         "mkdir:.tmp-:EROFS|mkdir|lexical/.tmp-" \
         "syncdir:.tmp-:EIO|fsync dir|lexical/.tmp-" \
         "rename:*/lexical/[0-9]*:EIO|rename|lexical/.tmp-" \
         "syncdir:*/lexical:EIO|fsync dir|/lexical" \
         "rename:CURRENT:EIO|rename|lexical/CURRENT"; do
  IFS='|' read -r spec op file <<< "$c"
  before_current="$(cat "$D/lexical/CURRENT")"
  before_versions="$(versions "$D/lexical")"
  run_fault build_lexical "$spec" "$op" "$file" -- "$BUILD_LEXICAL" --data_dir="$D"
  expect_unpublished build_lexical "$D/lexical" "$spec" "$before_current" "$before_versions"
  check_lexical_intact "$D"
  t0=$(now)
  "$BUILD_LEXICAL" --data_dir="$D" > "$TMP/bl.log" 2>&1 || { cat "$TMP/bl.log"; fail "build_lexical after [$spec]"; }
  check_lexical_intact "$D"
  echo "MEASURED build_lexical $spec: exit $FAULT_RC in $FAULT_SECS s, CURRENT $before_current unchanged; rerun OK in $(secs "$t0" "$(now)") s: $FAULT_MSG"
done

note "ingest under faults (RocksDB's own I/O through the same rules)"
for c in "write:*.log:EIO|write|.log" \
         "sync:*.log:EIO|fsync|.log" \
         "write:MANIFEST-*:ENOSPC|No space left on device|store/MANIFEST-" \
         "sync:MANIFEST-*:EIO|fsync|store/MANIFEST-" \
         "rename:CURRENT:EIO|rename|store/CURRENT" \
         "read:CURRENT:EIO|read|store/CURRENT" \
         "read:*.sst:EIO|read|.sst" \
         "syncdir:*/store:EIO|fsync dir|store" \
         "mkdir:*/store:EROFS|mkdir|store"; do
  IFS='|' read -r spec op file <<< "$c"
  run_fault ingest "$spec" "$op" "$file" -- "$INGEST" --data_dir="$D"
  n=$("$STORE_INSPECT" --store="$D/store" | sed -n 's/^listings //p')
  [ "$n" = "$LISTINGS" ] || fail "ingest [$spec]: the store holds $n listings, not $LISTINGS"
  t0=$(now)
  "$INGEST" --data_dir="$D" > "$TMP/in.log" 2>&1 || { cat "$TMP/in.log"; fail "ingest after [$spec]"; }
  echo "MEASURED ingest $spec: exit $FAULT_RC in $FAULT_SECS s, store intact ($n listings); rerun OK in $(secs "$t0" "$(now)") s: $FAULT_MSG"
done
# A fresh store that fails mid-run keeps every acknowledged batch.
run_fault ingest "write:*.log:EIO:4" write .log -- "$INGEST" --data_dir="$D" --store="$TMP/fresh_store" \
  --batch_size=200 --ack_log="$TMP/fresh.ack"
acked=$(tail -1 "$TMP/fresh.ack")
n=$("$STORE_INSPECT" --store="$TMP/fresh_store" | sed -n 's/^listings //p')
[ "$acked" -ge 200 ] && [ "$n" -ge "$acked" ] || fail "fresh store: $n listings, $acked acknowledged"
echo "MEASURED ingest write:*.log:EIO:4 on a fresh store: exit $FAULT_RC, $acked acknowledged, $n in the reopened store"

note "model export (make_test_ranker.py through common/model_artifact.py) under faults"
R="$D/models/ranker"
for c in "write:model.pt:EIO|write|model.pt" \
         "write:MANIFEST:ENOSPC|No space left on device|MANIFEST" \
         "sync:*.npy:EIO|fsync|.npy" \
         "read:model.pt:EIO|read|model.pt" \
         "mkdir:.tmp-:EROFS|mkdir|ranker/.tmp-" \
         "syncdir:.tmp-:EIO|fsync dir|ranker/.tmp-" \
         "rename:*/ranker/[0-9]*:EIO|rename|ranker/.tmp-"; do
  IFS='|' read -r spec op file <<< "$c"
  before="$(versions "$R")"
  run_fault make_test_ranker "$spec" "make_test_ranker: " "$op" "$file" -- "$PY" "$MAKE_RANKER" \
    --models_dir="$D/models" --version=2 --listing_tower_version=1 --featurizer_version=2
  [ "$(versions "$R")" = "$before" ] || fail "export [$spec]: a version appeared: $(versions "$R")"
  [ -z "$(staging_left "$R")" ] || fail "export [$spec]: staging left: $(staging_left "$R")"
  echo "MEASURED model export $spec: exit $FAULT_RC in $FAULT_SECS s, no new version: $FAULT_MSG"
done
t0=$(now)
"$PY" "$MAKE_RANKER" --models_dir="$D/models" --version=2 --listing_tower_version=1 \
  --featurizer_version=2 > "$TMP/ranker.log" 2>&1 || { cat "$TMP/ranker.log"; fail "export after the faults"; }
[ "$(versions "$R")" = "1 2 " ] || fail "export rerun: versions $(versions "$R")"
echo "MEASURED model export rerun without faults: OK in $(secs "$t0" "$(now)") s"

note "a malformed MARKETSEARCH_FAULTS stops each job at start"
for job in "$BUILD_INDEX" "$BUILD_LEXICAL" "$INGEST"; do
  set +e
  MARKETSEARCH_FAULTS="rename:CURRENT:EWHAT" "$job" --data_dir="$D" > /dev/null 2> "$TMP/bad.err"
  rc=$?
  set -e
  [ "$rc" -eq 2 ] && grep -q '^MARKETSEARCH_FAULTS: bad rule' "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "$job: bad spec exit $rc"; }
done
set +e
MARKETSEARCH_FAULTS="rename:CURRENT:EWHAT" "$PY" "$MAKE_RANKER" --models_dir="$TMP/m" --version=1 \
  --featurizer_version=2 > /dev/null 2> "$TMP/bad.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q '^MARKETSEARCH_FAULTS: bad rule' "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "export: bad spec exit $rc"; }

note "RocksDB on a corrupted or locked directory"
corrupt_case() {  # NAME MUTATION EXPECT
  local dir="$TMP/$1"
  rm -rf "$dir"; mkdir -p "$dir"
  cp -a "$D/store" "$dir/store"
  (cd "$dir/store" && eval "$2")
  local t0; t0=$(now)
  set +e
  "$INGEST" --data_dir="$dir" --listings="$D/catalog/listings.tsv" > /dev/null 2> "$TMP/c.err"
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || { cat "$TMP/c.err"; fail "ingest on $1: exit $rc"; }
  grep -q "open feature store $dir/store: .*$3.*is corrupted" "$TMP/c.err" || { cat "$TMP/c.err"; fail "ingest on $1: unclear message"; }
  echo "MEASURED ingest on a store with $1: exit $rc in $(secs "$t0" "$(now)") s: $(tail -1 "$TMP/c.err")"
}
corrupt_case garbage_current 'printf "garbage\n" > CURRENT' "Corruption"
corrupt_case truncated_manifest 'm=$(ls MANIFEST-*); head -c 100 "$m" > m.tmp; mv m.tmp "$m"' "Corruption"
ls "$D/store"/*.sst > /dev/null 2>&1 || fail "the store has no SST to truncate"
corrupt_case truncated_sst 'for f in *.sst; do truncate -s 50 "$f"; done' "Corruption"

# Another process holds the LOCK (fcntl, as RocksDB takes it).
"$PY" -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+"); fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(60)' "$D/store/LOCK" "$TMP/locked" &
holder=$!
trap 'kill $holder 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -e "$TMP/locked" ] && break; sleep 0.1; done
t0=$(now)
set +e
"$INGEST" --data_dir="$D" > /dev/null 2> "$TMP/lock.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "open feature store $D/store: .*another process .* holds $D/store/LOCK" "$TMP/lock.err" \
  || { cat "$TMP/lock.err"; fail "ingest on a locked store: exit $rc"; }
echo "MEASURED ingest on a locked store: exit $rc in $(secs "$t0" "$(now)") s: $(tail -1 "$TMP/lock.err")"
set +e
timeout 60 "$RUNFILES/serving/server" --data_dir="$D" --port=0 --admin_address=127.0.0.1:0 > /dev/null 2> "$TMP/srv_lock.err"
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "cannot open the feature store: open feature store $D/store: .*holds $D/store/LOCK" "$TMP/srv_lock.err" \
  || { cat "$TMP/srv_lock.err"; fail "server on a locked store: exit $rc"; }
echo "MEASURED server on a locked store: exit $rc: $(grep 'cannot open the feature store' "$TMP/srv_lock.err")"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
trap - EXIT
# The server on a corrupted store (the rest of the data directory intact).
S="$TMP/garbage_current"
for x in models index lexical catalog; do ln -s "$D/$x" "$S/$x"; done
set +e
timeout 60 "$RUNFILES/serving/server" --data_dir="$S" --port=0 --admin_address=127.0.0.1:0 > /dev/null 2> "$TMP/srv_bad.err"
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "cannot open the feature store: open feature store $S/store: Corruption" "$TMP/srv_bad.err" \
  || { cat "$TMP/srv_bad.err"; fail "server on a corrupted store: exit $rc"; }
echo "MEASURED server on a store with garbage CURRENT: exit $rc: $(grep 'cannot open the feature store' "$TMP/srv_bad.err")"

echo PASS
