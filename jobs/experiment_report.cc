// experiment_report: the A/B experiment report from the impression/event log of a data
// directory (read alongside the running server), for every experiment of the configuration:
// per arm sample sizes and metrics, differences against control with fixed and always-valid
// intervals, SRM, CUPED, guardrails and a verdict (experiments/experiment_analysis.h).
// --json_out writes the same numbers as the dashboard's JSON.
//
// With --replay_target (a server started with --experiment_qa_overrides), it also replays the
// judged test queries through each arm (force_arms: forced traffic is excluded from the
// online analysis) and reports each arm's offline NDCG@10 and the paired difference against
// control with a paired bootstrap interval.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "datasets/catalog_reader.h"
#include "experiments/experiment_analysis.h"
#include "experiments/metrics.h"
#include "experiments/stats.h"
#include "proto/search.grpc.pb.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (logs/, catalog/, experiments.textproto)");
ABSL_FLAG(std::string, experiments_config, "",
          "the experiment configuration; default <data_dir>/experiments.textproto");
ABSL_FLAG(std::string, json_out, "", "also write the report as JSON here");
ABSL_FLAG(std::string, replay_target, "",
          "a server with --experiment_qa_overrides: replay the judged test queries per arm");
ABSL_FLAG(int, replay_queries, 0, "replay at most this many test queries (0 = all)");
ABSL_FLAG(std::string, replay_pages_out, "",
          "write the replayed pages here (TSV: query_id, arm, listing ids in order), for the "
          "calibration benchmark's detection runs");
ABSL_FLAG(double, latency_p99_margin_ms, 5, "guardrail: tolerated p99 latency increase");
ABSL_FLAG(double, zero_result_margin, 0.01, "guardrail: tolerated zero-result rate increase");
ABSL_FLAG(double, error_rate_margin, 0.005, "guardrail: tolerated increase of failed searches");
ABSL_FLAG(bool, bench_lines, false, "also print BENCH lines");
ABSL_FLAG(bool, plan, false,
          "only plan an experiment: the users per arm needed to detect --plan_relative_mde of "
          "--plan_metric, from the per-user variance of the log's searches so far (a pilot)");
ABSL_FLAG(std::string, plan_metric, "ctr", "the planned primary metric");
ABSL_FLAG(int64_t, plan_since_unix_ms, 0, "the pilot: the log's searches from this time on");
ABSL_FLAG(double, plan_relative_mde, 0.05, "the smallest relative effect worth detecting");
ABSL_FLAG(double, plan_power, 0.8, "the power to detect it with");
ABSL_FLAG(double, alpha, 0.05, "two-sided significance level");

namespace marketsearch {
namespace {

// NDCG@10 of each judged test query through each arm of `e` (forced), paired by query.
void Replay(const Experiment& e, const std::vector<QueryRecord>& queries, const JudgmentMap& judged) {
  auto stub = MarketSearch::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_replay_target), grpc::InsecureChannelCredentials()));
  std::vector<std::vector<double>> ndcg(e.arms_size());
  std::string pages;  // --replay_pages_out
  int used = 0;
  for (const QueryRecord& q : queries) {
    if (q.split != "test") continue;
    auto j = judged.find(q.query_id);
    if (j == judged.end()) continue;
    if (absl::GetFlag(FLAGS_replay_queries) > 0 && used >= absl::GetFlag(FLAGS_replay_queries)) break;
    std::vector<double> row;
    for (int a = 0; a < e.arms_size(); ++a) {
      SearchRequest req;
      req.set_query(q.text);
      req.set_user_id(q.user_id);
      req.set_page_size(10);
      (*req.mutable_force_arms())[e.key()] = e.arms(a).name();
      SearchResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      const grpc::Status s = stub->Search(&ctx, req, &resp);
      if (!s.ok()) {
        std::fprintf(stderr, "experiment_report: replay: %s\n", s.error_message().c_str());
        return;
      }
      std::vector<uint64_t> ids;
      for (const SearchResult& r : resp.results()) ids.push_back(r.listing_id());
      row.push_back(NdcgAtK(ids, j->second, 10));
      absl::StrAppend(&pages, q.query_id, "\t", e.arms(a).name(), "\t", absl::StrJoin(ids, ","), "\n");
    }
    for (int a = 0; a < e.arms_size(); ++a) ndcg[a].push_back(row[a]);
    ++used;
  }
  if (!absl::GetFlag(FLAGS_replay_pages_out).empty()) {
    if (absl::Status s = WriteFileAtomically(absl::GetFlag(FLAGS_replay_pages_out), pages); !s.ok()) {
      std::fprintf(stderr, "experiment_report: %s\n", std::string(s.message()).c_str());
    }
  }
  std::printf("  offline replay of %d judged test queries through each arm (forced, excluded above):\n",
              used);
  for (int a = 0; a < e.arms_size(); ++a) {
    double mean = 0;
    for (double v : ndcg[a]) mean += v / std::max<size_t>(1, ndcg[a].size());
    std::printf("    %-12s NDCG@10 %.4f", e.arms(a).name().c_str(), mean);
    if (a > 0 && used > 0) {
      // Paired bootstrap over queries (10,000 draws, fixed seed).
      std::vector<double> d(used);
      for (int i = 0; i < used; ++i) d[i] = ndcg[a][i] - ndcg[0][i];
      std::mt19937_64 rng(1);
      std::uniform_int_distribution<int> pick(0, used - 1);
      std::vector<double> means(10000);
      for (double& m : means) {
        double s = 0;
        for (int i = 0; i < used; ++i) s += d[pick(rng)];
        m = s / used;
      }
      std::sort(means.begin(), means.end());
      double dbar = 0;
      for (double v : d) dbar += v / used;
      std::printf("  vs %s %+.4f, paired bootstrap 95%% CI [%+.4f, %+.4f]", e.arms(0).name().c_str(),
                  dbar, means[250], means[9749]);
      if (absl::GetFlag(FLAGS_bench_lines)) {
        std::printf("\nBENCH replay_ndcg10_delta_%s %.4f", e.arms(a).name().c_str(), dbar);
      }
    }
    std::printf("\n");
  }
}

int Plan(const EventLog& log) {
  const std::string metric = absl::GetFlag(FLAGS_plan_metric);
  auto pilot = PilotEstimate(log, metric, absl::GetFlag(FLAGS_plan_since_unix_ms), NowUnixMs() + 1);
  if (!pilot.ok()) {
    std::fprintf(stderr, "experiment_report: %s\n", std::string(pilot.status().message()).c_str());
    return 2;
  }
  if (pilot->users < 100 || pilot->value <= 0) {
    std::fprintf(stderr, "experiment_report: the pilot has %lld users and %s %.4f: too little to plan on\n",
                 static_cast<long long>(pilot->users), metric.c_str(), pilot->value);
    return 2;
  }
  const double sigma2 = pilot->variance * static_cast<double>(pilot->users);
  const double mde = absl::GetFlag(FLAGS_plan_relative_mde) * pilot->value;
  const int64_t n = stats::PlannedUsersPerArm(sigma2, mde, absl::GetFlag(FLAGS_alpha),
                                              absl::GetFlag(FLAGS_plan_power));
  std::printf("plan: pilot of %lld users, %s %.4f, per-user variance %.4f; to detect %+.1f%% "
              "(%+.4f) at alpha %.2f with %.0f%% power: %lld users per arm\n",
              static_cast<long long>(pilot->users), metric.c_str(), pilot->value, sigma2,
              100 * absl::GetFlag(FLAGS_plan_relative_mde), mde, absl::GetFlag(FLAGS_alpha),
              100 * absl::GetFlag(FLAGS_plan_power), static_cast<long long>(n));
  std::printf("planned_users_per_arm %lld\n", static_cast<long long>(n));
  return 0;
}

int Run() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  if (absl::GetFlag(FLAGS_plan)) {
    auto log = EventLog::OpenReadOnly(dir + "/logs");
    if (!log.ok()) {
      std::fprintf(stderr, "experiment_report: %s\n", std::string(log.status().message()).c_str());
      return 2;
    }
    return Plan(**log);
  }
  const std::string config_path = absl::GetFlag(FLAGS_experiments_config).empty()
                                      ? dir + "/experiments.textproto"
                                      : absl::GetFlag(FLAGS_experiments_config);
  const int64_t now = NowUnixMs() / 1000;
  auto set = ExperimentSet::Load(config_path, nullptr, now);
  if (!set.ok()) {
    std::fprintf(stderr, "experiment_report: %s\n", std::string(set.status().message()).c_str());
    return 2;
  }
  auto log = EventLog::OpenReadOnly(dir + "/logs");
  if (!log.ok()) {
    std::fprintf(stderr, "experiment_report: %s\n", std::string(log.status().message()).c_str());
    return 2;
  }
  // Judged queries by text, for the online NDCG (optional: a catalog without judgments
  // reports no NDCG).
  auto queries = ReadQueries(dir + "/catalog/queries.tsv");
  auto judged_index = LoadJudgedQueries(dir + "/catalog");
  const JudgedQueries none;
  const JudgedQueries& judged = judged_index.ok() ? (*judged_index)->by_text : none;
  AnalysisOptions o;
  o.alpha = absl::GetFlag(FLAGS_alpha);
  o.latency_p99_margin_ms = absl::GetFlag(FLAGS_latency_p99_margin_ms);
  o.zero_result_margin = absl::GetFlag(FLAGS_zero_result_margin);
  o.error_rate_margin = absl::GetFlag(FLAGS_error_rate_margin);
  auto reports = AnalyzeExperiments(**log, **set, judged, now, o);
  if (!reports.ok()) {
    std::fprintf(stderr, "experiment_report: %s\n", std::string(reports.status().message()).c_str());
    return 2;
  }
  if (reports->empty()) std::printf("no experiments in %s\n", config_path.c_str());
  for (const ExperimentReport& r : *reports) {
    std::printf("%s", FormatReport(r).c_str());
    if (!absl::GetFlag(FLAGS_replay_target).empty() && queries.ok()) {
      if (judged_index.ok()) Replay(*(*set)->Find(r.key), *queries, (*judged_index)->by_query);
    }
    if (absl::GetFlag(FLAGS_bench_lines)) {
      for (const ArmComparison& c : r.comparisons) {
        for (const MetricComparison& m : c.metrics) {
          if (m.role == "guardrail") continue;
          std::printf("BENCH experiment_%s_%s_delta %.5f\n", c.arm.c_str(), m.metric.c_str(),
                      m.fixed.estimate);
        }
      }
      std::printf("BENCH experiment_srm_p %.4g\n", r.srm.p_value);
    }
  }
  if (!absl::GetFlag(FLAGS_json_out).empty()) {
    if (absl::Status s = WriteFileAtomically(absl::GetFlag(FLAGS_json_out), ReportsToJson(*reports));
        !s.ok()) {
      std::fprintf(stderr, "experiment_report: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  return 0;
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Usage: experiment_report --data_dir=DIR [--json_out=FILE] [--replay_target=HOST:PORT] | --plan");
  absl::ParseCommandLine(argc, argv);
  return marketsearch::Run();
}
