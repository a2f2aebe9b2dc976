#include "retrieval/encoders.h"

#include "features/featurizer.h"

namespace marketsearch {

absl::StatusOr<QueryEncoder> QueryEncoder::Load(const std::string& dir,
                                                ModelRunner::Options runtime) {
  runtime.dir = dir;
  runtime.expected_name = "query_tower";
  auto r = ModelRunner::Load(runtime);
  if (!r.ok()) return r.status();
  return QueryEncoder(std::shared_ptr<const ModelRunner>(std::move(*r)));
}

absl::StatusOr<FloatMatrix> QueryEncoder::Encode(absl::Span<const std::string> queries) const {
  std::vector<int64_t> tok, off;
  off.reserve(queries.size());
  for (const std::string& q : queries) {
    off.push_back(static_cast<int64_t>(tok.size()));
    auto ids = QueryFeatureIds(q);
    tok.insert(tok.end(), ids.begin(), ids.end());
  }
  const InputTensor in[] = {InputTensor::Int64(tok), InputTensor::Int64(off)};
  return runner_->Run(in);
}

absl::StatusOr<FloatMatrix> QueryEncoder::Encode(const ParsedQuery& query) const {
  return EncodeFeatureIds(query.feature_ids);
}

absl::StatusOr<FloatMatrix> QueryEncoder::EncodeFeatureIds(const std::vector<int64_t>& feature_ids) const {
  const std::vector<int64_t> off = {0};
  const InputTensor in[] = {InputTensor::Int64(feature_ids), InputTensor::Int64(off)};
  return runner_->Run(in);
}

absl::StatusOr<ListingEncoder> ListingEncoder::Load(const std::string& dir,
                                                    ModelRunner::Options runtime) {
  runtime.dir = dir;
  runtime.expected_name = "listing_tower";
  auto r = ModelRunner::Load(runtime);
  if (!r.ok()) return r.status();
  if ((*r)->manifest().dense_dim() != kListingDenseDim) {
    return absl::FailedPreconditionError("listing_tower expects a different dense feature size");
  }
  return ListingEncoder(std::shared_ptr<const ModelRunner>(std::move(*r)));
}

absl::StatusOr<FloatMatrix> ListingEncoder::Encode(absl::Span<const Listing> listings,
                                                   const CatalogStats& stats) const {
  std::vector<int64_t> tok, off, cat;
  std::vector<float> dense;
  off.reserve(listings.size());
  cat.reserve(listings.size());
  dense.reserve(listings.size() * kListingDenseDim);
  for (const Listing& l : listings) {
    off.push_back(static_cast<int64_t>(tok.size()));
    auto ids = ListingFeatureIds(l);
    tok.insert(tok.end(), ids.begin(), ids.end());
    cat.push_back(CategoryId(l.category()));
    auto d = ListingDenseFeatures(l, stats);
    dense.insert(dense.end(), d.begin(), d.end());
  }
  const InputTensor in[] = {
      InputTensor::Int64(tok), InputTensor::Int64(off), InputTensor::Int64(cat),
      InputTensor::Float32(dense, static_cast<int64_t>(listings.size()), kListingDenseDim)};
  return runner_->Run(in);
}

}  // namespace marketsearch
