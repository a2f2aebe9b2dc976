// Wall-clock time as the project records it (write logs, store snapshots, delta entries).
#ifndef MARKETSEARCH_COMMON_CLOCK_H_
#define MARKETSEARCH_COMMON_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace marketsearch {

// Milliseconds since the Unix epoch (system clock).
inline int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_CLOCK_H_
