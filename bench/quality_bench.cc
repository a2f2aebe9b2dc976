// quality_bench: search quality where buyers are messy, on a data directory's judged queries.
//
//   1. NDCG@10 of the ranked pipeline (GenerateCandidates → FetchRankingBatch → Ranker::Score,
//      as ranking_bench and the server) per query kind of the generator (plain, noisy,
//      synonym, misspelled, ...; "kind" of the query's intent), and Recall@100 of Exact
//      listings in both definitions: capped (|top-100 ∩ Exact| / min(|Exact|, 100)) and plain
//      (/ |Exact|).
//   2. The same queries with one typo of each kind (datasets/query_typos.h, fixed seed) in
//      their longest word, judgments kept: NDCG@10 of each leg alone, of the fused order and
//      of the ranked order, and how many of the Exact listings each leg still retrieves
//      (capped Recall@200 of the leg's own list). The drop is measured on the queries the typo
//      changed (those with an alphabetic word of 4+ letters) against the same queries clean,
//      so it says where a typo loses listings: the lexical leg, the two-tower leg, or the
//      ranker demoting what was retrieved.
// BENCH lines: ndcg10_ranked (clean, every query), per kind ndcg10_ranked_typo_<kind> and
// ndcg10_typo_drop_<kind>, and ndcg10_ranked_typo (mean over kinds) / ndcg10_typo_drop (the
// largest drop of any kind).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/proc_stat.h"
#include "common/status_macros.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "datasets/query_typos.h"
#include "experiments/metrics.h"
#include "features/feature_store.h"
#include "index/listing_reader.h"
#include "ranking/ranker.h"
#include "ranking/ranking_features.h"
#include "bench/offline_eval.h"
#include "ranking/ranking_pipeline.h"
#include "retrieval/candidate_generator.h"
#include "retrieval/model_runner.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (store/, catalog/, index/, lexical/, models/)");
ABSL_FLAG(std::string, split, "test", "query split to evaluate");
ABSL_FLAG(std::string, model_dir, "", "ranker version directory (default: newest under models/ranker)");
ABSL_FLAG(int, candidates, 200, "candidates the ranker scores per query (as the server)");
ABSL_FLAG(int, max_queries, 0, "evaluate at most this many queries (0 = all)");
ABSL_FLAG(std::string, typo_kinds, "swap,deletion,doubling,keyboard,insertion",
          "typo kinds to evaluate (datasets/query_typos.h), comma-separated; empty = none");
ABSL_FLAG(uint64_t, typo_seed, 2026, "seed of the typo'd copies (fixed: the same set every run)");
ABSL_FLAG(std::string, typo_examples_out, "",
          "if set: write up to 5 lines 'clean<TAB>typo'd<TAB>kind' of typo'd queries the pipeline "
          "answers as well as the clean ones (ranked NDCG@10 >= 0.9 and >= clean), for the demo");
ABSL_FLAG(std::string, bench_prefix, "",
          "prefix of the BENCH names (not of no_match_*, which only a catalog with held-out "
          "product types prints), for a second data directory in the same make bench");
ABSL_FLAG(int, show_worst, 0,
          "per typo kind, print this many queries whose ranked NDCG@10 the typo cost most, with "
          "each leg's NDCG@10 clean -> typo'd and how the lexical index shaped the typo'd query");

namespace marketsearch {
namespace {

// One query's figures through the pipeline.
struct QueryScores {
  double bm25 = 0, twotower = 0, hybrid = 0, ranked = 0;  // NDCG@10
  // Capped Recall@200 of Exact listings in each leg's own list and in the fused candidates;
  // -1 when the query has no Exact listing.
  double bm25_recall = -1, ann_recall = -1, fused_recall = -1;
  // Recall@100 of Exact listings of the ranked order, capped and plain.
  double recall100_capped = -1, recall100_plain = -1;
  // With a calibrated ranker: (P(Exact), is Exact) of the top 10 ranked results, and the best
  // probability over all ranked candidates (what the server's no_good_match compares).
  std::vector<std::pair<float, bool>> top10;
  float best_probability = -1;
  bool has_exact = false;  // the catalog has an Exact listing for the query (all are judged)
};

struct Pipeline {
  const RetrievalArtifacts* art;
  const RetrievalOptions* retrieval;
  const ListingReader* reader;
  const CatalogStats* stats;
  const Ranker* ranker;
  int keep;
  ListingTokenCache* token_cache;

  absl::StatusOr<QueryScores> Score(const std::string& text, uint64_t user_id,
                                    const QueryJudgments& judged) const {
    QueryScores s;
    MS_ASSIGN_OR_RETURN(RetrievalResult rr, GenerateCandidates(*art, text, *retrieval));
    const std::vector<uint64_t> bm25 = LegOrder(rr.candidates, false);
    const std::vector<uint64_t> ann = LegOrder(rr.candidates, true);
    std::vector<uint64_t> fused;
    for (const Candidate& c : rr.candidates) fused.push_back(c.listing_id);
    s.bm25 = NdcgAtK(bm25, judged, 10);
    s.twotower = NdcgAtK(ann, judged, 10);
    s.hybrid = NdcgAtK(fused, judged, 10);
    s.bm25_recall = ExactRecallAtK(bm25, judged, 200);
    s.ann_recall = ExactRecallAtK(ann, judged, 200);
    s.fused_recall = ExactRecallAtK(fused, judged, 400);
    MS_ASSIGN_OR_RETURN(RankingBatch b,
                        FetchRankingBatch(*reader, *art->index, *stats, text, rr, user_id, keep, token_cache));
    MS_ASSIGN_OR_RETURN(std::vector<float> scores, ranker->Score(b.features));
    // The top 100 is within the ranked candidates (--candidates, 200 as the server).
    const std::vector<uint64_t> ranked = RankedOrder(b, scores);
    s.ranked = NdcgAtK(ranked, judged, 10);
    s.recall100_capped = ExactRecallAtK(ranked, judged, 100);
    s.recall100_plain = ExactRecallAtKUncapped(ranked, judged, 100);
    for (const auto& [id, label] : judged) s.has_exact |= label == Esci::kExact;
    if (const RelevanceCalibration* c = ranker->calibration(); c != nullptr) {
      absl::flat_hash_map<uint64_t, float> prob;
      for (size_t j = 0; j < b.candidates.size(); ++j) {
        const float p = c->Probability(scores[j]);
        prob[b.candidates[j].listing_id] = p;
        s.best_probability = std::max(s.best_probability, p);
      }
      for (size_t r = 0; r < ranked.size() && r < 10; ++r) {
        auto it = judged.find(ranked[r]);
        s.top10.emplace_back(prob.at(ranked[r]), it != judged.end() && it->second == Esci::kExact);
      }
    }
    return s;
  }
};

// Means of QueryScores (recalls over the queries that have Exact listings).
struct Means {
  MeanMetric bm25, twotower, hybrid, ranked, bm25_recall, ann_recall, fused_recall, capped, plain;
  void Add(const QueryScores& s) {
    bm25.Add(s.bm25);
    twotower.Add(s.twotower);
    hybrid.Add(s.hybrid);
    ranked.Add(s.ranked);
    if (s.bm25_recall >= 0) bm25_recall.Add(s.bm25_recall);
    if (s.ann_recall >= 0) ann_recall.Add(s.ann_recall);
    if (s.fused_recall >= 0) fused_recall.Add(s.fused_recall);
    if (s.recall100_capped >= 0) capped.Add(s.recall100_capped);
    if (s.recall100_plain >= 0) plain.Add(s.recall100_plain);
  }
};

// The relevance calibration on the top 10 of each query (`rows`: P(Exact), is Exact): a
// reliability table (10 equal-width bins) and the expected calibration error it sums to.
double PrintReliability(const std::vector<std::pair<float, bool>>& rows) {
  constexpr int kBins = 10;
  double n[kBins] = {}, predicted[kBins] = {}, observed[kBins] = {};
  for (const auto& [p, exact] : rows) {
    const int b = std::min(kBins - 1, static_cast<int>(p * kBins));
    n[b] += 1;
    predicted[b] += p;
    observed[b] += exact;
  }
  double ece = 0;
  std::printf("  %-11s %7s %10s %9s\n", "P(Exact)", "results", "predicted", "observed");
  for (int b = 0; b < kBins; ++b) {
    if (n[b] == 0) continue;
    std::printf("  [%.1f, %.1f%c %7.0f %10.3f %9.3f\n", b / 10.0, (b + 1) / 10.0, b == kBins - 1 ? ']' : ')',
                n[b], predicted[b] / n[b], observed[b] / n[b]);
    ece += n[b] / rows.size() * std::abs(predicted[b] / n[b] - observed[b] / n[b]);
  }
  return ece;
}

void PrintRow(const std::string& name, const Means& m) {
  std::printf("%-22s %6lld %8.4f %8.4f %8.4f %8.4f %9.4f %9.4f %9.4f\n", name.c_str(),
              static_cast<long long>(m.ranked.n), m.bm25.mean(), m.twotower.mean(),
              m.hybrid.mean(), m.ranked.mean(), m.bm25_recall.mean(), m.ann_recall.mean(),
              m.fused_recall.mean());
}

void PrintHeader(const char* first) {
  std::printf("%-22s %6s %8s %8s %8s %8s %9s %9s %9s\n", first, "n", "BM25", "2-tower", "hybrid",
              "ranked", "R@200 lex", "R@200 ann", "R fused");
}

absl::Status Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const std::string split = absl::GetFlag(FLAGS_split);
  std::vector<TypoKind> kinds;
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_typo_kinds), ',', absl::SkipEmpty())) {
    MS_ASSIGN_OR_RETURN(TypoKind k, ParseTypoKind(name));
    kinds.push_back(k);
  }
  MS_ASSIGN_OR_RETURN(std::unique_ptr<OfflineEval> eval,
                      LoadOfflineEval(data_dir, split, absl::GetFlag(FLAGS_model_dir),
                                      absl::GetFlag(FLAGS_max_queries)));
  SetBlasThreads(1);  // one thread, as a serving worker
  const RetrievalArtifacts& art = eval->art;
  const Ranker* ranker = eval->ranker.get();
  const JudgmentMap& by_query = eval->by_query;
  const std::vector<const QueryRecord*>& qs = eval->split_queries;
  ListingTokenCache token_cache;
  const Pipeline pipeline{&art, &eval->retrieval, eval->reader.get(), &eval->stats, ranker,
                          absl::GetFlag(FLAGS_candidates), &token_cache};

  // Clean queries, overall and per query kind.
  Means all;
  std::map<std::string, Means> by_kind;
  std::vector<QueryScores> clean(qs.size());
  for (size_t i = 0; i < qs.size(); ++i) {
    const QueryRecord& q = *qs[i];
    MS_ASSIGN_OR_RETURN(clean[i], pipeline.Score(q.text, q.user_id, by_query.at(q.query_id)));
    all.Add(clean[i]);
    std::string kind = IntentValue(q.intent, "kind");
    by_kind[kind.empty() ? "(none)" : kind].Add(clean[i]);
  }
  std::printf("quality_bench: %s split, %zu judged queries; index v%lld, ranker v%lld; load "
              "average %s\n\n",
              split.c_str(), qs.size(), static_cast<long long>(art.index->version()),
              static_cast<long long>(ranker->version()), LoadAverage().c_str());
  std::printf("NDCG@10 by query kind (the generator's; a query may be of several, joined by +),\n"
              "and capped Recall@200 of Exact listings in each leg's list / in the fused list\n");
  PrintHeader("query kind");
  PrintRow("all", all);
  for (const auto& [kind, m] : by_kind) PrintRow(kind, m);
  std::printf("\nRecall@100 of Exact listings in the ranked list: capped %.4f "
              "(|top-100 ∩ Exact| / min(|Exact|, 100)), plain %.4f (/ |Exact|)\n",
              all.capped.mean(), all.plain.mean());

  // Typo'd copies, per kind: the changed queries, clean and typo'd.
  struct KindResult {
    TypoKind kind;
    Means clean, typo;
    // (ranked NDCG@10 lost, query index, typo'd text, its scores) for --show_worst.
    std::vector<std::tuple<double, size_t, std::string, QueryScores>> losses;
  };
  std::vector<KindResult> results;
  std::vector<std::pair<std::string, std::string>> examples;
  std::vector<std::string> answered_well;  // --typo_examples_out
  for (TypoKind kind : kinds) {
    KindResult r{kind, {}, {}};
    for (size_t i = 0; i < qs.size(); ++i) {
      const QueryRecord& q = *qs[i];
      bool changed = false;
      const std::string typo = WithTypo(q.text, kind, absl::GetFlag(FLAGS_typo_seed), &changed);
      if (!changed) continue;
      MS_ASSIGN_OR_RETURN(QueryScores s, pipeline.Score(typo, q.user_id, by_query.at(q.query_id)));
      r.clean.Add(clean[i]);
      r.typo.Add(s);
      if (absl::GetFlag(FLAGS_show_worst) > 0) r.losses.emplace_back(clean[i].ranked - s.ranked, i, typo, s);
      if (s.ranked >= 0.9 && s.ranked >= clean[i].ranked && answered_well.size() < 5) {
        answered_well.push_back(absl::StrCat(q.text, "\t", typo, "\t", TypoKindName(kind)));
      }
      if (examples.size() < kinds.size() * 2 && r.typo.ranked.n <= 2) examples.push_back({q.text, typo});
    }
    results.push_back(r);
  }
  if (!results.empty()) {
    std::printf("\nOne typo in the longest word (datasets/query_typos.h, seed %llu), judgments kept;\n"
                "each kind on the queries it changed, clean and typo'd:\n",
                static_cast<unsigned long long>(absl::GetFlag(FLAGS_typo_seed)));
    PrintHeader("typo kind");
    for (const KindResult& r : results) {
      PrintRow(absl::StrCat(TypoKindName(r.kind), " clean"), r.clean);
      PrintRow(absl::StrCat(TypoKindName(r.kind), " typo"), r.typo);
    }
    std::printf("examples:");
    for (const auto& [a, b] : examples) std::printf("  \"%s\" -> \"%s\"", a.c_str(), b.c_str());
    std::printf("\n");
    for (KindResult& r : results) {
      const int n = std::min<int>(absl::GetFlag(FLAGS_show_worst), r.losses.size());
      if (n == 0) continue;
      std::partial_sort(r.losses.begin(), r.losses.begin() + n, r.losses.end(),
                        [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
      std::printf("\n%s: the %d queries the typo cost most (NDCG@10 clean -> typo'd: BM25, two-tower, "
                  "ranked)\n", std::string(TypoKindName(r.kind)).c_str(), n);
      for (int j = 0; j < n; ++j) {
        const auto& [lost, i, typo, s] = r.losses[j];
        const QueryScores& c = clean[i];
        auto explain = art.lexical->Explain(typo);
        std::string shaped = explain.ok() ? *explain : std::string(explain.status().message());
        std::replace(shaped.begin(), shaped.end(), '\n', ' ');
        std::printf("  \"%s\" -> \"%s\"  %.2f->%.2f  %.2f->%.2f  %.2f->%.2f  | %s\n",
                    qs[i]->text.c_str(), typo.c_str(), c.bm25, s.bm25, c.twotower, s.twotower,
                    c.ranked, s.ranked, shaped.substr(0, 160).c_str());
      }
    }
  }

  if (const std::string out = absl::GetFlag(FLAGS_typo_examples_out); !out.empty()) {
    std::FILE* f = std::fopen(out.c_str(), "w");
    if (f == nullptr) return absl::InternalError(absl::StrCat("cannot write ", out));
    for (const std::string& line : answered_well) std::fprintf(f, "%s\n", line.c_str());
    std::fclose(f);
  }

  // Calibration and "no good match" (the server's relevance_probability / no_good_match).
  const std::string px = absl::GetFlag(FLAGS_bench_prefix);
  std::vector<std::string> bench_lines;
  auto bench = [&](const std::string& name, double v) {
    bench_lines.push_back(absl::StrFormat("BENCH %s %.4f", name, v));
  };
  if (const RelevanceCalibration* c = ranker->calibration(); c != nullptr) {
    std::vector<std::pair<float, bool>> rows;
    MeanMetric fire_in, ndcg_in, ndcg_fired;
    int64_t off = 0, off_flagged = 0, in_flagged = 0;
    for (size_t i = 0; i < qs.size(); ++i) {
      const QueryScores& q = clean[i];
      const bool flagged = q.best_probability >= 0 && c->NoGoodMatch(q.best_probability);
      if (!q.has_exact) {
        ++off;
        off_flagged += flagged;
        continue;
      }
      rows.insert(rows.end(), q.top10.begin(), q.top10.end());
      fire_in.Add(flagged);
      in_flagged += flagged;
      ndcg_in.Add(q.ranked);
      // What a client that hides flagged pages would lose of the in-catalog NDCG@10.
      ndcg_fired.Add(flagged ? q.ranked : 0.0);
    }
    std::printf("\nRelevance calibration (ranker v%lld: isotonic P(Exact), %zu knots), top 10 of each of "
                "the %lld queries with an Exact listing:\n",
                static_cast<long long>(ranker->version()), c->knots(), static_cast<long long>(fire_in.n));
    const double ece = PrintReliability(rows);
    std::printf("  expected calibration error %.4f\n", ece);
    bench(px + "relevance_ece", ece);
    std::printf("\nNo good match: best P(Exact) < %.4f (the ranker's threshold, chosen on valid queries)\n"
                "  fires on %lld of %lld queries with an Exact listing (%.2f%%; their NDCG@10 share %.4f)\n",
                c->no_match_threshold(), static_cast<long long>(in_flagged),
                static_cast<long long>(fire_in.n), 100 * fire_in.mean(), ndcg_fired.mean());
    bench(px + "no_match_fire_in_catalog", fire_in.mean());
    if (off > 0) {
      const double precision = off_flagged + in_flagged > 0
                                   ? static_cast<double>(off_flagged) / (off_flagged + in_flagged) : 0;
      const double recall = static_cast<double>(off_flagged) / off;
      std::printf("  off-catalog queries (no Exact listing: held-out product types): %lld, flagged %lld\n"
                  "  precision %.4f  recall %.4f\n",
                  static_cast<long long>(off), static_cast<long long>(off_flagged), precision, recall);
      bench("no_match_precision", precision);
      bench("no_match_recall", recall);
      if (!px.empty()) bench("no_match_fire_in_catalog", fire_in.mean());
      bench("no_match_ndcg10_cost", ndcg_fired.mean());
    } else {
      std::printf("  no off-catalog query in this split (make_marketplace --hold_out_types makes them)\n");
    }
  } else {
    std::printf("\nranker v%lld has no relevance calibration (retrain with ranking/train/train_ranker.py)\n",
                static_cast<long long>(ranker->version()));
  }

  std::printf("\nBENCH %sndcg10_ranked %.4f\n", px.c_str(), all.ranked.mean());
  std::printf("BENCH %srecall100_capped %.4f\nBENCH %srecall100_plain %.4f\n", px.c_str(), all.capped.mean(),
              px.c_str(), all.plain.mean());
  for (const auto& [kind, m] : by_kind) {
    if (kind.find('+') == std::string::npos) {
      std::printf("BENCH %sndcg10_ranked_kind_%s %.4f\n", px.c_str(), kind.c_str(), m.ranked.mean());
    }
  }
  for (const std::string& line : bench_lines) std::printf("%s\n", line.c_str());
  if (!results.empty()) {
    MeanMetric typo_mean;
    double worst_drop = -1;
    for (const KindResult& r : results) {
      const double drop = r.clean.ranked.mean() - r.typo.ranked.mean();
      std::printf("BENCH %sndcg10_ranked_typo_%s %.4f\n", px.c_str(),
                  std::string(TypoKindName(r.kind)).c_str(), r.typo.ranked.mean());
      std::printf("BENCH %sndcg10_typo_drop_%s %.4f\n", px.c_str(),
                  std::string(TypoKindName(r.kind)).c_str(), drop);
      typo_mean.Add(r.typo.ranked.mean());
      worst_drop = std::max(worst_drop, drop);
    }
    std::printf("BENCH %sndcg10_ranked_typo %.4f\n", px.c_str(), typo_mean.mean());
    std::printf("BENCH %sndcg10_typo_drop %.4f\n", px.c_str(), worst_drop);
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "NDCG@10 per query kind and on typo'd copies of the judged queries, each leg and the "
      "ranked pipeline.\nUsage: quality_bench [--data_dir=var] [--split=test] [--typo_kinds=...]");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "quality_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
