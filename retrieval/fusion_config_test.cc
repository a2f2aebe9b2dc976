#include "retrieval/fusion_config.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "common/file_util.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::string TempDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  EXPECT_TRUE(MakeDirs(dir).ok());
  return dir;
}

TEST(FusionConfig, MissingFileServesTheBuiltInDefault) {
  const std::string dir = TempDir("missing");
  std::string source;
  auto o = LoadDeploymentFusion(dir, &source);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->method, FusionOptions().method);
  EXPECT_DOUBLE_EQ(o->ann_weight, FusionOptions().ann_weight);
  EXPECT_EQ(source, "built-in default");
}

TEST(FusionConfig, ReadsTheTunedChoice) {
  const std::string dir = TempDir("tuned");
  ASSERT_TRUE(WriteFileAtomically(FusionConfigPath(dir),
                                  "method: \"score_blend\" ann_weight: 0.3 split: \"valid\" queries: 12 "
                                  "tried { method: \"rrf\" ann_weight: 0.7 ndcg10: 0.5 }\n")
                  .ok());
  std::string source;
  auto o = LoadDeploymentFusion(dir, &source);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->method, FusionMethod::kScoreBlend);
  EXPECT_DOUBLE_EQ(o->ann_weight, 0.3);
  EXPECT_DOUBLE_EQ(o->rrf_k, 60.0);  // unset = the default
  EXPECT_EQ(source, FusionConfigPath(dir));
  EXPECT_EQ(DescribeFusion(*o), "score_blend ann_weight=0.30");
}

TEST(FusionConfig, BadFieldsAreNamedAndNeverFallBackToTheDefault) {
  const std::string dir = TempDir("bad");
  struct Case {
    std::string text, field;
  } cases[] = {
      {"method: \"max\" ann_weight: 0.5", "method"},
      {"method: \"rrf\" ann_weight: 1.5", "ann_weight"},
      {"method: \"rrf\" ann_weight: -0.1", "ann_weight"},
      {"method: \"rrf\" ann_weight: nan", "ann_weight"},
      {"method: \"rrf\" ann_weight: 0.5 rrf_k: -1", "rrf_k"},
      {"method: \"rrf\" ann_weight: 0.5 rrf_k: inf", "rrf_k"},
      {"method: \"rrf\" weight: 0.5", "weight"},  // unknown field: the parser names it
      {"", "method"},                               // an empty file is not the default
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(WriteFileAtomically(FusionConfigPath(dir), c.text).ok());
    auto o = LoadDeploymentFusion(dir);
    ASSERT_FALSE(o.ok()) << c.text;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(std::string(o.status().message()).find(c.field), std::string::npos)
        << c.text << " -> " << o.status();
    EXPECT_NE(std::string(o.status().message()).find("fusion.textproto"), std::string::npos)
        << o.status();
  }
}

}  // namespace
}  // namespace marketsearch
