// experiment_overhead: what the experiment layer adds to a request, measured on its own
// (the request path's calls, in the order DoSearch makes them): assignment and options
// (ExperimentRouter::RouteRequest over a configuration of 2 layers and 3 experiments), the arms
// and the signed token in the response (Annotate), and the impression handed to the bounded
// queue (ImpressionQueue::Enqueue; the RocksDB write happens on the queue's thread). Prints
// p50/p99 per request and BENCH lines.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/percentile.h"
#include "experiments/event_log.h"
#include "experiments/impression_queue.h"
#include "serving/experiment_router.h"

ABSL_FLAG(int, requests, 100000, "requests to time");
ABSL_FLAG(std::string, work_dir, "", "scratch directory (config, log); default: one under the system's temporary directory");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace marketsearch;
  const std::string dir = absl::GetFlag(FLAGS_work_dir).empty()
                              ? (std::filesystem::temp_directory_path() / "experiment_overhead").string()
                              : absl::GetFlag(FLAGS_work_dir);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string config = dir + "/experiments.textproto";
  (void)WriteFileAtomically(config, R"pb(
    layers { name: "ranking" experiments { key: "ranker-vs-fused" range_begin: 0 range_end: 0.5
      arms { name: "fused" weight: 0.5 overrides { use_ranker: false } }
      arms { name: "ranker" weight: 0.5 overrides { use_ranker: true rank_depth: 150 } } }
      experiments { key: "fresh-boost" range_begin: 0.5 range_end: 1
      arms { name: "off" weight: 0.5 } arms { name: "on" weight: 0.5 overrides { fresh_boost: 0.5 } } } }
    layers { name: "retrieval" experiments { key: "fusion" range_begin: 0 range_end: 1
      arms { name: "c" weight: 0.34 } arms { name: "a" weight: 0.33 overrides { fusion_ann_weight: 0.5 } }
      arms { name: "b" weight: 0.33 overrides { min_candidates: 300 } } } })pb");
  ExperimentRouter::Options o;
  o.config_path = config;
  o.token_key = "0123456789abcdef0123456789abcdef";
  auto router = ExperimentRouter::Create(o);
  if (!router.ok() || !(*router)->Reload(1).ok()) {
    std::fprintf(stderr, "experiment_overhead: cannot load the configuration\n");
    return 2;
  }
  auto log = EventLog::Open(dir + "/logs");
  if (!log.ok()) return 2;
  ImpressionQueue queue(log->get(), 10000);
  SearchResponse page;
  page.set_request_id("0123456789abcdef");
  for (int i = 0; i < 10; ++i) {
    SearchResult* r = page.add_results();
    r->set_listing_id(1000 + i);
    r->set_title("a listing title of typical length for the page");
    r->set_score(1.0f / (i + 1));
  }
  Searcher::Options base;
  const int n = absl::GetFlag(FLAGS_requests);
  std::vector<double> total_us, route_us;
  total_us.reserve(n);
  route_us.reserve(n);
  int64_t enrolled = 0;
  for (int i = 0; i < n; ++i) {
    SearchRequest req;
    req.set_query("grey sofa");
    req.set_user_id(static_cast<uint64_t>(i) + 1);
    req.set_page_size(10);
    SearchResponse resp = page;
    const auto t0 = std::chrono::steady_clock::now();
    auto route = (*router)->RouteRequest(req, base, 2);
    const auto t1 = std::chrono::steady_clock::now();
    (*router)->Annotate(*route, &resp);
    queue.Enqueue(req, resp, 1000 + i, 5.0);
    const auto t2 = std::chrono::steady_clock::now();
    enrolled += !route->arms.empty();
    route_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    total_us.push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
    if (i % 5000 == 4999) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the writer drain
  }
  queue.Close();
  std::printf("experiment layer per request (%d requests, %lld enrolled, 2 layers / 3 experiments): "
              "assignment + options p50 %.1f us; + arms, token and impression enqueue p50 %.1f us, "
              "p99 %.1f us; %lld impressions written, %lld dropped\n",
              n, static_cast<long long>(enrolled), Percentile(route_us, 0.5), Percentile(total_us, 0.5),
              Percentile(total_us, 0.99), static_cast<long long>(queue.written()),
              static_cast<long long>(queue.dropped()));
  std::printf("BENCH experiment_assignment_p50_ms %.4f\n", Percentile(route_us, 0.5) / 1000);
  std::printf("BENCH experiment_layer_p50_ms %.4f\n", Percentile(total_us, 0.5) / 1000);
  std::printf("BENCH experiment_layer_p99_ms %.4f\n", Percentile(total_us, 0.99) / 1000);
  std::filesystem::remove_all(dir);
  return 0;
}
