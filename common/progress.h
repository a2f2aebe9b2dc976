// Progress line for long jobs: "<label> 120000/1000000 (12.0%)  45210/s  ETA 19s" on
// stderr, at most a few times per second. Thread-compatible.
#ifndef MARKETSEARCH_COMMON_PROGRESS_H_
#define MARKETSEARCH_COMMON_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace marketsearch {

class Progress {
 public:
  // total <= 0 means unknown (no percentage or ETA).
  Progress(std::string label, int64_t total);
  // Reports that `done` units are complete (monotone).
  void Update(int64_t done);
  // Prints the final line and returns the elapsed seconds.
  double Finish();
  double ElapsedSeconds() const;

 private:
  void Print(bool final);
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_PROGRESS_H_
