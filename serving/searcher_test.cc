#include "serving/searcher.h"

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

Listing At(double lat, double lon) {
  Listing l;
  l.set_listing_id(1);
  l.set_category("sofas");
  l.set_price(100);
  l.set_condition(CONDITION_USED);
  l.mutable_location()->set_lat(lat);
  l.mutable_location()->set_lon(lon);
  return l;
}

TEST(Haversine, KnownDistance) {
  GeoPoint berlin, paris;
  berlin.set_lat(52.5200);
  berlin.set_lon(13.4050);
  paris.set_lat(48.8566);
  paris.set_lon(2.3522);
  EXPECT_NEAR(HaversineKm(berlin, paris), 878.0, 5.0);
}

TEST(MatchesFilters, EachFilter) {
  Listing l = At(52.52, 13.40);
  SearchFilters f;
  EXPECT_TRUE(MatchesFilters(l, f));
  f.add_categories("bikes");
  EXPECT_FALSE(MatchesFilters(l, f));
  f.add_categories("sofas");
  EXPECT_TRUE(MatchesFilters(l, f));
  f.mutable_price()->set_max(99);
  EXPECT_FALSE(MatchesFilters(l, f));
  f.mutable_price()->set_max(100);
  EXPECT_TRUE(MatchesFilters(l, f));
  f.add_conditions(CONDITION_NEW);
  EXPECT_FALSE(MatchesFilters(l, f));
  f.add_conditions(CONDITION_USED);
  EXPECT_TRUE(MatchesFilters(l, f));
  f.mutable_geo()->mutable_center()->set_lat(48.8566);
  f.mutable_geo()->mutable_center()->set_lon(2.3522);
  f.mutable_geo()->set_radius_km(100);
  EXPECT_FALSE(MatchesFilters(l, f));
  f.mutable_geo()->set_radius_km(1000);
  EXPECT_TRUE(MatchesFilters(l, f));
}

TEST(Searcher, UnavailableBeforeLoadAndInvalidFirst) {
  LiveAnnIndex ann;
  LiveLexicalIndex lexical;
  Searcher searcher(Searcher::Options(), nullptr, &ann, &lexical);
  SearchRequest r;
  r.set_query("sofa");
  r.set_page_size(10);
  SearchResponse resp;
  EXPECT_EQ(searcher.Search(r, &resp).code(), absl::StatusCode::kUnavailable);
  r.set_page_size(0);
  EXPECT_EQ(searcher.Search(r, &resp).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marketsearch
