#include "retrieval/candidate_merge.h"

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(MergeCandidates, RrfDeduplicatesAndKeepsPerSourceScores) {
  std::vector<ScoredId> ann = {{1, 0.9f}, {2, 0.8f}, {3, 0.7f}};
  std::vector<ScoredId> lex = {{3, 12.0f}, {4, 10.0f}, {1, 5.0f}};
  FusionOptions equal;
  equal.ann_weight = 0.5;
  auto out = MergeCandidates(ann, lex, equal);
  ASSERT_EQ(out.size(), 4u);
  // 1: 1/61 + 1/63; 3: 1/63 + 1/61 (tie, lower id first); 2: 1/62; 4: 1/62.
  EXPECT_EQ(out[0].listing_id, 1u);
  EXPECT_EQ(out[1].listing_id, 3u);
  EXPECT_EQ(out[0].ann_rank, 1);
  EXPECT_EQ(out[0].lexical_rank, 3);
  EXPECT_FLOAT_EQ(out[0].lexical_score, 5.0f);
  EXPECT_FLOAT_EQ(out[1].ann_score, 0.7f);
  EXPECT_NEAR(out[0].fused_score, 1.0 / 61 + 1.0 / 63, 1e-6);
  for (const auto& c : out) {
    if (c.listing_id == 4) {
      EXPECT_EQ(c.ann_rank, 0);
      EXPECT_EQ(c.lexical_rank, 2);
    }
  }
}

TEST(MergeCandidates, WeightsShiftTheOrder) {
  std::vector<ScoredId> ann = {{1, 0.9f}};
  std::vector<ScoredId> lex = {{2, 9.0f}};
  FusionOptions o;
  o.ann_weight = 0.8;
  EXPECT_EQ(MergeCandidates(ann, lex, o)[0].listing_id, 1u);
  o.ann_weight = 0.2;
  EXPECT_EQ(MergeCandidates(ann, lex, o)[0].listing_id, 2u);
}

TEST(MergeCandidates, ScoreBlendNormalisesBm25) {
  std::vector<ScoredId> ann = {{1, 0.5f}, {2, 0.4f}};
  std::vector<ScoredId> lex = {{2, 20.0f}, {3, 10.0f}};
  FusionOptions o;
  o.method = FusionMethod::kScoreBlend;
  o.ann_weight = 0.5;
  auto out = MergeCandidates(ann, lex, o);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].listing_id, 2u);  // 0.2 + 0.5
  EXPECT_NEAR(out[0].fused_score, 0.7, 1e-6);
  EXPECT_NEAR(out[1].fused_score, 0.25, 1e-6);  // 1: ANN only
  EXPECT_NEAR(out[2].fused_score, 0.25, 1e-6);  // 3: BM25 only, 10/20 * 0.5
}

TEST(MergeCandidates, EmptyLegs) {
  EXPECT_TRUE(MergeCandidates({}, {}, FusionOptions()).empty());
  auto only_ann = MergeCandidates({{7, 0.3f}}, {}, FusionOptions());
  ASSERT_EQ(only_ann.size(), 1u);
  EXPECT_EQ(only_ann[0].lexical_rank, 0);
}

TEST(FuseAgain, SameAsMergingTheLegsWithTheOtherFusion) {
  const std::vector<ScoredId> ann = {{1, 0.9f}, {2, 0.8f}, {3, 0.7f}, {5, 0.1f}};
  const std::vector<ScoredId> lex = {{3, 12.0f}, {4, 10.0f}, {1, 5.0f}, {6, 1.0f}};
  const std::vector<Candidate> rrf = MergeCandidates(ann, lex, FusionOptions());
  FusionOptions blend;
  blend.method = FusionMethod::kScoreBlend;
  blend.ann_weight = 0.3;
  const std::vector<Candidate> want = MergeCandidates(ann, lex, blend);
  const std::vector<Candidate> got = FuseAgain(rrf, blend);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].listing_id, want[i].listing_id) << i;
    EXPECT_EQ(got[i].ann_rank, want[i].ann_rank) << i;
    EXPECT_EQ(got[i].lexical_rank, want[i].lexical_rank) << i;
    EXPECT_FLOAT_EQ(got[i].fused_score, want[i].fused_score) << i;
  }
  // And back: the RRF order again.
  const std::vector<Candidate> back = FuseAgain(got, FusionOptions());
  for (size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i].listing_id, rrf[i].listing_id) << i;
}

}  // namespace
}  // namespace marketsearch
