#include "ranking/ranking_pipeline.h"

#include <cmath>
#include <random>

#include "features/text_normalizer.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::vector<float> Unit(std::mt19937_64& rng) {
  std::normal_distribution<float> g;
  std::vector<float> v(kRankingEmbeddingDim);
  double s = 0;
  for (float& x : v) {
    x = g(rng);
    s += x * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(s));
  return v;
}

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

Listing MakeListing(uint64_t id, const std::string& title) {
  Listing l;
  l.set_listing_id(id);
  l.set_title(title);
  l.set_category("sofas");
  l.set_price(100);
  l.set_condition(CONDITION_USED);
  return l;
}

RankingInputs Inputs(const std::vector<std::vector<float>>& rows) {
  RankingInputs in;
  in.dim = kRankingEmbeddingDim;
  for (const std::vector<float>& r : rows) {
    const bool has = !r.empty();
    in.has_embedding.push_back(has ? 1 : 0);
    if (!has) ++in.not_in_index;
    for (int d = 0; d < kRankingEmbeddingDim; ++d) in.embeddings.push_back(has ? r[d] : 0.0f);
    in.counters.emplace_back();
  }
  return in;
}

std::vector<ListingRecord> Records(const std::vector<Listing>& listings) {
  std::vector<ListingRecord> out;
  for (const Listing& l : listings) out.push_back(std::make_shared<const Listing>(l));
  return out;
}

// The ranker's similarity features come from the embeddings the reader returned (the delta's
// fresh vector or the index's: index/listing_reader_test); a row without one is flagged.
TEST(MakeRankingBatch, AssemblesFeaturesFromTheReadInputs) {
  const std::vector<ListingRecord> listings = Records(
      {MakeListing(1, "grey sofa"), MakeListing(2, "red sofa"), MakeListing(3, "blue sofa")});
  std::mt19937_64 rng(7);
  const std::vector<float> v1 = Unit(rng), v2 = Unit(rng);
  const std::vector<float> q = Unit(rng);
  std::vector<Candidate> candidates(3);
  for (int i = 0; i < 3; ++i) candidates[i].listing_id = i + 1;
  const CatalogStats stats;
  constexpr int kSim = kRankRetrievalBegin + 0, kHas = kRankRetrievalBegin + 3;
  const RankingInputs inputs = Inputs({v1, v2, {}});

  auto b = MakeRankingBatch(stats, PrepareQuery("sofa"), q, candidates, listings, inputs);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->not_in_index, 1);
  EXPECT_NEAR(b->features.row(0)[kSim], Dot(q, v1), 1e-5);
  EXPECT_NEAR(b->features.row(1)[kSim], Dot(q, v2), 1e-5);
  EXPECT_EQ(b->features.row(0)[kHas], 1.0f);
  EXPECT_EQ(b->features.row(2)[kHas], 0.0f);

  // With the listings' tokens cached, ranking normalises nothing: the query comes parsed.
  ListingTokenCache cache;
  const QueryTerms terms = PrepareQuery("sofa");
  ASSERT_TRUE(MakeRankingBatch(stats, terms, q, candidates, listings, inputs, &cache).ok());
  const int64_t before = NormalizeTextCalls();
  ASSERT_TRUE(MakeRankingBatch(stats, terms, q, candidates, listings, inputs, &cache).ok());
  EXPECT_EQ(NormalizeTextCalls() - before, 0);
}

TEST(MakeRankingBatch, RefusesInputsThatDoNotMatch) {
  const std::vector<ListingRecord> listings =
      Records({MakeListing(1, "grey sofa"), MakeListing(2, "red sofa")});
  std::vector<Candidate> candidates(2);
  const std::vector<float> q(kRankingEmbeddingDim, 0.0f);
  const CatalogStats stats;
  const RankingInputs two = Inputs({q, q});
  EXPECT_EQ(MakeRankingBatch(stats, PrepareQuery("sofa"), q, candidates, {listings[0]}, two).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeRankingBatch(stats, PrepareQuery("sofa"), q, candidates, listings, Inputs({q})).status().code(),
            absl::StatusCode::kInvalidArgument);
  RankingInputs narrow = two;
  narrow.dim = 4;
  EXPECT_EQ(MakeRankingBatch(stats, PrepareQuery("sofa"), q, candidates, listings, narrow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marketsearch
