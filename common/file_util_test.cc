#include "common/file_util.h"

#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

TEST(FileUtil, AtomicWriteThenRead) {
  const std::string p = TmpDir() + "/atomic.txt";
  ASSERT_TRUE(WriteFileAtomically(p, "hello").ok());
  ASSERT_TRUE(WriteFileAtomically(p, "world").ok());
  auto got = ReadFile(p);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "world");
  EXPECT_FALSE(PathExists(p + ".tmp"));
}

TEST(FileUtil, Sha256KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string p = TmpDir() + "/abc.txt";
  ASSERT_TRUE(WriteFileAtomically(p, "abc").ok());
  EXPECT_EQ(*Sha256File(p), Sha256Hex("abc"));
}

TEST(FileUtil, ReadMissingFileIsNotFound) {
  EXPECT_EQ(ReadFile(TmpDir() + "/nope").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace marketsearch
