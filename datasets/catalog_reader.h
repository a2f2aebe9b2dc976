// Readers for the catalog files under <data_dir>/catalog/ (tab-separated, one header line):
// queries.tsv and judgments.tsv (labels are ESCI grades, proto/esci.h). Listings are parsed and validated by jobs/ingest.
// Thread-compatible; the returned values own their data.
#ifndef MARKETSEARCH_DATASETS_CATALOG_READER_H_
#define MARKETSEARCH_DATASETS_CATALOG_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "proto/esci.h"

namespace marketsearch {

struct QueryRecord {
  uint64_t query_id = 0;
  std::string split;  // train | valid | test
  uint64_t user_id = 0;
  std::string text;
  // "key=value;..." from the generator (kind=synonym, brand=..., ...); empty when the file has
  // no intent column (the public datasets).
  std::string intent;
};

// The value of `key` in an intent string ("" when absent).
std::string IntentValue(const std::string& intent, const std::string& key);

struct Judgment {
  uint64_t query_id = 0;
  uint64_t listing_id = 0;
  Esci label = Esci::kIrrelevant;
};

// One row of a header-first TSV file, split on tabs.
using TsvRow = std::vector<std::string>;

// Reads a TSV file with a header line; checks that every named column exists and returns,
// per row, the fields in the order of `columns`, then those of `optional` (an empty field
// when the file has no such column). A row with the wrong field count is an InvalidArgument
// error naming the file and line.
absl::StatusOr<std::vector<TsvRow>> ReadTsv(const std::string& path,
                                            const std::vector<std::string>& columns,
                                            const std::vector<std::string>& optional = {});

// queries.tsv: query_id, split, user_id, text, and intent when present (other columns ignored).
absl::StatusOr<std::vector<QueryRecord>> ReadQueries(const std::string& path);
// judgments.tsv: query_id, listing_id, label.
absl::StatusOr<std::vector<Judgment>> ReadJudgments(const std::string& path);

// Judgments grouped by query: query_id -> (listing_id -> label).
using JudgmentMap = absl::flat_hash_map<uint64_t, absl::flat_hash_map<uint64_t, Esci>>;
JudgmentMap GroupJudgments(const std::vector<Judgment>& judgments);

}  // namespace marketsearch

#endif  // MARKETSEARCH_DATASETS_CATALOG_READER_H_
