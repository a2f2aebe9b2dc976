#include "index/memory_listing_reader.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "index/testing/flat_snapshot.h"

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

class MemoryListingReaderInputs : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    FeatureStore::Options so;
    so.path = std::string(tmp ? tmp : "/tmp") + "/memory_reader_inputs_store";
    auto store = FeatureStore::Open(so);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PutListings({MakeListing(1, "grey sofa"), MakeListing(2, "red sofa")}).ok());
    ListingCounters c;
    c.set_impressions(50);
    c.set_clicks(7);
    c.set_purchases(1);
    // Counters of listing 9, which is not in the store, are not kept.
    ASSERT_TRUE(store_->PutListingCounters({2, 9}, {c, c}).ok());
    User u;
    u.set_user_id(42);
    ASSERT_TRUE(store_->PutUsers({u}).ok());
    auto snap = FlatSnapshotForTest(4, {1, 2}, {1, 0, 0, 0, 0, 1, 0, 0});
    ASSERT_TRUE(snap.ok()) << snap.status();
    snapshot_ = *std::move(snap);
  }

  std::unique_ptr<FeatureStore> store_;
  std::shared_ptr<const IndexSnapshot> snapshot_;
};

TEST_F(MemoryListingReaderInputs, SameInputsAsTheStoreReaderPlusTokens) {
  auto reader = MemoryListingReader::Load(store_.get(), nullptr);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const StoreListingReader from_store(store_.get(), nullptr);
  auto want = from_store.ReadRankingInputs({2, 1, 5}, 42, *snapshot_);
  auto got = (*reader)->ReadRankingInputs({2, 1, 5}, 42, *snapshot_);
  ASSERT_TRUE(want.ok() && got.ok()) << want.status() << got.status();
  ASSERT_EQ(got->counters.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got->counters[i].SerializeAsString(), want->counters[i].SerializeAsString()) << i;
  }
  EXPECT_EQ(got->counters[0].clicks(), 7);
  EXPECT_EQ(got->embeddings, want->embeddings);
  EXPECT_EQ(got->has_embedding, want->has_embedding);
  EXPECT_EQ(got->not_in_index, 1);
  ASSERT_TRUE(got->user.has_value());
  EXPECT_EQ(got->user->user_id(), 42u);

  // Loaded records have no tokens until PrepareTokens; unknown ids never have any.
  ASSERT_EQ(got->tokens.size(), 3u);
  EXPECT_EQ(got->tokens[0], nullptr);
  EXPECT_EQ((*reader)->tokenized(), 0);
  std::atomic<bool> stop{false};
  EXPECT_EQ((*reader)->PrepareTokens(stop), 2);
  EXPECT_EQ((*reader)->PrepareTokens(stop), 0);  // nothing left
  EXPECT_EQ((*reader)->tokenized(), 2);
  got = (*reader)->ReadRankingInputs({2, 1, 5}, 0, *snapshot_);
  ASSERT_TRUE(got.ok());
  ASSERT_NE(got->tokens[0], nullptr);
  EXPECT_EQ(got->tokens[0]->text_words, PrepareListingTokens(MakeListing(2, "red sofa")).text_words);
  EXPECT_NE(got->tokens[1], nullptr);
  EXPECT_EQ(got->tokens[2], nullptr);
  EXPECT_FALSE(got->user.has_value());

  // The write path brings its own tokens and keeps the listing's counters.
  (*reader)->Put(MakeListing(2, "green velvet sofa"));
  (*reader)->Put(MakeListing(3, "armchair"));
  EXPECT_EQ((*reader)->tokenized(), 3);
  got = (*reader)->ReadRankingInputs({2, 3}, 0, *snapshot_);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tokens[0]->text_words,
            PrepareListingTokens(MakeListing(2, "green velvet sofa")).text_words);
  EXPECT_EQ(got->counters[0].clicks(), 7);
  EXPECT_EQ(got->tokens[1]->text_words, PrepareListingTokens(MakeListing(3, "armchair")).text_words);
  (*reader)->Erase(3);
  EXPECT_EQ((*reader)->tokenized(), 2);
}

TEST_F(MemoryListingReaderInputs, PrepareTokensStopsWhenAsked) {
  auto reader = MemoryListingReader::Load(store_.get(), nullptr);
  ASSERT_TRUE(reader.ok());
  std::atomic<bool> stop{true};
  EXPECT_EQ((*reader)->PrepareTokens(stop), 0);
  EXPECT_EQ((*reader)->tokenized(), 0);
}

}  // namespace
}  // namespace marketsearch
