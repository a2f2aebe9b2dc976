#include "features/featurizer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "features/text_normalizer.h"

namespace marketsearch {

uint64_t Fnv1a64(std::string_view data, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::vector<int64_t> TextFeatureIds(std::string_view normalized_text) {
  const std::vector<std::string> tokens = Tokenize(normalized_text);
  std::vector<int64_t> ids;
  ids.reserve(tokens.size() * 8);
  for (const auto& t : tokens) {
    ids.push_back(static_cast<int64_t>(Fnv1a64(absl::StrCat("w:", t)) % kWordBuckets));
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    ids.push_back(kWordBuckets + static_cast<int64_t>(
                                     Fnv1a64(absl::StrCat("b:", tokens[i - 1], " ", tokens[i])) %
                                     kBigramBuckets));
  }
  for (const auto& t : tokens) {
    std::vector<std::string> cps = SplitCodepoints(t);
    cps.insert(cps.begin(), "#");
    cps.push_back("#");
    for (size_t i = 0; i + 2 < cps.size(); ++i) {
      ids.push_back(kWordBuckets + kBigramBuckets +
                    static_cast<int64_t>(Fnv1a64(absl::StrCat("c:", cps[i], cps[i + 1], cps[i + 2])) %
                                         kTrigramBuckets));
    }
  }
  return ids;
}

std::vector<int64_t> QueryFeatureIds(std::string_view raw_query) {
  return TextFeatureIds(NormalizeText(raw_query));
}

std::string ListingText(const Listing& listing) {
  std::string text = absl::StrCat(listing.title(), " ", listing.brand(), " ", listing.category());
  for (const auto& a : listing.attributes()) absl::StrAppend(&text, " ", a.value());
  return text;
}

std::vector<int64_t> ListingFeatureIds(const Listing& listing) {
  return TextFeatureIds(NormalizeText(ListingText(listing)));
}

int64_t CategoryId(std::string_view category) {
  return static_cast<int64_t>(Fnv1a64(NormalizeText(category)) % kCategoryBuckets);
}

std::array<float, kListingDenseDim> ListingDenseFeatures(const Listing& l,
                                                         const CatalogStats& stats) {
  std::array<float, kListingDenseDim> f{};
  f[0] = static_cast<float>(std::log1p(std::max(0.0, l.price())) / 10.0);
  auto median = stats.category_median_price().find(l.category());
  if (median != stats.category_median_price().end() && median->second > 0 && l.price() > 0) {
    f[1] = static_cast<float>(std::clamp(std::log(l.price() / median->second), -5.0, 5.0));
  }
  switch (l.condition()) {
    case CONDITION_NEW: f[2] = 1; break;
    case CONDITION_LIKE_NEW: f[3] = 1; break;
    case CONDITION_USED: f[4] = 1; break;
    case CONDITION_FOR_PARTS: f[5] = 1; break;
    default: break;
  }
  f[6] = l.seller_rating() / 5.0f;
  f[7] = l.brand().empty() ? 0.0f : 1.0f;
  f[8] = std::min(10, l.attributes_size()) / 10.0f;
  if (stats.reference_unix() > 0 && l.listed_at_unix() > 0) {
    const double days = (stats.reference_unix() - l.listed_at_unix()) / 86400.0;
    f[9] = static_cast<float>(std::clamp(days / 90.0, 0.0, 10.0));
  }
  return f;
}

namespace {

bool AllAscii(const std::string& t) {
  for (const char c : t) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::vector<uint64_t> Trigrams(const std::vector<std::string>& tokens) {
  std::vector<uint64_t> out;
  for (const auto& t : tokens) {
    if (AllAscii(t)) {
      // One byte per code point: the same hashes as below without a string per code point
      // (this ran for every listing the ranking-token cache had not seen).
      const std::string padded = "#" + t + "#";
      for (size_t i = 0; i + 2 < padded.size(); ++i) {
        out.push_back(Fnv1a64(std::string_view(padded).substr(i, 3)));
      }
      continue;
    }
    std::vector<std::string> cps = SplitCodepoints(t);
    cps.insert(cps.begin(), "#");
    cps.push_back("#");
    for (size_t i = 0; i + 2 < cps.size(); ++i) out.push_back(Fnv1a64(cps[i] + cps[i + 1] + cps[i + 2]));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool Contains(const std::vector<uint64_t>& sorted, uint64_t t) {
  return std::binary_search(sorted.begin(), sorted.end(), t);
}

std::vector<uint64_t> Hashes(const std::vector<std::string>& tokens) {
  std::vector<uint64_t> out;
  out.reserve(tokens.size());
  for (const std::string& t : tokens) out.push_back(TokenHash(t));
  return out;
}

}  // namespace

namespace {
QueryTerms TermsOfNormalized(std::string_view normalized) {
  QueryTerms t;
  t.tokens = Tokenize(normalized);
  t.token_hashes = Hashes(t.tokens);
  t.trigrams = Trigrams(t.tokens);
  return t;
}
}  // namespace

QueryTerms PrepareQuery(std::string_view raw_query) {
  return TermsOfNormalized(NormalizeText(raw_query));
}

ParsedQuery ParseQuery(std::string_view raw) {
  ParsedQuery q;
  q.raw = std::string(raw);
  q.normalized = NormalizeText(raw);
  q.feature_ids = TextFeatureIds(q.normalized);
  q.terms = TermsOfNormalized(q.normalized);
  return q;
}

PairListingTerms PreparePairListing(const Listing& l) {
  PairListingTerms p;
  // Normalise each listing field once.
  const std::vector<std::string> title_tokens = Tokenize(NormalizeText(l.title()));
  const std::vector<uint64_t> title = Hashes(title_tokens);
  p.brand = Hashes(Tokenize(NormalizeText(l.brand())));
  p.attr_values.reserve(l.attributes_size());
  for (const auto& a : l.attributes()) p.attr_values.push_back(Hashes(Tokenize(NormalizeText(a.value()))));
  p.title_sorted = title;
  std::sort(p.title_sorted.begin(), p.title_sorted.end());
  // Same token set as SortedTokens(ListingText(l)): title, brand, category, attribute values.
  p.all_sorted = title;
  p.all_sorted.insert(p.all_sorted.end(), p.brand.begin(), p.brand.end());
  for (uint64_t h : Hashes(Tokenize(NormalizeText(l.category())))) p.all_sorted.push_back(h);
  for (const auto& v : p.attr_values) p.all_sorted.insert(p.all_sorted.end(), v.begin(), v.end());
  std::sort(p.all_sorted.begin(), p.all_sorted.end());
  p.title_trigrams = Trigrams(title_tokens);
  return p;
}

std::array<float, kPairDim> PairFeatures(const QueryTerms& q, const Listing& l, const User* user) {
  return PairFeatures(q, PreparePairListing(l), l, user);
}

std::array<float, kPairDim> PairFeatures(const QueryTerms& q, const PairListingTerms& p,
                                         const Listing& l, const User* user) {
  std::array<float, kPairDim> f{};
  const std::vector<uint64_t>& title = p.title_sorted;
  const std::vector<uint64_t>& all = p.all_sorted;
  const std::vector<uint64_t>& brand = p.brand;
  const std::vector<std::vector<uint64_t>>& attr_values = p.attr_values;
  std::vector<uint64_t> query_sorted = q.token_hashes;
  std::sort(query_sorted.begin(), query_sorted.end());
  if (!q.tokens.empty()) {
    int in_all = 0, in_title = 0;
    for (const uint64_t t : q.token_hashes) {
      in_all += Contains(all, t);
      in_title += Contains(title, t);
    }
    f[0] = static_cast<float>(in_all) / q.tokens.size();
    f[1] = static_cast<float>(in_title) / q.tokens.size();
    f[2] = in_title == static_cast<int>(q.tokens.size()) ? 1.0f : 0.0f;
  }
  if (!brand.empty()) {
    bool named = true;
    for (const uint64_t t : brand) named &= Contains(query_sorted, t);
    f[3] = named ? 1.0f : 0.0f;
  }
  int attr_named = 0;
  for (const auto& v : attr_values) {
    bool named = !v.empty();
    for (const uint64_t t : v) named &= Contains(query_sorted, t);
    attr_named += named;
  }
  f[4] = static_cast<float>(attr_named) / (l.attributes_size() + 1);
  f[5] = std::min<size_t>(q.tokens.size(), 20) / 10.0f;
  f[6] = std::min<size_t>(title.size(), 40) / 20.0f;
  const std::vector<uint64_t>& tt = p.title_trigrams;
  std::vector<uint64_t> inter;
  std::set_intersection(q.trigrams.begin(), q.trigrams.end(), tt.begin(), tt.end(),
                        std::back_inserter(inter));
  const size_t uni = q.trigrams.size() + tt.size() - inter.size();
  f[7] = uni ? static_cast<float>(inter.size()) / uni : 0.0f;
  if (user != nullptr) {
    if (user->has_location() && l.has_location()) {
      constexpr double kRad = M_PI / 180.0;
      const double dlat = (l.location().lat() - user->location().lat()) * kRad;
      const double dlon = (l.location().lon() - user->location().lon()) * kRad;
      const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                       std::cos(user->location().lat() * kRad) * std::cos(l.location().lat() * kRad) *
                           std::sin(dlon / 2) * std::sin(dlon / 2);
      const double km = 2 * 6371.0 * std::asin(std::min(1.0, std::sqrt(h)));
      f[8] = static_cast<float>(std::log1p(km) / 10.0);
      f[9] = 1.0f;
    }
    for (const auto& c : user->preferred_categories()) {
      if (c == l.category()) f[10] = 1.0f;
    }
    if (user->typical_price() > 0 && l.price() > 0) {
      f[11] = static_cast<float>(std::min(5.0, std::fabs(std::log(l.price() / user->typical_price()))));
    }
  }
  return f;
}

absl::Status CheckFeaturizerVersion(uint32_t artifact_version, std::string_view what) {
  if (artifact_version == kFeaturizerVersion) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(std::string(what), " was made with featurizer version ", artifact_version,
                   " but this binary runs featurizer version ", kFeaturizerVersion,
                   "; rebuild the artifact with this featurizer"));
}

}  // namespace marketsearch
