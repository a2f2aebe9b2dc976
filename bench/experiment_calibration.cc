// experiment_calibration: are the experiment report's intervals honest? Re-randomises one
// simulated log many times through the real assignment hash and the real statistics
// (experiments/experiment_config.h, experiments/stats.h) and counts:
//   - A/A false positives at alpha 0.05 of the per-user (delta-method) CTR interval, and of a
//     naive per-search binomial interval that ignores that a user's searches are correlated;
//   - the same with daily peeking (10 looks), for the always-valid interval and, for contrast,
//     the fixed one;
//   - SRM detection of an injected 1 : 0.9 traffic imbalance (p < 0.001), and SRM false alarms
//     on A/A;
//   - CUPED's variance reduction on CTR against rho^2 of the pre/post per-user correlation;
//   - with --pages (the demo's replayed fused and ranker pages, experiment_report
//     --replay_pages_out) and the judgments: the searches an A/B test and a Team-Draft
//     interleaving need to detect the ranker's win (smallest N with >= 80% of --detect_runs
//     rejecting at alpha 0.05), clicks from the cascade model on the hidden relevance.
// Prints a table and BENCH lines.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "datasets/catalog_reader.h"
#include "experiments/click_model.h"
#include "experiments/experiment_config.h"
#include "experiments/stats.h"

ABSL_FLAG(int, users, 20000, "simulated users in the log");
ABSL_FLAG(int, runs, 1000, "re-randomisations (new salt each)");
ABSL_FLAG(int, looks, 10, "daily looks for the peeking check");
ABSL_FLAG(uint64_t, seed, 1, "the log's random seed");
ABSL_FLAG(std::string, pages, "", "replayed pages (query_id, arm, ids) for the detection runs");
ABSL_FLAG(std::string, judgments, "", "the catalog's judgments.tsv for the detection runs");
ABSL_FLAG(int, detect_runs, 200, "runs per sample size in the detection search");
ABSL_FLAG(bool, calibrate, true, "run the A/A, peeking, SRM and CUPED checks");

namespace marketsearch {
namespace {

struct User {
  std::string id;
  double searches = 0, clicks = 0, pre_searches = 0, pre_clicks = 0;
  std::vector<double> daily_searches, daily_clicks;  // cumulative up to each day (look)
};

// Binomial band check: is the rate inside [lo, hi]?
const char* Inside(double v, double lo, double hi) { return v >= lo && v <= hi ? "inside" : "OUTSIDE"; }

void Calibrate() {
  const int n_users = absl::GetFlag(FLAGS_users), runs = absl::GetFlag(FLAGS_runs);
  const int looks = absl::GetFlag(FLAGS_looks);
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  // Users differ in propensity (persisting across periods: what CUPED uses) and activity (a
  // heavy tail of searches: what breaks the per-search interval).
  std::lognormal_distribution<double> propensity(std::log(0.25), 0.7);
  std::geometric_distribution<int> searches(0.2);
  std::poisson_distribution<int> pre(3);
  std::uniform_int_distribution<int> day(0, looks - 1);
  std::vector<User> users(n_users);
  for (int i = 0; i < n_users; ++i) {
    User& u = users[i];
    u.id = absl::StrCat(i + 1);
    const double p = std::min(0.95, propensity(rng));
    const int n = 1 + searches(rng);
    u.daily_searches.assign(looks, 0);
    u.daily_clicks.assign(looks, 0);
    const int first = day(rng);
    for (int k = 0; k < n; ++k) {
      const int d = std::uniform_int_distribution<int>(first, looks - 1)(rng);
      const bool c = std::bernoulli_distribution(p)(rng);
      u.daily_searches[d] += 1;
      u.daily_clicks[d] += c;
      u.searches += 1;
      u.clicks += c;
    }
    for (int d = 1; d < looks; ++d) {  // cumulative from here on: what a look at day d sees
      u.daily_searches[d] += u.daily_searches[d - 1];
      u.daily_clicks[d] += u.daily_clicks[d - 1];
    }
    u.pre_searches = pre(rng);
    for (int k = 0; k < u.pre_searches; ++k) u.pre_clicks += std::bernoulli_distribution(p)(rng);
  }
  // rho^2 of the per-user linearised post and pre CTR, pooled (what CUPED can remove).
  double rho2 = 0;
  {
    std::vector<double> m, d, pm, pd;
    for (const User& u : users) {
      m.push_back(u.clicks);
      d.push_back(u.searches);
      pm.push_back(u.pre_clicks);
      pd.push_back(u.pre_searches);
    }
    const stats::RatioEstimate post = stats::EstimateRatio(m, d), before = stats::EstimateRatio(pm, pd);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < users.size(); ++i) {
      sxy += post.linearised[i] * before.linearised[i];
      sxx += before.linearised[i] * before.linearised[i];
      syy += post.linearised[i] * post.linearised[i];
    }
    rho2 = sxy * sxy / (sxx * syy);
  }
  int fp_cuped = 0;
  int fp_user = 0, fp_naive = 0, fp_peek_seq = 0, fp_peek_fixed = 0, srm_detect = 0, srm_false = 0;
  std::vector<double> raw_diffs, cuped_diffs;
  int64_t srm_users = 0;
  std::mt19937_64 drop_rng(absl::GetFlag(FLAGS_seed) + 99);
  const auto t0 = std::chrono::steady_clock::now();
  for (int run = 0; run < runs; ++run) {
    const std::string salt = absl::StrCat("calibration-", run);
    std::vector<int> arm(n_users);
    for (int i = 0; i < n_users; ++i) arm[i] = HashToUnit(salt, users[i].id) < 0.5 ? 0 : 1;
    // Final look: per-user interval, naive interval, CUPED, SRM.
    std::vector<double> m[2], d[2], pm[2], pd[2];
    int64_t observed[2] = {0, 0}, observed_imbalanced[2] = {0, 0};
    for (int i = 0; i < n_users; ++i) {
      const User& u = users[i];
      m[arm[i]].push_back(u.clicks);
      d[arm[i]].push_back(u.searches);
      pm[arm[i]].push_back(u.pre_clicks);
      pd[arm[i]].push_back(u.pre_searches);
      ++observed[arm[i]];
      // 1 : 0.9: one treatment user in ten is lost (a crash, a bot filter on one arm, ...).
      if (arm[i] == 0 || std::bernoulli_distribution(0.9)(drop_rng)) ++observed_imbalanced[arm[i]];
    }
    const stats::RatioEstimate c = stats::EstimateRatio(m[0], d[0]), t = stats::EstimateRatio(m[1], d[1]);
    fp_user += stats::CompareRatios(c, t).p_value < 0.05;
    fp_naive += stats::Compare(c.value, stats::NaivePerSearchVariance(c), t.value,
                               stats::NaivePerSearchVariance(t)).p_value < 0.05;
    raw_diffs.push_back(t.value - c.value);
    const stats::CupedResult cu = stats::CupedCompare({m[0], d[0], pm[0], pd[0]}, {m[1], d[1], pm[1], pd[1]});
    cuped_diffs.push_back(cu.difference.estimate);
    fp_cuped += cu.difference.p_value < 0.05;
    const std::vector<double> half = {0.5, 0.5};
    srm_false += stats::CheckSampleRatio(absl::MakeSpan(observed, 2), half).mismatch;
    srm_detect += stats::CheckSampleRatio(absl::MakeSpan(observed_imbalanced, 2), half).mismatch;
    srm_users += observed_imbalanced[0] + observed_imbalanced[1];
    // Daily looks: cumulative data up to each day.
    bool seq_rejected = false, fixed_rejected = false;
    for (int look = 0; look < looks; ++look) {
      std::vector<double> lm[2], ld[2];
      for (int i = 0; i < n_users; ++i) {
        const double s = users[i].daily_searches[look], k = users[i].daily_clicks[look];
        if (s == 0) continue;  // not arrived yet
        lm[arm[i]].push_back(k);
        ld[arm[i]].push_back(s);
      }
      const stats::RatioEstimate lc = stats::EstimateRatio(lm[0], ld[0]), lt = stats::EstimateRatio(lm[1], ld[1]);
      const double total = static_cast<double>(lc.users + lt.users);
      const double mult = stats::SequentialMultiplier(total, n_users);
      const stats::Difference seq = stats::CompareRatios(lc, lt, 0.05, mult);
      seq_rejected |= seq.ci_low > 0 || seq.ci_high < 0;
      fixed_rejected |= stats::CompareRatios(lc, lt).p_value < 0.05;
    }
    fp_peek_seq += seq_rejected;
    fp_peek_fixed += fixed_rejected;
  }
  auto variance = [](const std::vector<double>& v) {
    double mean = 0, s = 0;
    for (double x : v) mean += x / v.size();
    for (double x : v) s += (x - mean) * (x - mean) / (v.size() - 1);
    return s;
  };
  const double reduction = 1 - variance(cuped_diffs) / variance(raw_diffs);
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double R = runs;
  std::printf("calibration: %d simulated users, %d re-randomisations (new salt each, GrowthBook hash), "
              "%.1f s\n", n_users, runs, sec);
  std::printf("  A/A false-positive rate, alpha 0.05, per-user delta method:   %.4f  (99%% band for 1,000 "
              "runs [0.032, 0.068]: %s)\n", fp_user / R, Inside(fp_user / R, 0.032, 0.068));
  std::printf("  A/A false-positive rate, naive per-search binomial interval: %.4f  (%s: a user's searches "
              "are correlated)\n", fp_naive / R, Inside(fp_naive / R, 0.032, 0.068));
  std::printf("  A/A false-positive rate, CUPED-adjusted CTR:                  %.4f  (%s)\n", fp_cuped / R,
              Inside(fp_cuped / R, 0.032, 0.068));
  std::printf("  A/A with %d daily looks, always-valid interval:               %.4f  (%s)\n", looks,
              fp_peek_seq / R, fp_peek_seq / R <= 0.068 ? "at most alpha" : "ABOVE alpha");
  std::printf("  A/A with %d daily looks, fixed interval (peeking):            %.4f  (inflated)\n", looks,
              fp_peek_fixed / R);
  std::printf("  SRM: 1 : 0.9 imbalance caught at p < 0.001 in %.4f of runs (n ~ %.0f users per run); "
              "false alarms on A/A %.4f\n", srm_detect / R, srm_users / R, srm_false / R);
  std::printf("  CUPED on CTR: variance reduction %.4f, rho^2 of pre/post %.4f (difference %.4f)\n",
              reduction, rho2, reduction - rho2);
  std::printf("BENCH aa_false_positive_rate %.4f\n", fp_user / R);
  std::printf("BENCH aa_false_positive_rate_naive_per_search %.4f\n", fp_naive / R);
  std::printf("BENCH aa_false_positive_rate_cuped %.4f\n", fp_cuped / R);
  std::printf("BENCH aa_false_positive_rate_peeking %.4f\n", fp_peek_seq / R);
  std::printf("BENCH aa_false_positive_rate_peeking_fixed_ci %.4f\n", fp_peek_fixed / R);
  std::printf("BENCH srm_detection_rate %.4f\n", srm_detect / R);
  std::printf("BENCH srm_false_alarm_rate %.4f\n", srm_false / R);
  std::printf("BENCH srm_users_per_run %.0f\n", srm_users / R);
  std::printf("BENCH cuped_variance_reduction %.4f\n", reduction);
  std::printf("BENCH cuped_rho_squared %.4f\n", rho2);
}

// ---- detection: A/B vs interleaving on the demo's two rankers ----

struct QueryPages {
  std::vector<Esci> fused_grades, ranker_grades;
  std::vector<uint64_t> fused, ranker;
  const absl::flat_hash_map<uint64_t, Esci>* labels = nullptr;
};

Esci GradeOf(const QueryPages& q, uint64_t id) {
  auto it = q.labels->find(id);
  return it == q.labels->end() ? Esci::kIrrelevant : it->second;
}

// One experiment of `searches` searches over a fresh population; true when it rejects.
bool RunAb(const std::vector<QueryPages>& queries, int searches, std::mt19937_64& rng,
           const ClickModel& model) {
  const int n_users = std::max(20, searches / 5);
  std::lognormal_distribution<double> prop(0, 0.5);
  std::vector<double> p(n_users);
  std::vector<int> arm(n_users);
  for (int u = 0; u < n_users; ++u) {
    p[u] = prop(rng) / std::exp(0.125);
    arm[u] = std::bernoulli_distribution(0.5)(rng);
  }
  std::vector<double> clicked(n_users, 0), count(n_users, 0);
  std::uniform_int_distribution<int> pick_user(0, n_users - 1);
  std::uniform_int_distribution<size_t> pick_query(0, queries.size() - 1);
  for (int s = 0; s < searches; ++s) {
    const int u = pick_user(rng);
    const QueryPages& q = queries[pick_query(rng)];
    const PageClicks c = SimulateClicks(model, arm[u] ? q.ranker_grades : q.fused_grades, p[u], rng);
    clicked[u] += !c.clicked_positions.empty();
    count[u] += 1;
  }
  std::vector<double> m[2], d[2];
  for (int u = 0; u < n_users; ++u) {
    if (count[u] == 0) continue;
    m[arm[u]].push_back(clicked[u]);
    d[arm[u]].push_back(count[u]);
  }
  const stats::Difference diff = stats::CompareRatios(stats::EstimateRatio(m[0], d[0]),
                                                      stats::EstimateRatio(m[1], d[1]));
  return diff.ci_low > 0 || diff.ci_high < 0;
}

bool RunInterleaving(const std::vector<QueryPages>& queries, int searches, std::mt19937_64& rng,
                     const ClickModel& model) {
  const int n_users = std::max(20, searches / 5);
  std::lognormal_distribution<double> prop(0, 0.5);
  std::vector<double> p(n_users);
  for (double& x : p) x = prop(rng) / std::exp(0.125);
  std::vector<stats::UserPreference> prefs(n_users);
  std::uniform_int_distribution<int> pick_user(0, n_users - 1);
  std::uniform_int_distribution<size_t> pick_query(0, queries.size() - 1);
  for (int s = 0; s < searches; ++s) {
    const int u = pick_user(rng);
    const QueryPages& q = queries[pick_query(rng)];
    const stats::InterleavedPage page = stats::TeamDraftInterleave(q.ranker, q.fused, 10, rng());
    std::vector<Esci> grades;
    for (uint64_t id : page.ids) grades.push_back(GradeOf(q, id));
    const PageClicks c = SimulateClicks(model, grades, p[u], rng);
    const int outcome = stats::InterleavingOutcome(page, c.clicked_positions);
    if (outcome > 0) {
      ++prefs[u].a_wins;
    } else if (outcome < 0) {
      ++prefs[u].b_wins;
    } else if (!c.clicked_positions.empty()) {
      ++prefs[u].ties;  // no-click queries are left out (fixed up front)
    }
  }
  const stats::InterleavingResult r = stats::AnalyzeInterleaving(prefs, 0.05, 300, rng());
  return r.ci_low > 0 || r.ci_high < 0;
}

// The smallest N (on a 1.25x grid) at which >= 80% of runs reject.
int SearchesToDetect(const char* name, const std::vector<QueryPages>& queries, bool interleaving,
                     const ClickModel& model) {
  const int runs = absl::GetFlag(FLAGS_detect_runs);
  for (double n = 50; n <= 2e6; n *= 1.25) {
    const int searches = static_cast<int>(n);
    std::mt19937_64 rng(12345 + searches);
    int rejected = 0;
    for (int r = 0; r < runs; ++r) {
      rejected += interleaving ? RunInterleaving(queries, searches, rng, model)
                               : RunAb(queries, searches, rng, model);
    }
    if (rejected >= 0.8 * runs) {
      std::printf("  %-13s %7d searches: %d of %d runs reject at alpha 0.05\n", name, searches, rejected, runs);
      return searches;
    }
  }
  return -1;
}

int Detection() {
  auto judgments = ReadJudgments(absl::GetFlag(FLAGS_judgments));
  if (!judgments.ok()) {
    std::fprintf(stderr, "experiment_calibration: %s\n", std::string(judgments.status().message()).c_str());
    return 2;
  }
  const JudgmentMap judged = GroupJudgments(*judgments);
  std::ifstream in(absl::GetFlag(FLAGS_pages));
  std::map<uint64_t, QueryPages> by_query;
  std::vector<std::string> arms_seen;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    uint64_t qid = 0;
    if (f.size() != 3 || !absl::SimpleAtoi(f[0], &qid) || !judged.contains(qid)) continue;
    std::vector<uint64_t> ids;
    for (absl::string_view s : absl::StrSplit(f[2], ',', absl::SkipEmpty())) {
      uint64_t id;
      if (absl::SimpleAtoi(s, &id)) ids.push_back(id);
    }
    QueryPages& q = by_query[qid];
    q.labels = &judged.at(qid);
    if (std::find(arms_seen.begin(), arms_seen.end(), f[1]) == arms_seen.end()) arms_seen.push_back(f[1]);
    // The first arm in the file is the control (fused), the second the treatment (ranker).
    (f[1] == arms_seen[0] ? q.fused : q.ranker) = ids;
  }
  std::vector<QueryPages> queries;
  for (auto& [id, q] : by_query) {
    if (q.fused.empty() || q.ranker.empty()) continue;
    for (uint64_t x : q.fused) q.fused_grades.push_back(GradeOf(q, x));
    for (uint64_t x : q.ranker) q.ranker_grades.push_back(GradeOf(q, x));
    queries.push_back(std::move(q));
  }
  if (queries.empty()) {
    std::fprintf(stderr, "experiment_calibration: no pages in %s\n", absl::GetFlag(FLAGS_pages).c_str());
    return 2;
  }
  std::printf("detection: %zu judged test queries, their %s and %s pages; clicks from the cascade "
              "model on the hidden relevance; %d runs per size\n",
              queries.size(), arms_seen[0].c_str(), arms_seen.size() > 1 ? arms_seen[1].c_str() : "?",
              absl::GetFlag(FLAGS_detect_runs));
  const ClickModel model;
  const int il = SearchesToDetect("interleaving", queries, true, model);
  const int ab = SearchesToDetect("A/B (CTR)", queries, false, model);
  std::printf("BENCH interleaving_searches_to_detect %d\n", il);
  std::printf("BENCH ab_searches_to_detect %d\n", ab);
  if (il > 0 && ab > 0) std::printf("BENCH ab_over_interleaving_searches %.1f\n", static_cast<double>(ab) / il);
  return 0;
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_calibrate) && absl::GetFlag(FLAGS_runs) > 0) marketsearch::Calibrate();
  if (!absl::GetFlag(FLAGS_pages).empty()) return marketsearch::Detection();
  return 0;
}
