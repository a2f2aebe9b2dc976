#include "serving/searcher.h"

#include <filesystem>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "features/npy_io.h"
#include "gtest/gtest.h"
#include "ranking/ranking_features.h"
#include "retrieval/fake_model_runner.h"
#include "serving/fake_serving_state.h"

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
  Searcher searcher(Searcher::Options(), /*reader=*/nullptr, &ann, &lexical);
  SearchRequest r;
  r.set_query("sofa");
  r.set_page_size(10);
  SearchResponse resp;
  EXPECT_EQ(searcher.Search(r, &resp).code(), absl::StatusCode::kUnavailable);
  r.set_page_size(0);
  EXPECT_EQ(searcher.Search(r, &resp).code(), absl::StatusCode::kInvalidArgument);
}


// An in-memory catalog: what a ListingReader implementation other than RocksDB looks like, and
// a record of what the Searcher asked of it.
class FakeListingReader : public ListingReader {
 public:
  void Put(const Listing& l) { listings_[l.listing_id()] = l; }

  absl::StatusOr<std::vector<ListingRecord>> ReadListings(
      absl::Span<const uint64_t> ids) const override {
    ++listing_reads;
    std::vector<ListingRecord> out;
    for (uint64_t id : ids) {
      auto it = listings_.find(id);
      out.push_back(it == listings_.end() ? nullptr : std::make_shared<const Listing>(it->second));
    }
    return out;
  }
  absl::StatusOr<RankingInputs> ReadRankingInputs(absl::Span<const uint64_t> ids, uint64_t user_id,
                                                  const IndexSnapshot& index) const override {
    ranked_ids.assign(ids.begin(), ids.end());
    RankingInputs in;
    in.dim = index.dim();
    in.counters.resize(ids.size());
    in.embeddings.assign(ids.size() * in.dim, 0.0f);
    in.has_embedding.assign(ids.size(), 0);
    for (size_t i = 0; i < ids.size(); ++i) {
      in.has_embedding[i] = index.Reconstruct(ids[i], in.embeddings.data() + i * in.dim).ok() ? 1 : 0;
    }
    if (user_id != 0) in.user.emplace().set_user_id(user_id);
    return in;
  }

  mutable int listing_reads = 0;
  mutable std::vector<uint64_t> ranked_ids;

 private:
  std::map<uint64_t, Listing> listings_;
};

Listing Titled(uint64_t id, const std::string& title, const std::string& category) {
  Listing l;
  l.set_listing_id(id);
  l.set_title(title);
  l.set_category(category);
  l.set_price(10.0 * id);
  l.set_condition(CONDITION_USED);
  return l;
}

class SearcherOverFakes : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = {Titled(1, "grey fabric sofa", "sofas"), Titled(2, "red leather sofa", "sofas"),
                Titled(3, "iphone 12 128gb", "phones"), Titled(4, "oak dining table", "tables"),
                Titled(5, "blue corner sofa", "sofas")};
    for (const Listing& l : catalog_) {
      if (l.listing_id() != 2) reader_.Put(l);  // 2 was sold after the index build
    }
  }

  static Searcher::Options AnnOnly() {
    Searcher::Options o;
    o.mode = RetrievalMode::kAnnOnly;
    return o;
  }

  // A searcher over the fakes, serving the catalog's fake state.
  std::unique_ptr<Searcher> Serving(const Searcher::Options& o = AnnOnly(),
                                    const FakeServingStateOptions& so = {}) {
    auto searcher = std::make_unique<Searcher>(o, &reader_, &ann_, &lexical_);
    auto state = MakeFakeServingState(catalog_, so);
    EXPECT_TRUE(state.ok()) << state.status();
    if (state.ok()) EXPECT_TRUE(searcher->SetState(*state).ok());
    return searcher;
  }

  SearchResponse Search(const Searcher& searcher, const SearchRequest& r) {
    SearchResponse resp;
    const absl::Status s = searcher.Search(r, &resp);
    EXPECT_TRUE(s.ok()) << s;
    return resp;
  }

  std::vector<uint64_t> Ids(const SearchResponse& resp) {
    std::vector<uint64_t> ids;
    for (const SearchResult& r : resp.results()) ids.push_back(r.listing_id());
    return ids;
  }

  std::vector<Listing> catalog_;
  FakeListingReader reader_;
  LiveAnnIndex ann_;
  LiveLexicalIndex lexical_{std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : ""};
};

TEST_F(SearcherOverFakes, ServesThePageAndDropsWhatTheReaderNoLongerHas) {
  const std::unique_ptr<Searcher> serving = Serving();
  const Searcher& searcher = *serving;
  SearchRequest r;
  r.set_query("sofa");
  r.set_page_size(10);
  r.set_debug(true);
  const SearchResponse resp = Search(searcher, r);
  const std::vector<uint64_t> ids = Ids(resp);
  ASSERT_EQ(ids.size(), 4u);  // the whole exact index but the sold listing
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2u), 0);
  EXPECT_EQ(reader_.listing_reads, 1);  // one batched read of the candidates' records
  EXPECT_TRUE(reader_.ranked_ids.empty());  // no ranker: no ranking inputs read
  for (const char* stage : {"encode_query", "ann", "merge", "features", "total"}) {
    EXPECT_TRUE(resp.debug().stage_ms().contains(stage)) << stage;
  }
  EXPECT_EQ(resp.results(0).title(), catalog_[ids[0] - 1].title());

  // Filters drop what the reader's records fail.
  r.mutable_filters()->add_categories("phones");
  EXPECT_EQ(Ids(Search(searcher, r)), (std::vector<uint64_t>{3}));
}

TEST_F(SearcherOverFakes, PagesFollowOneAnotherWithoutOverlap) {
  const std::unique_ptr<Searcher> serving = Serving();
  const Searcher& searcher = *serving;
  SearchRequest r;
  r.set_query("sofa");
  r.set_page_size(10);
  const std::vector<uint64_t> all = Ids(Search(searcher, r));
  r.set_page_size(3);
  const SearchResponse first = Search(searcher, r);
  ASSERT_FALSE(first.next_page_token().empty());
  r.set_page_token(first.next_page_token());
  const SearchResponse second = Search(searcher, r);
  EXPECT_TRUE(second.next_page_token().empty());
  std::vector<uint64_t> both = Ids(first);
  for (uint64_t id : Ids(second)) both.push_back(id);
  EXPECT_EQ(both, all);
}

// The ranker reorders the best rank_depth survivors from the inputs the reader returned for
// exactly those; the rest follow in fused order.
// A ranker that scores the least similar highest: the opposite of the fused (ANN) order.
// With `calibration_dir` (holding calibration_{scores,probabilities}.npy) the ranker has a
// relevance calibration with that no-match threshold.
std::shared_ptr<const Ranker> ReverseSimilarityRanker(int64_t listing_tower_version,
                                                      const std::string& calibration_dir = "fake",
                                                      double no_match_threshold = -1) {
  constexpr int kSim = kRankRetrievalBegin + 0;  // query·listing embedding similarity
  ModelManifest m;
  m.set_model_name("ranker");
  m.set_version(9);
  TensorSpec* in = m.add_inputs();
  in->set_dtype("float32");
  in->add_shape(-1);
  in->add_shape(kRankingFeatureDim);
  (*m.mutable_metrics())["ranking_feature_version"] = kRankingFeatureVersion;
  (*m.mutable_metrics())["listing_tower_version"] = listing_tower_version;
  if (no_match_threshold >= 0) (*m.mutable_metrics())["no_match_threshold"] = no_match_threshold;
  auto runner = std::make_unique<FakeModelRunner>(
      m, [](absl::Span<const InputTensor> x) -> absl::StatusOr<FloatMatrix> {
        const auto* f = static_cast<const float*>(x[0].data);
        FloatMatrix out;
        out.rows = x[0].shape[0];
        out.cols = 1;
        for (int64_t r = 0; r < out.rows; ++r) out.data.push_back(-f[r * kRankingFeatureDim + kSim]);
        return out;
      },
      calibration_dir);
  Ranker::Options ro;
  ro.warmup_batch_sizes = {};
  auto ranker = Ranker::Create(std::move(runner), ro);
  EXPECT_TRUE(ranker.ok()) << ranker.status();
  return ranker.ok() ? std::shared_ptr<const Ranker>(std::move(*ranker)) : nullptr;
}

// A calibrated ranker: each ranked result carries P(Exact) through the calibration, the
// response the best of them and whether it is below the threshold; off by option.
TEST_F(SearcherOverFakes, CalibratedRankerReturnsProbabilitiesAndNoGoodMatch) {
  const std::string dir = ::testing::TempDir() + "/calibrated_ranker";
  std::filesystem::create_directories(dir);
  // Scores are -similarity, in [-1, 1]: P(Exact) = (score + 1) / 2.
  ASSERT_TRUE(WriteNpy(dir + "/calibration_scores.npy", std::vector<float>{-1, 1}, {2}).ok());
  ASSERT_TRUE(WriteNpy(dir + "/calibration_probabilities.npy", std::vector<float>{0, 1}, {2}).ok());
  const std::unique_ptr<Searcher> searcher = Serving();
  SearchRequest r;
  r.set_query("grey fabric sofa");
  r.set_page_size(2);  // the best probability is over every ranked candidate, not the page
  for (double threshold : {0.0, 1.0}) {
    Searcher::Options arm = searcher->options();
    arm.ranker = ReverseSimilarityRanker(1, dir, threshold);
    ASSERT_NE(arm.ranker, nullptr);
    ASSERT_NE(arm.ranker->calibration(), nullptr);
    SearchResponse resp;
    SearchRequestStats stats;
    ASSERT_TRUE(searcher->Search(r, &resp, &stats, nullptr, &arm).ok());
    ASSERT_EQ(resp.results_size(), 2);
    EXPECT_EQ(stats.match, threshold == 1.0 ? "none" : "good");  // metrics and access log
    float best = -1;
    for (const SearchResult& res : resp.results()) {
      ASSERT_TRUE(res.has_relevance_probability()) << res.listing_id();
      EXPECT_NEAR(res.relevance_probability(), (res.score() + 1) / 2, 1e-5) << res.listing_id();
      best = std::max(best, res.relevance_probability());
    }
    ASSERT_TRUE(resp.has_best_relevance_probability());
    EXPECT_GE(resp.best_relevance_probability(), best);
    EXPECT_LT(resp.best_relevance_probability(), 1.0f);
    EXPECT_EQ(resp.no_good_match(), threshold == 1.0) << threshold;
    // Off: no probabilities, no flag.
    arm.relevance_calibration = false;
    stats = SearchRequestStats();
    ASSERT_TRUE(searcher->Search(r, &resp, &stats, nullptr, &arm).ok());
    EXPECT_EQ(stats.match, "");
    EXPECT_FALSE(resp.results(0).has_relevance_probability());
    EXPECT_FALSE(resp.has_best_relevance_probability());
    EXPECT_FALSE(resp.no_good_match());
  }
  // A ranker without calibration: neither.
  Searcher::Options arm = searcher->options();
  arm.ranker = ReverseSimilarityRanker(1);
  SearchResponse resp;
  ASSERT_TRUE(searcher->Search(r, &resp, nullptr, nullptr, &arm).ok());
  EXPECT_EQ(arm.ranker->calibration(), nullptr);
  EXPECT_FALSE(resp.results(0).has_relevance_probability());
  EXPECT_FALSE(resp.no_good_match());
  // Knots without a threshold fail the ranker's load.
  ModelManifest m = arm.ranker->manifest();
  Ranker::Options no_warmup;
  no_warmup.warmup_batch_sizes = {};
  auto broken = Ranker::Create(
      std::make_unique<FakeModelRunner>(
          m, [](absl::Span<const InputTensor>) -> absl::StatusOr<FloatMatrix> { return FloatMatrix(); },
          dir),
      no_warmup);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(std::string(broken.status().message()).find("no_match_threshold"), std::string::npos)
      << broken.status();
}

// An experiment arm's options for one request: another ranker version (only with an index of
// its listing tower), or none; the response's versions say which served.
TEST_F(SearcherOverFakes, PerRequestOptionsChooseTheRanker) {
  const std::unique_ptr<Searcher> searcher = Serving();  // serves no ranker
  SearchRequest r;
  r.set_query("grey fabric sofa");
  r.set_page_size(10);
  const std::vector<uint64_t> fused = Ids(Search(*searcher, r));
  ASSERT_EQ(fused.size(), 4u);
  Searcher::Options arm = searcher->options();
  arm.rank_depth = 3;
  arm.ranker = ReverseSimilarityRanker(1);
  arm.ranker_version = 7;
  SearchResponse resp;
  ASSERT_TRUE(searcher->Search(r, &resp, nullptr, nullptr, &arm).ok());
  EXPECT_EQ(Ids(resp), (std::vector<uint64_t>{fused[2], fused[1], fused[0], fused[3]}));
  EXPECT_EQ(resp.versions().ranker(), 7);
  // A ranker of another listing tower does not rank with this index.
  arm.ranker = ReverseSimilarityRanker(2);
  ASSERT_TRUE(searcher->Search(r, &resp, nullptr, nullptr, &arm).ok());
  EXPECT_EQ(Ids(resp), fused);
  EXPECT_EQ(resp.versions().ranker(), 0);
  // use_ranker: false turns the served ranker off for this request.
  FakeServingStateOptions so;
  so.ranker = ReverseSimilarityRanker(1);
  const std::unique_ptr<Searcher> ranked = Serving(AnnOnly(), so);
  Searcher::Options off = ranked->options();
  off.use_ranker = false;
  ASSERT_TRUE(ranked->Search(r, &resp, nullptr, nullptr, &off).ok());
  EXPECT_EQ(Ids(resp), fused);
  EXPECT_EQ(resp.versions().ranker(), 0);
}

TEST_F(SearcherOverFakes, TheRankerReordersTheBestRankDepthFromTheReadersInputs) {
  const std::unique_ptr<Searcher> fused_searcher = Serving();
  SearchRequest r;
  r.set_query("grey fabric sofa");
  r.set_page_size(10);
  r.set_user_id(77);
  const std::vector<uint64_t> fused = Ids(Search(*fused_searcher, r));
  ASSERT_EQ(fused.size(), 4u);

  Searcher::Options o = AnnOnly();
  o.rank_depth = 3;
  FakeServingStateOptions so;
  so.ranker = ReverseSimilarityRanker(1);
  const std::vector<uint64_t> ranked = Ids(Search(*Serving(o, so), r));
  EXPECT_EQ(reader_.ranked_ids, (std::vector<uint64_t>{fused[0], fused[1], fused[2]}));
  EXPECT_EQ(ranked, (std::vector<uint64_t>{fused[2], fused[1], fused[0], fused[3]}));
}


// A filtered request runs its two legs at once while the server has an idle worker
// (RequestControl::idle_workers); concurrent_legs runs every request's legs at once; otherwise
// one after the other. The page is the same either way.
TEST_F(SearcherOverFakes, FilteredLegsRunConcurrentlyWhileAWorkerIsIdle) {
  FakeServingStateOptions so;
  so.lexical_dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/fake_lexical");
  Searcher::Options hybrid;
  ASSERT_EQ(hybrid.mode, RetrievalMode::kHybrid);
  ASSERT_TRUE(hybrid.concurrent_filtered_legs_when_idle);
  SearchRequest unfiltered;
  unfiltered.set_query("sofa");
  unfiltered.set_page_size(10);
  SearchRequest filtered = unfiltered;
  filtered.mutable_filters()->mutable_price()->set_max(40);  // listings 1-4 (price 10 x id)
  RequestControl busy, idle;
  idle.idle_workers = 1;
  auto legs = [&](const Searcher& searcher, const SearchRequest& r, const RequestControl* control,
                  std::vector<uint64_t>* ids = nullptr) {
    SearchResponse resp;
    SearchRequestStats stats;
    const absl::Status s = searcher.Search(r, &resp, &stats, control);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_GT(stats.lexical_candidates, 0);
    EXPECT_GT(stats.ann_candidates, 0);
    if (ids != nullptr) *ids = Ids(resp);
    return stats.concurrent_legs;
  };
  {
    const std::unique_ptr<Searcher> searcher = Serving(hybrid, so);
    std::vector<uint64_t> sequential, concurrent;
    EXPECT_FALSE(legs(*searcher, filtered, &busy, &sequential));
    EXPECT_TRUE(legs(*searcher, filtered, &idle, &concurrent));
    EXPECT_FALSE(legs(*searcher, filtered, nullptr));
    EXPECT_FALSE(legs(*searcher, unfiltered, &idle));
    EXPECT_EQ(sequential, concurrent);
    EXPECT_EQ(sequential.size(), 3u);  // 1, 3 and 4: in the price range, not sold
  }
  Searcher::Options never = hybrid;
  never.concurrent_filtered_legs_when_idle = false;
  EXPECT_FALSE(legs(*Serving(never, so), filtered, &idle));
  Searcher::Options always = never;
  always.concurrent_legs = true;
  EXPECT_TRUE(legs(*Serving(always, so), unfiltered, &busy));
}

TEST_F(SearcherOverFakes, AnExpiredOrCancelledRequestStopsBeforeItsNextStage) {
  const std::unique_ptr<Searcher> serving = Serving();
  const Searcher& searcher = *serving;
  SearchRequest r;
  r.set_query("sofa");
  r.set_page_size(10);
  SearchResponse resp;

  RequestControl expired;
  expired.deadline = std::chrono::steady_clock::now() - std::chrono::milliseconds(1);
  absl::Status s = searcher.Search(r, &resp, nullptr, &expired);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_NE(s.message().find("before retrieval"), absl::string_view::npos) << s;
  EXPECT_EQ(reader_.listing_reads, 0);  // no work done

  RequestControl cancelled;
  cancelled.cancelled = [] { return true; };
  s = searcher.Search(r, &resp, nullptr, &cancelled);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;

  // The client gives up while retrieval runs: hydration never starts.
  int checks = 0;
  RequestControl gives_up;
  gives_up.cancelled = [&checks] { return ++checks > 1; };
  s = searcher.Search(r, &resp, nullptr, &gives_up);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_NE(s.message().find("before hydration"), absl::string_view::npos) << s;
  EXPECT_EQ(reader_.listing_reads, 0);

  // A bad request is still the client's INVALID_ARGUMENT, whatever its deadline.
  r.set_page_size(0);
  EXPECT_EQ(searcher.Search(r, &resp, nullptr, &expired).code(), absl::StatusCode::kInvalidArgument);
  // And a live one runs to the end.
  r.set_page_size(10);
  RequestControl live;
  live.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  live.cancelled = [] { return false; };
  EXPECT_TRUE(searcher.Search(r, &resp, nullptr, &live).ok());
  EXPECT_EQ(resp.results_size(), 4);
}

}  // namespace
}  // namespace marketsearch
