// A ServingState without trained artifacts, for unit tests of the request and write paths:
// both towers are FakeModelRunners that embed a bag of featurizer ids as a normalised histogram
// of the ids modulo kRankingEmbeddingDim (so a query shares direction with listings that share
// its words), and the index is an exact FAISS index (with its filter table) of `indexed`,
// embedded by that listing tower.
#ifndef MARKETSEARCH_SERVING_FAKE_SERVING_STATE_H_
#define MARKETSEARCH_SERVING_FAKE_SERVING_STATE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "serving/searcher.h"

namespace marketsearch {

struct FakeServingStateOptions {
  int64_t index_version = 1;
  int64_t snapshot_unix_ms = 1;  // the store snapshot the fake index stands for
  std::shared_ptr<const Ranker> ranker;  // null = serve the fused order
  // Non-empty: also a lexical (Xapian) index of the listings, written to this new directory.
  std::string lexical_dir;
};

absl::StatusOr<std::shared_ptr<const ServingState>> MakeFakeServingState(
    absl::Span<const Listing> indexed, const FakeServingStateOptions& options = {});

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_FAKE_SERVING_STATE_H_
