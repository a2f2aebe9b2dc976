#!/usr/bin/env bash
# What spelling correction and relevance calibration cost a request, in one run on one
# deployment (default var/load1m, which `make load` builds): the same server binary started
# with both on (--spelling_correction --relevance_calibration, the defaults) and with both off,
# alternating, ROUNDS times; in each, one closed-loop client (bench/load_gen, page of 10) for
# DURATION_S seconds of the catalog's queries as written and DURATION_S seconds with one swap of
# adjacent letters in each query's longest word (--typo_kind=swap: every query then pays the
# correction). Prints each window and
#   BENCH correction_<clean|swap>_<on|off>_p50_ms / _p99_ms   (median over the rounds)
#   BENCH correction_<clean|swap>_p50_delta_ms / _p99_delta_ms (on minus off)
# env: DATA (data directory), ROUNDS (default 2), DURATION_S (default 20), WARMUP_S (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
D="${DATA:-var/load1m}"
ROUNDS="${ROUNDS:-2}"
DURATION="${DURATION_S:-20}"
WARMUP="${WARMUP_S:-3}"
[ -f "$D/index/CURRENT" ] || { echo "no deployment in $D (make load builds var/load1m)" >&2; exit 2; }
OUT="$D/run/correction_latency"
rm -rf "$OUT"
mkdir -p "$OUT"
source tools/server_lib.sh
trap stop_server EXIT

echo "correction + calibration on vs off: $D, $ROUNDS rounds, $DURATION s per window, 1 client"
for round in $(seq 1 "$ROUNDS"); do
  for arm in on off; do
    flags=(--spelling_correction=true --relevance_calibration=true)
    [ "$arm" = off ] && flags=(--spelling_correction=false --relevance_calibration=false)
    start_server bazel-bin "$D" "$OUT/port" "$OUT/server_${round}_$arm.log" --log_impressions=false \
      "${flags[@]}"
    # The in-memory reader tokenises every listing on a background thread after the start
    # (--prepare_listing_tokens): let it finish so both arms meet the same server.
    for _ in $(seq 1 120); do
      grep -q 'server: tokenised .* listing records' "$OUT/server_${round}_$arm.log" && break
      sleep 1
    done
    for q in clean swap; do
      typo=()
      [ "$q" = swap ] && typo=(--typo_kind=swap)
      bazel-bin/bench/load_gen --target="127.0.0.1:$(cat "$OUT/port")" --in_flight=1 \
        --duration_s="$DURATION" --warmup_s="$WARMUP" --queries_file="$D/catalog/queries.tsv" \
        --server_pid="$SERVER_PID" --name="${q}_$arm" "${typo[@]}" > "$OUT/${round}_${arm}_$q.txt" 2>&1
      awk -v r="$round" -v a="$arm" -v q="$q" '$1 == "BENCH" && $2 ~ /_inflight1_p50_ms$/ { p50 = $3 }
        $1 == "BENCH" && $2 ~ /_inflight1_p99_ms$/ { p99 = $3 }
        /loadavg before/ { la = $3 " " $4 " " $5 }
        END { printf "  round %s  %-3s  %-5s  p50 %6.2f ms  p99 %6.2f ms  (load average %s)\n", r, a, q, p50, p99, la }' \
        "$OUT/${round}_${arm}_$q.txt" | tee -a "$OUT/windows.txt"
    done
    stop_server
  done
done
# Medians over the rounds (the middle value; the mean of the two middle ones for an even count).
awk '{ key = $4 "_" $3; p50[key] = p50[key] " " $6; p99[key] = p99[key] " " $9 }
  function med(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; ++i) for (j = i + 1; j <= n; ++j) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    split("clean swap", qs, " ")
    for (k = 1; k <= 2; ++k) {
      q = qs[k]
      on50 = med(p50[q "_on"]); off50 = med(p50[q "_off"]); on99 = med(p99[q "_on"]); off99 = med(p99[q "_off"])
      printf "BENCH correction_%s_on_p50_ms %.2f\nBENCH correction_%s_off_p50_ms %.2f\n", q, on50, q, off50
      printf "BENCH correction_%s_on_p99_ms %.2f\nBENCH correction_%s_off_p99_ms %.2f\n", q, on99, q, off99
      printf "BENCH correction_%s_p50_delta_ms %+.2f\nBENCH correction_%s_p99_delta_ms %+.2f\n", q, on50 - off50, q, on99 - off99
    }
  }' "$OUT/windows.txt"
