// Elapsed-time helpers on the monotonic clock (std::chrono::steady_clock), shared by the
// request path, the jobs and the benchmarks so every reported duration is measured the same
// way. (Wall-clock timestamps that are stored are NowUnixMs, common/clock.h.)
//
// StageTimer is the one mechanism by which a request's stages are timed: each stage records
// its duration under its name, and the resulting map (stage -> milliseconds) is what the
// debug output shows today and what the metrics issue will export.
#ifndef MARKETSEARCH_COMMON_TIMING_H_
#define MARKETSEARCH_COMMON_TIMING_H_

#include <chrono>
#include <map>
#include <string>

namespace marketsearch {

using SteadyTime = std::chrono::steady_clock::time_point;

// Milliseconds elapsed since `t`.
inline double MsSince(SteadyTime t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// Seconds elapsed since `t`.
inline double SecondsSince(SteadyTime t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Named stage durations in milliseconds. Stages may nest or overlap (a "total" around the
// others); a stage recorded twice accumulates. Not thread-safe: one timer per request (or per
// thread), merged by the caller.
class StageTimer {
 public:
  StageTimer() : start_(std::chrono::steady_clock::now()), lap_(start_) {}

  // Records the time since `since` under `stage`; returns it (ms).
  double Record(const std::string& stage, SteadyTime since) {
    const double ms = MsSince(since);
    stages_ms_[stage] += ms;
    return ms;
  }
  // Records the time since the previous Lap (or the timer's start) under `stage` and starts the
  // next lap; returns it (ms). For stages that run one after the other.
  double Lap(const std::string& stage) {
    const SteadyTime now = std::chrono::steady_clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - lap_).count();
    lap_ = now;
    stages_ms_[stage] += ms;
    return ms;
  }
  // Adds a duration measured elsewhere (e.g. by a callee that reports its own stage).
  void Add(const std::string& stage, double ms) { stages_ms_[stage] += ms; }

  // Milliseconds since the timer was created.
  double ElapsedMs() const { return MsSince(start_); }
  SteadyTime start() const { return start_; }
  const std::map<std::string, double>& stages_ms() const { return stages_ms_; }

 private:
  SteadyTime start_;
  SteadyTime lap_;
  std::map<std::string, double> stages_ms_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_TIMING_H_
