// Candidate generation over fake legs (CandidateSource): what each leg is asked, how their hits
// are fused, that concurrent legs both run, and that a leg's error is the call's.
#include "retrieval/candidate_generator.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

class FakeSource : public CandidateSource {
 public:
  explicit FakeSource(std::vector<ScoredId> hits, std::vector<float> embedding = {})
      : hits_(std::move(hits)), embedding_(std::move(embedding)) {}

  absl::StatusOr<SourceResult> Retrieve(const SourceQuery& q) const override {
    ++calls;
    last_depth = q.depth;
    last_filter = q.filter;
    last_tokens = q.query.terms.tokens;
    thread = std::this_thread::get_id();
    if (wait_for != nullptr) wait_for->WaitForNotification();
    if (notify != nullptr) notify->Notify();
    if (!error.ok()) return error;
    SourceResult r;
    for (const ScoredId& h : hits_) {
      if (static_cast<int>(r.hits.size()) < q.depth) r.hits.push_back(h);
    }
    r.query_embedding = embedding_;
    r.search_ms = 1.5;
    return r;
  }

  absl::Status error = absl::OkStatus();
  // Concurrency probe: a leg that waits for the other one to have run.
  absl::Notification* wait_for = nullptr;
  absl::Notification* notify = nullptr;
  mutable std::atomic<int> calls{0};
  mutable int last_depth = 0;
  mutable const ListingFilter* last_filter = nullptr;
  mutable std::vector<std::string> last_tokens;
  mutable std::thread::id thread;

 private:
  std::vector<ScoredId> hits_;
  std::vector<float> embedding_;
};

TEST(GenerateFromSources, FusesBothLegsAndKeepsEachLegsRanks) {
  FakeSource ann({{1, 0.9f}, {2, 0.8f}, {3, 0.7f}}, {0.6f, 0.8f});
  FakeSource lexical({{3, 12.0f}, {4, 9.0f}});
  RetrievalOptions o;
  o.ann_depth = 3;
  o.lexical_depth = 2;
  const ListingFilter filter{SearchFilters()};
  o.filter = &filter;
  auto r = GenerateFromSources(&ann, &lexical, ParseQuery("Grey Sofa"), o);
  ASSERT_TRUE(r.ok()) << r.status();
  // Each leg got the parsed query, its depth and the filter (the lexical leg applies what it
  // can of it).
  EXPECT_EQ(ann.last_tokens, (std::vector<std::string>{"grey", "sofa"}));
  EXPECT_EQ(ann.last_depth, 3);
  EXPECT_EQ(lexical.last_depth, 2);
  EXPECT_EQ(ann.last_filter, &filter);
  EXPECT_EQ(lexical.last_filter, &filter);
  // The union, de-duplicated, in fused order: 3 is found by both legs.
  ASSERT_EQ(r->candidates.size(), 4u);
  EXPECT_EQ(r->candidates[0].listing_id, 3u);
  EXPECT_EQ(r->candidates[0].ann_rank, 3);
  EXPECT_EQ(r->candidates[0].lexical_rank, 1);
  EXPECT_EQ(r->query_embedding, (std::vector<float>{0.6f, 0.8f}));
  EXPECT_EQ(r->ann_ms, 1.5);
  EXPECT_EQ(r->lexical_ms, 1.5);
  // Same result as merging the legs' hits directly.
  const auto merged = MergeCandidates({{1, 0.9f}, {2, 0.8f}, {3, 0.7f}}, {{3, 12.0f}, {4, 9.0f}}, o.fusion);
  ASSERT_EQ(merged.size(), r->candidates.size());
  for (size_t i = 0; i < merged.size(); ++i) EXPECT_EQ(merged[i].listing_id, r->candidates[i].listing_id);
}

TEST(GenerateFromSources, ALegThatIsNotGivenDoesNotRun) {
  FakeSource lexical({{4, 9.0f}});
  auto r = GenerateFromSources(nullptr, &lexical, ParseQuery("sofa"), RetrievalOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->candidates.size(), 1u);
  EXPECT_EQ(r->candidates[0].ann_rank, 0);
  EXPECT_TRUE(r->query_embedding.empty());
}

TEST(GenerateFromSources, ALegsErrorIsTheCallsError) {
  FakeSource ann({{1, 0.9f}});
  FakeSource lexical({{4, 9.0f}});
  lexical.error = absl::InternalError("xapian: database closed");
  for (bool concurrent : {false, true}) {
    RetrievalOptions o;
    o.concurrent_legs = concurrent;
    auto r = GenerateFromSources(&ann, &lexical, ParseQuery("sofa"), o);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal) << concurrent;
    EXPECT_NE(r.status().message().find("database closed"), std::string::npos);
  }
}

// With concurrent_legs, the lexical leg runs on a thread of its own while the calling thread
// runs the ANN leg (the lexical fake waits until the ANN leg has started).
TEST(GenerateFromSources, ConcurrentLegsRunAtTheSameTime) {
  FakeSource ann({{1, 0.9f}});
  FakeSource lexical({{4, 9.0f}});
  absl::Notification ann_started, lexical_started;
  ann.notify = &ann_started;
  lexical.wait_for = &ann_started;
  RetrievalOptions o;
  o.concurrent_legs = true;
  auto r = GenerateFromSources(&ann, &lexical, ParseQuery("sofa"), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->candidates.size(), 2u);
  EXPECT_EQ(ann.thread, std::this_thread::get_id());
  EXPECT_NE(lexical.thread, std::this_thread::get_id());

  // Sequential (the default): both on the calling thread, ANN first.
  FakeSource ann2({{1, 0.9f}});
  FakeSource lexical2({{4, 9.0f}});
  auto s = GenerateFromSources(&ann2, &lexical2, ParseQuery("sofa"), RetrievalOptions());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(lexical2.thread, std::this_thread::get_id());
}

}  // namespace
}  // namespace marketsearch
