#include "experiments/metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(Ndcg, HandComputedCase) {
  // Judged: 1=E, 2=S, 3=C, 4=I. Ranking: 2, 1, 9 (unjudged), 3.
  QueryJudgments j = {{1, Esci::kExact}, {2, Esci::kSubstitute}, {3, Esci::kComplement},
                      {4, Esci::kIrrelevant}};
  const double dcg = 0.1 / std::log2(2) + 1.0 / std::log2(3) + 0.0 + 0.01 / std::log2(5);
  const double idcg = 1.0 / std::log2(2) + 0.1 / std::log2(3) + 0.01 / std::log2(4);
  EXPECT_NEAR(NdcgAtK({2, 1, 9, 3}, j, 10), dcg / idcg, 1e-12);
  EXPECT_NEAR(NdcgAtK({1, 2, 3}, j, 10), 1.0, 1e-12);
  // Cut-off: at k=1 only the first position counts.
  EXPECT_NEAR(NdcgAtK({2, 1}, j, 1), 0.1, 1e-12);
}

TEST(Ndcg, NoPositiveGainIsZero) {
  QueryJudgments j = {{4, Esci::kIrrelevant}};
  EXPECT_EQ(NdcgAtK({4}, j, 10), 0.0);
  EXPECT_EQ(NdcgAtK({}, {}, 10), 0.0);
}

TEST(Recall, CappedAtK) {
  QueryJudgments j;
  for (uint64_t i = 1; i <= 5; ++i) j[i] = Esci::kExact;
  j[6] = Esci::kSubstitute;
  EXPECT_NEAR(ExactRecallAtK({1, 6, 2, 7}, j, 100), 2.0 / 5.0, 1e-12);
  // With k=2 the denominator is min(5, 2) = 2.
  EXPECT_NEAR(ExactRecallAtK({1, 2, 3}, j, 2), 1.0, 1e-12);
  EXPECT_EQ(ExactRecallAtK({1}, {{1, Esci::kSubstitute}}, 10), -1);
  // Uncapped: over every Exact listing, however small k is.
  EXPECT_NEAR(ExactRecallAtKUncapped({1, 6, 2, 7}, j, 100), 2.0 / 5.0, 1e-12);
  EXPECT_NEAR(ExactRecallAtKUncapped({1, 2, 3}, j, 2), 2.0 / 5.0, 1e-12);
  EXPECT_EQ(ExactRecallAtKUncapped({1}, {{1, Esci::kSubstitute}}, 10), -1);
}

}  // namespace
}  // namespace marketsearch
