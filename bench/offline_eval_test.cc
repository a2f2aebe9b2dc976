#include "bench/offline_eval.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

Candidate Hit(uint64_t id, int32_t ann_rank, int32_t lexical_rank) {
  Candidate c;
  c.listing_id = id;
  c.ann_rank = ann_rank;
  c.lexical_rank = lexical_rank;
  return c;
}

// Each leg's own order, from the fused list's per-source ranks; candidates the leg did not
// retrieve are left out.
TEST(LegOrder, EachLegInItsOwnOrder) {
  const std::vector<Candidate> fused = {Hit(7, 2, 0), Hit(3, 0, 1), Hit(9, 1, 3), Hit(4, 3, 2)};
  EXPECT_EQ(LegOrder(fused, /*ann=*/true), (std::vector<uint64_t>{9, 7, 4}));
  EXPECT_EQ(LegOrder(fused, /*ann=*/false), (std::vector<uint64_t>{3, 4, 9}));
  EXPECT_TRUE(LegOrder({}, true).empty());
}

TEST(LoadOfflineEval, AMissingDataDirectoryIsAnError) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/no_such_data";
  auto e = LoadOfflineEval(dir, "test", "", 0);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(std::string(e.status().message()).find("no_such_data"), std::string::npos)
      << e.status();
}

}  // namespace
}  // namespace marketsearch
