#include "ranking/ranking_features.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <deque>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace marketsearch {
namespace {

bool Has(const std::vector<uint64_t>& sorted, uint64_t t) {
  return std::binary_search(sorted.begin(), sorted.end(), t);
}

// Levenshtein distance of a and b (bytes) if it is <= k, else k + 1. Called for every
// (query token, listing word) pair a request's fuzzy feature tries, so the two DP rows live on
// the stack for words of up to 63 bytes (a heap pair per call was most of its cost).
int BoundedEditDistance(const std::string& a, const std::string& b, int k) {
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  if (std::abs(n - m) > k) return k + 1;
  constexpr int kStackRow = 64;
  int stack_rows[2][kStackRow];
  std::vector<int> heap_rows;
  int* prev = stack_rows[0];
  int* cur = stack_rows[1];
  if (m + 1 > kStackRow) {
    heap_rows.resize(2 * static_cast<size_t>(m + 1));
    prev = heap_rows.data();
    cur = heap_rows.data() + m + 1;
  }
  for (int j = 0; j <= m; ++j) prev[j] = j;
  for (int i = 1; i <= n; ++i) {
    cur[0] = i;
    int row_min = cur[0];
    for (int j = 1; j <= m; ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > k) return k + 1;
    std::swap(prev, cur);
  }
  return std::min(prev[m], k + 1);
}

int FuzzyBudget(const std::string& token) {
  if (token.size() >= 8) return 2;
  if (token.size() >= 4) return 1;
  return 0;
}

bool HasDigit(const std::string& t) {
  return std::any_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What the query says about the condition it wants (see the header, columns 46-47).
struct ConditionAsk {
  bool is_new = false;
  bool is_used = false;
};

ConditionAsk AskedCondition(const std::vector<std::string>& tokens) {
  static const char* const kNew[] = {"new", "sealed", "unopened", "unused", "bnib", "bnwt"};
  static const char* const kUsed[] = {"used", "secondhand", "preowned", "preloved", "refurbished"};
  static const char* const kUsedPairs[][2] = {{"second", "hand"}, {"pre", "owned"}, {"pre", "loved"}};
  ConditionAsk a;
  for (size_t i = 0; i < tokens.size(); ++i) {
    for (const char* w : kNew) a.is_new |= tokens[i] == w;
    for (const char* w : kUsed) a.is_used |= tokens[i] == w;
    if (i + 1 < tokens.size()) {
      for (const auto& p : kUsedPairs) a.is_used |= tokens[i] == p[0] && tokens[i + 1] == p[1];
    }
  }
  return a;
}

absl::Status LengthError(const char* field, size_t got, size_t want) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": has ", got, " entries, expected ", want, " (one per candidate)"));
}

// Fingerprint of every field PrepareListingTokens reads. absl::Hash (process-seeded, never
// stored) hashes several bytes a cycle; the byte-wise FNV it replaces was 3% of a request's CPU.
uint64_t TextFingerprint(const Listing& l) {
  size_t h = absl::HashOf(l.title(), l.description(), l.brand(), l.category(),
                          l.attributes_size());
  for (const auto& a : l.attributes()) h = absl::HashOf(h, a.name(), a.value());
  return h;
}

}  // namespace

struct ListingTokenCache::Shard {
  std::mutex mu;
  struct Entry {
    uint64_t fingerprint;
    std::shared_ptr<const ListingTokens> tokens;
    std::weak_ptr<const Listing> record;  // what it was computed from, when known
  };
  absl::flat_hash_map<uint64_t, Entry> map;
  std::deque<uint64_t> order;  // insertion order, for FIFO eviction
  int64_t hits = 0, misses = 0;
};

constexpr size_t kTokenCacheShards = 16;

ListingTokenCache::ListingTokenCache(size_t max_entries)
    : per_shard_(std::max<size_t>(1, max_entries / kTokenCacheShards)) {
  for (size_t i = 0; i < kTokenCacheShards; ++i) shards_.push_back(std::make_unique<Shard>());
}

ListingTokenCache::~ListingTokenCache() = default;

std::shared_ptr<const ListingTokens> ListingTokenCache::Get(const std::shared_ptr<const Listing>& record) {
  const uint64_t id = record->listing_id();
  Shard& s = *shards_[(id * 0x9E3779B97F4A7C15ULL) >> 60];
  {
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(id);
    // The same record (same control block, still alive): its text is what the tokens came from.
    if (it != s.map.end() && !it->second.record.expired() &&
        !it->second.record.owner_before(record) && !record.owner_before(it->second.record)) {
      ++s.hits;
      return it->second.tokens;
    }
  }
  std::shared_ptr<const ListingTokens> tokens = Get(*record);  // by fingerprint
  std::lock_guard<std::mutex> lock(s.mu);
  if (auto it = s.map.find(id); it != s.map.end() && it->second.tokens == tokens) it->second.record = record;
  return tokens;
}

std::shared_ptr<const ListingTokens> ListingTokenCache::Get(const Listing& listing) {
  const uint64_t id = listing.listing_id();
  const uint64_t fp = TextFingerprint(listing);
  Shard& s = *shards_[(id * 0x9E3779B97F4A7C15ULL) >> 60];
  {
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(id);
    if (it != s.map.end() && it->second.fingerprint == fp) {
      ++s.hits;
      return it->second.tokens;
    }
    ++s.misses;
  }
  // Tokenise outside the lock; two threads may both compute a missing entry (same result).
  auto tokens = std::make_shared<const ListingTokens>(PrepareListingTokens(listing));
  std::lock_guard<std::mutex> lock(s.mu);
  auto [it, inserted] = s.map.insert_or_assign(id, Shard::Entry{fp, tokens});
  if (inserted) {
    s.order.push_back(id);
    while (s.map.size() > per_shard_ && !s.order.empty()) {
      s.map.erase(s.order.front());
      s.order.pop_front();
    }
  }
  return tokens;
}

size_t ListingTokenCache::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += s->map.size();
  }
  return n;
}

int64_t ListingTokenCache::hits() const {
  int64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += s->hits;
  }
  return n;
}

int64_t ListingTokenCache::misses() const {
  int64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += s->misses;
  }
  return n;
}

absl::StatusOr<FloatMatrix> AssembleRankingFeatures(const RankingFeatureInputs& in) {
  if (in.query == nullptr) return absl::InvalidArgumentError("query: must not be null");
  if (in.stats == nullptr) return absl::InvalidArgumentError("stats: must not be null");
  const size_t n = in.candidates.size();
  if (in.listings.size() != n) return LengthError("listings", in.listings.size(), n);
  if (in.has_embedding.size() != n) return LengthError("has_embedding", in.has_embedding.size(), n);
  if (in.listing_embeddings.size() != n * kRankingEmbeddingDim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listing_embeddings: has ", in.listing_embeddings.size(), " floats, expected ",
        n * kRankingEmbeddingDim, " (", n, " candidates x ", kRankingEmbeddingDim, ")"));
  }
  if (!in.tokens.empty() && in.tokens.size() != n) return LengthError("tokens", in.tokens.size(), n);
  if (!in.counters.empty() && in.counters.size() != n) {
    return LengthError("counters", in.counters.size(), n);
  }
  if (!in.query_embedding.empty() && in.query_embedding.size() != kRankingEmbeddingDim) {
    return absl::InvalidArgumentError(absl::StrCat("query_embedding: has ", in.query_embedding.size(),
                                                   " floats, expected ", kRankingEmbeddingDim,
                                                   " or none"));
  }

  FloatMatrix m;
  m.rows = static_cast<int64_t>(n);
  m.cols = kRankingFeatureDim;
  m.data.assign(n * kRankingFeatureDim, 0.0f);
  if (n == 0) return m;
  const bool have_q = !in.query_embedding.empty();
  const float* q = in.query_embedding.data();

  // Request-level quantities first: similarities (and their ranks), max BM25, lexical share.
  std::vector<float> sim(n, 0.0f);
  float max_sim = -INFINITY;
  float max_bm25 = 0.0f;
  int lexical_hits = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool emb = have_q && in.has_embedding[i] != 0;
    if (emb) {
      const float* l = in.listing_embeddings.data() + i * kRankingEmbeddingDim;
      float s = 0.0f;
      for (int d = 0; d < kRankingEmbeddingDim; ++d) s += q[d] * l[d];
      sim[i] = s;
      max_sim = std::max(max_sim, s);
    }
    const Candidate& c = in.candidates[i];
    if (c.lexical_rank > 0) {
      ++lexical_hits;
      max_bm25 = std::max(max_bm25, c.lexical_score);
    }
  }
  // Rank by similarity among the candidates that have an embedding (ties: earlier first).
  std::vector<int> sim_rank(n, 0);
  {
    std::vector<int> order;
    order.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (have_q && in.has_embedding[i] != 0) order.push_back(static_cast<int>(i));
    }
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return sim[a] > sim[b]; });
    for (size_t r = 0; r < order.size(); ++r) sim_rank[order[r]] = static_cast<int>(r + 1);
  }
  const float lexical_share = static_cast<float>(lexical_hits) / static_cast<float>(n);

  // Query-level lexical facts.
  const std::vector<std::string>& qtok = in.query->tokens;
  const std::vector<uint64_t>& qhash = in.query->token_hashes;
  if (qhash.size() != qtok.size()) {
    return absl::InvalidArgumentError("query: token_hashes must match tokens (use PrepareQuery)");
  }
  if (in.corrected_query != nullptr &&
      in.corrected_query->token_hashes.size() != in.corrected_query->tokens.size()) {
    return absl::InvalidArgumentError("corrected_query: token_hashes must match tokens (use PrepareQuery)");
  }
  const std::vector<uint64_t> qsorted = [&] {
    std::vector<uint64_t> t = qhash;
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    return t;
  }();
  int q_digit_tokens = 0;
  for (const auto& t : qtok) q_digit_tokens += HasDigit(t);
  const ConditionAsk ask = AskedCondition(qtok);

  for (size_t i = 0; i < n; ++i) {
    float* row = m.data.data() + i * kRankingFeatureDim;
    const Listing& listing = *in.listings[i];
    const Candidate& c = in.candidates[i];

    // Tokenised listing text: kept with the record by the reader when it keeps them, else
    // from the cache when one is given, else prepared here.
    const ListingTokens* kept = in.tokens.size() == n ? in.tokens[i].get() : nullptr;
    std::shared_ptr<const ListingTokens> cached;
    ListingTokens local;
    if (kept == nullptr) {
      if (in.token_cache != nullptr) {
        cached = in.records.size() == n ? in.token_cache->Get(in.records[i]) : in.token_cache->Get(listing);
      } else {
        local = PrepareListingTokens(listing);
      }
    }
    const ListingTokens& lt = kept != nullptr ? *kept : cached ? *cached : local;

    const auto pair = PairFeatures(*in.query, lt.pair, listing, in.user);
    std::copy(pair.begin(), pair.end(), row + kRankPairBegin);
    {
      // Only a corrected query pays for a second PairFeatures.
      const auto fixed = in.corrected_query != nullptr
                             ? PairFeatures(*in.corrected_query, lt.pair, listing, in.user)
                             : pair;
      float* cq = row + kRankCorrectedBegin;
      cq[0] = fixed[0];
      cq[1] = fixed[1];
      cq[2] = fixed[2];
      cq[3] = fixed[7];
    }
    const auto dense = ListingDenseFeatures(listing, *in.stats);
    std::copy(dense.begin(), dense.end(), row + kRankDenseBegin);

    float* r = row + kRankRetrievalBegin;
    const bool emb = have_q && in.has_embedding[i] != 0;
    if (emb) {
      r[0] = sim[i];
      r[1] = sim[i] - max_sim;
      r[2] = 1.0f / static_cast<float>(sim_rank[i]);
      r[3] = 1.0f;
    }
    if (c.ann_rank > 0) {
      r[4] = 1.0f;
      r[5] = 1.0f / static_cast<float>(c.ann_rank);
    }
    if (c.lexical_rank > 0) {
      r[6] = 1.0f;
      r[7] = 1.0f / static_cast<float>(c.lexical_rank);
      r[8] = max_bm25 > 0 ? c.lexical_score / max_bm25 : 0.0f;
      r[9] = std::log1p(std::max(0.0f, c.lexical_score));
    }
    r[10] = c.fused_score * 100.0f;
    r[11] = 1.0f / static_cast<float>(i + 1);
    r[12] = lexical_share;

    float* k = row + kRankCounterBegin;
    if (!in.counters.empty()) {
      const ListingCounters& lc = in.counters[i];
      const double imp = std::max<int64_t>(0, lc.impressions());
      const double clk = std::max<int64_t>(0, lc.clicks());
      const double pur = std::max<int64_t>(0, lc.purchases());
      k[0] = static_cast<float>(std::log1p(imp));
      k[1] = static_cast<float>(std::log1p(clk));
      k[2] = static_cast<float>(std::log1p(pur));
      k[3] = static_cast<float>((clk + 1.0) / (imp + 20.0));
      k[4] = static_cast<float>((pur + 0.1) / (clk + 2.0));
    } else {
      k[3] = 1.0f / 20.0f;
      k[4] = 0.1f / 2.0f;
    }

    float* x = row + kRankLexicalBegin;
    if (!qtok.empty()) {
      const std::vector<uint64_t>& title = lt.title;
      const std::vector<uint64_t>& text = lt.text;
      const std::vector<uint64_t>& desc = lt.description;
      const std::vector<std::string>& words = lt.text_words;
      int in_desc = 0, anywhere = 0, fuzzy = 0, digits_found = 0;
      for (size_t qi = 0; qi < qtok.size(); ++qi) {
        const std::string& t = qtok[qi];
        const bool in_text = Has(text, qhash[qi]);
        const bool d = Has(desc, qhash[qi]);
        const bool a = d || in_text;
        in_desc += d;
        anywhere += a;
        if (HasDigit(t)) digits_found += a;
        bool f = in_text;
        const int budget = FuzzyBudget(t);
        for (size_t j = 0; !f && budget > 0 && j < words.size(); ++j) {
          f = BoundedEditDistance(t, words[j], budget) <= budget;
        }
        fuzzy += f;
      }
      const float nq = static_cast<float>(qtok.size());
      x[0] = in_desc / nq;
      x[1] = anywhere / nq;
      int title_in_query = 0;
      for (const uint64_t t : title) title_in_query += Has(qsorted, t);
      x[2] = title.empty() ? 0.0f : static_cast<float>(title_in_query) / title.size();
      x[3] = fuzzy / nq;
      x[4] = q_digit_tokens > 0 ? 1.0f : 0.0f;
      x[5] = q_digit_tokens > 0 ? static_cast<float>(digits_found) / q_digit_tokens : 0.0f;
    }
    x[6] = ask.is_new ? 1.0f : 0.0f;
    x[7] = ask.is_used ? 1.0f : 0.0f;
    const Condition c_l = listing.condition();
    x[8] = (ask.is_new && c_l == CONDITION_NEW) ||
                   (ask.is_used && (c_l == CONDITION_USED || c_l == CONDITION_LIKE_NEW))
               ? 1.0f
               : 0.0f;

    if (emb) {
      const float* l = in.listing_embeddings.data() + i * kRankingEmbeddingDim;
      float* p = row + kRankProductBegin;
      for (int d = 0; d < kRankingEmbeddingDim; ++d) p[d] = q[d] * l[d];
    }
  }
  return m;
}

std::vector<std::pair<std::string, float>> ExplainFeatures(const float* row) {
  return {{"term_coverage", row[kRankPairBegin + 0]},
          {"title_coverage", row[kRankPairBegin + 1]},
          {"brand_named", row[kRankPairBegin + 3]},
          {"attributes_named", row[kRankPairBegin + 4]},
          {"trigram_jaccard", row[kRankPairBegin + 7]},
          {"relative_price", row[kRankDenseBegin + 1]},
          {"similarity", row[kRankRetrievalBegin + 0]}};
}

}  // namespace marketsearch
