#include "experiments/experiment_analysis.h"
#include "experiments/attribution_token.h"

#include <cstdlib>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

constexpr int64_t kStart = 1'800'000'000;  // the experiment's start (s)

std::string TempPath(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  const std::string p = absl::StrCat(t ? t : "/tmp", "/", name);
  std::filesystem::remove_all(p);
  return p;
}

std::shared_ptr<const ExperimentSet> Config(int64_t planned) {
  auto set = ExperimentSet::Parse(
      absl::StrCat(R"pb(layers { name: "ranking" experiments {
        key: "exp" range_end: 1 start_unix_s: )pb", kStart, R"pb( primary_metric: "ctr"
        planned_users_per_arm: )pb", planned, R"pb(
        arms { name: "control" weight: 0.5 }
        arms { name: "treatment" weight: 0.5 } } })pb"),
      "test", nullptr, kStart);
  EXPECT_TRUE(set.ok()) << set.status();
  return *set;
}

// Simulated log: `users` per arm, each with a propensity; the treatment's click probability
// is higher by `lift`. Each user also searched `pre` times before the start (CUPED).
void Fill(EventLog* log, int users, double lift, int pre, int treatment_users_extra = 0,
          int forced = 0) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u01(0, 1);
  std::lognormal_distribution<double> propensity(-1.3, 0.6);
  int64_t seq = 0;
  auto search = [&](uint64_t user, const std::string& arm, int64_t ts, double p_click, bool is_forced) {
    SearchRequest q;
    q.set_query("sofa");
    q.set_user_id(user);
    SearchResponse r;
    r.set_request_id(absl::StrCat("r", seq++));
    r.add_results()->set_listing_id(1);
    r.add_results()->set_listing_id(2);
    if (!arm.empty()) {
      ServedArm* a = r.add_arms();
      a->set_layer("ranking");
      a->set_experiment("exp");
      a->set_arm(arm);
      a->set_forced(is_forced);
    }
    (*r.mutable_debug()->mutable_stage_ms())["total"] = 5 + u01(rng);
    ASSERT_TRUE(log->AppendImpression(q, r, ts).ok());
    if (u01(rng) < p_click) {
      Event e;
      e.set_request_id(r.request_id());
      e.set_listing_id(1);
      e.set_type(EVENT_TYPE_CLICK);
      e.set_timestamp_ms(ts + 1);
      ASSERT_TRUE(log->AppendEvents({&e, 1}, ts + 1).ok());
    }
  };
  for (int arm = 0; arm < 2; ++arm) {
    const int n = users + (arm == 1 ? treatment_users_extra : 0);
    for (int i = 0; i < n; ++i) {
      const uint64_t user = static_cast<uint64_t>(arm * 1000000 + i + 1);
      const double p = std::min(1.0, propensity(rng));
      for (int k = 0; k < pre; ++k) search(user, "", (kStart - 1000) * 1000 + k, p, false);
      const int searches = 1 + static_cast<int>(u01(rng) * 6);
      for (int k = 0; k < searches; ++k) {
        search(user, arm == 0 ? "control" : "treatment", kStart * 1000 + i * 10 + k,
               std::min(1.0, p * (arm == 1 ? 1 + lift : 1.0)), false);
      }
    }
  }
  for (int i = 0; i < forced; ++i) search(99999999, "treatment", kStart * 1000 + 5, 1.0, true);
}

// A search the server failed, as the service logs it: the arms, no page, the status code.
void Failed(EventLog* log, uint64_t user, const std::string& arm, int64_t ts) {
  SearchRequest q;
  q.set_query("sofa");
  q.set_user_id(user);
  SearchResponse r;
  ServedArm* a = r.add_arms();
  a->set_layer("ranking");
  a->set_experiment("exp");
  a->set_arm(arm);
  (*r.mutable_debug()->mutable_stage_ms())["error_code"] = 13;  // INTERNAL
  ASSERT_TRUE(log->AppendImpression(q, r, ts).ok());
}

TEST(ExperimentAnalysisTest, FindsARealLiftAndCountsEverything) {
  auto log = EventLog::Open(TempPath("analysis1"));
  ASSERT_TRUE(log.ok());
  Fill(log->get(), 1500, 0.5, 0, 0, /*forced=*/7);
  // A click whose impression was dropped: attributed to its arm by the token, kept apart.
  {
    SearchResponse dropped;
    ServedArm* arm = dropped.add_arms();
    arm->set_layer("ranking");
    arm->set_experiment("exp");
    arm->set_arm("treatment");
    Event e;
    e.set_request_id("dropped-page");
    e.set_listing_id(1);
    e.set_type(EVENT_TYPE_CLICK);
    e.set_attribution_token(EncodeAttributionPayload("dropped-page", dropped.arms()) + ".sig");
    ASSERT_TRUE((*log)->AppendEvents({&e, 1}, kStart * 1000 + 50).ok());
  }
  auto set = Config(1000);
  auto reports = AnalyzeExperiments(**log, *set, {}, kStart + 100, AnalysisOptions());
  ASSERT_TRUE(reports.ok()) << reports.status();
  ASSERT_EQ(reports->size(), 1u);
  const ExperimentReport& r = (*reports)[0];
  ASSERT_EQ(r.arms.size(), 2u);
  EXPECT_EQ(r.arms[0].users, 1500);
  EXPECT_EQ(r.arms[1].users, 1500);
  EXPECT_EQ(r.forced_searches_excluded, 7);
  EXPECT_FALSE(r.srm.mismatch);
  EXPECT_FALSE(r.arms[0].below_planned);
  EXPECT_GT(r.arms[1].ctr, r.arms[0].ctr);
  ASSERT_EQ(r.comparisons.size(), 1u);
  const MetricComparison& ctr = r.comparisons[0].metrics[0];
  EXPECT_EQ(ctr.metric, "ctr");
  EXPECT_EQ(ctr.role, "primary");
  EXPECT_GT(ctr.sequential.ci_low, 0);
  // The always-valid interval is wider than the fixed one.
  EXPECT_GT(ctr.sequential.ci_high - ctr.sequential.ci_low, ctr.fixed.ci_high - ctr.fixed.ci_low);
  EXPECT_EQ(r.comparisons[0].verdict, stats::Verdict::kShip);
  EXPECT_FALSE(ctr.cuped);  // no pre-period
  EXPECT_EQ(r.arms[0].clicked_searches + r.arms[1].clicked_searches,
            r.arms[0].clicks + r.arms[1].clicks);  // one click per search at most here
  EXPECT_NEAR(r.arms[0].latency_p50_ms, 5.5, 0.1);
  EXPECT_EQ(r.arms[0].token_only_events, 0);
  EXPECT_EQ(r.arms[1].token_only_events, 1);
  EXPECT_EQ(r.events_without_impression, 1);
  // Breakdowns: every search unfiltered, every buyer new (no pre-period), kinds unknown.
  ASSERT_EQ(r.breakdowns.size(), 3u);
  EXPECT_EQ(r.breakdowns[0].dimension, "query_kind");
  EXPECT_EQ(r.breakdowns[0].value, "unknown");
  EXPECT_EQ(r.breakdowns[1].value, "unfiltered");
  EXPECT_EQ(r.breakdowns[1].users, (std::vector<int64_t>{1500, 1500}));
  EXPECT_EQ(r.breakdowns[2].value, "new");
  EXPECT_NEAR(r.breakdowns[1].vs_control[1].estimate, ctr.fixed.estimate, 1e-12);
  EXPECT_NE(FormatReport(r).find("filters=unfiltered"), std::string::npos);
  EXPECT_EQ(r.timeline.size(), 12u);
  EXPECT_EQ(r.timeline.back().users, (std::vector<int64_t>{1500, 1500}));
  const std::string text = FormatReport(r);
  EXPECT_NE(text.find("verdict ship"), std::string::npos) << text;
  const std::string json = ReportsToJson(*reports);
  EXPECT_NE(json.find("\"verdict\":\"ship\""), std::string::npos);
  EXPECT_NE(json.find("\"users\":1500"), std::string::npos);
}

TEST(ExperimentAnalysisTest, NoLiftIsInconclusiveAndAMismatchIsInvalid) {
  {
    auto log = EventLog::Open(TempPath("analysis2"));
    ASSERT_TRUE(log.ok());
    Fill(log->get(), 800, 0.0, 0);
    auto reports = AnalyzeExperiments(**log, *Config(5000), {}, kStart + 100, AnalysisOptions());
    ASSERT_TRUE(reports.ok());
    const ExperimentReport& r = (*reports)[0];
    EXPECT_EQ(r.comparisons[0].verdict, stats::Verdict::kInconclusive);
    EXPECT_TRUE(r.arms[0].below_planned);
    EXPECT_NE(FormatReport(r).find("below planned sample"), std::string::npos) << FormatReport(r);
  }
  {
    auto log = EventLog::Open(TempPath("analysis3"));
    ASSERT_TRUE(log.ok());
    Fill(log->get(), 800, 0.5, 0, /*treatment_users_extra=*/300);
    auto reports = AnalyzeExperiments(**log, *Config(500), {}, kStart + 100, AnalysisOptions());
    ASSERT_TRUE(reports.ok());
    const ExperimentReport& r = (*reports)[0];
    EXPECT_TRUE(r.srm.mismatch);
    EXPECT_EQ(r.comparisons[0].verdict, stats::Verdict::kInvalid);  // never shown as a win
    EXPECT_NE(FormatReport(r).find("MISMATCH"), std::string::npos);
  }
}

// The treatment fails 5% of its searches: the error-rate guardrail vetoes an otherwise winning
// arm, and failed searches are left out of the page metrics.
TEST(ExperimentAnalysisTest, AnErrorRateIncreaseIsNoShip) {
  auto log = EventLog::Open(TempPath("analysis6"));
  ASSERT_TRUE(log.ok());
  Fill(log->get(), 1500, 0.5, 0);
  for (int i = 0; i < 1500; ++i) {
    if (i % 4 == 0) Failed(log->get(), static_cast<uint64_t>(1000000 + i + 1), "treatment", kStart * 1000 + i * 10 + 9);
  }
  auto reports = AnalyzeExperiments(**log, *Config(1000), {}, kStart + 100, AnalysisOptions());
  ASSERT_TRUE(reports.ok());
  const ExperimentReport& r = (*reports)[0];
  EXPECT_EQ(r.arms[0].failed_searches, 0);
  EXPECT_EQ(r.arms[1].failed_searches, 375);
  EXPECT_NEAR(r.arms[1].error_rate, 375.0 / (r.arms[1].searches + 375), 1e-12);
  EXPECT_EQ(r.comparisons[0].verdict, stats::Verdict::kNoShip);
  bool saw = false;
  for (const MetricComparison& m : r.comparisons[0].metrics) {
    if (m.metric == "error_rate") {
      saw = true;
      EXPECT_EQ(m.role, "guardrail");
      EXPECT_GT(m.fixed.ci_low, 0.005);
    }
  }
  EXPECT_TRUE(saw);
}

TEST(ExperimentAnalysisTest, CupedUsesThePrePeriodAndNarrowsTheInterval) {
  auto log = EventLog::Open(TempPath("analysis4"));
  ASSERT_TRUE(log.ok());
  Fill(log->get(), 1000, 0.2, /*pre=*/8);
  auto reports = AnalyzeExperiments(**log, *Config(1000), {}, kStart + 100, AnalysisOptions());
  ASSERT_TRUE(reports.ok());
  const MetricComparison& ctr = (*reports)[0].comparisons[0].metrics[0];
  EXPECT_TRUE(ctr.cuped);
  EXPECT_LT(ctr.cuped_variance_ratio, 0.9);  // propensity persists across periods
  EXPECT_GT(ctr.cuped_variance_ratio, 0.1);
  // The pre-period as a pilot for the power calculation: every user, no arm.
  auto pilot = PilotEstimate(**log, "ctr", 0, kStart * 1000);
  ASSERT_TRUE(pilot.ok());
  EXPECT_EQ(pilot->users, 2000);
  EXPECT_GT(pilot->value, 0.1);
  EXPECT_LT(pilot->value, 0.6);
  EXPECT_GT(pilot->variance, 0);
  auto later = PilotEstimate(**log, "ctr", (kStart - 500) * 1000, kStart * 1000);  // a gap
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->users, 0);
}

// Interleaved pages where the first arm's results draw more clicks: the preference favours it.
TEST(ExperimentAnalysisTest, InterleavingPreferenceFromPerQueryCredit) {
  auto log = EventLog::Open(TempPath("analysis5"));
  ASSERT_TRUE(log.ok());
  auto set = ExperimentSet::Parse(
      absl::StrCat(R"pb(layers { name: "ranking" experiments { key: "il" type: INTERLEAVING
        range_end: 1 start_unix_s: )pb", kStart, R"pb(
        arms { name: "ranker" weight: 0.5 } arms { name: "fused" weight: 0.5 } } })pb"),
      "test", nullptr, kStart);
  ASSERT_TRUE(set.ok());
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u01(0, 1);
  int64_t seq = 0;
  for (uint64_t user = 1; user <= 300; ++user) {
    for (int k = 0; k < 4; ++k) {
      SearchRequest q;
      q.set_query("sofa");
      q.set_user_id(user);
      SearchResponse r;
      r.set_request_id(absl::StrCat("i", seq++));
      ServedArm* a = r.add_arms();
      a->set_experiment("il");
      a->set_arm("interleaved");
      for (int pos = 0; pos < 4; ++pos) {
        SearchResult* res = r.add_results();
        res->set_listing_id(100 + pos);
        res->set_interleaving_team(pos % 2 == 0 ? 1 : 2);
      }
      const int64_t ts = kStart * 1000 + static_cast<int64_t>(user) * 10 + k;
      ASSERT_TRUE((*log)->AppendImpression(q, r, ts).ok());
      // Team 1 (positions 0, 2) is clicked 40% of the time, team 2 (1, 3) 20%.
      for (int pos = 0; pos < 4; ++pos) {
        if (u01(rng) < (pos % 2 == 0 ? 0.4 : 0.2)) {
          Event e;
          e.set_request_id(r.request_id());
          e.set_listing_id(100 + pos);
          e.set_position(pos);
          e.set_type(EVENT_TYPE_CLICK);
          e.set_timestamp_ms(ts + 1);
          ASSERT_TRUE((*log)->AppendEvents({&e, 1}, ts + 1).ok());
        }
      }
    }
  }
  auto reports = AnalyzeExperiments(**log, **set, {}, kStart + 100, AnalysisOptions());
  ASSERT_TRUE(reports.ok()) << reports.status();
  const ExperimentReport& r = (*reports)[0];
  EXPECT_TRUE(r.interleaving);
  EXPECT_EQ(r.interleaved_searches, 1200);
  EXPECT_EQ(r.interleaved_users, 300);
  EXPECT_GT(r.preference.a_wins, r.preference.b_wins);
  EXPECT_GT(r.preference.ci_low, 0);
  EXPECT_LT(r.preference.sign_test_p, 0.001);
  EXPECT_NE(FormatReport(r).find("ranker preferred"), std::string::npos) << FormatReport(r);
  EXPECT_NE(ReportsToJson(*reports).find("\"interleaving\":{"), std::string::npos);
}

}  // namespace
}  // namespace marketsearch
