// Fuzz target: text normalisation and tokenisation (features/text_normalizer.h, utf8.h), the
// featurizer's query and listing paths (features/featurizer.h) and a listing's ranking tokens
// (features/listing_tokens.h). Input: tab-separated fields; the first is a buyer's query, the
// rest a listing's title, brand, category, description and attribute key/value pairs.
//
// Besides "no crash", it checks what the headers promise: the ASCII fast path gives what the
// utf8proc path gives; normalised text is valid UTF-8 with single inner spaces and no space at
// either end; hashed ids stay inside the id space; features are finite; PairFeatures from
// prepared listing terms equals PairFeatures from the listing.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_split.h"
#include "features/featurizer.h"
#include "features/listing_tokens.h"
#include "features/text_normalizer.h"
#include "features/utf8.h"
#include "fuzz/fuzz_check.h"

namespace marketsearch {
namespace {

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void CheckNormalized(std::string_view raw, const std::string& n) {
  FUZZ_CHECK(IsValidUtf8(n), "normalised text is not valid UTF-8");
  FUZZ_CHECK(n.empty() || (n.front() != ' ' && n.back() != ' '), "space at an end");
  FUZZ_CHECK(n.find("  ") == std::string::npos, "double space");
  if (!IsValidUtf8(raw)) FUZZ_CHECK(n.empty(), "invalid UTF-8 must normalise to nothing");
  for (const std::string& t : Tokenize(n)) {
    FUZZ_CHECK(!t.empty() && t.find(' ') == std::string::npos, "bad token");
  }
}

void CheckText(std::string_view text) {
  const std::string n = NormalizeText(text);
  CheckNormalized(text, n);
  if (IsAscii(text)) {
    FUZZ_CHECK(n == NormalizeTextUnicode(text), "ASCII fast path differs from utf8proc");
  }
  if (IsValidUtf8(text)) {
    std::string joined;
    for (const std::string& cp : SplitCodepoints(text)) joined += cp;
    FUZZ_CHECK(joined == text, "code points do not add up to the text");
  }
}

void CheckFinite(const float* v, size_t n, const char* what) {
  for (size_t i = 0; i < n; ++i) FUZZ_CHECK(std::isfinite(v[i]), what);
}

}  // namespace
}  // namespace marketsearch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsearch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<absl::string_view> f =
      absl::StrSplit(absl::string_view(input.data(), input.size()), '\t');
  for (absl::string_view field : f) CheckText(std::string_view(field.data(), field.size()));

  const std::string_view query(f[0].data(), f[0].size());
  const ParsedQuery parsed = ParseQuery(query);
  CheckNormalized(query, parsed.normalized);
  FUZZ_CHECK(parsed.terms.tokens.size() == parsed.terms.token_hashes.size(), "token hashes");
  for (int64_t id : parsed.feature_ids) {
    FUZZ_CHECK(id >= 0 && id < kTextVocabSize, "query feature id outside the id space");
  }
  FUZZ_CHECK(QueryFeatureIds(query) == parsed.feature_ids, "QueryFeatureIds != ParseQuery's");

  Listing listing;
  listing.set_listing_id(1);
  listing.set_price(100);
  listing.set_condition(CONDITION_USED);
  listing.set_seller_rating(4.5f);
  listing.set_listed_at_unix(1700000000);
  if (f.size() > 1) listing.set_title(std::string(f[1]));
  if (f.size() > 2) listing.set_brand(std::string(f[2]));
  if (f.size() > 3) listing.set_category(std::string(f[3]));
  if (f.size() > 4) listing.set_description(std::string(f[4]));
  for (size_t i = 5; i + 1 < f.size(); i += 2) {
    Attribute* a = listing.add_attributes();
    a->set_name(std::string(f[i]));
    a->set_value(std::string(f[i + 1]));
  }
  for (int64_t id : ListingFeatureIds(listing)) {
    FUZZ_CHECK(id >= 0 && id < kTextVocabSize, "listing feature id outside the id space");
  }
  const int64_t category = CategoryId(listing.category());
  FUZZ_CHECK(category >= 0 && category < kCategoryBuckets, "category id outside its buckets");
  CatalogStats stats;
  (*stats.mutable_category_median_price())[listing.category()] = 80;
  stats.set_reference_unix(1700000000);
  const auto dense = ListingDenseFeatures(listing, stats);
  CheckFinite(dense.data(), dense.size(), "dense listing feature not finite");

  User user;
  user.set_user_id(7);
  user.add_preferred_categories(listing.category());
  user.set_typical_price(120);
  user.mutable_location()->set_lat(52.5);
  user.mutable_location()->set_lon(13.4);
  for (const User* u : {static_cast<const User*>(nullptr), static_cast<const User*>(&user)}) {
    const auto direct = PairFeatures(parsed.terms, listing, u);
    CheckFinite(direct.data(), direct.size(), "pair feature not finite");
    const auto prepared = PairFeatures(parsed.terms, PreparePairListing(listing), listing, u);
    FUZZ_CHECK(direct == prepared, "PairFeatures differ with prepared listing terms");
  }
  const ListingTokens tokens = PrepareListingTokens(listing);
  FUZZ_CHECK(std::is_sorted(tokens.title.begin(), tokens.title.end()) &&
                 std::is_sorted(tokens.text.begin(), tokens.text.end()),
             "listing token sets not sorted");
  FUZZ_CHECK(tokens.text.size() <= tokens.text_words.size(), "more text hashes than words");
  return 0;
}
