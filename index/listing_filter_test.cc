#include "index/listing_filter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

// The specification of a filter, written out plainly on the Listing proto (serving applies
// ListingFilter to listings read from the store, FAISS to the attribute table).
double RefHaversineKm(const GeoPoint& a, const GeoPoint& b) {
  constexpr double kR = 6371.0;
  constexpr double kRad = M_PI / 180.0;
  const double dlat = (b.lat() - a.lat()) * kRad;
  const double dlon = (b.lon() - a.lon()) * kRad;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(a.lat() * kRad) * std::cos(b.lat() * kRad) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  return 2 * kR * std::asin(std::min(1.0, std::sqrt(h)));
}

bool RefMatchesFilters(const Listing& l, const SearchFilters& f) {
  if (f.categories_size() > 0) {
    bool any = false;
    for (const auto& c : f.categories()) any |= c == l.category();
    if (!any) return false;
  }
  if (f.price().min() > 0 && l.price() < f.price().min()) return false;
  if (f.price().max() > 0 && l.price() > f.price().max()) return false;
  if (f.conditions_size() > 0) {
    bool any = false;
    for (int c : f.conditions()) any |= c == l.condition();
    if (!any) return false;
  }
  if (f.has_geo()) {
    if (!l.has_location()) return false;
    if (RefHaversineKm(f.geo().center(), l.location()) > f.geo().radius_km()) return false;
  }
  return true;
}

const char* kCategories[] = {"phones", "sofas", "bikes", "Phones", "phones ", "cameras"};

Listing RandomListing(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> cat(0, 5), cond(0, 4), coin(0, 9);
  std::uniform_real_distribution<double> price(0.5, 500), lat(40, 60), lon(-5, 25);
  Listing l;
  l.set_listing_id(rng());
  l.set_category(kCategories[cat(rng)]);
  // Prices on a coarse grid so that boundaries (== min, == max) are hit often.
  l.set_price(std::round(price(rng) / 5) * 5 + (coin(rng) == 0 ? 0.01 : 0));
  l.set_condition(static_cast<Condition>(cond(rng)));
  if (coin(rng) != 0) {
    l.mutable_location()->set_lat(lat(rng));
    l.mutable_location()->set_lon(lon(rng));
  }
  return l;
}

SearchFilters RandomFilters(std::mt19937_64& rng, const Listing& near) {
  std::uniform_int_distribution<int> cat(0, 5), cond(0, 4), coin(0, 3), n(1, 3);
  std::uniform_real_distribution<double> price(0.5, 500), radius(1, 400);
  SearchFilters f;
  if (coin(rng) == 0) {
    for (int i = n(rng); i > 0; --i) f.add_categories(kCategories[cat(rng)]);
  }
  if (coin(rng) == 0) f.mutable_price()->set_min(std::round(price(rng) / 5) * 5);
  if (coin(rng) == 0) f.mutable_price()->set_max(std::round(price(rng) / 5) * 5);
  if (coin(rng) == 0) {
    for (int i = n(rng); i > 0; --i) f.add_conditions(static_cast<Condition>(cond(rng)));
  }
  if (coin(rng) == 0) {
    GeoFilter* g = f.mutable_geo();
    if (near.has_location() && coin(rng) == 0) {
      // Exactly on the boundary: radius = the distance to this listing.
      g->mutable_center()->set_lat(near.location().lat() + 0.5);
      g->mutable_center()->set_lon(near.location().lon() - 0.3);
      g->set_radius_km(RefHaversineKm(g->center(), near.location()));
    } else {
      g->mutable_center()->set_lat(50);
      g->mutable_center()->set_lon(10);
      g->set_radius_km(radius(rng));
    }
  }
  return f;
}

TEST(ListingFilter, SameDecisionsAsServingMatchesFilters) {
  std::mt19937_64 rng(11);
  int matches = 0, total = 0;
  for (int i = 0; i < 200000; ++i) {
    const Listing l = RandomListing(rng);
    const Listing other = RandomListing(rng);
    const SearchFilters f = RandomFilters(rng, i % 2 ? l : other);
    const ListingFilter filter(f);
    const bool want = RefMatchesFilters(l, f);
    ASSERT_EQ(filter.Matches(ListingAttributes::FromListing(l)), want)
        << "listing " << l.ShortDebugString() << "\nfilters " << f.ShortDebugString();
    matches += want;
    ++total;
  }
  // The generator exercises both outcomes.
  EXPECT_GT(matches, total / 20);
  EXPECT_LT(matches, total * 19 / 20);
}

// The latitude and longitude pre-checks only skip the haversine for listings it would reject,
// and the float unit-vector pre-test of the scans decides only listings it is sure of:
// random centres (high latitudes, the antimeridian included) and radii from 1 to 5,000 km,
// listings scattered around and right at the circle's edge.
TEST(ListingFilter, GeoPreChecksNeverRejectAMatch) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> lat(-89.9, 89.9), lon(-180, 180), u(0, 1);
  int64_t inside = 0, unsure = 0, decidable = 0;
  for (int c = 0; c < 400; ++c) {
    GeoPoint centre;
    centre.set_lat(c % 4 == 0 ? (u(rng) < 0.5 ? 85 : -85) + 4 * u(rng) : lat(rng));
    centre.set_lon(c % 5 == 0 ? 179.5 + u(rng) * 0.5 : lon(rng));
    const double radius = std::exp(std::log(1.0) + u(rng) * std::log(5000.0));
    SearchFilters f;
    *f.mutable_geo()->mutable_center() = centre;
    f.mutable_geo()->set_radius_km(radius);
    const ListingFilter filter(f);
    for (int i = 0; i < 500; ++i) {
      // Within ~1.5 radii in both directions (in degrees), wrapping the longitude.
      const double spread = radius / 111.0 * 1.5;
      GeoPoint p;
      p.set_lat(std::clamp(centre.lat() + (2 * u(rng) - 1) * spread, -90.0, 90.0));
      double plon = centre.lon() + (2 * u(rng) - 1) * spread * 3;
      while (plon > 180) plon -= 360;
      while (plon < -180) plon += 360;
      p.set_lon(plon);
      Listing l;
      *l.mutable_location() = p;
      const bool want = !(RefHaversineKm(centre, p) > radius);
      inside += want;
      // The float pre-test decides only where it is sure, and then agrees.
      const ListingFilter::GeoSide side = filter.GeoPreTest(ListingFilter::UnitVector(p.lat(), p.lon()));
      if (side == ListingFilter::GeoSide::kInside) ASSERT_TRUE(want) << p.ShortDebugString();
      if (side == ListingFilter::GeoSide::kOutside) ASSERT_FALSE(want) << p.ShortDebugString();
      if (radius >= 20) {
        ++decidable;
        unsure += side == ListingFilter::GeoSide::kUnsure;
      }
      ASSERT_EQ(filter.Matches(ListingAttributes::FromListing(l)), want)
          << "centre " << centre.lat() << "," << centre.lon() << " radius " << radius << " km, listing "
          << p.lat() << "," << p.lon() << " at " << RefHaversineKm(centre, p) << " km";
    }
  }
  EXPECT_GT(inside, 10000);  // both sides of the edge were exercised
  // From 20 km up (the margin is ~1.6 km at 50 km) the pre-test decides most listings itself.
  EXPECT_LT(unsure, decidable / 10) << unsure << " of " << decidable;
}

TEST(ListingFilter, BoundariesAndUnsetFields) {
  Listing l;
  l.set_category("phones");
  l.set_price(100);
  l.set_condition(CONDITION_USED);
  const ListingAttributes a = ListingAttributes::FromListing(l);

  EXPECT_TRUE(ListingFilter().Matches(a));
  EXPECT_TRUE(ListingFilter().empty());
  EXPECT_TRUE(ListingFilter(SearchFilters()).empty());

  SearchFilters f;
  f.mutable_price()->set_min(100);
  f.mutable_price()->set_max(100);  // inclusive on both ends
  EXPECT_TRUE(ListingFilter(f).Matches(a));
  f.mutable_price()->set_min(100.01);
  EXPECT_FALSE(ListingFilter(f).Matches(a));
  f.mutable_price()->set_min(0);  // 0 = no lower bound
  f.mutable_price()->set_max(0);  // 0 = no upper bound
  EXPECT_TRUE(ListingFilter(f).Matches(a));

  SearchFilters c;
  c.add_categories("sofas");
  c.add_categories("phones");
  ListingFilter cf(c);
  EXPECT_TRUE(cf.Matches(a));
  EXPECT_TRUE(cf.categories_only());
  EXPECT_EQ(cf.category_fps().size(), 2u);
  c.set_categories(1, "Phones");  // exact string match, no case folding
  EXPECT_FALSE(ListingFilter(c).Matches(a));

  SearchFilters g;
  g.mutable_geo()->mutable_center()->set_lat(52.52);
  g.mutable_geo()->mutable_center()->set_lon(13.40);
  g.mutable_geo()->set_radius_km(25);
  EXPECT_FALSE(ListingFilter(g).Matches(a)) << "a listing without location fails a geo filter";
  l.mutable_location()->set_lat(52.40);  // ~13 km south of the centre
  l.mutable_location()->set_lon(13.40);
  EXPECT_TRUE(ListingFilter(g).Matches(ListingAttributes::FromListing(l)));
  l.mutable_location()->set_lat(52.00);  // ~58 km
  EXPECT_FALSE(ListingFilter(g).Matches(ListingAttributes::FromListing(l)));
  EXPECT_FALSE(ListingFilter(g).categories_only());
}

std::string TmpPath(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

ListingAttributeTable RandomTable(int n) {
  std::mt19937_64 rng(3);
  ListingAttributeTable t;
  for (int i = 0; i < n; ++i) {
    const Listing l = RandomListing(rng);
    t.Add(l.listing_id(), ListingAttributes::FromListing(l));
  }
  return t;
}

TEST(ListingAttributeTable, SaveLoadRoundTrip) {
  const ListingAttributeTable t = RandomTable(1000);
  const std::string path = TmpPath("attrs_roundtrip.bin");
  ASSERT_TRUE(t.Save(path).ok());
  auto back = ListingAttributeTable::Load(path);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), t.size());
  for (int64_t r = 0; r < t.size(); ++r) {
    EXPECT_EQ(back->listing_id(r), t.listing_id(r));
    const ListingAttributes &x = t.row(r), &y = back->row(r);
    EXPECT_EQ(x.category_fp, y.category_fp);
    EXPECT_EQ(x.price, y.price);
    EXPECT_EQ(x.condition, y.condition);
    EXPECT_EQ(x.has_location, y.has_location);
    EXPECT_EQ(x.lat, y.lat);
    EXPECT_EQ(x.lon, y.lon);
  }
  ListingAttributeTable empty;
  ASSERT_TRUE(empty.Save(TmpPath("attrs_empty.bin")).ok());
  auto e = ListingAttributeTable::Load(TmpPath("attrs_empty.bin"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->size(), 0);
}

TEST(ListingAttributeTable, CorruptFilesAreDataLoss) {
  const ListingAttributeTable t = RandomTable(100);
  const std::string path = TmpPath("attrs_corrupt.bin");
  ASSERT_TRUE(t.Save(path).ok());
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& d) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(d.data(), static_cast<std::streamsize>(d.size()));
  };
  write(data.substr(0, data.size() / 2));
  EXPECT_EQ(ListingAttributeTable::Load(path).status().code(), absl::StatusCode::kDataLoss);
  std::string flipped = data;
  flipped[data.size() / 2] ^= 0x10;
  write(flipped);
  EXPECT_EQ(ListingAttributeTable::Load(path).status().code(), absl::StatusCode::kDataLoss);
  write("not an attribute table at all, but long enough to have a header");
  EXPECT_EQ(ListingAttributeTable::Load(path).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ListingAttributeTable::Load(TmpPath("no_such_file.bin")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(CategoryFingerprint, IsStableAcrossReleases) {
  // Part of the attributes.bin format (FNV-1a 64): a change would silently break filters on
  // every published index.
  EXPECT_EQ(CategoryFingerprint(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(CategoryFingerprint("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_NE(CategoryFingerprint("phones"), CategoryFingerprint("Phones"));
}

}  // namespace
}  // namespace marketsearch
