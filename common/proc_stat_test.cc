#include "common/proc_stat.h"

#include <unistd.h>

#include <chrono>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(ProcStat, OwnCpuTimeGrowsWhileBusy) {
  ASSERT_TRUE(ProcessAlive(getpid()));
  const std::optional<double> before = ProcessCpuSeconds(getpid());
  ASSERT_TRUE(before.has_value());
  volatile double x = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < end) x = x + 1;
  const std::optional<double> after = ProcessCpuSeconds(getpid());
  ASSERT_TRUE(after.has_value());
  EXPECT_GT(*after, *before);
}

TEST(ProcStat, NoSuchProcess) {
  EXPECT_FALSE(ProcessCpuSeconds(999999999).has_value());
  EXPECT_FALSE(ProcessAlive(999999999));
}

}  // namespace
}  // namespace marketsearch
