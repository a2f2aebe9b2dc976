#include "serving/request_validation.h"

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

TEST(PageToken, RoundTripAndDepthLimit) {
  int offset;
  int64_t version;
  ASSERT_TRUE(DecodePageToken(EncodePageToken(30, 7), &offset, &version).ok());
  EXPECT_EQ(offset, 30);
  EXPECT_EQ(version, 7);

  SearchRequest r = Good();
  r.set_page_token(EncodePageToken(20, 1));
  ASSERT_TRUE(ValidateSearchRequest(r, &offset).ok());
  EXPECT_EQ(offset, 20);
  r.set_page_token(EncodePageToken(995, 1));
  ExpectInvalid(r, "page_token");
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
}

}  // namespace
}  // namespace marketsearch
