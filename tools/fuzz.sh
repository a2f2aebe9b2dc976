#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets of fuzz/ (fuzz/BUILD) with clang under
# --config=fuzz (.bazelrc: coverage instrumentation + ASan + UBSan) in a separate Bazel output
# base, so the normal build's output tree and bazel-bin stay the g++ ones, then runs each
# target for a bounded time on a copy of its seed corpus (fuzz/corpus/<target>/, plus the
# crash inputs of fuzz/regressions/<target>/). New corpus entries and crash inputs go to a
# scratch directory under that output base (not committed automatically).
# Prints per target: executions, coverage (libFuzzer's cov: edges and ft: features), corpus
# size, crashes; for a crash (or timeout, OOM, leak), where its input was written and the
# one-line command that replays it. Exits non-zero if any target failed.
#
# env: FUZZ_SECONDS       seconds per target (default 60)
#      FUZZ_TARGETS       space-separated subset of the targets (default: all)
#      FUZZ_OUTPUT_BASE   Bazel output base of the clang build (default $HOME/.cache/bazel-fuzz)
#      FUZZ_CC, FUZZ_CXX  the compilers (default clang-14, clang++-14)
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
OUTPUT_BASE=${FUZZ_OUTPUT_BASE:-$HOME/.cache/bazel-fuzz}
CC_BIN=${FUZZ_CC:-clang-14}
CXX_BIN=${FUZZ_CXX:-clang++-14}
# target:max_len (bytes). Sized to what each input is in practice with room to grow: a page
# token is at most 128 bytes, a search request a few hundred, files and payloads a few KB.
ALL_TARGETS="text:4096 page_token:256 search_request:2048 upsert_listings:16384
  experiment_config:8192 listing_tsv:8192 catalog_tsv:4096 esci_loader:8192 wands_loader:8192"

command -v "$CC_BIN" > /dev/null || { echo "fuzz: $CC_BIN not found (make deps installs it)"; exit 2; }

echo "== building the fuzz targets (clang, --config=fuzz, output base $OUTPUT_BASE)"
build_start=$(date +%s)
BAZEL_FUZZ=(bazel --output_base="$OUTPUT_BASE")
FUZZ_FLAGS=(--config=fuzz --repo_env=CC="$CC_BIN" --repo_env=CXX="$CXX_BIN")
"${BAZEL_FUZZ[@]}" build "${FUZZ_FLAGS[@]}" //fuzz:all_fuzzers || { echo "fuzz: build failed"; exit 2; }
bin=$("${BAZEL_FUZZ[@]}" info "${FUZZ_FLAGS[@]}" bazel-bin 2>/dev/null)/fuzz
echo "fuzz: build took $(( $(date +%s) - build_start )) s"

run_dir="$OUTPUT_BASE/fuzz-runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$run_dir"
# The targets that read files (TSV readers, loaders) and the serving fixture's store write a
# file per input: on tmpfs when there is one (10x the executions of a disk-backed /tmp here).
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  TMPDIR=$(mktemp -d /dev/shm/marketsearch-fuzz.XXXXXX)
else
  TMPDIR=$(mktemp -d "$run_dir/tmp.XXXXXX")
fi
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
failed=0
total_execs=0
summary=()
for entry in $ALL_TARGETS; do
  target=${entry%%:*}
  max_len=${entry##*:}
  if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" $target "* ]]; then continue; fi
  dir="$run_dir/$target"
  mkdir -p "$dir/corpus" "$dir/crashes"
  cp fuzz/corpus/"$target"/* "$dir/corpus/"
  seeds=$(ls fuzz/corpus/"$target" | wc -l)
  inputs=("$dir/corpus")
  if [ -d "fuzz/regressions/$target" ]; then inputs+=("fuzz/regressions/$target"); fi
  dict=()
  if [ -f "fuzz/dict/$target.dict" ]; then dict=(-dict="fuzz/dict/$target.dict"); fi
  echo "== $target: ${SECONDS_PER_TARGET} s, max_len $max_len, $seeds seeds"
  # -timeout: an input running 10 s is a hang; -rss_limit_mb: an input needing 2 GB is an OOM.
  # UBSan aborts on its first finding (-fno-sanitize-recover), which libFuzzer reports as a crash.
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin/${target}_fuzzer" "${inputs[@]}" "${dict[@]}" \
    -max_total_time="$SECONDS_PER_TARGET" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$dir/crashes/" -print_final_stats=1 > "$dir/log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$dir/log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corpus=$(ls "$dir/corpus" | wc -l)
  crashes=$(ls "$dir/crashes" | wc -l)
  total_execs=$(( total_execs + ${execs:-0} ))
  line=$(printf '%-18s execs %9s (%6s/s)  cov %5s  ft %6s  corpus %4s (seeds %3s)  peak rss %5s MB  crashes %s' \
    "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$seeds" "${rss:-?}" "$crashes")
  echo "  $line"
  summary+=("$line")
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=$(( failed + 1 ))
    echo "  FAILED (exit $rc); the report:"
    grep -E 'ERROR: |FUZZ_CHECK|runtime error|SUMMARY' "$dir/log" | head -5 | sed 's/^/    /'
    for f in "$dir/crashes"/*; do
      [ -e "$f" ] || continue
      echo "    input: $f"
      echo "    replay: $bin/${target}_fuzzer $f"
    done
    echo "    log: $dir/log"
  fi
done
echo "== fuzz summary (run directory $run_dir)"
printf '  %s\n' "${summary[@]}"
echo "fuzz: ${#summary[@]} targets, $total_execs executions, $failed failed, in $(( $(date +%s) - start )) s"
[ "$failed" -eq 0 ]
