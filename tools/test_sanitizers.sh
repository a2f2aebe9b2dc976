#!/usr/bin/env bash
# make test-sanitizers: every C++ test (unit tests and the end-to-end tests that start the real
# server) built and run twice:
#   1. under AddressSanitizer + UndefinedBehaviorSanitizer (.bazelrc --config=asan: its own
#      output tree and bazel-asan-* links, so bazel-bin stays the normal build). A finding aborts
#      the test with the sanitizer's report in its log
#      (bazel-asan-testlogs/<package>/<test>/test.log).
#   2. under ThreadSanitizer (.bazelrc --config=tsan) in a separate Bazel output base
#      ($MARKETSEARCH_TSAN_OUTPUT_BASE, default $HOME/.cache/bazel-tsan; no convenience links),
#      linked against an instrumented abseil (tools/build_tsan_abseil.sh, built once into a
#      cache outside the repository), with the suppressions of tools/tsan_suppressions.txt.
#      Every process's report (the tests' and the servers' they start, even one killed with
#      SIGKILL) goes to a file under $HOME/.cache/marketsearch/tsan-reports/<run>/: any file
#      there fails the pass, and the script prints each report's summary and path.
# Not part of `make test`: the instrumented builds and runs take much longer. A failure in
# either pass fails the script. Prints the wall time and `N passed, N failed` (test targets) of
# each pass, then of both. MARKETSEARCH_SANITIZERS=tsan (or asan) runs one pass only; extra
# arguments go to both `bazel test` commands (e.g. --nocache_test_results).
set -uo pipefail
cd "$(dirname "$0")/.."
passes=${MARKETSEARCH_SANITIZERS:-asan tsan}
start=$(date +%s)
rc=0
n=0
failed=0
asan_summary="sanitizers (ASan + UBSan): not run (MARKETSEARCH_SANITIZERS=$passes)"
if [[ " $passes " == *" asan "* ]]; then
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
  asan_summary="sanitizers (ASan + UBSan): $((n - failed)) passed, $failed failed test targets in $(( $(date +%s) - start )) s"
  echo "$asan_summary"
fi

# --- ThreadSanitizer -------------------------------------------------------------------------
tsan_start=$(date +%s)
tsan_rc=0
tsan_n=0
tsan_failed=0
tsan_summary="sanitizers (TSan): not run (MARKETSEARCH_SANITIZERS=$passes)"
if [[ " $passes " != *" tsan "* ]]; then
  :
elif ! absl=$(bash tools/build_tsan_abseil.sh | tail -n 1) || [ ! -d "$absl/lib" ]; then
  echo "under tsan: the instrumented abseil could not be built (tools/build_tsan_abseil.sh)"
  tsan_rc=1
else
  tsan_bazel=(bazel --output_base="${MARKETSEARCH_TSAN_OUTPUT_BASE:-$HOME/.cache/bazel-tsan}")
  # Targets excluded from the TSan pass, each with the reason printed (none today).
  declare -A tsan_excluded=()
  # The packages are listed from the tree rather than with //...: in another output base, //...
  # would descend into the main output base's bazel-<workspace> link.
  packages=$(find . -name BUILD -not -path './bazel-*' -not -path './.venv/*' -not -path './var/*' \
               -not -path './third_party/*' -printf '%h\n' | sort -u |
             awk '{ print ($0 == "." ? "//:all" : "//" substr($0, 3) ":all") }' | paste -sd+)
  tsan_targets=$("${tsan_bazel[@]}" query "kind(cc_test, $packages)" 2>/dev/null)
  for t in "${!tsan_excluded[@]}"; do
    echo "under tsan: $t excluded: ${tsan_excluded[$t]}"
    tsan_targets=$(printf '%s\n' "$tsan_targets" | grep -vx "$t")
  done
  tsan_n=$(echo "$tsan_targets" | wc -w)
  reports="$HOME/.cache/marketsearch/tsan-reports/$(date +%Y%m%d-%H%M%S)"
  mkdir -p "$reports"
  # log_path: one file per process that reports (tsan.<binary>.<pid>); none when clean.
  tsan_options="suppressions=$PWD/tools/tsan_suppressions.txt:log_path=$reports/tsan"
  tsan_options+=":log_exe_name=1:second_deadlock_stack=1:history_size=4"
  out=$(mktemp)
  "${tsan_bazel[@]}" test --config=tsan --experimental_convenience_symlinks=ignore \
    --test_output=errors --linkopt="-L$absl/lib" --linkopt="-Wl,-rpath,$absl/lib" \
    --test_env=TSAN_OPTIONS="$tsan_options" $tsan_targets "$@" 2>&1 | tee "$out"
  tsan_rc=${PIPESTATUS[0]}
  failing=$(grep -E '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD|INCOMPLETE)' "$out")
  tsan_failed=$(printf '%s' "$failing" | grep -c . || true)
  [ -n "$failing" ] && printf '%s\n' "$failing" | sed 's/^/under tsan: /'
  rm -f "$out"
  # Reports of processes whose test still passed (a server the test killed) fail the pass too.
  for f in "$reports"/tsan.*; do
    [ -e "$f" ] || continue
    echo "under tsan: report in $f:"
    grep -E '^SUMMARY: ThreadSanitizer' "$f" | sort | uniq -c | sed 's/^/under tsan:   /'
    tsan_rc=1
  done
  [ "$tsan_rc" = 0 ] && rmdir "$reports" 2>/dev/null
  tsan_summary="sanitizers (TSan): $((tsan_n - tsan_failed)) passed, $tsan_failed failed test targets in $(( $(date +%s) - tsan_start )) s"
fi
echo "$asan_summary"
echo "$tsan_summary"
echo "$((n - failed + tsan_n - tsan_failed)) passed, $((failed + tsan_failed)) failed"
[ "$rc" = 0 ] && [ "$tsan_rc" = 0 ] && [ "$((failed + tsan_failed))" = 0 ]
