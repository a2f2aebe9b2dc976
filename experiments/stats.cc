#include "experiments/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>

namespace marketsearch {
namespace stats {
namespace {

double Mean(absl::Span<const double> x) {
  if (x.empty()) return 0;
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

// Sample covariance (n - 1).
double Cov(absl::Span<const double> x, absl::Span<const double> y) {
  const size_t n = x.size();
  if (n < 2) return 0;
  const double mx = Mean(x), my = Mean(y);
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += (x[i] - mx) * (y[i] - my);
  return s / static_cast<double>(n - 1);
}

// Linearised per-user values of a ratio metric and the ratio itself.
std::vector<double> Linearise(absl::Span<const double> num, absl::Span<const double> den,
                              double* ratio) {
  const double sn = std::accumulate(num.begin(), num.end(), 0.0);
  const double sd = std::accumulate(den.begin(), den.end(), 0.0);
  const double r = sd > 0 ? sn / sd : 0;
  const double dbar = num.empty() ? 0 : sd / static_cast<double>(num.size());
  std::vector<double> l(num.size(), 0.0);
  if (dbar > 0) {
    for (size_t i = 0; i < num.size(); ++i) l[i] = (num[i] - r * den[i]) / dbar;
  }
  *ratio = r;
  return l;
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

double ZTwoSided(double alpha) {
  static const boost::math::normal_distribution<double> kNormal;
  return boost::math::quantile(kNormal, 1 - alpha / 2);
}

double PValueTwoSided(double z) {
  static const boost::math::normal_distribution<double> kNormal;
  if (!std::isfinite(z)) return std::isnan(z) ? 1 : 0;
  return 2 * boost::math::cdf(boost::math::complement(kNormal, std::fabs(z)));
}

RatioEstimate EstimateRatio(absl::Span<const double> num, absl::Span<const double> den) {
  RatioEstimate e;
  e.users = static_cast<int64_t>(num.size());
  e.num_total = std::accumulate(num.begin(), num.end(), 0.0);
  e.den_total = std::accumulate(den.begin(), den.end(), 0.0);
  e.linearised = Linearise(num, den, &e.value);
  // Var(R) = (s_M^2 - 2 R s_MD + R^2 s_D^2) / (n Dbar^2) = var(L) / n.
  if (e.users >= 2) {
    const double vl = Cov(e.linearised, e.linearised);
    e.variance = vl / static_cast<double>(e.users);
  }
  return e;
}

double NaivePerSearchVariance(const RatioEstimate& r) {
  if (r.den_total <= 0) return 0;
  return r.value * (1 - r.value) / r.den_total;
}

Difference Compare(double control, double control_variance, double treatment,
                   double treatment_variance, double alpha, double multiplier) {
  Difference d;
  d.control = control;
  d.treatment = treatment;
  d.estimate = treatment - control;
  d.se = std::sqrt(std::max(0.0, control_variance) + std::max(0.0, treatment_variance));
  const double m = multiplier > 0 ? multiplier : ZTwoSided(alpha);
  d.ci_low = d.estimate - m * d.se;
  d.ci_high = d.estimate + m * d.se;
  d.p_value = d.se > 0 ? PValueTwoSided(d.estimate / d.se) : (d.estimate == 0 ? 1 : 0);
  if (control != 0) {
    d.lift = treatment / control - 1;
    // Var(l) = V_T / R_C^2 + R_T^2 V_C / R_C^4.
    d.lift_se = std::sqrt(treatment_variance / (control * control) +
                          treatment * treatment * control_variance / std::pow(control, 4));
    d.lift_ci_low = d.lift - m * d.lift_se;
    d.lift_ci_high = d.lift + m * d.lift_se;
  }
  return d;
}

Difference CompareRatios(const RatioEstimate& control, const RatioEstimate& treatment,
                         double alpha, double multiplier) {
  return Compare(control.value, control.variance, treatment.value, treatment.variance, alpha,
                 multiplier);
}

Difference Widen(const Difference& d, double multiplier) {
  Difference w = d;
  w.ci_low = d.estimate - multiplier * d.se;
  w.ci_high = d.estimate + multiplier * d.se;
  w.lift_ci_low = d.lift - multiplier * d.lift_se;  // 0 when there is no lift (control 0)
  w.lift_ci_high = d.lift + multiplier * d.lift_se;
  return w;
}

SrmResult CheckSampleRatio(absl::Span<const int64_t> observed, absl::Span<const double> weights,
                           double threshold) {
  SrmResult r;
  const double total = std::accumulate(observed.begin(), observed.end(), 0.0);
  const double wsum = std::accumulate(weights.begin(), weights.end(), 0.0);
  r.df = static_cast<int>(observed.size()) - 1;
  if (total <= 0 || wsum <= 0 || r.df < 1) return r;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double expected = total * weights[i] / wsum;
    if (expected <= 0) continue;
    const double diff = static_cast<double>(observed[i]) - expected;
    r.chi2 += diff * diff / expected;
  }
  const boost::math::chi_squared_distribution<double> chi2(r.df);
  r.p_value = boost::math::cdf(boost::math::complement(chi2, r.chi2));
  r.mismatch = r.p_value < threshold;
  return r;
}

CupedResult CupedCompare(const CupedArm& control, const CupedArm& treatment, double alpha,
                         double multiplier) {
  CupedResult out;
  double r_c = 0, r_t = 0, pre_c = 0, pre_t = 0;
  const std::vector<double> lc = Linearise(control.num, control.den, &r_c);
  const std::vector<double> lt = Linearise(treatment.num, treatment.den, &r_t);
  const std::vector<double> xc = Linearise(control.pre_num, control.pre_den, &pre_c);
  const std::vector<double> xt = Linearise(treatment.pre_num, treatment.pre_den, &pre_t);
  // theta = cov(L, X) / var(X), pooled within arms.
  const double nc = static_cast<double>(lc.size()), nt = static_cast<double>(lt.size());
  const double cov = Cov(lc, xc) * (nc - 1) + Cov(lt, xt) * (nt - 1);
  const double var = Cov(xc, xc) * (nc - 1) + Cov(xt, xt) * (nt - 1);
  out.theta = var > 0 ? cov / var : 0;
  out.control_adjusted = r_c - out.theta * pre_c;
  out.treatment_adjusted = r_t - out.theta * pre_t;
  auto adjusted_variance = [&](const std::vector<double>& l, const std::vector<double>& x) {
    if (l.size() < 2) return 0.0;
    std::vector<double> y(l.size());
    for (size_t i = 0; i < l.size(); ++i) y[i] = l[i] - out.theta * x[i];
    return Cov(y, y) / static_cast<double>(l.size());
  };
  out.control_variance = adjusted_variance(lc, xc);
  out.treatment_variance = adjusted_variance(lt, xt);
  const double raw = (nc > 1 ? Cov(lc, lc) / nc : 0) + (nt > 1 ? Cov(lt, lt) / nt : 0);
  const double adjusted = out.control_variance + out.treatment_variance;
  out.variance_ratio = raw > 0 ? adjusted / raw : 1;
  out.difference = Compare(out.control_adjusted, out.control_variance, out.treatment_adjusted,
                           out.treatment_variance, alpha, multiplier);
  // The lift is relative to the unadjusted control value.
  Difference& d = out.difference;
  if (r_c != 0) {
    d.lift = d.estimate / r_c;
    d.lift_se = d.se / std::fabs(r_c);
    const double m = multiplier > 0 ? multiplier : ZTwoSided(alpha);
    d.lift_ci_low = d.lift - m * d.lift_se;
    d.lift_ci_high = d.lift + m * d.lift_se;
  } else {
    d.lift = d.lift_se = d.lift_ci_low = d.lift_ci_high = 0;
  }
  return out;
}

double SequentialMultiplier(double total_samples, double n_tune, double alpha) {
  const double t = std::max(1.0, total_samples);
  const double g = 2 * std::log(1 / alpha);
  const double r = std::max(1.0, n_tune) / (g + std::log(1 + g));
  return std::sqrt((1 + r / t) * (std::log(1 + t / r) + g));
}

double SequentialPValue(double estimate, double se, double total_samples, double n_tune) {
  if (se <= 0) return estimate == 0 ? 1 : 0;
  const double z = std::fabs(estimate) / se;
  // The multiplier falls as alpha grows: bisect for m(alpha) == z.
  double lo = 1e-12, hi = 1;
  if (SequentialMultiplier(total_samples, n_tune, hi) >= z) return 1;
  if (SequentialMultiplier(total_samples, n_tune, lo) <= z) return lo;
  for (int i = 0; i < 100; ++i) {
    const double mid = std::sqrt(lo * hi);  // alpha spans decades
    if (SequentialMultiplier(total_samples, n_tune, mid) > z) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return hi;
}

int64_t PlannedUsersPerArm(double per_user_variance, double mde, double alpha, double power) {
  if (mde == 0) return 0;
  static const boost::math::normal_distribution<double> kNormal;
  const double zb = boost::math::quantile(kNormal, power);
  const double z = ZTwoSided(alpha) + zb;
  return static_cast<int64_t>(std::ceil(2 * z * z * per_user_variance / (mde * mde)));
}

double MinimumDetectableEffect(double per_user_variance, int64_t users_per_arm, double alpha,
                               double power) {
  if (users_per_arm <= 0) return 0;
  static const boost::math::normal_distribution<double> kNormal;
  const double z = ZTwoSided(alpha) + boost::math::quantile(kNormal, power);
  return z * std::sqrt(2 * per_user_variance / static_cast<double>(users_per_arm));
}

std::vector<double> HolmAdjust(absl::Span<const double> p_values) {
  const size_t m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  std::vector<double> adjusted(m);
  double running = 0;
  for (size_t i = 0; i < m; ++i) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - i) * p_values[order[i]]));
    adjusted[order[i]] = running;
  }
  return adjusted;
}

InterleavedPage TeamDraftInterleave(absl::Span<const uint64_t> a, absl::Span<const uint64_t> b,
                                    int k, const std::function<bool()>& coin_says_a) {
  InterleavedPage page;
  size_t ia = 0, ib = 0;  // next candidate position in each ranking
  size_t team_a = 0, team_b = 0;
  auto taken = [&](uint64_t id) {
    return std::find(page.ids.begin(), page.ids.end(), id) != page.ids.end();
  };
  while (static_cast<int>(page.ids.size()) < k) {
    while (ia < a.size() && taken(a[ia])) ++ia;
    while (ib < b.size() && taken(b[ib])) ++ib;
    const bool a_left = ia < a.size(), b_left = ib < b.size();
    if (!a_left && !b_left) break;
    bool a_picks = team_a < team_b || (team_a == team_b && coin_says_a());
    if (a_picks && !a_left) a_picks = false;
    if (!a_picks && !b_left) a_picks = true;
    if (a_picks) {
      page.ids.push_back(a[ia++]);
      page.team.push_back(0);
      ++team_a;
    } else {
      page.ids.push_back(b[ib++]);
      page.team.push_back(1);
      ++team_b;
    }
  }
  return page;
}

InterleavedPage TeamDraftInterleave(absl::Span<const uint64_t> a, absl::Span<const uint64_t> b,
                                    int k, uint64_t seed) {
  uint64_t state = seed;
  return TeamDraftInterleave(a, b, k, [&state] { return (SplitMix64(&state) >> 63) != 0; });
}

int InterleavingOutcome(const InterleavedPage& page, absl::Span<const int> clicked_positions) {
  int credit_a = 0, credit_b = 0;
  for (int p : clicked_positions) {
    if (p < 0 || p >= static_cast<int>(page.team.size())) continue;
    (page.team[p] == 0 ? credit_a : credit_b)++;
  }
  return credit_a > credit_b ? 1 : credit_b > credit_a ? -1 : 0;
}

double SignTestPValue(int64_t k, int64_t n) {
  if (n <= 0) return 1;
  const boost::math::binomial_distribution<double> bin(static_cast<double>(n), 0.5);
  const double lower = boost::math::cdf(bin, static_cast<double>(std::min(k, n - k)));
  return std::min(1.0, 2 * lower);
}

InterleavingResult AnalyzeInterleaving(absl::Span<const UserPreference> users, double alpha,
                                       int bootstrap_draws, uint64_t seed) {
  InterleavingResult r;
  for (const UserPreference& u : users) {
    r.a_wins += u.a_wins;
    r.b_wins += u.b_wins;
    r.ties += u.ties;
  }
  auto delta = [](double a, double b, double t) {
    const double n = a + b + t;
    return n > 0 ? (a + t / 2) / n - 0.5 : 0.0;
  };
  r.delta_ab = delta(r.a_wins, r.b_wins, r.ties);
  r.sign_test_p = SignTestPValue(r.a_wins, r.a_wins + r.b_wins);
  if (users.empty() || bootstrap_draws < 1) return r;
  // A user's queries are correlated: resample users, not queries.
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, users.size() - 1);
  std::vector<double> draws(static_cast<size_t>(bootstrap_draws));
  for (double& d : draws) {
    double a = 0, b = 0, t = 0;
    for (size_t i = 0; i < users.size(); ++i) {
      const UserPreference& u = users[pick(rng)];
      a += u.a_wins;
      b += u.b_wins;
      t += u.ties;
    }
    d = delta(a, b, t);
  }
  std::sort(draws.begin(), draws.end());
  auto at = [&](double q) {
    const size_t i = std::min(draws.size() - 1,
                              static_cast<size_t>(std::floor(q * static_cast<double>(draws.size()))));
    return draws[i];
  };
  r.ci_low = at(alpha / 2);
  r.ci_high = at(1 - alpha / 2);
  return r;
}

MeanInterval BootstrapMeanInterval(absl::Span<const double> values, double alpha, int draws,
                                   uint64_t seed) {
  MeanInterval r;
  if (values.empty()) return r;
  r.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  if (draws < 1) return {r.mean, r.mean, r.mean};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
  std::vector<double> means(static_cast<size_t>(draws));
  for (double& m : means) {
    double sum = 0;
    for (size_t i = 0; i < values.size(); ++i) sum += values[pick(rng)];
    m = sum / static_cast<double>(values.size());
  }
  std::sort(means.begin(), means.end());
  auto at = [&](double q) {
    return means[std::min(means.size() - 1,
                          static_cast<size_t>(std::floor(q * static_cast<double>(means.size()))))];
  };
  r.low = at(alpha / 2);
  r.high = at(1 - alpha / 2);
  return r;
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kInvalid: return "invalid (sample ratio mismatch)";
    case Verdict::kShip: return "ship";
    case Verdict::kNoShip: return "no ship";
    case Verdict::kInconclusive: return "inconclusive";
  }
  return "?";
}

Verdict Decide(bool srm_mismatch, const Difference& primary, absl::Span<const Guardrail> guardrails) {
  if (srm_mismatch) return Verdict::kInvalid;
  for (const Guardrail& g : guardrails) {
    const bool harmed = g.higher_is_worse ? g.difference.ci_low > g.margin
                                          : g.difference.ci_high < -g.margin;
    if (harmed) return Verdict::kNoShip;
  }
  if (primary.ci_high < 0) return Verdict::kNoShip;
  if (primary.ci_low > 0) return Verdict::kShip;
  return Verdict::kInconclusive;
}

}  // namespace stats
}  // namespace marketsearch
