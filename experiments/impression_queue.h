// ImpressionQueue: takes the impression write off the request path. Search hands the page it
// showed to Enqueue(), which only copies the slim record into a bounded queue; one background
// thread appends the queued impressions to the EventLog (RocksDB). When the queue is full the
// impression is dropped and counted (the buyer's request never waits for the log); a failed
// append is counted too. Close() (and the destructor) drains what is queued, so a graceful
// shutdown loses nothing.
//
// The loss window of a crash (kill -9, OOM kill): at most `capacity` + 1 impressions of pages
// already served, those still in the queue plus the one the writer thread took out and is
// appending. There is no flush interval: the writer appends each impression as soon as it is
// queued, so the queue is near empty unless the log falls behind, and an appended one
// survives the process (EventLog writes it to RocksDB's WAL, unsynced: in the OS page cache
// at once, lost only if the machine itself goes down before the OS writes it back).
// The server's --impression_queue_capacity sets `capacity` (default 10000); measured by
// tests/kill9_e2e_test.cc.
//
// Thread safety: Enqueue and the counters may be called from any thread.
#ifndef MARKETSEARCH_EXPERIMENTS_IMPRESSION_QUEUE_H_
#define MARKETSEARCH_EXPERIMENTS_IMPRESSION_QUEUE_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "experiments/event_log.h"
#include "proto/search.pb.h"

namespace marketsearch {

class ImpressionQueue {
 public:
  // `log` is not owned and must outlive the queue. `capacity`: impressions that may wait.
  ImpressionQueue(EventLog* log, int capacity);
  ~ImpressionQueue();  // Close()
  ImpressionQueue(const ImpressionQueue&) = delete;
  ImpressionQueue& operator=(const ImpressionQueue&) = delete;

  // Queues the page `response` showed for `request` (and the server latency, for the
  // experiment report's latency guardrail); false (and counted) when the queue is full or
  // closed. Never blocks on the log.
  bool Enqueue(const SearchRequest& request, const SearchResponse& response, int64_t timestamp_ms,
               double latency_ms = 0);

  // Stops taking impressions, writes every queued one, joins the writer. Idempotent; not to be
  // called from two threads at once.
  void Close();

  int64_t written() const { return written_.load(); }
  int64_t dropped() const { return dropped_.load(); }  // queue full or closed
  int64_t failed() const { return failed_.load(); }    // the log refused the append
  int64_t depth() const;

 private:
  struct Item {
    SearchRequest request;
    SearchResponse response;  // the slim page: ids, scores, versions, arms, request id, latency
    int64_t timestamp_ms;
  };
  void Run();

  EventLog* const log_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> written_{0}, dropped_{0}, failed_{0};
  std::thread writer_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_EXPERIMENTS_IMPRESSION_QUEUE_H_
