// Query and listing encoders: the featurizer + the two towers of the retriever.
// Both are thin, stateless wrappers over a shared ModelRunner; thread-safe.
#ifndef MARKETSEARCH_RETRIEVAL_ENCODERS_H_
#define MARKETSEARCH_RETRIEVAL_ENCODERS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/float_matrix.h"
#include "features/featurizer.h"
#include "proto/catalog.pb.h"
#include "retrieval/model_runner.h"

namespace marketsearch {

class QueryEncoder {
 public:
  // REQUIRES: runner holds a query_tower artifact.
  explicit QueryEncoder(std::shared_ptr<const ModelRunner> runner) : runner_(std::move(runner)) {}
  // `runtime`: the ModelRunner options besides dir and name (format, concurrency, threads).
  static absl::StatusOr<QueryEncoder> Load(const std::string& dir,
                                           ModelRunner::Options runtime = ModelRunner::Options());

  // One L2-normalised embedding per query, [queries.size(), dim] (offline tools: each query
  // is normalised here).
  absl::StatusOr<FloatMatrix> Encode(absl::Span<const std::string> queries) const;
  // The request path's call: one query parsed once per request (its feature_ids), [1, dim].
  absl::StatusOr<FloatMatrix> Encode(const ParsedQuery& query) const;
  // The same for a bag of feature ids (TextFeatureIds) made by the caller, [1, dim].
  absl::StatusOr<FloatMatrix> EncodeFeatureIds(const std::vector<int64_t>& feature_ids) const;
  int dim() const { return runner_->manifest().embedding_dim(); }
  int64_t version() const { return runner_->manifest().version(); }

 private:
  std::shared_ptr<const ModelRunner> runner_;
};

class ListingEncoder {
 public:
  explicit ListingEncoder(std::shared_ptr<const ModelRunner> runner) : runner_(std::move(runner)) {}
  static absl::StatusOr<ListingEncoder> Load(const std::string& dir,
                                             ModelRunner::Options runtime = ModelRunner::Options());

  // One embedding per listing, [listings.size(), dim]; callers batch (e.g. 1024 at a time).
  // `stats` are the catalog statistics of the feature store the listings come from.
  absl::StatusOr<FloatMatrix> Encode(absl::Span<const Listing> listings,
                                     const CatalogStats& stats) const;
  int dim() const { return runner_->manifest().embedding_dim(); }
  int64_t version() const { return runner_->manifest().version(); }

 private:
  std::shared_ptr<const ModelRunner> runner_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_ENCODERS_H_
