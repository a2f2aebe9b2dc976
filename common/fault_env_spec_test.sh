#!/usr/bin/env bash
# MARKETSEARCH_FAULTS in a real process: unset = no line and no fault; a valid spec = one loud
# line on stderr and the fault; a malformed spec = exit 2 at start with a message naming the
# variable, before any work.
set -uo pipefail
PROBE="${TEST_SRCDIR:-.}/marketsearch/common/fault_env_probe"
T="${TEST_TMPDIR:-$(mktemp -d)}"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$PROBE" "$T/a" 2>&1) || fail "unset: $out"
[[ "$out" == ok ]] || fail "unset printed: $out"

out=$(MARKETSEARCH_FAULTS="rename:CURRENT:EIO" "$PROBE" "$T/b" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "valid spec: exit $rc: $out"
[[ "$out" == *"MARKETSEARCH_FAULTS is set"* ]] || fail "no loud line: $out"
[[ "$out" == *"rename $T/b/CURRENT.tmp -> $T/b/CURRENT: Input/output error (injected)"* ]] || fail "message: $out"
[ ! -e "$T/b/CURRENT" ] || fail "CURRENT written despite the fault"

for bad in "rename:CURRENT" "fsync:x:EIO" "rename:CURRENT:EWHAT" ""; do
  out=$(MARKETSEARCH_FAULTS="$bad" "$PROBE" "$T/c" 2>&1); rc=$?
  [ "$rc" -eq 2 ] || fail "bad spec '$bad': exit $rc: $out"
  [[ "$out" == MARKETSEARCH_FAULTS:* ]] || fail "bad spec '$bad' message: $out"
  [ ! -e "$T/c" ] || fail "bad spec '$bad': the probe ran"
done
echo PASS
