#!/usr/bin/env bash
# Crash safety of publication: build_index is killed with SIGKILL after each step (hidden
# --crash_after flag) and at random moments; after every kill the published versions and
# CURRENT are intact and loadable, no half-written directory is named by CURRENT or looks
# like a version (staging directories are .tmp-*), and the next build cleans up after the
# dead one.
source "$(dirname "$0")/testdata_lib.sh" 2>/dev/null || source "$TEST_SRCDIR/marketsearch/tests/testdata_lib.sh"

D="$TMP/data"
ROOT="$D/index"
note "tiny marketplace + towers, first published version"
make_data "$D" 2000
"$BUILD_INDEX" --data_dir="$D" --threads=2 > "$TMP/first.log" 2>&1 || { cat "$TMP/first.log"; fail "first build"; }
check_intact "$D"

for step in encode build index_file attributes_file staging publish_dir current; do
  note "SIGKILL after step '$step'"
  before_current="$(cat "$ROOT/CURRENT")"
  before_versions="$(versions "$ROOT")"
  next=$(( $(echo $before_versions | awk '{print $NF}') + 1 ))
  set +e
  "$BUILD_INDEX" --data_dir="$D" --threads=2 --crash_after="$step" > "$TMP/crash.log" 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 137 ] || { cat "$TMP/crash.log"; fail "expected death by SIGKILL (137), got $rc"; }
  check_intact "$D"
  case "$step" in
    encode|build|index_file|attributes_file|staging)
      [ "$(cat "$ROOT/CURRENT")" = "$before_current" ] || fail "CURRENT changed"
      [ "$(versions "$ROOT")" = "$before_versions" ] || fail "a version appeared: $(versions "$ROOT")" ;;
    publish_dir)
      [ "$(cat "$ROOT/CURRENT")" = "$before_current" ] || fail "CURRENT changed"
      [ -d "$ROOT/$next" ] || fail "version $next should be complete (renamed) but unserved" ;;
    current)
      [ "$(cat "$ROOT/CURRENT")" = "$next" ] || fail "CURRENT should name $next" ;;
  esac
  ls -A "$ROOT" | tr '\n' ' '; echo
done

note "SIGKILL at random moments"
RANDOM=42
for i in 1 2 3 4 5 6; do
  before_current="$(cat "$ROOT/CURRENT")"
  "$BUILD_INDEX" --data_dir="$D" --threads=2 > "$TMP/random.log" 2>&1 &
  pid=$!
  delay=$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 0.3 + 3.0 * r / 32767}')
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "killed after ${delay}s: CURRENT $before_current -> $(cat "$ROOT/CURRENT"); $(ls -A "$ROOT" | tr '\n' ' ')"
  check_intact "$D"
  cur="$(cat "$ROOT/CURRENT")"
  [ "$cur" -ge "$before_current" ] || fail "CURRENT went backwards"
done

note "the next build succeeds and removes the staging directories of dead builds"
"$BUILD_INDEX" --data_dir="$D" --threads=2 > "$TMP/last.log" 2>&1 || { cat "$TMP/last.log"; fail "last build"; }
check_intact "$D"
left="$(ls -A "$ROOT" | grep '^\.tmp-' || true)"
[ -z "$left" ] || fail "staging directories left: $left"
"$INSPECT" --data_dir="$D" --self_check || fail "self-check"
echo "PASS"
