#include "serving/listing_writer.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "features/featurizer.h"
#include "features/listing_tsv.h"
#include "index/listing_filter.h"

namespace marketsearch {

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
  // Two clock reads on purpose: the write log's time is taken before the commit (replay reaches
  // back kWriteLogReplayMarginMs before a snapshot, so it is covered); the delta's after it, so
  // that no index built from a snapshot older than the commit can drop the entry.
  MS_RETURN_IF_ERROR(store_->PutListings(stamped, NowUnixMs()));
  const int64_t now = NowUnixMs();
  DeltaIndex* delta = searcher_->delta();
  for (size_t i = 0; i < stamped.size(); ++i) {
    MS_RETURN_IF_ERROR(delta->Upsert(stamped[i].listing_id(),
                                     absl::MakeConstSpan(emb.row(i), emb.cols),
                                     ListingAttributes::FromListing(stamped[i]), now));
  }
  if (LexicalDelta* lexical = searcher_->lexical_delta(); lexical != nullptr) {
    MS_RETURN_IF_ERROR(lexical->Upsert(stamped, now));
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
  MS_RETURN_IF_ERROR(store_->DeleteListings(ids, NowUnixMs()));  // see Upsert
  const int64_t now = NowUnixMs();
  if (DeltaIndex* delta = searcher_->delta(); delta != nullptr) {
    for (uint64_t id : ids) delta->Delete(id, now);
  }
  if (LexicalDelta* lexical = searcher_->lexical_delta(); lexical != nullptr) {
    MS_RETURN_IF_ERROR(lexical->Delete(ids, now));
  }
  return now;
}

absl::StatusOr<ListingWriter::ReplayStats> ListingWriter::ReplayWriteLog() {
  const std::shared_ptr<const ServingState> state = searcher_->state();
  DeltaIndex* delta = searcher_->delta();
  LexicalDelta* lexical = searcher_->lexical_delta();
  if (!state || delta == nullptr || lexical == nullptr) {
    return absl::FailedPreconditionError("no model/index loaded yet");
  }
  ReplayStats stats;
  stats.snapshot_unix_ms = state->retrieval.index->manifest().snapshot_unix_ms();
  stats.lexical_snapshot_unix_ms = LexicalSnapshotUnixMs(*state);
  // A logged write goes to each delta whose index may lack it (logged at or after that
  // index's snapshot minus the margin); the two indexes are built at different times.
  const int64_t ann_from = stats.snapshot_unix_ms - kWriteLogReplayMarginMs;
  const int64_t lexical_from = stats.lexical_snapshot_unix_ms - kWriteLogReplayMarginMs;

  absl::MutexLock lock(&mu_);
  // The latest write of each listing (the log is in time order).
  absl::flat_hash_map<uint64_t, FeatureStore::LoggedWrite> latest;
  MS_RETURN_IF_ERROR(store_->ScanWriteLog(
      std::min(ann_from, lexical_from), [&](const FeatureStore::LoggedWrite& w) {
        latest[w.listing_id] = w;
        return true;
      }));
  std::vector<LexicalDelta::Write> lexical_deletes;
  auto tombstone = [&](uint64_t id, int64_t t) {
    if (t >= ann_from) delta->Delete(id, t);
    if (t >= lexical_from) lexical_deletes.push_back({id, nullptr, t});
    ++stats.tombstones;
  };
  std::vector<uint64_t> upserted;
  for (const auto& [id, w] : latest) {
    if (w.deleted) {
      tombstone(id, w.write_unix_ms);
    } else {
      upserted.push_back(id);
    }
  }
  std::sort(upserted.begin(), upserted.end());
  // The store's copy is the latest upsert (the log entry was written in its batch); encode
  // it the way Upsert did.
  constexpr size_t kBatch = 512;
  for (size_t begin = 0; begin < upserted.size(); begin += kBatch) {
    const auto ids = absl::MakeConstSpan(upserted).subspan(begin, kBatch);
    MS_ASSIGN_OR_RETURN(auto found, store_->GetListings(ids));
    std::vector<Listing> listings;  // for the delta index
    std::vector<Listing> lexical_listings;
    for (size_t i = 0; i < ids.size(); ++i) {
      const int64_t t = latest[ids[i]].write_unix_ms;
      if (!found[i].has_value()) {
        tombstone(ids[i], t);  // removed by a write that logged nothing: keep it out of search
        continue;
      }
      if (t >= lexical_from) lexical_listings.push_back(*found[i]);
      if (t >= ann_from) listings.push_back(std::move(*found[i]));
    }
    std::vector<LexicalDelta::Write> lexical_writes;
    for (const Listing& l : lexical_listings) {
      lexical_writes.push_back({l.listing_id(), &l, latest[l.listing_id()].write_unix_ms});
    }
    MS_RETURN_IF_ERROR(lexical->Apply(lexical_writes));
    stats.lexical_fresh += static_cast<int64_t>(lexical_writes.size());
    if (listings.empty()) continue;
    MS_ASSIGN_OR_RETURN(FloatMatrix emb, state->listing_encoder->Encode(listings, state->stats));
    for (size_t i = 0; i < listings.size(); ++i) {
      const uint64_t id = listings[i].listing_id();
      MS_RETURN_IF_ERROR(delta->Upsert(id, absl::MakeConstSpan(emb.row(i), emb.cols),
                                       ListingAttributes::FromListing(listings[i]),
                                       latest[id].write_unix_ms));
      ++stats.fresh;
    }
  }
  MS_RETURN_IF_ERROR(lexical->Apply(lexical_deletes));
  return stats;
}

absl::Status ListingWriter::PruneWriteLog() {
  const std::shared_ptr<const ServingState> state = searcher_->state();
  if (!state) return absl::OkStatus();
  return store_->PruneWriteLog(std::min(state->retrieval.index->manifest().snapshot_unix_ms(),
                                        LexicalSnapshotUnixMs(*state)) -
                               kWriteLogReplayMarginMs);
}

}  // namespace marketsearch
