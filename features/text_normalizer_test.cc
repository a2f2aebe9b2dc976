#include "features/text_normalizer.h"

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(NormalizeText, CaseFoldsStripsAccentsAndPunctuation) {
  EXPECT_EQ(NormalizeText("  Used iPhone-12, 128GB!! "), "used iphone 12 128gb");
  EXPECT_EQ(NormalizeText("Café CRÈME Sofa"), "cafe creme sofa");
  EXPECT_EQ(NormalizeText("Straße"), "strasse");
}

TEST(NormalizeText, DropsEmojiAndCompatibilityForms) {
  EXPECT_EQ(NormalizeText("📱 phone 🔥🔥 ＧＯＯＤ"), "phone good");
  EXPECT_EQ(NormalizeText("ﬁne"), "fine");  // ligature → two letters (NFKC)
}

TEST(NormalizeText, InvalidUtf8GivesEmpty) {
  EXPECT_EQ(NormalizeText("abc\xff"), "");
  EXPECT_EQ(NormalizeText("naïve ☕"), "naive");
}

TEST(Tokenize, SplitsOnSpaces) {
  EXPECT_EQ(Tokenize("red size 10"), (std::vector<std::string>{"red", "size", "10"}));
  EXPECT_TRUE(Tokenize("").empty());
}

TEST(SplitCodepoints, MultiByte) {
  EXPECT_EQ(SplitCodepoints("aé☕"), (std::vector<std::string>{"a", "é", "☕"}));
}

}  // namespace
}  // namespace marketsearch
