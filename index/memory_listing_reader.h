// MemoryListingReader: the request path's listing records held in memory, so that a request
// reads its ~400 candidates from a hash map instead of a RocksDB MultiGet + parse of each
// (the largest stage at 1M listings). Loaded from the feature store with one scan at start;
// the write path (serving/listing_writer) keeps it current after each store commit. The store
// stays the durable source of truth: a restart reloads from it.
//
// Records are the stored Listing protos, whole: the ranking features read every text field,
// the description included (a compact record of pre-tokenised text is the next step: about
// 1 KB a listing today). Counters, the user and stored embeddings (ReadRankingInputs) come from
// the store and the index as StoreListingReader reads them.
//
// Only for a server that owns the store (primary): a follower of another writer would not see
// its writes here.
//
// Thread safety: reads and writes may come from any thread (a reader lock per read, the
// writer lock per write).
#ifndef MARKETSEARCH_INDEX_MEMORY_LISTING_READER_H_
#define MARKETSEARCH_INDEX_MEMORY_LISTING_READER_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "index/listing_reader.h"

namespace marketsearch {

class MemoryListingReader : public ListingReader {
 public:
  // Reads every stored listing. `store` and `ann` are borrowed (as StoreListingReader's).
  static absl::StatusOr<std::unique_ptr<MemoryListingReader>> Load(const FeatureStore* store,
                                                                   const LiveAnnIndex* ann);

  // The held records themselves (no copy): a later Put replaces the map's pointer, never
  // the record a request holds.
  absl::StatusOr<std::vector<ListingRecord>> ReadListings(
      absl::Span<const uint64_t> ids) const override;
  absl::StatusOr<RankingInputs> ReadRankingInputs(absl::Span<const uint64_t> ids, uint64_t user_id,
                                                  const IndexSnapshot& index) const override;

  // The write path, after the store committed: the listing's new record / its deletion.
  void Put(const Listing& listing);
  void Erase(uint64_t listing_id);

  int64_t size() const;
  // Every record held now (shared, no copies): for warming caches keyed by record.
  std::vector<ListingRecord> Records() const;
  // Approximate bytes held by the records (protobuf's SpaceUsedLong), as of Load.
  int64_t loaded_bytes() const { return loaded_bytes_; }

 private:
  MemoryListingReader(const FeatureStore* store, const LiveAnnIndex* ann) : store_reader_(store, ann) {}
  static std::shared_ptr<const Listing> Record(const Listing& listing);

  const StoreListingReader store_reader_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<const Listing>> records_ ABSL_GUARDED_BY(mu_);
  int64_t loaded_bytes_ = 0;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_MEMORY_LISTING_READER_H_
