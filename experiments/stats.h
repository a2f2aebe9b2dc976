// The statistics of the experiment report: per-arm ratio metrics with the user as the unit
// (delta method), differences and lifts with confidence intervals, the sample-ratio-mismatch
// check, CUPED, always-valid (sequential) intervals, the planned sample size, Holm's
// correction, Team-Draft interleaving and the verdict. The formulas and their worked examples
// are those of the team's experiment reference (EXPERIMENTS.md, kept with the design notes);
// the unit tests check those examples and an independent numpy/scipy implementation.
//
// Why the user is the unit: a user's searches are correlated (the same person, the same
// propensity to click), so a per-search binomial interval is too narrow by the design effect
// and an A/A test would "find" differences far more often than alpha. Every ratio metric here
// is (sum over users of M_i) / (sum over users of D_i) with the delta-method variance.
//
// Distribution functions (normal, chi-square, binomial) come from Boost.Math.
// All functions are pure and thread-safe.
#ifndef MARKETSEARCH_EXPERIMENTS_STATS_H_
#define MARKETSEARCH_EXPERIMENTS_STATS_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/types/span.h"

namespace marketsearch {
namespace stats {

// Two-sided standard normal quantile z_(1 - alpha/2) (1.96 at alpha 0.05).
double ZTwoSided(double alpha);
// Two-sided p-value of a z statistic.
double PValueTwoSided(double z);

// One arm's ratio metric R = sum(num) / sum(den) over its users (num[i], den[i]: user i's
// numerator and denominator, e.g. clicked searches and searches).
struct RatioEstimate {
  int64_t users = 0;
  double value = 0;     // R (0 when the denominators sum to 0)
  double variance = 0;  // delta-method Var(R) (0 with fewer than 2 users)
  double num_total = 0, den_total = 0;
  // Per-user linearised values L_i = (M_i - R D_i) / Dbar: Var(R) = var(L) / n. Kept for
  // CUPED and the bootstrap.
  std::vector<double> linearised;
};
// REQUIRES: num.size() == den.size().
RatioEstimate EstimateRatio(absl::Span<const double> num, absl::Span<const double> den);

// The naive per-search variance R (1 - R) / sum(den) that ignores the clustering of a user's
// searches (for showing why it is not used; calibration benchmark).
double NaivePerSearchVariance(const RatioEstimate& r);

// Treatment minus control, absolute and relative, with (1 - alpha) intervals.
struct Difference {
  double control = 0, treatment = 0;
  double estimate = 0;  // treatment - control
  double se = 0;
  double ci_low = 0, ci_high = 0;
  double p_value = 1;
  double lift = 0;  // treatment / control - 1 (0 when control is 0)
  double lift_se = 0;
  double lift_ci_low = 0, lift_ci_high = 0;
};
// From two arm estimates with variances (z-interval; the CI half-width is `multiplier` * SE,
// default z_(1 - alpha/2); SequentialMultiplier gives the always-valid one).
Difference Compare(double control, double control_variance, double treatment,
                   double treatment_variance, double alpha = 0.05, double multiplier = 0);
Difference CompareRatios(const RatioEstimate& control, const RatioEstimate& treatment,
                         double alpha = 0.05, double multiplier = 0);
// The same difference with its intervals (absolute and lift) `multiplier` standard errors
// wide, e.g. the always-valid one of SequentialMultiplier; estimate, SEs and p-value unchanged.
Difference Widen(const Difference& d, double multiplier);

// Sample-ratio mismatch: observed users per arm against the configured weights (chi-square,
// k - 1 degrees of freedom). `mismatch` is p < threshold (0.001: it is rechecked on every
// refresh, and real mismatches are large).
struct SrmResult {
  double chi2 = 0;
  int df = 0;
  double p_value = 1;
  bool mismatch = false;
};
// REQUIRES: observed.size() == weights.size() >= 2, weights > 0.
SrmResult CheckSampleRatio(absl::Span<const int64_t> observed, absl::Span<const double> weights,
                           double threshold = 0.001);

// CUPED on a ratio metric: each user's same metric in a pre-period (pre_num, pre_den; 0/0 for
// a user inactive then) removes the variance it predicts. theta is pooled over both arms.
struct CupedArm {
  absl::Span<const double> num, den, pre_num, pre_den;  // per user, equal lengths
};
struct CupedResult {
  double theta = 0;
  double control_adjusted = 0, treatment_adjusted = 0;  // R - theta * R_pre
  double control_variance = 0, treatment_variance = 0;  // var(L - theta X) / n
  // var(adjusted) / var(raw), pooled over the arms (~ 1 - rho^2).
  double variance_ratio = 1;
  Difference difference;  // on the adjusted values; the lift divides by the raw control value
};
CupedResult CupedCompare(const CupedArm& control, const CupedArm& treatment, double alpha = 0.05,
                         double multiplier = 0);

// Always-valid confidence sequence (normal mixture, as GrowthBook and Eppo): the CI half-width
// is SequentialMultiplier(...) * SE at any look, so looking every day does not inflate false
// positives. `total_samples` = n_C + n_T so far; `n_tune` = the total sample where a decision
// is expected, fixed before the start. 3.04 at total == n_tune for alpha 0.05.
double SequentialMultiplier(double total_samples, double n_tune, double alpha = 0.05);
// The smallest alpha whose always-valid interval excludes 0 (the always-valid p-value).
double SequentialPValue(double estimate, double se, double total_samples, double n_tune);

// Users per arm to detect an absolute effect `mde` with a two-sided test at `alpha` with
// `power`, for a per-user variance sigma^2 (var(L) for ratio metrics): 2 (z_a + z_b)^2 s^2 / d^2.
int64_t PlannedUsersPerArm(double per_user_variance, double mde, double alpha = 0.05,
                           double power = 0.8);
// The effect detectable with `users_per_arm` (the inverse of the above).
double MinimumDetectableEffect(double per_user_variance, int64_t users_per_arm,
                               double alpha = 0.05, double power = 0.8);

// Holm-adjusted p-values, in the input's order.
std::vector<double> HolmAdjust(absl::Span<const double> p_values);

// Team-Draft interleaving of two rankings into a page of up to k listings.
struct InterleavedPage {
  std::vector<uint64_t> ids;
  std::vector<int> team;  // 0: ranking A contributed ids[i], 1: ranking B
};
// `coin_says_a` is asked whenever both teams have the same size.
InterleavedPage TeamDraftInterleave(absl::Span<const uint64_t> a, absl::Span<const uint64_t> b,
                                    int k, const std::function<bool()>& coin_says_a);
// The same with coins from `seed` (log the seed to replay the page).
InterleavedPage TeamDraftInterleave(absl::Span<const uint64_t> a, absl::Span<const uint64_t> b,
                                    int k, uint64_t seed);
// One query's outcome from the clicked positions (0-based) of its page: +1 A wins, -1 B wins,
// 0 tie (equal credit, including no click).
int InterleavingOutcome(const InterleavedPage& page, absl::Span<const int> clicked_positions);

// Interleaving over users: each user's wins for A and B and ties.
struct UserPreference {
  int64_t a_wins = 0, b_wins = 0, ties = 0;
};
struct InterleavingResult {
  int64_t a_wins = 0, b_wins = 0, ties = 0;
  // (wins_A + ties / 2) / (wins_A + wins_B + ties) - 0.5: > 0 prefers A.
  double delta_ab = 0;
  double ci_low = 0, ci_high = 0;  // bootstrap over users (percentile)
  double sign_test_p = 1;          // wins_A ~ Binomial(wins_A + wins_B, 1/2)
};
InterleavingResult AnalyzeInterleaving(absl::Span<const UserPreference> users, double alpha = 0.05,
                                       int bootstrap_draws = 2000, uint64_t seed = 1);

// Percentile-bootstrap confidence interval of the mean of `values` (e.g. per-query paired
// differences of two rankers' NDCG@10 on the same queries): `draws` resamples of the values
// with replacement, a fixed seed so a report is reproducible. Empty input gives all zeros.
struct MeanInterval {
  double mean = 0, low = 0, high = 0;
};
MeanInterval BootstrapMeanInterval(absl::Span<const double> values, double alpha = 0.05,
                                   int draws = 2000, uint64_t seed = 1);

// Two-sided exact binomial test of k successes in n trials at p = 1/2.
double SignTestPValue(int64_t k, int64_t n);

// The verdict of one arm against control.
enum class Verdict { kInvalid, kShip, kNoShip, kInconclusive };
const char* VerdictName(Verdict v);
struct Guardrail {
  Difference difference;       // treatment - control
  bool higher_is_worse = true; // latency, error rate, zero-result rate
  double margin = 0;           // harm tolerated (absolute, in the metric's unit)
};
// kInvalid when SRM fired; else kNoShip when the primary's CI is below 0 or a guardrail's CI
// lies wholly beyond its margin (harm); kShip when the primary's CI is above 0; else
// kInconclusive.
Verdict Decide(bool srm_mismatch, const Difference& primary, absl::Span<const Guardrail> guardrails);

}  // namespace stats
}  // namespace marketsearch

#endif  // MARKETSEARCH_EXPERIMENTS_STATS_H_
