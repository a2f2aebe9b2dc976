#include "ranking/ranking_pipeline.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>

#include <cmath>
#include <cstdlib>
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

// The ranker's similarity features of a listing written after the index build come from the
// delta's fresh vector (not 0 for a new listing, not the stale vector of an updated one).
TEST(MakeRankingBatch, FreshListingsTakeTheirEmbeddingFromTheDelta) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  FeatureStore::Options so;
  so.path = std::string(tmp ? tmp : "/tmp") + "/ranking_pipeline_store";
  auto store = FeatureStore::Open(so);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<Listing> listings = {MakeListing(1, "grey sofa"), MakeListing(2, "red sofa"),
                                         MakeListing(3, "blue sofa")};
  ASSERT_TRUE((*store)->PutListings(listings).ok());

  std::mt19937_64 rng(7);
  const std::vector<float> v1 = Unit(rng), v2_old = Unit(rng), v2_new = Unit(rng), v3 = Unit(rng);
  const std::vector<float> q = Unit(rng);
  // The built index holds listings 1 and 2 (2 with its old vector); 3 came later.
  auto flat = std::make_unique<faiss::IndexIDMap2>(
      new faiss::IndexFlatIP(kRankingEmbeddingDim));
  flat->own_fields = true;
  std::vector<float> base = v1;
  base.insert(base.end(), v2_old.begin(), v2_old.end());
  const std::vector<faiss::Index::idx_t> ids = {1, 2};
  flat->add_with_ids(2, base.data(), ids.data());
  IndexManifest m;
  m.set_version(1);
  m.set_dim(kRankingEmbeddingDim);
  m.set_factory("Flat");
  auto snap = IndexSnapshot::Create(std::move(flat), m, nullptr);
  ASSERT_TRUE(snap.ok()) << snap.status();

  DeltaIndex delta(kRankingEmbeddingDim);
  ListingAttributes attrs;
  ASSERT_TRUE(delta.Upsert(2, v2_new, attrs, 1000).ok());
  ASSERT_TRUE(delta.Upsert(3, v3, attrs, 1000).ok());

  std::vector<Candidate> candidates(3);
  for (int i = 0; i < 3; ++i) candidates[i].listing_id = i + 1;
  const CatalogStats stats;
  constexpr int kSim = kRankRetrievalBegin + 0, kHas = kRankRetrievalBegin + 3;

  auto with = MakeRankingBatch(**store, **snap, stats, PrepareQuery("sofa"), q, candidates, listings, nullptr,
                               nullptr, &delta);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->not_in_index, 0);
  EXPECT_NEAR(with->features.row(0)[kSim], Dot(q, v1), 1e-5);
  EXPECT_NEAR(with->features.row(1)[kSim], Dot(q, v2_new), 1e-5);
  EXPECT_NEAR(with->features.row(2)[kSim], Dot(q, v3), 1e-5);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(with->features.row(i)[kHas], 1.0f);

  // Without the delta: the stale vector for 2 and no embedding for 3.
  auto without = MakeRankingBatch(**store, **snap, stats, PrepareQuery("sofa"), q, candidates, listings, nullptr);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ(without->not_in_index, 1);
  EXPECT_NEAR(without->features.row(1)[kSim], Dot(q, v2_old), 1e-5);
  EXPECT_EQ(without->features.row(2)[kHas], 0.0f);

  // With the listings' tokens cached, ranking normalises nothing: the query comes parsed.
  ListingTokenCache cache;
  const QueryTerms terms = PrepareQuery("sofa");
  ASSERT_TRUE(MakeRankingBatch(**store, **snap, stats, terms, q, candidates, listings, nullptr, &cache).ok());
  const int64_t before = NormalizeTextCalls();
  ASSERT_TRUE(MakeRankingBatch(**store, **snap, stats, terms, q, candidates, listings, nullptr, &cache).ok());
  EXPECT_EQ(NormalizeTextCalls() - before, 0);

  // Mismatched inputs are refused.
  EXPECT_EQ(MakeRankingBatch(**store, **snap, stats, PrepareQuery("sofa"), q, candidates, {listings[0]}, nullptr)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marketsearch
