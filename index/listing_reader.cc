#include "index/listing_reader.h"

#include <algorithm>

#include "common/status_macros.h"

namespace marketsearch {

absl::StatusOr<std::vector<ListingRecord>> StoreListingReader::ReadListings(
    absl::Span<const uint64_t> ids) const {
  MS_ASSIGN_OR_RETURN(std::vector<std::optional<Listing>> got, store_->GetListings(ids));
  std::vector<ListingRecord> out(got.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].has_value()) out[i] = std::make_shared<const Listing>(*std::move(got[i]));
  }
  return out;
}

absl::Status ReadStoredEmbeddings(absl::Span<const uint64_t> ids, const IndexSnapshot& index,
                                  const LiveAnnIndex* ann, RankingInputs* in) {
  in->dim = index.dim();
  const DeltaIndex* delta = ann != nullptr ? ann->delta() : nullptr;
  // An empty delta (no writes since the version was built) is skipped: asking it about every
  // candidate would build a NotFound status for each.
  if (delta != nullptr && (delta->dim() != in->dim || delta->size() == 0)) delta = nullptr;
  in->embeddings.assign(ids.size() * in->dim, 0.0f);
  in->has_embedding.assign(ids.size(), 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i + 8 < ids.size()) index.PrefetchReconstruct(ids[i + 8]);
    float* row = in->embeddings.data() + i * in->dim;
    absl::Status s = absl::NotFoundError("");
    if (delta != nullptr) s = delta->Reconstruct(ids[i], row);
    if (!s.ok()) s = index.Reconstruct(ids[i], row);
    if (s.ok()) {
      in->has_embedding[i] = 1;
    } else if (absl::IsNotFound(s)) {
      ++in->not_in_index;  // e.g. written to the store after the build, without a delta
      std::fill_n(row, in->dim, 0.0f);
    } else {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RankingInputs> StoreListingReader::ReadRankingInputs(
    absl::Span<const uint64_t> ids, uint64_t user_id, const IndexSnapshot& index) const {
  RankingInputs in;
  MS_ASSIGN_OR_RETURN(in.counters, store_->GetListingCounters(ids));
  if (user_id != 0) {
    MS_ASSIGN_OR_RETURN(in.user, store_->GetUser(user_id));
  }
  MS_RETURN_IF_ERROR(ReadStoredEmbeddings(ids, index, ann_, &in));
  return in;
}

}  // namespace marketsearch
