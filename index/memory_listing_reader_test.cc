#include "index/memory_listing_reader.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

Listing MakeListing(uint64_t id, const std::string& title) {
  Listing l;
  l.set_listing_id(id);
  l.set_title(title);
  l.set_description(std::string(1000, 'd'));
  l.set_category("sofas");
  l.set_price(100);
  return l;
}

TEST(MemoryListingReader, ServesWhatTheStoreHeldAndWhatTheWritePathPuts) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  FeatureStore::Options so;
  so.path = std::string(tmp ? tmp : "/tmp") + "/memory_reader_store";
  auto store = FeatureStore::Open(so);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->PutListings({MakeListing(1, "grey sofa"), MakeListing(2, "red sofa")}).ok());

  auto reader = MemoryListingReader::Load(store->get(), nullptr);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->size(), 2);
  EXPECT_GT((*reader)->loaded_bytes(), 0);

  // Same records as the store's; gaps for unknown ids.
  const StoreListingReader from_store(store->get(), nullptr);
  auto want = from_store.ReadListings({2, 9, 1});
  auto got = (*reader)->ReadListings({2, 9, 1});
  ASSERT_TRUE(want.ok() && got.ok());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[1], nullptr);
  for (size_t i : {0u, 2u}) {
    EXPECT_EQ((*got)[i]->SerializeAsString(), (*want)[i]->SerializeAsString());
  }

  // The write path: an update and a new listing are read back at once, a delete is gone.
  // A record a request already holds is not changed under it (records are shared, immutable).
  const ListingRecord held = (*got)[2];
  const std::string held_title = held->title();
  (*reader)->Put(MakeListing(1, "grey corner sofa"));
  (*reader)->Put(MakeListing(3, "blue sofa"));
  (*reader)->Erase(2);
  got = (*reader)->ReadListings({1, 2, 3});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0]->title(), "grey corner sofa");
  EXPECT_EQ(held->listing_id(), 1u);
  EXPECT_EQ(held->title(), held_title);
  EXPECT_EQ((*got)[1], nullptr);
  EXPECT_EQ((*got)[2]->title(), "blue sofa");
  EXPECT_EQ((*reader)->size(), 2);
}

}  // namespace
}  // namespace marketsearch
