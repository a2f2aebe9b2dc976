// ListingWriter: the write side of the server (UpsertListings / DeleteListings). A write goes
// to the feature store first (fsynced WAL), then to each leg's live delta (index/live_index.h:
// the delta index and the lexical delta, shared with the Searcher), so an acknowledged upsert is searchable at once through both legs, the ANN one by its
// embedding and the lexical one by its words (and survives a crash in the store; the next
// index builds fold it in), and an acknowledged delete is never returned again (the store no
// longer has it and the main indexes' copies are tombstoned / superseded).
//
// Restarts: both deltas live in memory (the lexical one in a temporary directory), so every
// write is also recorded in the store's write log (FeatureStore::ScanWriteLog), in the same
// atomic batch as the listing itself. After a restart, ReplayWriteLog() rebuilds the deltas
// from the writes made since the served indexes' store snapshots (the FAISS index's for the
// delta index, the lexical index's for the lexical delta: the two are built separately).
//
// Thread safety: calls are serialised internally (one writer at a time); safe to call from
// many RPC threads. The store, the searcher and the live indexes are not owned and must
// outlive the writer.
#ifndef MARKETSEARCH_SERVING_LISTING_WRITER_H_
#define MARKETSEARCH_SERVING_LISTING_WRITER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "features/feature_store.h"
#include "index/live_index.h"
#include "index/memory_listing_reader.h"
#include "serving/searcher.h"

namespace marketsearch {

inline constexpr int kMaxUpsertsPerCall = 1000;
inline constexpr int kMaxDeletesPerCall = 10000;
// How far before the index snapshot the replay reaches back. A write-log entry carries the
// time taken just before its batch was committed, the delta the time after; a write in
// flight while the build took its snapshot may have a log time before snapshot_unix_ms and
// still be missing from the index. Replaying a write the index already holds is harmless
// (the fresh copy equals the store's and shadows the indexed one).
inline constexpr int64_t kWriteLogReplayMarginMs = 60 * 1000;

class ListingWriter {
 public:
  // REQUIRES: store opened as the primary (writable) instance. `searcher` supplies the served
  // state (the listing tower, catalog statistics, snapshot times); `ann` and `lexical` are the
  // legs' live sides this writer writes (shared with the Searcher). None is owned.
  // `cache` (optional, not owned): the request path's in-memory records, updated after each
  // store commit.
  ListingWriter(FeatureStore* store, const Searcher* searcher, LiveAnnIndex* ann,
                LiveLexicalIndex* lexical, MemoryListingReader* cache = nullptr)
      : store_(store), searcher_(searcher), ann_(ann), lexical_(lexical), cache_(cache) {}

  // Validates every listing first (INVALID_ARGUMENT "listings[i].field: ..."; nothing is
  // written) and embeds them, then writes each to the store (and its write log), the delta
  // index and the lexical delta: all or none, except for an I/O failure of the lexical delta
  // after the store commit (INTERNAL; the listing then reaches the lexical leg at the next
  // start or build). UNAVAILABLE when no model/index is loaded; INTERNAL for any failure
  // after validation (its message is for the server log, not the client). Returns the write
  // time (ms since the epoch) the delta index records.
  absl::StatusOr<int64_t> Upsert(absl::Span<const Listing> listings);
  // Unknown and already deleted ids are accepted (idempotent). Before any index is loaded the delete goes to the
  // store (and its write log) only; ReplayWriteLog tombstones it once the delta exists.
  absl::StatusOr<int64_t> Delete(absl::Span<const uint64_t> listing_ids);

  struct ReplayStats {
    int64_t fresh = 0;       // listings upserted into the delta
    int64_t tombstones = 0;  // listings tombstoned (deleted since the snapshot)
    int64_t snapshot_unix_ms = 0;  // of the served index
    int64_t lexical_fresh = 0;     // listings upserted into the lexical delta
    int64_t lexical_snapshot_unix_ms = 0;  // LexicalSnapshotUnixMs of the served state
    int64_t skipped = 0;  // logged writes that could not be indexed (each logged on stderr)
  };
  // Rebuilds the deltas from the write log after a restart: the latest logged write of every
  // listing written since the served index's snapshot_unix_ms (minus kWriteLogReplayMarginMs)
  // is applied to the delta index with its logged time: the store's current copy is encoded
  // and upserted, a deleted (or vanished) listing tombstoned; likewise for the lexical delta
  // from the lexical index's snapshot. A listing that cannot be indexed is logged, counted in
  // `skipped` and left out: no stored record can make the replay fail. Safe to run while
  // writes arrive (newer writes win). FailedPrecondition when no index is loaded; the store's
  // read errors.
  absl::StatusOr<ReplayStats> ReplayWriteLog();
  // Drops the write-log entries both served indexes hold (older than the earlier of their
  // snapshots minus the margin); call after each index swap. Rolling CURRENT back to an older
  // index later does not bring those writes back into the deltas (neither does the in-memory
  // DropBefore).
  absl::Status PruneWriteLog();

 private:
  FeatureStore* const store_;
  const Searcher* const searcher_;
  LiveAnnIndex* const ann_;
  LiveLexicalIndex* const lexical_;
  MemoryListingReader* const cache_;
  absl::Mutex mu_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_LISTING_WRITER_H_
