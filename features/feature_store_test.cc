#include "features/feature_store.h"

#include <rocksdb/db.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

std::string StorePath(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

Listing MakeListing(uint64_t id, const std::string& title) {
  Listing l;
  l.set_listing_id(id);
  l.set_title(title);
  l.set_price(10.0 * id);
  return l;
}

TEST(FeatureStore, PutMultiGetDeleteScan) {
  FeatureStore::Options o;
  o.path = StorePath("fs1");
  auto store = FeatureStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Listing> ls = {MakeListing(3, "c"), MakeListing(1, "a"), MakeListing(256, "big")};
  ASSERT_TRUE((*store)->PutListings(ls).ok());

  std::vector<uint64_t> ids = {1, 2, 256};
  auto got = (*store)->GetListings(ids);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE((*got)[0].has_value());
  EXPECT_EQ((*got)[0]->title(), "a");
  EXPECT_FALSE((*got)[1].has_value());
  EXPECT_EQ((*got)[2]->title(), "big");

  std::vector<uint64_t> del = {3};
  ASSERT_TRUE((*store)->DeleteListings(del).ok());
  std::vector<uint64_t> scanned;
  ASSERT_TRUE((*store)->ScanListings([&](const Listing& l) {
    scanned.push_back(l.listing_id());
    return true;
  }).ok());
  EXPECT_EQ(scanned, (std::vector<uint64_t>{1, 256}));  // id order, 3 deleted
}

TEST(FeatureStore, ReopenSeesWritesAndReadOnlyWorks) {
  const std::string path = StorePath("fs2");
  {
    FeatureStore::Options o;
    o.path = path;
    auto store = FeatureStore::Open(o);
    ASSERT_TRUE(store.ok());
    std::vector<Listing> ls = {MakeListing(7, "seven")};
    ASSERT_TRUE((*store)->PutListings(ls).ok());
    User u;
    u.set_user_id(9);
    u.set_city("Berlin");
    std::vector<User> us = {u};
    ASSERT_TRUE((*store)->PutUsers(us).ok());
  }
  FeatureStore::Options ro;
  ro.path = path;
  ro.read_only = true;
  auto store = FeatureStore::Open(ro);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<uint64_t> ids = {7};
  EXPECT_EQ((*(*store)->GetListings(ids))[0]->title(), "seven");
  auto u = (*store)->GetUser(9);
  ASSERT_TRUE(u.ok() && u->has_value());
  EXPECT_EQ((*u)->city(), "Berlin");
  EXPECT_FALSE((*(*store)->GetUser(10)).has_value());
}

TEST(FeatureStore, RejectsZeroIdAndMissingReadOnlyStore) {
  FeatureStore::Options o;
  o.path = StorePath("fs3");
  auto store = FeatureStore::Open(o);
  ASSERT_TRUE(store.ok());
  std::vector<Listing> ls = {MakeListing(0, "zero")};
  EXPECT_EQ((*store)->PutListings(ls).code(), absl::StatusCode::kInvalidArgument);

  FeatureStore::Options ro;
  ro.path = StorePath("does_not_exist");
  ro.read_only = true;
  EXPECT_FALSE(FeatureStore::Open(ro).ok());
}

TEST(FeatureStore, IdKeyIsBigEndian) {
  EXPECT_LT(IdKey(255), IdKey(256));
  EXPECT_EQ(IdKey(1), std::string("\0\0\0\0\0\0\0\1", 8));
}

}  // namespace
}  // namespace marketsearch

namespace marketsearch {
namespace {

TEST(FeatureStore, SecondaryFollowsPrimaryWrites) {
  const std::string path = StorePath("fs_primary");
  FeatureStore::Options po;
  po.path = path;
  auto primary = FeatureStore::Open(po);
  ASSERT_TRUE(primary.ok());
  std::vector<Listing> first = {MakeListing(1, "one")};
  ASSERT_TRUE((*primary)->PutListings(first).ok());

  FeatureStore::Options so;
  so.path = path;
  so.secondary_path = StorePath("fs_secondary");
  auto secondary = FeatureStore::Open(so);
  ASSERT_TRUE(secondary.ok()) << secondary.status();
  std::vector<uint64_t> ids = {1, 2};
  EXPECT_TRUE((*(*secondary)->GetListings(ids))[0].has_value());

  std::vector<Listing> second = {MakeListing(2, "two")};
  ASSERT_TRUE((*primary)->PutListings(second).ok());
  std::vector<uint64_t> gone = {1};
  ASSERT_TRUE((*primary)->DeleteListings(gone).ok());
  ASSERT_TRUE((*secondary)->CatchUp().ok());
  auto got = (*secondary)->GetListings(ids);
  EXPECT_FALSE((*got)[0].has_value());
  EXPECT_TRUE((*got)[1].has_value());
}

}  // namespace
}  // namespace marketsearch

namespace marketsearch {
namespace {

TEST(FeatureStore, CatalogStatsAndCounters) {
  FeatureStore::Options o;
  o.path = StorePath("fs_counters");
  auto store = FeatureStore::Open(o);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->GetCatalogStats().status().code(), absl::StatusCode::kNotFound);
  CatalogStats stats;
  (*stats.mutable_category_median_price())["sofas"] = 250;
  stats.set_reference_unix(1790000000);
  ASSERT_TRUE((*store)->PutCatalogStats(stats).ok());
  auto got = (*store)->GetCatalogStats();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->category_median_price().at("sofas"), 250);

  ListingCounters c;
  c.set_clicks(3);
  c.set_impressions(40);
  std::vector<uint64_t> ids = {5};
  std::vector<ListingCounters> cs = {c};
  ASSERT_TRUE((*store)->PutListingCounters(ids, cs).ok());
  std::vector<uint64_t> q = {5, 6};
  auto counters = (*store)->GetListingCounters(q);
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ((*counters)[0].clicks(), 3);
  EXPECT_EQ((*counters)[1].impressions(), 0);
  // Counters never show up as listings.
  int n = 0;
  ASSERT_TRUE((*store)->ScanListings([&](const Listing&) { return ++n, true; }).ok());
  EXPECT_EQ(n, 0);
  // The scan finds every listing's counters (a large id included), never the catalog stats.
  c.set_clicks(9);
  ASSERT_TRUE((*store)->PutListingCounters({0x0102030405060708ULL}, {c}).ok());
  std::vector<std::pair<uint64_t, int64_t>> scanned;
  ASSERT_TRUE((*store)
                  ->ScanListingCounters([&](uint64_t id, const ListingCounters& lc) {
                    scanned.emplace_back(id, lc.clicks());
                    return true;
                  })
                  .ok());
  EXPECT_EQ(scanned, (std::vector<std::pair<uint64_t, int64_t>>{{5, 3}, {0x0102030405060708ULL, 9}}));
}

}  // namespace
}  // namespace marketsearch

namespace marketsearch {
namespace {

std::vector<FeatureStore::LoggedWrite> WriteLog(const FeatureStore& store, int64_t since) {
  std::vector<FeatureStore::LoggedWrite> out;
  auto s = store.ScanWriteLog(since, [&](const FeatureStore::LoggedWrite& w) {
    out.push_back(w);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::string Describe(const std::vector<FeatureStore::LoggedWrite>& log) {
  std::string s;
  for (const auto& w : log) {
    s += std::to_string(w.write_unix_ms) + ":" + std::to_string(w.listing_id) +
         (w.deleted ? "d " : "u ");
  }
  return s;
}

TEST(FeatureStore, WriteLogIsWrittenWithTheListingsAndSurvivesReopen) {
  const std::string path = StorePath("fs_writes");
  {
    FeatureStore::Options o;
    o.path = path;
    auto store = FeatureStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    // Bulk load (ingest): no time, nothing logged.
    std::vector<Listing> bulk = {MakeListing(1, "one"), MakeListing(2, "two")};
    ASSERT_TRUE((*store)->PutListings(bulk).ok());
    EXPECT_EQ(Describe(WriteLog(**store, 0)), "");
    // Server writes: logged in time order, several entries per listing.
    std::vector<Listing> fresh = {MakeListing(9, "nine"), MakeListing(3, "three")};
    ASSERT_TRUE((*store)->PutListings(fresh, 1000).ok());
    std::vector<uint64_t> gone = {1, 9};
    ASSERT_TRUE((*store)->DeleteListings(gone, 2000).ok());
    // A refused batch writes neither the listings nor their log entries.
    std::vector<Listing> bad = {MakeListing(4, "four"), MakeListing(0, "zero")};
    EXPECT_EQ((*store)->PutListings(bad, 3000).code(), absl::StatusCode::kInvalidArgument);
    std::vector<uint64_t> four = {4};
    EXPECT_FALSE((*(*store)->GetListings(four))[0].has_value());
    EXPECT_EQ(Describe(WriteLog(**store, 0)), "1000:3u 1000:9u 2000:1d 2000:9d ");
    EXPECT_EQ(Describe(WriteLog(**store, 1001)), "2000:1d 2000:9d ");
  }
  {
    // Reopened (as after a server restart): the log is durable.
    FeatureStore::Options o;
    o.path = path;
    auto store = FeatureStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(Describe(WriteLog(**store, 1000)), "1000:3u 1000:9u 2000:1d 2000:9d ");
    ASSERT_TRUE((*store)->PruneWriteLog(2000).ok());
    EXPECT_EQ(Describe(WriteLog(**store, 0)), "2000:1d 2000:9d ");
    // The listings themselves are untouched by the prune.
    std::vector<uint64_t> three = {3};
    EXPECT_TRUE((*(*store)->GetListings(three))[0].has_value());
  }
  FeatureStore::Options ro;
  ro.path = path;
  ro.read_only = true;
  auto store = FeatureStore::Open(ro);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Describe(WriteLog(**store, 0)), "2000:1d 2000:9d ");
}

TEST(FeatureStore, StoreWithoutWriteLogOpensAndGetsOneWhenWritable) {
  const std::string path = StorePath("fs_old");
  {
    // A store as written before the write log existed.
    rocksdb::Options opts;
    opts.create_if_missing = true;
    opts.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"listings", {}}, {"users", {}}, {"counters", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(opts, path, cfs, &handles, &db).ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  {
    FeatureStore::Options ro;
    ro.path = path;
    ro.read_only = true;
    auto store = FeatureStore::Open(ro);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(Describe(WriteLog(**store, 0)), "");
  }
  FeatureStore::Options o;
  o.path = path;
  auto store = FeatureStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Listing> ls = {MakeListing(5, "five")};
  ASSERT_TRUE((*store)->PutListings(ls, 42).ok());
  EXPECT_EQ(Describe(WriteLog(**store, 0)), "42:5u ");
}

}  // namespace
}  // namespace marketsearch
