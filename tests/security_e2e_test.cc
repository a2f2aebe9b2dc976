// Safe defaults of the real server on a loopback port (issue 16): gRPC over TLS with a
// self-signed pair the test makes (openssl), write RPCs that need the configured bearer token,
// a request size limit, and start-up refusals of a weak token file or half a TLS pair. The
// server runs on an empty data directory: none of this needs a catalog.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/search.grpc.pb.h"
#include "tests/health.grpc.pb.h"
#include "tests/server_fixture.h"

namespace marketsearch {
namespace {

constexpr char kToken[] = "e2e-write-token-7f3a9c1b";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SecurityE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TestTmpDir() + "/security");
    ASSERT_EQ(std::system(("mkdir -p " + *dir_ + "/data").c_str()), 0);
    {
      std::ofstream(*dir_ + "/write.token") << kToken << "\n";
    }
    const std::string openssl = absl::StrCat(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost ",
        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ", *dir_, "/key.pem -out ",
        *dir_, "/cert.pem > ", *dir_, "/openssl.log 2>&1");
    ASSERT_EQ(std::system(openssl.c_str()), 0) << ReadAll(*dir_ + "/openssl.log");
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start(*dir_ + "/data", 120,
                               {"--write_token_file=" + *dir_ + "/write.token",
                                "--tls_cert_file=" + *dir_ + "/cert.pem",
                                "--tls_key_file=" + *dir_ + "/key.pem", "--max_request_bytes=65536",
                                "--log_impressions=false"}))
        << server_->Log();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  static std::shared_ptr<grpc::Channel> TlsChannel() {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadAll(*dir_ + "/cert.pem");
    return grpc::CreateChannel(server_->target(), grpc::SslCredentials(tls));
  }
  static std::unique_ptr<MarketSearch::Stub> Stub() { return MarketSearch::NewStub(TlsChannel()); }
  static void Deadline(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  static std::string* dir_;
  static ServerProcess* server_;
};
std::string* SecurityE2E::dir_ = nullptr;
ServerProcess* SecurityE2E::server_ = nullptr;

TEST_F(SecurityE2E, ServesTlsOnlyAndVerifiesWithTheCertificate) {
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    auto health = grpc::health::v1::Health::NewStub(TlsChannel());
    const grpc::Status s = health->Check(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  }
  {
    // A plaintext client does not get through the TLS port.
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    auto health = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials()));
    EXPECT_FALSE(health->Check(&ctx, req, &resp).ok());
  }
  {
    // Nor does a TLS client that trusts another certificate (the system roots).
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    auto health = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(server_->target(), grpc::SslCredentials(grpc::SslCredentialsOptions())));
    EXPECT_FALSE(health->Check(&ctx, req, &resp).ok());
  }
}

TEST_F(SecurityE2E, WritesNeedTheBearerTokenAndNeverEchoIt) {
  auto stub = Stub();
  UpsertListingsRequest upsert;
  Listing* l = upsert.add_listings();
  *l = FreshListing(990001, "zorblax test sofa");
  DeleteListingsRequest del;
  del.add_listing_ids(990001);
  for (const std::string& header : {std::string(), std::string("Bearer not-the-token-0000000"),
                                    std::string(kToken)}) {
    grpc::ClientContext up_ctx, del_ctx;
    Deadline(&up_ctx);
    Deadline(&del_ctx);
    if (!header.empty()) {
      up_ctx.AddMetadata("authorization", header);
      del_ctx.AddMetadata("authorization", header);
    }
    UpsertListingsResponse up_resp;
    DeleteListingsResponse del_resp;
    const grpc::Status up = stub->UpsertListings(&up_ctx, upsert, &up_resp);
    const grpc::Status dl = stub->DeleteListings(&del_ctx, del, &del_resp);
    for (const grpc::Status& s : {up, dl}) {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << header << ": " << s.error_message();
      EXPECT_EQ(s.error_message().rfind("authorization: ", 0), 0u) << s.error_message();
      EXPECT_EQ(s.error_message().find(kToken), std::string::npos);
      EXPECT_EQ(s.error_message().find("not-the-token"), std::string::npos);
    }
  }
  // With the token: past the check (the upsert is accepted, then the delete).
  grpc::ClientContext up_ctx, del_ctx;
  Deadline(&up_ctx);
  Deadline(&del_ctx);
  up_ctx.AddMetadata("authorization", std::string("Bearer ") + kToken);
  del_ctx.AddMetadata("authorization", std::string("bearer ") + kToken);
  UpsertListingsResponse up_resp;
  DeleteListingsResponse del_resp;
  const grpc::Status up = stub->UpsertListings(&up_ctx, upsert, &up_resp);
  EXPECT_NE(up.error_code(), grpc::StatusCode::UNAUTHENTICATED) << up.error_message();
  const grpc::Status dl = stub->DeleteListings(&del_ctx, del, &del_resp);
  EXPECT_NE(dl.error_code(), grpc::StatusCode::UNAUTHENTICATED) << dl.error_message();
  // Reads need none.
  grpc::ClientContext search_ctx;
  Deadline(&search_ctx);
  SearchRequest search;
  search.set_query("sofa");
  SearchResponse search_resp;
  const grpc::Status s = stub->Search(&search_ctx, search, &search_resp);
  EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
}

TEST_F(SecurityE2E, AnOversizedRequestIsRefusedAndTheServerStays) {
  auto stub = Stub();
  grpc::ClientContext ctx;
  Deadline(&ctx);
  SearchRequest search;
  search.set_query(std::string(100000, 'a'));  // above --max_request_bytes=65536
  SearchResponse resp;
  const grpc::Status s = stub->Search(&ctx, search, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(server_->Alive());
  grpc::ClientContext again;
  Deadline(&again);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse hr;
  EXPECT_TRUE(grpc::health::v1::Health::NewStub(TlsChannel())->Check(&again, req, &hr).ok());
}

// A token file too weak to be a secret, or half a TLS pair, stops the start with a message
// naming the flag (and not the file's contents).
TEST_F(SecurityE2E, UnsafeSettingsStopTheStart) {
  std::ofstream(*dir_ + "/weak.token") << "hunter2\n";
  struct Case {
    std::vector<std::string> args;
    std::string says;
  } cases[] = {
      {{"--write_token_file=" + *dir_ + "/weak.token"}, "--write_token_file"},
      {{"--tls_cert_file=" + *dir_ + "/cert.pem"}, "give both or neither"},
      {{"--tls_cert_file=" + *dir_ + "/cert.pem", "--tls_key_file=" + *dir_ + "/missing.pem"},
       "--tls_key_file"},
  };
  int n = 0;
  for (const Case& c : cases) {
    ServerProcess p;
    std::vector<std::string> args = c.args;
    args.push_back("--log_impressions=false");
    args.push_back("--store_mode=secondary");  // the suite's server holds the store
    EXPECT_FALSE(p.Start(*dir_ + "/data", 60, args, absl::StrCat("refused", n++)));
    const std::string log = p.Log();
    EXPECT_NE(log.find(c.says), std::string::npos) << log;
    EXPECT_EQ(log.find("hunter2"), std::string::npos) << log;
  }
}

}  // namespace
}  // namespace marketsearch
