#include "features/npy_io.h"

#include <cstdlib>

#include "common/file_util.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::string Tmp(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

TEST(Npy, RoundTripFloatAndUint64) {
  std::vector<float> f = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  ASSERT_TRUE(WriteNpy(Tmp("f.npy"), f, {2, 3}).ok());
  auto a = ReadNpy(Tmp("f.npy"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype, "<f4");
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->AsFloat32(), f);

  std::vector<uint64_t> u = {1, 1ULL << 40};
  ASSERT_TRUE(WriteNpy(Tmp("u.npy"), u, {2}).ok());
  auto b = ReadNpy(Tmp("u.npy"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->AsUint64(), u);
}

TEST(Npy, HeaderIsPaddedTo64Bytes) {
  std::vector<int64_t> v = {1, 2, 3};
  ASSERT_TRUE(WriteNpy(Tmp("i.npy"), v, {3}).ok());
  auto raw = ReadFile(Tmp("i.npy"));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((raw->size() - 24) % 64, 0u);
}

TEST(Npy, RejectsMalformedFiles) {
  ASSERT_TRUE(WriteFileAtomically(Tmp("bad.npy"), "hello").ok());
  EXPECT_EQ(ReadNpy(Tmp("bad.npy")).status().code(), absl::StatusCode::kDataLoss);
  std::vector<float> f = {1, 2};
  ASSERT_TRUE(WriteNpy(Tmp("t.npy"), f, {2}).ok());
  auto raw = ReadFile(Tmp("t.npy"));
  ASSERT_TRUE(WriteFileAtomically(Tmp("trunc.npy"), raw->substr(0, raw->size() - 2)).ok());
  EXPECT_EQ(ReadNpy(Tmp("trunc.npy")).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(WriteNpy(Tmp("x.npy"), f, {3}).ok());  // shape mismatch
}

}  // namespace
}  // namespace marketsearch
