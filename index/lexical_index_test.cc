#include "index/lexical_index.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "features/text_normalizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/lexical_delta.h"
#include "index/lexical_writer.h"

namespace marketsearch {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Spec {
  uint64_t id;
  std::string title;
  std::string description;
  std::string category;
  std::string brand;
  Condition condition = CONDITION_USED;
  std::vector<std::pair<std::string, std::string>> attributes;
};

Listing MakeListing(const Spec& s) {
  Listing l;
  l.set_listing_id(s.id);
  l.set_title(s.title);
  l.set_description(s.description);
  l.set_category(s.category);
  l.set_brand(s.brand);
  l.set_condition(s.condition);
  l.set_price(10);
  for (const auto& [name, value] : s.attributes) {
    Attribute* a = l.add_attributes();
    a->set_name(name);
    a->set_value(value);
  }
  return l;
}

// A fresh directory per call.
std::string NewDir(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string dir = absl::StrCat(::testing::TempDir(), "/lexical_", name, "_", ::getpid(),
                                       "_", counter++);
  std::filesystem::remove_all(dir);
  return dir;
}

std::string Build(const std::string& name, const std::vector<Spec>& specs,
                  bool description = false, bool combined = true) {
  const std::string dir = NewDir(name);
  LexicalIndexWriter::Options o;
  o.path = dir;
  o.index_description = description;
  o.combined_field = combined;
  auto w = LexicalIndexWriter::Open(o);
  EXPECT_TRUE(w.ok()) << w.status();
  for (const Spec& s : specs) EXPECT_TRUE((*w)->Add(MakeListing(s)).ok());
  EXPECT_TRUE((*w)->Commit().ok());
  return dir;
}

std::unique_ptr<LexicalIndex> OpenOrDie(const std::string& dir,
                                        LexicalIndex::Options o = LexicalIndex::Options()) {
  auto idx = LexicalIndex::Open(dir, o);
  EXPECT_TRUE(idx.ok()) << idx.status();
  return idx.ok() ? std::move(idx).value() : nullptr;
}

std::vector<uint64_t> Ids(const std::vector<LexicalHit>& hits) {
  std::vector<uint64_t> ids;
  for (const LexicalHit& h : hits) ids.push_back(h.listing_id);
  return ids;
}

std::vector<uint64_t> SearchIds(const LexicalIndex& idx, const std::string& q, int k) {
  auto r = idx.Search(q, k);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? Ids(*r) : std::vector<uint64_t>{};
}

const std::vector<Spec>& Phones() {
  static const auto* specs = new std::vector<Spec>{
      {1, "Apple iPhone 12 128GB blue", "", "phones", "apple", CONDITION_USED,
       {{"storage", "128gb"}, {"colour", "blue"}}},
      {2, "iPhone 12 silicone case", "", "phone accessories", "apple", CONDITION_NEW},
      {3, "Samsung Galaxy S21 128GB", "", "phones", "samsung", CONDITION_USED,
       {{"storage", "128gb"}}},
      {4, "iPhone 13 Pro 256GB", "", "phones", "apple", CONDITION_LIKE_NEW,
       {{"storage", "256gb"}}},
      {5, "Apple iPhone 12 64GB", "", "phones", "apple", CONDITION_NEW, {{"storage", "64gb"}}},
      {6, "Pixel 7 unlocked", "", "phones", "google", CONDITION_USED},
  };
  return *specs;
}

TEST(LexicalIndexTest, ExactTitleMatchRanksFirst) {
  auto idx = OpenOrDie(Build("exact", Phones()));
  ASSERT_NE(idx, nullptr);
  EXPECT_EQ(idx->num_docs(), 6);
  auto ids = SearchIds(*idx, "apple iphone 12 128gb blue", 10);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 1u);
  ids = SearchIds(*idx, "samsung galaxy s21", 10);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 3u);
}

TEST(LexicalIndexTest, TitleOutweighsDescriptionAndCategory) {
  // The same word once in each listing, in a different field; otherwise alike. Both ways of
  // weighting fields: wdf in the all-fields term, and query-time weights on per-field terms.
  for (const bool combined : {true, false}) {
    SCOPED_TRACE(combined ? "all-fields term" : "per-field terms");
    const std::string dir = Build("fields",
                                  {
                                      {10, "grey corner chair", "solid wood frame", "chairs", ""},
                                      {11, "grey corner sofa", "solid wood frame", "chairs", ""},
                                      {12, "grey corner seat", "solid sofa frame", "chairs", ""},
                                      {13, "grey corner seat", "solid wood frame", "sofa", ""},
                                      {14, "oak dining table", "solid wood top", "tables", ""},
                                  },
                                  /*description=*/true, combined);
    auto idx = OpenOrDie(dir);
    ASSERT_NE(idx, nullptr);
    auto r = idx->Search("sofa", 10);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].listing_id, 11u);  // title
    EXPECT_GT((*r)[0].score, (*r)[1].score);
    EXPECT_GT((*r)[0].score, (*r)[2].score);
    // A two-word query: the listing with both words in its title first.
    r = idx->Search("grey sofa", 10);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_FALSE(r->empty());
    EXPECT_EQ((*r)[0].listing_id, 11u);
  }
}

TEST(LexicalIndexTest, AndThenRelaxFillsKWithFullMatchesFirst) {
  std::vector<Spec> specs = {
      {20, "red wool hat", "", "hats", ""},
      {21, "wool scarf grey", "", "scarves", ""},
      {22, "red scarf", "", "scarves", ""},
      {23, "red shoes", "", "shoes", ""},
      {24, "wool socks wool wool", "", "socks", ""},
      {25, "blue jeans", "", "trousers", ""},
  };
  const std::string no_full_match = Build("relax", specs);
  for (LexicalIndex::Relax relax : {LexicalIndex::Relax::kOr, LexicalIndex::Relax::kDropOneThenOr}) {
    // No listing has all three words: still k results, two-word matches before one-word ones
    // (by BM25 in the OR tier; by tier with the drop-one tier).
    LexicalIndex::Options o;
    o.relax = relax;
    auto idx = OpenOrDie(no_full_match, o);
    ASSERT_NE(idx, nullptr);
    auto r = idx->Search("red wool scarf", 5);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->size(), 5u);
    const bool drop_one = relax == LexicalIndex::Relax::kDropOneThenOr;
    for (int i = 0; i < 3; ++i) EXPECT_EQ((*r)[i].tier, drop_one ? 2 : 3) << i;
    for (int i = 3; i < 5; ++i) EXPECT_EQ((*r)[i].tier, 3) << i;
    const std::vector<uint64_t> ids = Ids(*r);
    EXPECT_THAT(std::vector<uint64_t>(ids.begin(), ids.begin() + 3),
                ::testing::UnorderedElementsAre(20u, 21u, 22u));
  }
  specs.push_back({26, "knitted red wool scarf", "", "scarves", ""});
  specs.push_back({27, "scarf in red wool", "", "scarves", ""});
  for (LexicalIndex::Relax relax : {LexicalIndex::Relax::kOr, LexicalIndex::Relax::kDropOneThenOr}) {
    LexicalIndex::Options o;
    o.relax = relax;
    auto idx = OpenOrDie(Build("relax_all", specs), o);
    ASSERT_NE(idx, nullptr);
    auto r = idx->Search("red wool scarf", 100);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->size(), 7u);  // every listing with any of the words
    const std::vector<uint64_t> ids = Ids(*r);
    EXPECT_THAT(std::vector<uint64_t>(ids.begin(), ids.begin() + 2),
                ::testing::UnorderedElementsAre(26u, 27u));
    EXPECT_EQ((*r)[0].tier, 0);
    EXPECT_EQ((*r)[1].tier, 0);
    for (size_t i = 1; i < r->size(); ++i) EXPECT_LE((*r)[i - 1].tier, (*r)[i].tier) << i;
    // k below the number of full matches: only full matches.
    auto top1 = idx->Search("red wool scarf", 1);
    ASSERT_TRUE(top1.ok());
    ASSERT_EQ(top1->size(), 1u);
    EXPECT_EQ((*top1)[0].tier, 0);
  }
  {
    // Plain OR (the baseline) finds the same set.
    LexicalIndex::Options o;
    o.relax = LexicalIndex::Relax::kOrOnly;
    auto idx = OpenOrDie(Build("or_only", specs), o);
    ASSERT_NE(idx, nullptr);
    EXPECT_EQ(SearchIds(*idx, "red wool scarf", 100).size(), 7u);
  }
  {
    // The OR tier bounded to the two words of highest possible weight ("scarf": 4 listings;
    // "red" and "wool": 5 each, "wool" three times in one title): full matches first as
    // before; a listing with only "red" is not searched.
    LexicalIndex::Options o;
    o.or_tier_max_terms = 2;
    auto idx = OpenOrDie(Build("or_elite", specs), o);
    ASSERT_NE(idx, nullptr);
    auto r = idx->Search("red wool scarf", 100);
    ASSERT_TRUE(r.ok()) << r.status();
    const std::vector<uint64_t> ids = Ids(*r);
    EXPECT_THAT(std::vector<uint64_t>(ids.begin(), ids.begin() + 2),
                ::testing::UnorderedElementsAre(26u, 27u));
    EXPECT_THAT(ids, ::testing::Not(::testing::Contains(23u)));  // "red shoes": only "red"
    EXPECT_LT(ids.size(), 7u);
    auto explain = idx->Explain("red wool scarf");
    ASSERT_TRUE(explain.ok());
    EXPECT_THAT(*explain, ::testing::HasSubstr("ELITE_SET"));
  }
}

// Categories and conditions of a request's filter are applied inside the search: k hits of
// the filter's listings, not the filter's share of the unfiltered top k.
TEST(LexicalIndexTest, CategoryAndConditionFiltersApplyInside) {
  std::vector<Spec> specs;
  // Ten strong "oak" matches outside the category, two weaker ones inside.
  for (uint64_t id = 1; id <= 10; ++id) specs.push_back({id, "oak oak table", "", "dining tables", ""});
  specs.push_back({11, "oak shelf", "", "Home > Book shelves", "", CONDITION_NEW});
  specs.push_back({12, "oak shelf unit", "", "Home > Book shelves", "", CONDITION_USED});
  specs.push_back({13, "oak box", "", "shelves", "", CONDITION_NEW});  // one word of the category
  auto idx = OpenOrDie(Build("filter_inside", specs));
  ASSERT_NE(idx, nullptr);
  auto ids = [&](const SearchFilters& f, int k) {
    const ListingFilter lf(f);
    auto r = idx->SearchTokens({"oak"}, k, nullptr, &lf);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? Ids(*r) : std::vector<uint64_t>{};
  };
  SearchFilters category;
  category.add_categories("Home > Book shelves");
  EXPECT_THAT(ids(category, 2), ::testing::UnorderedElementsAre(11u, 12u));
  EXPECT_TRUE(idx->AppliesInside(ListingFilter(category)));

  SearchFilters new_in_category = category;
  new_in_category.add_conditions(CONDITION_NEW);
  EXPECT_THAT(ids(new_in_category, 5), ::testing::ElementsAre(11u));

  SearchFilters two_categories;
  two_categories.add_categories("shelves");
  two_categories.add_categories("dining tables");
  EXPECT_EQ(ids(two_categories, 100).size(), 13u);  // "shelves" words: a superset (11, 12, 13)

  SearchFilters used;
  used.add_conditions(CONDITION_USED);
  EXPECT_EQ(ids(used, 100).size(), 11u);  // 1-10 and 12

  // Price and geo are not indexed: applied by the caller, so not "inside".
  SearchFilters priced = category;
  priced.mutable_price()->set_max(100);
  EXPECT_FALSE(idx->AppliesInside(ListingFilter(priced)));
  EXPECT_THAT(ids(priced, 5), ::testing::UnorderedElementsAre(11u, 12u));  // the category still
  // An unspecified condition has no term: conditions are then not applied.
  SearchFilters unspecified;
  unspecified.add_conditions(CONDITION_UNSPECIFIED);
  EXPECT_FALSE(idx->AppliesInside(ListingFilter(unspecified)));
  EXPECT_EQ(ids(unspecified, 100).size(), 13u);
  // No filter, an empty filter: every match.
  EXPECT_EQ(ids(SearchFilters(), 100).size(), 13u);
  EXPECT_TRUE(idx->AppliesInside(ListingFilter(SearchFilters())));
}

TEST(LexicalIndexTest, DeleteAndReplaceByListingId) {
  const std::string dir = NewDir("upsert");
  const uint64_t big = 385426986969ull;  // above Xapian's 32-bit docids
  LexicalIndexWriter::Options o;
  o.path = dir;
  {
    auto w = LexicalIndexWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Add(MakeListing({big, "blue city bike", "", "bikes", ""})).ok());
    ASSERT_TRUE((*w)->Add(MakeListing({8, "road bike helmet", "", "bikes", ""})).ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }
  {
    auto idx = OpenOrDie(dir);
    ASSERT_NE(idx, nullptr);
    EXPECT_THAT(SearchIds(*idx, "blue bike", 10), ElementsAre(big, 8u));
  }
  {
    auto w = LexicalIndexWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Add(MakeListing({big, "green city bike", "", "bikes", ""})).ok());
    ASSERT_TRUE((*w)->Commit().ok());
    EXPECT_EQ((*w)->num_docs(), 2);
  }
  {
    auto idx = OpenOrDie(dir);
    ASSERT_NE(idx, nullptr);
    EXPECT_EQ(idx->num_docs(), 2);
    EXPECT_THAT(SearchIds(*idx, "blue", 10), IsEmpty());
    EXPECT_THAT(SearchIds(*idx, "green", 10), ElementsAre(big));
  }
  {
    auto w = LexicalIndexWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Delete(big).ok());
    ASSERT_TRUE((*w)->Delete(123456).ok());  // unknown: not an error
    ASSERT_TRUE((*w)->Commit().ok());
  }
  auto idx = OpenOrDie(dir);
  ASSERT_NE(idx, nullptr);
  EXPECT_EQ(idx->num_docs(), 1);
  EXPECT_THAT(SearchIds(*idx, "bike", 10), ElementsAre(8u));
  EXPECT_THAT(SearchIds(*idx, "green", 10), IsEmpty());
}

TEST(LexicalIndexTest, QueryAndIndexNormaliseAlike) {
  auto idx = OpenOrDie(Build("norm", {
                                         {30, "iphone 12 mini", "", "phones", "apple"},
                                         {31, "Crème Brûlée torch", "", "kitchen", ""},
                                         {32, "CAFÉ table", "", "furniture", ""},
                                         {33, "garden hose", "", "garden", ""},
                                     }));
  ASSERT_NE(idx, nullptr);
  EXPECT_THAT(SearchIds(*idx, "IPHONE-12", 10), ElementsAre(30u));
  EXPECT_THAT(SearchIds(*idx, "creme brulee", 10), ElementsAre(31u));
  EXPECT_THAT(SearchIds(*idx, "BRÛLÉE", 10), ElementsAre(31u));
  EXPECT_THAT(SearchIds(*idx, "café", 10), ElementsAre(32u));
  EXPECT_THAT(SearchIds(*idx, "Cafe\xCC\x81", 10), ElementsAre(32u));  // e + combining acute
}

// The request path hands the query's tokens over (it normalised them once, ParseQuery): the
// same hits as the raw-text search, and no normalisation of the query here.
TEST(LexicalIndexTest, SearchTokensEqualsSearchAndNormalisesNothing) {
  auto idx = OpenOrDie(Build("tokens", Phones()));
  ASSERT_NE(idx, nullptr);
  for (const std::string q : {"apple iphone 12 128gb", "used iphone", "samsung galaxy"}) {
    const std::vector<std::string> tokens = Tokenize(NormalizeText(q));
    const int64_t before = NormalizeTextCalls();
    auto by_tokens = idx->SearchTokens(tokens, 10);
    EXPECT_EQ(NormalizeTextCalls() - before, 0) << q;
    ASSERT_TRUE(by_tokens.ok());
    EXPECT_EQ(Ids(*by_tokens), SearchIds(*idx, q, 10)) << q;
  }
}

TEST(LexicalIndexTest, UnknownWordsAreCorrectedOrDropped) {
  std::vector<Spec> specs = Phones();
  specs.push_back({50, "nike running shoes", "", "shoes", "nike"});
  specs.push_back({51, "adidas running shoes", "", "shoes", "adidas"});
  specs.push_back({52, "samsung galaxy tablet", "", "tablets", "samsung"});
  specs.push_back({53, "nike hoodie", "", "clothing", "nike"});
  specs.push_back({54, "nike cap", "", "clothing", "nike"});
  specs.push_back({55, "wireless hearphones", "", "audio", ""});  // a seller's typo
  specs.push_back({56, "bike for sale", "", "bikes", ""});
  specs.push_back({57, "sofa for sale", "", "sofas", ""});
  specs.push_back({58, "desk for sale", "", "desks", ""});
  auto idx = OpenOrDie(Build("spelling", specs));
  ASSERT_NE(idx, nullptr);
  // A typo the dictionary can fix: the word it meant, so the AND tier still applies.
  auto r = idx->Search("nkie shoes", 10);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE(r->empty());
  EXPECT_EQ((*r)[0].listing_id, 50u);
  EXPECT_EQ((*r)[0].tier, 0);
  EXPECT_THAT(SearchIds(*idx, "samsnug galaxy", 10), ::testing::Contains(3u));
  // Never corrected into a stopword: "salr" is not "sale" (which listings say all the time).
  EXPECT_THAT(SearchIds(*idx, "salr", 10), IsEmpty());
  // Only words of a few listings are correction targets: one seller's "hearphones" is not.
  EXPECT_THAT(SearchIds(*idx, "earphones", 10), IsEmpty());
  auto explain = idx->Explain("nkie shoes");
  ASSERT_TRUE(explain.ok());
  EXPECT_THAT(*explain, ::testing::HasSubstr("words: [nike, shoes]"));
  // A word nothing is close to is dropped; the rest of the query still works.
  EXPECT_THAT(SearchIds(*idx, "qwxzvbn tablet", 10), ElementsAre(52u));
  // Numbers and short words are never "corrected" into something else.
  EXPECT_THAT(SearchIds(*idx, "galaxy s99", 10), ::testing::Contains(3u));
  explain = idx->Explain("galaxy s99");
  ASSERT_TRUE(explain.ok());
  EXPECT_THAT(*explain, ::testing::HasSubstr("words: [galaxy]"));
  // Without correction the typo is simply dropped.
  LexicalIndex::Options no_fix;
  no_fix.correct_spelling = false;
  auto plain = LexicalIndex::Open(idx->path(), no_fix);
  ASSERT_TRUE(plain.ok());
  explain = (*plain)->Explain("nkie shoes");
  ASSERT_TRUE(explain.ok());
  EXPECT_THAT(*explain, ::testing::HasSubstr("words: [shoes]"));
}

TEST(LexicalIndexTest, EmptyOrStopwordOnlyQueryReturnsNothing) {
  auto idx = OpenOrDie(Build("stop", Phones()));
  ASSERT_NE(idx, nullptr);
  for (const std::string q : {"", "   ", "!!! ---", "the", "cheap for sale near me",
                              "buy the best deals", "zzzunknownword"}) {
    auto r = idx->Search(q, 10);
    ASSERT_TRUE(r.ok()) << q << ": " << r.status();
    EXPECT_THAT(*r, IsEmpty()) << q;
  }
  // Noise around a real word does not get in the way.
  auto ids = SearchIds(*idx, "cheap pixel 7 for sale near me", 10);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 6u);
  EXPECT_EQ(idx->Search("pixel", -1).status().code(), absl::StatusCode::kInvalidArgument);
  auto zero = idx->Search("pixel", 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_THAT(*zero, IsEmpty());
}

TEST(LexicalIndexTest, ConditionWordsFilterTheFirstTier) {
  std::vector<Spec> specs = Phones();
  specs.push_back({40, "new balance 574 sneakers", "", "shoes", "new balance", CONDITION_USED});
  specs.push_back({41, "new balance 990 sneakers", "", "shoes", "new balance", CONDITION_NEW});
  specs.push_back({42, "adidas sneakers", "", "shoes", "adidas", CONDITION_NEW});
  specs.push_back({43, "iphone 12 pro", "", "phones", "apple", CONDITION_UNSPECIFIED});
  auto idx = OpenOrDie(Build("cond", specs));
  ASSERT_NE(idx, nullptr);
  // "used" is a condition, not a text term: the used/like-new iPhones 12 first.
  auto r = idx->Search("used iphone 12", 10);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_GE(r->size(), 4u);
  EXPECT_EQ((*r)[0].listing_id, 1u);
  EXPECT_EQ((*r)[0].tier, 0);
  // Then the other iPhones 12: right model, other (or unknown) condition.
  EXPECT_THAT(std::vector<uint64_t>({(*r)[1].listing_id, (*r)[2].listing_id, (*r)[3].listing_id}),
              ::testing::UnorderedElementsAre(2u, 5u, 43u));
  EXPECT_EQ((*r)[1].tier, 1);
  r = idx->Search("brand new iphone 12", 10);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_GE(r->size(), 2u);
  EXPECT_THAT(std::vector<uint64_t>({(*r)[0].listing_id, (*r)[1].listing_id}),
              ::testing::UnorderedElementsAre(2u, 5u));
  // "new balance" is a brand, not a condition: both sneakers match every word.
  r = idx->Search("new balance sneakers", 10);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_GE(r->size(), 2u);
  EXPECT_THAT(std::vector<uint64_t>({(*r)[0].listing_id, (*r)[1].listing_id}),
              ::testing::UnorderedElementsAre(40u, 41u));
  EXPECT_EQ((*r)[1].tier, 0);
  auto explain = idx->Explain("used new balance sneakers near me");
  ASSERT_TRUE(explain.ok()) << explain.status();
  EXPECT_THAT(*explain, ::testing::HasSubstr("words: [new, balance, sneakers] condition: used"));
}

TEST(LexicalIndexTest, ConcurrentSearchMatchesSequential) {
  std::vector<Spec> specs = Phones();
  for (uint64_t i = 100; i < 400; ++i) {
    specs.push_back({i, absl::StrCat("item ", i % 7, " colour ", i % 5, " size ", i % 3), "",
                     absl::StrCat("cat", i % 4), absl::StrCat("brand", i % 6)});
  }
  LexicalIndex::Options o;
  o.max_handles = 3;  // fewer handles than threads: some callers wait for one
  auto idx = OpenOrDie(Build("concurrent", specs), o);
  ASSERT_NE(idx, nullptr);
  std::vector<std::string> queries = {"apple iphone 12", "item 3 colour 4", "size 2 cat1",
                                      "brand5 item", "used pixel", "colour 1",
                                      "galaxy 128gb", "item 6 size 0 brand2"};
  std::vector<std::vector<LexicalHit>> expected;
  for (const auto& q : queries) {
    auto r = idx->Search(q, 20);
    ASSERT_TRUE(r.ok()) << r.status();
    expected.push_back(*r);
  }
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 200; ++rep) {
        const size_t qi = (rep + t) % queries.size();
        auto r = idx->Search(queries[qi], 20);
        if (!r.ok()) {
          ++errors;
          continue;
        }
        if (r->size() != expected[qi].size()) {
          ++mismatches;
          continue;
        }
        for (size_t i = 0; i < r->size(); ++i) {
          if ((*r)[i].listing_id != expected[qi][i].listing_id ||
              (*r)[i].score != expected[qi][i].score || (*r)[i].tier != expected[qi][i].tier) {
            ++mismatches;
            break;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(LexicalIndexTest, MissingOrBrokenDatabaseIsAClearError) {
  const std::string missing = NewDir("missing");
  auto r = LexicalIndex::Open(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(missing));

  const std::string empty = NewDir("empty");
  std::filesystem::create_directories(empty);
  r = LexicalIndex::Open(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(empty));

  // A real database whose files were damaged.
  const std::string corrupt = Build("corrupt", Phones());
  for (const auto& e : std::filesystem::directory_iterator(corrupt)) {
    if (e.path().extension() == ".glass") {
      std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << "garbage";
    }
  }
  r = LexicalIndex::Open(corrupt);
  if (r.ok()) {
    // Some damage only shows when the tables are read.
    auto s = (*r)->Search("iphone", 10);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
  } else {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
    EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(corrupt));
  }
}

TEST(LexicalIndexTest, WriterRefusesDifferentFieldOptions) {
  const std::string dir = Build("options", Phones());
  LexicalIndexWriter::Options o;
  o.path = dir;
  o.index_description = true;
  auto w = LexicalIndexWriter::Open(o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition) << w.status();
  o.overwrite = true;
  w = LexicalIndexWriter::Open(o);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*w)->num_docs(), 0);
}

// ---------------------------------------------------------------------------- LexicalDelta

// Some filler so that BM25's idf has a catalogue to work with.
std::vector<Spec> Catalogue() {
  std::vector<Spec> specs = Phones();
  for (uint64_t i = 100; i < 300; ++i) {
    specs.push_back({i, absl::StrCat(i % 2 ? "velvet" : "leather", " sofa ", i % 7, " seater"),
                     "", "sofas", absl::StrCat("brand", i % 5)});
  }
  return specs;
}

std::unique_ptr<LexicalDelta> DeltaFor(const LexicalIndex& idx) {
  auto d = LexicalDelta::Create(idx.document_options(), ::testing::TempDir());
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? std::move(d).value() : nullptr;
}

std::vector<LexicalHit> SearchOrDie(const LexicalIndex& idx, const std::string& q, int k,
                                    const LexicalDelta* delta) {
  auto r = idx.Search(q, k, delta);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<LexicalHit>{};
}

TEST(LexicalDeltaTest, FreshListingIsFoundWithTheScoreItWouldHaveInTheIndex) {
  const Spec fresh{900, "Zorblax quantum velvet sofa teal", "", "sofas", "zorblax",
                   CONDITION_LIKE_NEW};
  auto idx = OpenOrDie(Build("delta_main", Catalogue()));
  ASSERT_NE(idx, nullptr);
  auto delta = DeltaFor(*idx);
  ASSERT_NE(delta, nullptr);
  const std::string q = "zorblax quantum velvet sofa";
  EXPECT_THAT(SearchIds(*idx, q, 10), ::testing::Not(::testing::Contains(900u)));

  ASSERT_TRUE(delta->Upsert({MakeListing(fresh)}, 1000).ok());
  EXPECT_EQ(delta->size(), 1);
  const std::vector<LexicalHit> hits = SearchOrDie(*idx, q, 10, delta.get());
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].listing_id, 900u);
  EXPECT_EQ(hits[0].tier, 0);
  // One BM25 statistics over index + delta: the same score as when built into the index.
  std::vector<Spec> with_fresh = Catalogue();
  with_fresh.push_back(fresh);
  auto built = OpenOrDie(Build("delta_built", with_fresh));
  ASSERT_NE(built, nullptr);
  const std::vector<LexicalHit> expected = SearchOrDie(*built, q, 10, nullptr);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(expected[0].listing_id, 900u);
  EXPECT_NEAR(hits[0].score, expected[0].score, 1e-9);
  // Other words of the fresh listing.
  EXPECT_THAT(SearchIds(*idx, "teal sofa", 10), ::testing::Not(::testing::Contains(900u)));
  EXPECT_EQ(SearchOrDie(*idx, "teal sofa", 10, delta.get())[0].listing_id, 900u);
  // An old-index search without the delta still works on the same handles.
  EXPECT_THAT(SearchIds(*idx, "apple iphone 12 128gb blue", 1), ElementsAre(1u));
  // The directory goes with the delta, even while search handles still have it open.
  const std::string delta_dir = delta->dir();
  delta.reset();
  EXPECT_FALSE(std::filesystem::exists(delta_dir));
}

TEST(LexicalDeltaTest, UpdatedListingIsFoundByItsNewWordsOnly) {
  auto idx = OpenOrDie(Build("delta_update", Catalogue()));
  ASSERT_NE(idx, nullptr);
  auto delta = DeltaFor(*idx);
  ASSERT_NE(delta, nullptr);
  ASSERT_THAT(SearchIds(*idx, "blue", 10), ElementsAre(1u));
  // Listing 1 is now green (and new): its indexed copy says "blue".
  ASSERT_TRUE(delta->Upsert({MakeListing({1, "Apple iPhone 12 128GB green", "", "phones", "apple",
                                          CONDITION_NEW})},
                            1000)
                  .ok());
  EXPECT_THAT(Ids(SearchOrDie(*idx, "blue", 10, delta.get())), IsEmpty());
  EXPECT_THAT(Ids(SearchOrDie(*idx, "green", 10, delta.get())), ElementsAre(1u));
  // Found once (the fresh copy), and the condition tier reads the fresh copy's condition.
  const std::vector<LexicalHit> news = SearchOrDie(*idx, "new iphone 12", 10, delta.get());
  EXPECT_EQ(std::count_if(news.begin(), news.end(),
                          [](const LexicalHit& h) { return h.listing_id == 1; }),
            1);
  for (const LexicalHit& h : news) {
    if (h.listing_id == 1) EXPECT_EQ(h.tier, 0);
  }
  for (const LexicalHit& h : SearchOrDie(*idx, "used iphone 12", 10, delta.get())) {
    if (h.listing_id == 1) EXPECT_EQ(h.tier, 1);  // not used any more
  }
  // A delete hides the index copy; a later upsert brings the listing back.
  ASSERT_TRUE(delta->Delete({3}, 1000).ok());
  EXPECT_THAT(Ids(SearchOrDie(*idx, "galaxy", 10, delta.get())), IsEmpty());
  ASSERT_TRUE(delta->Upsert({MakeListing({3, "Samsung Galaxy S21 256GB", "", "phones",
                                          "samsung"})},
                            1001)
                  .ok());
  const std::vector<LexicalHit> galaxy = SearchOrDie(*idx, "galaxy 256gb", 10, delta.get());
  ASSERT_FALSE(galaxy.empty());
  EXPECT_EQ(galaxy[0].listing_id, 3u);
  EXPECT_EQ(galaxy[0].tier, 0);
  EXPECT_EQ(delta->size(), 2);
  EXPECT_EQ(delta->superseded_count(), 2);
  // Deleting a fresh copy removes it from the delta too.
  ASSERT_TRUE(delta->Delete({1}, 1002).ok());
  EXPECT_THAT(Ids(SearchOrDie(*idx, "green", 10, delta.get())), IsEmpty());
  EXPECT_THAT(Ids(SearchOrDie(*idx, "blue", 10, delta.get())), IsEmpty());
  EXPECT_EQ(delta->size(), 1);
}

TEST(LexicalDeltaTest, StaleWritesAreIgnoredAndDropBeforeForgetsOlderWrites) {
  auto idx = OpenOrDie(Build("delta_drop", Catalogue()));
  ASSERT_NE(idx, nullptr);
  auto delta = DeltaFor(*idx);
  ASSERT_NE(delta, nullptr);
  ASSERT_TRUE(delta->Upsert({MakeListing({1, "iPhone 12 green", "", "phones", "apple"})}, 100).ok());
  ASSERT_TRUE(delta->Upsert({MakeListing({901, "Zorblax lamp", "", "lamps", "zorblax"})}, 200).ok());
  // Older than what the delta holds for listing 1: ignored.
  ASSERT_TRUE(delta->Upsert({MakeListing({1, "iPhone 12 purple", "", "phones", "apple"})}, 50).ok());
  ASSERT_TRUE(delta->Delete({1}, 99).ok());
  EXPECT_THAT(Ids(SearchOrDie(*idx, "purple", 10, delta.get())), IsEmpty());
  EXPECT_THAT(Ids(SearchOrDie(*idx, "green", 10, delta.get())), ElementsAre(1u));

  // An index built from a snapshot at 150 holds the write at 100 but not the one at 200.
  auto dropped = delta->DropBefore(150);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(delta->size(), 1);
  EXPECT_EQ(delta->superseded_count(), 1);
  // (This index predates the write at 100, so its old copy shows again: as intended, the
  // delta trusts the index it is dropped for.)
  EXPECT_THAT(Ids(SearchOrDie(*idx, "green", 10, delta.get())), IsEmpty());
  EXPECT_THAT(Ids(SearchOrDie(*idx, "blue", 10, delta.get())), ElementsAre(1u));
  EXPECT_THAT(Ids(SearchOrDie(*idx, "zorblax lamp", 10, delta.get())), ElementsAre(901u));
  // A write exactly at the snapshot time is kept (it may have missed the snapshot).
  dropped = delta->DropBefore(200);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 0);
  dropped = delta->DropBefore(201);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(delta->size(), 0);
  EXPECT_THAT(Ids(SearchOrDie(*idx, "zorblax lamp", 10, delta.get())), IsEmpty());
}

TEST(LexicalDeltaTest, SnapshotTimeIsRecordedAndShapesMustMatch) {
  const std::string dir = NewDir("snapshot");
  LexicalIndexWriter::Options o;
  o.path = dir;
  o.index_description = false;
  {
    auto w = LexicalIndexWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Add(MakeListing(Phones()[0])).ok());
    ASSERT_TRUE((*w)->SetSnapshotUnixMs(1700000000123).ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }
  auto idx = OpenOrDie(dir);
  ASSERT_NE(idx, nullptr);
  EXPECT_EQ(idx->snapshot_unix_ms(), 1700000000123);
  EXPECT_FALSE(idx->document_options().index_description);
  EXPECT_EQ(OpenOrDie(Build("no_snapshot", Phones()))->snapshot_unix_ms(), 0);

  LexicalIndexWriter::Options other = idx->document_options();
  other.index_description = true;
  auto delta = LexicalDelta::Create(other, ::testing::TempDir());
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_FALSE((*delta)->SameShape(*idx));
  ASSERT_TRUE((*delta)->Upsert({MakeListing({2, "x", "", "", ""})}, 1).ok());
  auto r = idx->Search("iphone", 10, delta->get());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  // The directory goes with the delta.
  const std::string delta_dir = (*delta)->dir();
  EXPECT_TRUE(std::filesystem::exists(delta_dir));
  delta->reset();
  EXPECT_FALSE(std::filesystem::exists(delta_dir));
}

TEST(LexicalDeltaTest, DirectoriesOfDeadProcessesAreRemoved) {
  const std::string parent = NewDir("abandoned");
  std::filesystem::create_directories(parent);
  // A pid that certainly belonged to a process that is gone: a child we reaped.
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const std::string dead = absl::StrCat(parent, "/marketsearch-lexical-delta-", child, "-abc123");
  const std::string unrelated = parent + "/something-else";
  std::filesystem::create_directories(dead + "/sub");
  std::filesystem::create_directories(unrelated);
  auto mine = LexicalDelta::Create(LexicalIndexWriter::Options(), parent);
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(unrelated));
  EXPECT_TRUE(std::filesystem::exists((*mine)->dir()));
  // A live process's directory (this one's) is never removed.
  EXPECT_EQ(LexicalDelta::RemoveAbandoned(parent), 0);
  EXPECT_TRUE(std::filesystem::exists((*mine)->dir()));
}

TEST(LexicalDeltaTest, SearchesRunWhileListingsAreWritten) {
  LexicalIndex::Options io;
  io.max_handles = 2;
  auto idx = OpenOrDie(Build("delta_concurrent", Catalogue()), io);
  ASSERT_NE(idx, nullptr);
  auto delta = DeltaFor(*idx);
  ASSERT_NE(delta, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0}, searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        for (const char* q : {"zorblax sofa", "velvet sofa 3", "apple iphone", "used galaxy"}) {
          if (!idx->Search(q, 20, delta.get()).ok()) ++errors;
          ++searches;
        }
      }
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < 300; ++i) {
    ASSERT_TRUE(delta->Upsert({MakeListing({1000 + i % 150, absl::StrCat("zorblax sofa ", i),
                                            "", "sofas", "zorblax"})},
                              static_cast<int64_t>(i))
                    .ok());
    if (i % 50 == 49) ASSERT_TRUE(delta->Delete({100 + i}, static_cast<int64_t>(i)).ok());
  }
  const double write_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  stop = true;
  for (auto& th : readers) th.join();
  std::printf("306 delta writes (one commit each) in %.1f ms while %d searches ran\n", write_ms,
              searches.load());
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(searches.load(), 0);
  EXPECT_EQ(delta->size(), 150);
  // The latest title of each fresh listing.
  EXPECT_THAT(Ids(SearchOrDie(*idx, "zorblax sofa 299", 10, delta.get())),
              ::testing::Contains(1149u));
  EXPECT_EQ(SearchOrDie(*idx, "zorblax sofa 299", 10, delta.get())[0].listing_id, 1149u);
}

// A word longer than Xapian's 245-byte term limit (an ordinary long URL) used to make the
// listing unindexable: the writer and the delta refused it, and a later delete of the id
// failed with DocNotFoundError. Such words are skipped; the listing's other words still find it.
TEST(LexicalDeltaTest, ListingWithAWordOverTheTermLimitIsIndexedAndDeletable) {
  const std::string long_word = std::string(300, 'a');
  Spec poison{901, "Zorblax velvet sofa " + std::string(300, 'b'),
              "photos: https://example.com/" + long_word, "sofas", std::string(250, 'z')};
  // Both writers: the offline build...
  auto built = OpenOrDie(Build("long_word_built", {Catalogue()[0], poison}, /*description=*/true));
  ASSERT_NE(built, nullptr);
  EXPECT_THAT(SearchIds(*built, "zorblax velvet sofa", 10), ::testing::Contains(901u));
  // ...and the delta of a running server.
  auto idx = OpenOrDie(Build("long_word_main", Catalogue(), /*description=*/true));
  ASSERT_NE(idx, nullptr);
  auto delta = DeltaFor(*idx);
  ASSERT_NE(delta, nullptr);
  ASSERT_TRUE(delta->Upsert({MakeListing(poison)}, 1000).ok());
  EXPECT_EQ(delta->size(), 1);
  EXPECT_EQ(SearchOrDie(*idx, "zorblax velvet sofa", 10, delta.get())[0].listing_id, 901u);
  // A query made of the long word matches nothing and fails nothing.
  EXPECT_TRUE(idx->Search(long_word, 10, delta.get()).ok());
  // Deletes are idempotent: twice, and of ids the delta never held.
  ASSERT_TRUE(delta->Delete({901u}, 2000).ok());
  ASSERT_TRUE(delta->Delete({901u, 424242u}, 3000).ok());
  EXPECT_EQ(delta->size(), 0);
  EXPECT_THAT(Ids(SearchOrDie(*idx, "zorblax velvet sofa", 10, delta.get())),
              ::testing::Not(::testing::Contains(901u)));
}

TEST(HandlePoolTest, BoundsObjectsAndRecreatesDiscarded) {
  std::atomic<int> made{0};
  internal::HandlePool<int> pool(
      [&]() -> absl::StatusOr<std::unique_ptr<int>> { return std::make_unique<int>(made++); }, 2);
  {
    auto a = pool.Acquire();
    auto b = pool.Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(made.load(), 2);
    a->Discard();
  }
  auto c = pool.Acquire();
  auto d = pool.Acquire();
  ASSERT_TRUE(c.ok() && d.ok());
  EXPECT_EQ(made.load(), 3);  // the discarded one was replaced, the returned one reused
}

}  // namespace
}  // namespace marketsearch
