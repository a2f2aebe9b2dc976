#include "index/listing_reader.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "index/testing/flat_snapshot.h"

namespace marketsearch {
namespace {

constexpr int kDim = 4;

Listing MakeListing(uint64_t id) {
  Listing l;
  l.set_listing_id(id);
  l.set_title("sofa " + std::to_string(id));
  l.set_category("sofas");
  l.set_price(100);
  return l;
}

class StoreListingReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    FeatureStore::Options so;
    so.path = std::string(tmp ? tmp : "/tmp") + "/listing_reader_store";
    auto store = FeatureStore::Open(so);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PutListings({MakeListing(1), MakeListing(2), MakeListing(3)}).ok());
    ListingCounters c;
    c.set_clicks(7);
    ASSERT_TRUE(store_->PutListingCounters({2}, {c}).ok());
    User u;
    u.set_user_id(42);
    ASSERT_TRUE(store_->PutUsers({u}).ok());

    // The built index holds listings 1 and 2 (2 with an old vector); 3 came later.
    auto snap = FlatSnapshotForTest(kDim, {1, 2}, {1, 0, 0, 0, 0, 1, 0, 0});
    ASSERT_TRUE(snap.ok()) << snap.status();
    snapshot_ = *std::move(snap);
  }

  std::unique_ptr<FeatureStore> store_;
  std::shared_ptr<const IndexSnapshot> snapshot_;
};

TEST_F(StoreListingReaderTest, ReadsRecordsInOrderWithGapsForMissingOnes) {
  StoreListingReader reader(store_.get(), nullptr);
  auto got = reader.ReadListings({3, 99, 1});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0]->listing_id(), 3u);
  EXPECT_EQ((*got)[1], nullptr);
  EXPECT_EQ((*got)[2]->listing_id(), 1u);
}

TEST_F(StoreListingReaderTest, RankingInputsFromTheIndexWithoutADelta) {
  StoreListingReader reader(store_.get(), nullptr);
  auto in = reader.ReadRankingInputs({1, 2, 3}, 42, *snapshot_);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->dim, kDim);
  ASSERT_EQ(in->counters.size(), 3u);
  EXPECT_EQ(in->counters[1].clicks(), 7);
  EXPECT_EQ(in->counters[0].clicks(), 0);
  ASSERT_TRUE(in->user.has_value());
  EXPECT_EQ(in->user->user_id(), 42u);
  EXPECT_EQ(in->has_embedding, (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ(in->not_in_index, 1);
  EXPECT_EQ(in->embeddings[0 * kDim + 0], 1.0f);
  EXPECT_EQ(in->embeddings[1 * kDim + 1], 1.0f);
  for (int d = 0; d < kDim; ++d) EXPECT_EQ(in->embeddings[2 * kDim + d], 0.0f);

  auto no_user = reader.ReadRankingInputs({1}, 0, *snapshot_);
  ASSERT_TRUE(no_user.ok());
  EXPECT_FALSE(no_user->user.has_value());
  auto unknown_user = reader.ReadRankingInputs({1}, 7, *snapshot_);
  ASSERT_TRUE(unknown_user.ok());
  EXPECT_FALSE(unknown_user->user.has_value());
}

// A listing written after the build takes its vector from the live delta: the fresh one for an
// updated listing, one at all for a new listing.
TEST_F(StoreListingReaderTest, FresherVectorsComeFromTheLiveDelta) {
  LiveAnnIndex ann;
  ASSERT_TRUE(ann.Publish(*snapshot_).ok());
  ListingAttributes attrs;
  ASSERT_TRUE(ann.delta()->Upsert(2, std::vector<float>{0, 0, 1, 0}, attrs, 1000).ok());
  ASSERT_TRUE(ann.delta()->Upsert(3, std::vector<float>{0, 0, 0, 1}, attrs, 1000).ok());
  StoreListingReader reader(store_.get(), &ann);
  auto in = reader.ReadRankingInputs({1, 2, 3}, 0, *snapshot_);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->has_embedding, (std::vector<uint8_t>{1, 1, 1}));
  EXPECT_EQ(in->not_in_index, 0);
  EXPECT_EQ(in->embeddings[0 * kDim + 0], 1.0f);
  EXPECT_EQ(in->embeddings[1 * kDim + 2], 1.0f);  // not the index's stale {0,1,0,0}
  EXPECT_EQ(in->embeddings[1 * kDim + 1], 0.0f);
  EXPECT_EQ(in->embeddings[2 * kDim + 3], 1.0f);
}

}  // namespace
}  // namespace marketsearch
