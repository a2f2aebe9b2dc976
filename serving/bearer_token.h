// The bearer token that write RPCs (UpsertListings, DeleteListings) must carry when the
// operator configured one (--write_token_file): gRPC metadata `authorization: Bearer <token>`.
// The token is read from a file (never a flag: a flag's value shows in `ps`) and compared as
// SHA-256 digests, so the time a comparison takes says nothing about how much of it matched.
// Error messages never repeat what the client sent or the token.
//
// Thread safety: immutable after Load; Check may run concurrently.
#ifndef MARKETSEARCH_SERVING_BEARER_TOKEN_H_
#define MARKETSEARCH_SERVING_BEARER_TOKEN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace marketsearch {

class BearerToken {
 public:
  // Reads the token from `path` (surrounding whitespace trimmed). InvalidArgument when it is
  // empty, shorter than kMinBytes or holds whitespace or control characters inside; the error
  // names the file, not its contents.
  static absl::StatusOr<BearerToken> Load(const std::string& path);
  static constexpr size_t kMinBytes = 16;

  // OK when `authorization` (the request's `authorization` metadata value; empty when the
  // request had none) is "Bearer <token>" (scheme case-insensitive, as RFC 6750).
  // Unauthenticated otherwise, naming the metadata key only.
  absl::Status Check(absl::string_view authorization) const;

 private:
  explicit BearerToken(std::string digest) : digest_(std::move(digest)) {}
  std::string digest_;  // SHA-256 of the token, hex
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_BEARER_TOKEN_H_
