#include "features/listing_tokens.h"

#include <algorithm>

#include "features/text_normalizer.h"

namespace marketsearch {
namespace {

std::vector<std::string> SortedUniqueTokens(std::string_view text) {
  std::vector<std::string> t = Tokenize(NormalizeText(text));
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

// TokenHash of each token, sorted and unique.
std::vector<uint64_t> SortedUniqueHashes(const std::vector<std::string>& tokens) {
  std::vector<uint64_t> h;
  h.reserve(tokens.size());
  for (const std::string& t : tokens) h.push_back(TokenHash(t));
  std::sort(h.begin(), h.end());
  h.erase(std::unique(h.begin(), h.end()), h.end());
  return h;
}

}  // namespace

ListingTokens PrepareListingTokens(const Listing& listing) {
  ListingTokens t;
  t.title = SortedUniqueHashes(Tokenize(NormalizeText(listing.title())));
  t.text_words = SortedUniqueTokens(ListingText(listing));
  t.text = SortedUniqueHashes(t.text_words);
  t.description = SortedUniqueHashes(Tokenize(NormalizeText(listing.description())));
  t.pair = PreparePairListing(listing);
  return t;
}

}  // namespace marketsearch
