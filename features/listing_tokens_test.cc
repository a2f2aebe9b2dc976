#include "features/listing_tokens.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(ListingTokensTest, SortedUniqueHashesOfEachField) {
  Listing l;
  l.set_title("Oak Table oak");
  l.set_brand("Ikea");
  l.set_category("furniture");
  l.set_description("Solid oak, barely used");
  auto* a = l.add_attributes();
  a->set_name("colour");
  a->set_value("Brown");
  const ListingTokens t = PrepareListingTokens(l);
  EXPECT_EQ(t.title.size(), 2u);  // "oak" once
  EXPECT_TRUE(std::is_sorted(t.title.begin(), t.title.end()));
  EXPECT_TRUE(std::binary_search(t.title.begin(), t.title.end(), TokenHash("table")));
  // The text: title, brand, category and attribute values, as words and as hashes.
  EXPECT_EQ(t.text_words, (std::vector<std::string>{"brown", "furniture", "ikea", "oak", "table"}));
  ASSERT_EQ(t.text.size(), t.text_words.size());
  EXPECT_TRUE(std::binary_search(t.text.begin(), t.text.end(), TokenHash("ikea")));
  EXPECT_FALSE(std::binary_search(t.text.begin(), t.text.end(), TokenHash("solid")));
  EXPECT_TRUE(std::binary_search(t.description.begin(), t.description.end(), TokenHash("solid")));
  EXPECT_EQ(t.pair.brand, std::vector<uint64_t>{TokenHash("ikea")});
}

TEST(ListingTokensTest, EmptyListing) {
  const ListingTokens t = PrepareListingTokens(Listing());
  EXPECT_TRUE(t.title.empty());
  EXPECT_TRUE(t.text.empty());
  EXPECT_TRUE(t.text_words.empty());
  EXPECT_TRUE(t.description.empty());
}

}  // namespace
}  // namespace marketsearch
