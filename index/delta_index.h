// DeltaIndex: the listings written after the served index snapshot was taken, kept in memory
// until an index built from a later store snapshot replaces them:
//   - fresh listings (upserts): embedding + filter attributes, searched exactly (a brute-force
//     scan; the delta holds thousands to tens of thousands of listings between rebuilds);
//   - tombstones: ids whose copy in the main snapshot must not be served any more — deleted
//     listings and listings that were updated (their new copy lives in the delta).
// Every entry carries the server time its write was acknowledged (write_time_ms). Writes to
// one listing are last-writer-wins by write_time_ms (a write older than the one already
// recorded for that id is ignored). DropBefore(t) forgets everything written before t, once
// the server serves an index built from a store snapshot taken at t (IndexManifest
// snapshot_unix_ms): those writes are part of that index.
//
// Thread safety: all methods may be called concurrently; Search/IsTombstoned/size take a
// shared lock, Upsert/Delete/DropBefore an exclusive one (one writer at a time, many
// concurrent readers). Search holds the shared lock for one scan of the delta.
#ifndef MARKETSEARCH_INDEX_DELTA_INDEX_H_
#define MARKETSEARCH_INDEX_DELTA_INDEX_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "index/index_snapshot.h"
#include "index/listing_filter.h"

namespace marketsearch {

class DeltaIndex {
 public:
  // REQUIRES: dim > 0 (the embedding size of the served listing tower).
  explicit DeltaIndex(int dim);

  // The checks Upsert makes of an embedding (size == dim(), every value finite), for a caller
  // that must know before it writes anything else. InvalidArgument naming the listing.
  absl::Status CheckEmbedding(uint64_t listing_id, absl::Span<const float> embedding) const;

  // Adds or replaces the fresh copy of a listing and tombstones its copy in the main index.
  // Errors: those of CheckEmbedding. A write older than
  // the one recorded for the id is ignored (OK, nothing changes).
  absl::Status Upsert(uint64_t listing_id, absl::Span<const float> embedding,
                      const ListingAttributes& attributes, int64_t write_time_ms);

  // Removes the fresh copy (if any) and tombstones the main index's copy. Unknown ids are
  // tombstoned all the same (the main index may hold them). Same ordering rule as Upsert.
  void Delete(uint64_t listing_id, int64_t write_time_ms);

  // Top-k fresh listings that pass `filter` (null or empty = all), best first, exact inner
  // product. REQUIRES: query has dim() floats.
  std::vector<Neighbor> Search(const float* query, int k,
                               const ListingFilter* filter = nullptr) const;

  // Copies the fresh copy's embedding (dim() floats) into `out`. NotFound when the delta holds
  // no fresh copy of `listing_id` (never written here, deleted, or dropped).
  absl::Status Reconstruct(uint64_t listing_id, float* out) const;

  // True when the main index's copy of `listing_id` must be suppressed.
  bool IsTombstoned(uint64_t listing_id) const;

  // Forgets fresh listings and tombstones written before snapshot_unix_ms (strictly: a
  // write at exactly that millisecond may have missed the snapshot, so it is kept — keeping
  // one is harmless, dropping one could resurrect a deleted listing). Returns the number of
  // records (fresh listings + tombstones) dropped.
  int64_t DropBefore(int64_t snapshot_unix_ms);

  int dim() const { return dim_; }
  // Fresh listings held.
  int64_t size() const;
  int64_t tombstone_count() const;

 private:
  friend absl::StatusOr<std::vector<Neighbor>> SearchWithDelta(const IndexSnapshot&,
                                                               const DeltaIndex&, const float*,
                                                               int, const SearchOptions&,
                                                               SearchStats*);
  // The newest write time recorded for `id` (fresh copy or tombstone), or INT64_MIN.
  int64_t LatestWrite(uint64_t id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void RemoveSlot(size_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<Neighbor> SearchLocked(const float* query, int k, const ListingFilter* filter) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const int dim_;
  mutable absl::Mutex mu_;
  // Fresh listings in dense slots (swap-remove on delete) for a cache-friendly scan.
  std::vector<uint64_t> ids_ ABSL_GUARDED_BY(mu_);
  std::vector<float> vectors_ ABSL_GUARDED_BY(mu_);  // slots × dim
  std::vector<ListingAttributes> attributes_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> write_ms_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, size_t> slot_of_ ABSL_GUARDED_BY(mu_);
  // listing id -> write time of the write that tombstoned the main copy.
  absl::flat_hash_map<uint64_t, int64_t> tombstones_ ABSL_GUARDED_BY(mu_);
};

// Search over the served snapshot plus the delta, as the server should run it:
//   1. the snapshot's (filtered) top hits, over-fetched by the number of tombstones that may
//      hide among them (and fetched again deeper if too many were tombstoned),
//   2. tombstoned ids dropped, under one shared lock of the delta, with
//   3. the delta's (filtered) top-k fresh listings merged in by score,
// returning the best k (min(k, matching live listings) when the snapshot search is exact).
// Errors: InvalidArgument (delta.dim() != snapshot.dim()), those of IndexSnapshot::Search.
absl::StatusOr<std::vector<Neighbor>> SearchWithDelta(const IndexSnapshot& snapshot,
                                                      const DeltaIndex& delta, const float* query,
                                                      int k, const SearchOptions& options,
                                                      SearchStats* stats = nullptr);
// Convenience form: `filter` may be null.
absl::StatusOr<std::vector<Neighbor>> SearchWithDelta(const IndexSnapshot& snapshot,
                                                      const DeltaIndex& delta, const float* query,
                                                      int k, const ListingFilter* filter = nullptr,
                                                      int nprobe = 0);

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_DELTA_INDEX_H_
