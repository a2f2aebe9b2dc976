// Ranker on the ModelRunner seam with a fake model: the manifest checks Load makes, the warm-up,
// and Score's handling of what the model returns.
#include <cmath>
#include <limits>
#include <memory>

#include "gtest/gtest.h"
#include "ranking/ranker.h"
#include "ranking/ranking_features.h"
#include "retrieval/fake_model_runner.h"

namespace marketsearch {
namespace {

using Inputs = absl::Span<const InputTensor>;

ModelManifest RankerManifest(int feature_dim = kRankingFeatureDim,
                             double feature_version = kRankingFeatureVersion) {
  ModelManifest m;
  m.set_model_name("ranker");
  m.set_version(5);
  TensorSpec* in = m.add_inputs();
  in->set_name("features");
  in->set_dtype("float32");
  in->add_shape(-1);
  in->add_shape(feature_dim);
  (*m.mutable_metrics())["ranking_feature_version"] = feature_version;
  (*m.mutable_metrics())["listing_tower_version"] = 2;
  return m;
}

// Score = the first feature, one column, as the real model's [n, 1].
absl::StatusOr<FloatMatrix> FirstFeature(Inputs in) {
  const auto* x = static_cast<const float*>(in[0].data);
  FloatMatrix out;
  out.rows = in[0].shape[0];
  out.cols = 1;
  for (int64_t r = 0; r < out.rows; ++r) out.data.push_back(x[r * in[0].shape[1]]);
  return out;
}

Ranker::Options NoWarmup() {
  Ranker::Options o;
  o.warmup_batch_sizes = {};
  return o;
}

TEST(RankerContract, ScoresEachRowInOneForward) {
  auto runner = std::make_unique<FakeModelRunner>(RankerManifest(), FirstFeature);
  const FakeModelRunner* fake = runner.get();
  auto ranker = Ranker::Create(std::move(runner), NoWarmup());
  ASSERT_TRUE(ranker.ok()) << ranker.status();
  EXPECT_EQ((*ranker)->version(), 5);
  EXPECT_EQ((*ranker)->listing_tower_version(), 2);
  FloatMatrix x;
  x.rows = 3;
  x.cols = kRankingFeatureDim;
  x.data.assign(3 * kRankingFeatureDim, 0.0f);
  for (int r = 0; r < 3; ++r) x.data[r * kRankingFeatureDim] = 10.0f * r;
  auto s = (*ranker)->Score(x);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, (std::vector<float>{0, 10, 20}));
  EXPECT_EQ(fake->calls(), 1);

  // No candidates: no forward at all.
  x.rows = 0;
  x.data.clear();
  s = (*ranker)->Score(x);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());
  EXPECT_EQ(fake->calls(), 1);

  // A matrix of the wrong width or size names what is wrong.
  x.rows = 1;
  x.cols = kRankingFeatureDim - 1;
  x.data.assign(kRankingFeatureDim - 1, 0.0f);
  EXPECT_EQ((*ranker)->Score(x).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RankerContract, RefusesAModelTrainedOnOtherFeatures) {
  auto wide = Ranker::Create(
      std::make_unique<FakeModelRunner>(RankerManifest(kRankingFeatureDim + 1), FirstFeature), NoWarmup());
  EXPECT_EQ(wide.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wide.status().message().find(std::to_string(kRankingFeatureDim + 1)), std::string::npos);
  auto old = Ranker::Create(
      std::make_unique<FakeModelRunner>(RankerManifest(kRankingFeatureDim, kRankingFeatureVersion - 1),
                                        FirstFeature),
      NoWarmup());
  EXPECT_EQ(old.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(old.status().message().find("retrain"), std::string::npos);
}

TEST(RankerContract, WarmUpRunsEachBatchSizeAndRefusesNonFiniteScores) {
  auto runner = std::make_unique<FakeModelRunner>(RankerManifest(), FirstFeature);
  const FakeModelRunner* fake = runner.get();
  Ranker::Options o;
  o.warmup_batch_sizes = {1, 50, 200};
  auto ranker = Ranker::Create(std::move(runner), o);
  ASSERT_TRUE(ranker.ok()) << ranker.status();
  EXPECT_EQ(fake->calls(), 3);

  auto nan = Ranker::Create(std::make_unique<FakeModelRunner>(
                                RankerManifest(),
                                [](Inputs in) -> absl::StatusOr<FloatMatrix> {
                                  FloatMatrix m;
                                  m.rows = in[0].shape[0];
                                  m.cols = 1;
                                  m.data.assign(m.rows, std::numeric_limits<float>::quiet_NaN());
                                  return m;
                                }),
                            o);
  EXPECT_EQ(nan.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(nan.status().message().find("non-finite"), std::string::npos);
}

TEST(RankerContract, AModelThatReturnsTheWrongShapeIsTheServersError) {
  auto ranker = Ranker::Create(std::make_unique<FakeModelRunner>(
                                   RankerManifest(),
                                   [](Inputs in) -> absl::StatusOr<FloatMatrix> {
                                     FloatMatrix m;
                                     m.rows = in[0].shape[0];
                                     m.cols = 2;
                                     m.data.assign(m.rows * 2, 0.0f);
                                     return m;
                                   }),
                               NoWarmup());
  ASSERT_TRUE(ranker.ok());
  FloatMatrix x;
  x.rows = 2;
  x.cols = kRankingFeatureDim;
  x.data.assign(2 * kRankingFeatureDim, 0.0f);
  auto s = (*ranker)->Score(x);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.status().message().find("expected [n, 1]"), std::string::npos);
}

}  // namespace
}  // namespace marketsearch
