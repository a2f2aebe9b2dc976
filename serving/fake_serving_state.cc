#include "serving/fake_serving_state.h"

#include <cmath>

#include "common/status_macros.h"
#include "index/index_writer.h"
#include "index/lexical_index.h"
#include "index/lexical_writer.h"
#include "ranking/ranking_features.h"
#include "retrieval/fake_model_runner.h"

namespace marketsearch {
namespace {

constexpr int kDim = kRankingEmbeddingDim;

// Inputs 0 and 1 are EmbeddingBag ids and offsets in both towers.
absl::StatusOr<FloatMatrix> HashedBag(absl::Span<const InputTensor> in) {
  const std::vector<int64_t> ids = FakeModelRunner::Int64Values(in[0]);
  const std::vector<int64_t> off = FakeModelRunner::Int64Values(in[1]);
  FloatMatrix m;
  m.rows = static_cast<int64_t>(off.size());
  m.cols = kDim;
  m.data.assign(m.rows * kDim, 0.0f);
  for (size_t b = 0; b < off.size(); ++b) {
    const size_t end = b + 1 < off.size() ? static_cast<size_t>(off[b + 1]) : ids.size();
    float* row = m.data.data() + b * kDim;
    for (size_t i = static_cast<size_t>(off[b]); i < end; ++i) row[ids[i] % kDim] += 1.0f;
    double norm = 0;
    for (int d = 0; d < kDim; ++d) norm += row[d] * row[d];
    if (norm == 0) row[0] = 1.0f;  // an empty bag still gets a unit vector
    for (int d = 0; norm > 0 && d < kDim; ++d) row[d] = static_cast<float>(row[d] / std::sqrt(norm));
  }
  return m;
}

std::shared_ptr<const ModelRunner> Tower(const std::string& name) {
  ModelManifest m;
  m.set_model_name(name);
  m.set_version(1);
  m.set_embedding_dim(kDim);
  m.set_dense_dim(kListingDenseDim);
  return std::make_shared<FakeModelRunner>(std::move(m), HashedBag);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const ServingState>> MakeFakeServingState(
    absl::Span<const Listing> indexed, const FakeServingStateOptions& options) {
  auto state = std::make_shared<ServingState>();
  state->retrieval.query_encoder = std::make_shared<const QueryEncoder>(Tower("query_tower"));
  state->listing_encoder = std::make_shared<const ListingEncoder>(Tower("listing_tower"));
  auto attributes = std::make_unique<ListingAttributeTable>();
  FloatMatrix emb;
  std::vector<uint64_t> ids;
  if (!indexed.empty()) {
    MS_ASSIGN_OR_RETURN(emb, state->listing_encoder->Encode(indexed, state->stats));
  }
  for (const Listing& l : indexed) {
    ids.push_back(l.listing_id());
    attributes->Add(l.listing_id(), ListingAttributes::FromListing(l));
  }
  IndexManifest m;
  m.set_version(options.index_version);
  m.set_listing_tower_version(1);
  m.set_snapshot_unix_ms(options.snapshot_unix_ms);
  MS_ASSIGN_OR_RETURN(state->retrieval.index,
                      BuildInMemorySnapshot("Flat", kDim, emb.data.data(), ids, std::move(m),
                                            std::move(attributes)));
  if (!options.lexical_dir.empty()) {
    LexicalIndexWriter::Options lo;
    lo.path = options.lexical_dir;
    lo.overwrite = true;
    MS_ASSIGN_OR_RETURN(std::unique_ptr<LexicalIndexWriter> writer, LexicalIndexWriter::Open(lo));
    for (const Listing& l : indexed) MS_RETURN_IF_ERROR(writer->Add(l));
    MS_RETURN_IF_ERROR(writer->Commit());
    writer.reset();
    MS_ASSIGN_OR_RETURN(state->retrieval.lexical, LexicalIndex::Open(options.lexical_dir));
    state->versions.set_lexical(1);
  }
  state->ranker = options.ranker;
  state->versions.set_index(options.index_version);
  state->versions.set_listing_tower(1);
  return std::shared_ptr<const ServingState>(std::move(state));
}

}  // namespace marketsearch
