#include "datasets/query_typos.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

// Optimal-string-alignment distance (adjacent swaps cost 1), for checking each kind.
int EditDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// The word that differs between a query and its typo'd copy (words split at spaces).
std::pair<std::string, std::string> ChangedWord(const std::string& a, const std::string& b) {
  const std::vector<std::string> wa = absl::StrSplit(a, ' ');
  const std::vector<std::string> wb = absl::StrSplit(b, ' ');
  EXPECT_EQ(wa.size(), wb.size());
  for (size_t i = 0; i < wa.size() && i < wb.size(); ++i) {
    if (wa[i] != wb[i]) return {wa[i], wb[i]};
  }
  return {"", ""};
}

TEST(QueryTypos, EachKindMakesOneEditOfItsOwnShapeInTheLongestWord) {
  const std::string q = "bosch cordless drill 18v";  // "cordless" is the longest word
  for (TypoKind kind : AllTypoKinds()) {
    for (uint64_t seed = 0; seed < 50; ++seed) {
      bool changed = false;
      const std::string t = WithTypo(q, kind, seed, &changed);
      ASSERT_TRUE(changed);
      ASSERT_NE(t, q) << TypoKindName(kind);
      const auto [before, after] = ChangedWord(q, t);
      EXPECT_EQ(before, "cordless") << t;
      EXPECT_EQ(after[0], 'c') << t;  // the first letter is kept
      EXPECT_EQ(EditDistance(before, after), 1) << t;
      EXPECT_EQ(t.substr(0, 6), "bosch ");
      EXPECT_EQ(t.substr(t.size() - 10), " drill 18v") << t;
      switch (kind) {
        case TypoKind::kSwap:
          EXPECT_EQ(after.size(), before.size());
          EXPECT_EQ(std::multiset<char>(after.begin(), after.end()),
                    std::multiset<char>(before.begin(), before.end()));
          break;
        case TypoKind::kDeletion: EXPECT_EQ(after.size(), before.size() - 1); break;
        case TypoKind::kDoubling: {
          ASSERT_EQ(after.size(), before.size() + 1);
          bool doubled = false;
          for (size_t i = 1; i < after.size(); ++i) {
            doubled |= after[i] == after[i - 1] &&
                       after.substr(0, i) + after.substr(i + 1) == before;
          }
          EXPECT_TRUE(doubled) << after;
          break;
        }
        case TypoKind::kKeyboard:
        case TypoKind::kInsertion: {
          // The new letter is a QWERTY neighbour of the one it replaces or follows.
          const std::string rows[] = {"qwertyuiop", "asdfghjkl", "zxcvbnm"};
          auto pos = [&](char c) {
            for (int r = 0; r < 3; ++r) {
              const size_t x = rows[r].find(c);
              if (x != std::string::npos) return std::pair<int, int>(r, static_cast<int>(x));
            }
            return std::pair<int, int>(-9, -9);
          };
          size_t i = 0;
          while (i < before.size() && before[i] == after[i]) ++i;
          ASSERT_LT(i, after.size());
          const char typed = after[i];
          const char meant = kind == TypoKind::kKeyboard ? before[i] : after[i - 1];
          EXPECT_EQ(after.size(), before.size() + (kind == TypoKind::kInsertion ? 1 : 0));
          const auto [r1, c1] = pos(typed);
          const auto [r2, c2] = pos(meant);
          EXPECT_LE(std::abs(r1 - r2), 1) << meant << " -> " << typed;
          EXPECT_LE(std::abs(c1 - c2), 1) << meant << " -> " << typed;
          EXPECT_NE(typed, meant);
          break;
        }
      }
    }
  }
}

TEST(QueryTypos, SameInputsSameTextAndSeedsVary) {
  const std::string q = "samsung galaxy watch";
  for (TypoKind kind : AllTypoKinds()) {
    EXPECT_EQ(WithTypo(q, kind, 7), WithTypo(q, kind, 7));
    std::set<std::string> variants;
    for (uint64_t seed = 0; seed < 40; ++seed) variants.insert(WithTypo(q, kind, seed));
    EXPECT_GE(variants.size(), 4u) << TypoKindName(kind);
  }
  // Pinned: a change of the generator would silently change every typo'd evaluation set.
  EXPECT_EQ(WithTypo("samsung galaxy watch", TypoKind::kSwap, 2026), "samsnug galaxy watch");
  EXPECT_EQ(WithTypo("samsung galaxy watch", TypoKind::kKeyboard, 2026), "sajsung galaxy watch");
  EXPECT_EQ(WithTypo("samsung galaxy watch", TypoKind::kInsertion, 2026), "samksung galaxy watch");
}

TEST(QueryTypos, QueriesWithoutAnAlphabeticWordOfFourLettersStayAsTheyAre) {
  for (const std::string q : {"", "tv", "ps5 128gb", "iphone12 pro", "café crème", "abc xyz"}) {
    bool changed = true;
    EXPECT_EQ(WithTypo(q, TypoKind::kDeletion, 1, &changed), q);
    EXPECT_FALSE(changed) << q;
  }
  bool changed = true;
  EXPECT_EQ(WithTypo("tv baaa", TypoKind::kSwap, 3, &changed), "tv baaa");  // nothing to swap
  EXPECT_FALSE(changed);
  // Case is kept; punctuation separates words.
  const std::string t = WithTypo("Cordless, DRILL!", TypoKind::kKeyboard, 5);
  EXPECT_EQ(t.substr(0, 1), "C");
  EXPECT_NE(t, "Cordless, DRILL!");
  EXPECT_EQ(t.substr(t.size() - 8), ", DRILL!");
}

TEST(QueryTypos, KindNamesRoundTrip) {
  for (TypoKind kind : AllTypoKinds()) {
    auto parsed = ParseTypoKind(TypoKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  auto bad = ParseTypoKind("transposition");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("transposition"));
}

}  // namespace
}  // namespace marketsearch
