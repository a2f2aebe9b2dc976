// ServerMetrics' exposition, and the admin listener serving it over real HTTP on loopback.
#include "serving/server_metrics.h"

#include <string>

#include "common/http_client.h"
#include "gtest/gtest.h"
#include "serving/admin_server.h"

namespace marketsearch {
namespace {

// The value of the sample line that starts with `series` (exact series text), or -1.
double Sample(const std::string& text, const std::string& series) {
  size_t pos = 0;
  while ((pos = text.find(series + " ", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') return std::stod(text.substr(pos + series.size() + 1));
    ++pos;
  }
  return -1;
}

TEST(ServerMetrics, CountsRpcsShedsStagesAndVersions) {
  ServerMetrics m;
  for (int i = 0; i < 3; ++i) {
    m.RpcStarted();
    m.RpcFinished("Search", absl::StatusCode::kOk, 0.004);
  }
  m.RpcStarted();
  m.RpcFinished("Search", absl::StatusCode::kInvalidArgument, 0.0001);
  m.RpcStarted();  // still in flight
  m.Shed("queue_full");
  SearchRequestStats s;
  s.stage_ms = {{"ann", 0.8}, {"ranker", 0.2}};
  s.ann_candidates = 200;
  s.lexical_candidates = 150;
  s.fused_candidates = 300;
  s.kept_candidates = 290;
  s.results = 10;
  s.match = "none";
  m.SearchDone(s);
  m.ServableLoaded("index", 1.5);
  m.ServableServing("index", 7);
  m.ServableEvent("ranker", "failed");
  m.DeltaSize("ann", 42);

  const std::string t = m.Serialize();
  EXPECT_EQ(Sample(t, "marketsearch_rpcs_total{code=\"OK\",method=\"Search\"}"), 3) << t;
  EXPECT_EQ(Sample(t, "marketsearch_rpcs_total{code=\"INVALID_ARGUMENT\",method=\"Search\"}"), 1);
  EXPECT_EQ(Sample(t, "marketsearch_rpc_duration_seconds_count{method=\"Search\"}"), 4);
  EXPECT_EQ(Sample(t, "marketsearch_rpc_duration_seconds_bucket{method=\"Search\",le=\"0.005\"}"), 4);
  EXPECT_EQ(Sample(t, "marketsearch_rpc_duration_seconds_bucket{method=\"Search\",le=\"0.003\"}"), 1);
  EXPECT_EQ(Sample(t, "marketsearch_rpcs_in_flight"), 1);
  EXPECT_EQ(Sample(t, "marketsearch_shed_total{reason=\"queue_full\"}"), 1);
  EXPECT_EQ(Sample(t, "marketsearch_search_stage_duration_seconds_count{stage=\"ann\"}"), 1);
  EXPECT_NEAR(Sample(t, "marketsearch_search_stage_duration_seconds_sum{stage=\"ann\"}"), 0.0008, 1e-9);
  EXPECT_EQ(Sample(t, "marketsearch_search_candidates_sum{source=\"lexical\"}"), 150);
  EXPECT_EQ(Sample(t, "marketsearch_search_results_sum"), 10);
  EXPECT_EQ(Sample(t, "marketsearch_search_match_total{match=\"none\"}"), 1);
  EXPECT_EQ(t.find("marketsearch_search_match_total{match=\"good\"}"), std::string::npos);
  EXPECT_EQ(Sample(t, "marketsearch_servable_version{kind=\"index\"}"), 7);
  EXPECT_EQ(Sample(t, "marketsearch_servable_load_seconds{kind=\"index\"}"), 1.5);
  EXPECT_EQ(Sample(t, "marketsearch_servable_events_total{event=\"loaded\",kind=\"index\"}"), 1);
  EXPECT_EQ(Sample(t, "marketsearch_servable_events_total{event=\"failed\",kind=\"ranker\"}"), 1);
  EXPECT_EQ(Sample(t, "marketsearch_delta_listings{leg=\"ann\"}"), 42);
  EXPECT_NE(t.find("# HELP marketsearch_rpcs_total"), std::string::npos);
  EXPECT_NE(t.find("# TYPE marketsearch_rpc_duration_seconds histogram"), std::string::npos);
}

TEST(AdminServer, ServesMetricsOnAFreeLoopbackPort) {
  ServerMetrics m;
  m.RpcStarted();
  m.RpcFinished("Search", absl::StatusCode::kOk, 0.002);
  AdminServer admin;
  admin.Handle("/metrics", [&m](const std::string&, const std::string&) {
    AdminServer::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = m.Serialize();
    return r;
  });
  admin.Handle("/healthz", [](const std::string&, const std::string&) {
    return AdminServer::Response{503, "text/plain", "NOT_SERVING\n"};
  });
  ASSERT_TRUE(admin.Start("127.0.0.1:0").ok());
  ASSERT_GT(admin.port(), 0);
  int status = 0;
  const std::string body = HttpGet(admin.port(), "/metrics", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(Sample(body, "marketsearch_rpcs_total{code=\"OK\",method=\"Search\"}"), 1) << body;
  EXPECT_EQ(HttpGet(admin.port(), "/healthz", &status), "NOT_SERVING\n");
  EXPECT_EQ(status, 503);
  HttpGet(admin.port(), "/nothing", &status);
  EXPECT_EQ(status, 404);

  // A second listener on the same port is refused with the address named.
  AdminServer again;
  const absl::Status s = again.Start("127.0.0.1:" + std::to_string(admin.port()));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(std::to_string(admin.port())), absl::string_view::npos);
}

}  // namespace
}  // namespace marketsearch
