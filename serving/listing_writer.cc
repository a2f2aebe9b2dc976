#include "serving/listing_writer.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "features/featurizer.h"
#include "features/listing_tsv.h"
#include "index/listing_filter.h"

namespace marketsearch {

namespace {

// An error of a step after validation: the client could not have avoided it, so it is
// INTERNAL whatever code the library used (Xapian's InvalidArgumentError must not reach the
// client as INVALID_ARGUMENT). The full message stays for the server log.
absl::Status AfterValidation(const absl::Status& s, const char* step) {
  return absl::InternalError(absl::StrCat(step, ": ", s.message()));
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
  DeltaIndex* delta = ann_->delta();
  if (!state || delta == nullptr) return absl::UnavailableError("no model/index loaded yet");
  std::vector<Listing> stamped(listings.begin(), listings.end());
  for (Listing& l : stamped) l.set_featurizer_version(kFeaturizerVersion);
  // Everything that depends on the listings' content happens before the store write: the
  // embedding and DeltaIndex's checks of it here, the lexical documents
  // cannot fail on content (kMaxLexicalTermBytes). So a listing that passed validation is
  // written to the store, its write log, the ANN delta and the lexical delta, or to none.
  absl::StatusOr<FloatMatrix> emb = state->listing_encoder->Encode(stamped, state->stats);
  if (!emb.ok()) return AfterValidation(emb.status(), "encode listings");
  if (emb->cols != delta->dim() || emb->rows != static_cast<int64_t>(stamped.size())) {
    return absl::InternalError(absl::StrCat("listing tower returned [", emb->rows, ", ", emb->cols,
                                            "], expected [", stamped.size(), ", ", delta->dim(), "]"));
  }
  for (size_t i = 0; i < stamped.size(); ++i) {
    // DeltaIndex::Upsert's own check, made before anything is written (sizes match above).
    if (!delta->CheckEmbedding(stamped[i].listing_id(), absl::MakeConstSpan(emb->row(i), emb->cols)).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listings[", i, "]: the served listing tower gives it a non-finite embedding"));
    }
  }

  absl::MutexLock lock(&mu_);
  // Two clock reads on purpose: the write log's time is taken before the commit (replay reaches
  // back kWriteLogReplayMarginMs before a snapshot, so it is covered); the delta's after it, so
  // that no index built from a snapshot older than the commit can drop the entry.
  if (absl::Status s = store_->PutListings(stamped, NowUnixMs()); !s.ok()) {
    return AfterValidation(s, "store write");
  }
  if (cache_ != nullptr) {
    for (const Listing& l : stamped) cache_->Put(l);
  }
  const int64_t now = NowUnixMs();
  for (size_t i = 0; i < stamped.size(); ++i) {
    // Cannot fail: sizes and values were checked above.
    if (absl::Status s = delta->Upsert(stamped[i].listing_id(), absl::MakeConstSpan(emb->row(i), emb->cols),
                                       ListingAttributes::FromListing(stamped[i]), now);
        !s.ok()) {
      return AfterValidation(s, "delta index");
    }
  }
  if (LexicalDelta* lexical = lexical_->delta(); lexical != nullptr) {
    // Only an I/O failure of the delta's database can get here: the listings are durable in
    // the store and reach the lexical leg at the next start (replay) or index build.
    if (absl::Status s = lexical->Upsert(stamped, now); !s.ok()) return AfterValidation(s, "lexical delta");
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
  if (absl::Status s = store_->DeleteListings(ids, NowUnixMs()); !s.ok()) {  // see Upsert
    return AfterValidation(s, "store delete");
  }
  if (cache_ != nullptr) {
    for (uint64_t id : ids) cache_->Erase(id);
  }
  const int64_t now = NowUnixMs();
  if (DeltaIndex* delta = ann_->delta(); delta != nullptr) {
    for (uint64_t id : ids) delta->Delete(id, now);
  }
  if (LexicalDelta* lexical = lexical_->delta(); lexical != nullptr) {
    // Idempotent: ids the delta does not hold are no-ops. Only I/O can fail here; the store
    // no longer has the listings, so search drops them at hydration all the same.
    if (absl::Status s = lexical->Delete(ids, now); !s.ok()) return AfterValidation(s, "lexical delta");
  }
  return now;
}

absl::StatusOr<ListingWriter::ReplayStats> ListingWriter::ReplayWriteLog() {
  const std::shared_ptr<const ServingState> state = searcher_->state();
  DeltaIndex* delta = ann_->delta();
  LexicalDelta* lexical = lexical_->delta();
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
  // A record that cannot be indexed is logged, counted and skipped: nothing stored may stop a
  // start. A batch that fails is retried one listing at a time to find the culprit.
  auto skip = [&](uint64_t id, const char* step, const absl::Status& s) {
    ++stats.skipped;
    std::fprintf(stderr, "listing_writer: replay skipped listing %llu (%s): %.200s\n",
                 static_cast<unsigned long long>(id), step, std::string(s.message()).c_str());
  };
  auto apply_lexical = [&](const std::vector<LexicalDelta::Write>& writes) {
    if (lexical->Apply(writes).ok()) {
      stats.lexical_fresh += static_cast<int64_t>(writes.size());
      return;
    }
    for (const LexicalDelta::Write& w : writes) {
      if (absl::Status s = lexical->Apply({w}); !s.ok()) {
        skip(w.listing_id, "lexical delta", s);
      } else {
        ++stats.lexical_fresh;
      }
    }
  };
  auto upsert_ann = [&](const Listing& l, const float* v, int dim) {
    if (absl::Status s = delta->Upsert(l.listing_id(), absl::MakeConstSpan(v, dim),
                                       ListingAttributes::FromListing(l),
                                       latest[l.listing_id()].write_unix_ms);
        !s.ok()) {
      skip(l.listing_id(), "delta index", s);
    } else {
      ++stats.fresh;
    }
  };
  // The store's copy is the latest upsert (the log entry was written in its batch); encode
  // it the way Upsert did.
  constexpr size_t kBatch = 512;
  for (size_t begin = 0; begin < upserted.size(); begin += kBatch) {
    const auto ids = absl::MakeConstSpan(upserted).subspan(begin, kBatch);
    absl::StatusOr<std::vector<std::optional<Listing>>> found = store_->GetListings(ids);
    if (!found.ok()) {  // one unreadable record fails the batch: read one at a time
      found.emplace();
      for (uint64_t id : ids) {
        absl::StatusOr<std::vector<std::optional<Listing>>> one = store_->GetListings({id});
        if (!one.ok()) skip(id, "store read", one.status());
        found->push_back(one.ok() ? std::move((*one)[0]) : std::nullopt);
      }
    }
    std::vector<Listing> listings;  // for the delta index
    std::vector<Listing> lexical_listings;
    for (size_t i = 0; i < ids.size(); ++i) {
      const int64_t t = latest[ids[i]].write_unix_ms;
      if (!(*found)[i].has_value()) {
        tombstone(ids[i], t);  // removed by a write that logged nothing: keep it out of search
        continue;
      }
      if (t >= lexical_from) lexical_listings.push_back(*(*found)[i]);
      if (t >= ann_from) listings.push_back(std::move(*(*found)[i]));
    }
    std::vector<LexicalDelta::Write> lexical_writes;
    for (const Listing& l : lexical_listings) {
      lexical_writes.push_back({l.listing_id(), &l, latest[l.listing_id()].write_unix_ms});
    }
    apply_lexical(lexical_writes);
    if (listings.empty()) continue;
    absl::StatusOr<FloatMatrix> emb = state->listing_encoder->Encode(listings, state->stats);
    if (emb.ok()) {
      for (size_t i = 0; i < listings.size(); ++i) upsert_ann(listings[i], emb->row(i), emb->cols);
      continue;
    }
    for (const Listing& l : listings) {
      absl::StatusOr<FloatMatrix> one = state->listing_encoder->Encode({l}, state->stats);
      if (!one.ok()) {
        skip(l.listing_id(), "encode", one.status());
      } else {
        upsert_ann(l, one->row(0), one->cols);
      }
    }
  }
  if (absl::Status s = lexical->Apply(lexical_deletes); !s.ok()) {
    for (const LexicalDelta::Write& w : lexical_deletes) {
      if (absl::Status one = lexical->Apply({w}); !one.ok()) skip(w.listing_id, "lexical delete", one);
    }
  }
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
