#include "index/publish.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "common/fake_env.h"
#include "common/fault_injection_env.h"
#include "common/file_util.h"
#include "common/versions.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::string Root(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

TEST(Publish, StagePublishAndSwitchCurrent) {
  const std::string root = Root("idx");
  EXPECT_EQ(NextVersion(root), 1);
  auto staging = MakeStagingDir(root, 1);
  ASSERT_TRUE(staging.ok());
  ASSERT_TRUE(WriteFileAtomically(*staging + "/index.faiss", "data").ok());
  // An unpublished staging dir is not a version.
  EXPECT_EQ(NextVersion(root), 1);
  ASSERT_TRUE(PublishVersion(*staging, root, 1).ok());
  ASSERT_TRUE(WriteCurrent(root, 1).ok());
  EXPECT_EQ(*ReadFile(root + "/CURRENT"), "1\n");
  EXPECT_EQ(*ReadFile(root + "/1/index.faiss"), "data");
  EXPECT_EQ(NextVersion(root), 2);
}

// An I/O error at any step before the rename publishes nothing: no version directory, the
// staging directory (which is not a version) still there for the caller to remove.
TEST(Publish, AnErrorBeforeTheRenamePublishesNothing) {
  for (const char* spec : {"sync:index.faiss:EIO", "syncdir:.tmp-:EIO", "rename:.tmp-:EIO",
                           "rename:*:ENOSPC"}) {
    FakeEnv fake;
    auto rules = ParseFaultSpec(spec);
    ASSERT_TRUE(rules.ok());
    FaultInjectionEnv env(&fake, *rules);
    auto staging = MakeStagingDir("/idx", 1, &env);
    ASSERT_TRUE(staging.ok()) << staging.status();
    ASSERT_TRUE(WriteFileDurably(*staging + "/index.faiss", "data", &fake).ok());
    absl::Status s = PublishVersion(*staging, "/idx", 1, &env);
    EXPECT_FALSE(s.ok()) << spec;
    EXPECT_NE(s.message().find("/idx/.tmp-1-"), absl::string_view::npos) << s;
    EXPECT_FALSE(fake.FileExists("/idx/1")) << spec;
    EXPECT_TRUE(fake.FileExists(*staging + "/index.faiss")) << spec;
  }
}

// After a failed switch the new version goes unless CURRENT names it.
TEST(Publish, WithdrawsOnlyAnUnservedVersion) {
  FakeEnv env;
  env.MakeDirs("/idx/1");
  env.WriteFile("/idx/2/index.faiss", "new");
  env.WriteFile("/idx/CURRENT", "1\n");
  WithdrawUnservedVersion("/idx", 2, &env);
  EXPECT_FALSE(env.FileExists("/idx/2"));
  EXPECT_EQ(*env.ListDir("/idx"), (std::vector<std::string>{"1", "CURRENT"}));
  env.WriteFile("/idx/3/index.faiss", "served");
  env.WriteFile("/idx/CURRENT", "3\n");
  WithdrawUnservedVersion("/idx", 3, &env);
  EXPECT_TRUE(env.FileExists("/idx/3/index.faiss"));
}

TEST(Publish, VersionsAreImmutable) {
  const std::string root = Root("idx2");
  auto s1 = MakeStagingDir(root, 1);
  ASSERT_TRUE(PublishVersion(*s1, root, 1).ok());
  auto s2 = MakeStagingDir(root, 1);
  EXPECT_EQ(PublishVersion(*s2, root, 1).code(), absl::StatusCode::kAlreadyExists);
}

TEST(Publish, RemovesOnlyTheStagingDirsOfDeadJobs) {
  const std::string root = Root("idx3");
  // A pid that certainly belonged to a process that is gone: a child we reaped.
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const std::string dead = root + "/.tmp-7-" + std::to_string(child);
  ASSERT_TRUE(MakeDirs(dead).ok());
  ASSERT_TRUE(WriteFileAtomically(dead + "/index.faiss", "half").ok());
  auto mine = MakeStagingDir(root, 8);  // this (live) process's
  ASSERT_TRUE(mine.ok());
  ASSERT_TRUE(MakeDirs(root + "/.tmp-unrelated").ok());
  auto s1 = MakeStagingDir(root, 1);
  ASSERT_TRUE(PublishVersion(*s1, root, 1).ok());

  EXPECT_EQ(RemoveAbandonedStagingDirs(root), 1);
  EXPECT_FALSE(PathExists(dead));
  EXPECT_TRUE(PathExists(*mine));
  EXPECT_TRUE(PathExists(root + "/.tmp-unrelated"));
  EXPECT_TRUE(PathExists(root + "/1"));
  EXPECT_EQ(NextVersion(root), 2);
}

}  // namespace
}  // namespace marketsearch
