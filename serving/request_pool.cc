#include "serving/request_pool.h"

#include <algorithm>
#include <utility>

namespace marketsearch {

RequestPool::RequestPool(Options options) : options_(std::move(options)) {
  const int n = std::max(1, options_.threads);
  workers_.reserve(n);
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

RequestPool::~RequestPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

bool RequestPool::TrySubmit(std::function<void()> work) {
  absl::MutexLock lock(&mu_);
  // Work in the pool = running + waiting; waiting beyond max_queued is refused.
  if (running_ + static_cast<int>(queue_.size()) >= threads() + std::max(0, options_.max_queued)) {
    ++rejected_;
    return false;
  }
  if (queue_.empty()) nonempty_since_ = std::chrono::steady_clock::now();
  queue_.push_back(std::move(work));
  return true;
}

int RequestPool::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(queue_.size());
}

int RequestPool::idle_workers() const {
  absl::MutexLock lock(&mu_);
  return std::max(0, threads() - running_ - static_cast<int>(queue_.size()));
}

std::chrono::steady_clock::duration RequestPool::standing_for() const {
  absl::MutexLock lock(&mu_);
  if (queue_.empty()) return std::chrono::steady_clock::duration::zero();
  return std::chrono::steady_clock::now() - nonempty_since_;
}

int64_t RequestPool::rejected() const {
  absl::MutexLock lock(&mu_);
  return rejected_;
}

void RequestPool::WorkerLoop() {
  if (options_.on_thread_start) options_.on_thread_start();
  auto has_work_or_stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || stopping_;
  };
  while (true) {
    std::function<void()> work;
    {
      absl::MutexLock lock(&mu_, absl::Condition(&has_work_or_stopping));
      if (queue_.empty()) return;  // stopping, and the queue is drained
      work = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    work();
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace marketsearch
