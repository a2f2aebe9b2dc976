// ListingWriter: the write side of the server (UpsertListings / DeleteListings). A write goes
// to the feature store first (fsynced WAL), then to the searcher's delta index, so an
// acknowledged upsert is searchable at once through the ANN leg (and survives a crash in the
// store; the next index build folds it in), and an acknowledged delete is never returned
// again (the store no longer has it and the main index's copy is tombstoned).
//
// Thread safety: calls are serialised internally (one writer at a time); safe to call from
// many RPC threads. The store and the searcher are not owned and must outlive the writer.
#ifndef MARKETSEARCH_SERVING_LISTING_WRITER_H_
#define MARKETSEARCH_SERVING_LISTING_WRITER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "features/feature_store.h"
#include "serving/searcher.h"

namespace marketsearch {

inline constexpr int kMaxUpsertsPerCall = 1000;
inline constexpr int kMaxDeletesPerCall = 10000;

class ListingWriter {
 public:
  // REQUIRES: store opened as the primary (writable) instance.
  ListingWriter(FeatureStore* store, Searcher* searcher) : store_(store), searcher_(searcher) {}

  // Validates every listing first (INVALID_ARGUMENT "listings[i].field: ..."; nothing is
  // written), then writes. UNAVAILABLE when no model/index is loaded. Returns the write time
  // (ms since the epoch) the delta index records.
  absl::StatusOr<int64_t> Upsert(absl::Span<const Listing> listings);
  // Unknown ids are accepted (idempotent).
  absl::StatusOr<int64_t> Delete(absl::Span<const uint64_t> listing_ids);

 private:
  FeatureStore* const store_;
  Searcher* const searcher_;
  absl::Mutex mu_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_LISTING_WRITER_H_
