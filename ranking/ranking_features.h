// The ranker's input: one feature row per (query, candidate listing, user), assembled for all
// candidates of a request at once. This is the ONE function that builds ranker inputs: the
// training-data export (jobs/export_ranking_data), the parity check, the benchmark and the
// server all call it, so the model never sees features computed two ways.
//
// Thread safety: stateless; AssembleRankingFeatures may be called concurrently.
// Ownership: the inputs are borrowed for the duration of the call; the result owns its data.
//
// Layout (kRankingFeatureDim = 117 float32 columns; a change of any column's meaning, order
// or scaling bumps kRankingFeatureVersion, which the ranker's manifest records; the model is
// refused at load when the version or the width differs):
//
//  [0, 12)   query-listing-user pair features, features/featurizer.h PairFeatures() in its order:
//              0 query-token coverage of the listing text     6 title length / 20
//              1 query-token coverage of the title            7 trigram Jaccard query-title
//              2 all query tokens in the title (0/1)          8 log1p(buyer distance km) / 10
//              3 listing brand named in the query (0/1)       9 buyer has a location (0/1)
//              4 named attribute values / (attributes + 1)   10 category is a user favourite (0/1)
//              5 query length / 10                           11 |log(price / user typical price)|
//  [12, 22)  listing dense features, ListingDenseFeatures(): 12 log1p(price)/10,
//            13 log(price / category median), 14-17 condition one-hot (new, like new, used,
//            for parts), 18 seller rating / 5, 19 has brand, 20 attribute count / 10,
//            21 age in 90-day units (relative to CatalogStats::reference_unix)
//  [22, 35)  retrieval features (per request):
//            22 sim: q . l, the inner product of the query embedding and the listing's stored
//               embedding (both L2-normalised, so a cosine), for EVERY candidate, also the
//               lexical-only ones; 0 when either embedding is missing
//            23 sim - max sim over the request's candidates (<= 0)
//            24 1 / (rank of sim among the request's candidates), 1-based; 0 without embedding
//            25 has listing embedding (0/1)
//            26 retrieved by ANN (0/1)           27 1 / ann_rank (0 when not retrieved by ANN)
//            28 retrieved by BM25 (0/1)          29 1 / lexical_rank (0 when not retrieved)
//            30 BM25 score / max BM25 score of the request's candidates (0 when not retrieved)
//            31 log1p(BM25 score)
//            32 fused score x 100, fused as the deployment serves (fusion.textproto,
//               retrieval/fusion_config.h): RRF, k = 60: 1.64 for rank 1 in both legs at
//               equal weights; score blend: up to 100 (a ranker is trained for one fusion)
//            33 1 / (position in the fused candidate list), 1-based
//            34 share of the request's candidates that BM25 retrieved (request-level)
//  [35, 40)  engagement counters (from the experiment log; all zero until logs exist):
//            35 log1p(impressions)   36 log1p(clicks)   37 log1p(purchases)
//            38 smoothed CTR (clicks + 1) / (impressions + 20)    (prior 0.05)
//            39 smoothed purchase rate (purchases + 0.1) / (clicks + 2)  (prior 0.05)
//  [40, 49)  more lexical pair features (tokens as features/text_normalizer cuts them; the
//            "listing text" is title, brand, category, attribute values and description):
//            40 share of query tokens found in the description
//            41 share of query tokens found anywhere in the listing text
//            42 share of title tokens found in the query (the title's precision: "electric
//               guitar" for the query "guitar" scores 0.5)
//            43 share of query tokens matched exactly or within a small edit distance (1 for
//               tokens of 4-7 bytes, 2 from 8 bytes) by a token of title, brand, category or
//               attributes (misspellings: "ikoa" ~ "ikea")
//            44 the query has a token with a digit (0/1)
//            45 share of the query's digit-bearing tokens ("50", "128gb") found anywhere in
//               the listing text (0 when the query has none)
//            46 the query asks for new (new, sealed, unopened, unused, bnib, bnwt)  (0/1)
//            47 the query asks for used (used, secondhand, second hand, preowned, pre owned,
//               preloved, pre loved, refurbished)  (0/1)
//            48 the listing's condition is the one asked for (new = NEW; used = USED or
//               LIKE_NEW); 0 when the query asks for none
//  [49, 53)  pair features 0, 1, 2 and 7 again, against the query with its misspelt words
//            corrected (RankingFeatureInputs::corrected_query: the ANN leg's speller, the
//            lexical index's dictionary); equal to 0, 1, 2 and 7 when nothing was corrected.
//            The raw columns stay: a rare real word "corrected" into a common one must not
//            lose what the buyer typed.
//            49 query-token coverage of the listing text   50 query-token coverage of the title
//            51 all query tokens in the title (0/1)        52 trigram Jaccard query-title
//  [53, 117) q (.) l, the elementwise product of the query and listing embeddings
//            (kRankingEmbeddingDim = 64 columns; their sum is column 22); 0 without embedding
//
// Columns 22-24 and 53-116 live in the embedding space of the two-tower model that built the
// index: a ranker is trained for one listing tower version (recorded in its manifest, see
// Ranker::listing_tower_version()) and must be served with an index of that version.
#ifndef MARKETSEARCH_RANKING_RANKING_FEATURES_H_
#define MARKETSEARCH_RANKING_RANKING_FEATURES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/float_matrix.h"
#include "features/featurizer.h"
#include "features/listing_tokens.h"
#include "proto/catalog.pb.h"
#include "retrieval/candidate_merge.h"

namespace marketsearch {

// 2: the corrected-query columns 49-52 (version 1 had 113 columns, the product block at 49).
inline constexpr uint32_t kRankingFeatureVersion = 2;
inline constexpr int kRankingEmbeddingDim = 64;

// Column offsets of the blocks above.
inline constexpr int kRankPairBegin = 0;
inline constexpr int kRankDenseBegin = kRankPairBegin + kPairDim;                // 12
inline constexpr int kRankRetrievalBegin = kRankDenseBegin + kListingDenseDim;   // 22
inline constexpr int kRankRetrievalDim = 13;
inline constexpr int kRankCounterBegin = kRankRetrievalBegin + kRankRetrievalDim;  // 35
inline constexpr int kRankCounterDim = 5;
inline constexpr int kRankLexicalBegin = kRankCounterBegin + kRankCounterDim;    // 40
inline constexpr int kRankLexicalDim = 9;
inline constexpr int kRankCorrectedBegin = kRankLexicalBegin + kRankLexicalDim;  // 49
inline constexpr int kRankCorrectedDim = 4;
inline constexpr int kRankProductBegin = kRankCorrectedBegin + kRankCorrectedDim;  // 53
inline constexpr int kRankingFeatureDim = kRankProductBegin + kRankingEmbeddingDim;  // 117
static_assert(kRankingFeatureDim == 117, "update the layout comment and bump the version");

// The ranker's inputs a person reads to see why a listing ranks where it does (search_cli
// --explain, SearchResult.debug.features), by name, from one row of the feature matrix:
// term_coverage, title_coverage, brand_named, attributes_named, trigram_jaccard,
// relative_price, similarity. The column layout stays inside ranking.
// REQUIRES: `row` holds kRankingFeatureDim values.
std::vector<std::pair<std::string, float>> ExplainFeatures(const float* row);

// A bounded memo of PrepareListingTokens by listing id, so a listing that comes back in
// many requests is tokenised once. Each entry keeps a 64-bit fingerprint of the text fields
// it was computed from; a listing whose text changed is re-tokenised, so results never
// depend on the cache. When full, a shard drops its oldest entries (FIFO).
// Given the shared immutable record itself (the in-memory reader's), an entry also remembers
// which record it was computed from (a weak_ptr: it keeps nothing alive), and the same record
// again is a hit without fingerprinting its text (hashing a listing's text on every request
// cost about as much as the lookup saved).
// The server's in-memory reader keeps each record's tokens beside it (RankingFeatureInputs::
// tokens); this memo serves the rest: records not yet tokenised after a start, a server reading
// the store, and the offline export.
// Thread-safe (sharded mutexes); share one instance across requests.
class ListingTokenCache {
 public:
  explicit ListingTokenCache(size_t max_entries = 200000);
  ~ListingTokenCache();
  std::shared_ptr<const ListingTokens> Get(const Listing& listing);
  std::shared_ptr<const ListingTokens> Get(const std::shared_ptr<const Listing>& record);
  size_t size() const;
  int64_t hits() const;
  int64_t misses() const;

 private:
  struct Shard;
  std::vector<std::unique_ptr<Shard>> shards_;
  size_t per_shard_;
};

// Everything one request contributes. All spans index the same candidates: entry i of
// `listings`, `has_embedding`, `counters` and row i of `listing_embeddings` belong to
// candidates[i]. Candidates must be in the order the ranker sees them (fused order).
struct RankingFeatureInputs {
  const QueryTerms* query = nullptr;            // REQUIRED: PrepareQuery(raw query text)
  // Optional: the query with its misspelt words corrected (RetrievalResult::corrected_tokens
  // through PrepareQuery); null when nothing was corrected (columns 49-52 copy the raw ones).
  const QueryTerms* corrected_query = nullptr;
  absl::Span<const float> query_embedding;      // kRankingEmbeddingDim floats, or empty
  absl::Span<const Candidate> candidates;       // per-source scores and ranks (retrieval)
  absl::Span<const Listing* const> listings;    // the fetched record of each candidate (not null)
  absl::Span<const float> listing_embeddings;   // [n * kRankingEmbeddingDim], row-major
  absl::Span<const uint8_t> has_embedding;      // n flags; a row with 0 is ignored
  absl::Span<const ListingCounters> counters;   // n, or empty (= all zero)
  const User* user = nullptr;                   // null for an anonymous buyer
  const CatalogStats* stats = nullptr;          // REQUIRED: the feature store's stats
  // Optional: each listing's token sets as the reader keeps them (n, same order; a null entry
  // is prepared here). Same results as preparing them, without the work.
  absl::Span<const std::shared_ptr<const ListingTokens>> tokens;
  ListingTokenCache* token_cache = nullptr;     // optional memo for entries without tokens
  // Optional: `listings` as the shared records they point into (n, same order), so the token
  // cache can recognise a record it has seen (ListingTokenCache::Get(record)).
  absl::Span<const std::shared_ptr<const Listing>> records;
};

// Returns the [candidates.size(), kRankingFeatureDim] feature matrix (0 rows for no
// candidates). InvalidArgument (naming the field) when a span has the wrong length or a
// required pointer is null.
absl::StatusOr<FloatMatrix> AssembleRankingFeatures(const RankingFeatureInputs& in);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RANKING_RANKING_FEATURES_H_
