#include "serving/servable_source.h"

#include <string>
#include <vector>

#include "common/fake_env.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

using Versions = std::vector<int64_t>;

const AspiredVersions& Of(const AspiredVersionsMap& m, ServableKind kind) {
  return m[static_cast<int>(kind)];
}

class DataDirSourceTest : public ::testing::Test {
 protected:
  DataDirSourceTest() : source_({"/var", &env_}) {}
  FakeEnv env_;
  DataDirSource source_;
};

TEST(ParseVersionNameTest, AcceptsOnlyCanonicalPositiveIntegers) {
  int64_t v = 0;
  EXPECT_TRUE(ParseVersionName("7", &v));
  EXPECT_EQ(v, 7);
  EXPECT_TRUE(ParseVersionName("9223372036854775807", &v));
  for (const char* bad : {"", "0", "007", "+4", "-3", " 7", "7 ", "5x", "abc", ".tmp-11-42",
                          "99999999999999999999", "CURRENT"}) {
    EXPECT_FALSE(ParseVersionName(bad, &v)) << '"' << bad << '"';
  }
}

TEST(ParseCurrentFileTest, OneVersionNameWithOptionalWhitespace) {
  EXPECT_EQ(*ParseCurrentFile("3\n", "CURRENT"), 3);
  EXPECT_EQ(*ParseCurrentFile(" 12 \r\n", "CURRENT"), 12);
  for (const char* bad : {"", "\n", "abc\n", "07\n", "0\n", "-1\n", "3\n4\n", "3 4\n"}) {
    auto v = ParseCurrentFile(bad, "/var/index/CURRENT");
    ASSERT_FALSE(v.ok()) << '"' << bad << '"';
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(v.status().message().find("/var/index/CURRENT"), std::string::npos);
  }
}

TEST(ServableRootTest, NamesTheDataDirectoryLayout) {
  EXPECT_EQ(ServableRoot("/var", ServableKind::kIndex), "/var/index");
  EXPECT_EQ(ServableRoot("/var", ServableKind::kLexical), "/var/lexical");
  EXPECT_EQ(ServableVersionDir("/var", ServableKind::kRanker, 4), "/var/models/ranker/4");
}

TEST_F(DataDirSourceTest, EmptyDataDirAspiresNothing) {
  const AspiredVersionsMap a = source_.GetAspiredVersions();
  for (ServableKind kind : kAllServableKinds) {
    EXPECT_TRUE(Of(a, kind).status.ok()) << ServableKindName(kind);
    EXPECT_TRUE(Of(a, kind).candidates.empty()) << ServableKindName(kind);
  }
}

TEST_F(DataDirSourceTest, CurrentNamesTheIndexAndLexicalCandidates) {
  env_.MakeDirs("/var/index/1");
  env_.MakeDirs("/var/index/2");
  env_.WriteFile("/var/index/CURRENT", "2\n");
  env_.MakeDirs("/var/lexical/5");  // no lexical/CURRENT: no lexical candidate
  const AspiredVersionsMap a = source_.GetAspiredVersions();
  EXPECT_EQ(Of(a, ServableKind::kIndex).candidates, Versions{2});
  EXPECT_TRUE(Of(a, ServableKind::kLexical).status.ok());
  EXPECT_TRUE(Of(a, ServableKind::kLexical).candidates.empty());

  env_.WriteFile("/var/lexical/CURRENT", "5\n");
  EXPECT_EQ(Of(source_.GetAspiredVersions(), ServableKind::kLexical).candidates, Versions{5});
}

TEST_F(DataDirSourceTest, MalformedCurrentIsDataLossForThatKindOnly) {
  env_.WriteFile("/var/index/CURRENT", "two\n");
  env_.WriteFile("/var/lexical/CURRENT", "3\n");
  const AspiredVersionsMap a = source_.GetAspiredVersions();
  EXPECT_EQ(Of(a, ServableKind::kIndex).status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Of(a, ServableKind::kIndex).candidates.empty());
  EXPECT_EQ(Of(a, ServableKind::kLexical).candidates, Versions{3});
}

TEST_F(DataDirSourceTest, UnreadableCurrentIsAnError) {
  env_.WriteFile("/var/lexical/CURRENT", "3\n");
  env_.SetReadError("/var/lexical/CURRENT", absl::InternalError("EIO"));
  EXPECT_EQ(Of(source_.GetAspiredVersions(), ServableKind::kLexical).status.code(),
            absl::StatusCode::kInternal);
}

TEST_F(DataDirSourceTest, RankersAreEveryVersionDirectoryNewestFirst) {
  for (const char* d : {"1", "2", "10", "abc", "007", "0", "-3", ".tmp-11-4242", "5x"}) {
    env_.MakeDirs(std::string("/var/models/ranker/") + d);
  }
  env_.WriteFile("/var/models/ranker/7", "a file, not a version");
  const AspiredVersionsMap a = source_.GetAspiredVersions();
  EXPECT_TRUE(Of(a, ServableKind::kRanker).status.ok());
  EXPECT_EQ(Of(a, ServableKind::kRanker).candidates, (Versions{10, 2, 1}));

  env_.SetReadError("/var/models/ranker", absl::PermissionDeniedError("EACCES"));
  EXPECT_EQ(Of(source_.GetAspiredVersions(), ServableKind::kRanker).status.code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(DataDirSourceTest, PinsAreCountedAndAspiredOnceTheirDirectoryExists) {
  env_.MakeDirs("/var/models/ranker/3");
  source_.AddPinned(ServableKind::kRanker, 3);
  source_.AddPinned(ServableKind::kRanker, 3);  // a second arm pins the same version
  source_.AddPinned(ServableKind::kRanker, 9);  // not published yet
  AspiredVersionsMap a = source_.GetAspiredVersions();
  EXPECT_EQ(Of(a, ServableKind::kRanker).pinned, Versions{3});
  EXPECT_EQ(Of(a, ServableKind::kRanker).missing_pinned, Versions{9});

  env_.MakeDirs("/var/models/ranker/9");
  a = source_.GetAspiredVersions();
  EXPECT_EQ(Of(a, ServableKind::kRanker).pinned, (Versions{3, 9}));
  EXPECT_TRUE(Of(a, ServableKind::kRanker).missing_pinned.empty());

  EXPECT_TRUE(source_.RemovePinned(ServableKind::kRanker, 3));
  EXPECT_EQ(Of(source_.GetAspiredVersions(), ServableKind::kRanker).pinned, (Versions{3, 9}));
  EXPECT_TRUE(source_.RemovePinned(ServableKind::kRanker, 3));
  EXPECT_EQ(Of(source_.GetAspiredVersions(), ServableKind::kRanker).pinned, Versions{9});
  EXPECT_FALSE(source_.RemovePinned(ServableKind::kRanker, 3));
  EXPECT_FALSE(source_.RemovePinned(ServableKind::kIndex, 9));
}

}  // namespace
}  // namespace marketsearch
