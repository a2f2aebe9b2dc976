#include "experiments/event_log.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::string Path(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

TEST(EventLog, AppendsSurviveReopenInTimeOrder) {
  const std::string path = Path("log1");
  {
    auto log = EventLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status();
    Event a, b;
    a.set_request_id("r1");
    a.set_listing_id(5);
    a.set_type(EVENT_TYPE_CLICK);
    a.set_timestamp_ms(2000);
    b = a;
    b.set_listing_id(6);
    b.set_timestamp_ms(1000);
    std::vector<Event> events = {a, b};
    ASSERT_TRUE((*log)->AppendEvents(events, 5000).ok());
    SearchRequest req;
    req.set_query("sofa");
    SearchResponse resp;
    resp.set_request_id("r1");
    resp.add_results()->set_listing_id(5);
    ASSERT_TRUE((*log)->AppendImpression(req, resp, 900).ok());
  }
  auto log = EventLog::Open(path);
  ASSERT_TRUE(log.ok());
  std::vector<uint64_t> seen;
  ASSERT_TRUE((*log)->ScanEvents([&](const Event& e) {
    seen.push_back(e.listing_id());
    return true;
  }).ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{6, 5}));
  EXPECT_EQ((*log)->CountImpressions(), 1);
}

TEST(EventLog, ImpressionsKeepArmsAndLatencyAndReadAlongsideTheWriter) {
  const std::string path = Path("log2");
  auto log = EventLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status();
  SearchRequest req;
  req.set_query("sofa");
  req.set_user_id(42);
  SearchResponse resp;
  resp.set_request_id("r9");
  resp.add_results()->set_listing_id(5);
  resp.add_results()->set_title("dropped: the log keeps ids and scores only");
  ServedArm* arm = resp.add_arms();
  arm->set_experiment("e");
  arm->set_arm("treatment");
  (*resp.mutable_debug()->mutable_stage_ms())["total"] = 4.5;
  (*resp.mutable_debug()->mutable_stage_ms())["ann"] = 1.0;
  ASSERT_TRUE((*log)->AppendImpression(req, resp, 1234).ok());
  ASSERT_TRUE((*log)->AppendImpression(req, resp, 1235).ok());
  // A second reader while the writer has it open.
  auto reader = EventLog::OpenReadOnly(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::vector<int64_t> times;
  ASSERT_TRUE((*reader)->ScanImpressions([&](int64_t ts, const SearchRequest& q, const SearchResponse& r) {
    times.push_back(ts);
    EXPECT_EQ(q.user_id(), 42u);
    EXPECT_EQ(r.request_id(), "r9");
    EXPECT_EQ(r.results_size(), 2);
    EXPECT_TRUE(r.results(1).title().empty());
    EXPECT_EQ(r.arms_size(), 1);
    EXPECT_EQ(r.arms(0).arm(), "treatment");
    EXPECT_EQ(r.debug().stage_ms().at("total"), 4.5);
    EXPECT_EQ(r.debug().stage_ms().count("ann"), 0u);
    return true;
  }).ok());
  EXPECT_EQ(times, (std::vector<int64_t>{1234, 1235}));
  Event e;
  e.set_request_id("r9");
  e.set_listing_id(5);
  e.set_type(EVENT_TYPE_CLICK);
  EXPECT_FALSE((*reader)->AppendEvents({&e, 1}, 1).ok());
}

TEST(EventLog, RetentionDropsOnlyOldRecords) {
  auto log = EventLog::Open(Path("log3"));
  ASSERT_TRUE(log.ok());
  SearchRequest req;
  req.set_query("sofa");
  SearchResponse resp;
  resp.set_request_id("r");
  resp.add_results()->set_listing_id(5);
  Event e;
  e.set_request_id("r");
  e.set_listing_id(5);
  e.set_type(EVENT_TYPE_CLICK);
  for (int64_t ts : {1000, 2000, 3000, 4000}) {
    ASSERT_TRUE((*log)->AppendImpression(req, resp, ts).ok());
    e.set_timestamp_ms(ts);
    ASSERT_TRUE((*log)->AppendEvents({&e, 1}, ts).ok());
  }
  EXPECT_GT((*log)->SizeBytes(), 0);
  ASSERT_TRUE((*log)->DropBefore(3000).ok());
  std::vector<int64_t> impressions, events;
  ASSERT_TRUE((*log)->ScanImpressions([&](int64_t ts, const SearchRequest&, const SearchResponse&) {
    impressions.push_back(ts);
    return true;
  }).ok());
  ASSERT_TRUE((*log)->ScanEvents([&](const Event& x) {
    events.push_back(x.timestamp_ms());
    return true;
  }).ok());
  EXPECT_EQ(impressions, (std::vector<int64_t>{3000, 4000}));
  EXPECT_EQ(events, (std::vector<int64_t>{3000, 4000}));
  EXPECT_TRUE((*log)->DropBefore(0).ok());  // nothing
  EXPECT_EQ((*log)->CountImpressions(), 2);
}

// A reopened log continues after the highest sequence in use, not after the number of keys:
// with a record gone (here dropped by retention; a kill -9 in the middle of an append leaves
// the same gap), counting reused a sequence, and an event with the same client timestamp as
// an acknowledged one replaced it.
TEST(EventLog, ReopenNeverReusesASequence) {
  const std::string path = Path("log4");
  Event e;
  e.set_request_id("first");
  e.set_listing_id(5);
  e.set_type(EVENT_TYPE_CLICK);
  e.set_timestamp_ms(5000);  // the client's clock: every event here has the same timestamp
  SearchRequest req;
  req.set_query("sofa");
  SearchResponse resp;
  resp.set_request_id("r");
  {
    auto log = EventLog::Open(path);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->AppendEvents({&e, 1}, 9000).ok());        // sequence 0
    ASSERT_TRUE((*log)->AppendImpression(req, resp, 100).ok());   // sequence 1
    e.set_request_id("second");
    ASSERT_TRUE((*log)->AppendEvents({&e, 1}, 9000).ok());        // sequence 2
    ASSERT_TRUE((*log)->DropBefore(1000).ok());                   // the impression goes
  }
  auto log = EventLog::Open(path);
  ASSERT_TRUE(log.ok());
  e.set_request_id("third");
  ASSERT_TRUE((*log)->AppendEvents({&e, 1}, 9000).ok());
  std::vector<std::string> ids;
  ASSERT_TRUE((*log)->ScanEvents([&](const Event& x) {
    ids.push_back(x.request_id());
    return true;
  }).ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"first", "second", "third"}));
}

}  // namespace
}  // namespace marketsearch
