// retrieval_bench: quality and speed of candidate generation on one data directory.
//  - Recall@100 (Exact, capped) and NDCG@10 on a split for: Xapian BM25 alone, two-tower
//    alone, and the hybrid merge (the fusion served on this data directory, fusion.textproto,
//    beside fixed references: RRF 0.7, RRF equal weights, a score blend),
//    also on the vocabulary-gap queries (no Exact listing's title shares a word with them),
//    and the served hybrid minus the better single leg, NDCG@10 with a paired-bootstrap CI;
//  - query-tower latency p50/p99 on one thread, listing-tower throughput on 2 threads.
// Everything runs through retrieval/candidate_generator.h, the code the server runs.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "experiments/metrics.h"
#include "experiments/stats.h"
#include "features/feature_store.h"
#include "features/text_normalizer.h"
#include "retrieval/candidate_generator.h"
#include "retrieval/fusion_config.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory with store/, models/, index/, lexical/");
ABSL_FLAG(std::string, split, "test", "queries to evaluate");
ABSL_FLAG(std::string, label, "", "label printed with the table (e.g. the dataset name)");
ABSL_FLAG(std::string, bench_prefix, "", "prefix of the BENCH names (empty for the main split)");
ABSL_FLAG(bool, speed, true, "also measure encoder latency and throughput");

namespace marketsearch {
namespace {

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

struct Arm {
  std::string name;
  RetrievalOptions options;
  MeanMetric ndcg, recall, gap_recall;
  std::vector<double> query_ndcg;  // per query, in evaluation order (paired across arms)
};

absl::Status Run() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  RetrievalArtifacts art;
  MS_ASSIGN_OR_RETURN(int64_t iv, ReadCurrent(dir + "/index"));
  MS_ASSIGN_OR_RETURN(auto index, IndexSnapshot::Load(VersionDir(dir + "/index", iv)));
  const std::string qdir = absl::StrCat(dir, "/models/query_tower/", index->manifest().listing_tower_version());
  MS_ASSIGN_OR_RETURN(QueryEncoder qe, QueryEncoder::Load(qdir));
  MS_ASSIGN_OR_RETURN(int64_t lv, ReadCurrent(dir + "/lexical"));
  MS_ASSIGN_OR_RETURN(auto lexical, LexicalIndex::Open(VersionDir(dir + "/lexical", lv)));
  art.query_encoder = std::make_shared<const QueryEncoder>(qe);
  art.index = index;
  art.lexical = std::shared_ptr<const LexicalIndex>(std::move(lexical));

  FeatureStore::Options so;
  so.path = dir + "/store";
  so.read_only = true;
  MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));
  MS_ASSIGN_OR_RETURN(auto queries, ReadQueries(dir + "/catalog/queries.tsv"));
  MS_ASSIGN_OR_RETURN(auto judgments, ReadJudgments(dir + "/catalog/judgments.tsv"));
  const JudgmentMap by_query = GroupJudgments(judgments);

  // Title tokens of every listing, for the vocabulary-gap test.
  absl::flat_hash_map<uint64_t, std::vector<std::string>> title_tokens;
  MS_RETURN_IF_ERROR(store->ScanListings([&](const Listing& l) {
    title_tokens[l.listing_id()] = Tokenize(NormalizeText(l.title()));
    return true;
  }));

  // arms[2] is what the server fuses with on this data directory (fusion.textproto, chosen on
  // the valid split by jobs/tune_fusion; else the built-in default); the others are fixed
  // references.
  std::string fusion_source;
  MS_ASSIGN_OR_RETURN(const FusionOptions served, LoadDeploymentFusion(dir, &fusion_source));
  std::vector<Arm> arms(6);
  arms[0].name = "BM25 (Xapian)";
  arms[0].options.mode = RetrievalMode::kLexicalOnly;
  arms[1].name = "two-tower (FAISS)";
  arms[1].options.mode = RetrievalMode::kAnnOnly;
  arms[2].name = "hybrid, served: " + DescribeFusion(served);
  arms[2].options.fusion = served;
  arms[3].name = "hybrid, RRF 0.7 (built-in)";
  arms[4].name = "hybrid, RRF equal weights";
  arms[4].options.fusion.ann_weight = 0.5;
  arms[5].name = "hybrid, score blend 0.7";
  arms[5].options.fusion.method = FusionMethod::kScoreBlend;
  for (Arm& a : arms) a.options.ann_depth = a.options.lexical_depth = 200;

  int n = 0, gap = 0;
  for (const QueryRecord& q : queries) {
    if (q.split != absl::GetFlag(FLAGS_split)) continue;
    auto it = by_query.find(q.query_id);
    if (it == by_query.end()) continue;
    const auto qtok = Tokenize(NormalizeText(q.text));
    const absl::flat_hash_set<std::string> qset(qtok.begin(), qtok.end());
    bool shares = false, any_exact = false;
    for (const auto& [lid, label] : it->second) {
      if (label != Esci::kExact) continue;
      any_exact = true;
      for (const auto& t : title_tokens[lid]) shares |= qset.contains(t);
    }
    const bool is_gap = any_exact && !shares;
    gap += is_gap;
    ++n;
    for (Arm& a : arms) {
      MS_ASSIGN_OR_RETURN(RetrievalResult r, GenerateCandidates(art, q.text, a.options));
      std::vector<uint64_t> ranked;
      for (const Candidate& c : r.candidates) ranked.push_back(c.listing_id);
      a.ndcg.Add(NdcgAtK(ranked, it->second, 10));
      a.query_ndcg.push_back(NdcgAtK(ranked, it->second, 10));
      const double rec = ExactRecallAtK(ranked, it->second, 100);
      if (rec >= 0) {
        a.recall.Add(rec);
        if (is_gap) a.gap_recall.Add(rec);
      }
    }
  }
  const std::string label = absl::GetFlag(FLAGS_label);
  std::printf("retrieval quality, %s split: %d queries (%d vocabulary-gap)%s%s; served fusion from %s\n",
              absl::GetFlag(FLAGS_split).c_str(), n, gap, label.empty() ? "" : ", ", label.c_str(),
              fusion_source.c_str());
  std::printf("  %-44s %12s %9s %19s\n", "retriever", "R@100 capped", "NDCG@10", "R@100 capped (gap)");
  for (const Arm& a : arms) {
    std::printf("  %-44s %12.4f %9.4f %19.4f\n", a.name.c_str(), a.recall.mean(), a.ndcg.mean(),
                a.gap_recall.mean());
  }
  std::printf("  hybrid (served) - BM25 Recall@100: %+.4f\n", arms[2].recall.mean() - arms[0].recall.mean());
  // Is the served hybrid at least as good as its better leg on these queries? Per-query paired
  // differences, percentile bootstrap over queries (fixed seed).
  const Arm& best_leg = arms[0].ndcg.mean() >= arms[1].ndcg.mean() ? arms[0] : arms[1];
  std::vector<double> diff(arms[2].query_ndcg.size());
  for (size_t i = 0; i < diff.size(); ++i) diff[i] = arms[2].query_ndcg[i] - best_leg.query_ndcg[i];
  const stats::MeanInterval d = stats::BootstrapMeanInterval(diff, 0.05, 2000, 2026);
  std::printf("  hybrid (served) - best single leg (%s) NDCG@10: %+.4f, 95%% CI [%+.4f, %+.4f] "
              "(paired bootstrap over %zu queries)\n",
              best_leg.name.c_str(), d.mean, d.low, d.high, diff.size());
  const std::string p = absl::GetFlag(FLAGS_bench_prefix);
  std::printf("BENCH %srecall100_bm25 %.4f\nBENCH %srecall100_twotower %.4f\nBENCH %srecall100_hybrid %.4f\n",
              p.c_str(), arms[0].recall.mean(), p.c_str(), arms[1].recall.mean(), p.c_str(), arms[2].recall.mean());
  std::printf("BENCH %sndcg10_bm25 %.4f\nBENCH %sndcg10_twotower %.4f\nBENCH %sndcg10_hybrid %.4f\n",
              p.c_str(), arms[0].ndcg.mean(), p.c_str(), arms[1].ndcg.mean(), p.c_str(), arms[2].ndcg.mean());
  std::printf("BENCH %srecall100_gap_bm25 %.4f\nBENCH %srecall100_gap_twotower %.4f\n", p.c_str(),
              arms[0].gap_recall.mean(), p.c_str(), arms[1].gap_recall.mean());
  std::printf("BENCH %shybrid_minus_best_leg %.4f\nBENCH %shybrid_minus_best_leg_lo %.4f\n", p.c_str(),
              d.mean, p.c_str(), d.low);
  if (!absl::GetFlag(FLAGS_speed)) return absl::OkStatus();

  // Query tower latency, one thread (ModelRunner's default intra-op setting).
  std::vector<double> ms;
  std::vector<std::string> texts;
  for (const auto& q : queries) texts.push_back(q.text);
  for (size_t i = 0; i < std::min<size_t>(3000, texts.size()); ++i) {
    auto t0 = std::chrono::steady_clock::now();
    MS_ASSIGN_OR_RETURN(FloatMatrix e, qe.Encode(absl::MakeConstSpan(&texts[i], 1)));
    (void)e;
    if (i >= 20) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  // Listing tower throughput, 2 threads, batches of 1024 (as build_index runs it).
  const std::string ldir = absl::StrCat(dir, "/models/listing_tower/", index->manifest().listing_tower_version());
  ModelRunner::Options runtime;
  runtime.intra_op_threads = 2;
  MS_ASSIGN_OR_RETURN(ListingEncoder le, ListingEncoder::Load(ldir, runtime));
  MS_ASSIGN_OR_RETURN(CatalogStats stats, store->GetCatalogStats());
  std::vector<Listing> batch;
  int64_t encoded = 0;
  double enc_s = 0;
  absl::Status st;
  MS_RETURN_IF_ERROR(store->ScanListings([&](const Listing& l) {
    batch.push_back(l);
    if (batch.size() == 1024) {
      auto t0 = std::chrono::steady_clock::now();
      auto e = le.Encode(batch, stats);
      enc_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!e.ok()) st = e.status();
      encoded += static_cast<int64_t>(batch.size());
      batch.clear();
    }
    return st.ok() && encoded < 200000;
  }));
  MS_RETURN_IF_ERROR(st);
  std::printf("encoders\n  query tower, 1 thread     p50 %.3f ms  p99 %.3f ms (%zu queries)\n", Pct(ms, 0.5),
              Pct(ms, 0.99), ms.size());
  std::printf("  listing tower, 2 threads  %.0f listings/s (%lld listings, batches of 1024)\n",
              encoded / std::max(1e-9, enc_s), static_cast<long long>(encoded));
  std::printf("BENCH query_encode_p50_ms %.4f\nBENCH query_encode_p99_ms %.4f\nBENCH listing_encode_per_s %.0f\n",
              Pct(ms, 0.5), Pct(ms, 0.99), encoded / std::max(1e-9, enc_s));
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Retrieval quality (BM25 / two-tower / hybrid) and encoder speed on a data dir.");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "retrieval_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
