// Fuzz target: the listings.tsv reader (features/listing_tsv.h), which jobs/ingest runs over a
// seller-provided catalog file. Input: the file's bytes (header line first). Checks: the reader
// ends (kEnd) with increasing line numbers; a bad row is reported with a reason; every row it
// returns as kOk passes ValidateListing, the check the UpsertListings RPC applies.
#include <cstdint>
#include <string>
#include <string_view>

#include "features/listing_tsv.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsearch;
  const std::string path = WriteFuzzFile(
      "listings.tsv", std::string_view(reinterpret_cast<const char*>(data), size));
  ListingTsvReader reader;
  if (!reader.Open(path).ok()) return 0;
  int64_t last_line = reader.line_number();
  for (;;) {
    Listing listing;
    std::string error;
    const ListingTsvReader::Result r = reader.Next(&listing, &error);
    if (r == ListingTsvReader::Result::kEnd) break;
    FUZZ_CHECK(reader.line_number() > last_line, "line numbers do not increase");
    FUZZ_CHECK(reader.line_number() <= static_cast<int64_t>(size) + 1, "more lines than bytes");
    last_line = reader.line_number();
    if (r == ListingTsvReader::Result::kBadRow) {
      FUZZ_CHECK(!error.empty(), "a bad row without a reason");
      continue;
    }
    const absl::Status valid = ValidateListing(listing);
    FUZZ_CHECK(valid.ok(), std::string(valid.message()).c_str());
  }
  return 0;
}
