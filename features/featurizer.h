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

inline constexpr uint32_t kFeaturizerVersion = 1;

// Layout of the shared hashed id space: [words | word bigrams | char trigrams].
inline constexpr int64_t kWordBuckets = 1 << 17;
inline constexpr int64_t kBigramBuckets = 1 << 16;
inline constexpr int64_t kTrigramBuckets = 1 << 16;
inline constexpr int64_t kTextVocabSize = kWordBuckets + kBigramBuckets + kTrigramBuckets;
inline constexpr int64_t kCategoryBuckets = 256;
inline constexpr int kListingDenseDim = 8;

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

// log price, condition one-hot (4), seller rating / 5, has brand, attribute count / 10.
std::array<float, kListingDenseDim> ListingDenseFeatures(const Listing& listing);

// Returns FailedPrecondition naming both versions when `artifact_version` differs from
// kFeaturizerVersion. `what` names the artifact (e.g. "model query_tower v3").
absl::Status CheckFeaturizerVersion(uint32_t artifact_version, std::string_view what);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_FEATURIZER_H_
