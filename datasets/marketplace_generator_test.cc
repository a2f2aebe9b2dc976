#include "datasets/marketplace_generator.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "datasets/catalog_reader.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

constexpr int64_t kEpochUnix = 1790000000;
const char* const kFiles[] = {"listings.tsv", "users.tsv", "queries.tsv", "judgments.tsv", "clicks.tsv"};

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int n;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const unsigned char d = s[i + k];
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// A TSV file as a header plus rows of fields (checked for shape by the tests).
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string raw;
  int Col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
};

Table Load(const std::string& path) {
  Table t;
  t.raw = Slurp(path);
  std::vector<std::string> lines = absl::StrSplit(t.raw, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return t;
  t.header = absl::StrSplit(lines[0], '\t');
  for (size_t i = 1; i < lines.size(); ++i) t.rows.push_back(absl::StrSplit(lines[i], '\t'));
  return t;
}

std::set<std::string> Tokens(const std::string& s) {
  std::set<std::string> out;
  std::string cur;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) cur.push_back(c);
    else if (c >= 'A' && c <= 'Z') cur.push_back(static_cast<char>(c - 'A' + 'a'));
    else if (!cur.empty()) { out.insert(cur); cur.clear(); }
  }
  if (!cur.empty()) out.insert(cur);
  return out;
}

struct Generated {
  std::string dir;
  MarketplaceSummary summary;
  absl::Status status;
  std::vector<std::string> stages_finished;
};

Generated Generate(const std::string& name, MarketplaceOptions o) {
  Generated g;
  g.dir = absl::StrCat(TmpDir(), "/", name);
  o.progress = [&g](const MarketplaceProgress& p) {
    if (p.finished) g.stages_finished.push_back(p.stage);
  };
  g.status = WriteMarketplace(o, g.dir, &g.summary);
  return g;
}

MarketplaceOptions Small(uint64_t seed) {
  MarketplaceOptions o;
  o.seed = seed;
  o.listings = 4000;
  o.users = 400;
  o.queries = 800;
  return o;
}

class MarketplaceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    def_ = new Generated(Generate("default", MarketplaceOptions()));
    ASSERT_TRUE(def_->status.ok()) << def_->status;
    for (const char* f : kFiles) tables_[f] = Load(absl::StrCat(def_->dir, "/", f));
  }
  static void TearDownTestSuite() {
    delete def_;
    def_ = nullptr;
  }
  static const Table& T(const std::string& f) { return tables_.at(f); }
  static Generated* def_;
  static std::map<std::string, Table> tables_;
};
Generated* MarketplaceTest::def_ = nullptr;
std::map<std::string, Table> MarketplaceTest::tables_;

TEST_F(MarketplaceTest, DefaultRunIsFastAndSummarised) {
  const MarketplaceSummary& s = def_->summary;
#ifndef MARKETSEARCH_TSAN  // the bound is the normal build's; ThreadSanitizer runs it 5-15x slower
  EXPECT_LT(s.seconds, 5.0);
#endif
  EXPECT_EQ(s.listings, 20000);
  EXPECT_EQ(s.users, 2000);
  EXPECT_EQ(s.queries, 3000);
  EXPECT_GE(s.categories, 20);
  EXPECT_EQ(s.train_queries + s.valid_queries + s.test_queries, s.queries);
  EXPECT_EQ(static_cast<int64_t>(T("listings.tsv").rows.size()), s.listings);
  EXPECT_EQ(static_cast<int64_t>(T("users.tsv").rows.size()), s.users);
  EXPECT_EQ(static_cast<int64_t>(T("queries.tsv").rows.size()), s.queries);
  EXPECT_EQ(static_cast<int64_t>(T("judgments.tsv").rows.size()), s.judgments);
  EXPECT_EQ(static_cast<int64_t>(T("clicks.tsv").rows.size()), s.clicks);
  EXPECT_GT(s.clicks, 0);
  EXPECT_GT(s.share_queries_under_100_exact, 0.5) << "most queries should have < 100 Exact";
  const std::vector<std::string> want = {"users", "listings", "index", "queries"};
  EXPECT_EQ(def_->stages_finished, want);
}

TEST_F(MarketplaceTest, ColumnHeaders) {
  using V = std::vector<std::string>;
  EXPECT_EQ(T("listings.tsv").header,
            (V{"listing_id", "title", "description", "category", "brand", "attributes", "price",
               "condition", "seller_id", "seller_rating", "city", "lat", "lon", "listed_at_unix"}));
  EXPECT_EQ(T("users.tsv").header,
            (V{"user_id", "city", "lat", "lon", "preferred_categories", "typical_price"}));
  EXPECT_EQ(T("queries.tsv").header, (V{"query_id", "split", "user_id", "text", "intent"}));
  EXPECT_EQ(T("judgments.tsv").header, (V{"query_id", "listing_id", "label"}));
  EXPECT_EQ(T("clicks.tsv").header,
            (V{"query_id", "user_id", "listing_id", "position", "clicked"}));
}

TEST_F(MarketplaceTest, NoTabsOrNewlinesInsideFieldsAndValidUtf8) {
  for (const char* f : kFiles) {
    const Table& t = T(f);
    EXPECT_TRUE(ValidUtf8(t.raw)) << f;
    EXPECT_EQ(t.raw.find('\r'), std::string::npos) << f;
    ASSERT_FALSE(t.raw.empty());
    EXPECT_EQ(t.raw.back(), '\n') << f;
    for (size_t i = 0; i < t.rows.size(); ++i) {
      // A tab or newline inside a field would change the field count of some row.
      ASSERT_EQ(t.rows[i].size(), t.header.size()) << f << " row " << i + 1;
    }
  }
  // Titles carry emoji now and then; they must have survived as UTF-8.
  EXPECT_NE(T("listings.tsv").raw.find("\xF0\x9F"), std::string::npos);
}

TEST_F(MarketplaceTest, ListingFields) {
  const Table& t = T("listings.tsv");
  std::set<uint64_t> ids;
  std::set<std::string> categories, cities;
  const std::set<std::string> conds = {"new", "like_new", "used", "for_parts"};
  for (const auto& r : t.rows) {
    uint64_t id = 0;
    ASSERT_TRUE(absl::SimpleAtoi(r[0], &id)) << r[0];
    EXPECT_GT(id, 0u);
    EXPECT_TRUE(ids.insert(id).second) << "duplicate listing_id " << id;
    EXPECT_FALSE(r[1].empty());
    categories.insert(r[3]);
    // attributes: name=value;name=value or empty.
    if (!r[5].empty()) {
      for (absl::string_view kv : absl::StrSplit(r[5], ';')) {
        std::vector<std::string> p = absl::StrSplit(kv, '=');
        ASSERT_EQ(p.size(), 2u) << r[5];
        EXPECT_FALSE(p[0].empty());
        EXPECT_FALSE(p[1].empty());
      }
    }
    const std::string& price = r[6];
    ASSERT_GE(price.size(), 4u);
    EXPECT_EQ(price[price.size() - 3], '.') << price;
    double p = 0;
    ASSERT_TRUE(absl::SimpleAtod(price, &p));
    EXPECT_GT(p, 0);
    EXPECT_TRUE(conds.count(r[7])) << r[7];
    double rating = -1;
    ASSERT_TRUE(absl::SimpleAtod(r[9], &rating));
    EXPECT_GE(rating, 0.0);
    EXPECT_LE(rating, 5.0);
    EXPECT_FALSE(r[10].empty());
    cities.insert(r[10]);
    double lat = 0, lon = 0;
    ASSERT_TRUE(absl::SimpleAtod(r[11], &lat) && absl::SimpleAtod(r[12], &lon));
    EXPECT_TRUE(lat > 20 && lat < 65 && lon > -125 && lon < 25) << lat << "," << lon;
    int64_t at = 0;
    ASSERT_TRUE(absl::SimpleAtoi(r[13], &at));
    EXPECT_LT(at, kEpochUnix);
    EXPECT_GE(at, kEpochUnix - 90 * 86400);
  }
  EXPECT_GE(categories.size(), 20u);
  EXPECT_GE(cities.size(), 30u);
}

TEST_F(MarketplaceTest, UsersAndQueriesAreConsistent) {
  std::set<std::string> categories;
  for (const auto& r : T("listings.tsv").rows) categories.insert(r[3]);
  std::set<std::string> users;
  for (const auto& r : T("users.tsv").rows) {
    EXPECT_TRUE(users.insert(r[0]).second);
    ASSERT_FALSE(r[4].empty());
    for (absl::string_view c : absl::StrSplit(r[4], ';')) EXPECT_TRUE(categories.count(std::string(c))) << c;
    double price = 0;
    ASSERT_TRUE(absl::SimpleAtod(r[5], &price));
    EXPECT_GT(price, 0);
  }
  std::set<std::string> qids;
  for (const auto& r : T("queries.tsv").rows) {
    EXPECT_TRUE(qids.insert(r[0]).second) << "duplicate query_id " << r[0];
    EXPECT_TRUE(r[1] == "train" || r[1] == "valid" || r[1] == "test") << r[1];
    EXPECT_TRUE(users.count(r[2])) << r[2];
    EXPECT_FALSE(r[3].empty());
    EXPECT_NE(r[4].find("kind="), std::string::npos) << r[4];
  }
  // The project's reader parses the files too.
  auto q = ReadQueries(def_->dir + "/queries.tsv");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->size(), 3000u);
  auto j = ReadJudgments(def_->dir + "/judgments.tsv");
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(static_cast<int64_t>(j->size()), def_->summary.judgments);
}

TEST_F(MarketplaceTest, JudgmentsReferToExistingQueriesAndListings) {
  std::set<std::string> listings, queries;
  for (const auto& r : T("listings.tsv").rows) listings.insert(r[0]);
  for (const auto& r : T("queries.tsv").rows) queries.insert(r[0]);
  std::map<std::string, int> exact;
  std::set<std::pair<std::string, std::string>> pairs;
  std::map<std::string, int> labels;
  for (const auto& r : T("judgments.tsv").rows) {
    EXPECT_TRUE(queries.count(r[0])) << r[0];
    EXPECT_TRUE(listings.count(r[1])) << r[1];
    EXPECT_TRUE(r[2] == "E" || r[2] == "S" || r[2] == "C" || r[2] == "I") << r[2];
    EXPECT_TRUE(pairs.insert({r[0], r[1]}).second) << "duplicate judgment " << r[0] << " " << r[1];
    exact[r[0]] += r[2] == "E";
    ++labels[r[2]];
  }
  for (const std::string& q : queries) EXPECT_GE(exact[q], 1) << "query " << q << " has no Exact listing";
  for (const char* l : {"E", "S", "C", "I"}) EXPECT_GT(labels[l], 0) << l;
}

TEST_F(MarketplaceTest, SplitsPartitionQueries) {
  std::map<std::string, int> n;
  absl::flat_hash_map<std::string, std::string> split_of_text;
  for (const auto& r : T("queries.tsv").rows) {
    ++n[r[1]];
    // Normalised text (lowercase words) belongs to exactly one split: no leakage.
    std::string norm;
    for (const std::string& w : Tokens(r[3])) absl::StrAppend(&norm, w, " ");
    auto [it, inserted] = split_of_text.emplace(norm, r[1]);
    EXPECT_EQ(it->second, r[1]) << "query text '" << r[3] << "' is in two splits";
  }
  EXPECT_EQ(n["train"] + n["valid"] + n["test"], 3000);
  EXPECT_EQ(n["valid"], 450);
  EXPECT_EQ(n["test"], 450);
  EXPECT_EQ(n["train"], def_->summary.train_queries);
}

TEST_F(MarketplaceTest, VocabularyGapShareOfTestQueries) {
  absl::flat_hash_map<std::string, std::set<std::string>> title_tokens;
  for (const auto& r : T("listings.tsv").rows) title_tokens[r[0]] = Tokens(r[1]);
  absl::flat_hash_map<std::string, std::vector<std::string>> exact;
  for (const auto& r : T("judgments.tsv").rows) {
    if (r[2] == "E") exact[r[0]].push_back(r[1]);
  }
  int test = 0, gaps = 0;
  for (const auto& r : T("queries.tsv").rows) {
    if (r[1] != "test") continue;
    ++test;
    const std::set<std::string> q = Tokens(r[3]);
    bool shared = false;
    for (const std::string& l : exact[r[0]]) {
      for (const std::string& w : title_tokens[l]) shared |= q.count(w) > 0;
      if (shared) break;
    }
    gaps += !shared;
  }
  ASSERT_GT(test, 0);
  const double share = static_cast<double>(gaps) / test;
  EXPECT_NEAR(share, def_->summary.vocab_gap_share_test, 1e-9);
  EXPECT_GE(share, 0.15);
  EXPECT_LE(share, 0.35);
}

TEST_F(MarketplaceTest, ClicksArePositionBiasedAndOnTrainQueries) {
  std::set<std::string> train;
  for (const auto& r : T("queries.tsv").rows) {
    if (r[1] == "train") train.insert(r[0]);
  }
  std::map<std::pair<std::string, std::string>, std::string> label;
  for (const auto& r : T("judgments.tsv").rows) label[{r[0], r[1]}] = r[2];
  std::map<std::string, std::pair<int, int>> by_label;  // label -> (clicks, shown)
  std::map<int, std::pair<int, int>> by_pos;
  for (const auto& r : T("clicks.tsv").rows) {
    EXPECT_TRUE(train.count(r[0])) << "clicks only for train queries: " << r[0];
    auto it = label.find({r[0], r[2]});
    ASSERT_NE(it, label.end()) << "clicked listing was not judged";
    int pos = 0, clicked = -1;
    ASSERT_TRUE(absl::SimpleAtoi(r[3], &pos) && absl::SimpleAtoi(r[4], &clicked));
    EXPECT_GE(pos, 1);
    EXPECT_LE(pos, 10);
    EXPECT_TRUE(clicked == 0 || clicked == 1);
    by_label[it->second].first += clicked;
    ++by_label[it->second].second;
    by_pos[pos].first += clicked;
    ++by_pos[pos].second;
  }
  auto ctr = [](std::pair<int, int> p) { return p.second ? static_cast<double>(p.first) / p.second : 0; };
  EXPECT_GT(ctr(by_label["E"]), ctr(by_label["S"]));
  EXPECT_GT(ctr(by_label["S"]), ctr(by_label["I"]));
  EXPECT_GT(ctr(by_pos[1]), ctr(by_pos[10]));
}

TEST(MarketplaceDeterminism, SameSeedSameBytesOtherSeedOtherBytes) {
  Generated a = Generate("det_a", Small(7));
  Generated b = Generate("det_b", Small(7));
  Generated c = Generate("det_c", Small(8));
  ASSERT_TRUE(a.status.ok()) << a.status;
  ASSERT_TRUE(b.status.ok()) << b.status;
  ASSERT_TRUE(c.status.ok()) << c.status;
  for (const char* f : kFiles) {
    const std::string fa = Slurp(a.dir + "/" + f);
    EXPECT_FALSE(fa.empty()) << f;
    EXPECT_EQ(fa, Slurp(b.dir + "/" + f)) << f << " differs between two runs with the same seed";
  }
  for (const Generated* g : {&a, &c}) {
    EXPECT_GE(g->summary.vocab_gap_share_test, 0.15);
    EXPECT_LE(g->summary.vocab_gap_share_test, 0.35);
  }
  for (const char* f : {"listings.tsv", "users.tsv", "queries.tsv", "judgments.tsv"}) {
    EXPECT_NE(Slurp(a.dir + "/" + f), Slurp(c.dir + "/" + f)) << f << " same for seeds 7 and 8";
  }
}

TEST(MarketplaceOptionsTest, RejectsBadOptions) {
  MarketplaceOptions o = Small(1);
  o.listings = 0;
  EXPECT_EQ(WriteMarketplace(o, TmpDir() + "/bad", nullptr).code(), absl::StatusCode::kInvalidArgument);
  o = Small(1);
  o.valid_fraction = 0.6;
  o.test_fraction = 0.5;
  EXPECT_EQ(WriteMarketplace(o, TmpDir() + "/bad", nullptr).code(), absl::StatusCode::kInvalidArgument);
  o = Small(1);
  EXPECT_EQ(WriteMarketplace(o, "", nullptr).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MarketplaceHeldOutTypes, ListingsGoOffCatalogQueriesStayInTestOnly) {
  // sofa and dining_table share vocabulary and brands with carried types (armchair,
  // coffee_table, "table", ikea), as the "no good match" measurement needs.
  MarketplaceOptions o = Small(5);
  Generated full = Generate("held_full", o);
  o.held_out_types = {"sofa", "dining_table"};
  Generated held = Generate("held_out", o);
  ASSERT_TRUE(full.status.ok()) << full.status;
  ASSERT_TRUE(held.status.ok()) << held.status;
  Table fl = Load(full.dir + "/listings.tsv"), hl = Load(held.dir + "/listings.tsv");
  Table fq = Load(full.dir + "/queries.tsv"), hq = Load(held.dir + "/queries.tsv");
  Table hj = Load(held.dir + "/judgments.tsv"), hc = Load(held.dir + "/clicks.tsv");

  // Listings: a strict subset, every carried row byte-identical, the missing ones counted.
  std::map<std::string, std::vector<std::string>> full_rows;
  for (const auto& r : fl.rows) full_rows[r[0]] = r;
  std::set<std::string> carried;
  for (const auto& r : hl.rows) {
    ASSERT_TRUE(full_rows.count(r[0])) << r[0];
    EXPECT_EQ(full_rows[r[0]], r);
    carried.insert(r[0]);
  }
  EXPECT_GT(held.summary.held_out_listings, 0);
  EXPECT_EQ(static_cast<int64_t>(hl.rows.size()) + held.summary.held_out_listings,
            static_cast<int64_t>(fl.rows.size()));
  EXPECT_EQ(held.summary.listings, static_cast<int64_t>(hl.rows.size()));

  // Judgments and clicks name carried listings only.
  std::map<std::string, int> exact;
  for (const auto& r : hj.rows) {
    EXPECT_TRUE(carried.count(r[1])) << "judgment names a held-out listing " << r[1];
    exact[r[0]] += r[2] == "E";
  }
  for (const auto& r : hc.rows) EXPECT_TRUE(carried.count(r[2])) << r[2];

  // Queries: the same texts as without held-out types, minus off-catalog train/valid ones;
  // off-catalog queries (no Exact listing left) are test queries marked carried=no.
  std::map<std::string, std::vector<std::string>> full_queries;
  for (const auto& r : fq.rows) full_queries[r[0]] = r;
  int64_t off = 0;
  for (const auto& r : hq.rows) {
    ASSERT_TRUE(full_queries.count(r[0])) << r[0];
    EXPECT_EQ(full_queries[r[0]][3], r[3]) << "query text changed for " << r[0];
    const bool marked = absl::StrContains(r[4], ";carried=no");
    EXPECT_EQ(marked, exact[r[0]] == 0) << r[0] << " " << r[4];
    if (marked) {
      ++off;
      EXPECT_EQ(r[1], "test") << r[0];
      EXPECT_TRUE(absl::StrContains(r[4], "type=sofa") || absl::StrContains(r[4], "type=dining_table") ||
                  !absl::StrContains(r[4], "type="))
          << r[4];
    }
  }
  EXPECT_GT(off, 0);
  EXPECT_EQ(off, held.summary.off_catalog_test_queries);
  EXPECT_EQ(static_cast<int64_t>(hq.rows.size()) + held.summary.off_catalog_skipped_queries,
            static_cast<int64_t>(fq.rows.size()));
  EXPECT_EQ(held.summary.queries, static_cast<int64_t>(hq.rows.size()));
}

TEST(MarketplaceHeldOutTypes, UnknownTypeIsRejectedByName) {
  MarketplaceOptions o = Small(1);
  o.held_out_types = {"sofa", "hoverboard"};
  const absl::Status st = WriteMarketplace(o, TmpDir() + "/bad_type", nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), "held_out_types")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "hoverboard")) << st;
}

TEST(MarketplaceTiny, TinyCatalogStillGivesEveryQueryAnExactListing) {
  MarketplaceOptions o;
  o.seed = 3;
  o.listings = 300;
  o.users = 30;
  o.queries = 200;
  Generated g = Generate("tiny", o);
  ASSERT_TRUE(g.status.ok()) << g.status;
  Table q = Load(g.dir + "/queries.tsv");
  Table j = Load(g.dir + "/judgments.tsv");
  std::map<std::string, int> exact;
  for (const auto& r : j.rows) exact[r[0]] += r[2] == "E";
  ASSERT_EQ(q.rows.size(), 200u);
  for (const auto& r : q.rows) EXPECT_GE(exact[r[0]], 1) << r[0];
}

}  // namespace
}  // namespace marketsearch
