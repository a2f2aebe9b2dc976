#include "fuzz/loader_check.h"

#include "absl/container/flat_hash_set.h"
#include "datasets/catalog_reader.h"
#include "features/listing_tsv.h"
#include "fuzz/fuzz_check.h"

namespace marketsearch {

std::string SplitPart(const std::string& input, int index) {
  static const std::string kSeparator = "\n====\n";
  size_t begin = 0;
  for (int i = 0; i < index; ++i) {
    const size_t at = input.find(kSeparator, begin);
    if (at == std::string::npos) return "";
    begin = at + kSeparator.size();
  }
  const size_t end = input.find(kSeparator, begin);
  return input.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

void CheckLoadedCatalog(const std::string& out_dir) {
  ListingTsvReader reader;
  const absl::Status opened = reader.Open(out_dir + "/listings.tsv");
  FUZZ_CHECK(opened.ok(), std::string(opened.message()).c_str());
  for (;;) {
    Listing listing;
    std::string error;
    const ListingTsvReader::Result r = reader.Next(&listing, &error);
    if (r == ListingTsvReader::Result::kEnd) break;
    FUZZ_CHECK(r == ListingTsvReader::Result::kOk,
               ("a loaded listing is refused by the listings.tsv reader: " + error).c_str());
  }
  auto queries = ReadQueries(out_dir + "/queries.tsv");
  FUZZ_CHECK(queries.ok(), std::string(queries.status().message()).c_str());
  auto judgments = ReadJudgments(out_dir + "/judgments.tsv");
  FUZZ_CHECK(judgments.ok(), std::string(judgments.status().message()).c_str());
  absl::flat_hash_set<uint64_t> ids;
  for (const QueryRecord& q : *queries) ids.insert(q.query_id);
  for (const Judgment& j : *judgments) {
    FUZZ_CHECK(ids.contains(j.query_id), "a judgment of a query queries.tsv lacks");
  }
}

}  // namespace marketsearch
