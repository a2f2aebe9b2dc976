#include "serving/request_validation.h"

#include <cmath>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "features/utf8.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace marketsearch {
namespace {

absl::Status Invalid(const std::string& msg) { return absl::InvalidArgumentError(msg); }

// What a page token is bound to: the query and the filters (not page_size, which a client
// may change between pages). The featurizer's FNV-1a: the same in every process and replica
// (absl::Hash is seeded per process).
uint64_t RequestFingerprint(const SearchRequest& r) {
  std::string filters;
  {
    google::protobuf::io::StringOutputStream out(&filters);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    r.filters().SerializeToCodedStream(&coded);
  }
  return Fnv1a64(filters, Fnv1a64(std::string_view("\0", 1), Fnv1a64(r.query())));
}

}  // namespace

std::string EncodePageToken(const SearchRequest& request, int64_t offset, int64_t index_version) {
  return absl::WebSafeBase64Escape(absl::StrCat("p2:", offset, ":", index_version, ":",
                                                absl::Hex(RequestFingerprint(request))));
}

absl::Status DecodePageToken(const SearchRequest& request, int64_t* offset, int64_t* index_version) {
  const std::string& token = request.page_token();
  std::string raw;
  if (token.size() > kMaxPageTokenBytes || !absl::WebSafeBase64Unescape(token, &raw)) {
    return Invalid("page_token: malformed (pass next_page_token unchanged)");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, ':');
  uint64_t fingerprint = 0;
  if (parts.size() != 4 || parts[0] != "p2" || !absl::SimpleAtoi(parts[1], offset) ||
      !absl::SimpleAtoi(parts[2], index_version) || !absl::SimpleHexAtoi(parts[3], &fingerprint)) {
    return Invalid("page_token: malformed (pass next_page_token unchanged)");
  }
  if (fingerprint != RequestFingerprint(request)) {
    return Invalid("page_token: issued for another query or other filters");
  }
  if (*offset < 0 || *offset >= kMaxResultDepth) {
    return Invalid(absl::StrCat("page_token: offset outside [0, ", kMaxResultDepth, ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSearchRequest(const SearchRequest& r, int* offset, ParsedQuery* parsed) {
  if (r.query().size() > kMaxQueryBytes) {
    return Invalid(absl::StrCat("query: longer than ", kMaxQueryBytes, " bytes (got ",
                                r.query().size(), ")"));
  }
  if (!IsValidUtf8(r.query())) return Invalid("query: not valid UTF-8");
  if (absl::StripAsciiWhitespace(r.query()).empty()) return Invalid("query: must not be empty");
  ParsedQuery local;
  ParsedQuery* q = parsed != nullptr ? parsed : &local;
  *q = ParseQuery(r.query());
  if (q->normalized.empty()) return Invalid("query: has no letters or digits");
  if (r.page_size() < 1 || r.page_size() > kMaxPageSize) {
    return Invalid(absl::StrCat("page_size: must be between 1 and ", kMaxPageSize, ", got ",
                                r.page_size()));
  }
  const SearchFilters& f = r.filters();
  if (f.categories_size() > kMaxFilterCategories) {
    return Invalid(absl::StrCat("filters.categories: at most ", kMaxFilterCategories, " (got ",
                                f.categories_size(), ")"));
  }
  for (int i = 0; i < f.categories_size(); ++i) {
    const std::string& c = f.categories(i);
    const std::string at = absl::StrCat("filters.categories[", i, "]: ");
    if (c.empty()) return Invalid(at + "empty category name");
    if (c.size() > kMaxCategoryBytes) {
      return Invalid(absl::StrCat(at, "longer than ", kMaxCategoryBytes, " bytes (got ", c.size(), ")"));
    }
    if (!IsValidUtf8(c)) return Invalid(at + "not valid UTF-8");
  }
  if (!std::isfinite(f.price().min()) || !std::isfinite(f.price().max()) ||
      f.price().min() < 0 || f.price().max() < 0) {
    return Invalid("filters.price: bounds must be finite and >= 0");
  }
  if (f.price().max() > 0 && f.price().min() > f.price().max()) {
    return Invalid("filters.price: min is greater than max");
  }
  if (f.conditions_size() > kMaxFilterConditions) {
    return Invalid(absl::StrCat("filters.conditions: at most ", kMaxFilterConditions, " (got ",
                                f.conditions_size(), ")"));
  }
  for (int c : f.conditions()) {
    if (c <= CONDITION_UNSPECIFIED || c > CONDITION_FOR_PARTS) {
      return Invalid(absl::StrCat("filters.conditions: unknown condition ", c));
    }
  }
  if (f.has_geo()) {
    const GeoFilter& g = f.geo();
    // Written so that NaN, which fails every comparison, is refused.
    if (!(g.radius_km() > 0 && g.radius_km() <= kMaxGeoRadiusKm)) {
      return Invalid(absl::StrCat("filters.geo.radius_km: must be in (0, ", kMaxGeoRadiusKm, "]"));
    }
    if (!(std::fabs(g.center().lat()) <= 90 && std::fabs(g.center().lon()) <= 180)) {
      return Invalid("filters.geo.center: latitude must be in [-90, 90] and longitude in [-180, 180]");
    }
  }
  if (r.anonymous_id().size() > kMaxAnonymousIdBytes) {
    return Invalid(absl::StrCat("anonymous_id: longer than ", kMaxAnonymousIdBytes, " bytes (got ",
                                r.anonymous_id().size(), ")"));
  }
  for (char c : r.anonymous_id()) {
    if (c < 0x21 || c > 0x7e) return Invalid("anonymous_id: only printable ASCII without spaces");
  }
  if (r.force_arms_size() > kMaxForcedArms) {
    return Invalid(absl::StrCat("force_arms: at most ", kMaxForcedArms, " (got ",
                                r.force_arms_size(), ")"));
  }
  int64_t start = 0;
  if (!r.page_token().empty()) {
    int64_t version;
    if (auto s = DecodePageToken(r, &start, &version); !s.ok()) return s;
  }
  // 64-bit: start < kMaxResultDepth and page_size <= kMaxPageSize, so the sum cannot wrap.
  if (start + r.page_size() > kMaxResultDepth) {
    return Invalid(absl::StrCat("page_token: results beyond rank ", kMaxResultDepth,
                                " are not served"));
  }
  *offset = static_cast<int>(start);
  return absl::OkStatus();
}

absl::Status ValidateLogEventsRequest(const LogEventsRequest& r, int64_t now_ms) {
  if (r.events_size() == 0) return Invalid("events: must not be empty");
  if (r.events_size() > kMaxEventsPerCall) {
    return Invalid(absl::StrCat("events: at most ", kMaxEventsPerCall, " per call"));
  }
  for (int i = 0; i < r.events_size(); ++i) {
    const Event& e = r.events(i);
    const std::string at = absl::StrCat("events[", i, "].");
    if (e.request_id().empty()) return Invalid(at + "request_id: must not be empty");
    if (e.request_id().size() > kMaxRequestIdBytes || !IsValidUtf8(e.request_id())) {
      return Invalid(absl::StrCat(at, "request_id: not a request id (at most ", kMaxRequestIdBytes,
                                  " bytes of UTF-8, from a search response's request_id)"));
    }
    if (e.listing_id() == 0) return Invalid(at + "listing_id: must be > 0");
    if (e.position() < 0 || e.position() >= kMaxResultDepth) {
      return Invalid(absl::StrCat(at, "position: must be in [0, ", kMaxResultDepth, ")"));
    }
    if (e.type() == EVENT_TYPE_UNSPECIFIED || !EventType_IsValid(e.type())) {
      return Invalid(at + "type: must be click, add_to_cart, purchase or contact_seller");
    }
    if (e.timestamp_ms() < 0) return Invalid(at + "timestamp_ms: must be >= 0 (0 = server time)");
    // The log is keyed by time and retention drops what is older than a cutoff: an event
    // stamped far ahead (INT64_MAX was accepted) would outlive every cutoff, kept forever.
    if (now_ms > 0 && e.timestamp_ms() > now_ms + kMaxEventClockAheadMs) {
      return Invalid(absl::StrCat(at, "timestamp_ms: more than ", kMaxEventClockAheadMs / 3600000,
                                  " h ahead of the server clock (0 = server time)"));
    }
    if (e.attribution_token().size() > kMaxAttributionTokenBytes) {
      return Invalid(absl::StrCat(at, "attribution_token: longer than ", kMaxAttributionTokenBytes,
                                  " bytes (pass a search response's attribution_token unchanged)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace marketsearch
