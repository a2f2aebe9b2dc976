#include "bench/offline_eval.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/versions.h"
#include "ranking/ranking_pipeline.h"
#include "retrieval/fusion_config.h"

namespace marketsearch {

absl::StatusOr<std::unique_ptr<OfflineEval>> LoadOfflineEval(const std::string& data_dir,
                                                             const std::string& split,
                                                             const std::string& model_dir,
                                                             int max_queries) {
  auto e = std::make_unique<OfflineEval>();
  MS_ASSIGN_OR_RETURN(e->art, LoadRetrievalArtifacts(data_dir));
  MS_ASSIGN_OR_RETURN(e->retrieval.fusion, LoadDeploymentFusion(data_dir));
  e->ranker_dir = model_dir;
  if (e->ranker_dir.empty()) {
    MS_ASSIGN_OR_RETURN(e->ranker_dir, NewestVersionDir(data_dir + "/models/ranker"));
  }
  Ranker::Options ro;
  ro.dir = e->ranker_dir;
  ro.intra_op_threads = 1;
  MS_ASSIGN_OR_RETURN(e->ranker, Ranker::Load(ro));
  if (e->ranker->listing_tower_version() != e->art.index->manifest().listing_tower_version()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ranker v", e->ranker->version(), " was trained with listing tower v",
        e->ranker->listing_tower_version(), " but the served index uses v",
        e->art.index->manifest().listing_tower_version(), ": retrain the ranker"));
  }
  FeatureStore::Options so;
  so.path = data_dir + "/store";
  so.read_only = true;
  MS_ASSIGN_OR_RETURN(e->store, FeatureStore::Open(so));
  e->reader = std::make_unique<StoreListingReader>(e->store.get(), /*ann=*/nullptr);
  MS_ASSIGN_OR_RETURN(e->stats, e->store->GetCatalogStats());
  MS_ASSIGN_OR_RETURN(e->queries, ReadQueries(data_dir + "/catalog/queries.tsv"));
  MS_ASSIGN_OR_RETURN(const std::vector<Judgment> judgments,
                      ReadJudgments(data_dir + "/catalog/judgments.tsv"));
  e->by_query = GroupJudgments(judgments);
  for (const QueryRecord& q : e->queries) {
    if (q.split == split && e->by_query.contains(q.query_id)) e->split_queries.push_back(&q);
  }
  if (max_queries > 0 && e->split_queries.size() > static_cast<size_t>(max_queries)) {
    e->split_queries.resize(max_queries);
  }
  if (e->split_queries.empty()) {
    return absl::NotFoundError(absl::StrCat("no judged queries in split ", split));
  }
  return e;
}

std::vector<uint64_t> LegOrder(const std::vector<Candidate>& candidates, bool ann) {
  std::vector<std::pair<int32_t, uint64_t>> r;
  for (const Candidate& c : candidates) {
    const int32_t rank = ann ? c.ann_rank : c.lexical_rank;
    if (rank > 0) r.push_back({rank, c.listing_id});
  }
  std::sort(r.begin(), r.end());
  std::vector<uint64_t> out;
  out.reserve(r.size());
  for (const auto& [rank, id] : r) out.push_back(id);
  return out;
}

}  // namespace marketsearch
