#include "common/env.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/fake_env.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {
namespace fs = std::filesystem;

using Names = std::vector<std::string>;

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const fs::path dir = fs::path(tmp != nullptr ? tmp : fs::temp_directory_path().string()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

TEST(PosixEnvTest, ListsReadsAndTellsDirectoriesFromFiles) {
  const std::string root = FreshDir("posix_env");
  fs::create_directories(root + "/2");
  fs::create_directories(root + "/10");
  std::ofstream(root + "/CURRENT") << "10\n";
  Env* env = Env::Default();

  auto names = env->ListDir(root);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, (Names{"10", "2", "CURRENT"}));
  EXPECT_TRUE(env->IsDirectory(root + "/2"));
  EXPECT_FALSE(env->IsDirectory(root + "/CURRENT"));
  EXPECT_TRUE(env->FileExists(root + "/CURRENT"));
  EXPECT_FALSE(env->FileExists(root + "/3"));
  EXPECT_EQ(*env->ReadFileToString(root + "/CURRENT"), "10\n");

  EXPECT_EQ(env->ListDir(root + "/missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(env->ListDir(root + "/CURRENT").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(env->ReadFileToString(root + "/missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_GT(env->NowUnixMs(), 1'600'000'000'000);
}

TEST(FakeEnvTest, BehavesLikeADirectoryTree) {
  FakeEnv env(1000);
  env.WriteFile("/var/index/CURRENT", "3\n");
  env.MakeDirs("/var/index/3/");
  env.MakeDirs("/var//index/1");

  EXPECT_EQ(*env.ListDir("/var/index"), (Names{"1", "3", "CURRENT"}));
  EXPECT_EQ(*env.ListDir("/var"), (Names{"index"}));
  EXPECT_TRUE(env.IsDirectory("/var/index/3"));
  EXPECT_FALSE(env.IsDirectory("/var/index/CURRENT"));
  EXPECT_TRUE(env.FileExists("/var/index/CURRENT"));
  EXPECT_EQ(*env.ReadFileToString("/var/index/CURRENT"), "3\n");
  EXPECT_EQ(env.ListDir("/var/nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(env.ListDir("/var/index/CURRENT").status().code(),
            absl::StatusCode::kFailedPrecondition);

  env.Remove("/var/index/3");
  EXPECT_EQ(*env.ListDir("/var/index"), (Names{"1", "CURRENT"}));

  env.SetReadError("/var/index/CURRENT", absl::DataLossError("bad sector"));
  EXPECT_EQ(env.ReadFileToString("/var/index/CURRENT").status().code(),
            absl::StatusCode::kDataLoss);
  env.SetReadError("/var/index/CURRENT", absl::OkStatus());
  EXPECT_TRUE(env.ReadFileToString("/var/index/CURRENT").ok());

  EXPECT_EQ(env.NowUnixMs(), 1000);
  env.AdvanceMs(250);
  EXPECT_EQ(env.NowUnixMs(), 1250);
  env.SetNowUnixMs(7);
  EXPECT_EQ(env.NowUnixMs(), 7);
}

}  // namespace
}  // namespace marketsearch
