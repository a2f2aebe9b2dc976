// The query-independent token sets of a listing that the ranking features compare a query
// against (ranking/ranking_features.h, columns 0-11 and 40-48): its text normalised and cut
// with features/text_normalizer, as sorted TokenHash sets. Tokenising a listing (utf8proc
// normalisation) is most of the cost of those columns, so it is done once per listing
// version: the in-memory listing records keep them beside each listing
// (index/memory_listing_reader.h), and offline tools memoise them (ranking's ListingTokenCache).
//
// Thread safety: PrepareListingTokens is stateless. Ownership: a value type.
#ifndef MARKETSEARCH_FEATURES_LISTING_TOKENS_H_
#define MARKETSEARCH_FEATURES_LISTING_TOKENS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "features/featurizer.h"
#include "proto/catalog.pb.h"

namespace marketsearch {

struct ListingTokens {
  std::vector<uint64_t> title;
  std::vector<uint64_t> text;              // ListingText(): title, brand, category, attribute values
  std::vector<uint64_t> description;
  std::vector<std::string> text_words;     // `text`'s tokens as words (fuzzy matching needs them)
  PairListingTerms pair;                   // the listing side of features/featurizer PairFeatures
};
ListingTokens PrepareListingTokens(const Listing& listing);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_LISTING_TOKENS_H_
