// Streaming reader of listings.tsv that validates each row into a Listing proto.
// A bad row is reported with its line number and skipped; the reader never stops at one.
// Thread-compatible.
#ifndef MARKETSEARCH_FEATURES_LISTING_TSV_H_
#define MARKETSEARCH_FEATURES_LISTING_TSV_H_

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/catalog.pb.h"
#include "proto/listing_limits.h"

namespace marketsearch {

class ListingTsvReader {
 public:
  enum class Result { kOk, kBadRow, kEnd };

  // Opens `path` and checks its header: listing_id, title, category, price and condition
  // are required; description, brand, attributes, seller_id, seller_rating, city, lat, lon,
  // listed_at_unix are optional.
  absl::Status Open(const std::string& path);

  // Reads the next row. kOk fills `listing`; kBadRow fills `error` (the reason, without the
  // line number); kEnd at end of file. line_number() is the 1-based line just read.
  Result Next(Listing* listing, std::string* error);
  int64_t line_number() const { return line_no_; }

 private:
  std::ifstream in_;
  std::vector<int> col_;  // index of each known column in the file, -1 when absent
  size_t field_count_ = 0;
  int64_t line_no_ = 0;
};

// Checks a listing the way ingest and the UpsertListings RPC both do: listing_id > 0,
// non-empty title and category, every text field valid UTF-8 and within its byte limit
// (proto/listing_limits.h), at most kMaxAttributes attributes, 0 < price <= kMaxPrice, a known condition,
// seller_rating in [0, 5], finite lat/lon in range, listed_at_unix in range. The message
// names the field ("price: ...", "attributes[3].value: ...") and never echoes the value of a
// text field, so it stays a few dozen bytes whatever the input.
absl::Status ValidateListing(const Listing& listing);

// Parses "new", "like_new", "used", "for_parts" (case-insensitive).
bool ParseCondition(const std::string& s, Condition* out);
const char* ConditionName(Condition c);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_LISTING_TSV_H_
