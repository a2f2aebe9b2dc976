// The limits of a Listing record (proto/catalog.proto), part of its schema: every write
// (ingest, UpsertListings) is checked against them before anything is stored
// (features/listing_tsv.h ValidateListing), and the public-format loaders cut text to them.
// They keep what is stored bounded, so no record can make an index build, a replay or a
// result page unbounded. Byte counts are of UTF-8.
#ifndef MARKETSEARCH_PROTO_LISTING_LIMITS_H_
#define MARKETSEARCH_PROTO_LISTING_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace marketsearch {

inline constexpr size_t kMaxTitleBytes = 500;
inline constexpr size_t kMaxDescriptionBytes = 64 * 1024;
inline constexpr size_t kMaxCategoryBytes = 200;
inline constexpr size_t kMaxBrandBytes = 200;
inline constexpr size_t kMaxCityBytes = 200;
inline constexpr int kMaxAttributes = 50;
inline constexpr size_t kMaxAttributeNameBytes = 100;
inline constexpr size_t kMaxAttributeValueBytes = 500;
// listed_at_unix must lie in [0, kMaxListedAtUnix] (2100-01-01).
inline constexpr int64_t kMaxListedAtUnix = 4102444800;
// Upper bound on a believable price; anything above is treated as a typo.
inline constexpr double kMaxPrice = 10'000'000.0;

}  // namespace marketsearch

#endif  // MARKETSEARCH_PROTO_LISTING_LIMITS_H_
