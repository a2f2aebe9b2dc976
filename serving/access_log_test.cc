#include "serving/access_log.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::string Path(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/" + name;
}

TEST(AccessLog, WritesOneJsonLinePerSampledRequestWithoutBuyerText) {
  auto log = AccessLog::Open(Path("access.jsonl"), 1.0);
  ASSERT_TRUE(log.ok()) << log.status();
  SearchResponse resp;
  resp.set_request_id("00ab");
  resp.mutable_versions()->set_index(3);
  resp.mutable_versions()->set_ranker(5);
  resp.add_results()->set_title("secret buyer-visible \"title\"");
  SearchRequestStats stats;
  stats.stage_ms = {{"ann", 0.8125}, {"ranker", 0.2}};
  stats.results = 1;
  stats.fused_candidates = 312;
  stats.filtered = true;
  stats.match = "none";
  ASSERT_TRUE((*log)->Sampled());
  (*log)->Write(1796160000123, absl::OkStatus(), 4.21, resp, stats);
  (*log)->Write(1796160000124, absl::DeadlineExceededError("x"), 2000, resp, stats);
  EXPECT_EQ((*log)->written(), 2);
  std::ifstream in(Path("access.jsonl"));
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  EXPECT_EQ(first,
            "{\"ts_ms\":1796160000123,\"request_id\":\"00ab\",\"status\":\"OK\",\"ms\":4.210,"
            "\"results\":1,\"candidates\":312,\"filtered\":true,\"legs\":\"sequential\","
            "\"match\":\"none\","
            "\"stages\":{\"ann\":0.812,\"ranker\":0.200},"
            "\"versions\":{\"index\":3,\"query_tower\":0,\"lexical\":0,\"ranker\":5}}");
  EXPECT_NE(second.find("\"status\":\"DEADLINE_EXCEEDED\""), std::string::npos);
  EXPECT_EQ(first.find("secret"), std::string::npos);
}

TEST(AccessLog, SamplesAtTheConfiguredRate) {
  auto none = AccessLog::Open(Path("none.jsonl"), 0.0);
  ASSERT_TRUE(none.ok());
  auto tenth = AccessLog::Open(Path("tenth.jsonl"), 0.1);
  ASSERT_TRUE(tenth.ok());
  int n0 = 0, n10 = 0;
  for (int i = 0; i < 20000; ++i) {
    n0 += (*none)->Sampled();
    n10 += (*tenth)->Sampled();
  }
  EXPECT_EQ(n0, 0);
  EXPECT_NEAR(n10, 2000, 300);  // 0.1 of 20,000 (binomial sd ~42)
  EXPECT_EQ(AccessLog::Open(Path("bad.jsonl"), 1.5).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marketsearch
