#!/usr/bin/env bash
# make test-sanitizers: every C++ test (unit tests and the end-to-end tests that start the real
# server) built and run under AddressSanitizer + UndefinedBehaviorSanitizer (.bazelrc
# --config=asan: its own output tree and bazel-asan-* links, so bazel-bin stays the normal
# build). A finding aborts the test with the sanitizer's report in its log
# (bazel-asan-testlogs/<package>/<test>/test.log). Not part of `make test`: the instrumented
# build and run take much longer. Prints the wall time and `N passed, N failed` (test targets).
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
targets=$(bazel query 'kind(cc_test, //...)' 2>/dev/null)
out=$(mktemp)
bazel test --config=asan --test_output=errors $targets "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
n=$(echo "$targets" | wc -w)
# Bazel's verdict per target (a test whose cases all passed can still fail: a sanitizer report
# at exit, e.g. a leak).
failing=$(grep -E '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD|INCOMPLETE)' "$out")
failed=$(printf '%s' "$failing" | grep -c . || true)
[ -n "$failing" ] && printf '%s\n' "$failing" | sed 's/^/under sanitizers: /'
rm -f "$out"
echo "sanitizers (ASan + UBSan): $((n - failed)) passed, $failed failed test targets in $(( $(date +%s) - start )) s"
exit "$rc"
