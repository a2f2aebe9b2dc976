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
bazel test --config=asan --test_output=errors $targets "$@"
rc=$?
n=$(echo "$targets" | wc -w)
failed=0
for t in $targets; do
  pkg=${t#//}; pkg=${pkg%%:*}; name=${t##*:}
  xml="bazel-asan-testlogs/$pkg/$name/test.xml"
  if [ ! -f "$xml" ] || grep -q '<failure' "$xml"; then
    failed=$((failed + 1))
    echo "FAILED under sanitizers: $t (bazel-asan-testlogs/$pkg/$name/test.log)"
  fi
done
echo "sanitizers (ASan + UBSan): $((n - failed)) passed, $failed failed test targets in $(( $(date +%s) - start )) s"
exit "$rc"
