// AnnSource with a speller: what the query tower is handed for a misspelt query, on a real
// Xapian index (the spelling dictionary) and a fake tower that reports its bag.
#include "retrieval/candidate_source.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "index/index_writer.h"
#include "index/lexical_index.h"
#include "index/lexical_writer.h"
#include "retrieval/fake_model_runner.h"

namespace marketsearch {
namespace {

// [bag size, 0]: how many feature ids the tower was given.
absl::StatusOr<FloatMatrix> BagSize(absl::Span<const InputTensor> in) {
  FloatMatrix m;
  m.rows = 1;
  m.cols = 2;
  m.data = {static_cast<float>(FakeModelRunner::Int64Values(in[0]).size()), 0.0f};
  return m;
}

Listing Titled(uint64_t id, const std::string& title) {
  Listing l;
  l.set_listing_id(id);
  l.set_title(title);
  l.set_category("tools");
  l.set_price(50);
  return l;
}

class AnnSourceSpellerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/speller_lexical");
    LexicalIndexWriter::Options o;
    o.path = dir;
    o.overwrite = true;
    auto w = LexicalIndexWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.status();
    // "cordless" in three listings: enough for a correction (spelling_min_listings).
    const std::vector<std::string> titles = {"bosch cordless drill", "makita cordless drill",
                                             "cordless screwdriver set", "garden hose reel",
                                             "bench vice", "small bench vice", "bench vice 4in"};
    for (size_t i = 0; i < titles.size(); ++i) {
      Listing l = Titled(i + 1, titles[i]);
      if (titles[i].find("vice") != std::string::npos) l.set_description("lightweight and sturdy");
      ASSERT_TRUE((*w)->Add(l).ok());
    }
    // A sellers' typo: "balck" in one listing, "black" in 21 (20x as many: a typo after all).
    for (uint64_t id = 100; id < 121; ++id) ASSERT_TRUE((*w)->Add(Titled(id, "black tool bag")).ok());
    ASSERT_TRUE((*w)->Add(Titled(200, "balck tool bag")).ok());
    ASSERT_TRUE((*w)->Commit().ok());
    w->reset();
    auto lexical = LexicalIndex::Open(dir);
    ASSERT_TRUE(lexical.ok()) << lexical.status();
    lexical_ = std::move(*lexical);
    ModelManifest m;
    m.set_model_name("query_tower");
    m.set_version(1);
    m.set_embedding_dim(2);
    encoder_ = std::make_unique<QueryEncoder>(std::make_shared<FakeModelRunner>(m, BagSize));
    const std::vector<float> vectors = {1, 0, 0, 1};
    IndexManifest im;
    im.set_version(1);
    auto index = BuildInMemorySnapshot("Flat", 2, vectors.data(), {1, 2}, im, nullptr);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *index;
  }

  // The bag size the tower was given for `text`.
  float BagFor(const std::string& text, const LexicalIndex* speller) {
    const AnnSource source(*encoder_, *index_, nullptr, speller);
    const ParsedQuery q = ParseQuery(text);
    auto r = source.Retrieve({q, 2, nullptr, 0});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->query_embedding[0] : -1;
  }

  std::unique_ptr<LexicalIndex> lexical_;
  std::unique_ptr<QueryEncoder> encoder_;
  std::shared_ptr<const IndexSnapshot> index_;
};

TEST_F(AnnSourceSpellerTest, MisspeltWordsReachTheTowerCorrectedBesideTheRawOnes) {
  const auto ids = [](const std::string& text) {
    return static_cast<float>(TextFeatureIds(text).size());
  };
  // "cordles" is no word of the index: the tower gets the raw bag and the corrected one.
  EXPECT_EQ(BagFor("Cordles drill", lexical_.get()), ids("cordles drill") + ids("cordless drill"));
  // Without a speller, or with nothing to correct, the raw bag alone.
  EXPECT_EQ(BagFor("Cordles drill", nullptr), ids("cordles drill"));
  EXPECT_EQ(BagFor("cordless drill", lexical_.get()), ids("cordless drill"));
  // A word with no correction of enough listings stays as it is ("hose" is in one listing).
  EXPECT_EQ(BagFor("hoze reel", lexical_.get()), ids("hoze reel"));
}

// The corrected tokens go out with the result (the ranker's corrected-query columns), only
// when a word changed.
TEST_F(AnnSourceSpellerTest, TheResultCarriesTheCorrectedTokens) {
  const AnnSource source(*encoder_, *index_, nullptr, lexical_.get());
  const ParsedQuery typo = ParseQuery("Cordles drill");
  auto r = source.Retrieve({typo, 2, nullptr, 0});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->corrected_tokens, (std::vector<std::string>{"cordless", "drill"}));
  const ParsedQuery clean = ParseQuery("cordless drill");
  r = source.Retrieve({clean, 2, nullptr, 0});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->corrected_tokens.empty());
  const AnnSource no_speller(*encoder_, *index_, nullptr, nullptr);
  r = no_speller.Retrieve({typo, 2, nullptr, 0});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->corrected_tokens.empty());
}

TEST_F(AnnSourceSpellerTest, CorrectSpellingReplacesOnlyUnknownWords) {
  bool corrected = false;
  auto t = lexical_->CorrectSpelling({"cordles", "drill", "for", "zzyzx", "18v"}, &corrected);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(corrected);
  EXPECT_EQ(*t, (std::vector<std::string>{"cordless", "drill", "for", "zzyzx", "18v"}));
  // Two swapped letters (two edits to Xapian's dictionary); a word only descriptions hold; a
  // three-letter word a letter short.
  t = lexical_->CorrectSpelling({"crodless", "ligthweight", "lightweigt", "vce"}, &corrected);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, (std::vector<std::string>{"cordless", "lightweight", "lightweight", "vice"}));
  // A word a listing holds, next to a correction 20x as frequent; a rare word without one.
  t = lexical_->CorrectSpelling({"balck", "makita"}, &corrected);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, (std::vector<std::string>{"black", "makita"}));
  t = lexical_->CorrectSpelling({"cordless", "drill"}, &corrected);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(corrected);
  // Turned off in the options: nothing changes.
  LexicalIndex::Options off;
  off.correct_spelling = false;
  auto plain = LexicalIndex::Open(lexical_->path(), off);
  ASSERT_TRUE(plain.ok());
  t = (*plain)->CorrectSpelling({"cordles"}, &corrected);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(corrected);
  EXPECT_EQ(*t, (std::vector<std::string>{"cordles"}));
}

}  // namespace
}  // namespace marketsearch
