#include "serving/version_pool.h"

#include <string>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(VersionPoolTest, LoadsOnceRetainsAndReleases) {
  int loads = 0;
  VersionPool<std::string> pool([&loads](int64_t v) -> absl::StatusOr<std::shared_ptr<const std::string>> {
    ++loads;
    if (v == 13) return absl::NotFoundError("no version 13");
    return std::make_shared<const std::string>("v" + std::to_string(v));
  });
  EXPECT_TRUE(pool.Load(3).ok());
  EXPECT_TRUE(pool.Load(3).ok());  // held: not loaded again
  EXPECT_EQ(loads, 1);
  EXPECT_TRUE(pool.Load(4).ok());
  const absl::Status bad = pool.Load(13);
  EXPECT_EQ(bad.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(pool.Get(13), nullptr);
  ASSERT_NE(pool.Get(3), nullptr);
  EXPECT_EQ(*pool.Get(3), "v3");
  // A request keeps what it got when the pool drops it.
  std::shared_ptr<const std::string> in_use = pool.Get(3);
  EXPECT_EQ(pool.Retain({4}), 1);
  EXPECT_EQ(pool.Get(3), nullptr);
  EXPECT_EQ(*in_use, "v3");
  EXPECT_EQ(pool.held(), (std::vector<int64_t>{4}));
  EXPECT_EQ(pool.Retain({}), 1);
  EXPECT_TRUE(pool.held().empty());
}

}  // namespace
}  // namespace marketsearch
