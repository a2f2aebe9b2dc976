#include "experiments/attribution_token.h"

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(AttributionTokenTest, RoundTripsWithOrWithoutASignature) {
  SearchResponse page;
  ServedArm* a = page.add_arms();
  a->set_layer("ranking");
  a->set_experiment("ranker-vs-fused");
  a->set_arm("ranker");
  ServedArm* b = page.add_arms();
  b->set_layer("retrieval");
  b->set_experiment("fusion");
  b->set_arm("control");
  b->set_forced(true);
  const std::string payload = EncodeAttributionPayload("abc123", page.arms());
  for (const std::string& token : {payload, payload + ".deadbeef"}) {
    auto decoded = DecodeAttributionPayload(token);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->request_id, "abc123");
    ASSERT_EQ(decoded->arms.size(), 2u);
    EXPECT_EQ(decoded->arms[0].experiment(), "ranker-vs-fused");
    EXPECT_EQ(decoded->arms[0].arm(), "ranker");
    EXPECT_FALSE(decoded->arms[0].forced());
    EXPECT_TRUE(decoded->arms[1].forced());
  }
  EXPECT_TRUE(DecodeAttributionPayload(EncodeAttributionPayload("r", SearchResponse().arms())).ok());
}

TEST(AttributionTokenTest, MalformedTokensAreInvalidArgumentNamingTheField) {
  for (const std::string& bad : {std::string("***"), std::string("djJ8"),  // "v2|"
                                 std::string("djF8cnxhL2I=")}) {  // "v1|r|a/b": 2 parts
    auto decoded = DecodeAttributionPayload(bad);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(decoded.status().message().substr(0, 17), "attribution_token") << bad;
  }
}

}  // namespace
}  // namespace marketsearch
