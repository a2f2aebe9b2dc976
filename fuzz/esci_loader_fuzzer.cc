// Fuzz target: the ESCI loader (datasets/public_loaders.h LoadEsci and its CSV reader).
// Input: the examples CSV and the products CSV, separated by a line "====". Byte 0 of the
// examples part also picks the options (small version only, unjudged products). The loader
// reads files, so both parts are written to the process's temporary directory. Checks: no
// crash; a load that succeeds wrote a catalog the pipeline's readers accept (loader_check.h);
// the CSV reader over the same bytes ends.
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/public_loaders.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_files.h"
#include "fuzz/loader_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsearch;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::string examples = SplitPart(input, 0), products = SplitPart(input, 1);

  CsvReader csv;
  csv.OpenString(examples);
  std::vector<std::string> fields;
  std::string error;
  int64_t records = 0;
  while (csv.Next(&fields, &error) == CsvReader::Result::kOk) {
    FUZZ_CHECK(++records <= static_cast<int64_t>(examples.size()), "more records than bytes");
  }

  EsciOptions o;
  o.examples_path = WriteFuzzFile("examples.csv", examples);
  o.products_path = WriteFuzzFile("products.csv", products);
  const uint8_t bits = size > 0 ? data[0] : 0;
  o.small_version_only = (bits & 1) == 0;
  o.include_unjudged_products = (bits & 2) != 0;
  o.max_description_chars = 40;
  const std::string out = FuzzTempDir() + "/esci_out";
  LoadSummary summary;
  if (LoadEsci(o, out, &summary).ok()) {
    CheckLoadedCatalog(out);
    (void)FormatLoadSummary(summary);
  }
  return 0;
}
