#include "serving/bearer_token.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace marketsearch {

absl::StatusOr<BearerToken> BearerToken::Load(const std::string& path) {
  MS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const absl::string_view token = absl::StripAsciiWhitespace(text);
  if (token.size() < kMinBytes) {
    return absl::InvalidArgumentError(absl::StrCat("write token file ", path, ": the token must be at least ",
                                                   kMinBytes, " bytes"));
  }
  for (const char c : token) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "write token file ", path, ": the token must not hold whitespace or control characters"));
    }
  }
  return BearerToken(Sha256Hex(std::string(token)));
}

absl::Status BearerToken::Check(absl::string_view authorization) const {
  if (authorization.empty()) {
    return absl::UnauthenticatedError("authorization: this server requires a bearer token for writes");
  }
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::StartsWithIgnoreCase(authorization, kScheme)) {
    return absl::UnauthenticatedError("authorization: expected \"Bearer <token>\"");
  }
  const absl::string_view given = absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  if (Sha256Hex(std::string(given)) != digest_) {
    return absl::UnauthenticatedError("authorization: the bearer token is not valid");
  }
  return absl::OkStatus();
}

}  // namespace marketsearch
