// What the offline quality benchmarks (bench/ranking_bench, bench/quality_bench) load from a
// data directory to run judged queries through the served pipeline: the retrieval artifacts
// (index/CURRENT, its query tower, lexical/CURRENT), a ranker version, the feature store read
// only through a StoreListingReader, the catalog statistics, and the judged queries of a split.
//
// Thread safety: OfflineEval is read-only after LoadOfflineEval; its parts are as thread-safe
// as their own headers say.
#ifndef MARKETSEARCH_BENCH_OFFLINE_EVAL_H_
#define MARKETSEARCH_BENCH_OFFLINE_EVAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "datasets/catalog_reader.h"
#include "features/feature_store.h"
#include "index/listing_reader.h"
#include "ranking/ranker.h"
#include "retrieval/candidate_generator.h"

namespace marketsearch {

struct OfflineEval {
  RetrievalArtifacts art;
  // The server's retrieval options for this deployment: its fusion (fusion.textproto, else the
  // built-in default), which the ranker's features were exported with.
  RetrievalOptions retrieval;
  std::string ranker_dir;
  std::unique_ptr<Ranker> ranker;  // one intra-op thread, as a serving worker
  std::unique_ptr<FeatureStore> store;
  std::unique_ptr<StoreListingReader> reader;  // over `store`
  CatalogStats stats;
  std::vector<QueryRecord> queries;  // every query of catalog/queries.tsv
  JudgmentMap by_query;              // catalog/judgments.tsv
  // The judged queries of the split, in file order (pointers into `queries`).
  std::vector<const QueryRecord*> split_queries;
};

// Loads <data_dir> for `split`; `model_dir` empty = the newest version under models/ranker;
// `max_queries` > 0 keeps the first that many judged queries. FailedPrecondition when the
// ranker was trained with another listing tower than the served index's; NotFound when the
// split has no judged query; otherwise the loaders' errors.
absl::StatusOr<std::unique_ptr<OfflineEval>> LoadOfflineEval(const std::string& data_dir,
                                                             const std::string& split,
                                                             const std::string& model_dir,
                                                             int max_queries);

// The listing ids one leg retrieved among `candidates` (GenerateCandidates' fused list), in
// that leg's own order (Candidate::ann_rank or lexical_rank): what the leg alone returns at
// the same depth.
std::vector<uint64_t> LegOrder(const std::vector<Candidate>& candidates, bool ann);

}  // namespace marketsearch

#endif  // MARKETSEARCH_BENCH_OFFLINE_EVAL_H_
