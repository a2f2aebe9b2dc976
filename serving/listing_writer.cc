#include "serving/listing_writer.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "features/featurizer.h"
#include "features/listing_tsv.h"
#include "index/listing_filter.h"

namespace marketsearch {
namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

absl::StatusOr<int64_t> ListingWriter::Upsert(absl::Span<const Listing> listings) {
  if (listings.empty()) return absl::InvalidArgumentError("listings: must not be empty");
  if (listings.size() > static_cast<size_t>(kMaxUpsertsPerCall)) {
    return absl::InvalidArgumentError(absl::StrCat("listings: at most ", kMaxUpsertsPerCall, " per call"));
  }
  for (size_t i = 0; i < listings.size(); ++i) {
    if (absl::Status s = ValidateListing(listings[i]); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("listings[", i, "].", s.message()));
    }
  }
  const std::shared_ptr<const ServingState> state = searcher_->state();
  if (!state) return absl::UnavailableError("no model/index loaded yet");
  std::vector<Listing> stamped(listings.begin(), listings.end());
  for (Listing& l : stamped) l.set_featurizer_version(kFeaturizerVersion);
  // Embed before writing: a listing the model cannot encode is refused without a write.
  MS_ASSIGN_OR_RETURN(FloatMatrix emb, state->listing_encoder->Encode(stamped, state->stats));

  absl::MutexLock lock(&mu_);
  MS_RETURN_IF_ERROR(store_->PutListings(stamped));
  const int64_t now = NowMs();
  DeltaIndex* delta = searcher_->delta();
  for (size_t i = 0; i < stamped.size(); ++i) {
    MS_RETURN_IF_ERROR(delta->Upsert(stamped[i].listing_id(),
                                     absl::MakeConstSpan(emb.row(i), emb.cols),
                                     ListingAttributes::FromListing(stamped[i]), now));
  }
  return now;
}

absl::StatusOr<int64_t> ListingWriter::Delete(absl::Span<const uint64_t> ids) {
  if (ids.empty()) return absl::InvalidArgumentError("listing_ids: must not be empty");
  if (ids.size() > static_cast<size_t>(kMaxDeletesPerCall)) {
    return absl::InvalidArgumentError(absl::StrCat("listing_ids: at most ", kMaxDeletesPerCall, " per call"));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == 0) return absl::InvalidArgumentError(absl::StrCat("listing_ids[", i, "]: must be > 0"));
  }
  absl::MutexLock lock(&mu_);
  MS_RETURN_IF_ERROR(store_->DeleteListings(ids));
  const int64_t now = NowMs();
  for (uint64_t id : ids) searcher_->delta()->Delete(id, now);
  return now;
}

}  // namespace marketsearch
