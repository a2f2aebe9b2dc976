#include "features/listing_tsv.h"

#include <cmath>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "features/featurizer.h"
#include "features/utf8.h"

namespace marketsearch {
namespace {

enum Col {
  kId, kTitle, kDescription, kCategory, kBrand, kAttributes, kPrice, kCondition,
  kSellerId, kSellerRating, kCity, kLat, kLon, kListedAt, kNumCols
};
const char* const kColNames[kNumCols] = {
    "listing_id", "title", "description", "category", "brand", "attributes", "price",
    "condition", "seller_id", "seller_rating", "city", "lat", "lon", "listed_at_unix"};
const Col kRequired[] = {kId, kTitle, kCategory, kPrice, kCondition};

}  // namespace

bool ParseCondition(const std::string& raw, Condition* out) {
  const std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
  if (s == "new") *out = CONDITION_NEW;
  else if (s == "like_new" || s == "like new") *out = CONDITION_LIKE_NEW;
  else if (s == "used") *out = CONDITION_USED;
  else if (s == "for_parts" || s == "for parts") *out = CONDITION_FOR_PARTS;
  else return false;
  return true;
}

const char* ConditionName(Condition c) {
  switch (c) {
    case CONDITION_NEW: return "new";
    case CONDITION_LIKE_NEW: return "like_new";
    case CONDITION_USED: return "used";
    case CONDITION_FOR_PARTS: return "for_parts";
    default: return "unspecified";
  }
}

namespace {

// "field: ..." for a text field that is not valid UTF-8 or longer than `max_bytes`.
absl::Status CheckText(const std::string& field, const std::string& text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": longer than ", max_bytes,
                                                   " bytes (got ", text.size(), ")"));
  }
  if (!IsValidUtf8(text)) return absl::InvalidArgumentError(absl::StrCat(field, ": not valid UTF-8"));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateListing(const Listing& l) {
  auto bad = [](const std::string& m) { return absl::InvalidArgumentError(m); };
  if (l.listing_id() == 0) return bad("listing_id: must be > 0");
  for (const auto& [field, text, max] :
       {std::tuple<const char*, const std::string*, size_t>{"title", &l.title(), kMaxTitleBytes},
        {"description", &l.description(), kMaxDescriptionBytes},
        {"category", &l.category(), kMaxCategoryBytes},
        {"brand", &l.brand(), kMaxBrandBytes},
        {"city", &l.city(), kMaxCityBytes}}) {
    if (absl::Status s = CheckText(field, *text, max); !s.ok()) return s;
  }
  if (l.attributes_size() > kMaxAttributes) {
    return bad(absl::StrCat("attributes: at most ", kMaxAttributes, " (got ", l.attributes_size(), ")"));
  }
  for (int i = 0; i < l.attributes_size(); ++i) {
    const Attribute& a = l.attributes(i);
    const std::string at = absl::StrCat("attributes[", i, "].");
    if (absl::Status s = CheckText(at + "name", a.name(), kMaxAttributeNameBytes); !s.ok()) return s;
    if (absl::Status s = CheckText(at + "value", a.value(), kMaxAttributeValueBytes); !s.ok()) return s;
  }
  if (absl::StripAsciiWhitespace(l.title()).empty()) return bad("title: must not be empty");
  if (l.category().empty()) return bad("category: must not be empty");
  if (!std::isfinite(l.price()) || l.price() <= 0 || l.price() > kMaxPrice) {
    return bad(absl::StrCat("price: ", l.price(), " outside (0, ", kMaxPrice, "]"));
  }
  if (l.condition() <= CONDITION_UNSPECIFIED || l.condition() > CONDITION_FOR_PARTS) {
    return bad("condition: must be new, like_new, used or for_parts");
  }
  if (!(l.seller_rating() >= 0 && l.seller_rating() <= 5)) return bad("seller_rating: outside [0, 5]");
  // NaN fails every comparison: the checks are written so that it is refused.
  if (l.has_location() && !(std::fabs(l.location().lat()) <= 90 && std::fabs(l.location().lon()) <= 180)) {
    return bad("location: latitude must be in [-90, 90] and longitude in [-180, 180]");
  }
  if (l.listed_at_unix() < 0 || l.listed_at_unix() > kMaxListedAtUnix) {
    return bad(absl::StrCat("listed_at_unix: outside [0, ", kMaxListedAtUnix, "]"));
  }
  return absl::OkStatus();
}

absl::Status ListingTsvReader::Open(const std::string& path) {
  in_.open(path);
  if (!in_) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string header;
  if (!std::getline(in_, header)) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  line_no_ = 1;
  std::vector<std::string> names = absl::StrSplit(header, '\t');
  field_count_ = names.size();
  col_.assign(kNumCols, -1);
  for (size_t i = 0; i < names.size(); ++i) {
    for (int c = 0; c < kNumCols; ++c) {
      if (names[i] == kColNames[c]) col_[c] = static_cast<int>(i);
    }
  }
  for (Col c : kRequired) {
    if (col_[c] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": header lacks required column '", kColNames[c], "'"));
    }
  }
  return absl::OkStatus();
}

ListingTsvReader::Result ListingTsvReader::Next(Listing* l, std::string* error) {
  std::string line;
  do {
    if (!std::getline(in_, line)) return Result::kEnd;
    ++line_no_;
  } while (line.empty());
  std::vector<std::string> f = absl::StrSplit(line, '\t');
  if (f.size() != field_count_) {
    *error = absl::StrCat("expected ", field_count_, " fields, got ", f.size());
    return Result::kBadRow;
  }
  if (!IsValidUtf8(line)) {
    *error = "invalid UTF-8";
    return Result::kBadRow;
  }
  auto get = [&](Col c) -> const std::string& {
    static const std::string kEmpty;
    return col_[c] < 0 ? kEmpty : f[col_[c]];
  };
  l->Clear();
  uint64_t id = 0;
  if (get(kId).empty()) {
    *error = "missing listing_id";
    return Result::kBadRow;
  }
  if (!absl::SimpleAtoi(get(kId), &id) || id == 0) {
    *error = absl::StrCat("listing_id '", get(kId), "' is not a positive integer");
    return Result::kBadRow;
  }
  l->set_listing_id(id);
  if (absl::StripAsciiWhitespace(get(kTitle)).empty()) {
    *error = "empty title";
    return Result::kBadRow;
  }
  l->set_title(get(kTitle));
  l->set_description(get(kDescription));
  if (get(kCategory).empty()) {
    *error = "empty category";
    return Result::kBadRow;
  }
  l->set_category(get(kCategory));
  l->set_brand(get(kBrand));
  for (absl::string_view kv : absl::StrSplit(get(kAttributes), ';', absl::SkipEmpty())) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    Attribute* a = l->add_attributes();
    a->set_name(p.first);
    a->set_value(p.second);
  }
  double price = 0;
  if (!absl::SimpleAtod(get(kPrice), &price) || !std::isfinite(price)) {
    *error = absl::StrCat("price '", get(kPrice), "' is not a number");
    return Result::kBadRow;
  }
  if (price <= 0 || price > kMaxPrice) {
    *error = absl::StrCat("price ", get(kPrice), " outside (0, ", kMaxPrice, "]");
    return Result::kBadRow;
  }
  l->set_price(price);
  Condition cond;
  if (!ParseCondition(get(kCondition), &cond)) {
    *error = absl::StrCat("unknown condition '", get(kCondition), "'");
    return Result::kBadRow;
  }
  l->set_condition(cond);
  uint64_t seller = 0;
  if (!get(kSellerId).empty() && absl::SimpleAtoi(get(kSellerId), &seller)) l->set_seller_id(seller);
  float rating = 0;
  if (!get(kSellerRating).empty()) {
    if (!absl::SimpleAtof(get(kSellerRating), &rating) || rating < 0 || rating > 5) {
      *error = absl::StrCat("seller_rating '", get(kSellerRating), "' outside [0, 5]");
      return Result::kBadRow;
    }
  }
  l->set_seller_rating(rating);
  l->set_city(get(kCity));
  double lat = 0, lon = 0;
  if (!get(kLat).empty() || !get(kLon).empty()) {
    if (!absl::SimpleAtod(get(kLat), &lat) || !absl::SimpleAtod(get(kLon), &lon) ||
        std::fabs(lat) > 90 || std::fabs(lon) > 180) {
      *error = "lat/lon missing or out of range";
      return Result::kBadRow;
    }
    l->mutable_location()->set_lat(lat);
    l->mutable_location()->set_lon(lon);
  }
  int64_t listed_at = 0;
  if (!get(kListedAt).empty()) absl::SimpleAtoi(get(kListedAt), &listed_at);
  l->set_listed_at_unix(listed_at);
  l->set_featurizer_version(kFeaturizerVersion);
  if (absl::Status s = ValidateListing(*l); !s.ok()) {
    *error = std::string(s.message());
    return Result::kBadRow;
  }
  return Result::kOk;
}

}  // namespace marketsearch
