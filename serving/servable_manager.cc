#include "serving/servable_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace marketsearch {

// Where released servables go when their last handle is dropped (on whatever thread drops it),
// so that the destructor runs on the polling thread instead. Shared with every tracked
// servable's deleter, so it outlives the manager if handles do.
struct ServableManager::DestroyQueue {
  absl::Mutex mu;
  std::vector<std::pair<ServableId, std::shared_ptr<const Servable>>> items ABSL_GUARDED_BY(mu);
};

// The deleter of the pointer the manager hands out: holds the real owner and, when the last
// handle goes, moves it to the destroy queue (cheap: a lock and a push).
struct ServableManager::Releaser {
  ServableId id;
  std::shared_ptr<const Servable> owner;
  std::shared_ptr<DestroyQueue> queue;
  void operator()(const Servable*) {
    absl::MutexLock lock(&queue->mu);
    queue->items.emplace_back(id, std::move(owner));
  }
};

namespace {

std::string VersionName(int64_t v) { return v == 0 ? "none" : absl::StrCat("v", v); }

std::string JoinVersions(const std::vector<int64_t>& versions) {
  return versions.empty() ? "-" : absl::StrJoin(versions, ",");
}

}  // namespace

bool ServingSet::SameVersions(const ServingSet& o) const {
  for (int k = 0; k < kNumServableKinds; ++k) {
    if (handles[k].version() != o.handles[k].version()) return false;
  }
  return true;
}

std::string ServingSet::DebugString() const {
  std::vector<std::string> parts;
  for (ServableKind kind : kAllServableKinds) {
    parts.push_back(absl::StrCat(ServableKindName(kind), " ", VersionName((*this)[kind].version())));
  }
  return absl::StrJoin(parts, ", ");
}

std::string ServableEvent::DebugString() const {
  const std::string who = id.DebugString();
  switch (type) {
    case Type::kLoaded:
      return absl::StrCat(who, " loaded in ", load_ms, " ms");
    case Type::kLoadFailed:
      return absl::StrCat(who, " failed to load (not retried until it is re-published): ",
                          status.message());
    case Type::kServing:
      return absl::StrCat(who, " is serving");
    case Type::kNotServing:
      return absl::StrCat(who, " stopped serving");
    case Type::kUnloaded:
      return absl::StrCat(who, " unloaded");
    case Type::kDestroyed:
      return absl::StrCat(who, " destroyed");
  }
  return who;
}

std::string HealthReport::DebugString() const {
  std::string out = absl::StrCat("polls ", polls, ", last at ", last_poll_unix_ms, "\n");
  for (const KindHealth& h : kinds) {
    absl::StrAppend(&out, ServableKindName(h.kind), ": serving ", VersionName(h.serving_version),
                    ", loaded ", JoinVersions(h.loaded_versions), ", released in use ",
                    JoinVersions(h.released_in_use_versions), ", last good poll ",
                    h.last_successful_poll_unix_ms);
    if (!h.loading_versions.empty()) {
      absl::StrAppend(&out, ", loading ", JoinVersions(h.loading_versions));
    }
    for (const auto& [v, status] : h.failed_versions) {
      absl::StrAppend(&out, ", v", v, " failed: ", status.message());
    }
    if (!h.missing_pinned_versions.empty()) {
      absl::StrAppend(&out, ", pinned but absent ", JoinVersions(h.missing_pinned_versions));
    }
    if (!h.source_status.ok()) absl::StrAppend(&out, ", source: ", h.source_status.message());
    out += "\n";
  }
  return out;
}

absl::StatusOr<std::unique_ptr<ServableManager>> ServableManager::Create(Options options) {
  if (options.source == nullptr) return absl::InvalidArgumentError("ServableManager: no source");
  if (!options.loader_factory) {
    return absl::InvalidArgumentError("ServableManager: no loader factory");
  }
  if (options.env == nullptr) return absl::InvalidArgumentError("ServableManager: no env");
  return std::unique_ptr<ServableManager>(new ServableManager(std::move(options)));
}

ServableManager::ServableManager(Options options)
    : options_(std::move(options)), destroy_queue_(std::make_shared<DestroyQueue>()) {}

ServableManager::~ServableManager() {
  std::vector<std::shared_ptr<const Servable>> drop;
  ServingSet published;
  {
    absl::MutexLock lock(&mu_);
    published = std::move(published_);
    published_ = ServingSet();
    for (KindState& ks : kinds_) {
      for (auto& [v, s] : ks.loaded) drop.push_back(std::move(s));
      ks.loaded.clear();
    }
  }
  drop.clear();
  published = ServingSet();
  std::vector<ServableEvent> ignored;
  DestroyReleased(&ignored);
}

bool ServableManager::Compatible(ServableKind kind, const Servable& candidate,
                                 const ServingSet& chosen) const {
  return !options_.compatible || options_.compatible(kind, candidate, chosen);
}

ServableHandle ServableManager::HandleLocked(ServableKind kind, int64_t version) const {
  const KindState& ks = kinds_[static_cast<int>(kind)];
  auto it = ks.loaded.find(version);
  if (it == ks.loaded.end()) return ServableHandle();
  return ServableHandle(ServableId{kind, version}, it->second);
}

std::shared_ptr<const Servable> ServableManager::LoadVersion(ServableKind kind, int64_t version,
                                                             std::vector<ServableEvent>* events) {
  KindState* const ks = &kinds_[static_cast<int>(kind)];
  {
    absl::MutexLock lock(&mu_);
    ks->loading.insert(version);
  }
  const ServableId id{kind, version};
  absl::StatusOr<std::shared_ptr<const Servable>> loaded =
      absl::InternalError(absl::StrCat("no loader for ", id.DebugString()));
  const int64_t load_start_ms = options_.env->NowUnixMs();
  if (std::unique_ptr<Loader> loader = options_.loader_factory(kind, version)) {
    loaded = loader->Load();
  }
  const int64_t load_ms = options_.env->NowUnixMs() - load_start_ms;
  if (loaded.ok() && *loaded == nullptr) {
    loaded = absl::InternalError(absl::StrCat("the loader of ", id.DebugString(), " returned null"));
  }
  absl::MutexLock lock(&mu_);
  ks->loading.erase(version);
  if (!loaded.ok()) {
    ks->failed[version] = loaded.status();
    events->push_back({id, ServableEvent::Type::kLoadFailed, loaded.status(), load_ms});
    return nullptr;
  }
  const Servable* raw = loaded->get();
  std::shared_ptr<const Servable> tracked(raw, Releaser{id, std::move(*loaded), destroy_queue_});
  ks->loaded[version] = tracked;
  events->push_back({id, ServableEvent::Type::kLoaded, absl::OkStatus(), load_ms});
  return tracked;
}

void ServableManager::PollKind(ServableKind kind, const AspiredVersions& read, ServingSet* chosen,
                               PollResult* result) {
  const int k = static_cast<int>(kind);
  KindState* const ks = &kinds_[k];
  std::vector<ServableEvent>* const events = &result->events;

  // 1. What is aspired: this reading, or the last good one when the kind could not be read.
  //    Failures of versions that are no longer aspired are forgotten (retried if they return).
  AspiredVersions aspired;
  {
    absl::MutexLock lock(&mu_);
    ks->source_status = read.status;
    if (read.status.ok()) ks->aspired = read;
    aspired = ks->aspired;
    std::set<int64_t> wanted(aspired.candidates.begin(), aspired.candidates.end());
    wanted.insert(aspired.pinned.begin(), aspired.pinned.end());
    for (auto it = ks->failed.begin(); it != ks->failed.end();) {
      it = wanted.count(it->first) ? std::next(it) : ks->failed.erase(it);
    }
  }
  // The loaded servable of `v`, loading it unless it is loaded or failed before.
  auto get_or_load = [&](int64_t v) -> std::shared_ptr<const Servable> {
    {
      absl::MutexLock lock(&mu_);
      if (ks->failed.count(v)) return nullptr;
      if (auto it = ks->loaded.find(v); it != ks->loaded.end()) return it->second;
    }
    return LoadVersion(kind, v, events);
  };

  // 2. The first candidate that loads and fits serves.
  int64_t pick = 0;
  for (int64_t v : aspired.candidates) {
    std::shared_ptr<const Servable> s = get_or_load(v);
    if (s != nullptr && Compatible(kind, *s, *chosen)) {
      pick = v;
      break;
    }
  }
  // 3. Pinned versions are loaded whatever serves.
  for (int64_t v : aspired.pinned) get_or_load(v);

  // 4. Availability: without a fitting candidate, the previous version keeps serving if it
  //    still fits and the kind was not withdrawn.
  int64_t prev = 0;
  std::shared_ptr<const Servable> prev_servable;
  {
    absl::MutexLock lock(&mu_);
    prev = ks->serving;
    if (auto it = ks->loaded.find(prev); it != ks->loaded.end()) prev_servable = it->second;
  }
  if (pick == 0 && prev_servable != nullptr &&
      (!aspired.candidates.empty() || options_.keep_serving_when_withdrawn[k]) &&
      Compatible(kind, *prev_servable, *chosen)) {
    pick = prev;
  }
  prev_servable.reset();

  // 5. Switch, then release what is neither serving, pinned, nor a candidate ahead of the
  //    serving one.
  std::vector<std::shared_ptr<const Servable>> released;
  {
    absl::MutexLock lock(&mu_);
    ks->serving = pick;
    (*chosen)[kind] = HandleLocked(kind, pick);
    if (prev != pick) {
      result->serving_changed = true;
      if (prev != 0) events->push_back({{kind, prev}, ServableEvent::Type::kNotServing, {}});
      if (pick != 0) events->push_back({{kind, pick}, ServableEvent::Type::kServing, {}});
    }
    std::set<int64_t> keep(aspired.pinned.begin(), aspired.pinned.end());
    if (pick != 0) keep.insert(pick);
    for (int64_t v : aspired.candidates) {
      if (v == pick) break;
      keep.insert(v);
    }
    for (auto it = ks->loaded.begin(); it != ks->loaded.end();) {
      if (keep.count(it->first)) {
        ++it;
        continue;
      }
      ks->released_in_use.insert(it->first);
      events->push_back({{kind, it->first}, ServableEvent::Type::kUnloaded, {}});
      released.push_back(std::move(it->second));
      it = ks->loaded.erase(it);
    }
    bool healthy = read.status.ok();
    for (int64_t v : aspired.candidates) healthy = healthy && !ks->failed.count(v);
    for (int64_t v : aspired.pinned) healthy = healthy && !ks->failed.count(v);
    if (healthy) ks->last_successful_poll_unix_ms = options_.env->NowUnixMs();
  }
  released.clear();  // unpinned ones go to the destroy queue
}

void ServableManager::DestroyReleased(std::vector<ServableEvent>* events) {
  std::vector<std::pair<ServableId, std::shared_ptr<const Servable>>> items;
  {
    absl::MutexLock lock(&destroy_queue_->mu);
    items.swap(destroy_queue_->items);
  }
  if (items.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, servable] : items) {
      auto& in_use = kinds_[static_cast<int>(id.kind)].released_in_use;
      if (auto it = in_use.find(id.version); it != in_use.end()) in_use.erase(it);
      events->push_back({id, ServableEvent::Type::kDestroyed, {}});
    }
  }
  items.clear();  // the destructors run here, on the polling thread, without locks held
}

PollResult ServableManager::Poll() {
  absl::MutexLock poll_lock(&poll_mu_);
  PollResult result;
  const AspiredVersionsMap read = options_.source->GetAspiredVersions();
  ServingSet chosen;
  for (ServableKind kind : kAllServableKinds) {
    PollKind(kind, read[static_cast<int>(kind)], &chosen, &result);
  }
  // Publish every kind's choice at once; the previous set (which pinned the released
  // versions until now) is dropped outside the lock.
  ServingSet previous = chosen;
  {
    absl::MutexLock lock(&mu_);
    std::swap(published_, previous);
    ++polls_;
    last_poll_unix_ms_ = options_.env->NowUnixMs();
  }
  previous = ServingSet();
  DestroyReleased(&result.events);
  result.serving = std::move(chosen);
  return result;
}

ServableHandle ServableManager::Serving(ServableKind kind) const {
  absl::MutexLock lock(&mu_);
  return published_[kind];
}

ServingSet ServableManager::ServingNow() const {
  absl::MutexLock lock(&mu_);
  return published_;
}

ServableHandle ServableManager::Get(ServableKind kind, int64_t version) const {
  absl::MutexLock lock(&mu_);
  return HandleLocked(kind, version);
}

bool ServableManager::Retry(ServableKind kind, int64_t version) {
  absl::MutexLock lock(&mu_);
  return kinds_[static_cast<int>(kind)].failed.erase(version) > 0;
}

HealthReport ServableManager::Health() const {
  absl::MutexLock lock(&mu_);
  HealthReport report;
  report.polls = polls_;
  report.last_poll_unix_ms = last_poll_unix_ms_;
  for (ServableKind kind : kAllServableKinds) {
    const KindState& ks = kinds_[static_cast<int>(kind)];
    KindHealth& h = report.kinds[static_cast<int>(kind)];
    h.kind = kind;
    h.serving_version = published_[kind].version();
    for (const auto& [v, s] : ks.loaded) h.loaded_versions.push_back(v);
    h.loading_versions.assign(ks.loading.begin(), ks.loading.end());
    for (const auto& [v, status] : ks.failed) h.failed_versions.emplace_back(v, status);
    h.released_in_use_versions.assign(ks.released_in_use.begin(), ks.released_in_use.end());
    h.missing_pinned_versions = ks.aspired.missing_pinned;
    h.source_status = ks.source_status;
    h.last_successful_poll_unix_ms = ks.last_successful_poll_unix_ms;
  }
  return report;
}

}  // namespace marketsearch
