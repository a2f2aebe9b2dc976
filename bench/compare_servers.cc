// compare_servers: two builds of the server on the same artifacts, queried interleaved by one
// client: whether they return the same top-k pages, and their single-client latency measured
// in the same run (A then B for even queries, B then A for odd ones, so neither always goes
// first). For refactors that must not change behaviour or speed.
//
// usage: compare_servers --a=127.0.0.1:PORT_A --b=127.0.0.1:PORT_B --queries_file=DATA/catalog/queries.tsv
//        [--split=test] [--page_size=10] [--rounds=3] [--show_differences=10]
// Prints the share of identical pages, the first differences, p50/p99 per server and their
// ratio, and BENCH lines (compare_identical_share, compare_{a,b}_{p50,p99}_ms,
// compare_p50_ratio_b_over_a, compare_p99_ratio_b_over_a).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "datasets/catalog_reader.h"
#include "proto/search.grpc.pb.h"

ABSL_FLAG(std::string, a, "", "server A (the baseline) host:port");
ABSL_FLAG(std::string, b, "", "server B (the candidate) host:port");
ABSL_FLAG(std::string, queries_file, "", "queries.tsv of the catalog both servers serve");
ABSL_FLAG(std::string, split, "test", "which queries (train | valid | test | all)");
ABSL_FLAG(int, page_size, 10, "results compared per query");
ABSL_FLAG(int, rounds, 3, "timed passes over the queries (after one untimed warm-up pass)");
ABSL_FLAG(int, show_differences, 10, "differing queries to print");

namespace marketsearch {
namespace {

using Clock = std::chrono::steady_clock;

struct Answer {
  bool ok = false;
  std::string error;
  std::vector<uint64_t> ids;
  double ms = 0;
};

Answer Ask(MarketSearch::Stub* stub, const std::string& query, int page_size) {
  SearchRequest req;
  req.set_query(query);
  req.set_page_size(page_size);
  SearchResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const auto t = Clock::now();
  grpc::Status s = stub->Search(&ctx, req, &resp);
  Answer a;
  a.ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  a.ok = s.ok();
  if (!s.ok()) a.error = s.error_message();
  for (const auto& r : resp.results()) a.ids.push_back(r.listing_id());
  return a;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

int Run() {
  const std::string a_target = absl::GetFlag(FLAGS_a), b_target = absl::GetFlag(FLAGS_b);
  if (a_target.empty() || b_target.empty() || absl::GetFlag(FLAGS_queries_file).empty()) {
    std::fprintf(stderr, "compare_servers: --a, --b and --queries_file are required\n");
    return 2;
  }
  auto all = ReadQueries(absl::GetFlag(FLAGS_queries_file));
  if (!all.ok()) {
    std::fprintf(stderr, "compare_servers: %s\n", std::string(all.status().message()).c_str());
    return 2;
  }
  std::vector<std::string> queries;
  for (const QueryRecord& q : *all) {
    if (absl::GetFlag(FLAGS_split) == "all" || q.split == absl::GetFlag(FLAGS_split)) {
      queries.push_back(q.text);
    }
  }
  if (queries.empty()) {
    std::fprintf(stderr, "compare_servers: no queries in split %s\n", absl::GetFlag(FLAGS_split).c_str());
    return 2;
  }
  auto a = MarketSearch::NewStub(grpc::CreateChannel(a_target, grpc::InsecureChannelCredentials()));
  auto b = MarketSearch::NewStub(grpc::CreateChannel(b_target, grpc::InsecureChannelCredentials()));
  const int page = absl::GetFlag(FLAGS_page_size);

  // Warm-up pass (caches, lazy model optimisation), which also compares the pages.
  int identical = 0, errors = 0, shown = 0;
  for (const std::string& q : queries) {
    const Answer x = Ask(a.get(), q, page), y = Ask(b.get(), q, page);
    if (!x.ok || !y.ok) {
      ++errors;
      std::printf("  error on '%s': A %s / B %s\n", q.c_str(), x.ok ? "ok" : x.error.c_str(),
                  y.ok ? "ok" : y.error.c_str());
      continue;
    }
    if (x.ids == y.ids) {
      ++identical;
    } else if (shown++ < absl::GetFlag(FLAGS_show_differences)) {
      std::printf("  differs: '%s'\n    A: %s\n    B: %s\n", q.c_str(), absl::StrJoin(x.ids, " ").c_str(),
                  absl::StrJoin(y.ids, " ").c_str());
    }
  }
  std::vector<double> a_ms, b_ms;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    for (size_t i = 0; i < queries.size(); ++i) {
      if (i % 2 == 0) {
        a_ms.push_back(Ask(a.get(), queries[i], page).ms);
        b_ms.push_back(Ask(b.get(), queries[i], page).ms);
      } else {
        b_ms.push_back(Ask(b.get(), queries[i], page).ms);
        a_ms.push_back(Ask(a.get(), queries[i], page).ms);
      }
    }
  }
  const double share = static_cast<double>(identical) / queries.size();
  const double a50 = Percentile(a_ms, 0.5), a99 = Percentile(a_ms, 0.99);
  const double b50 = Percentile(b_ms, 0.5), b99 = Percentile(b_ms, 0.99);
  std::printf("%zu queries (%s), page of %d: identical pages %d (%.4f), errors %d\n", queries.size(),
              absl::GetFlag(FLAGS_split).c_str(), page, identical, share, errors);
  std::printf("latency, one client, interleaved, %d rounds: A p50 %.2f / p99 %.2f ms; B p50 %.2f / p99 "
              "%.2f ms; B/A p50 %.3f, p99 %.3f\n",
              absl::GetFlag(FLAGS_rounds), a50, a99, b50, b99, b50 / a50, b99 / a99);
  std::printf("BENCH compare_identical_share %.4f\n", share);
  std::printf("BENCH compare_a_p50_ms %.3f\nBENCH compare_a_p99_ms %.3f\n", a50, a99);
  std::printf("BENCH compare_b_p50_ms %.3f\nBENCH compare_b_p99_ms %.3f\n", b50, b99);
  std::printf("BENCH compare_p50_ratio_b_over_a %.3f\nBENCH compare_p99_ratio_b_over_a %.3f\n", b50 / a50,
              b99 / a99);
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Compares two running servers on the same artifacts: identical top-k pages and interleaved "
      "single-client latency.\nUsage: compare_servers --a=HOST:PORT --b=HOST:PORT "
      "--queries_file=DATA/catalog/queries.tsv [--split=test]");
  absl::ParseCommandLine(argc, argv);
  return marketsearch::Run();
}
