// export_ranking_data: the ranker's training tensors, computed by the serving path itself.
// For every query of queries.tsv it runs hybrid candidate generation exactly as the server
// does (GenerateCandidates: ANN depth 200 + BM25 depth 200, fused as <data_dir>/fusion.textproto
// says: retrieval/fusion_config.h), keeps the first
// --candidates by fused score, fetches the listings/user/stats/counters and stored embeddings
// and assembles the features (FetchRankingBatch → AssembleRankingFeatures).
// Train queries take their candidates and embedding features from an out-of-fold retriever
// (a two-tower model + index trained without them, ranking/train/make_oof_folds.py) when
// <data_dir>/ranking_oof exists: the served retriever has seen the train queries, and a ranker
// trained on its (much too good) train-query features over-trusts them on new queries.
// Valid and test queries always use the served retriever, as live traffic does.
//
// <out_dir>/{split}_features.npy    float32 [N, kRankingFeatureDim], rows grouped by query,
//                                   each group in fused order
// <out_dir>/{split}_offsets.npy     int64 [Q + 1]: group q is rows offsets[q]..offsets[q+1]
// <out_dir>/{split}_labels.npy      int64 [N]: ESCI grade 0..3 (I, C, S, E); unjudged = 0
// <out_dir>/{split}_clicks.npy      int64 [N]: click log signal of the (query, listing) pair:
//                                   1 shown and clicked, 0 shown and not clicked, -1 not in
//                                   the log (the log covers train queries only). The trainer
//                                   can add a click bonus to the target gain (--click_gain).
// <out_dir>/{split}_idcg.npy        float32 [Q]: ideal DCG@10 of the query over ALL its judged
//                                   listings (experiments/metrics.h), not only the retrieved
//                                   ones, so NDCG computed from these files equals NdcgAtK
// <out_dir>/{split}_query_ids.npy   uint64 [Q]
// <out_dir>/{split}_listing_ids.npy uint64 [N]
// <out_dir>/meta.txt                versions, sizes and the C++ NDCG@10 of the fused order
//                                   per split (the trainer checks its NDCG against it)
//
// Every query of a split is a group, also one with no candidates (NDCG 0), so averages over
// groups equal averages over the split's judged queries as every report computes them.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/progress.h"
#include "common/status_macros.h"
#include "datasets/catalog_reader.h"
#include "experiments/metrics.h"
#include "features/feature_store.h"
#include "features/featurizer.h"
#include "features/npy_io.h"
#include "proto/esci.h"
#include "ranking/ranking_features.h"
#include "index/listing_reader.h"
#include "ranking/ranking_pipeline.h"
#include "retrieval/candidate_generator.h"
#include "retrieval/fusion_config.h"

ABSL_FLAG(std::string, data_dir, "var",
          "data directory (store/, catalog/, index/, lexical/, models/ in)");
ABSL_FLAG(std::string, out_dir, "", "output directory (default <data_dir>/ranking_training)");
ABSL_FLAG(int, candidates, 200, "candidates kept per query (first N by fused score)");
ABSL_FLAG(int, ann_depth, 200, "ANN depth (as the server)");
ABSL_FLAG(int, lexical_depth, 200, "BM25 depth (as the server)");
ABSL_FLAG(std::string, splits, "train,valid,test", "comma-separated splits to export");
ABSL_FLAG(std::string, oof_dir, "",
          "out-of-fold retrievers for the train queries (ranking/train/make_oof_folds.py); "
          "default <data_dir>/ranking_oof when it holds folds.txt; 'none' = use the served "
          "retriever for train queries too (its features are then optimistic)");

namespace marketsearch {
namespace {

double IdealDcgAt10(const absl::flat_hash_map<uint64_t, Esci>& judged) {
  std::vector<double> gains;
  gains.reserve(judged.size());
  for (const auto& [id, label] : judged) gains.push_back(EsciGain(label));
  std::sort(gains.begin(), gains.end(), std::greater<double>());
  double idcg = 0;
  for (size_t i = 0; i < std::min<size_t>(10, gains.size()); ++i) idcg += gains[i] / std::log2(i + 2.0);
  return idcg;
}

absl::Status Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  std::string out = absl::GetFlag(FLAGS_out_dir);
  if (out.empty()) out = data_dir + "/ranking_training";
  MS_RETURN_IF_ERROR(MakeDirs(out));
  const int keep = absl::GetFlag(FLAGS_candidates);
  if (keep <= 0) return absl::InvalidArgumentError("--candidates: must be > 0");

  FeatureStore::Options so;
  so.path = data_dir + "/store";
  so.read_only = true;
  MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));
  const StoreListingReader reader(store.get(), /*ann=*/nullptr);
  MS_ASSIGN_OR_RETURN(const CatalogStats stats, store->GetCatalogStats());
  MS_ASSIGN_OR_RETURN(RetrievalArtifacts art, LoadRetrievalArtifacts(data_dir));
  if (art.index->dim() != kRankingEmbeddingDim) {
    return absl::FailedPreconditionError(absl::StrCat("index dim ", art.index->dim(),
                                                      " != kRankingEmbeddingDim ", kRankingEmbeddingDim));
  }
  RetrievalOptions ro;
  ro.mode = RetrievalMode::kHybrid;
  ro.ann_depth = absl::GetFlag(FLAGS_ann_depth);
  ro.lexical_depth = absl::GetFlag(FLAGS_lexical_depth);
  // The fusion the server will use: the fused score and ranks are ranker features.
  std::string fusion_source;
  MS_ASSIGN_OR_RETURN(ro.fusion, LoadDeploymentFusion(data_dir, &fusion_source));
  std::printf("export_ranking_data: fusion %s (%s)\n", DescribeFusion(ro.fusion).c_str(),
              fusion_source.c_str());

  // Out-of-fold retrievers: a train query gets its candidates and embedding features from
  // the fold model that was trained without it (fold_of_query.tsv).
  std::string oof = absl::GetFlag(FLAGS_oof_dir);
  if (oof.empty() && PathExists(data_dir + "/ranking_oof/folds.txt")) oof = data_dir + "/ranking_oof";
  if (oof == "none") oof.clear();
  std::vector<RetrievalArtifacts> folds;
  absl::flat_hash_map<uint64_t, int> fold_of_query;  // train query -> the fold that held it out
  if (!oof.empty()) {
    MS_ASSIGN_OR_RETURN(std::string text, ReadFile(oof + "/folds.txt"));
    int num_folds = 0;
    int fingerprints = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::ConsumePrefix(&line, "folds=") && !absl::SimpleAtoi(line, &num_folds)) num_folds = 0;
      // sha256_<file>=<hex>: the training tensors the fold models were made from.
      if (absl::ConsumePrefix(&line, "sha256_")) {
        const size_t eq = line.find('=');
        if (eq == absl::string_view::npos) continue;
        const std::string file = std::string(line.substr(0, eq));
        MS_ASSIGN_OR_RETURN(std::string now, Sha256File(data_dir + "/training/" + file));
        if (now != line.substr(eq + 1)) {
          return absl::FailedPreconditionError(absl::StrCat(
              oof, " was made from other training tensors (", file, " changed); rerun "
              "ranking/train/make_oof_folds.py or pass --oof_dir=none"));
        }
        ++fingerprints;
      }
    }
    if (num_folds < 2) return absl::DataLossError(absl::StrCat(oof, "/folds.txt: no folds=N (N >= 2)"));
    if (fingerprints == 0) {
      return absl::DataLossError(absl::StrCat(oof, "/folds.txt: no sha256_<file> fingerprints"));
    }
    for (int k = 0; k < num_folds; ++k) {
      MS_ASSIGN_OR_RETURN(RetrievalArtifacts f,
                          LoadRetrievalArtifacts(absl::StrCat(oof, "/", k), /*with_lexical=*/false));
      if (f.index->dim() != kRankingEmbeddingDim) {
        return absl::FailedPreconditionError(absl::StrCat("fold ", k, " index dim ", f.index->dim()));
      }
      f.lexical = art.lexical;  // BM25 does not depend on the fold
      folds.push_back(std::move(f));
    }
    MS_ASSIGN_OR_RETURN(auto rows, ReadTsv(oof + "/fold_of_query.tsv", {"query_id", "fold"}));
    for (const TsvRow& row : rows) {
      uint64_t qid;
      int fold;
      if (!absl::SimpleAtoi(row[0], &qid) || !absl::SimpleAtoi(row[1], &fold) || fold < 0 ||
          fold >= num_folds) {
        return absl::DataLossError(absl::StrCat(oof, "/fold_of_query.tsv: bad row"));
      }
      fold_of_query[qid] = fold;
    }
  }

  MS_ASSIGN_OR_RETURN(auto queries, ReadQueries(data_dir + "/catalog/queries.tsv"));
  MS_ASSIGN_OR_RETURN(auto judgments, ReadJudgments(data_dir + "/catalog/judgments.tsv"));
  const JudgmentMap by_query = GroupJudgments(judgments);

  // The click log: (query, listing) -> clicked.
  absl::flat_hash_map<std::pair<uint64_t, uint64_t>, int64_t> clicked;
  const std::string clicks_path = data_dir + "/catalog/clicks.tsv";
  if (PathExists(clicks_path)) {
    MS_ASSIGN_OR_RETURN(auto rows, ReadTsv(clicks_path, {"query_id", "listing_id", "clicked"}));
    for (const TsvRow& row : rows) {
      uint64_t qid, lid;
      int64_t c;
      if (!absl::SimpleAtoi(row[0], &qid) || !absl::SimpleAtoi(row[1], &lid) ||
          !absl::SimpleAtoi(row[2], &c)) {
        return absl::InvalidArgumentError(absl::StrCat(clicks_path, ": malformed row"));
      }
      int64_t& v = clicked[{qid, lid}];
      v = std::max(v, c != 0 ? int64_t{1} : int64_t{0});
    }
  }

  std::string meta = absl::StrCat(
      "ranking_feature_version=", kRankingFeatureVersion, "\nfeature_dim=", kRankingFeatureDim,
      "\nfeaturizer_version=", kFeaturizerVersion, "\ncandidates=", keep,
      "\nann_depth=", ro.ann_depth, "\nlexical_depth=", ro.lexical_depth,
      "\nfusion=", FusionMethodName(ro.fusion.method), "\nfusion_ann_weight=", ro.fusion.ann_weight,
      "\nindex_version=", art.index->version(),
      "\nlisting_tower_version=", art.index->manifest().listing_tower_version(),
      "\nquery_tower_version=", art.query_encoder->version(),
      "\nembedding_dim=", kRankingEmbeddingDim, "\nproduct_begin=", kRankProductBegin,
      "\noof_folds=", folds.size(), "\n");
  std::printf("export_ranking_data: index v%lld (listing tower v%lld), %d candidates per query, "
              "ANN %d + BM25 %d, RRF\n",
              static_cast<long long>(art.index->version()),
              static_cast<long long>(art.index->manifest().listing_tower_version()), keep,
              ro.ann_depth, ro.lexical_depth);
  if (folds.empty()) {
    std::printf("  train queries use the served retriever (no out-of-fold models)\n");
  } else {
    std::printf("  train queries use %zu out-of-fold retrievers from %s\n", folds.size(), oof.c_str());
  }

  struct SplitSummary {
    std::string split;
    int64_t queries = 0, rows = 0, judged_rows = 0, clicked_rows = 0, empty = 0;
    int64_t not_in_store = 0, not_in_index = 0;
    double ndcg_hybrid = 0, ndcg_oracle = 0, seconds = 0;
  };
  std::vector<SplitSummary> summaries;
  ListingTokenCache token_cache;
  for (const std::string& split : std::vector<std::string>(
           absl::StrSplit(absl::GetFlag(FLAGS_splits), ',', absl::SkipEmpty()))) {
    std::vector<const QueryRecord*> qs;
    for (const QueryRecord& q : queries) {
      if (q.split == split && by_query.contains(q.query_id)) qs.push_back(&q);
    }
    SplitSummary sum;
    sum.split = split;
    std::vector<float> features;
    std::vector<int64_t> offsets{0}, labels, clicks;
    std::vector<uint64_t> qids, lids;
    std::vector<double> idcgs;
    MeanMetric hybrid, oracle;
    Progress progress(absl::StrCat("export ", split), static_cast<int64_t>(qs.size()));
    for (const QueryRecord* q : qs) {
      const auto& judged = by_query.at(q->query_id);
      const RetrievalArtifacts* a = &art;
      if (split == "train" && !folds.empty()) {
        auto f = fold_of_query.find(q->query_id);
        if (f == fold_of_query.end()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "train query ", q->query_id, " has no out-of-fold retriever; rerun make_oof_folds.py"));
        }
        a = &folds[f->second];
      }
      MS_ASSIGN_OR_RETURN(RetrievalResult rr, GenerateCandidates(*a, q->text, ro));
      MS_ASSIGN_OR_RETURN(RankingBatch b,
                          FetchRankingBatch(reader, *a->index, stats, q->text, rr, q->user_id, keep,
                                            &token_cache));
      sum.not_in_store += b.not_in_store;
      sum.not_in_index += b.not_in_index;
      features.insert(features.end(), b.features.data.begin(), b.features.data.end());
      std::vector<uint64_t> order;
      std::vector<std::pair<int64_t, uint64_t>> by_label;
      for (const Candidate& c : b.candidates) {
        auto it = judged.find(c.listing_id);
        const int64_t label = it == judged.end() ? 0 : static_cast<int64_t>(it->second);
        labels.push_back(label);
        sum.judged_rows += it != judged.end();
        auto ck = clicked.find({q->query_id, c.listing_id});
        clicks.push_back(ck == clicked.end() ? -1 : ck->second);
        sum.clicked_rows += ck != clicked.end() && ck->second == 1;
        lids.push_back(c.listing_id);
        order.push_back(c.listing_id);
        by_label.push_back({-label, c.listing_id});
      }
      offsets.push_back(static_cast<int64_t>(labels.size()));
      qids.push_back(q->query_id);
      idcgs.push_back(IdealDcgAt10(judged));
      hybrid.Add(NdcgAtK(order, judged, 10));
      std::stable_sort(by_label.begin(), by_label.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<uint64_t> best;
      for (const auto& [neg, id] : by_label) best.push_back(id);
      oracle.Add(NdcgAtK(best, judged, 10));
      sum.empty += b.candidates.empty();
      progress.Update(static_cast<int64_t>(qids.size()));
    }
    sum.seconds = progress.Finish();
    sum.queries = static_cast<int64_t>(qids.size());
    sum.rows = static_cast<int64_t>(labels.size());
    sum.ndcg_hybrid = hybrid.mean();
    sum.ndcg_oracle = oracle.mean();
    const std::string p = out + "/" + split;
    MS_RETURN_IF_ERROR(WriteNpy(p + "_features.npy", features, {sum.rows, kRankingFeatureDim}));
    MS_RETURN_IF_ERROR(WriteNpy(p + "_offsets.npy", offsets, {sum.queries + 1}));
    MS_RETURN_IF_ERROR(WriteNpy(p + "_labels.npy", labels, {sum.rows}));
    MS_RETURN_IF_ERROR(WriteNpy(p + "_clicks.npy", clicks, {sum.rows}));
    MS_RETURN_IF_ERROR(WriteNpy(p + "_query_ids.npy", qids, {sum.queries}));
    MS_RETURN_IF_ERROR(WriteNpy(p + "_listing_ids.npy", lids, {sum.rows}));
    {
      // npy_io writes no float64; 7 significant digits are plenty for an NDCG denominator.
      std::vector<float> f(idcgs.begin(), idcgs.end());
      MS_RETURN_IF_ERROR(WriteNpy(p + "_idcg.npy", f, {sum.queries}));
    }
    absl::StrAppend(&meta, "queries_", split, "=", sum.queries, "\nrows_", split, "=", sum.rows,
                    "\nndcg10_hybrid_", split, "=", absl::StrFormat("%.6f", sum.ndcg_hybrid),
                    "\nndcg10_oracle_", split, "=", absl::StrFormat("%.6f", sum.ndcg_oracle), "\n");
    summaries.push_back(sum);
  }
  MS_RETURN_IF_ERROR(WriteFileAtomically(out + "/meta.txt", meta));

  std::printf("export_ranking_data summary\n");
  std::printf("  %-6s %8s %9s %8s %8s %7s %9s %9s %8s\n", "split", "queries", "rows", "judged",
              "clicked", "empty", "NDCG@10", "oracle", "seconds");
  for (const auto& s : summaries) {
    std::printf("  %-6s %8lld %9lld %8lld %8lld %7lld %9.4f %9.4f %8.1f\n", s.split.c_str(),
                static_cast<long long>(s.queries), static_cast<long long>(s.rows),
                static_cast<long long>(s.judged_rows), static_cast<long long>(s.clicked_rows),
                static_cast<long long>(s.empty), s.ndcg_hybrid, s.ndcg_oracle, s.seconds);
    if (s.not_in_store + s.not_in_index > 0) {
      std::printf("         candidates not in the store %lld, without an embedding %lld\n",
                  static_cast<long long>(s.not_in_store), static_cast<long long>(s.not_in_index));
    }
  }
  std::printf("  (NDCG@10 = hybrid fused order of the kept candidates; oracle = the same candidates\n"
              "   sorted by label, the best any ranker can do with them)\n");
  std::printf("  feature dim       %d (ranking features v%u)\n", kRankingFeatureDim,
              kRankingFeatureVersion);
  std::printf("  written to        %s\n", out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes the ranker's training tensors (.npy): hybrid candidates of every judged query, "
      "their ranking features (the serving path), ESCI labels and click signals.\n"
      "Usage: export_ranking_data [--data_dir=var] [--out_dir=<data_dir>/ranking_training] "
      "[--candidates=200]");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "export_ranking_data: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
