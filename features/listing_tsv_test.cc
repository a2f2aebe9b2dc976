#include "features/listing_tsv.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::string Write(const std::string& name, const std::string& body) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string p = std::string(t ? t : "/tmp") + "/" + name;
  std::ofstream(p) << body;
  return p;
}

const char kHeader[] =
    "listing_id\ttitle\tcategory\tbrand\tattributes\tprice\tcondition\tseller_rating\tcity\tlat\tlon\n";

TEST(ListingTsv, ParsesGoodRow) {
  auto p = Write("good.tsv", std::string(kHeader) +
                                 "5\tGrey IKEA couch 🛋\tsofas\tikea\tcolour=grey;seats=3\t120.50\tused\t4.8\tBerlin\t52.52\t13.40\n");
  ListingTsvReader r;
  ASSERT_TRUE(r.Open(p).ok());
  Listing l;
  std::string err;
  ASSERT_EQ(r.Next(&l, &err), ListingTsvReader::Result::kOk) << err;
  EXPECT_EQ(l.listing_id(), 5u);
  EXPECT_EQ(l.attributes_size(), 2);
  EXPECT_EQ(l.attributes(1).name(), "seats");
  EXPECT_EQ(l.condition(), CONDITION_USED);
  EXPECT_NEAR(l.location().lat(), 52.52, 1e-9);
  EXPECT_EQ(r.Next(&l, &err), ListingTsvReader::Result::kEnd);
}

TEST(ListingTsv, ReportsEachKindOfBadRowAndKeepsGoing) {
  const std::string rows[] = {
      "1\ta\tc\t\t\t10\tnew\t4\tX\t1\t1",           // 2: ok
      "2\ta\tc\t\t\t10\tnew",                        // 3: wrong column count
      "3\tbad \xff utf8\tc\t\t\t10\tnew\t4\tX\t1\t1",  // 4: invalid UTF-8
      "4\ta\tc\t\t\t-5\tnew\t4\tX\t1\t1",            // 5: negative price
      "5\ta\tc\t\t\t1e12\tnew\t4\tX\t1\t1",          // 6: absurd price
      "\ta\tc\t\t\t10\tnew\t4\tX\t1\t1",             // 7: missing id
      "8\ta\tc\t\t\t10\tshiny\t4\tX\t1\t1",          // 8: unknown condition
      "9\ta\tc\t\t\t10\tnew\t4\tX\t1\t1",            // 9: ok
  };
  std::string body = kHeader;
  for (const auto& r : rows) body += r + std::string("\n");
  ListingTsvReader reader;
  ASSERT_TRUE(reader.Open(Write("bad.tsv", body)).ok());
  Listing l;
  std::string err;
  std::vector<int64_t> bad_lines, ok_ids;
  std::vector<std::string> reasons;
  for (;;) {
    auto res = reader.Next(&l, &err);
    if (res == ListingTsvReader::Result::kEnd) break;
    if (res == ListingTsvReader::Result::kBadRow) {
      bad_lines.push_back(reader.line_number());
      reasons.push_back(err);
    } else {
      ok_ids.push_back(static_cast<int64_t>(l.listing_id()));
    }
  }
  EXPECT_EQ(bad_lines, (std::vector<int64_t>{3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(ok_ids, (std::vector<int64_t>{1, 9}));
  EXPECT_NE(reasons[0].find("fields"), std::string::npos);
  EXPECT_NE(reasons[1].find("UTF-8"), std::string::npos);
  EXPECT_NE(reasons[2].find("price"), std::string::npos);
  EXPECT_NE(reasons[4].find("listing_id"), std::string::npos);
  EXPECT_NE(reasons[5].find("condition"), std::string::npos);
}

Listing ValidListing() {
  Listing l;
  l.set_listing_id(1);
  l.set_title("sofa");
  l.set_category("sofas");
  l.set_price(10);
  l.set_condition(CONDITION_USED);
  return l;
}

TEST(ValidateListing, NamesTheField) {
  const Listing l = ValidListing();
  EXPECT_TRUE(ValidateListing(l).ok());
  Listing x = l;
  x.set_price(-1);
  EXPECT_EQ(ValidateListing(x).message().substr(0, 6), "price:");
  x = l;
  x.set_condition(CONDITION_UNSPECIFIED);
  EXPECT_EQ(ValidateListing(x).message().substr(0, 10), "condition:");
  x = l;
  x.set_listing_id(0);
  EXPECT_EQ(ValidateListing(x).message().substr(0, 11), "listing_id:");
  x = l;
  x.set_title("bad \xff");
  EXPECT_FALSE(ValidateListing(x).ok());
  x = l;
  x.mutable_location()->set_lat(91);
  EXPECT_EQ(ValidateListing(x).message().substr(0, 9), "location:");
}

// Each field's limit, with a message that names the field and stays short whatever the input
// (a 1 MB title used to be stored, and returned in every page that hit it).
TEST(ValidateListing, EnforcesDocumentedLimits) {
  const Listing l = ValidListing();
  auto expect_field = [](const Listing& x, const std::string& field) {
    absl::Status s = ValidateListing(x);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_EQ(s.message().substr(0, field.size() + 1), field + ":") << s.message();
    EXPECT_LT(s.message().size(), 200u) << field;
  };
  const std::string mb(1 << 20, 'x');
  Listing x = l;
  x.set_title(mb);
  expect_field(x, "title");
  x = l;
  x.set_title(std::string(kMaxTitleBytes, 't'));
  EXPECT_TRUE(ValidateListing(x).ok());
  x = l;
  x.set_description(mb);
  expect_field(x, "description");
  x = l;
  x.set_category(std::string(100 * 1024, 'c'));
  expect_field(x, "category");
  x = l;
  x.set_brand(mb);
  expect_field(x, "brand");
  x = l;
  x.set_city("bad \xe2\x82");
  expect_field(x, "city");
  x = l;
  for (int i = 0; i < 10000; ++i) {
    Attribute* a = x.add_attributes();
    a->set_name("n");
    a->set_value("v");
  }
  expect_field(x, "attributes");
  x = l;
  x.add_attributes()->set_name("colour");
  x.add_attributes()->set_value(mb);
  expect_field(x, "attributes[1].value");
  x = l;
  x.mutable_location()->set_lat(std::nan(""));
  expect_field(x, "location");
  x = l;
  x.mutable_location()->set_lon(std::numeric_limits<double>::infinity());
  expect_field(x, "location");
  x = l;
  x.set_seller_rating(std::nanf(""));
  expect_field(x, "seller_rating");
  x = l;
  x.set_listed_at_unix(-5);
  expect_field(x, "listed_at_unix");
  // A long word is legal text (a URL in a description): the index must cope with it.
  x = l;
  x.set_description("photos: https://example.com/" + std::string(300, 'a'));
  x.set_title("sofa " + std::string(300, 'b'));
  EXPECT_TRUE(ValidateListing(x).ok());
}

TEST(ListingTsv, MissingRequiredColumn) {
  ListingTsvReader r;
  absl::Status s = r.Open(Write("nohdr.tsv", "listing_id\ttitle\n1\tx\n"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("category"), std::string::npos);
}

}  // namespace
}  // namespace marketsearch
