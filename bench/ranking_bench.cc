// ranking_bench: what the deep ranker adds, measured through the serving path.
//
// Quality (NDCG@10, experiments/metrics.h, judged queries of --split) side by side:
//   BM25 order      Xapian hits in BM25 order (the lexical leg alone, depth 200)
//   two-tower order ANN hits in similarity order (the ANN leg alone, depth 200)
//   hybrid merge    both legs fused as the deployment serves them (what retrieval returns)
//   hybrid + ranker the first --candidates of the hybrid list, features assembled by
//                   FetchRankingBatch/AssembleRankingFeatures, scored by Ranker::Score in one
//                   batched forward, sorted by score
// All four come from the same GenerateCandidates(kHybrid) call per query: the legs' own
// orders are read from the candidates' per-source ranks (a leg's hits are exactly what that
// leg alone returns at the same depth).
//
// Latency on one thread (libtorch intra-op threads = 1) for 100/200/500 candidates of real
// test queries (ANN and BM25 depth 500 so every list is long enough): the feature fetch
// (MultiGet listings + counters, stored embeddings), the feature assembly and the forward.
// BENCH rank<N>_p99_ms is assembly + forward (the ranker stage; the fetch is the separate
// "feature MultiGet" stage of the request budget and is reported beside it).
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/proc_stat.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "experiments/metrics.h"
#include "features/feature_store.h"
#include "ranking/business_rules.h"
#include "ranking/ranker.h"
#include "ranking/ranking_features.h"
#include "index/listing_reader.h"
#include "bench/offline_eval.h"
#include "ranking/ranking_pipeline.h"
#include "retrieval/candidate_generator.h"
#include "retrieval/model_runner.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (store/, catalog/, index/, lexical/, models/)");
ABSL_FLAG(std::string, split, "test", "query split to evaluate");
ABSL_FLAG(std::string, model_dir, "", "ranker version directory (default: newest under models/ranker)");
ABSL_FLAG(int, candidates, 200, "candidates the ranker scores per query (as the server)");
ABSL_FLAG(int, latency_samples, 600, "timed requests per candidate count");
ABSL_FLAG(int, max_queries, 0, "evaluate at most this many queries (0 = all)");

namespace marketsearch {
namespace {

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * v.size()));
  return v[i];
}

// OpenBLAS's kernel choice for this CPU (diagnostic; "unknown" without OpenBLAS).
std::string BlasCore() {
  void* h = dlopen("libblas.so.3", RTLD_NOW | RTLD_NOLOAD);
  if (h == nullptr) return "unknown";
  using Fn = char* (*)();
  auto fn = reinterpret_cast<Fn>(dlsym(h, "openblas_get_corename"));
  std::string core = fn ? fn() : "unknown";
  dlclose(h);
  return core;
}

absl::Status Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const std::string split = absl::GetFlag(FLAGS_split);
  const int keep = absl::GetFlag(FLAGS_candidates);

  MS_ASSIGN_OR_RETURN(std::unique_ptr<OfflineEval> eval,
                      LoadOfflineEval(data_dir, split, absl::GetFlag(FLAGS_model_dir),
                                      absl::GetFlag(FLAGS_max_queries)));
  const int blas_libs = SetBlasThreads(1);  // one thread means one: see ranker.h
  const RetrievalArtifacts& art = eval->art;
  const Ranker* ranker = eval->ranker.get();
  const std::string& dir = eval->ranker_dir;
  const StoreListingReader& reader = *eval->reader;
  const CatalogStats& stats = eval->stats;
  const JudgmentMap& by_query = eval->by_query;
  const std::vector<const QueryRecord*>& qs = eval->split_queries;

  // ---- Quality.
  BusinessRulesOptions rules;
  rules.diversity_top_n = 10;
  rules.max_per_seller = 2;
  MeanMetric bm25, twotower, hybrid, ranked, ranked_rules, oracle;
  ListingTokenCache token_cache;  // as a server would keep one
  std::vector<double> serve_fetch, serve_assemble, serve_forward;
  const RetrievalOptions hybrid_opts = eval->retrieval;  // the server's: ANN 200 + BM25 200, its fusion
  for (const QueryRecord* q : qs) {
    const auto& judged = by_query.at(q->query_id);
    MS_ASSIGN_OR_RETURN(RetrievalResult rr, GenerateCandidates(art, q->text, hybrid_opts));
    bm25.Add(NdcgAtK(LegOrder(rr.candidates, false), judged, 10));
    twotower.Add(NdcgAtK(LegOrder(rr.candidates, true), judged, 10));
    std::vector<uint64_t> fused;
    for (const Candidate& c : rr.candidates) fused.push_back(c.listing_id);
    hybrid.Add(NdcgAtK(fused, judged, 10));

    MS_ASSIGN_OR_RETURN(RankingBatch b, FetchRankingBatch(reader, *art.index, stats, q->text, rr,
                                                          q->user_id, keep, &token_cache));
    auto t = std::chrono::steady_clock::now();
    MS_ASSIGN_OR_RETURN(std::vector<float> scores, ranker->Score(b.features));
    serve_forward.push_back(MsSince(t));
    serve_fetch.push_back(b.fetch_ms);
    serve_assemble.push_back(b.assemble_ms);
    const std::vector<uint64_t> ranked_ids = RankedOrder(b, scores);
    std::vector<RankedListing> items;
    for (size_t i = 0; i < b.candidates.size(); ++i) {
      items.push_back({b.candidates[i].listing_id, b.listings[i]->seller_id(),
                       b.listings[i]->listed_at_unix(), scores[i]});
    }
    ranked.Add(NdcgAtK(ranked_ids, judged, 10));
    std::vector<uint64_t> with_rules;
    for (const RankedListing& r : ApplyBusinessRules(items, rules, stats.reference_unix())) {
      with_rules.push_back(r.listing_id);
    }
    ranked_rules.Add(NdcgAtK(with_rules, judged, 10));
    // Oracle: the same candidates sorted by their labels.
    std::vector<std::pair<double, uint64_t>> by_gain;
    for (const Candidate& c : b.candidates) {
      auto it = judged.find(c.listing_id);
      by_gain.push_back({it == judged.end() ? 0.0 : -EsciGain(it->second), c.listing_id});
    }
    std::stable_sort(by_gain.begin(), by_gain.end(),
                     [](const auto& a, const auto& c) { return a.first < c.first; });
    std::vector<uint64_t> best;
    for (const auto& [g, id] : by_gain) best.push_back(id);
    oracle.Add(NdcgAtK(best, judged, 10));
  }

  // ---- Latency for fixed candidate counts, on long candidate lists of the same queries.
  const std::vector<int> sizes = {100, 200, 500};
  RetrievalOptions deep = eval->retrieval;
  deep.ann_depth = 500;
  deep.lexical_depth = 500;
  struct Req {
    const QueryRecord* q;
    RetrievalResult rr;
  };
  std::vector<Req> reqs;
  for (const QueryRecord* q : qs) {
    MS_ASSIGN_OR_RETURN(RetrievalResult rr, GenerateCandidates(art, q->text, deep));
    if (rr.candidates.size() < 500) continue;
    reqs.push_back({q, std::move(rr)});
  }
  if (reqs.empty()) return absl::FailedPreconditionError("no query has 500 candidates");
  struct Lat {
    std::vector<double> fetch, assemble, assemble_cold, forward, stage, stage_cold;
  };
  std::vector<Lat> lat(sizes.size());
  const int samples = absl::GetFlag(FLAGS_latency_samples);
  for (size_t s = 0; s < sizes.size(); ++s) {
    // One untimed pass per size warms the store's block cache and the TorchScript executor.
    // Every request is assembled twice: with the shared token cache (warm, like the server's
    // records with their prepared tokens) and without any cache (listings never tokenised).
    for (int pass = 0; pass < 2; ++pass) {
      const int n_req = pass == 0 ? std::min<int>(50, reqs.size()) : samples;
      for (int i = 0; i < n_req; ++i) {
        const Req& r = reqs[i % reqs.size()];
        MS_ASSIGN_OR_RETURN(RankingBatch cold,
                            FetchRankingBatch(reader, *art.index, stats, r.q->text, r.rr, r.q->user_id, sizes[s], nullptr));
        MS_ASSIGN_OR_RETURN(RankingBatch b,
                            FetchRankingBatch(reader, *art.index, stats, r.q->text, r.rr, r.q->user_id, sizes[s], &token_cache));
        auto t = std::chrono::steady_clock::now();
        MS_ASSIGN_OR_RETURN(std::vector<float> scores, ranker->Score(b.features));
        const double fwd = MsSince(t);
        if (pass == 0) continue;
        lat[s].fetch.push_back(b.fetch_ms);
        lat[s].assemble.push_back(b.assemble_ms);
        lat[s].assemble_cold.push_back(cold.assemble_ms);
        lat[s].forward.push_back(fwd);
        lat[s].stage.push_back(b.assemble_ms + fwd);
        lat[s].stage_cold.push_back(cold.assemble_ms + fwd);
      }
    }
  }

  // ---- Report.
  const double best_unranked = std::max({bm25.mean(), twotower.mean(), hybrid.mean()});
  std::printf("ranking_bench: %s split, %lld judged queries; index v%lld, ranker v%lld (%s)\n",
              split.c_str(), static_cast<long long>(bm25.n), static_cast<long long>(art.index->version()),
              static_cast<long long>(ranker->version()), dir.c_str());
  std::printf("one thread: libtorch intra-op 1, OpenBLAS threads 1 (%d libraries), OpenBLAS kernel %s\n",
              blas_libs, BlasCore().c_str());
  std::printf("machine load average at the end of the run: %s\n", LoadAverage().c_str());
  std::printf("\n%-44s %9s %10s\n", "order", "NDCG@10", "vs BM25");
  auto row = [&](const char* name, double v) {
    std::printf("%-44s %9.4f %+10.4f\n", name, v, v - bm25.mean());
  };
  row("BM25 (Xapian, lexical leg alone)", bm25.mean());
  row("two-tower (ANN leg alone)", twotower.mean());
  row("hybrid merge (served fusion)", hybrid.mean());
  row("hybrid + ranker", ranked.mean());
  std::printf("%-44s %9.4f %+10.4f   (info: <= 2 per seller in top 10)\n",
              "hybrid + ranker + seller-diversity rule", ranked_rules.mean(), ranked_rules.mean() - bm25.mean());
  std::printf("%-44s %9.4f %+10.4f   (info: ceiling for any ranker)\n",
              "oracle order of the ranker's candidates", oracle.mean(), oracle.mean() - bm25.mean());
  const double gain_best = ranked.mean() - best_unranked;
  const double gain_bm25 = ranked.mean() - bm25.mean();
  std::printf("\ngoal: ranker >= best unranked + 0.03   %+.4f  %s\n", gain_best, gain_best >= 0.03 ? "MET" : "NOT MET");
  std::printf("goal: pipeline >= BM25 + 0.10           %+.4f  %s\n", gain_bm25, gain_bm25 >= 0.10 ? "MET" : "NOT MET");

  std::printf("\nranking latency, one thread, ms (%d requests per size, %zu distinct queries)\n", samples,
              reqs.size());
  std::printf("%-10s %15s %15s %15s %15s %20s %20s\n", "candidates", "fetch", "assemble",
              "assemble cold", "forward", "rank = asm + fwd", "rank cold");
  std::printf("%-10s %15s %15s %15s %15s %20s %20s\n", "", "p50 / p99", "p50 / p99", "p50 / p99",
              "p50 / p99", "p50 / p99", "p50 / p99");
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::printf("%-10d %6.3f /%7.3f %6.3f /%7.3f %6.3f /%7.3f %6.3f /%7.3f %9.3f /%9.3f %9.3f /%9.3f\n",
                sizes[s], Pct(lat[s].fetch, 50), Pct(lat[s].fetch, 99), Pct(lat[s].assemble, 50),
                Pct(lat[s].assemble, 99), Pct(lat[s].assemble_cold, 50), Pct(lat[s].assemble_cold, 99),
                Pct(lat[s].forward, 50), Pct(lat[s].forward, 99), Pct(lat[s].stage, 50),
                Pct(lat[s].stage, 99), Pct(lat[s].stage_cold, 50), Pct(lat[s].stage_cold, 99));
  }
  std::printf("(fetch: MultiGet of listings + counters and the stored embeddings; assemble: all %d\n"
              " feature columns with the shared listing-token cache, %zu listings cached, hit rate\n"
              " %.2f; cold: without the cache; forward: Ranker::Score, one batched forward)\n",
              kRankingFeatureDim, token_cache.size(),
              token_cache.hits() / std::max(1.0, double(token_cache.hits() + token_cache.misses())));
  std::printf("(evaluation requests at %d candidates: fetch p99 %.3f, assemble p99 %.3f, forward p99 %.3f)\n",
              keep, Pct(serve_fetch, 99), Pct(serve_assemble, 99), Pct(serve_forward, 99));
  std::printf("goal: rank p99 < 3 ms at 200 candidates    %.3f  %s\n", Pct(lat[1].stage, 99),
              Pct(lat[1].stage, 99) < 3.0 ? "MET" : "NOT MET");
  auto metric = [&](const std::string& k) {
    auto it = ranker->manifest().metrics().find(k);
    return it == ranker->manifest().metrics().end() ? 0.0 : it->second;
  };
  std::printf("\nmodel: %.3f MFLOP per candidate (%.0f parameters), %.1f MFLOP for 200 candidates\n",
              ranker->mflops_per_candidate(), metric("parameters"), 200 * ranker->mflops_per_candidate());

  std::printf("\nBENCH ndcg10_bm25 %.4f\n", bm25.mean());
  std::printf("BENCH ndcg10_twotower %.4f\n", twotower.mean());
  std::printf("BENCH ndcg10_hybrid %.4f\n", hybrid.mean());
  std::printf("BENCH ndcg10_ranked %.4f\n", ranked.mean());
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::printf("BENCH rank%d_p99_ms %.3f\n", sizes[s], Pct(lat[s].stage, 99));
  }
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::printf("BENCH rank%d_forward_p99_ms %.3f\n", sizes[s], Pct(lat[s].forward, 99));
  }
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::printf("BENCH rank%d_cold_p99_ms %.3f\n", sizes[s], Pct(lat[s].stage_cold, 99));
  }
  std::printf("BENCH ranker_mflops_per_candidate %.4f\n", ranker->mflops_per_candidate());
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "NDCG@10 of BM25 / two-tower / hybrid / hybrid + ranker on a split, and ranking latency "
      "for 100/200/500 candidates on one thread.\n"
      "Usage: ranking_bench [--data_dir=var] [--split=test] [--model_dir=...]");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "ranking_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
