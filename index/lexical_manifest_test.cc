#include "index/lexical_manifest.h"

#include "absl/strings/str_cat.h"
#include "common/fake_env.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

void MakeVersion(FakeEnv* env) {
  env->WriteFile("/lex/1/postlist.glass", std::string(1000, 'p'));
  env->WriteFile("/lex/1/iamglass", "header");
  auto lines = LexicalChecksumLines("/lex/1", env);
  ASSERT_TRUE(lines.ok()) << lines.status();
  env->WriteFile("/lex/1/MANIFEST", absl::StrCat(*lines, "version: 1\n"));
}

TEST(LexicalManifestTest, AnIntactVersionVerifies) {
  FakeEnv env;
  MakeVersion(&env);
  bool verified = false;
  EXPECT_TRUE(VerifyLexicalVersion("/lex/1", &verified, &env).ok());
  EXPECT_TRUE(verified);
  EXPECT_EQ(env.ReadFileToString("/lex/1/MANIFEST")->substr(0, 9), "files: 2\n");
}

TEST(LexicalManifestTest, TruncatedBitFlippedOrMissingFilesAreRefusedByName) {
  {
    FakeEnv env;
    MakeVersion(&env);
    env.WriteFile("/lex/1/postlist.glass", std::string(500, 'p'));
    absl::Status s = VerifyLexicalVersion("/lex/1", nullptr, &env);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(s.message().find("/lex/1/postlist.glass"), absl::string_view::npos) << s;
  }
  {
    FakeEnv env;
    MakeVersion(&env);
    std::string flipped(1000, 'p');
    flipped[321] ^= 0x10;
    env.WriteFile("/lex/1/postlist.glass", flipped);
    absl::Status s = VerifyLexicalVersion("/lex/1", nullptr, &env);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(s.message().find("checksum mismatch"), absl::string_view::npos) << s;
  }
  {
    FakeEnv env;
    MakeVersion(&env);
    env.Remove("/lex/1/iamglass");
    EXPECT_EQ(VerifyLexicalVersion("/lex/1", nullptr, &env).code(), absl::StatusCode::kDataLoss);
  }
  {  // a MANIFEST cut after its first file line
    FakeEnv env;
    MakeVersion(&env);
    std::string m = *env.ReadFileToString("/lex/1/MANIFEST");
    env.WriteFile("/lex/1/MANIFEST", m.substr(0, m.find('\n', m.find("file: ")) + 1));
    EXPECT_EQ(VerifyLexicalVersion("/lex/1", nullptr, &env).code(), absl::StatusCode::kDataLoss);
  }
  {
    FakeEnv env;
    env.MakeDirs("/lex/1");
    EXPECT_EQ(VerifyLexicalVersion("/lex/1", nullptr, &env).code(), absl::StatusCode::kNotFound);
  }
}

TEST(LexicalManifestTest, AManifestFromBeforeChecksumsPassesUnverified) {
  FakeEnv env;
  env.WriteFile("/lex/1/MANIFEST", "version: 1\nlisting_count: 3\n");
  bool verified = true;
  EXPECT_TRUE(VerifyLexicalVersion("/lex/1", &verified, &env).ok());
  EXPECT_FALSE(verified);
}

}  // namespace
}  // namespace marketsearch
