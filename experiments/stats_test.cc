#include "experiments/stats.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace stats {
namespace {

TEST(StatsTest, NormalQuantilesAndPValues) {
  EXPECT_NEAR(ZTwoSided(0.05), 1.959964, 1e-6);
  EXPECT_NEAR(ZTwoSided(0.01), 2.575829, 1e-6);
  EXPECT_NEAR(PValueTwoSided(1.959964), 0.05, 1e-6);
  EXPECT_NEAR(PValueTwoSided(-1.959964), 0.05, 1e-6);
  EXPECT_DOUBLE_EQ(PValueTwoSided(0), 1.0);
}

// Three users (M, D) = (1, 2), (0, 3), (2, 4), by hand: R = 1/3, Dbar = 3,
// s_M^2 = 1, s_D^2 = 1, s_MD = 0.5: V = (1 - 2/3 * 0.5 + 1/9) / (3 * 9) = 0.0288066.
TEST(StatsTest, DeltaMethodRatioVarianceByHand) {
  const std::vector<double> m = {1, 0, 2}, d = {2, 3, 4};
  const RatioEstimate r = EstimateRatio(m, d);
  EXPECT_EQ(r.users, 3);
  EXPECT_NEAR(r.value, 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.variance, (1 - 2.0 / 3 * 0.5 + 1.0 / 9) / 27, 1e-12);
  ASSERT_EQ(r.linearised.size(), 3u);
  EXPECT_NEAR(r.linearised[0], (1 - 2.0 / 3) / 3, 1e-12);
  // The naive per-search variance R(1-R)/sum D.
  EXPECT_NEAR(NaivePerSearchVariance(r), (1.0 / 3) * (2.0 / 3) / 9, 1e-12);
}

TEST(StatsTest, RatioOfEmptyArmIsZeroNotNan) {
  const RatioEstimate r = EstimateRatio({}, {});
  EXPECT_EQ(r.users, 0);
  EXPECT_EQ(r.value, 0);
  EXPECT_EQ(r.variance, 0);
  const RatioEstimate z = EstimateRatio(std::vector<double>{0, 0}, std::vector<double>{0, 0});
  EXPECT_EQ(z.value, 0);
  EXPECT_FALSE(std::isnan(z.variance));
}

// The reference's example: R_C = 0.30, R_T = 0.309, V = 8.2e-6 each: d = 0.009,
// CI [0.0011, 0.0169]; lift 3.0%, CI [0.3%, 5.7%].
TEST(StatsTest, DifferenceAndLiftIntervalsOfTheReferenceExample) {
  const Difference d = Compare(0.30, 8.2e-6, 0.309, 8.2e-6);
  EXPECT_NEAR(d.estimate, 0.009, 1e-12);
  EXPECT_NEAR(d.ci_low, 0.0011, 5e-5);
  EXPECT_NEAR(d.ci_high, 0.0169, 5e-5);
  EXPECT_NEAR(d.lift, 0.03, 1e-9);
  EXPECT_NEAR(d.lift_ci_low, 0.003, 5e-4);
  EXPECT_NEAR(d.lift_ci_high, 0.057, 5e-4);
  EXPECT_LT(d.p_value, 0.05);
  EXPECT_GT(d.p_value, 0.01);
  // A wider multiplier (e.g. the sequential one) widens the interval, not the estimate.
  const Difference w = Compare(0.30, 8.2e-6, 0.309, 8.2e-6, 0.05, 3.04);
  EXPECT_NEAR(w.estimate, d.estimate, 1e-12);
  EXPECT_NEAR(w.ci_high - w.ci_low, 2 * 3.04 * d.se, 1e-12);
  const Difference widened = Widen(d, 3.04);
  EXPECT_NEAR(widened.ci_low, w.ci_low, 1e-12);
  EXPECT_NEAR(widened.lift_ci_high, w.lift_ci_high, 1e-12);
  EXPECT_EQ(widened.p_value, d.p_value);
}

// 50,000 vs 45,000 users at 50/50: X2 = 263.16, p ~ 4e-59.
TEST(StatsTest, SampleRatioMismatchOfTheReferenceExample) {
  const std::vector<int64_t> observed = {50000, 45000};
  const std::vector<double> weights = {0.5, 0.5};
  const SrmResult r = CheckSampleRatio(observed, weights);
  EXPECT_EQ(r.df, 1);
  EXPECT_NEAR(r.chi2, 263.157894, 1e-5);
  EXPECT_LT(r.p_value, 1e-58);
  EXPECT_GT(r.p_value, 1e-60);
  EXPECT_TRUE(r.mismatch);
  const std::vector<int64_t> balanced = {5012, 4988};
  EXPECT_FALSE(CheckSampleRatio(balanced, weights).mismatch);
  // Unequal weights: 2/3 vs 1/3 exactly as expected.
  const std::vector<int64_t> two_to_one = {2000, 1000};
  const std::vector<double> w21 = {2, 1};
  EXPECT_NEAR(CheckSampleRatio(two_to_one, w21).chi2, 0, 1e-12);
}

// alpha 0.05: m = 3.04 at t = N_tune (1.55x the fixed width), 3.24 at 10 N_tune.
TEST(StatsTest, SequentialMultiplierOfTheReference) {
  EXPECT_NEAR(SequentialMultiplier(5000, 5000), 3.04, 0.005);
  EXPECT_NEAR(SequentialMultiplier(50000, 5000), 3.24, 0.005);
  EXPECT_NEAR(SequentialMultiplier(5000, 5000) / 1.96, 1.55, 0.005);
  // The always-valid p-value is where the interval touches 0.
  const double m = SequentialMultiplier(8000, 5000, 0.05);
  EXPECT_NEAR(SequentialPValue(m * 0.01, 0.01, 8000, 5000), 0.05, 1e-6);
  EXPECT_EQ(SequentialPValue(0, 0.01, 8000, 5000), 1);
}

// sigma^2 = 0.082, delta = 0.006, 80% power: 2 (1.960 + 0.842)^2 0.082 / 0.006^2 = 35,756.
TEST(StatsTest, PlannedSampleSizeOfTheReference) {
  const int64_t n = PlannedUsersPerArm(0.082, 0.006);
  EXPECT_NEAR(static_cast<double>(n), 35756, 10);
  EXPECT_NEAR(MinimumDetectableEffect(0.082, n), 0.006, 1e-5);
  // CUPED at rho = 0.6 scales n by 0.64: 22,884.
  EXPECT_NEAR(static_cast<double>(PlannedUsersPerArm(0.082 * 0.64, 0.006)), 22884, 10);
}

// 0.004, 0.020, 0.030, 0.300 -> 0.016, 0.060, 0.060, 0.300 (only the first rejected).
TEST(StatsTest, HolmOfTheReferenceExample) {
  const std::vector<double> p = {0.030, 0.004, 0.300, 0.020};  // any order
  const std::vector<double> adj = HolmAdjust(p);
  ASSERT_EQ(adj.size(), 4u);
  EXPECT_NEAR(adj[1], 0.016, 1e-12);
  EXPECT_NEAR(adj[3], 0.060, 1e-12);
  EXPECT_NEAR(adj[0], 0.060, 1e-12);
  EXPECT_NEAR(adj[2], 0.300, 1e-12);
}

// A = [a,b,c,d], B = [b,e,a,f], k = 4, coins A then B: I = [a(A), b(B), e(B), c(A)];
// clicks on b and e: B wins.
TEST(StatsTest, TeamDraftOfTheReferenceExample) {
  const std::vector<uint64_t> a = {1, 2, 3, 4}, b = {2, 5, 1, 6};
  std::vector<bool> coins = {true, false};
  size_t next = 0;
  const InterleavedPage page = TeamDraftInterleave(a, b, 4, [&] { return coins.at(next++); });
  EXPECT_EQ(next, 2u);
  EXPECT_EQ(page.ids, (std::vector<uint64_t>{1, 2, 5, 3}));
  EXPECT_EQ(page.team, (std::vector<int>{0, 1, 1, 0}));
  EXPECT_EQ(InterleavingOutcome(page, std::vector<int>{1, 2}), -1);
  EXPECT_EQ(InterleavingOutcome(page, std::vector<int>{0}), 1);
  EXPECT_EQ(InterleavingOutcome(page, std::vector<int>{}), 0);
  EXPECT_EQ(InterleavingOutcome(page, std::vector<int>{0, 1}), 0);
  EXPECT_EQ(InterleavingOutcome(page, std::vector<int>{7, -1}), 0);  // positions off the page
}

TEST(StatsTest, TeamDraftIsDeterministicPerSeedAndFillsFromTheOtherRanking) {
  const std::vector<uint64_t> a = {1, 2, 3}, b = {1, 2, 3, 4, 5, 6};
  const InterleavedPage p1 = TeamDraftInterleave(a, b, 6, uint64_t{42});
  const InterleavedPage p2 = TeamDraftInterleave(a, b, 6, uint64_t{42});
  EXPECT_EQ(p1.ids, p2.ids);
  EXPECT_EQ(p1.ids.size(), 6u);  // A runs out; B fills the page
  // Identical rankings: the page is that ranking whatever the coins.
  const InterleavedPage same = TeamDraftInterleave(b, b, 5, uint64_t{7});
  EXPECT_EQ(same.ids, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

// 540 vs 460 wins: p = 0.012; with 1,500 ties Delta_AB = 0.016.
TEST(StatsTest, InterleavingAggregateOfTheReference) {
  EXPECT_NEAR(SignTestPValue(540, 1000), 0.012, 0.0005);
  std::vector<UserPreference> users;
  for (int i = 0; i < 500; ++i) {
    UserPreference u;
    u.a_wins = i < 40 ? 2 : 1;          // 540 wins for A
    u.b_wins = i < 460 ? 1 : 0;         // 460 for B
    u.ties = 3;                         // 1,500 ties
    users.push_back(u);
  }
  const InterleavingResult r = AnalyzeInterleaving(users);
  EXPECT_EQ(r.a_wins, 540);
  EXPECT_EQ(r.b_wins, 460);
  EXPECT_EQ(r.ties, 1500);
  EXPECT_NEAR(r.delta_ab, 0.016, 1e-12);
  EXPECT_LT(r.ci_low, r.delta_ab);
  EXPECT_GT(r.ci_high, r.delta_ab);
  EXPECT_NEAR(r.sign_test_p, SignTestPValue(540, 1000), 1e-12);
}

// CUPED on simulated users whose post-period CTR correlates with their pre-period CTR: the
// variance falls by about rho^2 and the estimate stays unbiased (no effect simulated).
TEST(StatsTest, CupedRemovesTheVarianceThePrePeriodPredicts) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z;
  const double rho = 0.6;
  const int n = 20000;
  std::vector<double> num[2], den[2], pre_num[2], pre_den[2];
  for (int arm = 0; arm < 2; ++arm) {
    for (int i = 0; i < n; ++i) {
      const double common = z(rng), own = z(rng);
      // One search per period, a continuous "metric" so that rho is exact in expectation.
      num[arm].push_back(1 + rho * common + std::sqrt(1 - rho * rho) * own);
      den[arm].push_back(1);
      pre_num[arm].push_back(1 + common);
      pre_den[arm].push_back(1);
    }
  }
  const CupedResult r = CupedCompare({num[0], den[0], pre_num[0], pre_den[0]},
                                     {num[1], den[1], pre_num[1], pre_den[1]});
  EXPECT_NEAR(r.variance_ratio, 1 - rho * rho, 0.03);
  EXPECT_NEAR(r.theta, rho, 0.03);
  EXPECT_NEAR(r.difference.estimate, 0, 4 * r.difference.se);
  // Without a pre-period (all zero) CUPED changes nothing.
  std::vector<double> zeros(n, 0.0);
  const CupedResult none = CupedCompare({num[0], den[0], zeros, zeros}, {num[1], den[1], zeros, zeros});
  EXPECT_EQ(none.theta, 0);
  EXPECT_NEAR(none.variance_ratio, 1, 1e-12);
}

TEST(StatsTest, BootstrapMeanIntervalCoversTheMeanAtTheNormalWidth) {
  EXPECT_EQ(BootstrapMeanInterval({}).mean, 0);
  const MeanInterval c = BootstrapMeanInterval({0.25, 0.25, 0.25});
  EXPECT_DOUBLE_EQ(c.mean, 0.25);
  EXPECT_DOUBLE_EQ(c.low, 0.25);
  EXPECT_DOUBLE_EQ(c.high, 0.25);
  // 400 values, mean 0.1, sd 0.5: the 95% interval is about mean +- 1.96 * 0.5 / 20.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0.1, 0.5);
  std::vector<double> v(400);
  for (double& x : v) x = normal(rng);
  const MeanInterval m = BootstrapMeanInterval(v, 0.05, 4000, 7);
  const double half = 1.96 * 0.5 / 20;
  EXPECT_LT(m.low, m.mean);
  EXPECT_GT(m.high, m.mean);
  EXPECT_NEAR(m.high - m.low, 2 * half, 0.2 * half);
  EXPECT_NEAR((m.low + m.high) / 2, m.mean, 0.1 * half);
  // Same seed, same interval.
  const MeanInterval again = BootstrapMeanInterval(v, 0.05, 4000, 7);
  EXPECT_EQ(again.low, m.low);
  EXPECT_EQ(again.high, m.high);
}

TEST(StatsTest, VerdictFromPrimaryAndGuardrails) {
  const Difference win = Compare(0.30, 1e-6, 0.32, 1e-6);
  const Difference loss = Compare(0.30, 1e-6, 0.28, 1e-6);
  const Difference flat = Compare(0.30, 1e-4, 0.301, 1e-4);
  EXPECT_EQ(Decide(false, win, {}), Verdict::kShip);
  EXPECT_EQ(Decide(false, loss, {}), Verdict::kNoShip);
  EXPECT_EQ(Decide(false, flat, {}), Verdict::kInconclusive);
  EXPECT_EQ(Decide(true, win, {}), Verdict::kInvalid);  // SRM: never a win
  // p99 latency up by 5 ms (CI 4..6) against a 2 ms margin: harm.
  Guardrail slow{Compare(20, 0.1, 25, 0.1), true, 2.0};
  EXPECT_EQ(Decide(false, win, {&slow, 1}), Verdict::kNoShip);
  Guardrail ok{Compare(20, 0.1, 20.5, 0.1), true, 2.0};
  EXPECT_EQ(Decide(false, win, {&ok, 1}), Verdict::kShip);
  EXPECT_STREQ(VerdictName(Verdict::kShip), "ship");
}

}  // namespace
}  // namespace stats
}  // namespace marketsearch
