#include "ranking/relevance_calibration.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "features/npy_io.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::unique_ptr<RelevanceCalibration> Make(std::vector<float> s, std::vector<float> p, double t) {
  auto c = RelevanceCalibration::Create(std::move(s), std::move(p), t);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

TEST(RelevanceCalibration, InterpolatesBetweenKnotsAndIsFlatBeyondThem) {
  auto c = Make({-2, 0, 1, 3}, {0.0f, 0.2f, 0.2f, 0.9f}, 0.3);
  ASSERT_NE(c, nullptr);
  EXPECT_FLOAT_EQ(c->Probability(-10), 0.0f);
  EXPECT_FLOAT_EQ(c->Probability(-2), 0.0f);
  EXPECT_FLOAT_EQ(c->Probability(-1), 0.1f);
  EXPECT_FLOAT_EQ(c->Probability(0.5f), 0.2f);
  EXPECT_FLOAT_EQ(c->Probability(2), 0.55f);
  EXPECT_FLOAT_EQ(c->Probability(3), 0.9f);
  EXPECT_FLOAT_EQ(c->Probability(100), 0.9f);
  EXPECT_FLOAT_EQ(c->Probability(std::nanf("")), 0.0f);
  // Monotone over a fine sweep.
  float last = -1;
  for (float s = -3; s < 4; s += 0.01f) {
    const float p = c->Probability(s);
    EXPECT_GE(p, last) << s;
    last = p;
  }
  EXPECT_TRUE(c->NoGoodMatch(0.29f));
  EXPECT_FALSE(c->NoGoodMatch(0.3f));
}

TEST(RelevanceCalibration, OneKnotIsAConstant) {
  auto c = Make({1}, {0.4f}, 0.5);
  ASSERT_NE(c, nullptr);
  EXPECT_FLOAT_EQ(c->Probability(-5), 0.4f);
  EXPECT_FLOAT_EQ(c->Probability(5), 0.4f);
}

TEST(RelevanceCalibration, RejectsBrokenKnotsNamingTheField) {
  struct Case {
    std::vector<float> s, p;
    double t;
    const char* names;
  } cases[] = {
      {{}, {}, 0.1, "no knots"},
      {{0, 1}, {0.1f}, 0.1, "2 scores but 1 probabilities"},
      {{0, std::nanf("")}, {0.1f, 0.2f}, 0.1, "scores[1] is not finite"},
      {{0, 0}, {0.1f, 0.2f}, 0.1, "scores[1]"},
      {{0, 1}, {0.1f, 1.5f}, 0.1, "probabilities[1]"},
      {{0, 1}, {0.5f, 0.2f}, 0.1, "non-decreasing"},
      {{0, 1}, {0.1f, 0.2f}, 1.5, "no_match_threshold"},
  };
  for (const Case& c : cases) {
    auto r = RelevanceCalibration::Create(c.s, c.p, c.t);
    ASSERT_FALSE(r.ok()) << c.names;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(r.status().message(), c.names)) << r.status();
  }
}

TEST(RelevanceCalibration, LoadsFromAnArtifactDirectory) {
  const std::string dir = ::testing::TempDir() + "/calib_ok";
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteNpy(dir + "/calibration_scores.npy", std::vector<float>{-1, 1}, {2}).ok());
  ASSERT_TRUE(WriteNpy(dir + "/calibration_probabilities.npy", std::vector<float>{0.1f, 0.7f}, {2}).ok());
  auto c = RelevanceCalibration::Load(dir, 0.25);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FLOAT_EQ((*c)->Probability(0), 0.4f);
  EXPECT_DOUBLE_EQ((*c)->no_match_threshold(), 0.25);

  const std::string none = ::testing::TempDir() + "/calib_none";
  std::filesystem::create_directories(none);
  EXPECT_EQ(RelevanceCalibration::Load(none, 0.25).status().code(), absl::StatusCode::kNotFound);

  const std::string bad = ::testing::TempDir() + "/calib_bad";
  std::filesystem::create_directories(bad);
  ASSERT_TRUE(WriteNpy(bad + "/calibration_scores.npy", std::vector<float>{1, -1}, {2}).ok());
  ASSERT_TRUE(WriteNpy(bad + "/calibration_probabilities.npy", std::vector<float>{0.1f, 0.7f}, {2}).ok());
  auto b = RelevanceCalibration::Load(bad, 0.25);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(absl::StrContains(b.status().message(), "calib_bad")) << b.status();
  EXPECT_TRUE(absl::StrContains(b.status().message(), "scores[1]")) << b.status();
}

}  // namespace
}  // namespace marketsearch
