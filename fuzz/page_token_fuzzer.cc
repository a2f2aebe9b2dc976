// Fuzz target: the page token (serving/request_validation.h), decoded and verified as a forged
// token from a client. Input: byte 0 picks one of PageTokenRequests(), the rest is the token.
// Checks: a token that decodes has an offset in [0, kMaxResultDepth); re-encoding what it
// decoded gives a token that decodes to the same values; a request with the token either
// validates with a page inside the served depth or fails with page_token named; and an
// offset/version pair taken from the input round-trips through EncodePageToken exactly when
// the offset is in range.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/page_token_requests.h"
#include "serving/request_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsearch;
  if (size == 0) return 0;
  static const std::vector<SearchRequest>* const requests =
      new std::vector<SearchRequest>(PageTokenRequests());
  SearchRequest r = (*requests)[data[0] % requests->size()];
  r.set_page_token(std::string(reinterpret_cast<const char*>(data + 1), size - 1));

  int64_t offset = -1, version = -1;
  const absl::Status decoded = DecodePageToken(r, &offset, &version);
  if (decoded.ok()) {
    FUZZ_CHECK(offset >= 0 && offset < kMaxResultDepth, "decoded offset out of range");
    SearchRequest again = r;
    again.set_page_token(EncodePageToken(r, offset, version));
    int64_t offset2 = -1, version2 = -1;
    FUZZ_CHECK(DecodePageToken(again, &offset2, &version2).ok(), "re-encoded token refused");
    FUZZ_CHECK(offset2 == offset && version2 == version, "re-encoded token decodes differently");
  } else {
    FUZZ_CHECK(decoded.code() == absl::StatusCode::kInvalidArgument, "not INVALID_ARGUMENT");
    FUZZ_CHECK(decoded.message().rfind("page_token:", 0) == 0, "message does not name the field");
  }

  int page_offset = -1;
  const absl::Status valid = ValidateSearchRequest(r, &page_offset);
  if (valid.ok()) {
    if (r.page_token().empty()) {  // the first page
      FUZZ_CHECK(page_offset == 0, "a first page not at offset 0");
    } else {
      FUZZ_CHECK(decoded.ok(), "a request validated with a token DecodePageToken refused");
      FUZZ_CHECK(page_offset == offset, "validation's offset differs from the token's");
    }
    FUZZ_CHECK(page_offset + r.page_size() <= kMaxResultDepth, "page beyond the served depth");
  } else {
    FUZZ_CHECK(valid.code() == absl::StatusCode::kInvalidArgument, "not INVALID_ARGUMENT");
  }

  // Encode side: any offset and version the server could be asked to encode.
  if (size >= 17) {
    int64_t want_offset, want_version;
    std::memcpy(&want_offset, data + 1, 8);
    std::memcpy(&want_version, data + 9, 8);
    if (data[0] & 0x80) want_offset %= 2 * kMaxResultDepth;  // also reach the valid range
    SearchRequest e = r;
    e.set_page_token(EncodePageToken(r, want_offset, want_version));
    FUZZ_CHECK(e.page_token().size() <= kMaxPageTokenBytes, "encoded token over the size limit");
    int64_t got_offset = -1, got_version = -1;
    const absl::Status s = DecodePageToken(e, &got_offset, &got_version);
    const bool in_range = want_offset >= 0 && want_offset < kMaxResultDepth;
    FUZZ_CHECK(s.ok() == in_range, "an encoded token's acceptance does not follow its offset");
    if (s.ok()) {
      FUZZ_CHECK(got_offset == want_offset && got_version == want_version, "round trip");
    }
  }
  return 0;
}
