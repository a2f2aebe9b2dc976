#include "features/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(IsValidUtf8, AcceptsWellFormedRejectsMalformed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("naïve ☕"));
  EXPECT_FALSE(IsValidUtf8("abc\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));          // truncated two-byte sequence
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // UTF-16 surrogate
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace marketsearch
