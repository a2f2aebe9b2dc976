// Fuzz target: the WANDS loader (datasets/public_loaders.h LoadWands). Input: product.csv,
// query.csv and label.csv (tab-separated), separated by lines "====", written to the process's
// temporary directory. Checks: no crash; a load that succeeds wrote a catalog the pipeline's
// readers accept (loader_check.h).
#include <cstdint>
#include <string>

#include "datasets/public_loaders.h"
#include "fuzz/fuzz_files.h"
#include "fuzz/loader_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsearch;
  const std::string input(reinterpret_cast<const char*>(data), size);
  WriteFuzzFile("product.csv", SplitPart(input, 0));
  WriteFuzzFile("query.csv", SplitPart(input, 1));
  WriteFuzzFile("label.csv", SplitPart(input, 2));
  WandsOptions o;
  o.dir = FuzzTempDir();
  o.max_description_chars = 40;
  const std::string out = FuzzTempDir() + "/wands_out";
  LoadSummary summary;
  if (LoadWands(o, out, &summary).ok()) {
    CheckLoadedCatalog(out);
    (void)FormatLoadSummary(summary);
  }
  return 0;
}
