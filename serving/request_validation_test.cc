#include "serving/request_validation.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

SearchRequest Good() {
  SearchRequest r;
  r.set_query("grey sofa");
  r.set_page_size(10);
  return r;
}

void ExpectInvalid(const SearchRequest& r, const std::string& field) {
  int offset;
  absl::Status s = ValidateSearchRequest(r, &offset);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
  EXPECT_EQ(s.message().substr(0, field.size()), field) << s.message();
}

TEST(ValidateSearchRequest, AcceptsGoodRequest) {
  int offset = -1;
  EXPECT_TRUE(ValidateSearchRequest(Good(), &offset).ok());
  EXPECT_EQ(offset, 0);
}

TEST(ValidateSearchRequest, NamesTheField) {
  SearchRequest r = Good();
  r.set_query("");
  ExpectInvalid(r, "query");
  r.set_query("   ");
  ExpectInvalid(r, "query");
  r.set_query("!!! ???");
  ExpectInvalid(r, "query");
  r.set_query(std::string(1 << 20, 'a'));
  ExpectInvalid(r, "query");
  r.set_query("bad \xff");
  ExpectInvalid(r, "query");

  r = Good();
  r.set_page_size(0);
  ExpectInvalid(r, "page_size");
  r.set_page_size(101);
  ExpectInvalid(r, "page_size");

  r = Good();
  r.mutable_filters()->mutable_price()->set_min(50);
  r.mutable_filters()->mutable_price()->set_max(10);
  ExpectInvalid(r, "filters.price");

  r = Good();
  r.mutable_filters()->mutable_geo()->set_radius_km(0);
  ExpectInvalid(r, "filters.geo.radius_km");

  r = Good();
  r.mutable_filters()->add_conditions(static_cast<Condition>(42));
  ExpectInvalid(r, "filters.conditions");

  r = Good();
  r.set_page_token("not a token");
  ExpectInvalid(r, "page_token");
}

TEST(ValidateSearchRequest, BoundsFilterSizesAndRefusesNaNGeo) {
  SearchRequest r = Good();
  for (int i = 0; i < 10000; ++i) r.mutable_filters()->add_categories("c");
  ExpectInvalid(r, "filters.categories");
  r = Good();
  r.mutable_filters()->add_categories(std::string(100 * 1024, 'c'));
  ExpectInvalid(r, "filters.categories[0]");
  int offset;
  EXPECT_LT(ValidateSearchRequest(r, &offset).message().size(), 200u);
  r = Good();
  r.mutable_filters()->add_categories("ok");
  r.mutable_filters()->add_categories("bad \xc3");
  ExpectInvalid(r, "filters.categories[1]");

  for (double bad : {std::nan(""), 91.0, -1e300}) {
    r = Good();
    r.mutable_filters()->mutable_geo()->set_radius_km(10);
    r.mutable_filters()->mutable_geo()->mutable_center()->set_lat(bad);
    ExpectInvalid(r, "filters.geo.center");
  }
  r = Good();
  r.mutable_filters()->mutable_geo()->set_radius_km(std::nan(""));
  ExpectInvalid(r, "filters.geo.radius_km");
  r.mutable_filters()->mutable_geo()->set_radius_km(1e9);
  ExpectInvalid(r, "filters.geo.radius_km");
}

TEST(PageToken, RoundTripAndDepthLimit) {
  SearchRequest r = Good();
  int64_t offset;
  int64_t version;
  r.set_page_token(EncodePageToken(r, 30, 7));
  ASSERT_TRUE(DecodePageToken(r, &offset, &version).ok());
  EXPECT_EQ(offset, 30);
  EXPECT_EQ(version, 7);

  int start;
  r.set_page_token(EncodePageToken(r, 20, 1));
  ASSERT_TRUE(ValidateSearchRequest(r, &start).ok());
  EXPECT_EQ(start, 20);
  r.set_page_token(EncodePageToken(r, 995, 1));
  ExpectInvalid(r, "page_token");
}

// A crafted offset near 2^31 used to wrap offset + page_size and pass.
TEST(PageToken, HugeOrNegativeOffsetsAreRefused) {
  SearchRequest r = Good();
  for (int64_t off : {int64_t{2147483647}, int64_t{2147483600}, int64_t{1} << 40, int64_t{-10}}) {
    r.set_page_token(EncodePageToken(r, off, 1));
    ExpectInvalid(r, "page_token");
  }
}

TEST(PageToken, IsBoundToTheQueryAndFilters) {
  SearchRequest first = Good();
  const std::string token = EncodePageToken(first, 10, 1);
  SearchRequest same = first;
  same.set_page_size(20);  // the page size may change between pages
  same.set_page_token(token);
  int offset;
  EXPECT_TRUE(ValidateSearchRequest(same, &offset).ok());
  SearchRequest other = Good();
  other.set_query("red bike");
  other.set_page_token(token);
  ExpectInvalid(other, "page_token");
  SearchRequest filtered = Good();
  filtered.mutable_filters()->add_categories("Bikes");
  filtered.set_page_token(token);
  ExpectInvalid(filtered, "page_token");
  SearchRequest garbage = Good();
  garbage.set_page_token(std::string(1 << 20, 'A'));
  ExpectInvalid(garbage, "page_token");
}

TEST(ValidateLogEvents, NamesTheEventAndField) {
  LogEventsRequest r;
  EXPECT_EQ(ValidateLogEventsRequest(r).code(), absl::StatusCode::kInvalidArgument);
  Event* e = r.add_events();
  e->set_request_id("abc");
  e->set_listing_id(3);
  e->set_type(EVENT_TYPE_CLICK);
  EXPECT_TRUE(ValidateLogEventsRequest(r).ok());
  e->set_listing_id(0);
  absl::Status s = ValidateLogEventsRequest(r);
  EXPECT_EQ(s.message().substr(0, 20), "events[0].listing_id");
  e->set_listing_id(3);
  e->set_request_id(std::string(1 << 20, 'r'));
  s = ValidateLogEventsRequest(r);
  EXPECT_EQ(s.message().substr(0, 20), "events[0].request_id");
  EXPECT_LT(s.message().size(), 200u);
  e->set_request_id("abc");
  e->set_attribution_token(std::string(5000, 't'));
  s = ValidateLogEventsRequest(r);
  EXPECT_EQ(s.message().substr(0, 27), "events[0].attribution_token");
}

// An event stamped far ahead would outlive every retention cutoff of the time-keyed log.
TEST(ValidateLogEvents, RefusesTimestampsFarAheadOfTheServerClock) {
  LogEventsRequest r;
  Event* e = r.add_events();
  e->set_request_id("abc");
  e->set_listing_id(3);
  e->set_type(EVENT_TYPE_CLICK);
  const int64_t now = 1'800'000'000'000;
  e->set_timestamp_ms(now + kMaxEventClockAheadMs);  // a client clock a day ahead: accepted
  EXPECT_TRUE(ValidateLogEventsRequest(r, now).ok());
  e->set_timestamp_ms(1);  // 1970: old, accepted (retention drops it)
  EXPECT_TRUE(ValidateLogEventsRequest(r, now).ok());
  for (int64_t t : {now + kMaxEventClockAheadMs + 1, std::numeric_limits<int64_t>::max()}) {
    e->set_timestamp_ms(t);
    absl::Status s = ValidateLogEventsRequest(r, now);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message().substr(0, 22), "events[0].timestamp_ms") << s.message();
  }
  e->set_type(static_cast<EventType>(99));  // an unknown value on the wire
  e->set_timestamp_ms(0);
  EXPECT_EQ(ValidateLogEventsRequest(r, now).message(),
            "events[0].type: must be click, add_to_cart, purchase or contact_seller");
}

TEST(ValidateSearchRequest, ExperimentFields) {
  SearchRequest r = Good();
  r.set_anonymous_id("cookie-123");
  (*r.mutable_force_arms())["exp"] = "arm";
  int offset;
  EXPECT_TRUE(ValidateSearchRequest(r, &offset).ok());
  r.set_anonymous_id(std::string(200, 'a'));
  ExpectInvalid(r, "anonymous_id");
  r.set_anonymous_id("has space");
  ExpectInvalid(r, "anonymous_id");
  r.set_anonymous_id("");
  for (int i = 0; i < 20; ++i) (*r.mutable_force_arms())["e" + std::to_string(i)] = "a";
  ExpectInvalid(r, "force_arms");
}

}  // namespace
}  // namespace marketsearch
