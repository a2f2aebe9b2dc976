// The lifecycle policy on a fake data directory (FakeEnv) with fake loaders: no disk, no
// sleeps, no threads except in the last test.
#include "serving/servable_manager.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/fake_env.h"
#include "gtest/gtest.h"
#include "serving/servable_source.h"

namespace marketsearch {
namespace {

using Type = ServableEvent::Type;
using Versions = std::vector<int64_t>;
constexpr ServableKind kIndex = ServableKind::kIndex;
constexpr ServableKind kLexical = ServableKind::kLexical;
constexpr ServableKind kRanker = ServableKind::kRanker;

// What the fake loaders find "on disk" and what they did.
struct World {
  std::map<std::pair<ServableKind, int64_t>, absl::Status> failures;  // Load() fails with it
  // For indexes, the listing tower they were built with; for rankers, the one they were trained
  // on. A ranker is compatible with the index when the two are equal.
  std::map<std::pair<ServableKind, int64_t>, int64_t> tower;
  std::map<std::pair<ServableKind, int64_t>, int> loads;  // Load() calls
  std::function<void(ServableKind, int64_t)> during_load;
  std::atomic<int> live{0};  // FakeServables alive
};

struct FakeServable : Servable {
  FakeServable(World* w, ServableKind k, int64_t v, int64_t t)
      : world(w), kind(k), version(v), tower(t) {
    ++world->live;
  }
  ~FakeServable() override { --world->live; }
  World* world;
  ServableKind kind;
  int64_t version;
  int64_t tower;
  std::string payload = "part of the servable";
};

class FakeLoader : public Loader {
 public:
  FakeLoader(World* world, ServableKind kind, int64_t version)
      : world_(world), kind_(kind), version_(version) {}
  absl::StatusOr<std::shared_ptr<const Servable>> Load() override {
    ++world_->loads[{kind_, version_}];
    if (world_->during_load) world_->during_load(kind_, version_);
    if (auto f = world_->failures.find({kind_, version_}); f != world_->failures.end()) {
      return f->second;
    }
    return std::make_shared<const FakeServable>(world_, kind_, version_,
                                                world_->tower[{kind_, version_}]);
  }

 private:
  World* const world_;
  const ServableKind kind_;
  const int64_t version_;
};

bool RankerMatchesIndex(ServableKind kind, const Servable& candidate, const ServingSet& chosen) {
  if (kind != kRanker) return true;
  auto index = chosen[kIndex].As<FakeServable>();
  return index != nullptr && static_cast<const FakeServable&>(candidate).tower == index->tower;
}

int CountEvents(const PollResult& r, ServableKind kind, int64_t version, Type type) {
  int n = 0;
  for (const ServableEvent& e : r.events) {
    n += e.id.kind == kind && e.id.version == version && e.type == type;
  }
  return n;
}

std::string Events(const PollResult& r) {
  std::string out;
  for (const ServableEvent& e : r.events) absl::StrAppend(&out, e.DebugString(), "; ");
  return out;
}

class ServableManagerTest : public ::testing::Test {
 protected:
  ServableManagerTest() : source_({"/var", &env_}) {
    ServableManager::Options o;
    o.source = &source_;
    o.env = &env_;
    o.loader_factory = [this](ServableKind kind, int64_t version) {
      return std::make_unique<FakeLoader>(&world_, kind, version);
    };
    o.compatible = RankerMatchesIndex;
    manager_ = *ServableManager::Create(std::move(o));
  }

  // Publishes a version directory; `tower` as in World::tower.
  void Publish(ServableKind kind, int64_t version, int64_t tower = 1) {
    env_.MakeDirs(ServableVersionDir("/var", kind, version));
    world_.tower[{kind, version}] = tower;
  }
  void SetCurrent(ServableKind kind, int64_t version) {
    env_.WriteFile(ServableRoot("/var", kind) + "/CURRENT", absl::StrCat(version, "\n"));
  }
  int Loads(ServableKind kind, int64_t version) { return world_.loads[{kind, version}]; }
  int64_t ServingVersion(ServableKind kind) { return manager_->Serving(kind).version(); }

  FakeEnv env_{1'000'000};
  World world_;
  DataDirSource source_;
  std::unique_ptr<ServableManager> manager_;
};

TEST(ServableManagerCreateTest, RequiresASourceAndALoaderFactory) {
  EXPECT_EQ(ServableManager::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  FakeEnv env;
  DataDirSource source({"/var", &env});
  ServableManager::Options o;
  o.source = &source;
  EXPECT_EQ(ServableManager::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ServableManagerTest, NothingPublishedServesNothing) {
  const PollResult r = manager_->Poll();
  EXPECT_FALSE(r.serving_changed);
  EXPECT_TRUE(r.events.empty()) << Events(r);
  EXPECT_FALSE(manager_->Serving(kIndex));
  EXPECT_EQ(manager_->Health().polls, 1);
}

TEST_F(ServableManagerTest, NewVersionLoadsWhileTheOldServesThenReplacesIt) {
  Publish(kIndex, 1);
  SetCurrent(kIndex, 1);
  PollResult r = manager_->Poll();
  EXPECT_TRUE(r.serving_changed);
  EXPECT_EQ(r.serving[kIndex].version(), 1);
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kLoaded), 1);
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kServing), 1);
  r = PollResult();  // its `serving` pins v1 like any handle

  Publish(kIndex, 2);
  SetCurrent(kIndex, 2);
  int64_t serving_during_load = -1;
  world_.during_load = [&](ServableKind, int64_t) {
    serving_during_load = manager_->Serving(kIndex).version();  // readers never wait for a load
  };
  r = manager_->Poll();
  EXPECT_EQ(serving_during_load, 1);
  EXPECT_TRUE(r.serving_changed);
  EXPECT_EQ(ServingVersion(kIndex), 2);
  // Nothing pinned v1: released and destroyed in the same poll.
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kNotServing), 1) << Events(r);
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kUnloaded), 1) << Events(r);
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kDestroyed), 1) << Events(r);
  EXPECT_EQ(world_.live, 1);
  EXPECT_EQ(manager_->Health()[kIndex].loaded_versions, Versions{2});

  world_.during_load = nullptr;
  r = manager_->Poll();  // steady state: nothing happens
  EXPECT_FALSE(r.serving_changed);
  EXPECT_TRUE(r.events.empty()) << Events(r);
  EXPECT_EQ(Loads(kIndex, 2), 1);
}

TEST_F(ServableManagerTest, RequestPinsTheOldVersionAcrossASwapUntilItsHandleGoes) {
  Publish(kIndex, 1);
  SetCurrent(kIndex, 1);
  manager_->Poll();
  // A request (or a ServingState) holds v1, directly and through a part of it.
  ServableHandle request = manager_->Serving(kIndex);
  std::shared_ptr<const std::string> part =
      request.Share(&request.As<FakeServable>()->payload);

  Publish(kIndex, 2);
  SetCurrent(kIndex, 2);
  PollResult r = manager_->Poll();
  EXPECT_EQ(ServingVersion(kIndex), 2);
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kUnloaded), 1);
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kDestroyed), 0);
  EXPECT_EQ(world_.live, 2);
  EXPECT_FALSE(manager_->Get(kIndex, 1));  // not handed out any more
  EXPECT_EQ(request.version(), 1);         // but the request still reads v1
  EXPECT_EQ(request.As<FakeServable>()->version, 1);
  EXPECT_EQ(manager_->Health()[kIndex].released_in_use_versions, Versions{1});

  r = manager_->Poll();
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kDestroyed), 0);
  request = ServableHandle();
  EXPECT_EQ(world_.live, 2);  // `part` still pins it
  part.reset();
  // The last handle went on this (request) thread; the destructor waits for the next poll.
  EXPECT_EQ(world_.live, 2);
  r = manager_->Poll();
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kDestroyed), 1) << Events(r);
  EXPECT_FALSE(r.serving_changed);
  EXPECT_EQ(world_.live, 1);
  EXPECT_TRUE(manager_->Health()[kIndex].released_in_use_versions.empty());
}

TEST_F(ServableManagerTest, FailedVersionIsReportedOnceNotRetriedAndTheOldKeepsServing) {
  Publish(kIndex, 1);
  SetCurrent(kIndex, 1);
  manager_->Poll();
  const int64_t good_poll_ms = env_.NowUnixMs();
  EXPECT_EQ(manager_->Health()[kIndex].last_successful_poll_unix_ms, good_poll_ms);

  Publish(kIndex, 2);
  world_.failures[{kIndex, 2}] = absl::DataLossError("index v2: checksum mismatch");
  SetCurrent(kIndex, 2);
  env_.AdvanceMs(2000);
  PollResult r = manager_->Poll();
  EXPECT_FALSE(r.serving_changed);
  EXPECT_EQ(CountEvents(r, kIndex, 2, Type::kLoadFailed), 1);
  EXPECT_EQ(r.events.size(), 1u) << Events(r);
  EXPECT_EQ(ServingVersion(kIndex), 1);
  for (int i = 0; i < 3; ++i) {
    env_.AdvanceMs(2000);
    r = manager_->Poll();
    EXPECT_TRUE(r.events.empty()) << Events(r);
  }
  EXPECT_EQ(Loads(kIndex, 2), 1);
  HealthReport h = manager_->Health();
  EXPECT_EQ(h[kIndex].serving_version, 1);
  ASSERT_EQ(h[kIndex].failed_versions.size(), 1u);
  EXPECT_EQ(h[kIndex].failed_versions[0].first, 2);
  EXPECT_EQ(h[kIndex].failed_versions[0].second.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(h[kIndex].last_successful_poll_unix_ms, good_poll_ms);  // stuck since
  EXPECT_EQ(h.last_poll_unix_ms, env_.NowUnixMs());

  // A newer version is still loaded; v2 left the aspired set, so its failure is forgotten.
  r = PollResult();
  Publish(kIndex, 3);
  SetCurrent(kIndex, 3);
  r = manager_->Poll();
  EXPECT_TRUE(r.serving_changed);
  EXPECT_EQ(ServingVersion(kIndex), 3);
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kDestroyed), 1);
  h = manager_->Health();
  EXPECT_TRUE(h[kIndex].failed_versions.empty());
  EXPECT_EQ(h[kIndex].last_successful_poll_unix_ms, env_.NowUnixMs());
}

TEST_F(ServableManagerTest, RetryLoadsAFailedVersionAgain) {
  Publish(kIndex, 1);
  SetCurrent(kIndex, 1);
  manager_->Poll();
  Publish(kIndex, 2);
  world_.failures[{kIndex, 2}] = absl::NotFoundError("no MANIFEST");  // copied by hand, half-way
  SetCurrent(kIndex, 2);
  manager_->Poll();
  EXPECT_FALSE(manager_->Retry(kIndex, 1));  // never failed

  world_.failures.clear();  // the copy finished
  EXPECT_EQ(manager_->Poll().events.size(), 0u);
  EXPECT_TRUE(manager_->Retry(kIndex, 2));
  const PollResult r = manager_->Poll();
  EXPECT_EQ(ServingVersion(kIndex), 2) << Events(r);
  EXPECT_EQ(Loads(kIndex, 2), 2);
}

TEST_F(ServableManagerTest, RollbackToAnOlderCurrentLoadsItAgain) {
  Publish(kIndex, 1);
  Publish(kIndex, 2);
  SetCurrent(kIndex, 1);
  manager_->Poll();
  SetCurrent(kIndex, 2);
  manager_->Poll();
  EXPECT_EQ(ServingVersion(kIndex), 2);

  SetCurrent(kIndex, 1);  // roll back
  const PollResult r = manager_->Poll();
  EXPECT_TRUE(r.serving_changed);
  EXPECT_EQ(ServingVersion(kIndex), 1);
  EXPECT_EQ(CountEvents(r, kIndex, 1, Type::kLoaded), 1);
  EXPECT_EQ(CountEvents(r, kIndex, 2, Type::kDestroyed), 1);
  EXPECT_EQ(Loads(kIndex, 1), 2);
  EXPECT_EQ(world_.live, 1);
}

TEST_F(ServableManagerTest, HostsAPinnedRankerBesideTheNewest) {
  Publish(kIndex, 1, /*tower=*/7);
  SetCurrent(kIndex, 1);
  for (int64_t v : {1, 2, 3}) Publish(kRanker, v, /*tower=*/7);
  source_.AddPinned(kRanker, 1);  // an experiment arm keeps ranker v1
  PollResult r = manager_->Poll();
  EXPECT_EQ(r.serving[kRanker].version(), 3);
  EXPECT_EQ(manager_->Health()[kRanker].loaded_versions, (Versions{1, 3}));
  ServableHandle arm = manager_->Get(kRanker, 1);
  ASSERT_TRUE(arm);
  EXPECT_EQ(arm.As<FakeServable>()->version, 1);
  EXPECT_FALSE(manager_->Get(kRanker, 2));  // behind the serving one, not pinned: not loaded
  EXPECT_EQ(Loads(kRanker, 2), 0);

  // A newer ranker serves; the pinned one stays.
  Publish(kRanker, 4, /*tower=*/7);
  r = manager_->Poll();
  EXPECT_EQ(ServingVersion(kRanker), 4);
  EXPECT_EQ(CountEvents(r, kRanker, 3, Type::kUnloaded), 1);
  EXPECT_EQ(manager_->Health()[kRanker].loaded_versions, (Versions{1, 4}));

  // The experiment ends.
  EXPECT_TRUE(source_.RemovePinned(kRanker, 1));
  arm = ServableHandle();
  r = manager_->Poll();
  EXPECT_FALSE(r.serving_changed);
  EXPECT_EQ(CountEvents(r, kRanker, 1, Type::kDestroyed), 1) << Events(r);
  EXPECT_EQ(manager_->Health()[kRanker].loaded_versions, Versions{4});
}

TEST_F(ServableManagerTest, ServesTheNewestRankerCompatibleWithTheServedIndex) {
  Publish(kIndex, 1, /*tower=*/10);
  SetCurrent(kIndex, 1);
  Publish(kRanker, 1, /*tower=*/10);
  Publish(kRanker, 2, /*tower=*/20);  // trained for the next listing tower, index not built yet
  EXPECT_EQ(manager_->Poll().serving[kRanker].version(), 1);
  EXPECT_EQ(manager_->Health()[kRanker].loaded_versions, (Versions{1, 2}));  // v2 kept, waiting
  manager_->Poll();
  EXPECT_EQ(Loads(kRanker, 2), 1);  // not reloaded by every poll

  // The index for tower 20 is published: index and ranker switch in the same poll.
  Publish(kIndex, 2, /*tower=*/20);
  SetCurrent(kIndex, 2);
  PollResult r = manager_->Poll();
  EXPECT_EQ(r.serving.DebugString(), "index v2, lexical none, ranker v2");
  EXPECT_EQ(CountEvents(r, kRanker, 1, Type::kDestroyed), 1) << Events(r);

  // An index on a tower no ranker was trained for: serve no ranker rather than a wrong one.
  Publish(kIndex, 3, /*tower=*/30);
  SetCurrent(kIndex, 3);
  r = manager_->Poll();
  EXPECT_TRUE(r.serving_changed);
  EXPECT_EQ(ServingVersion(kIndex), 3);
  EXPECT_FALSE(manager_->Serving(kRanker));
  EXPECT_EQ(CountEvents(r, kRanker, 2, Type::kNotServing), 1) << Events(r);
  EXPECT_EQ(CountEvents(r, kRanker, 1, Type::kLoaded), 1);  // the older one was checked too
}

TEST_F(ServableManagerTest, ReadersSeeEveryKindSwitchAtOnce) {
  Publish(kIndex, 1, /*tower=*/10);
  SetCurrent(kIndex, 1);
  Publish(kRanker, 1, /*tower=*/10);
  manager_->Poll();
  Publish(kIndex, 2, /*tower=*/20);
  Publish(kRanker, 2, /*tower=*/20);
  SetCurrent(kIndex, 2);
  std::vector<std::string> seen;  // by a reader while the poll loads index v2, then ranker v2
  world_.during_load = [&](ServableKind, int64_t) {
    seen.push_back(manager_->ServingNow().DebugString());
  };
  const PollResult r = manager_->Poll();
  EXPECT_EQ(seen, std::vector<std::string>(2, "index v1, lexical none, ranker v1"));
  EXPECT_EQ(manager_->ServingNow().DebugString(), "index v2, lexical none, ranker v2");
  EXPECT_EQ(manager_->Health()[kRanker].serving_version, 2);
}

TEST_F(ServableManagerTest, WithdrawnIndexKeepsServingWithdrawnLexicalStops) {
  Publish(kIndex, 1);
  SetCurrent(kIndex, 1);
  Publish(kLexical, 4);
  SetCurrent(kLexical, 4);
  manager_->Poll();
  EXPECT_EQ(manager_->ServingNow().DebugString(), "index v1, lexical v4, ranker none");

  env_.Remove("/var/index/CURRENT");
  env_.Remove("/var/lexical/CURRENT");
  const PollResult r = manager_->Poll();
  EXPECT_TRUE(r.serving_changed);
  EXPECT_EQ(r.serving.DebugString(), "index v1, lexical none, ranker none");
  EXPECT_EQ(CountEvents(r, kLexical, 4, Type::kDestroyed), 1);
}

TEST_F(ServableManagerTest, MalformedCurrentKeepsTheServedVersionAndIsReported) {
  Publish(kIndex, 1);
  SetCurrent(kIndex, 1);
  manager_->Poll();
  const int64_t good_poll_ms = env_.NowUnixMs();
  env_.AdvanceMs(2000);
  env_.WriteFile("/var/index/CURRENT", "2 3\n");
  const PollResult r = manager_->Poll();
  EXPECT_FALSE(r.serving_changed);
  EXPECT_TRUE(r.events.empty()) << Events(r);
  const HealthReport h = manager_->Health();
  EXPECT_EQ(h[kIndex].serving_version, 1);
  EXPECT_EQ(h[kIndex].source_status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(h[kIndex].last_successful_poll_unix_ms, good_poll_ms);
  EXPECT_FALSE(h.DebugString().empty());
}

TEST_F(ServableManagerTest, HandlesOutliveTheManager) {
  Publish(kIndex, 1);
  SetCurrent(kIndex, 1);
  manager_->Poll();
  ServableHandle h = manager_->Serving(kIndex);
  manager_.reset();
  EXPECT_EQ(world_.live, 1);
  EXPECT_EQ(h.As<FakeServable>()->version, 1);
  h = ServableHandle();
  EXPECT_EQ(world_.live, 0);
}

// Readers on other threads while polls swap versions (for ThreadSanitizer; no timing).
TEST_F(ServableManagerTest, ConcurrentReadersDuringSwaps) {
  for (int64_t v = 1; v <= 20; ++v) Publish(kIndex, v);
  SetCurrent(kIndex, 1);
  manager_->Poll();
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      int64_t last = 0;
      while (!stop) {
        ServableHandle h = manager_->Serving(kIndex);
        ASSERT_TRUE(h);
        ASSERT_GE(h.As<FakeServable>()->version, last);
        last = h.version();
        manager_->Health();
      }
    });
  }
  for (int64_t v = 2; v <= 20; ++v) {
    SetCurrent(kIndex, v);
    manager_->Poll();
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  manager_->Poll();
  EXPECT_EQ(world_.live, 1);
  EXPECT_EQ(ServingVersion(kIndex), 20);
}

}  // namespace
}  // namespace marketsearch
