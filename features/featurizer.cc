#include "features/featurizer.h"

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

std::array<float, kListingDenseDim> ListingDenseFeatures(const Listing& l) {
  std::array<float, kListingDenseDim> f{};
  f[0] = static_cast<float>(std::log1p(std::max(0.0, l.price())) / 10.0);
  switch (l.condition()) {
    case CONDITION_NEW: f[1] = 1; break;
    case CONDITION_LIKE_NEW: f[2] = 1; break;
    case CONDITION_USED: f[3] = 1; break;
    case CONDITION_FOR_PARTS: f[4] = 1; break;
    default: break;
  }
  f[5] = l.seller_rating() / 5.0f;
  f[6] = l.brand().empty() ? 0.0f : 1.0f;
  f[7] = std::min(10, l.attributes_size()) / 10.0f;
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
