// The loaders' wiring without artifacts (loading real ones is covered end to end by the
// server tests): missing versions fail with the library's error, the factory makes one loader
// per kind, and the served set needs an index.
#include "serving/serving_loaders.h"

#include "gtest/gtest.h"

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
