#include "datasets/catalog_reader.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace marketsearch {

absl::StatusOr<std::vector<TsvRow>> ReadTsv(const std::string& path,
                                            const std::vector<std::string>& columns,
                                            const std::vector<std::string>& optional) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string line;
  if (!std::getline(in, line)) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  std::vector<std::string> header = absl::StrSplit(line, '\t');
  std::vector<size_t> pick;
  for (const auto& c : columns) {
    size_t i = 0;
    while (i < header.size() && header[i] != c) ++i;
    if (i == header.size()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": missing column '", c, "'"));
    }
    pick.push_back(i);
  }
  for (const auto& c : optional) {  // absent: an empty field
    size_t i = 0;
    while (i < header.size() && header[i] != c) ++i;
    pick.push_back(i);
  }
  std::vector<TsvRow> rows;
  int64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_no, ": expected ",
                                                     header.size(), " fields, got ", f.size()));
    }
    TsvRow row;
    row.reserve(pick.size());
    for (size_t i : pick) row.push_back(i < f.size() ? std::move(f[i]) : std::string());
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::vector<QueryRecord>> ReadQueries(const std::string& path) {
  auto rows = ReadTsv(path, {"query_id", "split", "user_id", "text"}, {"intent"});
  if (!rows.ok()) return rows.status();
  std::vector<QueryRecord> out;
  out.reserve(rows->size());
  for (size_t i = 0; i < rows->size(); ++i) {
    const TsvRow& r = (*rows)[i];
    QueryRecord q;
    if (!absl::SimpleAtoi(r[0], &q.query_id) || !absl::SimpleAtoi(r[2], &q.user_id)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": row ", i + 1, ": bad id"));
    }
    q.split = r[1];
    q.text = r[3];
    q.intent = r[4];
    out.push_back(std::move(q));
  }
  return out;
}

absl::StatusOr<std::vector<Judgment>> ReadJudgments(const std::string& path) {
  auto rows = ReadTsv(path, {"query_id", "listing_id", "label"});
  if (!rows.ok()) return rows.status();
  std::vector<Judgment> out;
  out.reserve(rows->size());
  for (size_t i = 0; i < rows->size(); ++i) {
    const TsvRow& r = (*rows)[i];
    Judgment j;
    if (!absl::SimpleAtoi(r[0], &j.query_id) || !absl::SimpleAtoi(r[1], &j.listing_id)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": row ", i + 1, ": bad id"));
    }
    auto label = ParseEsci(r[2]);
    if (!label.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": row ", i + 1, ": ",
                                                     label.status().message()));
    }
    j.label = *label;
    out.push_back(j);
  }
  return out;
}

JudgmentMap GroupJudgments(const std::vector<Judgment>& judgments) {
  JudgmentMap m;
  for (const auto& j : judgments) m[j.query_id][j.listing_id] = j.label;
  return m;
}

std::string IntentValue(const std::string& intent, const std::string& key) {
  for (absl::string_view kv : absl::StrSplit(intent, ';', absl::SkipEmpty())) {
    const size_t eq = kv.find('=');
    if (eq != absl::string_view::npos && kv.substr(0, eq) == key) return std::string(kv.substr(eq + 1));
  }
  return "";
}

}  // namespace marketsearch
