#include "features/text_normalizer.h"

#include <random>

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

// The ASCII fast path must give exactly what utf8proc gives: every ASCII character alone and
// between letters, and random ASCII strings (controls, punctuation, digits, both cases).
TEST(NormalizeText, AsciiFastPathEqualsUtf8proc) {
  for (int c = 0; c < 128; ++c) {
    const std::string one(1, static_cast<char>(c));
    const std::string mid = "Ab" + one + "9z";
    EXPECT_EQ(NormalizeText(one), NormalizeTextUnicode(one)) << "char " << c;
    EXPECT_EQ(NormalizeText(mid), NormalizeTextUnicode(mid)) << "char " << c;
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 127), len(0, 40);
  for (int i = 0; i < 20000; ++i) {
    std::string s(len(rng), ' ');
    for (char& c : s) c = static_cast<char>(byte(rng));
    ASSERT_EQ(NormalizeText(s), NormalizeTextUnicode(s)) << "input of " << s.size() << " bytes";
  }
  EXPECT_EQ(NormalizeText("  Used iPhone-12, 128GB!! "), "used iphone 12 128gb");
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
