// MemoryListingReader: what the request path reads of each listing, held in memory, so a
// request reads its ~400 candidates from a hash map instead of a RocksDB MultiGet + parse of
// each (the largest stage at 1M listings). Per listing it keeps the serving record: the
// stored Listing proto (filters, dense features, the page), its token sets for the ranking
// features (features/listing_tokens.h: tokenising is most of the features' cost) and its
// engagement counters. Loaded from the feature store with one scan at start; the write path
// (serving/listing_writer) keeps it current after each store commit. The store stays the
// durable source of truth: a restart reloads from it.
//
// Tokens: Put prepares them with the record (the write path pays ~10 us a listing); Load does
// not (1M listings take ~7 s of one core), so the server calls PrepareTokens on a background
// thread after start and, until it is done, ReadRankingInputs returns a null entry for a
// record without tokens (the ranking features then prepare them per request).
// Counters are read from the store at Load; nothing in the server writes them while it runs
// (no job aggregates them from the experiment log yet: all are zero, the ranker's training
// data included), so a job that does must also reach the running server.
// The user and the stored embeddings (ReadRankingInputs) come from the store and the index as
// StoreListingReader reads them.
//
// Only for a server that owns the store (primary): a follower of another writer would not see
// its writes here.
//
// Thread safety: reads and writes may come from any thread (a reader lock per read, the
// writer lock per write).
#ifndef MARKETSEARCH_INDEX_MEMORY_LISTING_READER_H_
#define MARKETSEARCH_INDEX_MEMORY_LISTING_READER_H_

#include <atomic>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "index/listing_reader.h"

namespace marketsearch {

class MemoryListingReader : public ListingReader {
 public:
  // Reads every stored listing and every listing's counters. `store` and `ann` are borrowed
  // (as StoreListingReader's).
  static absl::StatusOr<std::unique_ptr<MemoryListingReader>> Load(const FeatureStore* store,
                                                                   const LiveAnnIndex* ann);

  // The held records themselves (no copy): a later Put replaces the map's pointer, never
  // the record a request holds.
  absl::StatusOr<std::vector<ListingRecord>> ReadListings(
      absl::Span<const uint64_t> ids) const override;
  // Counters and tokens from memory; the user from the store; embeddings from `index` (+ the
  // live delta).
  absl::StatusOr<RankingInputs> ReadRankingInputs(absl::Span<const uint64_t> ids, uint64_t user_id,
                                                  const IndexSnapshot& index) const override;

  // The write path, after the store committed: the listing's new record (tokenised here) /
  // its deletion.
  void Put(const Listing& listing);
  void Erase(uint64_t listing_id);

  // Tokenises every held record that has no tokens yet (those Load read), in batches outside
  // the lock; stops early when `stop` becomes true. Returns how many it tokenised.
  int64_t PrepareTokens(const std::atomic<bool>& stop);

  int64_t size() const;
  // Records whose tokens are prepared.
  int64_t tokenized() const;
  // Approximate bytes held by the records (protobuf's SpaceUsedLong), as of Load.
  int64_t loaded_bytes() const { return loaded_bytes_; }

 private:
  // ListingCounters without the proto's overhead (24 bytes a listing).
  struct Counters {
    int64_t impressions = 0, clicks = 0, purchases = 0;
  };
  struct Entry {
    std::shared_ptr<const Listing> listing;
    std::shared_ptr<const ListingTokens> tokens;  // null until prepared
    Counters counters;
  };

  MemoryListingReader(const FeatureStore* store, const LiveAnnIndex* ann) : store_(store), ann_(ann) {}

  const FeatureStore* const store_;
  const LiveAnnIndex* const ann_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, Entry> records_ ABSL_GUARDED_BY(mu_);
  int64_t tokenized_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t loaded_bytes_ = 0;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_MEMORY_LISTING_READER_H_
