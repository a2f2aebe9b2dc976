#!/usr/bin/env bash
# A real full disk (a small tmpfs; ENOSPC from the kernel, also inside RocksDB, Xapian and
# FAISS's writes) during ingest, build_index, build_lexical and the model export: the job
# exits non-zero with a message naming the file and "No space left on device", nothing is
# half-published (CURRENT unchanged, no new version, no staging left; acknowledged ingest
# batches kept), and after `mount -o remount,size=...` grows the file system the next run
# succeeds. Needs root (mount); a mount that fails fails the test, saying why.
source "$(dirname "$0")/testdata_lib.sh" 2>/dev/null || source "$TEST_SRCDIR/marketsearch/tests/testdata_lib.sh"

PY="$RUNFILES/third_party/python"
INGEST="$RUNFILES/jobs/ingest"
STORE_INSPECT="$RUNFILES/jobs/store_inspect"
D="$TMP/data"
M="$TMP/small_disk"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }
mounted=0
cleanup() { if [ "$mounted" = 1 ]; then umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null || true; fi; }
trap cleanup EXIT

disk() {  # SIZE: (re)mounts the small tmpfs at $M with that size
  if [ "$mounted" = 0 ]; then
    mkdir -p "$M"
    mount -t tmpfs -o "size=$1" tmpfs "$M" 2> "$TMP/mount.err" || fail "cannot mount a ${1} tmpfs at $M \
(this test needs root and mount(2); $(cat "$TMP/mount.err"))"
    mounted=1
  else
    mount -o "remount,size=$1" "$M" 2> "$TMP/mount.err" || fail "cannot remount $M with size=$1: $(cat "$TMP/mount.err")"
  fi
}
used_kb() { df -k --output=used "$M" | tail -1 | tr -d ' '; }

# expect_enospc NAME CMD...: CMD must fail (not by a signal) naming ENOSPC and a file on $M.
expect_enospc() {
  local name="$1"; shift
  local t0 rc; t0=$(now)
  set +e
  "$@" > "$TMP/job.out" 2> "$TMP/job.err"
  rc=$?
  set -e
  JOB_SECS=$(secs "$t0" "$(now)")
  [ "$rc" -ge 1 ] && [ "$rc" -lt 128 ] || { cat "$TMP/job.err"; fail "$name on a full disk: exit $rc"; }
  if grep -qE 'Traceback|terminate called|Assertion|Aborted|Segmentation' "$TMP/job.err"; then
    cat "$TMP/job.err"; fail "$name on a full disk: a crash instead of a message"
  fi
  JOB_MSG=$(grep -v '^rocksdb: ' "$TMP/job.err" | tr '\r' '\n' | grep -v '^ *$' | tail -1)
  [[ "$JOB_MSG" == *"No space left on device"* || "$JOB_MSG" == *"ENOSPC"* ]] || { cat "$TMP/job.err"; fail "$name: message does not say the disk is full: $JOB_MSG"; }
  [[ "$JOB_MSG" == *"$M"* ]] || { cat "$TMP/job.err"; fail "$name: message names no file on the full disk: $JOB_MSG"; }
  JOB_RC=$rc
}

note "tiny marketplace, store and towers on the normal disk"
make_data "$D" 1500 --format=torchscript
disk 16m
mkdir -p "$M/d"
for x in catalog store models; do ln -s "$D/$x" "$M/d/$x"; done

note "ingest into a store on a 256 KiB file system"
disk 256k
rm -rf "$M/store"
expect_enospc ingest "$INGEST" --data_dir="$D" --store="$M/store" --batch_size=200 --ack_log="$TMP/ack"
acked=$(tail -1 "$TMP/ack" 2>/dev/null || echo 0)
disk 16m
n=$("$STORE_INSPECT" --store="$M/store" | sed -n 's/^listings //p')
[ "${n:-0}" -ge "$acked" ] || fail "the reopened store holds $n listings; $acked were acknowledged"
echo "MEASURED ingest on a full disk: exit $JOB_RC in $JOB_SECS s, $acked acknowledged and $n in the reopened store: $JOB_MSG"
t0=$(now)
"$INGEST" --data_dir="$D" --store="$M/store" > "$TMP/in.log" 2>&1 || { cat "$TMP/in.log"; fail "ingest after growing the disk"; }
n=$("$STORE_INSPECT" --store="$M/store" | sed -n 's/^listings //p')
[ "$n" = 1500 ] || fail "after the rerun the store holds $n listings"
echo "MEASURED ingest rerun after remount: OK in $(secs "$t0" "$(now)") s, 1500 listings"
rm -rf "$M/store"

BI=("$BUILD_INDEX" --data_dir="$M/d" --threads=2 --factory=Flat --recall_queries=50)
note "build_index: v1 with room, then a disk with ~200 KiB free (the index file is ~400 KB)"
"${BI[@]}" > "$TMP/bi.log" 2>&1 || { cat "$TMP/bi.log"; fail "first build_index"; }
disk "$(( $(used_kb) + 200 ))k"
expect_enospc build_index "${BI[@]}"
[ "$(cat "$M/d/index/CURRENT")" = 1 ] || fail "build_index on a full disk: CURRENT changed"
[ "$(versions "$M/d/index")" = "1 " ] || fail "build_index on a full disk: versions $(versions "$M/d/index")"
[ -z "$(ls -A "$M/d/index" | grep '^\.tmp-' || true)" ] || fail "build_index on a full disk: staging left"
check_intact "$M/d"
echo "MEASURED build_index on a full disk: exit $JOB_RC in $JOB_SECS s, CURRENT 1 unchanged: $JOB_MSG"
disk 16m
t0=$(now)
"${BI[@]}" > "$TMP/bi.log" 2>&1 || { cat "$TMP/bi.log"; fail "build_index after growing the disk"; }
[ "$(cat "$M/d/index/CURRENT")" = 2 ] || fail "rerun: CURRENT $(cat "$M/d/index/CURRENT")"
check_intact "$M/d"
echo "MEASURED build_index rerun after remount: OK in $(secs "$t0" "$(now)") s, CURRENT 2"

note "build_lexical: v1 with room, then a disk with ~100 KiB free (the database is ~600 KB)"
"$RUNFILES/jobs/build_lexical" --data_dir="$M/d" > "$TMP/bl.log" 2>&1 || { cat "$TMP/bl.log"; fail "first build_lexical"; }
disk "$(( $(used_kb) + 100 ))k"
expect_enospc build_lexical "$RUNFILES/jobs/build_lexical" --data_dir="$M/d"
[ "$(cat "$M/d/lexical/CURRENT")" = 1 ] || fail "build_lexical on a full disk: CURRENT changed"
[ "$(versions "$M/d/lexical")" = "1 " ] || fail "build_lexical on a full disk: versions $(versions "$M/d/lexical")"
[ -z "$(ls -A "$M/d/lexical" | grep '^\.tmp-' || true)" ] || fail "build_lexical on a full disk: staging left"
echo "MEASURED build_lexical on a full disk: exit $JOB_RC in $JOB_SECS s, CURRENT 1 unchanged: $JOB_MSG"
disk 16m
t0=$(now)
"$RUNFILES/jobs/build_lexical" --data_dir="$M/d" > "$TMP/bl.log" 2>&1 || { cat "$TMP/bl.log"; fail "build_lexical after growing the disk"; }
[ "$(cat "$M/d/lexical/CURRENT")" = 2 ] || fail "rerun: lexical CURRENT $(cat "$M/d/lexical/CURRENT")"
echo "MEASURED build_lexical rerun after remount: OK in $(secs "$t0" "$(now)") s, CURRENT 2"

note "model export: ranker v1 with room, then ~64 KiB free (model.pt is ~140 KB)"
EXPORT=("$PY" "$RUNFILES/ranking/train/make_test_ranker.py" --models_dir="$M/models" --listing_tower_version=1 --featurizer_version=2)
"${EXPORT[@]}" --version=1 > "$TMP/ex.log" 2>&1 || { cat "$TMP/ex.log"; fail "first export"; }
disk "$(( $(used_kb) + 64 ))k"
expect_enospc "model export" "${EXPORT[@]}" --version=2
[ "$(versions "$M/models/ranker")" = "1 " ] || fail "export on a full disk: versions $(versions "$M/models/ranker")"
[ -z "$(ls -A "$M/models/ranker" | grep '^\.tmp-' || true)" ] || fail "export on a full disk: staging left"
echo "MEASURED model export on a full disk: exit $JOB_RC in $JOB_SECS s, no new version: $JOB_MSG"
disk 16m
t0=$(now)
"${EXPORT[@]}" --version=2 > "$TMP/ex.log" 2>&1 || { cat "$TMP/ex.log"; fail "export after growing the disk"; }
[ "$(versions "$M/models/ranker")" = "1 2 " ] || fail "export rerun: versions $(versions "$M/models/ranker")"
echo "MEASURED model export rerun after remount: OK in $(secs "$t0" "$(now)") s"
echo PASS
