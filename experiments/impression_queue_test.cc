#include "experiments/impression_queue.h"

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::unique_ptr<EventLog> OpenLog(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  auto log = EventLog::Open(std::string(tmp ? tmp : "/tmp") + "/" + name);
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? *std::move(log) : nullptr;
}

SearchResponse Page(int n) {
  SearchResponse r;
  r.set_request_id("req");
  for (int i = 0; i < n; ++i) r.add_results()->set_listing_id(i + 1);
  return r;
}

TEST(ImpressionQueue, EveryQueuedImpressionIsWrittenByClose) {
  auto log = OpenLog("all_written");
  ImpressionQueue q(log.get(), 10000);
  SearchRequest req;
  req.set_query("grey sofa");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) q.Enqueue(req, Page(10), 1000 + i);
    });
  }
  for (auto& t : threads) t.join();
  q.Close();
  EXPECT_EQ(q.dropped(), 0);
  EXPECT_EQ(q.failed(), 0);
  EXPECT_EQ(q.written(), 1000);
  EXPECT_EQ(q.depth(), 0);
  EXPECT_EQ(log->CountImpressions(), 1000);
}

TEST(ImpressionQueue, AFullOrClosedQueueDropsAndCountsInsteadOfWaiting) {
  auto log = OpenLog("dropped");
  ImpressionQueue q(log.get(), 1);
  SearchRequest req;
  req.set_query("sofa");
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) accepted += q.Enqueue(req, Page(100), i);
  q.Close();
  EXPECT_FALSE(q.Enqueue(req, Page(1), 5));
  // Every impression is either written or counted as dropped; none is lost silently.
  EXPECT_EQ(q.written() + q.dropped(), 2001);
  EXPECT_EQ(q.written(), accepted);
  EXPECT_GE(q.dropped(), 1);  // at least the one after Close (a full queue adds more, by timing)
  EXPECT_EQ(log->CountImpressions(), q.written());
}

}  // namespace
}  // namespace marketsearch
