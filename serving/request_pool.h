// RequestPool: the server's bounded execution of requests. A fixed number of worker threads
// runs the submitted work; at most `max_queued` items wait for a worker, and TrySubmit refuses
// (returns false) beyond that, so an overloaded server answers RESOURCE_EXHAUSTED at once
// instead of growing a queue (and its latency) or a thread per request without bound.
//
// Thread safety: TrySubmit and the accessors may be called from any thread. The destructor
// runs the work already queued, then joins the workers; TrySubmit must not be called during
// or after destruction.
#ifndef MARKETSEARCH_SERVING_REQUEST_POOL_H_
#define MARKETSEARCH_SERVING_REQUEST_POOL_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace marketsearch {

class RequestPool {
 public:
  struct Options {
    int threads = 2;      // workers; >= 1
    int max_queued = 64;  // work waiting for a worker; >= 0
    // Runs once on each worker before its first item: per-thread library settings (OpenMP's
    // thread count is a per-thread setting that new threads do not inherit).
    std::function<void()> on_thread_start;
  };
  explicit RequestPool(Options options);
  ~RequestPool();
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  // Queues `work` for a worker; false (and `work` is dropped unrun) when every worker is busy
  // and max_queued items are already waiting.
  bool TrySubmit(std::function<void()> work);

  int threads() const { return static_cast<int>(workers_.size()); }
  int max_queued() const { return options_.max_queued; }
  int queued() const;
  // Workers with nothing to run (none queued): what a running item may use for work of its
  // own (the Searcher's second retrieval leg).
  int idle_workers() const;
  int64_t rejected() const;  // TrySubmit calls refused so far
  // How long the queue has been non-empty without a break (zero when it is empty now): a
  // standing queue, the sign of overload rather than of a burst (MarketSearchService sheds
  // searches that waited long in one; CoDel's and "Fail at Scale"'s controlled delay).
  std::chrono::steady_clock::duration standing_for() const;

 private:
  void WorkerLoop();

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // items a worker is running
  // When the queue last went from empty to non-empty.
  std::chrono::steady_clock::time_point nonempty_since_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_REQUEST_POOL_H_
