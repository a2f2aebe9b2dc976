#include "common/timing.h"

#include <chrono>
#include <thread>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(Timing, SinceIsNonNegativeAndConsistent) {
  const SteadyTime t = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const double s = SecondsSince(t);
  const double ms = MsSince(t);
  EXPECT_GE(s, 0.002);
  EXPECT_GE(ms, 2.0);
}

TEST(StageTimer, RecordsLapsAddsAndAccumulates) {
  StageTimer timer;
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double a = timer.Lap("a");
  const SteadyTime t = std::chrono::steady_clock::now();
  const double b = timer.Lap("b");
  timer.Record("since_t", t);
  timer.Add("a", 5.0);
  EXPECT_GE(a, 1.0);
  EXPECT_GE(b, 0.0);
  ASSERT_EQ(timer.stages_ms().size(), 3u);
  EXPECT_DOUBLE_EQ(timer.stages_ms().at("a"), a + 5.0);
  EXPECT_DOUBLE_EQ(timer.stages_ms().at("b"), b);
  EXPECT_GE(timer.stages_ms().at("since_t"), 0.0);
  EXPECT_GE(timer.ElapsedMs(), a + b);
}

}  // namespace
}  // namespace marketsearch
