// ranker_parity_check: proves that the served ranker (TorchScript under libtorch, called
// through Ranker::Score) reproduces the Python model. The trainer saves, beside the exported
// model, the eager PyTorch model's scores of whole candidate lists of a few validation
// queries (parity_{query_ids,offsets,listing_ids,features,scores}.npy). This tool
//  1. scores the saved feature rows in C++, one batched forward per query, and compares the
//     scores with the eager ones;
//  2. (--recompute, default on) rebuilds the same queries' candidates and features from raw
//     query text through the serving path (GenerateCandidates → FetchRankingBatch), checks
//     that candidates and features equal the saved ones and scores them again.
// Exit 0 when every difference is within --tolerance, 1 above it, 2 on errors.
#include <cmath>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/float_matrix.h"
#include "common/status_macros.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "features/feature_store.h"
#include "features/npy_io.h"
#include "ranking/ranker.h"
#include "ranking/ranking_features.h"
#include "index/listing_reader.h"
#include "ranking/ranking_pipeline.h"
#include "retrieval/candidate_generator.h"
#include "retrieval/fusion_config.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (models/, store/, catalog/, index/, lexical/)");
ABSL_FLAG(std::string, model_dir, "", "ranker version directory (default: newest under models/ranker)");
ABSL_FLAG(double, tolerance, 1e-5, "largest allowed absolute difference");
ABSL_FLAG(bool, recompute, true,
          "also rebuild the fixture queries' features from raw text through the serving path");
ABSL_FLAG(int, candidates, 200, "candidates per query when recomputing (as export_ranking_data)");

namespace marketsearch {
namespace {

absl::StatusOr<bool> Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const double tol = absl::GetFlag(FLAGS_tolerance);
  std::string dir = absl::GetFlag(FLAGS_model_dir);
  if (dir.empty()) {
    MS_ASSIGN_OR_RETURN(dir, NewestVersionDir(data_dir + "/models/ranker"));
  }
  MS_ASSIGN_OR_RETURN(std::unique_ptr<Ranker> ranker, Ranker::Load(dir));

  MS_ASSIGN_OR_RETURN(NpyArray qids_npy, ReadNpy(dir + "/parity_query_ids.npy"));
  MS_ASSIGN_OR_RETURN(NpyArray offs_npy, ReadNpy(dir + "/parity_offsets.npy"));
  MS_ASSIGN_OR_RETURN(NpyArray lids_npy, ReadNpy(dir + "/parity_listing_ids.npy"));
  MS_ASSIGN_OR_RETURN(NpyArray feat_npy, ReadNpy(dir + "/parity_features.npy"));
  MS_ASSIGN_OR_RETURN(NpyArray score_npy, ReadNpy(dir + "/parity_scores.npy"));
  const std::vector<uint64_t> qids = qids_npy.AsUint64();
  const std::vector<uint64_t> offsets = offs_npy.AsUint64();
  const std::vector<uint64_t> lids = lids_npy.AsUint64();
  const std::vector<float> feats = feat_npy.AsFloat32();
  const std::vector<float> want = score_npy.AsFloat32();
  if (feat_npy.shape.size() != 2 || feat_npy.shape[1] != kRankingFeatureDim ||
      offsets.size() != qids.size() + 1 || offsets.back() != want.size() ||
      lids.size() != want.size() || static_cast<int64_t>(want.size()) != feat_npy.shape[0]) {
    return absl::DataLossError(absl::StrCat(dir, ": parity fixture shapes disagree"));
  }

  // 1. The saved features, one forward per query (as the server batches).
  double score_diff = 0;
  for (size_t g = 0; g < qids.size(); ++g) {
    FloatMatrix x;
    x.rows = static_cast<int64_t>(offsets[g + 1] - offsets[g]);
    x.cols = kRankingFeatureDim;
    x.data.assign(feats.begin() + offsets[g] * kRankingFeatureDim,
                  feats.begin() + offsets[g + 1] * kRankingFeatureDim);
    MS_ASSIGN_OR_RETURN(std::vector<float> got, ranker->Score(x));
    for (int64_t i = 0; i < x.rows; ++i) {
      score_diff = std::max(score_diff, std::fabs(double(got[i]) - want[offsets[g] + i]));
    }
  }
  std::printf("ranker parity: C++ (libtorch, Ranker::Score) vs Python (eager PyTorch), ranker v%lld\n",
              static_cast<long long>(ranker->version()));
  std::printf("  saved features   %zu queries, %zu candidates   max |score diff| %.3g\n", qids.size(),
              want.size(), score_diff);
  bool ok = score_diff <= tol;

  // 2. The same queries from raw text through the serving path.
  if (absl::GetFlag(FLAGS_recompute)) {
    MS_ASSIGN_OR_RETURN(RetrievalArtifacts art, LoadRetrievalArtifacts(data_dir));
    if (ranker->listing_tower_version() >= 0 &&
        art.index->manifest().listing_tower_version() != ranker->listing_tower_version()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the served index uses listing tower v", art.index->manifest().listing_tower_version(),
          " but the ranker was trained with v", ranker->listing_tower_version(),
          "; run with --norecompute to check the saved features only"));
    }
    FeatureStore::Options so;
    so.path = data_dir + "/store";
    so.read_only = true;
    MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));
    const StoreListingReader reader(store.get(), /*ann=*/nullptr);
    MS_ASSIGN_OR_RETURN(CatalogStats stats, store->GetCatalogStats());
    MS_ASSIGN_OR_RETURN(auto queries, ReadQueries(data_dir + "/catalog/queries.tsv"));
    absl::flat_hash_map<uint64_t, const QueryRecord*> by_id;
    for (const auto& q : queries) by_id[q.query_id] = &q;
    RetrievalOptions retrieval;  // as export_ranking_data: the deployment's fusion
    MS_ASSIGN_OR_RETURN(retrieval.fusion, LoadDeploymentFusion(data_dir));
    double feat_diff = 0, rescore_diff = 0;
    int64_t id_mismatch = 0;
    for (size_t g = 0; g < qids.size(); ++g) {
      auto it = by_id.find(qids[g]);
      if (it == by_id.end()) return absl::NotFoundError(absl::StrCat("query ", qids[g], " not in queries.tsv"));
      const QueryRecord& q = *it->second;
      MS_ASSIGN_OR_RETURN(RetrievalResult rr, GenerateCandidates(art, q.text, retrieval));
      MS_ASSIGN_OR_RETURN(RankingBatch b,
                          FetchRankingBatch(reader, *art.index, stats, q.text, rr, q.user_id,
                                            absl::GetFlag(FLAGS_candidates)));
      const size_t n = offsets[g + 1] - offsets[g];
      if (b.candidates.size() != n) {
        id_mismatch += static_cast<int64_t>(std::max(n, b.candidates.size()));
        continue;
      }
      for (size_t i = 0; i < n; ++i) id_mismatch += b.candidates[i].listing_id != lids[offsets[g] + i];
      for (size_t j = 0; j < n * kRankingFeatureDim; ++j) {
        feat_diff = std::max(feat_diff, std::fabs(double(b.features.data[j]) -
                                                  feats[offsets[g] * kRankingFeatureDim + j]));
      }
      MS_ASSIGN_OR_RETURN(std::vector<float> got, ranker->Score(b.features));
      for (size_t i = 0; i < n; ++i) {
        rescore_diff = std::max(rescore_diff, std::fabs(double(got[i]) - want[offsets[g] + i]));
      }
    }
    std::printf("  from raw text    candidates differing %lld   max |feature diff| %.3g   "
                "max |score diff| %.3g\n",
                static_cast<long long>(id_mismatch), feat_diff, rescore_diff);
    ok = ok && id_mismatch == 0 && feat_diff <= tol && rescore_diff <= tol;
  }
  std::printf("  tolerance        %.1g -> %s\n", tol, ok ? "OK" : "MISMATCH");
  return ok;
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Checks that the C++ ranker's scores equal the Python model's parity fixtures.\n"
      "Usage: ranker_parity_check [--data_dir=var] [--model_dir=...] [--tolerance=1e-5] "
      "[--norecompute]");
  absl::ParseCommandLine(argc, argv);
  auto ok = marketsearch::Run();
  if (!ok.ok()) {
    std::fprintf(stderr, "ranker_parity_check: %s\n", std::string(ok.status().message()).c_str());
    return 2;
  }
  return *ok ? 0 : 1;
}
