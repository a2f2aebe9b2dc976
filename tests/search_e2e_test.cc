// End to end: the offline pipeline (generator → ingest → featurizer → PyTorch training →
// FAISS index) into a temporary directory, then the real server on a free loopback port,
// driven over gRPC.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "absl/container/flat_hash_map.h"
#include "datasets/catalog_reader.h"
#include "experiments/metrics.h"
#include "gtest/gtest.h"
#include "proto/search.grpc.pb.h"
#include "tests/health.grpc.pb.h"
#include "common/http_client.h"
#include "tests/server_fixture.h"

namespace marketsearch {
namespace {

class SearchE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new std::string(TestTmpDir() + "/data");
    ASSERT_EQ(RunPipeline(*data_dir_, 5000, 1500, 8), 0);
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start(*data_dir_));
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  std::unique_ptr<MarketSearch::Stub> Stub() { return MarketSearch::NewStub(*channel_); }

  grpc::Status Search(const SearchRequest& req, SearchResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return Stub()->Search(&ctx, req, resp);
  }

  static SearchRequest Request(const std::string& q, int page_size = 10) {
    SearchRequest r;
    r.set_query(q);
    r.set_page_size(page_size);
    return r;
  }

  // The per-stage scores (debug: true) of listing `id` in the top 10 for `q`; false when it
  // is not there.
  bool TopTenScores(const std::string& q, uint64_t id, StageScores* out) {
    SearchRequest req = Request(q, 10);
    req.set_debug(true);
    SearchResponse resp;
    if (!Search(req, &resp).ok()) return false;
    for (const auto& r : resp.results()) {
      if (r.listing_id() == id) {
        *out = r.debug();
        return true;
      }
    }
    return false;
  }

  static std::string* data_dir_;
  static ServerProcess* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

std::string* SearchE2E::data_dir_ = nullptr;
ServerProcess* SearchE2E::server_ = nullptr;
std::shared_ptr<grpc::Channel>* SearchE2E::channel_ = nullptr;

TEST_F(SearchE2E, KnownExactListingsComeBackInTopTen) {
  auto queries = ReadQueries(*data_dir_ + "/catalog/queries.tsv");
  auto judgments = ReadJudgments(*data_dir_ + "/catalog/judgments.tsv");
  ASSERT_TRUE(queries.ok() && judgments.ok());
  const JudgmentMap by_query = GroupJudgments(*judgments);
  int asked = 0, with_exact_in_top10 = 0;
  MeanMetric ndcg;
  for (const QueryRecord& q : *queries) {
    if (q.split != "test" || !by_query.contains(q.query_id)) continue;
    SearchResponse resp;
    grpc::Status s = Search(Request(q.text), &resp);
    ASSERT_TRUE(s.ok()) << q.text << ": " << s.error_message();
    ASSERT_LE(resp.results_size(), 10);
    const auto& judged = by_query.at(q.query_id);
    std::vector<uint64_t> ranked;
    bool hit = false;
    for (const auto& r : resp.results()) {
      ranked.push_back(r.listing_id());
      auto it = judged.find(r.listing_id());
      hit |= it != judged.end() && it->second == Esci::kExact;
    }
    ndcg.Add(NdcgAtK(ranked, judged, 10));
    with_exact_in_top10 += hit;
    ++asked;
  }
  ASSERT_GT(asked, 50);
  const double share = static_cast<double>(with_exact_in_top10) / asked;
  std::printf("test queries: %d, with an Exact listing in the top 10: %.3f, NDCG@10 %.4f\n", asked,
              share, ndcg.mean());
  // A trained retriever finds an Exact listing for most queries; a broken one (random
  // embeddings, wrong ids, wrong featurizer) finds almost none.
  EXPECT_GT(share, 0.6);
  EXPECT_GT(ndcg.mean(), 0.3);
}

TEST_F(SearchE2E, ResponseCarriesVersionsAndRequestId) {
  SearchResponse resp;
  ASSERT_TRUE(Search(Request("phone"), &resp).ok());
  EXPECT_EQ(resp.results_size(), 10);
  EXPECT_FALSE(resp.request_id().empty());
  EXPECT_GE(resp.versions().index(), 1);
  EXPECT_GE(resp.versions().query_tower(), 1);
  EXPECT_EQ(resp.versions().query_tower(), resp.versions().listing_tower());
  for (int i = 1; i < resp.results_size(); ++i) {
    EXPECT_GE(resp.results(i - 1).score(), resp.results(i).score());
  }
}

TEST_F(SearchE2E, BadRequestsGetInvalidArgumentNamingTheField) {
  struct Case {
    SearchRequest req;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({Request(""), "query"});
  cases.push_back({Request("sofa", 0), "page_size"});
  cases.push_back({Request(std::string(1 << 20, 'a')), "query"});
  cases.push_back({Request("sofa", 101), "page_size"});
  SearchRequest bad_token = Request("sofa");
  bad_token.set_page_token("garbage!");
  cases.push_back({bad_token, "page_token"});
  for (const Case& c : cases) {
    SearchResponse resp;
    grpc::Status s = Search(c.req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(s.error_message().rfind(c.field, 0), 0u) << s.error_message();
  }
  // The server is still healthy after bad input.
  SearchResponse resp;
  EXPECT_TRUE(Search(Request("sofa"), &resp).ok());
}

TEST_F(SearchE2E, PagesAreDisjointAndContinueTheRanking) {
  SearchResponse first, second, both;
  ASSERT_TRUE(Search(Request("laptop", 10), &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  SearchRequest next = Request("laptop", 10);
  next.set_page_token(first.next_page_token());
  ASSERT_TRUE(Search(next, &second).ok());
  ASSERT_TRUE(Search(Request("laptop", 20), &both).ok());
  ASSERT_EQ(both.results_size(), 20);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(first.results(i).listing_id(), both.results(i).listing_id());
    EXPECT_EQ(second.results(i).listing_id(), both.results(10 + i).listing_id());
  }
}

TEST_F(SearchE2E, FiltersHold) {
  SearchRequest req = Request("phone", 50);
  req.mutable_filters()->mutable_price()->set_max(300);
  req.mutable_filters()->add_conditions(CONDITION_USED);
  SearchResponse resp;
  ASSERT_TRUE(Search(req, &resp).ok());
  ASSERT_GT(resp.results_size(), 0);
  for (const auto& r : resp.results()) {
    EXPECT_LE(r.price(), 300);
    EXPECT_EQ(r.condition(), CONDITION_USED);
  }
}

TEST_F(SearchE2E, LogEventsAcceptsValidAndRejectsInvalid) {
  SearchResponse page;
  ASSERT_TRUE(Search(Request("bike"), &page).ok());
  LogEventsRequest req;
  Event* e = req.add_events();
  e->set_request_id(page.request_id());
  e->set_listing_id(page.results(0).listing_id());
  e->set_position(0);
  e->set_type(EVENT_TYPE_CLICK);
  LogEventsResponse resp;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(Stub()->LogEvents(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.accepted(), 1);
  }
  e->set_type(EVENT_TYPE_UNSPECIFIED);
  grpc::ClientContext ctx;
  grpc::Status s = Stub()->LogEvents(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("events[0].type"), std::string::npos);
}

TEST_F(SearchE2E, CppEmbeddingsMatchThePythonModel) {
  // parity_check encodes the trainer's parity queries/listings from raw text with the C++
  // featurizer + libtorch and compares with the eager PyTorch outputs (tolerance 1e-5).
  const std::string cmd = RunfilesRoot() + "/jobs/parity_check --data_dir=" + *data_dir_;
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST_F(SearchE2E, HealthServiceReportsServing) {
  auto health = grpc::health::v1::Health::NewStub(*channel_);
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("marketsearch.MarketSearch");
  grpc::health::v1::HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(health->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

bool Contains(const SearchResponse& r, uint64_t id) {
  for (const auto& x : r.results()) {
    if (x.listing_id() == id) return true;
  }
  return false;
}

TEST_F(SearchE2E, NewListingIsSearchableRightAfterUpsert) {
  const uint64_t id = 900000000001ULL;
  UpsertListingsRequest up;
  *up.add_listings() = FreshListing(id, "Zorblax quantum velvet sofa, teal");
  UpsertListingsResponse ack;
  {
    grpc::ClientContext ctx;
    grpc::Status s = Stub()->UpsertListings(&ctx, up, &ack);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const auto acked = std::chrono::steady_clock::now();
  // Stated delay: searchable as soon as the upsert is acknowledged (delta index); poll for
  // up to 2 s to measure rather than assume.
  SearchResponse resp;
  bool found = false;
  while (!found && std::chrono::steady_clock::now() - acked < std::chrono::seconds(2)) {
    ASSERT_TRUE(Search(Request("zorblax quantum velvet sofa", 10), &resp).ok());
    found = Contains(resp, id);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - acked).count();
  std::printf("fresh listing visible %.1f ms after the upsert was acknowledged\n", ms);
  EXPECT_TRUE(found);
  EXPECT_LT(ms, 1000);
  // Both legs found it: the ANN delta by its embedding, the lexical delta by its words.
  StageScores fresh;
  ASSERT_TRUE(TopTenScores("zorblax quantum velvet sofa", id, &fresh)) << "not in the top 10";
  EXPECT_GT(fresh.lexical_rank(), 0);
  EXPECT_GT(fresh.ann_rank(), 0);
}

TEST_F(SearchE2E, UpdatedListingIsSearchableByItsNewWords) {
  const uint64_t id = 900000000004ULL;
  for (const char* title : {"Zorblax quantum velvet sofa, teal", "Zorblax hyperdrive corduroy armchair, ochre"}) {
    UpsertListingsRequest up;
    *up.add_listings() = FreshListing(id, title);
    UpsertListingsResponse ack;
    grpc::ClientContext ctx;
    grpc::Status s = Stub()->UpsertListings(&ctx, up, &ack);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // The new title's words find it through the lexical leg at once...
  StageScores now;
  ASSERT_TRUE(TopTenScores("zorblax hyperdrive corduroy armchair ochre", id, &now))
      << "updated listing not in the top 10 for its new title";
  EXPECT_GT(now.lexical_rank(), 0);
  // ...and words only its old title had do not match it lexically any more (the ANN leg may
  // still consider it similar).
  SearchRequest req = Request("quantum velvet teal", 100);
  req.set_debug(true);
  SearchResponse resp;
  ASSERT_TRUE(Search(req, &resp).ok());
  for (const auto& r : resp.results()) {
    if (r.listing_id() == id) EXPECT_EQ(r.debug().lexical_rank(), 0);
  }
}

TEST_F(SearchE2E, DeletedListingIsNeverReturnedAfterAck) {
  SearchResponse before;
  ASSERT_TRUE(Search(Request("grey sofa", 100), &before).ok());
  ASSERT_GT(before.results_size(), 5);
  const uint64_t gone = before.results(0).listing_id();
  const uint64_t also_gone = before.results(3).listing_id();
  DeleteListingsRequest del;
  del.add_listing_ids(gone);
  del.add_listing_ids(also_gone);
  DeleteListingsResponse ack;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(Stub()->DeleteListings(&ctx, del, &ack).ok());
    EXPECT_EQ(ack.deleted(), 2);
  }
  // Immediately after the acknowledgement, and on every page, filtered or not.
  for (const char* q : {"grey sofa", "sofa", "couch"}) {
    SearchResponse resp;
    ASSERT_TRUE(Search(Request(q, 100), &resp).ok());
    EXPECT_FALSE(Contains(resp, gone)) << q;
    EXPECT_FALSE(Contains(resp, also_gone)) << q;
  }
  SearchRequest filtered = Request("grey sofa", 100);
  filtered.mutable_filters()->add_categories(before.results(0).category());
  SearchResponse resp;
  ASSERT_TRUE(Search(filtered, &resp).ok());
  EXPECT_FALSE(Contains(resp, gone));
}

TEST_F(SearchE2E, InvalidUpsertIsRefusedWholeAndNamesTheField) {
  UpsertListingsRequest up;
  *up.add_listings() = FreshListing(900000000002ULL, "good listing zorblax lamp");
  Listing bad = FreshListing(900000000003ULL, "bad listing");
  bad.set_price(-5);
  *up.add_listings() = bad;
  UpsertListingsResponse ack;
  grpc::ClientContext ctx;
  grpc::Status s = Stub()->UpsertListings(&ctx, up, &ack);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("listings[1].price", 0), 0u) << s.error_message();
  // Nothing was written: the good listing of the refused batch is not searchable.
  SearchResponse resp;
  ASSERT_TRUE(Search(Request("good listing zorblax lamp", 20), &resp).ok());
  EXPECT_FALSE(Contains(resp, 900000000002ULL));
}

TEST_F(SearchE2E, FilteredSearchKeepsPageFullWhenEnoughMatch) {
  // Price filter matching a minority of listings: still a full page.
  SearchRequest req = Request("phone", 50);
  req.mutable_filters()->mutable_price()->set_max(80);
  SearchResponse resp;
  ASSERT_TRUE(Search(req, &resp).ok());
  EXPECT_EQ(resp.results_size(), 50);
  for (const auto& r : resp.results()) EXPECT_LE(r.price(), 80);
}

// Crashes the server (SIGKILL) and starts it again on the same data directory, before any
// index rebuild: the writes acknowledged since the served index's snapshot come back from
// the store's write log into the delta index. Runs before the hot swap (which would fold
// the writes into a new index).
TEST_F(SearchE2E, FreshListingsAndDeletesSurviveARestart) {
  const uint64_t fresh = 900000000010ULL;
  const std::string fresh_query = "zorblax restartproof corduroy sofa mustard";
  UpsertListingsRequest up;
  *up.add_listings() = FreshListing(fresh, "Zorblax restartproof corduroy sofa, mustard");
  UpsertListingsResponse up_ack;
  {
    grpc::ClientContext ctx;
    grpc::Status s = Stub()->UpsertListings(&ctx, up, &up_ack);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  SearchResponse resp;
  ASSERT_TRUE(Search(Request(fresh_query, 100), &resp).ok());
  ASSERT_TRUE(Contains(resp, fresh)) << "not found before the restart";

  // An indexed listing, found by its own title, then deleted.
  SearchResponse laptops;
  ASSERT_TRUE(Search(Request("laptop", 10), &laptops).ok());
  ASSERT_GT(laptops.results_size(), 0);
  const uint64_t gone = laptops.results(0).listing_id();
  const std::string gone_title = laptops.results(0).title();
  ASSERT_LT(gone, 900000000000ULL) << "expected a listing of the built index";
  DeleteListingsRequest del;
  del.add_listing_ids(gone);
  DeleteListingsResponse del_ack;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(Stub()->DeleteListings(&ctx, del, &del_ack).ok());
  }

  server_->Kill();
  ASSERT_TRUE(server_->Start(*data_dir_));
  *channel_ = grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials());

  // The replay reports what it restored: this test's writes at least (and the earlier
  // tests', when they ran).
  std::ifstream log(*data_dir_ + "/server.log");
  const std::string text(std::istreambuf_iterator<char>(log), {});
  long long n_fresh = -1, n_tomb = -1, snapshot = -1;
  const size_t at = text.find("delta replay: ");
  ASSERT_NE(at, std::string::npos) << text;
  ASSERT_EQ(std::sscanf(text.c_str() + at,
                        "delta replay: %lld fresh listings, %lld tombstones since index snapshot %lld",
                        &n_fresh, &n_tomb, &snapshot), 3) << text.substr(at, 200);
  std::printf("after restart: %s\n", text.substr(at, text.find('\n', at) - at).c_str());
  EXPECT_GE(n_fresh, 1);
  EXPECT_GE(n_tomb, 1);
  EXPECT_GT(snapshot, 0);

  // The fresh listing is in neither the FAISS nor the Xapian index: only the replayed deltas
  // can return it, through both legs.
  SearchRequest req = Request(fresh_query, 100);
  req.set_debug(true);
  ASSERT_TRUE(Search(req, &resp).ok());
  ASSERT_TRUE(Contains(resp, fresh)) << "fresh listing lost by the restart";
  for (const auto& r : resp.results()) {
    if (r.listing_id() != fresh) continue;
    EXPECT_GT(r.debug().ann_rank(), 0);
    EXPECT_GT(r.debug().lexical_rank(), 0);
  }
  // The deleted one is never returned, by its title or the query that found it.
  for (const std::string& q : {gone_title, std::string("laptop")}) {
    ASSERT_TRUE(Search(Request(q, 100), &resp).ok());
    EXPECT_FALSE(Contains(resp, gone)) << q;
  }
}

// The server refused the request for load (pool full, or waited too long while overloaded).
bool ShedForLoad(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
         s.error_message().rfind("server overloaded", 0) == 0;
}

// Runs last (gtest keeps definition order): publishes a new index version while four
// threads search, and checks the swap costs no request. Four closed loops on two workers can
// keep a standing queue, so a search may be shed for its wait (RESOURCE_EXHAUSTED, "server
// overloaded"): load shedding, counted apart; any other error is a failure.
TEST_F(SearchE2E, HotSwapUnderConcurrentSearchFailsNoRequest) {
  SearchResponse before;
  ASSERT_TRUE(Search(Request("phone"), &before).ok());
  const int64_t old_version = before.versions().index();

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, shed{0}, failed{0};
  std::atomic<int64_t> newest{old_version};
  const char* queries[] = {"phone", "grey sofa", "bike", "laptop 16gb", "running shoes size 10"};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto stub = MarketSearch::NewStub(*channel_);
      for (int i = 0; !stop; ++i) {
        SearchRequest req = Request(queries[(i + t) % 5], 20);
        SearchResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        grpc::Status s = stub->Search(&ctx, req, &resp);
        if (ShedForLoad(s)) {
          ++shed;
          continue;
        }
        if (!s.ok() || resp.results_size() == 0) {
          ++failed;
          continue;
        }
        ++ok;
        int64_t v = resp.versions().index();
        int64_t cur = newest.load();
        while (v > cur && !newest.compare_exchange_weak(cur, v)) {
        }
      }
    });
  }
  const std::string cmd = RunfilesRoot() + "/jobs/build_index --data_dir=" + *data_dir_ +
                          " > " + *data_dir_ + "/rebuild.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  // The server polls CURRENT every 200 ms in this test; allow time to load and warm up.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (newest.load() == old_version && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& th : threads) th.join();
  std::printf("hot swap: %d requests ok, %d shed, %d failed, index v%lld -> v%lld\n", ok.load(),
              shed.load(), failed.load(), static_cast<long long>(old_version),
              static_cast<long long>(newest.load()));
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 20);
  EXPECT_EQ(newest.load(), old_version + 1);
}


// The value of the exposition line `series value` in Prometheus text, or -1.
double ExpositionSample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

// The metrics a scraper sees are valid Prometheus text (promtool, Debian's `prometheus`), and
// count each request once.
TEST_F(SearchE2E, MetricsEndpointPassesPromtoolAndCountsRequests) {
  const int admin = server_->admin_port();
  ASSERT_GT(admin, 0);
  int status = 0;
  const std::string series = "marketsearch_rpcs_total{code=\"OK\",method=\"Search\"}";
  const double before = ExpositionSample(HttpGet(admin, "/metrics", &status), series);
  ASSERT_EQ(status, 200);
  for (int i = 0; i < 5; ++i) {
    SearchResponse resp;
    ASSERT_TRUE(Search(Request("grey sofa"), &resp).ok());
  }
  SearchResponse bad;
  EXPECT_EQ(Search(Request("sofa", 0), &bad).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string text = HttpGet(admin, "/metrics", &status);
  EXPECT_EQ(ExpositionSample(text, series), std::max(before, 0.0) + 5) << text;
  EXPECT_GE(ExpositionSample(text, "marketsearch_rpcs_total{code=\"INVALID_ARGUMENT\",method=\"Search\"}"), 1);
  EXPECT_GE(ExpositionSample(text, "marketsearch_search_stage_duration_seconds_count{stage=\"ann\"}"), 5);
  EXPECT_GE(ExpositionSample(text, "marketsearch_servable_version{kind=\"index\"}"), 1);
  EXPECT_EQ(HttpGet(admin, "/healthz", &status), "SERVING\n");

  const std::string file = TestTmpDir() + "/metrics.txt";
  std::ofstream(file) << text;
  const std::string cmd = "promtool check metrics < " + file + " > " + file + ".promtool 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << std::ifstream(file + ".promtool").rdbuf();
}

// A real Prometheus on loopback scrapes the server every second; after exactly N requests its
// HTTP API reports the counter grown by exactly N.
TEST_F(SearchE2E, PrometheusScrapesExactlyTheRequestsSent) {
  const int admin = server_->admin_port();
  ASSERT_GT(admin, 0);
  const std::string dir = TestTmpDir() + "/prometheus";
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  {
    std::ofstream cfg(dir + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "scrape_configs:\n  - job_name: marketsearch\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << admin << "']\n";
  }
  const int prom_port = FreeLoopbackPort();
  ASSERT_GT(prom_port, 0);
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen((dir + "/prometheus.log").c_str(), "w", stderr);
    (void)f;
    const std::string c = "--config.file=" + dir + "/prometheus.yml";
    const std::string t = "--storage.tsdb.path=" + dir + "/data";
    const std::string l = "--web.listen-address=127.0.0.1:" + std::to_string(prom_port);
    execlp("prometheus", "prometheus", c.c_str(), t.c_str(), l.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  } reaper{pid};
  int status = 0;
  for (int i = 0; i < 600 && status != 200; ++i) {
    HttpGet(prom_port, "/-/ready", &status);
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(status, 200) << std::ifstream(dir + "/prometheus.log").rdbuf();

  // The counter's latest scraped value, or -1 while Prometheus has none.
  const std::string query = "/api/v1/query?query=" +
                            UrlEncode("marketsearch_rpcs_total{method=\"Search\",code=\"OK\"}");
  auto scraped = [&]() -> double {
    int st = 0;
    const std::string body = HttpGet(prom_port, query, &st);
    const size_t v = body.find("\"value\":[");
    if (st != 200 || v == std::string::npos) return -1;
    const size_t q = body.find('"', body.find(',', v) + 1);
    return std::stod(body.substr(q + 1));
  };
  auto wait_for = [&](auto done) {
    double got = -1;
    for (int i = 0; i < 300; ++i) {  // 30 s: scrapes are every second
      got = scraped();
      if (done(got)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return got;
  };
  // A first scrape, then one more so that the value is settled (no request is in flight).
  const double first = wait_for([](double v) { return v >= 0; });
  ASSERT_GE(first, 0) << std::ifstream(dir + "/prometheus.log").rdbuf();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const double v0 = scraped();
  constexpr int kRequests = 37;
  for (int i = 0; i < kRequests; ++i) {
    SearchResponse resp;
    ASSERT_TRUE(Search(Request(i % 2 ? "grey sofa" : "used iphone"), &resp).ok());
  }
  const double v1 = wait_for([&](double v) { return v >= v0 + kRequests; });
  EXPECT_EQ(v1 - v0, kRequests);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // and no more than that
  EXPECT_EQ(scraped() - v0, kRequests);
}


// SIGTERM drains: health turns NOT_SERVING while the server still answers, the requests it
// accepted finish, and it exits 0. A second server (read-only follower of the same data) is
// the one stopped, so the suite's server keeps serving.
TEST_F(SearchE2E, SigtermDrainsWithoutFailingAcceptedRequests) {
  ServerProcess second;
  ASSERT_TRUE(second.Start(*data_dir_, 120,
                           {"--store_mode=secondary", "--log_impressions=false", "--drain_grace_ms=1500"},
                           "drain"));
  auto channel = grpc::CreateChannel(second.target(), grpc::InsecureChannelCredentials());
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, refused{0}, other{0};
  // Requests started before the grace period ends (less a margin) must succeed; later ones may
  // meet the closing listener (UNAVAILABLE, or CANCELLED for a call gRPC had not dispatched).
  using SteadyClock = std::chrono::steady_clock;
  std::atomic<int64_t> must_succeed_before{std::numeric_limits<int64_t>::max()};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&] {
      auto stub = MarketSearch::NewStub(channel);
      while (!stop) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        SearchResponse resp;
        const int64_t started = SteadyClock::now().time_since_epoch().count();
        const grpc::Status st = stub->Search(&ctx, Request("grey sofa"), &resp);
        if (st.ok()) {
          ++ok;
        } else if (ShedForLoad(st)) {
          // three closed loops on two workers: shed for its wait in a standing queue
        } else if (started >= must_succeed_before.load() &&
                   (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
                    st.error_code() == grpc::StatusCode::CANCELLED)) {
          ++refused;  // after the drain: the client retries elsewhere
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } else {
          ++other;
          std::fprintf(stderr, "drain: %d %s\n", st.error_code(), st.error_message().c_str());
        }
      }
    });
  }
  // Until the first search succeeds (a fixed 300 ms was too short under ThreadSanitizer, whose
  // first searches on a fresh server take longer), then 300 ms of steady traffic.
  for (int i = 0; i < 600 && ok.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_GT(ok.load(), 0);
  must_succeed_before = (SteadyClock::now() + std::chrono::milliseconds(1500 - 300)).time_since_epoch().count();
  kill(second.pid(), SIGTERM);
  // Health turns NOT_SERVING first, while searches still succeed.
  int status = 0;
  for (int i = 0; i < 50; ++i) {
    HttpGet(second.admin_port(), "/healthz", &status);
    if (status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, 503);
  const int ok_when_not_serving = ok.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_GT(ok.load(), ok_when_not_serving);  // still answering during the grace period
  const int code = second.WaitExit(30);
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(code, 0) << second.Log();
  EXPECT_EQ(other.load(), 0);  // no request failed that the server could still accept
  EXPECT_NE(second.Log().find("drained in"), std::string::npos) << second.Log();
}

// The experiment layer through the real server: an experiments file in the data directory is
// picked up without a restart; each buyer gets one arm, and the arm changes what is served
// (the lexical arm retrieves with BM25 alone); the response's attribution token is accepted by LogEvents
// and a forged one refused; a broken file keeps the previous experiments running.
TEST_F(SearchE2E, ExperimentArmsChangeWhatIsServedAndReloadWithoutRestart) {
  const std::string path = *data_dir_ + "/experiments.textproto";
  auto write = [&](const std::string& text) {
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp) << text;
    ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
  };
  write(R"pb(layers { name: "retrieval" experiments {
      key: "hybrid-vs-lexical" range_begin: 0 range_end: 1
      arms { name: "hybrid" weight: 0.5 }
      arms { name: "lexical" weight: 0.5 overrides { retrieval_mode: "lexical_only" } } } })pb");
  auto search_as = [&](uint64_t user, SearchResponse* resp) {
    SearchRequest req = Request("bike");
    req.set_user_id(user);
    req.set_debug(true);
    return Search(req, resp);
  };
  // The reload loop polls every 2 s.
  SearchResponse resp;
  for (int i = 0; i < 100 && resp.arms_size() == 0; ++i) {
    ASSERT_TRUE(search_as(1, &resp).ok());
    if (resp.arms_size() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(resp.arms_size(), 1) << "the experiments file was not picked up";
  std::map<std::string, int> arms;
  for (uint64_t user = 1; user <= 60; ++user) {
    ASSERT_TRUE(search_as(user, &resp).ok());
    ASSERT_EQ(resp.arms_size(), 1);
    EXPECT_EQ(resp.arms(0).layer(), "retrieval");
    EXPECT_EQ(resp.arms(0).experiment(), "hybrid-vs-lexical");
    const bool lexical_only = resp.arms(0).arm() == "lexical";
    ++arms[resp.arms(0).arm()];
    ASSERT_GT(resp.results_size(), 0);
    int from_ann = 0;
    for (const auto& r : resp.results()) from_ann += r.debug().ann_rank() > 0;
    EXPECT_EQ(from_ann == 0, lexical_only) << "user " << user << " arm " << resp.arms(0).arm();
    // The same user always gets the same arm.
    SearchResponse again;
    ASSERT_TRUE(search_as(user, &again).ok());
    EXPECT_EQ(again.arms(0).arm(), resp.arms(0).arm());
  }
  EXPECT_GT(arms["hybrid"], 10);
  EXPECT_GT(arms["lexical"], 10);
  // Without a user or anonymous id: no experiment.
  ASSERT_TRUE(Search(Request("bike"), &resp).ok());
  EXPECT_EQ(resp.arms_size(), 0);
  // Attribution: the token verifies; an altered one is refused naming the field.
  ASSERT_TRUE(search_as(7, &resp).ok());
  ASSERT_FALSE(resp.attribution_token().empty());
  LogEventsRequest events;
  Event* e = events.add_events();
  e->set_request_id(resp.request_id());
  e->set_listing_id(resp.results(0).listing_id());
  e->set_position(0);
  e->set_type(EVENT_TYPE_CLICK);
  e->set_user_id(7);
  e->set_attribution_token(resp.attribution_token());
  LogEventsResponse logged;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(Stub()->LogEvents(&ctx, events, &logged).ok());
  }
  std::string forged = resp.attribution_token();
  forged[0] = forged[0] == 'd' ? 'e' : 'd';
  e->set_attribution_token(forged);
  {
    grpc::ClientContext ctx;
    const grpc::Status s = Stub()->LogEvents(&ctx, events, &logged);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("events[0].attribution_token"), std::string::npos)
        << s.error_message();
  }
  // The dashboard in headless Chromium: rendered without script errors, its charts drawn with
  // Chart.js, its arms table equal to the JSON API; the screenshot lands in the test outputs.
  {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the impression queue flushes
    const char* out = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
    const std::string shot = std::string(out != nullptr ? out : TestTmpDir().c_str()) + "/dashboard.png";
    const std::string cmd = RunfilesRoot() + "/third_party/python " + RunfilesRoot() +
                            "/tests/dashboard_check.py http://127.0.0.1:" +
                            std::to_string(server_->admin_port()) + " " + shot + " hybrid-vs-lexical";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  // QA overrides are off on this server.
  SearchRequest forced = Request("bike");
  (*forced.mutable_force_arms())["hybrid-vs-lexical"] = "lexical";
  EXPECT_EQ(Search(forced, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A broken file: refused, logged, and the previous experiment keeps serving.
  write("layers { name: \"retrieval\" no_such_field: 1 }");
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  ASSERT_TRUE(search_as(3, &resp).ok());
  EXPECT_EQ(resp.arms_size(), 1);
  EXPECT_NE(server_->Log().find("no_such_field"), std::string::npos);
  // An empty configuration ends the experiment (the tests after this one see none).
  write("");
  for (int i = 0; i < 100 && resp.arms_size() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(search_as(3, &resp).ok());
  }
  EXPECT_EQ(resp.arms_size(), 0);
}

}  // namespace
}  // namespace marketsearch
