// Fuzz target: the whole Search path from the bytes of a SearchRequest, as the server runs it:
// ParseRequestMessage (serving/message_parser.h) → Searcher::Search (validation, both retrieval
// legs, hydration, the ranker, pagination) over a small deployment (serving_fixture.h), and the
// next page through the returned page token.
// Checks: bad bytes and bad requests are INVALID_ARGUMENT with a short message naming a field
// and not echoing the query; nothing else but OK comes back (INTERNAL would be a server bug on
// a healthy deployment); a page holds at most page_size distinct listings, each one the
// catalog has and one that passes the request's filters; the next page is served and shares
// no listing with the first.
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/serving_fixture.h"
#include "serving/message_parser.h"

namespace marketsearch {
namespace {

void CheckRefusal(const absl::Status& s, const SearchRequest& r) {
  FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument,
             absl::StrCat("expected OK or INVALID_ARGUMENT, got ", s.ToString()).c_str());
  FUZZ_CHECK(!s.message().empty() && s.message().size() <= 200, "refusal message size");
  if (r.query().size() >= 12) {
    FUZZ_CHECK(s.message().find(r.query()) == absl::string_view::npos, "message echoes the query");
  }
}

void CheckPage(const SearchRequest& r, const SearchResponse& resp,
               absl::flat_hash_set<uint64_t>* seen) {
  const FuzzDeployment& d = Deployment();
  FUZZ_CHECK(resp.results_size() <= r.page_size(), "more results than page_size");
  for (const SearchResult& res : resp.results()) {
    auto it = d.catalog.find(res.listing_id());
    FUZZ_CHECK(it != d.catalog.end(), "a result the catalog does not have");
    FUZZ_CHECK(MatchesFilters(it->second, r.filters()), "a result that fails the filters");
    FUZZ_CHECK(seen->insert(res.listing_id()).second, "a listing twice (page or next page)");
  }
}

}  // namespace
}  // namespace marketsearch

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // As the server does at start: protobuf's own "invalid UTF-8" parse errors are answered by
  // ParseRequestMessage, not logged once per input.
  marketsearch::InstallProtobufLogFilter();
  marketsearch::Deployment();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsearch;
  const FuzzDeployment& d = Deployment();
  SearchRequest r;
  const absl::Status parsed =
      ParseRequestMessage(std::string_view(reinterpret_cast<const char*>(data), size), &r);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.code() == absl::StatusCode::kInvalidArgument, "parse error code");
    return 0;
  }
  SearchResponse resp;
  const absl::Status s = d.searcher->Search(r, &resp);
  if (!s.ok()) {
    CheckRefusal(s, r);
    return 0;
  }
  absl::flat_hash_set<uint64_t> seen;
  CheckPage(r, resp, &seen);
  if (!resp.next_page_token().empty()) {
    SearchRequest next = r;
    next.set_page_token(resp.next_page_token());
    SearchResponse next_resp;
    const absl::Status n = d.searcher->Search(next, &next_resp);
    FUZZ_CHECK(n.ok(), absl::StrCat("next page refused: ", n.ToString()).c_str());
    CheckPage(next, next_resp, &seen);
  }
  return 0;
}
