#include "experiments/event_log.h"

#include <cstdlib>

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

}  // namespace
}  // namespace marketsearch
