#include "index/listing_filter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace marketsearch {
namespace {

constexpr double kEarthRadiusKm = 6371.0;
constexpr double kRad = M_PI / 180.0;
constexpr char kMagic[8] = {'M', 'S', 'A', 'T', 'T', 'R', 'S', '1'};
constexpr uint32_t kFormatVersion = 1;

uint64_t Fnv1a64(const void* data, size_t n, uint64_t h = 14695981039346656037ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

// Little-endian append / read of fixed-width values (x86-64 and aarch64 are little-endian;
// the static_assert below keeps a big-endian build from silently writing another format).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "attributes.bin is little-endian");

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}

class Reader {
 public:
  explicit Reader(const std::string& data) : data_(data) {}
  template <typename T>
  bool Get(T* v) {
    if (pos_ + sizeof(T) > data_.size()) return false;
    std::memcpy(v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  const std::string& data_;
  size_t pos_ = 0;
};

}  // namespace

uint64_t CategoryFingerprint(const std::string& category) {
  return Fnv1a64(category.data(), category.size());
}

ListingAttributes ListingAttributes::FromListing(const Listing& l) {
  ListingAttributes a;
  a.category_fp = CategoryFingerprint(l.category());
  a.price = l.price();
  a.condition = static_cast<int32_t>(l.condition());
  a.has_location = l.has_location();
  if (a.has_location) {
    a.lat = l.location().lat();
    a.lon = l.location().lon();
  }
  return a;
}

double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  const double dlat = (lat2 - lat1) * kRad;
  const double dlon = (lon2 - lon1) * kRad;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

ListingFilter::ListingFilter(const SearchFilters& f) {
  for (const std::string& c : f.categories()) categories_.push_back(CategoryFingerprint(c));
  category_names_.assign(f.categories().begin(), f.categories().end());
  std::sort(category_names_.begin(), category_names_.end());
  category_names_.erase(std::unique(category_names_.begin(), category_names_.end()), category_names_.end());
  std::sort(categories_.begin(), categories_.end());
  categories_.erase(std::unique(categories_.begin(), categories_.end()), categories_.end());
  for (int c : f.conditions()) conditions_.push_back(c);
  std::sort(conditions_.begin(), conditions_.end());
  conditions_.erase(std::unique(conditions_.begin(), conditions_.end()), conditions_.end());
  min_price_ = f.price().min();
  max_price_ = f.price().max();
  has_geo_ = f.has_geo();
  if (has_geo_) {
    geo_lat_ = f.geo().center().lat();
    geo_lon_ = f.geo().center().lon();
    radius_km_ = f.geo().radius_km();
    // The great-circle distance is at least R·|Δlat|, so a listing whose latitude alone is
    // farther than the radius cannot match. The margin keeps the pre-check strictly more
    // permissive than the exact test under rounding.
    max_dlat_rad_ = (radius_km_ * (1 + 1e-9) + 1e-9) / kEarthRadiusKm;
    // A cap of angular radius r around latitude φ spans at most asin(sin r / cos φ) of
    // longitude either way, unless it reaches a pole. Checked before the haversine, whose
    // sin/cos were ~15% of a geo-filtered request's CPU over a latitude band's rows.
    const double clat = geo_lat_ * kRad, clon = geo_lon_ * kRad;
    centre_xyz_[0] = std::cos(clat) * std::cos(clon);
    centre_xyz_[1] = std::cos(clat) * std::sin(clon);
    centre_xyz_[2] = std::sin(clat);
    const double angle = radius_km_ / kEarthRadiusKm;
    cos_radius_ = angle < M_PI ? std::cos(angle) : -2;
    const double r = max_dlat_rad_;
    const double phi = std::fabs(geo_lat_ * kRad);
    if (r < M_PI / 2 && phi + r < M_PI / 2) {
      max_dlon_rad_ = std::asin(std::min(1.0, std::sin(r) / std::cos(phi))) * (1 + 1e-9) + 1e-9;
    }
  }
  other_predicates_ = min_price_ > 0 || max_price_ > 0 || !conditions_.empty() || has_geo_;
  empty_ = categories_.empty() && !other_predicates_;
}

bool ListingFilter::LatitudeBand(double* lo, double* hi) const {
  if (!has_geo_ || !(max_dlat_rad_ >= 0)) return false;  // NaN or negative radius
  const double band = max_dlat_rad_ / kRad * (1 + 1e-9) + 1e-9;
  *lo = geo_lat_ - band;
  *hi = geo_lat_ + band;
  return true;
}

std::array<float, 3> ListingFilter::UnitVector(double lat, double lon) {
  const double la = lat * kRad, lo = lon * kRad;
  return {static_cast<float>(std::cos(la) * std::cos(lo)),
          static_cast<float>(std::cos(la) * std::sin(lo)), static_cast<float>(std::sin(la))};
}

ListingFilter::GeoSide ListingFilter::GeoPreTest(const std::array<float, 3>& p) const {
  if (!has_geo_) return GeoSide::kInside;
  // Each float component is within ~6e-8 of the true one, so the dot product is within ~2e-7.
  constexpr double kMargin = 1e-6;
  const double dot = centre_xyz_[0] * p[0] + centre_xyz_[1] * p[1] + centre_xyz_[2] * p[2];
  if (dot >= cos_radius_ + kMargin) return GeoSide::kInside;
  if (dot < cos_radius_ - kMargin) return GeoSide::kOutside;
  return GeoSide::kUnsure;
}

bool ListingFilter::MatchesGeo(const ListingAttributes& a) const {
  if (!a.has_location) return false;
  if (std::fabs((a.lat - geo_lat_) * kRad) > max_dlat_rad_) return false;
  double dlon = std::fabs(a.lon - geo_lon_);
  if (dlon > 180) dlon = 360 - dlon;  // across the antimeridian
  if (dlon * kRad > max_dlon_rad_) return false;
  return !(HaversineKm(geo_lat_, geo_lon_, a.lat, a.lon) > radius_km_);
}

int64_t ListingAttributeTable::MemoryBytes() const {
  return static_cast<int64_t>(ids_.capacity() * sizeof(uint64_t) +
                              rows_.capacity() * sizeof(ListingAttributes));
}

absl::Status ListingAttributeTable::Save(const std::string& path) const {
  const std::string out = Serialize();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return absl::InternalError(absl::StrCat("cannot create ", path));
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  f.flush();
  if (!f) return absl::InternalError(absl::StrCat("write failed: ", path));
  return absl::OkStatus();
}

std::string ListingAttributeTable::Serialize() const {
  const size_t n = rows_.size();
  std::string out;
  out.reserve(32 + n * 45);
  out.append(kMagic, sizeof(kMagic));
  Put<uint32_t>(&out, kFormatVersion);
  Put<uint32_t>(&out, 0);
  Put<uint64_t>(&out, n);
  for (size_t i = 0; i < n; ++i) Put<uint64_t>(&out, ids_[i]);
  for (size_t i = 0; i < n; ++i) Put<uint64_t>(&out, rows_[i].category_fp);
  for (size_t i = 0; i < n; ++i) Put<double>(&out, rows_[i].price);
  for (size_t i = 0; i < n; ++i) Put<int32_t>(&out, rows_[i].condition);
  for (size_t i = 0; i < n; ++i) Put<uint8_t>(&out, rows_[i].has_location ? 1 : 0);
  for (size_t i = 0; i < n; ++i) Put<double>(&out, rows_[i].lat);
  for (size_t i = 0; i < n; ++i) Put<double>(&out, rows_[i].lon);
  Put<uint64_t>(&out, Fnv1a64(out.data(), out.size()));
  return out;
}

absl::StatusOr<ListingAttributeTable> ListingAttributeTable::Load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto loss = [&](const std::string& why) {
    return absl::DataLossError(absl::StrCat(path, ": ", why));
  };
  if (data.size() < sizeof(kMagic) + 16 + 8) return loss("truncated header");
  if (std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) return loss("bad magic");
  uint64_t stored_sum;
  std::memcpy(&stored_sum, data.data() + data.size() - 8, 8);
  if (Fnv1a64(data.data(), data.size() - 8) != stored_sum) return loss("checksum mismatch");
  Reader r(data);
  char magic[8];
  for (char& c : magic) r.Get(&c);
  uint32_t version = 0, reserved = 0;
  uint64_t n = 0;
  r.Get(&version);
  r.Get(&reserved);
  r.Get(&n);
  if (version != kFormatVersion) return loss(absl::StrCat("unknown format version ", version));
  constexpr uint64_t kBytesPerRow = 8 + 8 + 8 + 4 + 1 + 8 + 8;
  if (n > (r.remaining() - 8) / kBytesPerRow || r.remaining() - 8 != n * kBytesPerRow) {
    return loss(absl::StrCat("size does not match ", n, " rows"));
  }
  ListingAttributeTable t;
  t.ids_.resize(n);
  t.rows_.resize(n);
  for (uint64_t i = 0; i < n; ++i) r.Get(&t.ids_[i]);
  for (uint64_t i = 0; i < n; ++i) r.Get(&t.rows_[i].category_fp);
  for (uint64_t i = 0; i < n; ++i) r.Get(&t.rows_[i].price);
  for (uint64_t i = 0; i < n; ++i) r.Get(&t.rows_[i].condition);
  for (uint64_t i = 0; i < n; ++i) {
    uint8_t b = 0;
    r.Get(&b);
    if (b > 1) return loss(absl::StrCat("bad has_location flag at row ", i));
    t.rows_[i].has_location = b == 1;
  }
  for (uint64_t i = 0; i < n; ++i) r.Get(&t.rows_[i].lat);
  for (uint64_t i = 0; i < n; ++i) r.Get(&t.rows_[i].lon);
  return t;
}

}  // namespace marketsearch
