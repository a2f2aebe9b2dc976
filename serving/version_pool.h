// VersionPool: the extra versions of one kind of servable that experiment arms name (e.g.
// ranker v3 in one arm while the lifecycle serves v4), loaded when a configuration that needs
// them is loaded and released when no running arm needs them any more. The lifecycle's own
// serving version is not held here.
//
// Thread safety: every method may be called from any thread; Get() is cheap (a mutex and a
// map lookup) and a request keeps the shared_ptr it got across a Retain() that drops it.
#ifndef MARKETSEARCH_SERVING_VERSION_POOL_H_
#define MARKETSEARCH_SERVING_VERSION_POOL_H_

#include <cstdint>
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace marketsearch {

template <typename T>
class VersionPool {
 public:
  // Loads version v (its errors are Load's).
  using Loader = std::function<absl::StatusOr<std::shared_ptr<const T>>(int64_t version)>;
  explicit VersionPool(Loader loader) : loader_(std::move(loader)) {}

  // Makes sure `version` is held: loads it unless it is. Its error otherwise (nothing held).
  absl::Status Load(int64_t version) {
    {
      absl::MutexLock lock(&mu_);
      if (held_.count(version) > 0) return absl::OkStatus();
    }
    absl::StatusOr<std::shared_ptr<const T>> loaded = loader_(version);  // outside the lock
    if (!loaded.ok()) return loaded.status();
    absl::MutexLock lock(&mu_);
    held_.emplace(version, *std::move(loaded));
    return absl::OkStatus();
  }
  // Keeps only `versions` (the ones running arms name); returns how many were released.
  int Retain(const std::vector<int64_t>& versions) {
    absl::MutexLock lock(&mu_);
    int released = 0;
    for (auto it = held_.begin(); it != held_.end();) {
      if (std::find(versions.begin(), versions.end(), it->first) == versions.end()) {
        it = held_.erase(it);
        ++released;
      } else {
        ++it;
      }
    }
    return released;
  }
  // The held version, or null.
  std::shared_ptr<const T> Get(int64_t version) const {
    absl::MutexLock lock(&mu_);
    auto it = held_.find(version);
    return it == held_.end() ? nullptr : it->second;
  }
  std::vector<int64_t> held() const {
    absl::MutexLock lock(&mu_);
    std::vector<int64_t> out;
    for (const auto& [v, p] : held_) out.push_back(v);
    return out;
  }

 private:
  const Loader loader_;
  mutable absl::Mutex mu_;
  std::map<int64_t, std::shared_ptr<const T>> held_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_VERSION_POOL_H_
