#include "serving/request_pool.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

RequestPool::Options Opts(int threads, int max_queued) {
  RequestPool::Options o;
  o.threads = threads;
  o.max_queued = max_queued;
  return o;
}

TEST(RequestPool, RunsEverythingItAccepts) {
  std::atomic<int> ran{0};
  {
    RequestPool pool(Opts(2, 1000));
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
  }  // the destructor drains the queue
  EXPECT_EQ(ran.load(), 500);
}

TEST(RequestPool, RefusesBeyondWorkersPlusQueueAndRecovers) {
  absl::Notification release;
  std::atomic<int> started{0}, ran{0};
  RequestPool pool(Opts(2, 3));
  auto blocker = [&] {
    ++started;
    release.WaitForNotification();
    ++ran;
  };
  // Two running, three waiting: the sixth is refused at once.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(pool.TrySubmit(blocker));
  while (started.load() < 2) std::this_thread::yield();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.TrySubmit(blocker));
  EXPECT_EQ(pool.queued(), 3);
  EXPECT_FALSE(pool.TrySubmit(blocker));
  EXPECT_FALSE(pool.TrySubmit(blocker));
  EXPECT_EQ(pool.rejected(), 2);
  release.Notify();
  while (ran.load() < 5) std::this_thread::yield();
  // Capacity is back once the work is done.
  absl::Notification done;
  ASSERT_TRUE(pool.TrySubmit([&] { done.Notify(); }));
  done.WaitForNotification();
  EXPECT_EQ(ran.load(), 5);
}

// What a running item sees of the others: the workers that have nothing to run.
TEST(RequestPool, IdleWorkersAreThoseWithNothingToRun) {
  RequestPool pool(Opts(3, 4));
  EXPECT_EQ(pool.idle_workers(), 3);
  absl::Notification release;
  std::atomic<int> started{0};
  std::atomic<int> seen_by_first{-1};
  ASSERT_TRUE(pool.TrySubmit([&] {
    seen_by_first = pool.idle_workers();
    ++started;
    release.WaitForNotification();
  }));
  while (started.load() < 1) std::this_thread::yield();
  EXPECT_EQ(seen_by_first.load(), 2);
  EXPECT_EQ(pool.idle_workers(), 2);
  auto blocker = [&] {
    ++started;
    release.WaitForNotification();
  };
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(pool.TrySubmit(blocker));
  while (started.load() < 3) std::this_thread::yield();
  EXPECT_EQ(pool.idle_workers(), 0);
  ASSERT_TRUE(pool.TrySubmit(blocker));  // queued: still none idle
  EXPECT_EQ(pool.idle_workers(), 0);
  release.Notify();
  while (started.load() < 4) std::this_thread::yield();
}

TEST(RequestPool, ZeroQueueStillUsesIdleWorkers) {
  RequestPool pool(Opts(1, 0));
  absl::Notification done;
  ASSERT_TRUE(pool.TrySubmit([&] { done.Notify(); }));
  done.WaitForNotification();
}

TEST(RequestPool, StandingForCountsFromWhenTheQueueLastBecameNonEmpty) {
  absl::Notification release;
  std::atomic<int> started{0};
  RequestPool pool(Opts(1, 4));
  EXPECT_EQ(pool.standing_for(), std::chrono::steady_clock::duration::zero());
  auto blocker = [&] {
    ++started;
    release.WaitForNotification();
  };
  ASSERT_TRUE(pool.TrySubmit(blocker));
  while (started.load() < 1) std::this_thread::yield();
  // Running, nothing waiting: no standing queue.
  EXPECT_EQ(pool.standing_for(), std::chrono::steady_clock::duration::zero());
  const auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(pool.TrySubmit([] {}));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ASSERT_TRUE(pool.TrySubmit([] {}));  // a second arrival does not restart the clock
  const auto standing = pool.standing_for();
  EXPECT_GE(standing, std::chrono::milliseconds(30));
  EXPECT_LE(standing, std::chrono::steady_clock::now() - before);
  release.Notify();
  while (pool.queued() > 0) std::this_thread::yield();
  EXPECT_EQ(pool.standing_for(), std::chrono::steady_clock::duration::zero());
}

TEST(RequestPool, RunsThreadStartHookOnEveryWorker) {
  std::atomic<int> hooks{0};
  {
    RequestPool::Options o;
    o.threads = 3;
    o.on_thread_start = [&] { ++hooks; };
    RequestPool pool(o);
  }
  EXPECT_EQ(hooks.load(), 3);
}

}  // namespace
}  // namespace marketsearch
