#include "serving/bearer_token.h"

#include <cstdlib>
#include <string>

#include "common/file_util.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

constexpr char kToken[] = "k7Qw-2mZp9Lx4vNc8sRt";

std::string TokenFile(const std::string& name, const std::string& contents) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  EXPECT_TRUE(WriteFileAtomically(path, contents).ok());
  return path;
}

TEST(BearerToken, AcceptsOnlyTheConfiguredToken) {
  auto token = BearerToken::Load(TokenFile("ok", std::string(kToken) + "\n"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(token->Check(std::string("Bearer ") + kToken).ok());
  EXPECT_TRUE(token->Check(std::string("bearer ") + kToken).ok());  // scheme is case-insensitive
  struct Case {
    std::string header;
    std::string says;
  } refused[] = {
      {"", "requires a bearer token"},
      {kToken, "expected \"Bearer <token>\""},           // no scheme
      {std::string("Basic ") + kToken, "expected"},        // another scheme
      {"Bearer ", "expected"},
      {std::string("Bearer ") + kToken + "x", "not valid"},  // one byte more
      {std::string("Bearer ") + std::string(kToken).substr(1), "not valid"},
  };
  for (const Case& c : refused) {
    const absl::Status s = token->Check(c.header);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << c.header;
    const std::string message(s.message());
    EXPECT_EQ(message.rfind("authorization: ", 0), 0u) << message;  // names the metadata key
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
    EXPECT_EQ(message.find(kToken), std::string::npos) << message;  // never echoes a token
  }
}

TEST(BearerToken, AWeakOrMissingTokenFileIsRefusedWithoutShowingIt) {
  for (const std::string& bad : {std::string(""), std::string("   \n"), std::string("short-token"),
                                 std::string("has a space inside it ok"), std::string("tab\there-0123456789")}) {
    auto token = BearerToken::Load(TokenFile("bad", bad));
    ASSERT_FALSE(token.ok()) << bad;
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(token.status().message()).find("write token file"), std::string::npos);
    if (bad.size() > 4) EXPECT_EQ(std::string(token.status().message()).find(bad), std::string::npos);
  }
  EXPECT_FALSE(BearerToken::Load(std::string(std::getenv("TEST_TMPDIR")) + "/missing").ok());
}

}  // namespace
}  // namespace marketsearch
