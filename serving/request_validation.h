// Validation of API requests and the opaque page token. Every error is INVALID_ARGUMENT
// with a message that starts with the offending field's name. Pure functions.
#ifndef MARKETSEARCH_SERVING_REQUEST_VALIDATION_H_
#define MARKETSEARCH_SERVING_REQUEST_VALIDATION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/search.pb.h"

namespace marketsearch {

inline constexpr size_t kMaxQueryBytes = 512;
inline constexpr int kMaxPageSize = 100;
inline constexpr int kMaxResultDepth = 1000;  // no page reaches beyond this rank
inline constexpr int kMaxEventsPerCall = 1000;

// Checks a SearchRequest; on success *offset is the 0-based rank the page starts at.
absl::Status ValidateSearchRequest(const SearchRequest& request, int* offset);

absl::Status ValidateLogEventsRequest(const LogEventsRequest& request);

// The page token is opaque to clients: a versioned, web-safe base64 encoding of the offset
// and the index version that served the first page.
std::string EncodePageToken(int offset, int64_t index_version);
absl::Status DecodePageToken(const std::string& token, int* offset, int64_t* index_version);

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_REQUEST_VALIDATION_H_
