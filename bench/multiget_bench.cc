// multiget_bench: latency of fetching the features of a candidate list from the RocksDB
// feature store — batched MultiGet of N random listings vs N sequential Gets of the same
// keys (the baseline, measured in the same run). Cold = first pass after opening the store
// with an empty block cache; warm = later passes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "features/feature_store.h"

ABSL_FLAG(std::string, store, "var/store", "feature store directory");
ABSL_FLAG(int, batch, 200, "listings per request");
ABSL_FLAG(int, requests, 2000, "timed requests per phase");
ABSL_FLAG(int64_t, cache_mb, 512, "block cache size");

namespace {

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Times MultiGet of a candidate list from the feature store.");
  absl::ParseCommandLine(argc, argv);
  using namespace marketsearch;
  FeatureStore::Options o;
  o.path = absl::GetFlag(FLAGS_store);
  o.read_only = true;
  o.block_cache_mb = absl::GetFlag(FLAGS_cache_mb);
  auto store = FeatureStore::Open(o);
  if (!store.ok()) {
    std::fprintf(stderr, "multiget_bench: %s\n", std::string(store.status().message()).c_str());
    return 2;
  }
  // The id list comes from a scan that does not fill the block cache (fill_cache = false).
  std::vector<uint64_t> ids;
  (*store)->ScanListings([&](const Listing& l) {
    ids.push_back(l.listing_id());
    return true;
  });
  if (ids.empty()) return 2;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<size_t> pick(0, ids.size() - 1);
  const int batch = absl::GetFlag(FLAGS_batch);
  auto request = [&] {
    std::vector<uint64_t> keys(batch);
    for (auto& k : keys) k = ids[pick(rng)];
    return keys;
  };
  auto time_multiget = [&](int n) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto keys = request();
      auto t0 = std::chrono::steady_clock::now();
      auto got = (*store)->GetListings(keys);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (!got.ok()) std::abort();
    }
    return ms;
  };
  auto time_sequential = [&](int n) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto keys = request();
      auto t0 = std::chrono::steady_clock::now();
      for (uint64_t k : keys) {
        auto got = (*store)->GetListings(absl::MakeConstSpan(&k, 1));
        if (!got.ok()) std::abort();
      }
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    return ms;
  };
  const int n = absl::GetFlag(FLAGS_requests);
  auto cold = time_multiget(std::max(1, n / 10));
  // Warm the cache over the whole key space, then measure.
  for (size_t i = 0; i < ids.size(); i += batch) {
    std::vector<uint64_t> keys(ids.begin() + i, ids.begin() + std::min(ids.size(), i + batch));
    (void)(*store)->GetListings(keys);
  }
  auto warm = time_multiget(n);
  auto seq = time_sequential(n / 4);
  std::printf("feature fetch, %d random listings of %zu, %s\n", batch, ids.size(), o.path.c_str());
  std::printf("  %-28s p50 %7.3f ms  p99 %7.3f ms\n", "MultiGet, cold cache", Pct(cold, 0.5), Pct(cold, 0.99));
  std::printf("  %-28s p50 %7.3f ms  p99 %7.3f ms\n", "MultiGet, warm cache", Pct(warm, 0.5), Pct(warm, 0.99));
  std::printf("  %-28s p50 %7.3f ms  p99 %7.3f ms\n", "sequential Get (baseline)", Pct(seq, 0.5), Pct(seq, 0.99));
  std::printf("  MultiGet speed-up over sequential Gets (p50): %.2fx\n", Pct(seq, 0.5) / Pct(warm, 0.5));
  std::printf("BENCH multiget%d_p50_ms %.4f\nBENCH multiget%d_p99_ms %.4f\n", batch, Pct(warm, 0.5), batch, Pct(warm, 0.99));
  std::printf("BENCH multiget%d_cold_p50_ms %.4f\nBENCH multiget%d_cold_p99_ms %.4f\n", batch, Pct(cold, 0.5), batch, Pct(cold, 0.99));
  std::printf("BENCH multiget_vs_sequential_speedup %.3f\n", Pct(seq, 0.5) / Pct(warm, 0.5));
  return 0;
}
