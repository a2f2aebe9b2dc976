#include "ranking/ranking_features.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

Listing MakeListing(uint64_t id, const std::string& title, const std::string& brand, double price) {
  Listing l;
  l.set_listing_id(id);
  l.set_title(title);
  l.set_brand(brand);
  l.set_category("phones");
  l.set_price(price);
  l.set_condition(CONDITION_USED);
  l.set_seller_rating(4.5f);
  l.set_listed_at_unix(1790000000 - 10 * 86400);
  auto* a = l.add_attributes();
  a->set_name("storage");
  a->set_value("128gb");
  l.mutable_location()->set_lat(52.52);
  l.mutable_location()->set_lon(13.40);
  return l;
}

// A unit vector with weight on two coordinates.
std::vector<float> Vec(int a, int b, float wa) {
  std::vector<float> v(kRankingEmbeddingDim, 0.0f);
  v[a] = wa;
  v[b] = std::sqrt(1 - wa * wa);
  return v;
}

struct Request {
  QueryTerms terms = PrepareQuery("apple iphone 12 128gb");
  std::vector<float> q = Vec(0, 1, 0.8f);
  std::vector<Candidate> cands;
  std::vector<Listing> listings;
  std::vector<const Listing*> listing_ptrs;  // into `listings` (its size never changes)
  std::vector<float> emb;
  std::vector<uint8_t> has;
  std::vector<ListingCounters> counters;
  User user;
  CatalogStats stats;

  Request(const Request&) = delete;  // listing_ptrs point into this object
  Request() {
    // 0: both legs; 1: ANN only; 2: BM25 only (still has a stored embedding); 3: BM25 only,
    // not in the index.
    cands.resize(4);
    cands[0] = {11, 0.9f, 1, 12.0f, 2, 0.03f};
    cands[1] = {12, 0.7f, 2, 0.0f, 0, 0.016f};
    cands[2] = {13, 0.0f, 0, 24.0f, 1, 0.016f};
    cands[3] = {14, 0.0f, 0, 6.0f, 3, 0.015f};
    listings = {MakeListing(11, "Apple iPhone 12 128GB", "apple", 400),
                MakeListing(12, "iphone 11 case", "", 10),
                MakeListing(13, "Samsung galaxy s21", "samsung", 350),
                MakeListing(14, "apple charger", "apple", 15)};
    for (const Listing& l : listings) listing_ptrs.push_back(&l);
    for (const auto& v : {Vec(0, 1, 0.8f), Vec(0, 2, 0.6f), Vec(1, 3, 0.5f), Vec(0, 1, 0.0f)}) {
      emb.insert(emb.end(), v.begin(), v.end());
    }
    has = {1, 1, 1, 0};
    counters.resize(4);
    counters[0].set_impressions(100);
    counters[0].set_clicks(9);
    counters[0].set_purchases(2);
    user.mutable_location()->set_lat(52.5);
    user.mutable_location()->set_lon(13.4);
    user.add_preferred_categories("phones");
    user.set_typical_price(300);
    (*stats.mutable_category_median_price())["phones"] = 300;
    stats.set_reference_unix(1790000000);
  }

  RankingFeatureInputs Inputs() const {
    RankingFeatureInputs in;
    in.query = &terms;
    in.query_embedding = q;
    in.candidates = cands;
    in.listings = listing_ptrs;
    in.listing_embeddings = emb;
    in.has_embedding = has;
    in.counters = counters;
    in.user = &user;
    in.stats = &stats;
    return in;
  }
};

float Dot(const std::vector<float>& a, const float* b) {
  float s = 0;
  for (int d = 0; d < kRankingEmbeddingDim; ++d) s += a[d] * b[d];
  return s;
}

TEST(RankingFeaturesTest, LayoutConstants) {
  EXPECT_EQ(kRankDenseBegin, 12);
  EXPECT_EQ(kRankRetrievalBegin, 22);
  EXPECT_EQ(kRankCounterBegin, 35);
  EXPECT_EQ(kRankLexicalBegin, 40);
  EXPECT_EQ(kRankCorrectedBegin, 49);
  EXPECT_EQ(kRankProductBegin, 53);
  EXPECT_EQ(kRankingFeatureDim, 117);
}

// Columns 49-52: the pair features of the corrected query when there is one, else the raw
// query's; the raw columns never change.
TEST(RankingFeaturesTest, CorrectedQueryColumns) {
  Request r;
  const QueryTerms typo = PrepareQuery("apple ihpone 12 128gb");
  const QueryTerms fixed = PrepareQuery("apple iphone 12 128gb");
  RankingFeatureInputs in = r.Inputs();
  in.query = &typo;
  auto plain = AssembleRankingFeatures(in);
  in.corrected_query = &fixed;
  auto corrected = AssembleRankingFeatures(in);
  ASSERT_TRUE(plain.ok() && corrected.ok());
  const int pair_cols[] = {0, 1, 2, 7};
  for (int i = 0; i < 4; ++i) {
    const auto raw = PairFeatures(typo, r.listings[i], &r.user);
    const auto good = PairFeatures(fixed, r.listings[i], &r.user);
    for (int k = 0; k < kRankCorrectedDim; ++k) {
      EXPECT_EQ(plain->row(i)[kRankCorrectedBegin + k], raw[pair_cols[k]]) << i << "," << k;
      EXPECT_EQ(corrected->row(i)[kRankCorrectedBegin + k], good[pair_cols[k]]) << i << "," << k;
    }
    for (int c = 0; c < kRankCorrectedBegin; ++c) {
      EXPECT_EQ(plain->row(i)[c], corrected->row(i)[c]) << i << "," << c;  // raw columns kept
    }
  }
  // The typo costs the iPhone listing title coverage; the corrected columns get it back.
  EXPECT_LT(plain->row(0)[kRankCorrectedBegin + 1], 1.0f);
  EXPECT_FLOAT_EQ(corrected->row(0)[kRankCorrectedBegin + 1], 1.0f);
  // A corrected query whose hashes do not match its tokens is refused, naming the field.
  QueryTerms broken = fixed;
  broken.token_hashes.pop_back();
  in.corrected_query = &broken;
  auto bad = AssembleRankingFeatures(in);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("corrected_query"), std::string::npos);
}

TEST(RankingFeaturesTest, EveryBlock) {
  Request r;
  auto m = AssembleRankingFeatures(r.Inputs());
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->rows, 4);
  ASSERT_EQ(m->cols, kRankingFeatureDim);
  for (int i = 0; i < 4; ++i) {
    const float* row = m->row(i);
    const auto pair = PairFeatures(r.terms, r.listings[i], &r.user);
    for (int c = 0; c < kPairDim; ++c) EXPECT_EQ(row[c], pair[c]) << i << "," << c;
    const auto dense = ListingDenseFeatures(r.listings[i], r.stats);
    for (int c = 0; c < kListingDenseDim; ++c) EXPECT_EQ(row[kRankDenseBegin + c], dense[c]);
  }
  // Similarities: q = (0.8, 0.6, 0...).
  const float s0 = Dot(r.q, r.emb.data());
  const float s1 = Dot(r.q, r.emb.data() + kRankingEmbeddingDim);
  const float s2 = Dot(r.q, r.emb.data() + 2 * kRankingEmbeddingDim);
  EXPECT_NEAR(s0, 0.64f + 0.36f, 1e-6);
  const int R = kRankRetrievalBegin;
  EXPECT_FLOAT_EQ(m->row(0)[R + 0], s0);
  EXPECT_FLOAT_EQ(m->row(1)[R + 0], s1);
  EXPECT_FLOAT_EQ(m->row(2)[R + 0], s2);  // lexical-only candidate still gets q.l
  EXPECT_FLOAT_EQ(m->row(3)[R + 0], 0.0f);  // no stored embedding
  EXPECT_FLOAT_EQ(m->row(0)[R + 1], 0.0f);  // the best similarity
  EXPECT_FLOAT_EQ(m->row(1)[R + 1], s1 - s0);
  // Similarity ranks: s0 (1.0) > s1 (0.48) > s2 (0.6*... = 0.4) ; candidate 3 has none.
  EXPECT_FLOAT_EQ(m->row(0)[R + 2], 1.0f);
  EXPECT_FLOAT_EQ(m->row(1)[R + 2], 1.0f / (s1 > s2 ? 2 : 3));
  EXPECT_FLOAT_EQ(m->row(3)[R + 2], 0.0f);
  EXPECT_FLOAT_EQ(m->row(2)[R + 3], 1.0f);
  EXPECT_FLOAT_EQ(m->row(3)[R + 3], 0.0f);
  // Per-source presence and reciprocal ranks.
  EXPECT_FLOAT_EQ(m->row(0)[R + 4], 1.0f);
  EXPECT_FLOAT_EQ(m->row(1)[R + 5], 0.5f);
  EXPECT_FLOAT_EQ(m->row(2)[R + 4], 0.0f);
  EXPECT_FLOAT_EQ(m->row(2)[R + 5], 0.0f);
  EXPECT_FLOAT_EQ(m->row(0)[R + 6], 1.0f);
  EXPECT_FLOAT_EQ(m->row(0)[R + 7], 0.5f);
  EXPECT_FLOAT_EQ(m->row(1)[R + 6], 0.0f);
  // BM25 normalised by the request's max (24).
  EXPECT_FLOAT_EQ(m->row(0)[R + 8], 0.5f);
  EXPECT_FLOAT_EQ(m->row(2)[R + 8], 1.0f);
  EXPECT_FLOAT_EQ(m->row(1)[R + 8], 0.0f);
  EXPECT_FLOAT_EQ(m->row(3)[R + 9], std::log1p(6.0f));
  EXPECT_FLOAT_EQ(m->row(0)[R + 10], 3.0f);  // fused x 100
  EXPECT_FLOAT_EQ(m->row(3)[R + 11], 0.25f);  // 1 / position
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(m->row(i)[R + 12], 0.75f);  // 3 of 4 lexical
  // Counters.
  const int K = kRankCounterBegin;
  EXPECT_FLOAT_EQ(m->row(0)[K + 0], std::log1p(100.0f));
  EXPECT_FLOAT_EQ(m->row(0)[K + 1], std::log1p(9.0f));
  EXPECT_FLOAT_EQ(m->row(0)[K + 2], std::log1p(2.0f));
  EXPECT_FLOAT_EQ(m->row(0)[K + 3], 10.0f / 120.0f);
  EXPECT_FLOAT_EQ(m->row(0)[K + 4], 2.1f / 11.0f);
  EXPECT_FLOAT_EQ(m->row(1)[K + 3], 1.0f / 20.0f);  // no engagement: the prior
  // q (.) l, whose sum is the similarity.
  for (int i = 0; i < 4; ++i) {
    float sum = 0;
    for (int d = 0; d < kRankingEmbeddingDim; ++d) {
      const float want = r.has[i] ? r.q[d] * r.emb[i * kRankingEmbeddingDim + d] : 0.0f;
      EXPECT_FLOAT_EQ(m->row(i)[kRankProductBegin + d], want);
      sum += m->row(i)[kRankProductBegin + d];
    }
    EXPECT_NEAR(sum, m->row(i)[R], 1e-6);
  }
}

TEST(RankingFeaturesTest, MoreLexicalFeatures) {
  Request r;
  // Misspelled brand, a number, a word only in the description, a condition.
  r.terms = PrepareQuery("aple iphone 12 scratches used");
  r.listings[0].set_description("Selling my phone. A few scratches. Details: storage 128gb.");
  r.listings[0].set_condition(CONDITION_LIKE_NEW);
  r.listings[1].set_condition(CONDITION_NEW);
  auto m = AssembleRankingFeatures(r.Inputs());
  ASSERT_TRUE(m.ok()) << m.status();
  const float* x = m->row(0) + kRankLexicalBegin;
  // Query tokens: aple iphone 12 scratches used (5).
  EXPECT_FLOAT_EQ(x[0], 1.0f / 5);  // "scratches" in the description
  EXPECT_FLOAT_EQ(x[1], 3.0f / 5);  // iphone, 12, scratches
  // Title "Apple iPhone 12 128GB": iphone and 12 of 4 tokens are in the query.
  EXPECT_FLOAT_EQ(x[2], 2.0f / 4);
  // Fuzzy over title/brand/category/attributes: aple~apple, iphone, 12 (scratches is only in
  // the description, "used" nowhere).
  EXPECT_FLOAT_EQ(x[3], 3.0f / 5);
  EXPECT_FLOAT_EQ(x[4], 1.0f);
  EXPECT_FLOAT_EQ(x[5], 1.0f);  // "12" found
  EXPECT_FLOAT_EQ(x[6], 0.0f);
  EXPECT_FLOAT_EQ(x[7], 1.0f);  // asks used
  EXPECT_FLOAT_EQ(x[8], 1.0f);  // like new counts as used
  EXPECT_FLOAT_EQ(m->row(1)[kRankLexicalBegin + 8], 0.0f);  // new listing, used asked
  // Listing 1 "iphone 11 case": the query's number 12 is not there.
  EXPECT_FLOAT_EQ(m->row(1)[kRankLexicalBegin + 5], 0.0f);

  r.terms = PrepareQuery("second hand sofa");
  auto u = AssembleRankingFeatures(r.Inputs());
  ASSERT_TRUE(u.ok());
  EXPECT_FLOAT_EQ(u->row(0)[kRankLexicalBegin + 7], 1.0f);
  EXPECT_FLOAT_EQ(u->row(0)[kRankLexicalBegin + 4], 0.0f);
  r.terms = PrepareQuery("sealed ps5");
  auto n = AssembleRankingFeatures(r.Inputs());
  ASSERT_TRUE(n.ok());
  EXPECT_FLOAT_EQ(n->row(0)[kRankLexicalBegin + 6], 1.0f);
  EXPECT_FLOAT_EQ(n->row(1)[kRankLexicalBegin + 8], 1.0f);  // listing 1 is new
}

TEST(RankingFeaturesTest, NoQueryEmbeddingNoCountersNoUser) {
  Request r;
  RankingFeatureInputs in = r.Inputs();
  in.query_embedding = {};
  in.counters = {};
  in.user = nullptr;
  auto m = AssembleRankingFeatures(in);
  ASSERT_TRUE(m.ok()) << m.status();
  for (int i = 0; i < 4; ++i) {
    for (int c = kRankRetrievalBegin; c < kRankRetrievalBegin + 4; ++c) EXPECT_EQ(m->row(i)[c], 0.0f);
    for (int d = 0; d < kRankingEmbeddingDim; ++d) EXPECT_EQ(m->row(i)[kRankProductBegin + d], 0.0f);
    EXPECT_FLOAT_EQ(m->row(i)[kRankCounterBegin + 3], 0.05f);
    EXPECT_EQ(m->row(i)[kRankCounterBegin + 0], 0.0f);
    EXPECT_EQ(m->row(i)[8], 0.0f);  // no user: no distance
    EXPECT_EQ(m->row(i)[10], 0.0f);
  }
}

TEST(RankingFeaturesTest, TokenCacheGivesIdenticalFeaturesAndNoticesEdits) {
  Request r;
  r.listings[0].set_description("Great phone, few scratches");
  r.terms = PrepareQuery("iphone scratches");
  auto plain = AssembleRankingFeatures(r.Inputs());
  ASSERT_TRUE(plain.ok());
  ListingTokenCache cache(100);
  RankingFeatureInputs in = r.Inputs();
  in.token_cache = &cache;
  for (int round = 0; round < 2; ++round) {
    auto cached = AssembleRankingFeatures(in);
    ASSERT_TRUE(cached.ok());
    EXPECT_EQ(cached->data, plain->data) << "round " << round;
  }
  EXPECT_EQ(cache.misses(), 4);
  EXPECT_EQ(cache.hits(), 4);
  EXPECT_EQ(cache.size(), 4u);
  // The seller edits the description: the cached tokens must not be used.
  r.listings[0].set_description("Great phone");
  auto edited_plain = AssembleRankingFeatures(r.Inputs());
  auto edited_cached = AssembleRankingFeatures(in);
  ASSERT_TRUE(edited_plain.ok() && edited_cached.ok());
  EXPECT_EQ(edited_cached->data, edited_plain->data);
  EXPECT_NE(edited_cached->row(0)[kRankLexicalBegin + 0], plain->row(0)[kRankLexicalBegin + 0]);
}

// Tokens the reader kept with its records: the same features, none prepared here (a cache
// given too is not asked); a null entry is prepared as without them.
TEST(RankingFeaturesTest, ReaderTokensGiveIdenticalFeatures) {
  Request r;
  r.listings[0].set_description("Great phone, few scratches");
  r.terms = PrepareQuery("iphone scratches ipone");
  auto plain = AssembleRankingFeatures(r.Inputs());
  ASSERT_TRUE(plain.ok());
  std::vector<std::shared_ptr<const ListingTokens>> tokens;
  for (const Listing& l : r.listings) tokens.push_back(std::make_shared<const ListingTokens>(PrepareListingTokens(l)));
  tokens[2] = nullptr;
  ListingTokenCache cache(100);
  RankingFeatureInputs in = r.Inputs();
  in.tokens = tokens;
  in.token_cache = &cache;
  auto kept = AssembleRankingFeatures(in);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->data, plain->data);
  EXPECT_EQ(cache.misses() + cache.hits(), 1);  // only the null entry
  tokens.pop_back();
  in.tokens = tokens;
  EXPECT_EQ(AssembleRankingFeatures(in).status().code(), absl::StatusCode::kInvalidArgument);
}

// Shared records (the in-memory reader's): the same record is a hit by identity; an edited
// listing is a new record and is re-tokenised; an equal copy is a hit by fingerprint.
TEST(RankingFeaturesTest, TokenCacheRecognisesRecords) {
  ListingTokenCache cache(100);
  auto record = std::make_shared<const Listing>(MakeListing(7, "grey fabric sofa", "", 5));
  auto first = cache.Get(record);
  EXPECT_EQ(cache.misses(), 1);
  EXPECT_EQ(cache.Get(record), first);  // identity
  EXPECT_EQ(cache.hits(), 1);
  auto copy = std::make_shared<const Listing>(*record);
  EXPECT_EQ(cache.Get(copy), first);  // fingerprint (then remembered by identity)
  EXPECT_EQ(cache.Get(copy), first);
  EXPECT_EQ(cache.hits(), 3);
  auto edited = std::make_shared<const Listing>(MakeListing(7, "red leather sofa", "", 5));
  auto retokenised = cache.Get(edited);
  EXPECT_NE(retokenised, first);
  EXPECT_TRUE(std::binary_search(retokenised->title.begin(), retokenised->title.end(), TokenHash("leather")));
  // The old record is gone and another one may take its address: never its tokens.
  record.reset();
  copy.reset();
  auto again = std::make_shared<const Listing>(MakeListing(7, "blue corner sofa", "", 5));
  EXPECT_TRUE(std::binary_search(cache.Get(again)->title.begin(), cache.Get(again)->title.end(),
                                 TokenHash("corner")));
}

TEST(RankingFeaturesTest, TokenCacheIsBounded) {
  ListingTokenCache cache(32);  // 2 per shard
  for (uint64_t id = 1; id <= 1000; ++id) {
    Listing l = MakeListing(id, "title " + std::to_string(id), "", 5);
    auto t = cache.Get(l);
    ASSERT_TRUE(std::binary_search(t->title.begin(), t->title.end(), TokenHash(std::to_string(id))));
  }
  EXPECT_LE(cache.size(), 32u);
}

TEST(RankingFeaturesTest, Deterministic) {
  Request r;
  auto a = AssembleRankingFeatures(r.Inputs());
  auto b = AssembleRankingFeatures(r.Inputs());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->data, b->data);
}

TEST(RankingFeaturesTest, NoCandidates) {
  Request r;
  RankingFeatureInputs in = r.Inputs();
  in.candidates = {};
  in.listings = {};
  in.listing_embeddings = {};
  in.has_embedding = {};
  in.counters = {};
  auto m = AssembleRankingFeatures(in);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rows, 0);
  EXPECT_EQ(m->cols, kRankingFeatureDim);
  EXPECT_TRUE(m->data.empty());
}

TEST(RankingFeaturesTest, ErrorsNameTheField) {
  Request r;
  {
    RankingFeatureInputs in = r.Inputs();
    in.listings = absl::MakeConstSpan(r.listing_ptrs).subspan(0, 3);
    auto m = AssembleRankingFeatures(in);
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(m.status().message().rfind("listings:", 0), 0u) << m.status();
  }
  {
    RankingFeatureInputs in = r.Inputs();
    in.listing_embeddings = absl::MakeConstSpan(r.emb).subspan(1);
    EXPECT_EQ(AssembleRankingFeatures(in).status().message().rfind("listing_embeddings:", 0), 0u);
  }
  {
    RankingFeatureInputs in = r.Inputs();
    in.has_embedding = absl::MakeConstSpan(r.has).subspan(1);
    EXPECT_EQ(AssembleRankingFeatures(in).status().message().rfind("has_embedding:", 0), 0u);
  }
  {
    RankingFeatureInputs in = r.Inputs();
    in.counters = absl::MakeConstSpan(r.counters).subspan(2);
    EXPECT_EQ(AssembleRankingFeatures(in).status().message().rfind("counters:", 0), 0u);
  }
  {
    RankingFeatureInputs in = r.Inputs();
    in.query_embedding = absl::MakeConstSpan(r.q).subspan(0, 10);
    EXPECT_EQ(AssembleRankingFeatures(in).status().message().rfind("query_embedding:", 0), 0u);
  }
  {
    RankingFeatureInputs in = r.Inputs();
    in.query = nullptr;
    EXPECT_EQ(AssembleRankingFeatures(in).status().message().rfind("query:", 0), 0u);
    in = r.Inputs();
    in.stats = nullptr;
    EXPECT_EQ(AssembleRankingFeatures(in).status().message().rfind("stats:", 0), 0u);
  }
}

}  // namespace
}  // namespace marketsearch
