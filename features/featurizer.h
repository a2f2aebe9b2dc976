// The one featurizer: turns query text and listings into the model inputs (hashed n-gram
// ids, category ids, dense features). Training tensors, the index build and the server all
// call this code, so a model never sees features computed two ways. Stateless, thread-safe.
//
// Any change to hashing, bucket counts, tokenisation or dense features must bump
// kFeaturizerVersion: stored records and model manifests carry the version, and a model
// made with another version is refused at load.
#ifndef MARKETSEARCH_FEATURES_FEATURIZER_H_
#define MARKETSEARCH_FEATURES_FEATURIZER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "proto/catalog.pb.h"

namespace marketsearch {

inline constexpr uint32_t kFeaturizerVersion = 2;

// Layout of the shared hashed id space: [words | word bigrams | char trigrams].
inline constexpr int64_t kWordBuckets = 1 << 17;
inline constexpr int64_t kBigramBuckets = 1 << 16;
inline constexpr int64_t kTrigramBuckets = 1 << 16;
inline constexpr int64_t kTextVocabSize = kWordBuckets + kBigramBuckets + kTrigramBuckets;
inline constexpr int64_t kCategoryBuckets = 256;
inline constexpr int kListingDenseDim = 10;
inline constexpr int kPairDim = 12;

// 64-bit FNV-1a; fixed forever for a featurizer version.
uint64_t Fnv1a64(std::string_view data, uint64_t seed = 14695981039346656037ULL);

// Hashed ids of word unigrams, word bigrams and character trigrams (of "#word#") of
// already-normalised text, in that order, duplicates kept (bags count them).
std::vector<int64_t> TextFeatureIds(std::string_view normalized_text);

// Query: normalise, then TextFeatureIds.
std::vector<int64_t> QueryFeatureIds(std::string_view raw_query);

// Listing text seen by the listing tower: title, brand, category and attribute values.
std::string ListingText(const Listing& listing);
std::vector<int64_t> ListingFeatureIds(const Listing& listing);

int64_t CategoryId(std::string_view category);

// Dense listing features: log price, log(price / category median), condition one-hot (4),
// seller rating / 5, has brand, attribute count / 10, age in 90-day units relative to
// stats.reference_unix. Categories missing from `stats` use a relative price of 0.
std::array<float, kListingDenseDim> ListingDenseFeatures(const Listing& listing,
                                                         const CatalogStats& stats);

// A normalised token as the pair and ranking features compare it: a 64-bit hash, so a set
// membership test is an integer compare (string compares were ~10% of a request's CPU at 1M
// listings) and a listing's token sets take 8 bytes a token. FNV-1a, fixed for a featurizer
// version; a collision between two of a catalog's tokens (~1e-8 at a million distinct tokens)
// would make them count as the same word.
inline uint64_t TokenHash(std::string_view token) { return Fnv1a64(token); }

// A query prepared once per request for pair features.
struct QueryTerms {
  std::vector<std::string> tokens;    // normalised tokens
  std::vector<uint64_t> token_hashes; // TokenHash(tokens[i]), same order
  std::vector<uint64_t> trigrams;     // hashed character trigrams of the tokens, sorted, unique
};
QueryTerms PrepareQuery(std::string_view raw_query);

// A buyer's query parsed once per request: the normalised text, its tokens, the query tower's
// input ids and the pair-feature terms. Every stage of the request path (validation, query
// tower, lexical leg, ranker) reads this instead of normalising the raw text again.
struct ParsedQuery {
  std::string raw;
  std::string normalized;            // NormalizeText(raw); empty = no letters or digits
  std::vector<int64_t> feature_ids;  // TextFeatureIds(normalized): the query tower's input
  QueryTerms terms;                  // terms.tokens = Tokenize(normalized)
};
// REQUIRES: `raw` is valid UTF-8 (else `normalized` is empty).
ParsedQuery ParseQuery(std::string_view raw);

// Query–listing(–user) pair features for the ranker, in this order:
//  0 share of query tokens found in the listing text (title, brand, category, attributes)
//  1 share of query tokens found in the title
//  2 every query token is in the title (0/1)
//  3 the listing's brand is named in the query (0/1; 0 when the listing has no brand)
//  4 attribute values named in the query / (attribute count + 1)
//  5 query length in tokens / 10
//  6 title length in tokens / 20
//  7 Jaccard similarity of query and title character trigrams (robust to misspellings)
//  8 log1p(distance buyer–listing in km) / 10 (0 without a user location)
//  9 the user has a location (0/1)
// 10 the listing's category is one of the user's preferred categories (0/1)
// 11 |log(price / user's typical price)| (0 when unknown)
// `user` may be null (anonymous buyer).
std::array<float, kPairDim> PairFeatures(const QueryTerms& query, const Listing& listing,
                                         const User* user);

// The listing side of PairFeatures: its fields normalised and tokenised (utf8proc dominates
// the cost of PairFeatures). Depends only on the listing's text, so a caller scoring the same
// listings for many queries keeps it (ranking's ListingTokenCache does) and calls the overload
// below, which gives exactly the same features.
// Tokens are TokenHash values.
struct PairListingTerms {
  std::vector<uint64_t> title_sorted;              // title tokens, sorted (duplicates kept)
  std::vector<uint64_t> all_sorted;                // title, brand, category, attribute values
  std::vector<uint64_t> brand;                     // brand tokens
  std::vector<std::vector<uint64_t>> attr_values;  // tokens of each attribute value
  std::vector<uint64_t> title_trigrams;            // as QueryTerms::trigrams, of the title
};
PairListingTerms PreparePairListing(const Listing& listing);
std::array<float, kPairDim> PairFeatures(const QueryTerms& query, const PairListingTerms& terms,
                                         const Listing& listing, const User* user);

// Returns FailedPrecondition naming both versions when `artifact_version` differs from
// kFeaturizerVersion. `what` names the artifact (e.g. "model query_tower v3").
absl::Status CheckFeaturizerVersion(uint32_t artifact_version, std::string_view what);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_FEATURIZER_H_
