// The write path over a real RocksDB store and fake towers (serving/fake_serving_state.h):
// what an acknowledged write changes (store, write log, the ANN leg's delta, what Search
// returns), that a refused write changes nothing, and the restart replay.
#include "serving/listing_writer.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "proto/listing_limits.h"
#include "serving/fake_serving_state.h"

namespace marketsearch {
namespace {

Listing Titled(uint64_t id, const std::string& title) {
  Listing l;
  l.set_listing_id(id);
  l.set_title(title);
  l.set_category("sofas");
  l.set_price(100);
  l.set_condition(CONDITION_USED);
  return l;
}

class ListingWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tmp = std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";
    FeatureStore::Options so;
    so.path = tmp + "/writer_store_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto store = FeatureStore::Open(so);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    lexical_ = std::make_unique<LiveLexicalIndex>(tmp);
    reader_ = std::make_unique<StoreListingReader>(store_.get(), &ann_);
    Searcher::Options o;
    o.mode = RetrievalMode::kAnnOnly;
    searcher_ = std::make_unique<Searcher>(o, reader_.get(), &ann_, lexical_.get());
    writer_ = std::make_unique<ListingWriter>(store_.get(), searcher_.get(), &ann_, lexical_.get());
  }

  void Serve(const std::vector<Listing>& indexed) {
    ASSERT_TRUE(store_->PutListings(indexed).ok());
    auto state = MakeFakeServingState(indexed);
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_TRUE(searcher_->SetState(*state).ok());
  }

  std::vector<uint64_t> SearchIds(const std::string& query) {
    SearchRequest r;
    r.set_query(query);
    r.set_page_size(10);
    SearchResponse resp;
    const absl::Status s = searcher_->Search(r, &resp);
    EXPECT_TRUE(s.ok()) << s;
    std::vector<uint64_t> ids;
    for (const SearchResult& x : resp.results()) ids.push_back(x.listing_id());
    return ids;
  }

  int64_t WriteLogEntries() {
    int64_t n = 0;
    EXPECT_TRUE(store_->ScanWriteLog(0, [&](const FeatureStore::LoggedWrite&) { ++n; return true; }).ok());
    return n;
  }

  std::unique_ptr<FeatureStore> store_;
  LiveAnnIndex ann_;
  std::unique_ptr<LiveLexicalIndex> lexical_;
  std::unique_ptr<StoreListingReader> reader_;
  std::unique_ptr<Searcher> searcher_;
  std::unique_ptr<ListingWriter> writer_;
};

TEST_F(ListingWriterTest, AnAcknowledgedUpsertIsStoredLoggedAndSearchable) {
  Serve({Titled(1, "oak dining table")});
  auto t = writer_->Upsert({Titled(7, "grey fabric sofa")});
  ASSERT_TRUE(t.ok()) << t.status();
  auto got = store_->GetListings({7});
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE((*got)[0].has_value());
  EXPECT_EQ((*got)[0]->featurizer_version(), kFeaturizerVersion);
  EXPECT_EQ(WriteLogEntries(), 1);
  EXPECT_EQ(ann_.delta()->size(), 1);
  const std::vector<uint64_t> ids = SearchIds("grey fabric sofa");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 7u);

  // A delete: gone from the store and from every later page.
  ASSERT_TRUE(writer_->Delete({7}).ok());
  got = store_->GetListings({7});
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE((*got)[0].has_value());
  for (uint64_t id : SearchIds("grey fabric sofa")) EXPECT_NE(id, 7u);
}

TEST_F(ListingWriterTest, ARefusedBatchWritesNothingAndNamesTheField) {
  Serve({Titled(1, "oak dining table")});
  Listing bad = Titled(9, "sofa");
  bad.set_title(std::string(kMaxTitleBytes + 1, 'a'));
  auto t = writer_->Upsert({Titled(8, "red sofa"), bad});
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("listings[1].title"), std::string::npos) << t.status();
  auto got = store_->GetListings({8, 9});
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE((*got)[0].has_value());  // the valid one of the batch was not written either
  EXPECT_FALSE((*got)[1].has_value());
  EXPECT_EQ(WriteLogEntries(), 0);
  EXPECT_EQ(ann_.delta()->size(), 0);
}

TEST_F(ListingWriterTest, BeforeAnyIndexUpsertsWaitAndDeletesReachTheLegsAtReplay) {
  ASSERT_TRUE(store_->PutListings({Titled(1, "oak dining table"), Titled(2, "red sofa")}).ok());
  EXPECT_EQ(writer_->Upsert({Titled(3, "blue sofa")}).status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(writer_->Delete({2}).ok());  // store + write log only: no delta exists yet
  EXPECT_EQ(WriteLogEntries(), 1);

  // The index that starts serving was built before the delete (it still holds listing 2).
  auto state = MakeFakeServingState({Titled(1, "oak dining table"), Titled(2, "red sofa")});
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(searcher_->SetState(*state).ok());
  auto replay = writer_->ReplayWriteLog();
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->tombstones, 1);
  EXPECT_EQ(replay->skipped, 0);
  for (uint64_t id : SearchIds("red sofa")) EXPECT_NE(id, 2u);
}


// With the request path reading records from memory, the writer keeps them current: an
// upserted listing is found with its record, a deleted one is gone.
TEST_F(ListingWriterTest, TheInMemoryRecordsFollowTheWrites) {
  ASSERT_TRUE(store_->PutListings({Titled(1, "oak dining table")}).ok());
  auto memory = MemoryListingReader::Load(store_.get(), &ann_);
  ASSERT_TRUE(memory.ok()) << memory.status();
  Searcher::Options o;
  o.mode = RetrievalMode::kAnnOnly;
  Searcher searcher(o, memory->get(), &ann_, lexical_.get());
  ListingWriter writer(store_.get(), &searcher, &ann_, lexical_.get(), memory->get());
  auto state = MakeFakeServingState({Titled(1, "oak dining table")});
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(searcher.SetState(*state).ok());

  ASSERT_TRUE(writer.Upsert({Titled(7, "grey fabric sofa")}).ok());
  EXPECT_EQ((*memory)->size(), 2);
  SearchRequest r;
  r.set_query("grey fabric sofa");
  r.set_page_size(10);
  SearchResponse resp;
  ASSERT_TRUE(searcher.Search(r, &resp).ok());
  ASSERT_GT(resp.results_size(), 0);
  EXPECT_EQ(resp.results(0).listing_id(), 7u);
  EXPECT_EQ(resp.results(0).title(), "grey fabric sofa");

  ASSERT_TRUE(writer.Delete({7}).ok());
  EXPECT_EQ((*memory)->size(), 1);
  ASSERT_TRUE(searcher.Search(r, &resp).ok());
  for (const SearchResult& x : resp.results()) EXPECT_NE(x.listing_id(), 7u);
}

}  // namespace
}  // namespace marketsearch
