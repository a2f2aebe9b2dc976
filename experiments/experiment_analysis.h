// The experiment report's analysis: reads the impression/event log, joins clicks and
// purchases to the searches that showed them, aggregates per user (the randomisation unit)
// and arm, and compares every arm with its experiment's control (experiments/stats.h).
//
// Per arm: users, searches, CTR (searches with a click / searches), clicks and purchases per
// search, zero-result rate, NDCG@10 of the pages shown for judged queries (online NDCG),
// server latency p50/p99, the share of searches the server failed. Against control: the
// difference with a fixed-horizon 95% interval and an always-valid (sequential) one, p-values,
// Holm over the secondary metrics, CUPED on CTR when the users have a pre-period, guardrails
// (latency p99 by a user bootstrap, zero-result rate, error rate), the SRM check over users, and the verdict (from the primary's always-valid interval,
// since the dashboard is looked at every day). Forced (QA) traffic is excluded and counted.
//
// Thread safety: the functions are pure given their inputs.
#ifndef MARKETSEARCH_EXPERIMENTS_EXPERIMENT_ANALYSIS_H_
#define MARKETSEARCH_EXPERIMENTS_EXPERIMENT_ANALYSIS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "datasets/catalog_reader.h"
#include "experiments/event_log.h"
#include "experiments/experiment_config.h"
#include "experiments/metrics.h"
#include "experiments/stats.h"

namespace marketsearch {

struct AnalysisOptions {
  double alpha = 0.05;
  // Guardrail margins: harm tolerated before the verdict is "no ship".
  double latency_p99_margin_ms = 5;
  double zero_result_margin = 0.01;
  double error_rate_margin = 0.005;
  int bootstrap_draws = 300;  // user bootstrap of the latency p99 difference
  uint64_t seed = 1;
  int timeline_points = 12;   // cumulative points for the dashboard's charts
};

// What the log says about one arm.
struct ArmSummary {
  std::string name;
  double weight = 0;
  int64_t users = 0, searches = 0, clicked_searches = 0, clicks = 0, purchases = 0;
  int64_t zero_result_searches = 0, judged_searches = 0;
  int64_t failed_searches = 0;  // the server failed them (not counted in `searches`)
  double ctr = 0, clicks_per_search = 0, purchases_per_search = 0, zero_result_rate = 0;
  double error_rate = 0;  // failed / (searches + failed)
  double ndcg10 = 0;  // online, over judged searches
  double latency_p50_ms = 0, latency_p99_ms = 0;
  bool below_planned = false;  // fewer users than the experiment's planned_users_per_arm
  // Clicks and purchases whose impression is not in the log (dropped by a full queue), known
  // to be this arm's from their attribution token. Counted apart: adding them to the metrics
  // without their searches (and without the dropped pages that drew no click) would bias CTR.
  int64_t token_only_events = 0;
};

// The primary metric in one segment of the searches (a breakdown), per arm.
struct SegmentRow {
  std::string dimension;  // query_kind, filters, buyer
  std::string value;      // e.g. misspelling; filtered / unfiltered; new / returning
  std::vector<int64_t> users, searches;  // per arm
  std::vector<double> primary;           // per arm
  std::vector<stats::Difference> vs_control;  // per arm ([0] unused), fixed 95% interval
};

// One metric of one arm against control.
struct MetricComparison {
  std::string metric;  // ctr, ndcg10, clicks_per_search, purchases_per_search, zero_result_rate,
                       // error_rate, latency_p99_ms
  std::string role;    // primary, secondary, guardrail
  stats::Difference fixed;       // fixed-horizon (1 - alpha) interval
  stats::Difference sequential;  // always-valid interval (same estimate)
  double sequential_p = 1;
  double holm_p = 1;  // secondaries: Holm-adjusted p; others: the fixed p
  bool significant = false;  // the interval the verdict reads excludes 0
  // CTR adjusted with the users' pre-period: the estimate and intervals are the adjusted
  // difference; control and treatment stay the arms' raw values.
  bool cuped = false;
  double cuped_variance_ratio = 1;
};

struct ArmComparison {
  std::string arm;
  std::vector<MetricComparison> metrics;
  stats::Verdict verdict = stats::Verdict::kInconclusive;
};

// A cumulative point of the timeline: per arm (in config order) users and the primary metric.
struct TimelinePoint {
  int64_t until_ms = 0;
  std::vector<int64_t> users;
  std::vector<double> primary;
  std::vector<double> delta_low, delta_high;  // treatment arms' always-valid CI (index 0 unused)
};

struct ExperimentReport {
  std::string layer, key, description, primary_metric;
  std::string type;  // "ab" or "interleaving"
  int64_t planned_users_per_arm = 0;
  int64_t start_unix_s = 0, stop_unix_s = 0;
  bool running = false;
  std::vector<ArmSummary> arms;  // [0] is the control
  stats::SrmResult srm;
  std::vector<ArmComparison> comparisons;  // one per treatment arm
  // The primary metric by query kind (the catalog's intent), filtered vs unfiltered searches,
  // and new vs returning buyers (searched before the start). Exploratory: not corrected for
  // the number of segments and not part of the verdict.
  std::vector<SegmentRow> breakdowns;
  int64_t forced_searches_excluded = 0;
  int64_t events_without_impression = 0;  // e.g. the impression was dropped
  int64_t n_tune = 0;  // the sequential interval's tuning sample (total users)
  std::vector<TimelinePoint> timeline;
  // Interleaving experiments: the first arm (A) against the second (B) on the interleaved
  // pages, per-query credit, users as the bootstrap unit; no-click searches left out.
  bool interleaving = false;
  int64_t interleaved_users = 0, interleaved_searches = 0;
  stats::InterleavingResult preference;
};

// What the catalog knows of a query text (the simulator and real buyers send the text): its
// judgments (null: not judged) and its kind (the generator's intent "kind", or "").
struct KnownQuery {
  const QueryJudgments* judgments = nullptr;
  std::string kind;
};
using JudgedQueries = absl::flat_hash_map<std::string, KnownQuery>;

// The queries of a catalog directory (queries.tsv, judgments.tsv), by text: what the online
// NDCG and the query-kind breakdown read. Owns the judgments `by_text` points into.
struct JudgedQueryIndex {
  JudgmentMap by_query;
  JudgedQueries by_text;
};
// NotFound / DataLoss as the catalog reader says; callers may go on without NDCG. With
// `max_judgment_bytes` > 0, a judgments.tsv larger than that is not read (the queries' kinds
// still are): at 1M listings the generator's file is 1.8 GB, half a minute and gigabytes of
// memory for a server to hold.
absl::StatusOr<std::unique_ptr<JudgedQueryIndex>> LoadJudgedQueries(const std::string& catalog_dir,
                                                                    int64_t max_judgment_bytes = 0);

// Reads `log` and reports every experiment of `set`. `judged` may be empty (no NDCG).
absl::StatusOr<std::vector<ExperimentReport>> AnalyzeExperiments(const EventLog& log,
                                                                 const ExperimentSet& set,
                                                                 const JudgedQueries& judged,
                                                                 int64_t now_unix_s,
                                                                 const AnalysisOptions& options);

// A pilot's estimate of `metric` ("ctr", "clicks_per_search", "purchases_per_search",
// "zero_result_rate" or "ndcg10" — without judged queries: none) over the log's searches
// in [since_ms, until_ms) (forced ones excluded), per user: value, users and the delta-method
// variance; variance * users is the per-user variance the power calculation needs
// (stats::PlannedUsersPerArm).
absl::StatusOr<stats::RatioEstimate> PilotEstimate(const EventLog& log, const std::string& metric,
                                                   int64_t since_ms, int64_t until_ms);

// A person's report of one experiment (what experiment_report prints).
std::string FormatReport(const ExperimentReport& report);
// All reports as JSON (the dashboard's API).
std::string ReportsToJson(const std::vector<ExperimentReport>& reports);

}  // namespace marketsearch

#endif  // MARKETSEARCH_EXPERIMENTS_EXPERIMENT_ANALYSIS_H_
