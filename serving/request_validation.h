// Validation of API requests and the opaque page token. Every error is INVALID_ARGUMENT
// with a message that starts with the offending field's name. Pure functions.
#ifndef MARKETSEARCH_SERVING_REQUEST_VALIDATION_H_
#define MARKETSEARCH_SERVING_REQUEST_VALIDATION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "features/featurizer.h"
#include "proto/listing_limits.h"
#include "proto/search.pb.h"

namespace marketsearch {

inline constexpr size_t kMaxQueryBytes = 512;
inline constexpr int kMaxPageSize = 100;
inline constexpr int kMaxResultDepth = 1000;  // no page reaches beyond this rank
inline constexpr int kMaxEventsPerCall = 1000;
inline constexpr size_t kMaxPageTokenBytes = 128;
inline constexpr int kMaxFilterCategories = 100;  // each at most kMaxCategoryBytes
inline constexpr int kMaxFilterConditions = 8;
inline constexpr double kMaxGeoRadiusKm = 20040;  // half the Earth's circumference
inline constexpr size_t kMaxRequestIdBytes = 64;
inline constexpr size_t kMaxAnonymousIdBytes = 128;
inline constexpr int kMaxForcedArms = 16;
inline constexpr size_t kMaxAttributionTokenBytes = 1024;
inline constexpr int64_t kMaxEventClockAheadMs = 24 * 3600 * 1000;  // a day of client clock skew

// Checks a SearchRequest; on success *offset is the 0-based rank the page starts at and, when
// `parsed` is set, *parsed is the query parsed for the rest of the request (the one place a
// request's query is normalised: validation needs the normalised text to refuse a query
// without letters or digits). Messages name the field and never echo a text field's value.
absl::Status ValidateSearchRequest(const SearchRequest& request, int* offset,
                                   ParsedQuery* parsed = nullptr);

// `now_ms` (ms since the epoch; 0 = not checked): an event's timestamp_ms may be at most
// kMaxEventClockAheadMs ahead of it (a client clock running ahead), no further.
absl::Status ValidateLogEventsRequest(const LogEventsRequest& request, int64_t now_ms = 0);

// The page token is opaque to clients: a versioned, web-safe base64 encoding of the offset,
// the index version that served the first page, and a fingerprint of the request's query and
// filters, so a token is only accepted with the request that produced it (reusing it with
// another query is INVALID_ARGUMENT, not a page of that query's results). The fingerprint is
// the featurizer's FNV-1a, the same across restarts and replicas.
std::string EncodePageToken(const SearchRequest& request, int64_t offset, int64_t index_version);
// INVALID_ARGUMENT "page_token: ..." when the token is malformed, from another query, or its
// offset is negative or beyond kMaxResultDepth.
absl::Status DecodePageToken(const SearchRequest& request, int64_t* offset, int64_t* index_version);

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_REQUEST_VALIDATION_H_
