// ExperimentDashboard: the A/B experiment dashboard on the server's admin listener
// (AdminServer, loopback by default):
//   GET /experiments            the page: per experiment the arms table (users against the
//                               planned sample, metrics), the comparisons against control with
//                               interval bars, SRM status, guardrails and verdicts, and
//                               cumulative charts over time (Chart.js)
//   GET /experiments/api        the same numbers as JSON (experiments/experiment_analysis.h)
//   GET /experiments/chart.js   Chart.js, served from Debian's libjs-chart.js (no CDN)
// The report is computed from the server's own impression/event log on demand and cached for
// a few seconds (the listener serves operators, one request at a time).
//
// Thread safety: Respond() runs on the admin listener's thread; the log and the router are
// safe to read from it while requests write.
#ifndef MARKETSEARCH_SERVING_EXPERIMENT_DASHBOARD_H_
#define MARKETSEARCH_SERVING_EXPERIMENT_DASHBOARD_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "experiments/experiment_analysis.h"
#include "serving/admin_server.h"
#include "serving/experiment_router.h"

namespace marketsearch {

class ExperimentDashboard {
 public:
  struct Options {
    const EventLog* log = nullptr;            // not owned; null: every experiment shows no data
    const ExperimentRouter* router = nullptr;  // not owned; the experiments shown
    // The catalog directory (queries.tsv, judgments.tsv), read at the first report: the query
    // kinds of the breakdowns and, when judgments.tsv is at most max_judgment_bytes, the online
    // NDCG. Empty: neither.
    std::string catalog_dir;
    int64_t max_judgment_bytes = 200 << 20;
    std::string chart_js_path = "/usr/share/javascript/chart.js/chart.min.js";
    int cache_ms = 5000;
    AnalysisOptions analysis;
  };
  explicit ExperimentDashboard(const Options& options);

  // Answers a request under /experiments.
  AdminServer::Response Respond(const std::string& path);

  // The page itself (static: it renders what /experiments/api returns).
  static const char* PageHtml();

 private:
  std::string ReportJson();
  std::unique_ptr<JudgedQueryIndex> judged_ ABSL_GUARDED_BY(mu_);
  bool judged_loaded_ ABSL_GUARDED_BY(mu_) = false;

  const Options options_;
  std::string chart_js_;  // read once; empty when the file is missing
  absl::Mutex mu_;
  std::string cached_json_ ABSL_GUARDED_BY(mu_);
  int64_t cached_at_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_EXPERIMENT_DASHBOARD_H_
