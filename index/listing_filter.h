// Filter attributes of listings, kept in memory next to the ANN index so that a filtered
// search can test a listing without a feature-store read:
//   - ListingAttributes: the filterable fields of one listing (category, price, condition,
//     location), 40 bytes;
//   - ListingFilter: a SearchFilters proto compiled for fast Matches() — the one definition
//     of what a filter means, also used by serving for listings read from the store (categories any-of, price min/max inclusive with 0 = unbounded,
//     conditions any-of, geo radius by haversine, a listing without location fails a geo
//     filter);
//   - ListingAttributeTable: the attributes of every listing of one index version, in the
//     index's internal row order, saved as <version dir>/attributes.bin (format below).
//
// Thread safety: all three are immutable after construction/Load and safe to share between
// threads. ListingFilter holds no pointers into the SearchFilters it was made from.
#ifndef MARKETSEARCH_INDEX_LISTING_FILTER_H_
#define MARKETSEARCH_INDEX_LISTING_FILTER_H_

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/catalog.pb.h"
#include "proto/search.pb.h"

namespace marketsearch {

// Stable 64-bit fingerprint (FNV-1a) of a category string exactly as written in the catalog.
// Part of the attributes.bin format: never change it without bumping the format version.
uint64_t CategoryFingerprint(const std::string& category);

struct ListingAttributes {
  uint64_t category_fp = 0;  // CategoryFingerprint(listing.category())
  double price = 0;
  double lat = 0;  // degrees; meaningful only when has_location
  double lon = 0;
  int32_t condition = 0;  // Condition enum value
  bool has_location = false;

  static ListingAttributes FromListing(const Listing& listing);
};

// Great-circle distance in km.
double HaversineKm(double lat1, double lon1, double lat2, double lon2);

class ListingFilter {
 public:
  // Matches every listing.
  ListingFilter() = default;
  explicit ListingFilter(const SearchFilters& filters);

  // True when the listing passes every filter that is set.
  bool Matches(const ListingAttributes& a) const {
    if (!categories_.empty() && !HasCategory(a.category_fp)) return false;
    if (min_price_ > 0 && a.price < min_price_) return false;
    if (max_price_ > 0 && a.price > max_price_) return false;
    if (!conditions_.empty() && !HasCondition(a.condition)) return false;
    if (has_geo_ && !MatchesGeo(a)) return false;
    return true;
  }

  // True when no filter is set (Matches() is always true).
  bool empty() const { return empty_; }
  // Deduplicated fingerprints of the category any-of filter (empty = all categories).
  const std::vector<uint64_t>& category_fps() const { return categories_; }
  // The category any-of as given (deduplicated; the lexical leg matches their words).
  const std::vector<std::string>& category_names() const { return category_names_; }
  // A price range or a geo radius is set.
  bool has_price_or_geo() const { return has_geo_ || min_price_ > 0 || max_price_ > 0; }
  // True when the filter is only a category any-of (Matches() == category is listed).
  bool categories_only() const { return !categories_.empty() && !other_predicates_; }
  // Only a price range: the rows of the price path between the bounds are exactly the matches.
  bool price_only() const {
    return categories_.empty() && conditions_.empty() && !has_geo_ && (min_price_ > 0 || max_price_ > 0);
  }
  // Deduplicated condition any-of values (empty = all conditions).
  const std::vector<int32_t>& conditions() const { return conditions_; }
  // Price bounds as in SearchFilters (0 = unbounded).
  double min_price() const { return min_price_; }
  double max_price() const { return max_price_; }
  // When a geo filter is set: a latitude band [*lo, *hi] (degrees) that holds every location
  // the filter can match (a superset; Matches() decides). False without a geo filter.
  bool LatitudeBand(double* lo, double* hi) const;

  // A listing's position as a unit vector on the sphere, in floats (12 bytes), for scans
  // that test many listings against one circle without trigonometry per listing.
  static std::array<float, 3> UnitVector(double lat, double lon);
  // Where a listing (its UnitVector) lies against the geo circle: kInside or kOutside when that
  // is certain despite the floats' rounding, else kUnsure (then Matches() decides). The angle
  // to the centre is compared through its cosine, a dot product; a margin of 1e-6 on it (~1.6 km
  // at the edge of a 50 km circle) covers float error. kInside without a geo filter.
  enum class GeoSide { kInside, kOutside, kUnsure };
  GeoSide GeoPreTest(const std::array<float, 3>& p) const;
  // Only a geo radius: GeoSide::kInside is a match.
  bool geo_only() const {
    return has_geo_ && categories_.empty() && conditions_.empty() && min_price_ <= 0 && max_price_ <= 0;
  }

 private:
  bool HasCategory(uint64_t fp) const {
    for (uint64_t c : categories_) {
      if (c == fp) return true;
    }
    return false;
  }
  bool HasCondition(int32_t c) const {
    for (int32_t x : conditions_) {
      if (x == c) return true;
    }
    return false;
  }
  bool MatchesGeo(const ListingAttributes& a) const;

  std::vector<uint64_t> categories_;
  std::vector<std::string> category_names_;
  std::vector<int32_t> conditions_;
  double min_price_ = 0, max_price_ = 0;
  bool has_geo_ = false;
  double geo_lat_ = 0, geo_lon_ = 0, radius_km_ = 0;
  double max_dlat_rad_ = 0;  // conservative latitude pre-check, see MatchesGeo
  double max_dlon_rad_ = std::numeric_limits<double>::infinity();  // longitude pre-check
  double centre_xyz_[3] = {0, 0, 0};  // the geo centre as a unit vector (GeoPreTest)
  double cos_radius_ = -2;            // cos of the angular radius; -2: the whole sphere
  bool empty_ = true;
  bool other_predicates_ = false;
};

// The attributes of every listing of one index version, row i = the index's internal id i.
//
// attributes.bin, little-endian, written field by field (no struct dump):
//   magic "MSATTRS1" (8 bytes) | uint32 format version (1) | uint32 reserved (0)
//   | uint64 n | n × uint64 listing_id | n × uint64 category_fp | n × float64 price
//   | n × int32 condition | n × uint8 has_location | n × float64 lat | n × float64 lon
//   | uint64 FNV-1a-64 of everything before it
// The file is also listed with its sha256 in the IndexManifest and checked at load.
class ListingAttributeTable {
 public:
  ListingAttributeTable() = default;

  void Add(uint64_t listing_id, const ListingAttributes& a) {
    ids_.push_back(listing_id);
    rows_.push_back(a);
  }
  void Reserve(size_t n) {
    ids_.reserve(n);
    rows_.reserve(n);
  }

  int64_t size() const { return static_cast<int64_t>(rows_.size()); }
  uint64_t listing_id(int64_t row) const { return ids_[row]; }
  const ListingAttributes& row(int64_t row) const { return rows_[row]; }
  const std::vector<uint64_t>& listing_ids() const { return ids_; }
  // Bytes held in memory (for reports).
  int64_t MemoryBytes() const;

  // Writes the table to `path` (plain write; the caller publishes the directory atomically).
  absl::Status Save(const std::string& path) const;
  // The bytes Save writes (for writers that do their own, fault-injectable, I/O).
  std::string Serialize() const;
  // Errors: NotFound (no file), DataLoss (truncated, bad magic/version/checksum).
  static absl::StatusOr<ListingAttributeTable> Load(const std::string& path);

 private:
  std::vector<uint64_t> ids_;
  std::vector<ListingAttributes> rows_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_LISTING_FILTER_H_
