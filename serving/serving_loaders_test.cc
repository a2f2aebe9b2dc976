// The loaders' wiring without artifacts (loading real ones is covered end to end by the
// server tests): missing versions fail with the library's error, the factory makes one loader
// per kind, and the served set needs an index.
#include "serving/serving_loaders.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "common/file_util.h"
#include "index/lexical_manifest.h"
#include "index/lexical_writer.h"
#include "serving/servable_source.h"

namespace marketsearch {
namespace {

ServingLoaderOptions Options() {
  ServingLoaderOptions o;
  o.data_dir = "/nonexistent/marketsearch-data";
  return o;
}

TEST(ServingLoadersTest, MissingVersionsFailToLoad) {
  EXPECT_EQ(IndexLoader(Options(), 1).Load().status().code(), absl::StatusCode::kInvalidArgument)
      << "no store";
  EXPECT_FALSE(LexicalLoader(Options(), 1).Load().ok());
  const auto ranker = RankerLoader(Options(), 1).Load();
  ASSERT_FALSE(ranker.ok());
  EXPECT_NE(ranker.status().message().find("/nonexistent/marketsearch-data/models/ranker/1"),
            std::string::npos)
      << ranker.status();
}

// --spelling_correction=false reaches every lexical version the lifecycle loads: the index
// (the query tower's speller too) then corrects nothing.
TEST(ServingLoadersTest, LexicalVersionsOpenWithTheSpellingOption) {
  const std::string data = absl::StrCat(std::getenv("TEST_TMPDIR"), "/spelling_data");
  LexicalIndexWriter::Options w;
  w.path = ServableVersionDir(data, ServableKind::kLexical, 1);
  w.overwrite = true;
  auto writer = LexicalIndexWriter::Open(w);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (uint64_t id = 1; id <= 3; ++id) {
    Listing l;
    l.set_listing_id(id);
    l.set_title("makita cordless drill");
    l.set_category("tools");
    l.set_price(50);
    ASSERT_TRUE((*writer)->Add(l).ok());
  }
  ASSERT_TRUE((*writer)->Commit().ok());
  writer->reset();
  auto sums = LexicalChecksumLines(w.path);
  ASSERT_TRUE(sums.ok()) << sums.status();
  ASSERT_TRUE(WriteFileAtomically(w.path + "/MANIFEST", *sums).ok());
  for (const bool on : {true, false}) {
    ServingLoaderOptions o;
    o.data_dir = data;
    o.lexical.correct_spelling = on;
    auto loaded = LexicalLoader(o, 1).Load();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    const auto& lexical = *static_cast<const LexicalServable&>(**loaded).lexical;
    bool changed = false;
    auto tokens = lexical.CorrectSpelling({"cordles", "drill"}, &changed);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    EXPECT_EQ(changed, on);
    EXPECT_EQ((*tokens)[0], on ? "cordless" : "cordles");
  }
}

// A lexical version whose files do not match its MANIFEST's checksums is refused by name
// (the manager then keeps serving the previous one), before Xapian opens it.
TEST(ServingLoadersTest, LexicalVersionWithAFlippedBitIsRefused) {
  const std::string data = absl::StrCat(std::getenv("TEST_TMPDIR"), "/flipped_lexical");
  LexicalIndexWriter::Options w;
  w.path = ServableVersionDir(data, ServableKind::kLexical, 1);
  w.overwrite = true;
  auto writer = LexicalIndexWriter::Open(w);
  ASSERT_TRUE(writer.ok()) << writer.status();
  Listing l;
  l.set_listing_id(1);
  l.set_title("grey sofa");
  l.set_category("furniture");
  l.set_price(100);
  ASSERT_TRUE((*writer)->Add(l).ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  writer->reset();
  auto sums = LexicalChecksumLines(w.path);
  ASSERT_TRUE(sums.ok()) << sums.status();
  ASSERT_TRUE(WriteFileAtomically(w.path + "/MANIFEST", *sums).ok());
  ServingLoaderOptions o;
  o.data_dir = data;
  ASSERT_TRUE(LexicalLoader(o, 1).Load().ok());
  const std::string victim = w.path + "/postlist.glass";
  auto bytes = ReadFile(victim);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  (*bytes)[bytes->size() / 2] ^= 0x01;
  ASSERT_TRUE(WriteFileAtomically(victim, *bytes).ok());
  const auto loaded = LexicalLoader(o, 1).Load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find(victim), std::string::npos) << loaded.status();
}

TEST(ServingLoadersTest, FactoryMakesALoaderPerKind) {
  const LoaderFactory factory = MakeServingLoaderFactory(Options());
  EXPECT_NE(dynamic_cast<IndexLoader*>(factory(ServableKind::kIndex, 3).get()), nullptr);
  EXPECT_NE(dynamic_cast<LexicalLoader*>(factory(ServableKind::kLexical, 3).get()), nullptr);
  EXPECT_NE(dynamic_cast<RankerLoader*>(factory(ServableKind::kRanker, 3).get()), nullptr);
}

TEST(ServingLoadersTest, ARankerNeedsAServingIndex) {
  const ServingSet none;
  EXPECT_TRUE(ServingCompatible(ServableKind::kLexical, LexicalServable(), none));
  EXPECT_FALSE(ServingCompatible(ServableKind::kRanker, RankerServable(), none));
  EXPECT_EQ(GetServedArtifacts(none).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace marketsearch
