#include "features/featurizer.h"

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(Featurizer, Fnv1aGoldenValues) {
  // Reference values of 64-bit FNV-1a; changing them silently would invalidate every model.
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Featurizer, IdLayoutUnigramsBigramsTrigrams) {
  auto ids = TextFeatureIds("red sofa");
  // 2 words, 1 bigram, trigrams of "#red#" (3) and "#sofa#" (4).
  ASSERT_EQ(ids.size(), 2u + 1u + 7u);
  for (int i = 0; i < 2; ++i) EXPECT_LT(ids[i], kWordBuckets);
  EXPECT_GE(ids[2], kWordBuckets);
  EXPECT_LT(ids[2], kWordBuckets + kBigramBuckets);
  for (size_t i = 3; i < ids.size(); ++i) {
    EXPECT_GE(ids[i], kWordBuckets + kBigramBuckets);
    EXPECT_LT(ids[i], kTextVocabSize);
  }
}

TEST(Featurizer, GoldenIds) {
  // Pinned for featurizer version 1: a change here needs a kFeaturizerVersion bump.
  ASSERT_EQ(kFeaturizerVersion, 1u);
  auto ids = QueryFeatureIds("Sofa");
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(ids[0], static_cast<int64_t>(Fnv1a64("w:sofa") % kWordBuckets));
  EXPECT_EQ(ids[1], kWordBuckets + kBigramBuckets +
                        static_cast<int64_t>(Fnv1a64("c:#so") % kTrigramBuckets));
  EXPECT_EQ(QueryFeatureIds("SOFA!!"), ids);  // normalisation happens before hashing
}

TEST(Featurizer, MisspellingSharesTrigrams) {
  auto a = QueryFeatureIds("iphone");
  auto b = QueryFeatureIds("iphnoe");
  int shared = 0;
  for (int64_t x : a) shared += std::count(b.begin(), b.end(), x) > 0;
  EXPECT_GE(shared, 2);
  EXPECT_NE(a[0], b[0]);
}

TEST(Featurizer, DenseFeatures) {
  Listing l;
  l.set_price(99.0);
  l.set_condition(CONDITION_USED);
  l.set_seller_rating(4.5f);
  l.set_brand("ikea");
  l.add_attributes()->set_value("grey");
  auto d = ListingDenseFeatures(l);
  EXPECT_NEAR(d[0], std::log1p(99.0) / 10.0, 1e-6);
  EXPECT_EQ(d[3], 1.0f);
  EXPECT_EQ(d[1] + d[2] + d[4], 0.0f);
  EXPECT_NEAR(d[5], 0.9f, 1e-6);
  EXPECT_EQ(d[6], 1.0f);
  EXPECT_NEAR(d[7], 0.1f, 1e-6);
}

TEST(Featurizer, VersionCheckRefusesOtherVersions) {
  EXPECT_TRUE(CheckFeaturizerVersion(kFeaturizerVersion, "model x").ok());
  absl::Status s = CheckFeaturizerVersion(kFeaturizerVersion + 1, "model query_tower v3");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("query_tower v3"), std::string::npos);
}

}  // namespace
}  // namespace marketsearch
