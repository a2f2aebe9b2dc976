#include "experiments/impression_queue.h"

#include <cstdio>
#include <string>
#include <utility>

namespace marketsearch {

ImpressionQueue::ImpressionQueue(EventLog* log, int capacity)
    : log_(log), capacity_(static_cast<size_t>(std::max(1, capacity))), writer_([this] { Run(); }) {}

ImpressionQueue::~ImpressionQueue() { Close(); }

bool ImpressionQueue::Enqueue(const SearchRequest& request, const SearchResponse& response,
                              int64_t timestamp_ms, double latency_ms) {
  Item item;
  item.request = request;
  item.response = SlimImpression(response);  // copied here: the caller's page is the client's
  (*item.response.mutable_debug()->mutable_stage_ms())["total"] = latency_ms;
  item.timestamp_ms = timestamp_ms;
  absl::MutexLock lock(&mu_);
  if (closed_ || queue_.size() >= capacity_) {
    ++dropped_;
    return false;
  }
  queue_.push_back(std::move(item));
  return true;
}

void ImpressionQueue::Run() {
  for (;;) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ImpressionQueue* q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu_) {
            return q->closed_ || !q->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // closed and drained
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    if (absl::Status s = log_->AppendImpression(item.request, item.response, item.timestamp_ms); s.ok()) {
      ++written_;
    } else {
      if (failed_.fetch_add(1) == 0) {  // the first of a run of failures, not every one
        std::fprintf(stderr, "impression log: %s\n", std::string(s.message()).c_str());
      }
    }
  }
}

void ImpressionQueue::Close() {
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  if (writer_.joinable()) writer_.join();
}

int64_t ImpressionQueue::depth() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(queue_.size());
}

}  // namespace marketsearch
