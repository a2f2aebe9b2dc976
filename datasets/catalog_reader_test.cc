#include "datasets/catalog_reader.h"

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::string Write(const std::string& name, const std::string& body) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string p = std::string(t ? t : "/tmp") + "/" + name;
  std::ofstream(p) << body;
  return p;
}

TEST(CatalogReader, ReadsQueriesByColumnName) {
  auto p = Write("q.tsv", "text\tquery_id\tuser_id\tsplit\textra\n"
                          "red sofa\t7\t3\ttest\tx\n");
  auto q = ReadQueries(p);
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].query_id, 7u);
  EXPECT_EQ((*q)[0].text, "red sofa");
  EXPECT_EQ((*q)[0].split, "test");
  EXPECT_EQ((*q)[0].intent, "");  // no intent column
}

TEST(CatalogReader, ReadsTheOptionalIntent) {
  auto p = Write("qi.tsv", "query_id\tsplit\tuser_id\ttext\tintent\n"
                           "1\ttest\t3\tnkie shoes\ttype=sneakers;brand=nike;kind=misspelling\n");
  auto q = ReadQueries(p);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(IntentValue((*q)[0].intent, "kind"), "misspelling");
  EXPECT_EQ(IntentValue((*q)[0].intent, "brand"), "nike");
  EXPECT_EQ(IntentValue((*q)[0].intent, "cond"), "");
}

TEST(CatalogReader, WrongFieldCountNamesLine) {
  auto p = Write("bad.tsv", "query_id\tlisting_id\tlabel\n1\t2\tE\n1\t3\n");
  auto j = ReadJudgments(p);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find(":3:"), std::string::npos) << j.status();
}

TEST(CatalogReader, MissingColumnIsAnError) {
  auto p = Write("nocol.tsv", "query_id\tlabel\n1\tE\n");
  EXPECT_EQ(ReadJudgments(p).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marketsearch
