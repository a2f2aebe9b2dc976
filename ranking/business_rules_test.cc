#include "ranking/business_rules.h"

#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

constexpr int64_t kNow = 1790000000;
constexpr int64_t kDay = 86400;

RankedListing L(uint64_t id, uint64_t seller, float score, int64_t age_days = 30) {
  RankedListing r;
  r.listing_id = id;
  r.seller_id = seller;
  r.score = score;
  r.listed_at_unix = kNow - age_days * kDay;
  return r;
}

std::vector<uint64_t> Ids(const std::vector<RankedListing>& v) {
  std::vector<uint64_t> out;
  for (const auto& r : v) out.push_back(r.listing_id);
  return out;
}

TEST(BusinessRulesTest, DisabledRulesOnlySortByScore) {
  BusinessRulesOptions o;
  auto out = ApplyBusinessRules({L(1, 7, 0.5f), L(2, 7, 2.0f), L(3, 7, 1.0f), L(4, 7, 1.0f)}, o, kNow);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{2, 3, 4, 1}));  // tie 3/4 broken by id
  EXPECT_FLOAT_EQ(out[0].score, 2.0f);
}

TEST(BusinessRulesTest, EmptyInput) {
  BusinessRulesOptions o;
  o.diversity_top_n = 10;
  o.fresh_boost = 1;
  EXPECT_TRUE(ApplyBusinessRules({}, o, kNow).empty());
}

TEST(BusinessRulesTest, SellerCapWithinTopN) {
  BusinessRulesOptions o;
  o.diversity_top_n = 4;
  o.max_per_seller = 2;
  // Seller 1 owns the four best listings.
  std::vector<RankedListing> in = {L(1, 1, 10), L(2, 1, 9), L(3, 1, 8), L(4, 1, 7),
                                   L(5, 2, 6),  L(6, 3, 5), L(7, 2, 4)};
  auto out = ApplyBusinessRules(in, o, kNow);
  // Top 4: 1, 2 (seller 1 at cap), 5, 6; then the displaced 3, 4 and the rest, by score.
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{1, 2, 5, 6, 3, 4, 7}));
  ASSERT_EQ(out.size(), in.size());  // nothing dropped
}

TEST(BusinessRulesTest, CapRespectedForEveryPrefixSeller) {
  BusinessRulesOptions o;
  o.diversity_top_n = 10;
  o.max_per_seller = 2;
  std::vector<RankedListing> in;
  // Seller 1 owns every third listing (and the best one); the others cycle over 7 sellers.
  for (uint64_t i = 0; i < 40; ++i) in.push_back(L(i + 1, i % 3 == 0 ? 1 : 1 + i % 7, 100.0f - i));
  auto out = ApplyBusinessRules(in, o, kNow);
  std::map<uint64_t, int> count;
  for (int i = 0; i < 10; ++i) ++count[out[i].seller_id];
  for (const auto& [seller, c] : count) EXPECT_LE(c, 2) << "seller " << seller;
  EXPECT_EQ(out.size(), in.size());
}

TEST(BusinessRulesTest, TooFewSellersFillsFromDeferred) {
  BusinessRulesOptions o;
  o.diversity_top_n = 5;
  o.max_per_seller = 1;
  // Only two sellers: the page still has 5 results, sellers alternate where possible.
  auto out = ApplyBusinessRules({L(1, 1, 9), L(2, 1, 8), L(3, 1, 7), L(4, 2, 6), L(5, 1, 5),
                                 L(6, 1, 4)},
                                o, kNow);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{1, 4, 2, 3, 5, 6}));
}

TEST(BusinessRulesTest, UnknownSellerIsNeverCapped) {
  BusinessRulesOptions o;
  o.diversity_top_n = 3;
  o.max_per_seller = 1;
  auto out = ApplyBusinessRules({L(1, 0, 9), L(2, 0, 8), L(3, 0, 7), L(4, 5, 6)}, o, kNow);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(BusinessRulesTest, FreshBoostStep) {
  BusinessRulesOptions o;
  o.fresh_boost = 0.5;
  o.fresh_days = 3;
  // 2 is fresh (1 day old) and overtakes 1; 3 is 3 days old (not < 3) and gets nothing.
  auto out = ApplyBusinessRules({L(1, 1, 1.0f, 10), L(2, 2, 0.7f, 1), L(3, 3, 0.9f, 3)}, o, kNow);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{2, 1, 3}));
  EXPECT_FLOAT_EQ(out[0].score, 1.2f);
  EXPECT_FLOAT_EQ(out[2].score, 0.9f);
}

TEST(BusinessRulesTest, FreshBoostLinearDecayAndUnknownAge) {
  BusinessRulesOptions o;
  o.fresh_boost = 1.0;
  o.fresh_days = 4;
  o.fresh_linear_decay = true;
  RankedListing unknown = L(3, 3, 0.0f);
  unknown.listed_at_unix = 0;
  auto out = ApplyBusinessRules({L(1, 1, 0.0f, 1), L(2, 2, 0.0f, 0), unknown}, o, kNow);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{2, 1, 3}));
  EXPECT_FLOAT_EQ(out[0].score, 1.0f);   // age 0: full boost
  EXPECT_FLOAT_EQ(out[1].score, 0.75f);  // age 1 of 4 days
  EXPECT_FLOAT_EQ(out[2].score, 0.0f);   // unknown age: no boost
}

TEST(BusinessRulesTest, BoostThenDiversity) {
  BusinessRulesOptions o;
  o.fresh_boost = 5;
  o.fresh_days = 2;
  o.diversity_top_n = 2;
  o.max_per_seller = 1;
  // The fresh listing of seller 1 jumps to the top; seller 1's other listing is displaced.
  auto out = ApplyBusinessRules({L(1, 1, 3, 30), L(2, 1, 1, 0), L(3, 2, 2, 30)}, o, kNow);
  EXPECT_EQ(Ids(out), (std::vector<uint64_t>{2, 3, 1}));
}

TEST(BusinessRulesTest, Validation) {
  BusinessRulesOptions o;
  EXPECT_TRUE(ValidateBusinessRules(o).ok());
  o.max_per_seller = 0;
  auto s = ValidateBusinessRules(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("max_per_seller"), absl::string_view::npos);
  o = BusinessRulesOptions();
  o.fresh_boost = -1;
  EXPECT_NE(ValidateBusinessRules(o).message().find("fresh_boost"), absl::string_view::npos);
  o = BusinessRulesOptions();
  o.diversity_top_n = -3;
  EXPECT_NE(ValidateBusinessRules(o).message().find("diversity_top_n"), absl::string_view::npos);
}

}  // namespace
}  // namespace marketsearch
