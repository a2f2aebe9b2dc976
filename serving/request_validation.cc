#include "serving/request_validation.h"

#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "features/text_normalizer.h"

namespace marketsearch {
namespace {

absl::Status Invalid(const std::string& msg) { return absl::InvalidArgumentError(msg); }

}  // namespace

std::string EncodePageToken(int offset, int64_t index_version) {
  return absl::WebSafeBase64Escape(absl::StrCat("p1:", offset, ":", index_version));
}

absl::Status DecodePageToken(const std::string& token, int* offset, int64_t* index_version) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return Invalid("page_token: malformed");
  std::vector<std::string> parts = absl::StrSplit(raw, ':');
  if (parts.size() != 3 || parts[0] != "p1" || !absl::SimpleAtoi(parts[1], offset) ||
      !absl::SimpleAtoi(parts[2], index_version) || *offset < 0) {
    return Invalid("page_token: malformed");
  }
  return absl::OkStatus();
}

absl::Status ValidateSearchRequest(const SearchRequest& r, int* offset) {
  if (r.query().size() > kMaxQueryBytes) {
    return Invalid(absl::StrCat("query: longer than ", kMaxQueryBytes, " bytes (got ",
                                r.query().size(), ")"));
  }
  if (absl::StripAsciiWhitespace(r.query()).empty()) return Invalid("query: must not be empty");
  if (!IsValidUtf8(r.query())) return Invalid("query: not valid UTF-8");
  if (NormalizeText(r.query()).empty()) return Invalid("query: has no letters or digits");
  if (r.page_size() < 1 || r.page_size() > kMaxPageSize) {
    return Invalid(absl::StrCat("page_size: must be between 1 and ", kMaxPageSize, ", got ",
                                r.page_size()));
  }
  const SearchFilters& f = r.filters();
  for (const std::string& c : f.categories()) {
    if (c.empty()) return Invalid("filters.categories: empty category name");
  }
  if (!std::isfinite(f.price().min()) || !std::isfinite(f.price().max()) ||
      f.price().min() < 0 || f.price().max() < 0) {
    return Invalid("filters.price: bounds must be finite and >= 0");
  }
  if (f.price().max() > 0 && f.price().min() > f.price().max()) {
    return Invalid("filters.price: min is greater than max");
  }
  for (int c : f.conditions()) {
    if (c <= CONDITION_UNSPECIFIED || c > CONDITION_FOR_PARTS) {
      return Invalid(absl::StrCat("filters.conditions: unknown condition ", c));
    }
  }
  if (f.has_geo()) {
    const GeoFilter& g = f.geo();
    if (!(g.radius_km() > 0) || !std::isfinite(g.radius_km())) {
      return Invalid("filters.geo.radius_km: must be > 0");
    }
    if (std::fabs(g.center().lat()) > 90 || std::fabs(g.center().lon()) > 180) {
      return Invalid("filters.geo.center: latitude/longitude out of range");
    }
  }
  *offset = 0;
  if (!r.page_token().empty()) {
    int64_t version;
    if (auto s = DecodePageToken(r.page_token(), offset, &version); !s.ok()) return s;
  }
  if (*offset + r.page_size() > kMaxResultDepth) {
    return Invalid(absl::StrCat("page_token: results beyond rank ", kMaxResultDepth,
                                " are not served"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLogEventsRequest(const LogEventsRequest& r) {
  if (r.events_size() == 0) return Invalid("events: must not be empty");
  if (r.events_size() > kMaxEventsPerCall) {
    return Invalid(absl::StrCat("events: at most ", kMaxEventsPerCall, " per call"));
  }
  for (int i = 0; i < r.events_size(); ++i) {
    const Event& e = r.events(i);
    const std::string at = absl::StrCat("events[", i, "].");
    if (e.request_id().empty()) return Invalid(at + "request_id: must not be empty");
    if (e.listing_id() == 0) return Invalid(at + "listing_id: must be > 0");
    if (e.position() < 0) return Invalid(at + "position: must be >= 0");
    if (e.type() == EVENT_TYPE_UNSPECIFIED || !EventType_IsValid(e.type())) {
      return Invalid(at + "type: must be set");
    }
  }
  return absl::OkStatus();
}

}  // namespace marketsearch
