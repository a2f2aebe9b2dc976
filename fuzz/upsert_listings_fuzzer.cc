// Fuzz target: UpsertListings payloads, as the server handles them: the request bytes parsed
// by ParseRequestMessage (serving/message_parser.h), then ListingWriter::Upsert
// (serving/listing_writer.h: validation of every listing, the listing tower, the store, the
// ANN delta, the lexical delta) over a small deployment (serving_fixture.h); an acknowledged
// write is then deleted again, so the deployment stays small.
// Checks: a refused payload is INVALID_ARGUMENT naming `listings`; a payload that passed
// validation is acknowledged (the writer promises that content cannot fail after validation,
// so INTERNAL here is a listing the store or an index could not take); the acknowledged
// listings are in the served records, and the delete is acknowledged.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/serving_fixture.h"
#include "serving/message_parser.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // As the server does at start: protobuf's own "invalid UTF-8" parse errors are answered by
  // ParseRequestMessage, not logged once per input.
  marketsearch::InstallProtobufLogFilter();
  marketsearch::Deployment();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsearch;
  FuzzDeployment& d = Deployment();
  UpsertListingsRequest request;
  const absl::Status parsed =
      ParseRequestMessage(std::string_view(reinterpret_cast<const char*>(data), size), &request);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.code() == absl::StatusCode::kInvalidArgument, "parse error code");
    return 0;
  }
  const std::vector<Listing> listings(request.listings().begin(), request.listings().end());
  const absl::StatusOr<int64_t> t = d.writer->Upsert(listings);
  if (!t.ok()) {
    FUZZ_CHECK(t.status().code() == absl::StatusCode::kInvalidArgument,
               absl::StrCat("a validated payload failed: ", t.status().ToString()).c_str());
    FUZZ_CHECK(t.status().message().rfind("listings", 0) == 0, "refusal does not name listings");
    return 0;
  }
  std::vector<uint64_t> ids;
  for (const Listing& l : listings) ids.push_back(l.listing_id());
  auto records = d.reader->ReadListings(ids);
  FUZZ_CHECK(records.ok(), "reading the upserted records failed");
  for (const ListingRecord& rec : *records) FUZZ_CHECK(rec != nullptr, "upserted listing missing");
  const absl::StatusOr<int64_t> deleted = d.writer->Delete(ids);
  FUZZ_CHECK(deleted.ok(), absl::StrCat("delete failed: ", deleted.status().ToString()).c_str());
  return 0;
}
