// The feature store: listings, users and counters in RocksDB column families, values are
// serialized protos, keys are big-endian uint64 ids (so a scan is in id order).
//
// Write log ("writes" column family): a listing write that names a write time
// (PutListings/DeleteListings with write_unix_ms > 0, i.e. the server's UpsertListings and
// DeleteListings) also records, in the same atomic batch, one entry per listing:
//   key   = big-endian write_unix_ms (8 bytes) + IdKey(listing_id)  — scans in time order
//   value = "u" (upsert) or "d" (delete)
// so that the server can rebuild its in-memory delta index after a restart from the writes
// made since the served index's store snapshot (ScanWriteLog from that time). Bulk loads
// (ingest) pass no time and log nothing: an index build follows them. Entries the served
// index already holds are dropped with PruneWriteLog. A store created before the write log
// existed gets the column family on its first writable open; read-only and secondary opens
// of such a store see an empty log.
//
// Thread safety: all methods may be called concurrently (RocksDB is thread-safe).
// Durability: writes go through the WAL; with Options::sync_writes (default true) a write
// that returned OK survives a process crash (kill -9) and a machine crash.
#ifndef MARKETSEARCH_FEATURES_FEATURE_STORE_H_
#define MARKETSEARCH_FEATURES_FEATURE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "proto/catalog.pb.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace marketsearch {

class FeatureStore {
 public:
  struct Options {
    std::string path;              // directory of the RocksDB database (created if missing)
    bool read_only = false;        // open without taking the write lock (several readers)
    // When set (and read_only is false), open as a RocksDB secondary instance that follows a
    // primary written by another process; CatchUp() pulls in the primary's new writes.
    // The directory holds the secondary's own info log.
    std::string secondary_path;
    bool sync_writes = true;       // fsync the WAL on every write batch
    int64_t block_cache_mb = 256;  // shared LRU block cache
  };

  static absl::StatusOr<std::unique_ptr<FeatureStore>> Open(const Options& options);
  ~FeatureStore();

  // Writes the listings in one atomic batch (replaces existing ones with the same id).
  // write_unix_ms > 0: also logs the writes at that time (see the write log above).
  absl::Status PutListings(absl::Span<const Listing> listings, int64_t write_unix_ms = 0);
  // Deletes listings (sold / withdrawn) in one atomic batch; unknown ids are ignored (but
  // logged when write_unix_ms > 0).
  absl::Status DeleteListings(absl::Span<const uint64_t> ids, int64_t write_unix_ms = 0);
  // Batched lookup; result[i] is empty when ids[i] is not in the store.
  absl::StatusOr<std::vector<std::optional<Listing>>> GetListings(
      absl::Span<const uint64_t> ids) const;
  // Calls `fn` for every listing in id order until it returns false.
  absl::Status ScanListings(const std::function<bool(const Listing&)>& fn) const;

  // One write-log entry.
  struct LoggedWrite {
    int64_t write_unix_ms = 0;
    uint64_t listing_id = 0;
    bool deleted = false;
  };
  // Calls `fn` for every write-log entry with write_unix_ms >= since_unix_ms, in
  // (write time, listing id) order, until it returns false. Several entries may name one
  // listing; the last one is its latest write.
  absl::Status ScanWriteLog(int64_t since_unix_ms,
                            const std::function<bool(const LoggedWrite&)>& fn) const;
  // Deletes the write-log entries with write_unix_ms < before_unix_ms (one range delete).
  absl::Status PruneWriteLog(int64_t before_unix_ms);

  absl::Status PutUsers(absl::Span<const User> users);
  absl::StatusOr<std::optional<User>> GetUser(uint64_t user_id) const;

  // Catalog statistics (one record in the counters column family). NotFound before ingest
  // has written them.
  absl::Status PutCatalogStats(const CatalogStats& stats);
  absl::StatusOr<CatalogStats> GetCatalogStats() const;

  // Engagement counters per listing (counters column family); missing ids get zeros.
  absl::Status PutListingCounters(absl::Span<const uint64_t> ids,
                                  absl::Span<const ListingCounters> counters);
  absl::StatusOr<std::vector<ListingCounters>> GetListingCounters(
      absl::Span<const uint64_t> ids) const;
  // Calls `fn` for every listing that has counters, in id order, until it returns false.
  absl::Status ScanListingCounters(
      const std::function<bool(uint64_t listing_id, const ListingCounters&)>& fn) const;

  // Approximate number of listings (RocksDB estimate).
  int64_t EstimateListingCount() const;
  // Flushes memtables so the on-disk size is meaningful.
  absl::Status Flush();
  // Secondary instances only: replays the primary's new writes (no-op otherwise).
  absl::Status CatchUp();

 private:
  FeatureStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  // default, listings, users, counters, writes (null: read-only open of an older store).
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  bool sync_writes_ = true;
  bool secondary_ = false;
};

// Big-endian 8-byte key of an id.
std::string IdKey(uint64_t id);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_FEATURE_STORE_H_
