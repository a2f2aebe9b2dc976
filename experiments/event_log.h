// EventLog: the experiment log (RocksDB under <data_dir>/logs): impressions (what a request
// showed) and buyer events (clicks, purchases). Keys are ordered by time so an evaluation
// job can scan a time range. Thread-safe; writes are durable once Append* returns OK.
#ifndef MARKETSEARCH_EXPERIMENTS_EVENT_LOG_H_
#define MARKETSEARCH_EXPERIMENTS_EVENT_LOG_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "proto/search.pb.h"

namespace rocksdb {
class DB;
}

namespace marketsearch {

// What the log keeps of a served page: request id, versions, arms, each result's id, score
// and interleaving team, and of debug.stage_ms only "total" (the server latency) and
// "error_code" (a failed search). Titles and the rest of the page are not logged.
SearchResponse SlimImpression(const SearchResponse& response);

class EventLog {
 public:
  static absl::StatusOr<std::unique_ptr<EventLog>> Open(const std::string& path);
  // Opens for reading alongside the server that writes it (RocksDB read-only: no lock, sees
  // what was written when it opened). Append* fail on it.
  static absl::StatusOr<std::unique_ptr<EventLog>> OpenReadOnly(const std::string& path);
  ~EventLog();

  // Records the page a request showed (the request, the listing ids in order, the versions,
  // the experiment arms that served it and, in debug.stage_ms, the server latency ("total")
  // and, for a search that failed, its status code ("error_code", no page)).
  absl::Status AppendImpression(const SearchRequest& request, const SearchResponse& response,
                                int64_t timestamp_ms);
  // Records buyer events; each must already be validated.
  absl::Status AppendEvents(absl::Span<const Event> events, int64_t timestamp_ms);

  // Scans events in key (time) order until fn returns false.
  absl::Status ScanEvents(const std::function<bool(const Event&)>& fn) const;
  // Scans impressions in time order until fn returns false (the response as recorded).
  absl::Status ScanImpressions(
      const std::function<bool(int64_t timestamp_ms, const SearchRequest&, const SearchResponse&)>&
          fn) const;
  int64_t CountImpressions() const;

  // Retention: deletes every impression and event older than `cutoff_ms` (keys are ordered by
  // time, so two range deletions) and compacts those ranges so the disk space comes back.
  // Returns OK when there was nothing to drop.
  absl::Status DropBefore(int64_t cutoff_ms);
  // Bytes held: SST files plus memtables (RocksDB's own accounting).
  int64_t SizeBytes() const;

 private:
  EventLog() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::atomic<uint64_t> seq_{0};
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_EXPERIMENTS_EVENT_LOG_H_
