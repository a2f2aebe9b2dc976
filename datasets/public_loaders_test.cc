#include "datasets/public_loaders.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "datasets/catalog_reader.h"
#include "gtest/gtest.h"
#include "proto/listing_limits.h"

namespace marketsearch {
namespace {

using Records = std::vector<std::vector<std::string>>;

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

// A fresh directory under TEST_TMPDIR.
std::string NewDir(const std::string& name) {
  const std::string d = TmpDir() + "/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

void WriteFile(const std::string& path, const std::string& body) {
  std::ofstream out(path, std::ios::binary);
  out << body;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Rows of a TSV file (header included), split on tabs.
std::vector<std::vector<std::string>> Tsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) rows.push_back(absl::StrSplit(line, '\t'));
  return rows;
}

// listings.tsv rows keyed by source id (through listing_ids.tsv).
std::map<std::string, std::vector<std::string>> ListingsBySource(const std::string& dir) {
  std::map<std::string, std::string> source_of;
  auto ids = Tsv(dir + "/listing_ids.tsv");
  for (size_t i = 1; i < ids.size(); ++i) source_of[ids[i][0]] = ids[i][1];
  std::map<std::string, std::vector<std::string>> out;
  auto rows = Tsv(dir + "/listings.tsv");
  for (size_t i = 1; i < rows.size(); ++i) out[source_of[rows[i][0]]] = rows[i];
  return out;
}

int64_t Get(const std::map<std::string, int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

// ---------------------------------------------------------------------------------------
// CSV reader

TEST(CsvReader, QuotingEdgeCases) {
  auto r = ParseCsv(
      "a,\"b,c\",\"d \"\"e\"\" f\",\"g\nh\",\n"
      "\"\",x\"y,\"q\"tail\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], (std::vector<std::string>{"a", "b,c", "d \"e\" f", "g\nh", ""}));
  // Empty quoted field; a quote inside an unquoted field is literal; text after a closing
  // quote is kept (what Python's csv module does).
  EXPECT_EQ((*r)[1], (std::vector<std::string>{"", "x\"y", "qtail"}));
}

TEST(CsvReader, LineEndingsBlankLinesBomAndTabs) {
  auto r = ParseCsv("\xEF\xBB\xBFh1\th2\r\n\r\n1\t\"two\r\nlines\"\r3\t4", '\t');
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0], (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ((*r)[1], (std::vector<std::string>{"1", "two\r\nlines"}));
  EXPECT_EQ((*r)[2], (std::vector<std::string>{"3", "4"}));  // lone CR ends a record; no final newline
}

TEST(CsvReader, RecordLineCountsEmbeddedNewlines) {
  CsvReader r;
  r.OpenString("h\n\"a\nb\nc\"\nnext\n");
  std::vector<std::string> f;
  std::string err;
  ASSERT_EQ(r.Next(&f, &err), CsvReader::Result::kOk);
  EXPECT_EQ(r.record_line(), 1);
  ASSERT_EQ(r.Next(&f, &err), CsvReader::Result::kOk);
  EXPECT_EQ(r.record_line(), 2);
  ASSERT_EQ(r.Next(&f, &err), CsvReader::Result::kOk);
  EXPECT_EQ(f[0], "next");
  EXPECT_EQ(r.record_line(), 5);
  EXPECT_EQ(r.Next(&f, &err), CsvReader::Result::kEnd);
}

TEST(CsvReader, UnterminatedQuoteIsAnError) {
  auto r = ParseCsv("a,b\n1,\"never closed\n2,3\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unterminated"), std::string::npos) << r.status();
}

TEST(CsvReader, RecordLengthLimit) {
  CsvReader::Options o;
  o.max_record_bytes = 16;
  CsvReader r(o);
  r.OpenString("short\n\"this one is far too long\"\n");
  std::vector<std::string> f;
  std::string err;
  EXPECT_EQ(r.Next(&f, &err), CsvReader::Result::kOk);
  EXPECT_EQ(r.Next(&f, &err), CsvReader::Result::kError);
  EXPECT_EQ(r.Next(&f, &err), CsvReader::Result::kEnd);
}

TEST(CsvReader, ReadsFilesAcrossBufferBoundaries) {
  const std::string path = TmpDir() + "/big.csv";
  std::string body = "id,text\n";
  const std::string long_text(3000, 'x');
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&body, i, ",\"", long_text, ",\"\"", i, "\"\"\"\n");
  WriteFile(path, body);
  CsvReader r;
  ASSERT_TRUE(r.Open(path).ok());
  std::vector<std::string> f;
  std::string err;
  ASSERT_EQ(r.Next(&f, &err), CsvReader::Result::kOk);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(r.Next(&f, &err), CsvReader::Result::kOk) << err;
    ASSERT_EQ(f.size(), 2u);
    ASSERT_EQ(f[1], absl::StrCat(long_text, ",\"", i, "\""));
  }
  EXPECT_EQ(r.Next(&f, &err), CsvReader::Result::kEnd);
  EXPECT_EQ(r.bytes_read(), static_cast<int64_t>(body.size()));
  EXPECT_EQ(r.size_bytes(), static_cast<int64_t>(body.size()));
}

// ---------------------------------------------------------------------------------------
// Text rules, ids, splits

TEST(Sanitize, TabsNewlinesControlsAndInvalidUtf8) {
  EXPECT_EQ(SanitizeField("  a\tb\r\nc\x01" "d  "), "a b c d");
  EXPECT_EQ(SanitizeField("caf\xC3\xA9 \xFF\xC3 ok"), "caf\xC3\xA9 ok");  // lone bytes dropped
  EXPECT_EQ(SanitizeField("over\xC0\xAFlong \xED\xA0\x80sur"), "overlong sur");
  EXPECT_EQ(SanitizeField("line\xE2\x80\xA8sep\xC2\x85nel\xC2\xA0nbsp"), "line sep nel nbsp");
  EXPECT_EQ(SanitizeField("emoji \xF0\x9F\x93\xB1 kept"), "emoji \xF0\x9F\x93\xB1 kept");
}

TEST(Sanitize, TruncatesOnCodePoints) {
  EXPECT_EQ(TruncateUtf8("\xC3\xA9\xC3\xA9\xC3\xA9", 2), "\xC3\xA9\xC3\xA9");
  EXPECT_EQ(TruncateUtf8("ab cd", 3), "ab");  // trailing space trimmed
  EXPECT_EQ(TruncateUtf8("abc", 10), "abc");
}

TEST(Sanitize, TruncatesToBytesOnCodePointBoundaries) {
  EXPECT_EQ(TruncateUtf8Bytes("\xC3\xA9\xC3\xA9\xC3\xA9", 5), "\xC3\xA9\xC3\xA9");
  EXPECT_EQ(TruncateUtf8Bytes("ab cd", 3), "ab");
  EXPECT_EQ(TruncateUtf8Bytes("abc", 10), "abc");
  EXPECT_EQ(TruncateUtf8Bytes(std::string(1000, 'x'), kMaxTitleBytes).size(), kMaxTitleBytes);
}

TEST(Ids, EsciListingIdIsStablePositive63Bit) {
  const uint64_t a = EsciListingId("B07XYZ1234");
  EXPECT_EQ(a, EsciListingId(" B07XYZ1234 "));
  EXPECT_NE(a, EsciListingId("B07XYZ1235"));
  EXPECT_GT(a, 0u);
  EXPECT_LT(a, uint64_t{1} << 63);
  // Golden value: the id is a contract with listing_ids.tsv and stored artifacts.
  EXPECT_EQ(EsciListingId(""), 14695981039346656037ull & 0x7FFFFFFFFFFFFFFFull);
  EXPECT_EQ(WandsListingId(0), 1u);
}

TEST(Splits, DeterministicAndNearTheirShares) {
  std::map<std::string, int> esci, wands;
  for (uint64_t q = 0; q < 20000; ++q) {
    const std::string s = EsciSplit(q, "train", 0.10);
    EXPECT_EQ(s, EsciSplit(q, "train", 0.10));
    EXPECT_EQ(EsciSplit(q, "test", 0.10), "test");
    ++esci[s];
    ++wands[WandsSplit(q, 0.15, 0.15)];
  }
  EXPECT_NEAR(esci["valid"] / 20000.0, 0.10, 0.01);
  EXPECT_NEAR(wands["train"] / 20000.0, 0.70, 0.015);
  EXPECT_NEAR(wands["valid"] / 20000.0, 0.15, 0.01);
  EXPECT_NEAR(wands["test"] / 20000.0, 0.15, 0.01);
}

// ---------------------------------------------------------------------------------------
// ESCI

constexpr int kEsciExtraQueries = 200;

// Examples and products with the awkward cases: commas, doubled quotes and line breaks in
// quoted fields, a tab and an invalid byte inside fields, CRLF, other locales, rows outside
// the small version, an unknown product, a product without a title.
struct EsciFixture {
  std::string dir, examples, products;
};

EsciFixture WriteEsciFixture(const std::string& name) {
  EsciFixture f;
  f.dir = NewDir(name);
  f.examples = f.dir + "/examples.csv";
  f.products = f.dir + "/products.csv";
  std::string ex =
      "example_id,query,query_id,product_id,product_locale,esci_label,small_version,large_version,split\n"
      "0,\"red sofa, 3 seater\",1,B000000001,us,E,1,1,train\n"
      "1,\"red sofa, 3 seater\",1,B000000002,us,S,1,1,train\n"
      "2,\"red sofa, 3 seater\",1,B000000003,us,C,1,1,train\r\n"
      "3,\"red sofa, 3 seater\",1,B000000004,us,I,1,1,train\n"
      "4,\"the \"\"best\"\" kettle\",2,B000000005,us,E,1,1,test\n"
      "5,sofa rojo,3,B000000001,es,E,1,1,train\n"
      "6,big tv,4,B000000006,us,E,0,1,train\n"
      "7,\"red sofa, 3 seater\",1,B999999999,us,E,1,1,train\n"
      "8,no title product,5,B000000007,us,E,1,1,test\n"
      "9,\"red sofa, 3 seater\",1,B000000001,us,E,1,1,train\n";
  // Many one-judgment train queries, so that both train and valid show up.
  for (int i = 0; i < kEsciExtraQueries; ++i) {
    absl::StrAppend(&ex, 100 + i, ",query ", i, ",", 100 + i, ",B000000002,us,E,1,1,train\n");
  }
  WriteFile(f.examples, ex);
  WriteFile(f.products,
            "product_id,product_locale,product_title,product_description,product_bullet_point,"
            "product_brand,product_color\n"
            "B000000001,us,\"Sofa, red, 3 seater\",\"Soft \"\"velvet\"\" sofa.\n"
            "Second line\twith a tab.\",\"bullet\",Acme,Red\n"
            "B000000001,es,\"Sof\xC3\xA1 rojo\",,,Acme,Rojo\n"
            "B000000002,us,Blue sofa \xFF,,\"Bullet one\nBullet two\",Acme,\n"
            "B000000003,us,Sofa cushion,,,,\"Grey; Blue\"\r\n"
            "B000000004,us,Coffee machine,A machine.,,Brew,\n"
            "B000000005,us,Kettle \"\"steel\"\",,,,\n"
            "B000000006,us,TV 55 inch,,,,\n"
            "B000000007,us,,no title here,,,\n"
            "B000000008,us,Never judged,,,,\n");
  return f;
}

EsciOptions Options(const EsciFixture& f) {
  EsciOptions o;
  o.examples_path = f.examples;
  o.products_path = f.products;
  return o;
}

TEST(LoadEsci, WritesCatalogWithQuotingHandled) {
  const EsciFixture f = WriteEsciFixture("esci1");
  const std::string out = f.dir + "/catalog";
  LoadSummary s;
  ASSERT_TRUE(LoadEsci(Options(f), out, &s).ok());

  // Listings: the products the kept examples refer to, minus the one without a title.
  EXPECT_EQ(s.listings, 5);
  auto by_src = ListingsBySource(out);
  ASSERT_EQ(by_src.size(), 5u);
  const auto& sofa = by_src["B000000001"];
  ASSERT_EQ(sofa.size(), 14u);
  EXPECT_EQ(sofa[0], absl::StrCat(EsciListingId("B000000001")));
  EXPECT_EQ(sofa[1], "Sofa, red, 3 seater");  // us title, not the es one
  EXPECT_EQ(sofa[2], "Soft \"velvet\" sofa. Second line with a tab.");
  EXPECT_EQ(sofa[3], "unknown");
  EXPECT_EQ(sofa[4], "Acme");
  EXPECT_EQ(sofa[5], "colour=Red");
  EXPECT_EQ(sofa[6], "1.00");
  EXPECT_EQ(sofa[7], "new");
  EXPECT_EQ(by_src["B000000002"][1], "Blue sofa");            // invalid byte dropped
  EXPECT_EQ(by_src["B000000002"][2], "Bullet one Bullet two");  // bullets when no description
  EXPECT_EQ(by_src["B000000002"][5], "");
  EXPECT_EQ(by_src["B000000003"][5], "colour=Grey, Blue");
  EXPECT_EQ(by_src["B000000005"][1], "Kettle \"\"steel\"\"");  // quotes mid-field are literal
  EXPECT_EQ(by_src.count("B000000006"), 0u);  // only in a non-small example
  EXPECT_EQ(by_src.count("B000000007"), 0u);  // no title
  EXPECT_EQ(by_src.count("B000000008"), 0u);  // never judged

  // Every listings row has exactly 14 fields.
  const auto rows = Tsv(out + "/listings.tsv");
  ASSERT_EQ(rows.size(), 6u);
  for (const auto& r : rows) EXPECT_EQ(r.size(), 14u);

  // Filters and skips are counted.
  EXPECT_EQ(Get(s.filtered, "examples: other locale"), 1);
  EXPECT_EQ(Get(s.filtered, "examples: not in small version"), 1);
  EXPECT_EQ(Get(s.filtered, "products: other locale"), 1);
  EXPECT_EQ(Get(s.filtered, "products: not judged"), 2);  // B6 (non-small only) and B8
  EXPECT_EQ(Get(s.skipped, "products: missing title"), 1);
  EXPECT_EQ(Get(s.skipped, "examples: unknown product"), 2);  // B999999999 and untitled B7
  EXPECT_EQ(Get(s.skipped, "examples: duplicate judgment"), 1);
  EXPECT_EQ(Get(s.skipped, "queries: no judgment left"), 1);  // query 5
  EXPECT_EQ(s.rows_read["examples"], 10 + kEsciExtraQueries);
  EXPECT_FALSE(s.skip_examples.empty());

  // Readable by the catalog reader; labels as in the source.
  auto queries = ReadQueries(out + "/queries.tsv");
  ASSERT_TRUE(queries.ok()) << queries.status();
  auto judgments = ReadJudgments(out + "/judgments.tsv");
  ASSERT_TRUE(judgments.ok()) << judgments.status();
  EXPECT_EQ(static_cast<int64_t>(queries->size()), s.queries);
  EXPECT_EQ(static_cast<int64_t>(judgments->size()), s.judgments);
  EXPECT_EQ(s.queries, 2 + kEsciExtraQueries);
  std::map<uint64_t, QueryRecord> q;
  for (const auto& r : *queries) q[r.query_id] = r;
  EXPECT_EQ(q[1].text, "red sofa, 3 seater");
  EXPECT_EQ(q[2].text, "the \"best\" kettle");
  EXPECT_EQ(q[2].split, "test");
  EXPECT_EQ(q[1].user_id, 0u);
  const JudgmentMap jm = GroupJudgments(*judgments);
  const auto& j1 = jm.at(1);
  EXPECT_EQ(j1.size(), 4u);
  EXPECT_EQ(j1.at(EsciListingId("B000000001")), Esci::kExact);
  EXPECT_EQ(j1.at(EsciListingId("B000000002")), Esci::kSubstitute);
  EXPECT_EQ(j1.at(EsciListingId("B000000003")), Esci::kComplement);
  EXPECT_EQ(j1.at(EsciListingId("B000000004")), Esci::kIrrelevant);
  EXPECT_EQ(Get(s.judgments_per_label, "E"), 2 + kEsciExtraQueries);
  EXPECT_EQ(Get(s.judgments_per_label, "S"), 1);
  EXPECT_EQ(Get(s.judgments_per_label, "C"), 1);
  EXPECT_EQ(Get(s.judgments_per_label, "I"), 1);

  // Splits: ESCI test stays test, ESCI train becomes train or valid (~10 %).
  EXPECT_EQ(Get(s.queries_per_split, "test"), 1);
  EXPECT_GT(Get(s.queries_per_split, "valid"), 5);
  EXPECT_GT(Get(s.queries_per_split, "train"), Get(s.queries_per_split, "valid") * 4);
  for (const auto& r : *queries) {
    if (r.query_id != 2) {
      EXPECT_EQ(r.split, EsciSplit(r.query_id, "train", 0.10));
    }
  }
  // No temporary files left behind.
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
}

TEST(LoadEsci, SmallVersionAndLocaleFilters) {
  const EsciFixture f = WriteEsciFixture("esci2");
  EsciOptions o = Options(f);
  o.small_version_only = false;
  LoadSummary s;
  ASSERT_TRUE(LoadEsci(o, f.dir + "/all", &s).ok());
  EXPECT_EQ(s.listings, 6);  // + the TV
  EXPECT_EQ(Get(s.filtered, "examples: not in small version"), 0);
  EXPECT_EQ(ListingsBySource(f.dir + "/all").count("B000000006"), 1u);

  o = Options(f);
  o.locale = "ES";
  ASSERT_TRUE(LoadEsci(o, f.dir + "/es", &s).ok());
  EXPECT_EQ(s.listings, 1);
  EXPECT_EQ(s.queries, 1);
  auto by_src = ListingsBySource(f.dir + "/es");
  EXPECT_EQ(by_src["B000000001"][1], "Sof\xC3\xA1 rojo");
  EXPECT_EQ(by_src["B000000001"][5], "colour=Rojo");
  EXPECT_EQ(by_src["B000000001"][0], absl::StrCat(EsciListingId("B000000001")));

  o = Options(f);
  o.include_unjudged_products = true;
  ASSERT_TRUE(LoadEsci(o, f.dir + "/unjudged", &s).ok());
  EXPECT_EQ(s.listings, 7);  // every titled us product
}

TEST(LoadEsci, IdsAndFilesStableAcrossRuns) {
  const EsciFixture f = WriteEsciFixture("esci3");
  ASSERT_TRUE(LoadEsci(Options(f), f.dir + "/a", nullptr).ok());
  ASSERT_TRUE(LoadEsci(Options(f), f.dir + "/b", nullptr).ok());
  for (const char* file : {"listings.tsv", "queries.tsv", "judgments.tsv", "listing_ids.tsv"}) {
    const std::string a = Slurp(f.dir + "/a/" + file);
    EXPECT_FALSE(a.empty()) << file;
    EXPECT_EQ(a, Slurp(f.dir + "/b/" + file)) << file;
  }
  // A product keeps its id when the selection changes.
  EsciOptions o = Options(f);
  o.small_version_only = false;
  o.include_unjudged_products = true;
  ASSERT_TRUE(LoadEsci(o, f.dir + "/c", nullptr).ok());
  std::map<std::string, std::string> a_ids, c_ids;
  for (const auto& r : Tsv(f.dir + "/a/listing_ids.tsv")) a_ids[r[1]] = r[0];
  for (const auto& r : Tsv(f.dir + "/c/listing_ids.tsv")) c_ids[r[1]] = r[0];
  for (const auto& [src, id] : a_ids) EXPECT_EQ(c_ids[src], id) << src;
}

TEST(LoadEsci, BadInputsAreErrorsAndLeaveOldFiles) {
  const EsciFixture f = WriteEsciFixture("esci4");
  const std::string out = f.dir + "/catalog";
  ASSERT_TRUE(LoadEsci(Options(f), out, nullptr).ok());
  const std::string before = Slurp(out + "/listings.tsv");

  WriteFile(f.dir + "/nocol.csv", "query,query_id,product_id\nx,1,B1\n");
  EsciOptions o = Options(f);
  o.examples_path = f.dir + "/nocol.csv";
  absl::Status st = LoadEsci(o, out, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("product_locale"), std::string::npos) << st;

  WriteFile(f.dir + "/unterminated.csv",
            "product_id,product_locale,product_title\nB000000001,us,\"open quote\n");
  o = Options(f);
  o.products_path = f.dir + "/unterminated.csv";
  st = LoadEsci(o, out, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("unterminated"), std::string::npos) << st;

  o = Options(f);
  o.examples_path = f.dir + "/missing.csv";
  EXPECT_EQ(LoadEsci(o, out, nullptr).code(), absl::StatusCode::kNotFound);

  EXPECT_EQ(Slurp(out + "/listings.tsv"), before);
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
}

// ---------------------------------------------------------------------------------------
// WANDS

constexpr int kWandsQueries = 120;

std::string WriteWandsFixture(const std::string& name) {
  const std::string dir = NewDir(name);
  WriteFile(dir + "/product.csv",
            "product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\t"
            "product_features\trating_count\taverage_rating\treview_count\n"
            "0\tsolid wood platform bed\tBeds\tFurniture / Bedroom Furniture / Beds\t"
            "\"a sturdy bed, with \"\"slats\"\"\nand a headboard\"\tcolor:brown\t15\t4.5\t15\n"
            "1\tleather accent chair\tAccent Chairs|Desk Chairs\tFurniture / Chairs\tcomfy\t\t3\t7.2\t3\n"
            "2\tfloor lamp\t\tLighting\t\t\t0\tnan\t0\n"
            "3\trug\tArea Rugs\tRugs\t\t\t1\t-1\t1\n"
            "4\t\tOrphans\t\t\t\t\t\t\n"
            "5\ttoo\tfew\tfields\n");
  std::string q = "query_id\tquery\tquery_class\n";
  for (int i = 0; i < kWandsQueries; ++i) absl::StrAppend(&q, i, "\tquery number ", i, "\tBeds\n");
  absl::StrAppend(&q, "999\t\tEmpty\n");
  WriteFile(dir + "/query.csv", q);
  std::string l = "id\tquery_id\tproduct_id\tlabel\n";
  int id = 0;
  for (int i = 0; i < kWandsQueries; ++i) {
    absl::StrAppend(&l, id++, "\t", i, "\t0\tExact\n");
    absl::StrAppend(&l, id++, "\t", i, "\t1\tPartial\n");
    absl::StrAppend(&l, id++, "\t", i, "\t2\tIrrelevant\n");
  }
  absl::StrAppend(&l, id++, "\t0\t77\tExact\n");      // unknown product
  absl::StrAppend(&l, id++, "\t0\t4\tExact\n");       // product skipped for no title
  absl::StrAppend(&l, id++, "\t5000\t0\tExact\n");    // unknown query
  absl::StrAppend(&l, id++, "\t0\t3\tMaybe\n");       // unknown label
  absl::StrAppend(&l, id++, "\t0\t0\tPartial\n");     // duplicate (query, product)
  WriteFile(dir + "/label.csv", l);
  return dir;
}

TEST(LoadWands, LabelsCategoriesRatingsAndSplits) {
  WandsOptions o;
  o.dir = WriteWandsFixture("wands1");
  const std::string out = o.dir + "/catalog";
  LoadSummary s;
  ASSERT_TRUE(LoadWands(o, out, &s).ok());

  EXPECT_EQ(s.listings, 4);
  auto by_src = ListingsBySource(out);
  ASSERT_EQ(by_src.size(), 4u);
  EXPECT_EQ(by_src["0"][0], "1");  // product_id + 1
  EXPECT_EQ(by_src["0"][1], "solid wood platform bed");
  EXPECT_EQ(by_src["0"][2], "a sturdy bed, with \"slats\" and a headboard");
  EXPECT_EQ(by_src["0"][3], "Beds");
  EXPECT_EQ(by_src["0"][4], "");  // no brand in WANDS
  EXPECT_EQ(by_src["0"][9], "4.5");
  EXPECT_EQ(by_src["1"][3], "Accent Chairs");  // first class
  EXPECT_EQ(by_src["1"][9], "5.0");            // clamped
  EXPECT_EQ(by_src["2"][3], "unknown");
  EXPECT_EQ(by_src["2"][9], "");               // nan
  EXPECT_EQ(by_src["3"][9], "0.0");            // clamped
  for (const auto& r : Tsv(out + "/listings.tsv")) EXPECT_EQ(r.size(), 14u);

  EXPECT_EQ(Get(s.skipped, "product: missing title"), 1);
  EXPECT_EQ(Get(s.skipped, "product: wrong field count"), 1);
  EXPECT_EQ(Get(s.skipped, "query: missing query"), 1);
  EXPECT_EQ(Get(s.skipped, "label: unknown product"), 2);
  EXPECT_EQ(Get(s.skipped, "label: unknown query"), 1);
  EXPECT_EQ(Get(s.skipped, "label: unknown label"), 1);
  EXPECT_EQ(Get(s.skipped, "label: duplicate judgment"), 1);

  auto queries = ReadQueries(out + "/queries.tsv");
  ASSERT_TRUE(queries.ok()) << queries.status();
  auto judgments = ReadJudgments(out + "/judgments.tsv");
  ASSERT_TRUE(judgments.ok()) << judgments.status();
  ASSERT_EQ(static_cast<int>(queries->size()), kWandsQueries);
  ASSERT_EQ(static_cast<int>(judgments->size()), 3 * kWandsQueries);
  const JudgmentMap jm = GroupJudgments(*judgments);
  EXPECT_EQ(jm.at(7).at(1), Esci::kExact);       // Exact -> E
  EXPECT_EQ(jm.at(7).at(2), Esci::kSubstitute);  // Partial -> S
  EXPECT_EQ(jm.at(7).at(3), Esci::kIrrelevant);  // Irrelevant -> I
  EXPECT_EQ(Get(s.judgments_per_label, "E"), kWandsQueries);
  EXPECT_EQ(Get(s.judgments_per_label, "S"), kWandsQueries);
  EXPECT_EQ(Get(s.judgments_per_label, "C"), 0);
  EXPECT_EQ(Get(s.judgments_per_label, "I"), kWandsQueries);

  std::map<std::string, int> splits;
  for (const auto& q : *queries) {
    ++splits[q.split];
    EXPECT_EQ(q.split, WandsSplit(q.query_id, 0.15, 0.15));
  }
  EXPECT_EQ(splits.size(), 3u);
  EXPECT_GT(splits["train"], splits["valid"] + splits["test"]);
  EXPECT_GT(splits["valid"], 5);
  EXPECT_GT(splits["test"], 5);
  EXPECT_EQ(splits["train"], Get(s.queries_per_split, "train"));
  EXPECT_NE(Slurp(out + "/queries.tsv").find("source=wands;query_class=Beds"), std::string::npos);

  // Same input, same files.
  ASSERT_TRUE(LoadWands(o, o.dir + "/again", nullptr).ok());
  for (const char* file : {"listings.tsv", "queries.tsv", "judgments.tsv", "listing_ids.tsv"}) {
    EXPECT_EQ(Slurp(out + "/" + file), Slurp(o.dir + "/again/" + file)) << file;
  }
}

TEST(LoadWands, FindsDatasetSubdirAndWarnsAboutStaleFiles) {
  const std::string root = NewDir("wands_checkout");
  const std::string files = WriteWandsFixture("wands_checkout_src");
  std::filesystem::rename(files, root + "/dataset");
  const std::string out = root + "/catalog";
  std::filesystem::create_directories(out);
  WriteFile(out + "/users.tsv", "user_id\n1\n");
  WandsOptions o;
  o.dir = root;
  LoadSummary s;
  ASSERT_TRUE(LoadWands(o, out, &s).ok());
  EXPECT_EQ(s.listings, 4);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("users.tsv"), std::string::npos);
  const std::string text = FormatLoadSummary(s);
  EXPECT_NE(text.find("warning:"), std::string::npos) << text;
  EXPECT_NE(text.find("label: unknown product"), std::string::npos) << text;
}

TEST(LoadWands, MissingFilesAreErrors) {
  WandsOptions o;
  o.dir = NewDir("wands_empty");
  EXPECT_EQ(LoadWands(o, o.dir + "/catalog", nullptr).code(), absl::StatusCode::kNotFound);
  o.dir = "";
  EXPECT_EQ(LoadWands(o, "/tmp/x", nullptr).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marketsearch
