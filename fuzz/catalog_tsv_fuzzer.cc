// Fuzz target: the catalog TSV readers (datasets/catalog_reader.h: ReadTsv, ReadQueries,
// ReadJudgments), which the offline jobs run over queries.tsv and judgments.tsv. Input: byte 0
// picks the reader, the rest is the file. Checks: every row has the promised field count;
// judgments carry a known ESCI grade; no crash on any header or row.
#include <cstdint>
#include <string>
#include <string_view>

#include "datasets/catalog_reader.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsearch;
  if (size == 0) return 0;
  const std::string path = WriteFuzzFile(
      "catalog.tsv", std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  switch (data[0] % 3) {
    case 0: {
      auto rows = ReadTsv(path, {"query_id", "listing_id"}, {"label", "intent"});
      if (rows.ok()) {
        for (const TsvRow& r : *rows) FUZZ_CHECK(r.size() == 4, "row with the wrong field count");
      }
      break;
    }
    case 1: {
      auto queries = ReadQueries(path);
      (void)queries;
      break;
    }
    case 2: {
      auto judgments = ReadJudgments(path);
      if (judgments.ok()) {
        for (const Judgment& j : *judgments) {
          const int label = static_cast<int>(j.label);
          FUZZ_CHECK(label >= 0 && label <= 3, "judgment with an unknown label");
        }
        (void)GroupJudgments(*judgments);
      }
      break;
    }
  }
  return 0;
}
