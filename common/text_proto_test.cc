#include "common/text_proto.h"

#include "gmock/gmock.h"
#include "google/protobuf/duration.pb.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

using ::testing::HasSubstr;

TEST(TextProtoTest, ParsesAndClearsFirst) {
  google::protobuf::Duration d;
  d.set_nanos(5);
  ASSERT_TRUE(ParseTextProto("seconds: 7", "t", &d).ok());
  EXPECT_EQ(d.seconds(), 7);
  EXPECT_EQ(d.nanos(), 0);
}

TEST(TextProtoTest, AnUnknownFieldIsAnErrorNamingItTheSourceAndTheLine) {
  google::protobuf::Duration d;
  const absl::Status s = ParseTextProto("seconds: 7\nminutes: 3", "config x.textproto", &d);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("config x.textproto: line 2"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("minutes"));
}

}  // namespace
}  // namespace marketsearch
