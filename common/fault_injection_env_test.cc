#include "common/fault_injection_env.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/fake_env.h"
#include "common/file_util.h"
#include "common/versions.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {
namespace fs = std::filesystem;

std::vector<FaultRule> Rules(const std::string& spec) {
  absl::StatusOr<std::vector<FaultRule>> r = ParseFaultSpec(spec);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<FaultRule>();
}

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const fs::path dir = fs::path(tmp != nullptr ? tmp : fs::temp_directory_path().string()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

TEST(ParseFaultSpecTest, ReadsEveryField) {
  const std::vector<FaultRule> r =
      Rules("rename:CURRENT:EIO,sync:*.faiss:ENOSPC:first,write:MANIFEST:EROFS:3,read:x:EIO:2+");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].op, FaultOp::kRename);
  EXPECT_EQ(r[0].pattern, "CURRENT");
  EXPECT_EQ(r[0].error, EIO);
  EXPECT_EQ(r[0].nth, 0);
  EXPECT_EQ(r[1].op, FaultOp::kSync);
  EXPECT_EQ(r[1].error, ENOSPC);
  EXPECT_EQ(r[1].nth, 1);
  EXPECT_EQ(r[2].error, EROFS);
  EXPECT_EQ(r[2].nth, 3);
  EXPECT_FALSE(r[2].and_later);
  EXPECT_EQ(r[3].nth, 2);
  EXPECT_TRUE(r[3].and_later);
}

TEST(ParseFaultSpecTest, RefusesMalformedRulesNamingThem) {
  for (const char* bad : {"", "rename:CURRENT", "fsync:CURRENT:EIO", "rename::EIO",
                          "rename:CURRENT:EWHAT", "rename:CURRENT:EIO:0", "rename:CURRENT:EIO:soon",
                          "rename:CURRENT:EIO:1:2", "rename:CURRENT:EIO,"}) {
    absl::StatusOr<std::vector<FaultRule>> r = ParseFaultSpec(bad);
    EXPECT_FALSE(r.ok()) << "accepted \"" << bad << "\"";
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseFaultSpec("rename:CURRENT:EWHAT").status().message().find("EWHAT"),
            absl::string_view::npos);
}

TEST(FaultPatternTest, SubstringOrGlob) {
  EXPECT_TRUE(FaultPatternMatches("CURRENT", "/d/index/CURRENT.tmp"));
  EXPECT_FALSE(FaultPatternMatches("CURRENT", "/d/index/3/MANIFEST"));
  EXPECT_TRUE(FaultPatternMatches("*.faiss", "/d/index/.tmp-3-99/index.faiss"));
  EXPECT_FALSE(FaultPatternMatches("*.faiss", "/d/index/.tmp-3-99/index.faiss.tmp"));
  EXPECT_TRUE(FaultPatternMatches("*", "/anything"));
  EXPECT_TRUE(FaultPatternMatches("/d/*/CURRENT", "/d/index/CURRENT"));
}

TEST(FaultInjectionEnvTest, OccurrencesFirstNthAndLater) {
  FakeEnv fake;
  fake.MakeDirs("/r");
  FaultInjectionEnv env(&fake, Rules("mkdir:a:EIO:first,mkdir:b:EIO:2,mkdir:c:EIO:2+,mkdir:d:EIO"));
  auto fails = [&](const std::string& d) { return !env.CreateDirs("/r/" + d).ok(); };
  EXPECT_EQ((std::vector<bool>{fails("a"), fails("a"), fails("a")}),
            (std::vector<bool>{true, false, false}));
  EXPECT_EQ((std::vector<bool>{fails("b"), fails("b"), fails("b")}),
            (std::vector<bool>{false, true, false}));
  EXPECT_EQ((std::vector<bool>{fails("c"), fails("c"), fails("c")}),
            (std::vector<bool>{false, true, true}));
  EXPECT_EQ((std::vector<bool>{fails("d"), fails("d")}), (std::vector<bool>{true, true}));
  EXPECT_EQ(env.injected(), 1 + 1 + 2 + 2);
}

TEST(FaultInjectionEnvTest, EachOperationFailsWithItsNameTheFileAndTheErrno) {
  FakeEnv fake;
  fake.MakeDirs("/r");
  fake.WriteFile("/r/in", "data");
  FaultInjectionEnv env(&fake, Rules("write:w1:ENOSPC,sync:s1:EIO,syncdir:/r:EIO,rename:to:EROFS,"
                                     "read:in:EIO,remove:gone:EACCES"));
  auto w = env.NewWritableFile("/r/w1");
  ASSERT_TRUE(w.ok());
  absl::Status s = (*w)->Append("abcdef");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "write /r/w1: No space left on device (injected)");
  EXPECT_EQ(*fake.ReadFileToString("/r/w1"), "abc");  // a torn write

  auto s1 = env.NewWritableFile("/r/s1");
  ASSERT_TRUE(s1.ok());
  EXPECT_TRUE((*s1)->Append("x").ok());
  EXPECT_EQ((*s1)->Sync().message(), "fsync /r/s1: Input/output error (injected)");
  EXPECT_EQ(env.SyncFile("/r/s1").message(), "fsync /r/s1: Input/output error (injected)");
  EXPECT_EQ(env.SyncDir("/r").message(), "fsync dir /r: Input/output error (injected)");
  EXPECT_EQ(env.RenameFile("/r/in", "/r/to").message(),
            "rename /r/in -> /r/to: Read-only file system (injected)");
  EXPECT_TRUE(fake.FileExists("/r/in"));
  EXPECT_EQ(env.ReadFileToString("/r/in").status().message(),
            "read /r/in: Input/output error (injected)");
  auto seq = env.NewSequentialFile("/r/in");
  ASSERT_TRUE(seq.ok());
  std::string chunk;
  EXPECT_FALSE((*seq)->Read(10, &chunk).ok());
  EXPECT_FALSE(env.RemoveAll("/r/gone").ok());
  // Unmatched files pass through.
  EXPECT_TRUE(env.RenameFile("/r/w1", "/r/w2").ok());
  EXPECT_EQ(*env.ReadFileToString("/r/w2"), "abc");
}

// The publication primitives through a fault on the real file system: CURRENT keeps naming
// the old version and no temporary file is left behind.
TEST(FaultInjectionEnvTest, WriteCurrentFailureLeavesTheOldCurrent) {
  const std::string root = FreshDir("fault_current");
  fs::create_directories(root + "/1");
  fs::create_directories(root + "/2");
  ASSERT_TRUE(WriteCurrent(root, 1).ok());
  for (const char* spec : {"write:CURRENT:EIO", "sync:CURRENT:EIO", "rename:CURRENT:EIO",
                           "write:CURRENT:ENOSPC"}) {
    FaultInjectionEnv env(Env::Default(), Rules(spec));
    absl::Status s = WriteCurrent(root, 2, &env);
    EXPECT_FALSE(s.ok()) << spec;
    EXPECT_NE(s.message().find(root + "/CURRENT"), absl::string_view::npos) << s;
    EXPECT_EQ(*ReadCurrent(root), 1) << spec;
    EXPECT_FALSE(fs::exists(root + "/CURRENT.tmp")) << spec;
  }
  // syncdir fails after the rename: the new CURRENT is in place but reported as not durable.
  FaultInjectionEnv env(Env::Default(), Rules("syncdir:*:EIO"));
  EXPECT_FALSE(WriteCurrent(root, 2, &env).ok());
  EXPECT_TRUE(WriteCurrent(root, 2).ok());
  EXPECT_EQ(*ReadCurrent(root), 2);
}

TEST(FaultInjectionEnvTest, Sha256FileReportsTheReadError) {
  const std::string root = FreshDir("fault_sha");
  ASSERT_TRUE(WriteFileAtomically(root + "/f", "hello").ok());
  FaultInjectionEnv env(Env::Default(), Rules("read:*:EIO"));
  absl::StatusOr<std::string> sum = Sha256File(root + "/f", &env);
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().message(), "read " + root + "/f: Input/output error (injected)");
  EXPECT_EQ(*Sha256File(root + "/f"), Sha256Hex("hello"));
}

TEST(FakeEnvWriteTest, WritesRenamesAndRemoves) {
  FakeEnv env;
  ASSERT_TRUE(env.CreateDirs("/r/.tmp-1").ok());
  ASSERT_TRUE(WriteFileDurably("/r/.tmp-1/a", "A", &env).ok());
  ASSERT_TRUE(env.RenameFile("/r/.tmp-1", "/r/1").ok());
  EXPECT_EQ(*env.ReadFileToString("/r/1/a"), "A");
  EXPECT_FALSE(env.FileExists("/r/.tmp-1"));
  EXPECT_EQ(env.NewWritableFile("/nodir/x").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(env.RemoveAll("/r/1").ok());
  EXPECT_FALSE(env.FileExists("/r/1/a"));
}

}  // namespace
}  // namespace marketsearch
