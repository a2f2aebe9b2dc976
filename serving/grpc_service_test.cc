// The gRPC service on a real in-process server on a loopback port, without any loaded model:
// what a client sees for overload, bad bytes, nothing loaded and server-side failures.
#include "serving/grpc_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "index/live_index.h"
#include "serving/message_parser.h"

namespace marketsearch {
namespace {

class GrpcServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InstallProtobufLogFilter();
    Start(MarketSearchService::Options(), /*max_queued=*/1);
  }
  // One worker, `max_queued` waiting.
  void Start(const MarketSearchService::Options& options, int max_queued) {
    RequestPool::Options po;
    po.threads = 1;
    po.max_queued = max_queued;
    pool_ = std::make_unique<RequestPool>(po);
    searcher_ = std::make_unique<Searcher>(Searcher::Options(), nullptr, &ann_, &lexical_);
    service_ = std::make_unique<MarketSearchService>(searcher_.get(), pool_.get(), options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    stub_ = MarketSearch::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                      grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_.reset();
    service_.reset();
    pool_.reset();
  }
  void Restart(const MarketSearchService::Options& options, int max_queued) {
    TearDown();
    Start(options, max_queued);
  }

  grpc::Status Search(const SearchRequest& req) {
    SearchResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->Search(&ctx, req, &resp);
  }
  static SearchRequest Request(const std::string& q) {
    SearchRequest r;
    r.set_query(q);
    r.set_page_size(10);
    return r;
  }

  LiveAnnIndex ann_;
  LiveLexicalIndex lexical_;
  std::unique_ptr<RequestPool> pool_;
  std::unique_ptr<Searcher> searcher_;
  std::unique_ptr<MarketSearchService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MarketSearch::Stub> stub_;
};

TEST_F(GrpcServiceTest, NothingLoadedIsUnavailableAndBadRequestsNameTheField) {
  EXPECT_EQ(Search(Request("sofa")).error_code(), grpc::StatusCode::UNAVAILABLE);
  grpc::Status s = Search(Request("sofa \xff"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "query: not valid UTF-8");
  SearchRequest r = Request("sofa");
  r.set_page_size(0);
  s = Search(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("page_size", 0), 0u) << s.error_message();
}

TEST_F(GrpcServiceTest, WritesOnAReadOnlyServerAreFailedPrecondition) {
  UpsertListingsRequest up;
  up.add_listings()->set_title("x");
  UpsertListingsResponse ack;
  grpc::ClientContext ctx;
  EXPECT_EQ(stub_->UpsertListings(&ctx, up, &ack).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

// One worker busy and one request queued: the next is refused at once, not queued.
TEST_F(GrpcServiceTest, AFullPoolAnswersResourceExhaustedAtOnce) {
  absl::Notification release, started;
  ASSERT_TRUE(pool_->TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  ASSERT_TRUE(pool_->TrySubmit([] {}));  // the one queued slot
  const auto t = std::chrono::steady_clock::now();
  grpc::Status s = Search(Request("sofa"));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("retry with backoff"), std::string::npos) << s.error_message();
  EXPECT_LT(ms, 5000) << "refused only after a wait";
  EXPECT_EQ(service_->shed(), 1);
  release.Notify();
  while (pool_->queued() > 0) std::this_thread::yield();  // the queued one started: the blocker is done
  // Capacity is back.
  EXPECT_EQ(Search(Request("sofa")).error_code(), grpc::StatusCode::UNAVAILABLE);
}

// Controlled delay: with the worker held for 150 ms, a search that waited in a queue that
// stood the whole time (another item behind it) is shed; one that leaves the queue empty when
// it is taken, with no shed within the interval (a burst absorbed), is run however long it
// waited; a write is never shed for its wait.
TEST_F(GrpcServiceTest, SearchesThatWaitedInAStandingQueueAreShed) {
  MarketSearchService::Options options;
  options.queue_delay_target = std::chrono::milliseconds(20);
  options.queue_delay_interval = std::chrono::milliseconds(50);
  Restart(options, /*max_queued=*/4);
  // Holds the worker for 150 ms; the rest of `queue` (submitted by the caller) waits behind.
  // The notifications are shared with the worker: it may still be inside WaitForNotification
  // when this returns (on the stack, the next call's would reuse their memory: a race, a hang).
  auto hold_worker_while = [&](const std::function<void()>& queue) {
    auto release = std::make_shared<absl::Notification>();
    auto started = std::make_shared<absl::Notification>();
    ASSERT_TRUE(pool_->TrySubmit([release, started] {
      started->Notify();
      release->WaitForNotification();
    }));
    started->WaitForNotification();
    queue();
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    release->Notify();
  };

  grpc::Status standing, alone, write;
  std::thread client;
  hold_worker_while([&] {
    client = std::thread([&] { standing = Search(Request("sofa")); });
    while (pool_->queued() < 1) std::this_thread::yield();
    ASSERT_TRUE(pool_->TrySubmit([] {}));  // behind the search: the queue does not empty
  });
  client.join();
  EXPECT_EQ(standing.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << standing.error_message();
  EXPECT_EQ(standing.error_message().rfind("server overloaded: waited ", 0), 0u)
      << standing.error_message();
  EXPECT_NE(standing.error_message().find("retry with backoff"), std::string::npos);
  EXPECT_EQ(service_->shed(), 1);
  while (pool_->queued() > 0) std::this_thread::yield();

  hold_worker_while([&] {
    client = std::thread([&] { alone = Search(Request("sofa")); });
    while (pool_->queued() < 1) std::this_thread::yield();
  });
  client.join();
  EXPECT_EQ(alone.error_code(), grpc::StatusCode::UNAVAILABLE) << "run (nothing loaded), not shed";
  EXPECT_EQ(service_->shed(), 1);

  hold_worker_while([&] {
    client = std::thread([&] {
      UpsertListingsRequest up;
      up.add_listings()->set_title("x");
      UpsertListingsResponse ack;
      grpc::ClientContext ctx;
      write = stub_->UpsertListings(&ctx, up, &ack);
    });
    while (pool_->queued() < 1) std::this_thread::yield();
    ASSERT_TRUE(pool_->TrySubmit([] {}));
  });
  client.join();
  EXPECT_EQ(write.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "run, not shed";
  EXPECT_EQ(service_->shed(), 1);
}

TEST_F(GrpcServiceTest, ServerFailuresBecomeNumberedIncidentsWithoutDetails) {
  const grpc::Status a = service_->ToClientStatus(
      absl::InternalError("lexical delta /tmp/marketsearch-lexical-delta-1: Xapian::DatabaseError"),
      "Search");
  EXPECT_EQ(a.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(a.error_message(), "internal error, incident 1 (details in the server log)");
  const grpc::Status b = service_->ToClientStatus(absl::DataLossError("/var/store: corrupt"), "Search");
  EXPECT_EQ(b.error_message(), "internal error, incident 2 (details in the server log)");
  // Client-facing codes keep their message, cut to kMaxStatusMessageBytes on a UTF-8 boundary.
  const grpc::Status c =
      service_->ToClientStatus(absl::InvalidArgumentError("query: " + std::string(1000, '\xc3')), "Search");
  EXPECT_EQ(c.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(c.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_EQ(c.error_message().rfind("query: ", 0), 0u);
}

}  // namespace
}  // namespace marketsearch
