// The gRPC service on a real in-process server on a loopback port, without any loaded model:
// what a client sees for overload, bad bytes, nothing loaded and server-side failures.
#include "serving/grpc_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
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
    RequestPool::Options po;
    po.threads = 1;
    po.max_queued = 1;
    pool_ = std::make_unique<RequestPool>(po);
    searcher_ = std::make_unique<Searcher>(Searcher::Options(), nullptr, &ann_, &lexical_);
    service_ = std::make_unique<MarketSearchService>(searcher_.get(), pool_.get(),
                                                     MarketSearchService::Options());
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
