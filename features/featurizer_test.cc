#include "features/featurizer.h"

#include <algorithm>
#include <cmath>

#include "features/text_normalizer.h"
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
  // Pinned since featurizer version 1: a change here needs a kFeaturizerVersion bump.
  ASSERT_EQ(kFeaturizerVersion, 2u);
  auto ids = QueryFeatureIds("Sofa");
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(ids[0], static_cast<int64_t>(Fnv1a64("w:sofa") % kWordBuckets));
  EXPECT_EQ(ids[1], kWordBuckets + kBigramBuckets +
                        static_cast<int64_t>(Fnv1a64("c:#so") % kTrigramBuckets));
  EXPECT_EQ(QueryFeatureIds("SOFA!!"), ids);  // normalisation happens before hashing
}

// Pair-feature trigrams are hashes of three code points with '#' at both ends of each token,
// whether the token is ASCII (one byte per code point, a fast path) or not.
TEST(Featurizer, QueryTrigramsAreCodePointTriples) {
  auto sorted = [](std::vector<uint64_t> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  EXPECT_EQ(PrepareQuery("Red sofa").trigrams,
            sorted({Fnv1a64("#re"), Fnv1a64("red"), Fnv1a64("ed#"), Fnv1a64("#so"),
                    Fnv1a64("sof"), Fnv1a64("ofa"), Fnv1a64("fa#")}));
  // NormalizeText strips the accent; a token it keeps non-ASCII (Greek) takes the other path.
  EXPECT_EQ(PrepareQuery("\u03b1\u03b2").trigrams,
            sorted({Fnv1a64("#\u03b1\u03b2"), Fnv1a64("\u03b1\u03b2#")}));
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
  l.set_category("sofas");
  l.set_condition(CONDITION_USED);
  l.set_seller_rating(4.5f);
  l.set_brand("ikea");
  l.add_attributes()->set_value("grey");
  l.set_listed_at_unix(1790000000 - 45 * 86400);
  CatalogStats stats;
  (*stats.mutable_category_median_price())["sofas"] = 198.0;
  stats.set_reference_unix(1790000000);
  auto d = ListingDenseFeatures(l, stats);
  EXPECT_NEAR(d[0], std::log1p(99.0) / 10.0, 1e-6);
  EXPECT_NEAR(d[1], std::log(0.5), 1e-6);  // half the category median
  EXPECT_EQ(d[4], 1.0f);
  EXPECT_EQ(d[2] + d[3] + d[5], 0.0f);
  EXPECT_NEAR(d[6], 0.9f, 1e-6);
  EXPECT_EQ(d[7], 1.0f);
  EXPECT_NEAR(d[8], 0.1f, 1e-6);
  EXPECT_NEAR(d[9], 0.5f, 1e-6);  // 45 days old
  // Unknown category: no relative price.
  l.set_category("bikes");
  EXPECT_EQ(ListingDenseFeatures(l, stats)[1], 0.0f);
}

TEST(Featurizer, PairFeatures) {
  Listing l;
  l.set_title("IKEA Kivik sofa, grey");
  l.set_brand("ikea");
  l.set_category("sofas");
  l.set_price(200);
  l.mutable_location()->set_lat(52.52);
  l.mutable_location()->set_lon(13.405);
  auto* a = l.add_attributes();
  a->set_name("colour");
  a->set_value("grey");
  QueryTerms q = PrepareQuery("grey Sofa ikea");
  auto f = PairFeatures(q, l, nullptr);
  EXPECT_FLOAT_EQ(f[0], 1.0f);
  EXPECT_FLOAT_EQ(f[1], 1.0f);
  EXPECT_FLOAT_EQ(f[2], 1.0f);
  EXPECT_FLOAT_EQ(f[3], 1.0f);
  EXPECT_FLOAT_EQ(f[4], 0.5f);  // 1 of 1 attribute named, / (1 + 1)
  EXPECT_FLOAT_EQ(f[5], 0.3f);
  EXPECT_FLOAT_EQ(f[9], 0.0f);  // anonymous

  QueryTerms other = PrepareQuery("red couch");
  auto g = PairFeatures(other, l, nullptr);
  EXPECT_FLOAT_EQ(g[0], 0.0f);
  EXPECT_FLOAT_EQ(g[3], 0.0f);
  EXPECT_LT(g[7], f[7]);
  // A misspelling keeps trigram overlap.
  EXPECT_GT(PairFeatures(PrepareQuery("sofaa"), l, nullptr)[7], 0.1f);

  User u;
  u.mutable_location()->set_lat(48.8566);  // Paris, ~878 km away
  u.mutable_location()->set_lon(2.3522);
  u.add_preferred_categories("sofas");
  u.set_typical_price(100);
  auto h = PairFeatures(q, l, &u);
  EXPECT_NEAR(h[8], std::log1p(878.0) / 10.0, 0.01);
  EXPECT_EQ(h[9], 1.0f);
  EXPECT_EQ(h[10], 1.0f);
  EXPECT_NEAR(h[11], std::log(2.0), 1e-6);

  // The prepared-listing overload (what the ranker's token cache uses) gives the same features.
  const PairListingTerms prepared = PreparePairListing(l);
  for (const QueryTerms& query : {q, other, PrepareQuery("sofaa"), PrepareQuery("")}) {
    for (const User* user : {static_cast<const User*>(nullptr), static_cast<const User*>(&u)}) {
      EXPECT_EQ(PairFeatures(query, prepared, l, user), PairFeatures(query, l, user));
    }
  }
}

TEST(Featurizer, VersionCheckRefusesOtherVersions) {
  EXPECT_TRUE(CheckFeaturizerVersion(kFeaturizerVersion, "model x").ok());
  absl::Status s = CheckFeaturizerVersion(kFeaturizerVersion + 1, "model query_tower v3");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("query_tower v3"), std::string::npos);
}

// The request path parses its query once: one normalisation, and every field the stages read
// (the query tower's ids, the pair-feature terms) equal to what the separate functions give.
TEST(ParseQuery, NormalisesOnceAndMatchesTheSeparateFunctions) {
  const int64_t before = NormalizeTextCalls();
  const ParsedQuery q = ParseQuery("Used iPhone 12, 128GB!");
  EXPECT_EQ(NormalizeTextCalls() - before, 1);
  EXPECT_EQ(q.raw, "Used iPhone 12, 128GB!");
  EXPECT_EQ(q.normalized, "used iphone 12 128gb");
  EXPECT_EQ(q.feature_ids, QueryFeatureIds(q.raw));
  const QueryTerms t = PrepareQuery(q.raw);
  EXPECT_EQ(q.terms.tokens, t.tokens);
  EXPECT_EQ(q.terms.trigrams, t.trigrams);
  EXPECT_TRUE(ParseQuery("!!! ???").normalized.empty());
}

}  // namespace
}  // namespace marketsearch
