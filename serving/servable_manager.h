// ServableManager: the Manager of the serving lifecycle (tensorflow/serving's Source -> Loader
// -> Manager). Each Poll() asks the Source for the aspired versions, loads what is missing
// through per-kind Loaders, picks the serving version of each kind, and releases what is no
// longer needed — keeping the server available throughout:
//
//  * Availability first: version N keeps serving while N+1 loads; the switch happens only once
//    N+1 loaded, then N is released. When N+1 fails, N keeps serving.
//  * Serving version of a kind = the first candidate, in the source's order of preference, that
//    is loaded and compatible with the serving versions of the kinds before it (Options::
//    compatible; e.g. a ranker must match the served index's listing tower). Candidates are
//    loaded in that order until one fits; the ones ahead of it stay loaded (so an incompatible
//    newer ranker is not reloaded every poll), the ones behind it are not loaded.
//    When no candidate fits, the previous serving version stays if it is still compatible and
//    there still are candidates (they failed) or the kind keeps serving when withdrawn;
//    otherwise the kind serves nothing.
//  * Pinned versions (AspiredVersions::pinned) are loaded and kept whether or not they serve.
//  * A version that failed to load is remembered with its error and not retried by later
//    polls; it is retried once it has left the aspired set and comes back, or after Retry().
//    A rollback (CURRENT back to an older version) loads that version again.
//  * Release: the manager drops its reference; requests holding a handle keep the servable
//    alive. Its destructor never runs on a request thread: when the last handle goes, the
//    servable is queued and destroyed by the next Poll() (kDestroyed event).
//
// Poll() is synchronous (no thread of its own): the server's reload loop calls it and, when it
// reports serving_changed, rebuilds its serving state from Serving()/ServingNow().
//
// Thread safety: all methods may be called concurrently from any thread. Polls are
// serialised; a Poll loads without holding the lock that Get/Serving/Health take, so readers
// never wait for a load. Handles may outlive the manager.
// Ownership: the source and the env are not owned and must outlive the manager; loaders are
// owned by the manager for the duration of their Load(); servables are shared with handles.
#ifndef MARKETSEARCH_SERVING_SERVABLE_MANAGER_H_
#define MARKETSEARCH_SERVING_SERVABLE_MANAGER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/env.h"
#include "serving/servable_source.h"

namespace marketsearch {

// Base of everything a Loader produces (e.g. serving_loaders.h's IndexServable). Immutable
// once loaded: shared by every request that pins it.
class Servable {
 public:
  virtual ~Servable() = default;
};

// A pinned reference to one loaded version: while any copy exists, the servable stays alive
// (even after the manager released it, or the manager itself is gone). Empty = none.
class ServableHandle {
 public:
  ServableHandle() = default;
  ServableHandle(ServableId id, std::shared_ptr<const Servable> servable)
      : id_(id), servable_(std::move(servable)) {}

  explicit operator bool() const { return servable_ != nullptr; }
  const ServableId& id() const { return id_; }
  // 0 when empty.
  int64_t version() const { return servable_ ? id_.version : 0; }
  const Servable* get() const { return servable_.get(); }
  const std::shared_ptr<const Servable>& shared() const { return servable_; }

  // The servable as a T (null when empty or not a T); shares the pin.
  template <typename T>
  std::shared_ptr<const T> As() const {
    return std::dynamic_pointer_cast<const T>(servable_);
  }
  // A pointer to a part of the servable (e.g. its IndexSnapshot) that pins the whole servable:
  // put these in long-lived state so the manager sees who still uses a released version.
  // REQUIRES: `part` lives inside the servable (or is null).
  template <typename T>
  std::shared_ptr<const T> Share(const T* part) const {
    if (part == nullptr) return nullptr;
    return std::shared_ptr<const T>(servable_, part);
  }

 private:
  ServableId id_;
  std::shared_ptr<const Servable> servable_;
};

// The serving version of every kind, taken at one instant; indexed by kind.
struct ServingSet {
  std::array<ServableHandle, kNumServableKinds> handles;
  const ServableHandle& operator[](ServableKind kind) const {
    return handles[static_cast<int>(kind)];
  }
  ServableHandle& operator[](ServableKind kind) { return handles[static_cast<int>(kind)]; }
  // Same versions (not same objects: a version loaded again counts as equal).
  bool SameVersions(const ServingSet& o) const;
  std::string DebugString() const;  // e.g. "index v3, lexical none, ranker v7"
};

// Loads one version of one kind. The constructor must be cheap (no I/O): the manager may
// create loaders it then does not use. Load() is the heavy part — read, verify (checksums,
// dimensions, featurizer version), warm up — and is called at most once per loader, on the
// polling thread, without the manager's lock held. It returns the servable (never null on
// success) or why the version cannot serve.
class Loader {
 public:
  virtual ~Loader() = default;
  virtual absl::StatusOr<std::shared_ptr<const Servable>> Load() = 0;
};

// Makes the loader for (kind, version). Must not return null.
using LoaderFactory = std::function<std::unique_ptr<Loader>(ServableKind kind, int64_t version)>;

// Whether `candidate` (of `kind`) may serve alongside `chosen`, which holds the serving
// versions of the kinds before `kind` as chosen by this poll (later kinds are empty). Called
// on the polling thread without the manager's lock; must be cheap and must not call the manager.
using CompatibilityFn = std::function<bool(ServableKind kind, const Servable& candidate,
                                           const ServingSet& chosen)>;

// One thing that happened during a Poll, in order.
struct ServableEvent {
  enum class Type {
    kLoaded,        // Load() succeeded
    kLoadFailed,    // Load() failed (status); reported by the poll that tried, once
    kServing,       // became the serving version of its kind
    kNotServing,    // stopped being the serving version (another one, or none, serves)
    kUnloaded,      // the manager released it; handles may still pin it
    kDestroyed,     // the last handle went and the servable was destroyed
  };
  ServableId id;
  Type type = Type::kLoaded;
  absl::Status status;  // kLoadFailed only
  int64_t load_ms = 0;   // kLoaded and kLoadFailed: how long Load() took (the Env's clock)
  std::string DebugString() const;  // e.g. "ranker v7 failed to load: ..."
};

struct PollResult {
  // Some kind's serving version changed (compare versions, not objects): rebuild the serving
  // state from `serving`.
  bool serving_changed = false;
  // After the poll. These are handles: they pin their versions for as long as the
  // PollResult lives, so do not keep it beyond rebuilding the state.
  ServingSet serving;
  std::vector<ServableEvent> events;
};

struct KindHealth {
  ServableKind kind = ServableKind::kIndex;
  int64_t serving_version = 0;           // 0 = none
  std::vector<int64_t> loaded_versions;  // ascending, serving one included
  std::vector<int64_t> loading_versions;  // being loaded by a Poll right now
  // Versions that failed to load and are not retried, with the error.
  std::vector<std::pair<int64_t, absl::Status>> failed_versions;
  // Released by the manager, still pinned by handles (requests in flight, an old state).
  std::vector<int64_t> released_in_use_versions;
  std::vector<int64_t> missing_pinned_versions;  // pinned but absent on disk
  absl::Status source_status;  // the last poll's reading of this kind
  // Clock (Env) time of the last Poll that read this kind without error and found none of
  // its aspired versions failed; 0 = never.
  int64_t last_successful_poll_unix_ms = 0;
};

struct HealthReport {
  std::array<KindHealth, kNumServableKinds> kinds;
  int64_t polls = 0;
  int64_t last_poll_unix_ms = 0;  // 0 = never polled
  const KindHealth& operator[](ServableKind kind) const {
    return kinds[static_cast<int>(kind)];
  }
  std::string DebugString() const;  // a few lines, one per kind
};

class ServableManager {
 public:
  struct Options {
    AspiredVersionsSource* source = nullptr;  // required; not owned
    LoaderFactory loader_factory;             // required
    Env* env = Env::Default();                // the clock of the health report; not owned
    // Null = every servable is compatible with everything.
    CompatibilityFn compatible;
    // Per kind: when the source aspires no version at all (CURRENT removed), keep serving the
    // last version (true) or stop serving the kind (false). Default: the index stays (never go
    // dark because a pointer vanished); the lexical index and the ranker follow the disk, as
    // the server always has (no lexical/CURRENT = ANN only).
    std::array<bool, kNumServableKinds> keep_serving_when_withdrawn = {true, false, false};
  };

  // InvalidArgument when the source or the loader factory is missing.
  static absl::StatusOr<std::unique_ptr<ServableManager>> Create(Options options);
  ~ServableManager();

  ServableManager(const ServableManager&) = delete;
  ServableManager& operator=(const ServableManager&) = delete;

  // One round: read the source, load, switch, release, destroy released servables whose last
  // handle went. Returns what happened. Blocks for as long as the loads take.
  PollResult Poll();

  // The serving version of `kind`; empty when none.
  ServableHandle Serving(ServableKind kind) const;
  // The serving versions of all kinds, consistent with each other: a Poll publishes the
  // versions it chose for every kind at once, so a reader never sees a new index with a
  // ranker that was only compatible with the old one.
  ServingSet ServingNow() const;
  // Any loaded (not released) version of `kind`, serving or pinned or kept; empty when it is
  // not loaded.
  ServableHandle Get(ServableKind kind, int64_t version) const;

  // Forgets that (kind, version) failed, so the next Poll tries it again if it is aspired.
  // Returns false when it had not failed.
  bool Retry(ServableKind kind, int64_t version);

  HealthReport Health() const;

 private:
  struct KindState {
    std::map<int64_t, std::shared_ptr<const Servable>> loaded;  // version -> tracked servable
    std::map<int64_t, absl::Status> failed;
    std::set<int64_t> loading;
    std::multiset<int64_t> released_in_use;  // a version may be loaded again meanwhile
    int64_t serving = 0;  // chosen by the current or last Poll; readers see published_
    AspiredVersions aspired;  // the last good reading of the source
    absl::Status source_status;
    int64_t last_successful_poll_unix_ms = 0;
  };
  struct DestroyQueue;
  struct Releaser;

  explicit ServableManager(Options options);

  // Loads (kind, version) without holding mu_; records the result and its event.
  std::shared_ptr<const Servable> LoadVersion(ServableKind kind, int64_t version,
                                              std::vector<ServableEvent>* events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(poll_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void PollKind(ServableKind kind, const AspiredVersions& read, ServingSet* chosen,
                PollResult* result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(poll_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  bool Compatible(ServableKind kind, const Servable& candidate, const ServingSet& chosen) const;
  // Destroys the released servables whose last handle went (kDestroyed events).
  void DestroyReleased(std::vector<ServableEvent>* events) ABSL_LOCKS_EXCLUDED(mu_);
  ServableHandle HandleLocked(ServableKind kind, int64_t version) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const Options options_;
  const std::shared_ptr<DestroyQueue> destroy_queue_;
  absl::Mutex poll_mu_;  // one Poll at a time; taken before mu_
  mutable absl::Mutex mu_;
  std::array<KindState, kNumServableKinds> kinds_ ABSL_GUARDED_BY(mu_);
  ServingSet published_ ABSL_GUARDED_BY(mu_);  // what Serving()/ServingNow() return
  int64_t polls_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_poll_unix_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_SERVABLE_MANAGER_H_
