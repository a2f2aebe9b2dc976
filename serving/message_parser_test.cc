#include "serving/message_parser.h"

#include "gtest/gtest.h"
#include "proto/search.pb.h"

namespace marketsearch {
namespace {

// The wire bytes of `m`; proto3 serialises invalid UTF-8 (it only logs), as a client would send.
std::string Wire(const google::protobuf::Message& m) { return m.SerializeAsString(); }

void ExpectInvalidUtf8(const google::protobuf::Message& sent, google::protobuf::Message* into,
                       const std::string& field) {
  absl::Status s = ParseRequestMessage(Wire(sent), into);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), field + ": not valid UTF-8");
}

void ExpectInvalidUtf8Bytes(const std::string& bytes, google::protobuf::Message* into,
                            const std::string& field) {
  absl::Status s = ParseRequestMessage(bytes, into);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), field + ": not valid UTF-8");
}

TEST(ParseRequestMessage, ParsesAValidRequest) {
  SearchRequest r;
  r.set_query("grey sofa £100");
  r.set_page_size(10);
  r.mutable_filters()->add_categories("Sofas");
  SearchRequest parsed;
  ASSERT_TRUE(ParseRequestMessage(Wire(r), &parsed).ok());
  EXPECT_EQ(parsed.query(), r.query());
  EXPECT_EQ(parsed.filters().categories(0), "Sofas");
}

TEST(ParseRequestMessage, NamesTheFieldWithInvalidUtf8AtAnyDepth) {
  InstallProtobufLogFilter();  // and the expected protobuf errors stay out of the log
  SearchRequest parsed;
  SearchRequest q;
  q.set_query("bad \xff");
  ExpectInvalidUtf8(q, &parsed, "query");
  SearchRequest token;
  token.set_query("ok");
  token.set_page_token("\xc3");
  ExpectInvalidUtf8(token, &parsed, "page_token");
  SearchRequest cats;
  cats.set_query("ok");
  cats.mutable_filters()->add_categories("fine");
  cats.mutable_filters()->add_categories("fine too");
  cats.mutable_filters()->add_categories("bad \xe2\x82");
  ExpectInvalidUtf8(cats, &parsed, "filters.categories[2]");

  UpsertListingsRequest up;
  up.add_listings()->set_title("good");
  up.add_listings()->set_title("good");
  Listing* bad = up.add_listings();
  bad->set_title("fine");
  bad->add_attributes()->set_name("colour");
  bad->add_attributes()->set_value("\xfe\xfe");
  UpsertListingsRequest parsed_up;
  ExpectInvalidUtf8(up, &parsed_up, "listings[2].attributes[1].value");
}

TEST(ParseRequestMessage, GarbageIsAnInvalidMessage) {
  SearchRequest parsed;
  absl::Status s = ParseRequestMessage(std::string("\xff\xff\xff\xff\xff", 5), &parsed);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "request: not a valid protobuf encoding of this method's request");
  // The message names no type: clients see it (tests/takedown_e2e_test.cc's corpus).
  EXPECT_EQ(s.message().find("SearchRequest"), absl::string_view::npos);
}

// A message field sent twice is merged by protobuf: a repeated field inside it is indexed
// across both occurrences, as in the parsed request. (Counting per occurrence named
// filters.categories[0], the valid "sofas", for the invalid second category.)
TEST(ParseRequestMessage, IndexesRepeatedFieldsAcrossMergedOccurrences) {
  InstallProtobufLogFilter();
  SearchRequest first;
  first.set_query("ok");
  first.mutable_filters()->add_categories("sofas");
  SearchRequest second;
  second.mutable_filters()->add_categories("chairs");
  second.mutable_filters()->add_categories("bad \xc0\xaf");
  SearchRequest parsed;
  ExpectInvalidUtf8Bytes(Wire(first) + Wire(second), &parsed, "filters.categories[2]");
}

}  // namespace
}  // namespace marketsearch
