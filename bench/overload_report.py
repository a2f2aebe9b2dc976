"""The report of bench/overload.sh: per-phase and per-second tables and BENCH overload_* lines
from load_gen's --timeline_file (one line per completed request: sent_s done_s grpc_code
latency_ms index lexical ranker, seconds from the start of the window), the server's sampled
resident memory and the versions published during the overload."""
import argparse
import math

RESOURCE_EXHAUSTED = 8


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))]


def summarize(rows):
    ok = sorted(r[3] for r in rows if r[2] == 0)
    shed = sum(1 for r in rows if r[2] == RESOURCE_EXHAUSTED)
    failed = sum(1 for r in rows if r[2] not in (0, RESOURCE_EXHAUSTED))
    return {"n": len(rows), "ok": len(ok), "shed": shed, "failed": failed,
            "p50": pct(ok, 0.5), "p99": pct(ok, 0.99), "max": ok[-1] if ok else float("nan")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeline", required=True)
    ap.add_argument("--rss", required=True)
    ap.add_argument("--t0", type=float, required=True)
    ap.add_argument("--swaps", required=True)
    ap.add_argument("--overload_s", type=float, required=True)
    ap.add_argument("--after_s", type=float, required=True)
    ap.add_argument("--unloaded_p99_ms", type=float, required=True)
    ap.add_argument("--saturation_qps", type=float, required=True)
    ap.add_argument("--offered_qps", type=float, required=True)
    ap.add_argument("--server_log", default="")
    a = ap.parse_args()

    rows = []
    with open(a.timeline) as f:
        for line in f:
            p = line.split()
            rows.append((float(p[0]), float(p[1]), int(p[2]), float(p[3]),
                         int(p[4]), int(p[5]), int(p[6])))
    over = [r for r in rows if r[0] < a.overload_s]
    after = [r for r in rows if a.overload_s <= r[0] < a.overload_s + a.after_s]
    limit = 2 * a.unloaded_p99_ms

    print("\n  phase        offered/s  requests     ok/s   shed%  failed   p50_ms   p99_ms   max_ms")
    for name, part, secs in (("overload", over, a.overload_s), ("after drop", after, a.after_s)):
        s = summarize(part)
        print("  %-10s %11.0f %9d %8.1f %7.1f %7d %8.2f %8.2f %8.2f" % (
            name, s["n"] / secs, s["n"], s["ok"] / secs, 100.0 * s["shed"] / max(1, s["n"]),
            s["failed"], s["p50"], s["p99"], s["max"]))

    # Per second, by send time: what a dashboard would show.
    print("\n  second   sent     ok   shed  failed   p99_ms")
    end = int(math.ceil(a.overload_s + a.after_s))
    for t in range(end):
        part = [r for r in rows if t <= r[0] < t + 1]
        s = summarize(part)
        mark = "  <- load drops" if t == int(a.overload_s) else ""
        print("  %6d %6d %6d %6d %7d %8.2f%s" % (t, s["n"], s["ok"], s["shed"], s["failed"], s["p99"], mark))

    # Recovery: from the drop to the end of the first half second in which every request was
    # answered OK (no shed, no failure) within 2x the unloaded p99.
    recovery = float("nan")
    t = a.overload_s
    while t < a.overload_s + a.after_s:
        part = [r for r in rows if t <= r[0] < t + 0.5]
        s = summarize(part)
        if s["n"] > 0 and s["ok"] == s["n"] and s["p99"] <= limit:
            recovery = t + 0.5 - a.overload_s
            break
        t += 0.5

    # Swaps: the first OK response (by completion) that carries the published version.
    column = {"index": 4, "lexical": 5, "models/ranker": 6}
    swaps = []
    with open(a.swaps) as f:
        for line in f:
            kind, v, at = line.split()
            # timeline times count from load_gen's start, published times from the script's
            # T0 taken just before it: the same origin within the process start (milliseconds).
            seen = [r[1] for r in rows if r[2] == 0 and r[column[kind]] >= int(v)]
            first = min(seen) if seen else float("nan")
            swaps.append((kind, int(v), float(at), first))
    print("\n  published          at_s  first_served_s  switch_s")
    for kind, v, at, first in swaps:
        print("  %-14s v%-3d %6.2f %15.2f %9.2f" % (kind, v, at, first, first - at))

    rss = []
    with open(a.rss) as f:
        for line in f:
            p = line.split()
            if len(p) == 2:
                rss.append((float(p[0]) - a.t0, int(p[1]) / 1024.0))
    before = rss[0][1] if rss else float("nan")
    during = max((m for t, m in rss if 0 <= t < a.overload_s), default=float("nan"))
    last = rss[-1][1] if rss else float("nan")
    print("\n  server RSS: %.0f MB at the start, max %.0f MB during the overload (each new version "
          "loaded beside the served one before the swap), %.0f MB at the end" % (before, during, last))

    # The overload outside and inside the publications: from a version's publication until a
    # second after it was first served, the server's load of it (checksums, deserialising)
    # takes CPU from the workers.
    windows = [(at, (first if not math.isnan(first) else a.overload_s) + 1.0)
               for _, _, at, first in swaps]
    in_swap = lambda r: any(lo <= r[0] < hi for lo, hi in windows)
    steady = summarize([r for r in over if not in_swap(r)])
    swapping = summarize([r for r in over if in_swap(r)])
    print("  accepted p99 under overload outside the publications %.2f ms (%.2fx, %d requests), "
          "while a version was loaded %.2f ms (%.2fx, %d requests)" % (
              steady["p99"], steady["p99"] / a.unloaded_p99_ms, steady["n"],
              swapping["p99"], swapping["p99"] / a.unloaded_p99_ms, swapping["n"]))

    s = summarize(over)
    total_failed = sum(1 for r in rows if r[2] not in (0, RESOURCE_EXHAUSTED))
    swaps_seen = sum(1 for _, _, _, first in swaps if not math.isnan(first))
    print("  accepted p99 under overload %.2f ms = %.2fx the unloaded p99 %.2f ms (goal <= 2x)" % (
        s["p99"], s["p99"] / a.unloaded_p99_ms, a.unloaded_p99_ms))
    print("  failed requests (not OK, not RESOURCE_EXHAUSTED) in the whole run: %d (goal 0)" % total_failed)
    bench = [
        ("overload_saturation_qps", a.saturation_qps, "%.1f"),
        ("overload_offered_qps", a.offered_qps, "%.0f"),
        ("overload_ok_qps", s["ok"] / a.overload_s, "%.1f"),
        ("overload_shed_share", s["shed"] / max(1, s["n"]), "%.3f"),
        ("overload_failed_requests", total_failed, "%d"),
        ("overload_p99_ok_ms", s["p99"], "%.2f"),
        ("overload_unloaded_p99_ms", a.unloaded_p99_ms, "%.2f"),
        ("overload_p99_ratio_vs_unloaded", s["p99"] / a.unloaded_p99_ms, "%.2f"),
        ("overload_p99_ok_outside_swaps_ms", steady["p99"], "%.2f"),
        ("overload_p99_ratio_outside_swaps", steady["p99"] / a.unloaded_p99_ms, "%.2f"),
        ("overload_p99_ok_during_swaps_ms", swapping["p99"], "%.2f"),
        ("overload_rss_start_mb", before, "%.0f"),
        ("overload_rss_max_mb", during, "%.0f"),
        ("overload_rss_end_mb", last, "%.0f"),
        ("overload_recovery_s", recovery, "%.1f"),
        ("overload_swaps_served", swaps_seen, "%d"),
    ]
    for name, value, fmt in bench:
        print(("BENCH %s " + fmt) % (name, value))


if __name__ == "__main__":
    main()
