// evaluate_search: replays the judged queries of one split against a running server over
// gRPC and reports NDCG@10 and Recall@100 of Exact listings (experiments/metrics.h: capped and
// plain), plus
// request latency as seen by the client.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "common/timing.h"
#include "datasets/catalog_reader.h"
#include "experiments/metrics.h"
#include "proto/esci.h"
#include "proto/search.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:8500", "server address");
ABSL_FLAG(std::string, data_dir, "var", "data directory (catalog/queries.tsv, judgments.tsv)");
ABSL_FLAG(std::string, split, "test", "which queries to replay: train, valid or test");
ABSL_FLAG(int, max_queries, 0, "replay at most this many (0 = all)");
ABSL_FLAG(bool, bench_lines, false, "also print machine-readable BENCH lines");
ABSL_FLAG(bool, filter_category_of_exact, false,
          "ask each query with a category filter: the category most of its Exact listings are in "
          "(catalog/listings.tsv), as a buyer who narrows the search to what they want would; "
          "measures retrieval under a filter (BENCH names get a filtered_ prefix)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Replays judged queries against a running server and prints NDCG@10 and Recall@100.\n"
      "Usage: evaluate_search [--target=127.0.0.1:8500] [--data_dir=var] [--split=test]");
  absl::ParseCommandLine(argc, argv);
  using namespace marketsearch;
  const std::string dir = absl::GetFlag(FLAGS_data_dir) + "/catalog";
  auto queries = ReadQueries(dir + "/queries.tsv");
  auto judgments = ReadJudgments(dir + "/judgments.tsv");
  if (!queries.ok() || !judgments.ok()) {
    std::fprintf(stderr, "evaluate_search: %s\n",
                 std::string((queries.ok() ? judgments.status() : queries.status()).message()).c_str());
    return 2;
  }
  const JudgmentMap by_query = GroupJudgments(*judgments);
  // With --filter_category_of_exact: the category of every listing judged Exact for a query of
  // the split.
  const bool filtered = absl::GetFlag(FLAGS_filter_category_of_exact);
  absl::flat_hash_map<uint64_t, std::string> category_of;
  if (filtered) {
    for (const QueryRecord& q : *queries) {
      if (q.split != absl::GetFlag(FLAGS_split)) continue;
      auto it = by_query.find(q.query_id);
      if (it == by_query.end()) continue;
      for (const auto& [id, label] : it->second) {
        if (label == Esci::kExact) category_of[id];
      }
    }
    auto rows = ReadTsv(dir + "/listings.tsv", {"listing_id", "category"});
    if (!rows.ok()) {
      std::fprintf(stderr, "evaluate_search: %s\n", std::string(rows.status().message()).c_str());
      return 2;
    }
    for (const TsvRow& r : *rows) {
      uint64_t id = 0;
      if (!absl::SimpleAtoi(r[0], &id)) continue;
      if (auto c = category_of.find(id); c != category_of.end()) c->second = r[1];
    }
  }
  auto stub = MarketSearch::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials()));

  MeanMetric ndcg, recall, recall_plain;
  std::vector<double> latency_ms;
  int errors = 0;
  int64_t versions_index = 0;
  for (const QueryRecord& q : *queries) {
    if (q.split != absl::GetFlag(FLAGS_split)) continue;
    auto it = by_query.find(q.query_id);
    if (it == by_query.end()) continue;
    if (absl::GetFlag(FLAGS_max_queries) > 0 && ndcg.n >= absl::GetFlag(FLAGS_max_queries)) break;
    SearchRequest req;
    req.set_query(q.text);
    if (filtered) {
      absl::flat_hash_map<std::string, int> votes;
      for (const auto& [id, label] : it->second) {
        auto c = category_of.find(id);
        if (label == Esci::kExact && c != category_of.end() && !c->second.empty()) ++votes[c->second];
      }
      std::string best;
      int best_votes = 0;
      for (const auto& [c, v] : votes) {
        if (v > best_votes || (v == best_votes && c < best)) best = c, best_votes = v;
      }
      if (best.empty()) continue;  // no Exact listing: nothing to filter to
      req.mutable_filters()->add_categories(best);
    }
    req.set_page_size(100);
    req.set_user_id(q.user_id);
    SearchResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto t0 = std::chrono::steady_clock::now();
    grpc::Status s = stub->Search(&ctx, req, &resp);
    latency_ms.push_back(
        MsSince(t0));
    if (!s.ok()) {
      if (++errors <= 5) {
        std::fprintf(stderr, "query %llu \"%s\": %s\n", static_cast<unsigned long long>(q.query_id),
                     q.text.c_str(), s.error_message().c_str());
      }
      continue;
    }
    versions_index = resp.versions().index();
    std::vector<uint64_t> ranked;
    for (const auto& r : resp.results()) ranked.push_back(r.listing_id());
    ndcg.Add(NdcgAtK(ranked, it->second, 10));
    const double rec = ExactRecallAtK(ranked, it->second, 100);
    if (rec >= 0) recall.Add(rec);
    const double plain = ExactRecallAtKUncapped(ranked, it->second, 100);
    if (plain >= 0) recall_plain.Add(plain);
  }
  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double p) {
    return latency_ms.empty() ? 0.0 : latency_ms[std::min(latency_ms.size() - 1, static_cast<size_t>(p * latency_ms.size()))];
  };
  std::printf("evaluation over %lld %s queries (index v%lld)%s\n", static_cast<long long>(ndcg.n),
              absl::GetFlag(FLAGS_split).c_str(), static_cast<long long>(versions_index),
              filtered ? ", each filtered to the category of its Exact listings" : "");
  std::printf("  NDCG@10        %.4f\n", ndcg.mean());
  std::printf("  Recall@100     %.4f  capped: |top-100 ∩ Exact| / min(|Exact|, 100)\n", recall.mean());
  std::printf("                 %.4f  plain:  |top-100 ∩ Exact| / |Exact|\n", recall_plain.mean());
  std::printf("  latency        p50 %.2f ms  p99 %.2f ms  (client side, page of 100)\n", pct(0.5), pct(0.99));
  std::printf("  errors         %d\n", errors);
  if (absl::GetFlag(FLAGS_bench_lines)) {
    const char* prefix = filtered ? "filtered_" : "";
    std::printf("BENCH %se2e_ndcg10 %.4f\nBENCH %se2e_recall100 %.4f\nBENCH %se2e_recall100_plain %.4f\n"
                "BENCH %se2e_search_p99_ms %.3f\n",
                prefix, ndcg.mean(), prefix, recall.mean(), prefix, recall_plain.mean(), prefix, pct(0.99));
  }
  return errors == 0 && ndcg.n > 0 ? 0 : 1;
}
