// Runs common/testdata/versions_fixture.txt against common/versions.h; common/test_versions.py
// runs the same file against common/versions.py.
#include "common/versions.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {
namespace fs = std::filesystem;

std::string FixturePath() {
  const char* s = std::getenv("TEST_SRCDIR");
  return std::string(s ? s : ".") + "/marketsearch/common/testdata/versions_fixture.txt";
}

std::string TmpRoot(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/versions_test/" + name;
}

// \n \t \r \s (space) \\ ; anything else is a broken fixture.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    const char c = ++i < s.size() ? s[i] : '?';
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 's': out += ' '; break;
      case '\\': out += '\\'; break;
      default: ADD_FAILURE() << "bad escape in fixture text " << s;
    }
  }
  return out;
}

int64_t ToInt(const std::string& s) {
  int64_t v = 0;
  EXPECT_TRUE(absl::SimpleAtoi(s, &v)) << "not a number in the fixture: " << s;
  return v;
}

std::string CodeName(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return "OK";
    case absl::StatusCode::kNotFound: return "NOT_FOUND";
    case absl::StatusCode::kDataLoss: return "DATA_LOSS";
    case absl::StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    default: return s.ToString();
  }
}

struct Line {
  int number;
  std::vector<std::string> words;
};
struct Case {
  std::string name;
  std::vector<Line> lines;
};

std::vector<Case> ReadFixture() {
  absl::StatusOr<std::string> text = ReadFile(FixturePath());
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<Case> cases;
  if (!text.ok()) return cases;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(*text, '\n')) {
    ++number;
    if (raw.empty() || raw[0] == '#') continue;
    std::vector<std::string> words = absl::StrSplit(raw, ' ', absl::SkipEmpty());
    if (words[0] == "case") {
      cases.push_back({words.at(1), {}});
    } else if (cases.empty()) {
      ADD_FAILURE() << "line " << number << " outside a case";
    } else {
      cases.back().lines.push_back({number, std::move(words)});
    }
  }
  return cases;
}

void RunCase(const Case& c) {
  const std::string root = TmpRoot(c.name);
  std::error_code ec;
  fs::remove_all(root, ec);
  ASSERT_TRUE(MakeDirs(root).ok());
  for (const Line& line : c.lines) {
    const std::vector<std::string>& w = line.words;
    SCOPED_TRACE(absl::StrCat("case ", c.name, ", line ", line.number, ": ", absl::StrJoin(w, " ")));
    const std::string& op = w[0];
    if (op == "no_root") {
      fs::remove_all(root, ec);
    } else if (op == "dir") {
      ASSERT_TRUE(MakeDirs(root + "/" + w.at(1)).ok());
    } else if (op == "file") {
      ASSERT_TRUE(WriteFileAtomically(root + "/" + w.at(1), w.size() > 2 ? Unescape(w[2]) : "").ok());
    } else if (op == "list") {
      std::vector<int64_t> want;
      for (size_t i = 1; i < w.size(); ++i) want.push_back(ToInt(w[i]));
      EXPECT_EQ(ListVersions(root), want);
    } else if (op == "newest") {
      absl::StatusOr<int64_t> v = NewestVersion(root);
      absl::StatusOr<std::string> dir = NewestVersionDir(root);
      if (w.at(1) == "NOT_FOUND") {
        EXPECT_EQ(CodeName(v.status()), "NOT_FOUND");
        EXPECT_EQ(CodeName(dir.status()), "NOT_FOUND");
      } else {
        ASSERT_TRUE(v.ok()) << v.status();
        EXPECT_EQ(*v, ToInt(w[1]));
        ASSERT_TRUE(dir.ok()) << dir.status();
        EXPECT_EQ(*dir, root + "/" + w[1]);
        EXPECT_EQ(VersionDir(root, *v), root + "/" + w[1]);
      }
    } else if (op == "next") {
      EXPECT_EQ(NextVersion(root), ToInt(w.at(1)));
    } else if (op == "current") {
      absl::StatusOr<int64_t> v = ReadCurrent(root);
      if (w.at(1) == "NOT_FOUND" || w[1] == "DATA_LOSS") {
        EXPECT_EQ(CodeName(v.status()), w[1]) << v.status();
        // The message names the file, so an operator knows what to fix.
        EXPECT_NE(v.status().message().find(root), absl::string_view::npos) << v.status();
      } else {
        ASSERT_TRUE(v.ok()) << v.status();
        EXPECT_EQ(*v, ToInt(w[1]));
      }
    } else if (op == "write_current") {
      const int64_t v = ToInt(w.at(1));
      const absl::Status s = WriteCurrent(root, v);
      EXPECT_EQ(CodeName(s), w.at(2)) << s;
      if (s.ok()) {
        EXPECT_EQ(*ReadFile(root + "/CURRENT"), absl::StrCat(v, "\n"));
        EXPECT_FALSE(PathExists(root + "/CURRENT.tmp"));
      }
    } else {
      ADD_FAILURE() << "unknown fixture operation " << op;
    }
  }
}

TEST(Versions, SharedFixture) {
  const std::vector<Case> cases = ReadFixture();
  // Guards against a fixture that silently stopped being read.
  ASSERT_GE(cases.size(), 10u);
  for (const Case& c : cases) RunCase(c);
}

TEST(Versions, VersionDir) {
  EXPECT_EQ(VersionDir("var/index", 12), "var/index/12");
}

}  // namespace
}  // namespace marketsearch
