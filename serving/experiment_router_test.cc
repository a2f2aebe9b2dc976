#include "serving/experiment_router.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'800'000'000;

constexpr char kConfig[] = R"pb(
  layers {
    name: "ranking"
    experiments {
      key: "ranker-vs-fused" range_begin: 0 range_end: 1 start_unix_s: 1700000000
      arms { name: "fused" weight: 0.5 overrides { use_ranker: false } }
      arms { name: "ranker" weight: 0.5 overrides { use_ranker: true rank_depth: 120 } }
    }
  }
  layers {
    name: "retrieval"
    experiments {
      key: "fusion" range_begin: 0 range_end: 1 start_unix_s: 1700000000
      arms { name: "control" weight: 0.5 }
      arms { name: "lexical" weight: 0.5
             overrides { retrieval_mode: "lexical_only" fusion_ann_weight: 0.2 min_candidates: 300 } }
    }
  }
)pb";

class ExperimentRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / absl::StrCat("router_", ::getpid());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "experiments.textproto").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<ExperimentRouter> MakeRouter(bool allow_forced = false) {
    ExperimentRouter::Options o;
    o.config_path = path_;
    o.allow_forced_arms = allow_forced;
    o.token_key = "0123456789abcdef0123456789abcdef";
    auto r = ExperimentRouter::Create(o);
    EXPECT_TRUE(r.ok()) << r.status();
    return *std::move(r);
  }
  void Write(const std::string& text) {
    ASSERT_TRUE(WriteFileAtomically(path_, text).ok());
    // A new modification time even on filesystems with coarse timestamps.
    std::filesystem::last_write_time(
        path_, std::filesystem::file_time_type::clock::now() + std::chrono::seconds(++bumps_));
  }

  std::filesystem::path dir_;
  std::string path_;
  int bumps_ = 0;
};

TEST_F(ExperimentRouterTest, NoFileNoExperiments) {
  auto router = MakeRouter();
  EXPECT_TRUE(router->Reload(kNow).ok());
  SearchRequest req;
  req.set_user_id(5);
  Searcher::Options base;
  auto route = router->RouteRequest(req, base, kNow);
  ASSERT_TRUE(route.ok());
  EXPECT_TRUE(route->arms.empty());
  SearchResponse resp;
  router->Annotate(*route, &resp);
  EXPECT_EQ(resp.arms_size(), 0);
  EXPECT_TRUE(resp.attribution_token().empty());
}

TEST_F(ExperimentRouterTest, ArmsSetTheRequestsOptions) {
  Write(kConfig);
  auto router = MakeRouter();
  ASSERT_TRUE(router->Reload(kNow).ok());
  EXPECT_EQ(router->loads(), 1);
  Searcher::Options base;
  base.use_ranker = true;
  base.rank_depth = 200;
  int ranker = 0, lexical = 0;
  for (uint64_t user = 1; user <= 400; ++user) {
    SearchRequest req;
    req.set_user_id(user);
    auto route = router->RouteRequest(req, base, kNow);
    ASSERT_TRUE(route.ok());
    ASSERT_EQ(route->arms.size(), 2u);
    const bool is_ranker = route->arms[0].arm == "ranker";
    ranker += is_ranker;
    EXPECT_EQ(route->options.use_ranker, is_ranker);
    EXPECT_EQ(route->options.rank_depth, is_ranker ? 120 : 200);
    const bool is_lexical = route->arms[1].arm == "lexical";
    lexical += is_lexical;
    EXPECT_EQ(route->options.mode == RetrievalMode::kLexicalOnly, is_lexical);
    EXPECT_DOUBLE_EQ(route->options.fusion.ann_weight, is_lexical ? 0.2 : base.fusion.ann_weight);
    EXPECT_EQ(route->options.min_candidates, is_lexical ? 300 : base.min_candidates);
  }
  EXPECT_GT(ranker, 150);
  EXPECT_LT(ranker, 250);
  EXPECT_GT(lexical, 150);
  EXPECT_LT(lexical, 250);
  // An anonymous buyer with an id is enrolled; one without is not.
  SearchRequest anon;
  anon.set_anonymous_id("cookie-42");
  EXPECT_EQ(router->RouteRequest(anon, base, kNow)->arms.size(), 2u);
  SearchRequest nobody;
  EXPECT_TRUE(router->RouteRequest(nobody, base, kNow)->arms.empty());
}

TEST_F(ExperimentRouterTest, ABadFileKeepsThePreviousSetAndIsReportedOnce) {
  Write(kConfig);
  auto router = MakeRouter();
  ASSERT_TRUE(router->Reload(kNow).ok());
  const auto first = router->current();
  Write("layers { name: \"ranking\" bogus_field: 1 }");
  const absl::Status s = router->Reload(kNow);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("bogus_field"));
  EXPECT_EQ(router->current(), first);
  EXPECT_TRUE(router->Reload(kNow).ok());  // unchanged file: not reloaded, not re-reported
  EXPECT_EQ(router->loads(), 1);
  // Changing a running experiment's weights is refused the same way.
  std::string changed = kConfig;
  changed.replace(changed.find("weight: 0.5"), 11, "weight: 0.6");
  changed.replace(changed.find("weight: 0.5"), 11, "weight: 0.4");
  Write(changed);
  EXPECT_THAT(std::string(router->Reload(kNow).message()), HasSubstr("is running"));
  EXPECT_EQ(router->current(), first);
  // A valid change (a new experiment in a new layer) loads.
  Write(std::string(kConfig) + R"pb(layers { name: "rules" experiments { key: "fresh"
      range_end: 1 arms { name: "off" weight: 0.5 } arms { name: "on" weight: 0.5
      overrides { fresh_boost: 0.5 } } } })pb");
  EXPECT_TRUE(router->Reload(kNow).ok());
  EXPECT_EQ(router->loads(), 2);
  EXPECT_NE(router->current(), first);
}

TEST_F(ExperimentRouterTest, ForcedArmsOnlyWhenEnabled) {
  Write(kConfig);
  SearchRequest req;
  req.set_user_id(9);
  (*req.mutable_force_arms())["ranker-vs-fused"] = "fused";
  auto closed = MakeRouter(false);
  ASSERT_TRUE(closed->Reload(kNow).ok());
  auto refused = closed->RouteRequest(req, Searcher::Options(), kNow);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("force_arms"));
  auto open = MakeRouter(true);
  ASSERT_TRUE(open->Reload(kNow).ok());
  auto route = open->RouteRequest(req, Searcher::Options(), kNow);
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->arms[0].arm, "fused");
  EXPECT_TRUE(route->arms[0].forced);
  EXPECT_FALSE(route->options.use_ranker);
}

TEST_F(ExperimentRouterTest, InterleavingGivesBothArmsOptions) {
  Write(R"pb(layers { name: "ranking" experiments { key: "il" type: INTERLEAVING range_end: 1
      arms { name: "ranker" weight: 0.5 overrides { use_ranker: true rank_depth: 50 } }
      arms { name: "fused" weight: 0.5 overrides { use_ranker: false } } } }
    layers { name: "retrieval" experiments { key: "depth" range_end: 1
      arms { name: "a" weight: 0.5 overrides { min_candidates: 300 } }
      arms { name: "b" weight: 0.5 overrides { min_candidates: 300 } } } })pb");
  auto router = MakeRouter();
  ASSERT_TRUE(router->Reload(kNow).ok());
  SearchRequest req;
  req.set_user_id(3);
  auto route = router->RouteRequest(req, Searcher::Options(), kNow);
  ASSERT_TRUE(route.ok());
  ASSERT_TRUE(route->interleave);
  EXPECT_EQ(route->arms[0].arm, "interleaved");
  EXPECT_TRUE(route->interleave_a.use_ranker);
  EXPECT_EQ(route->interleave_a.rank_depth, 50);
  EXPECT_FALSE(route->interleave_b.use_ranker);
  // The other layer's overrides apply to both rankings.
  EXPECT_EQ(route->interleave_a.min_candidates, 300);
  EXPECT_EQ(route->interleave_b.min_candidates, 300);
}

TEST_F(ExperimentRouterTest, AttributionTokensVerifyAndRefuseForgeries) {
  Write(kConfig);
  auto router = MakeRouter();
  ASSERT_TRUE(router->Reload(kNow).ok());
  SearchRequest req;
  req.set_user_id(77);
  auto route = router->RouteRequest(req, Searcher::Options(), kNow);
  ASSERT_TRUE(route.ok());
  SearchResponse resp;
  resp.set_request_id("abc123");
  router->Annotate(*route, &resp);
  ASSERT_EQ(resp.arms_size(), 2);
  ASSERT_FALSE(resp.attribution_token().empty());
  auto arms = router->VerifyToken(resp.attribution_token(), "abc123");
  ASSERT_TRUE(arms.ok()) << arms.status();
  ASSERT_EQ(arms->size(), 2u);
  EXPECT_EQ((*arms)[0].experiment(), "ranker-vs-fused");
  EXPECT_EQ((*arms)[0].arm(), resp.arms(0).arm());
  // Another request id, an altered token, garbage, another key: refused.
  EXPECT_THAT(std::string(router->VerifyToken(resp.attribution_token(), "other").status().message()),
              HasSubstr("another request_id"));
  std::string altered = resp.attribution_token();
  altered[2] = altered[2] == 'A' ? 'B' : 'A';
  EXPECT_THAT(std::string(router->VerifyToken(altered, "abc123").status().message()),
              HasSubstr("does not verify"));
  EXPECT_FALSE(router->VerifyToken("garbage", "abc123").ok());
  ExperimentRouter::Options o;
  o.token_key = "another-key-of-16-bytes";
  auto other = ExperimentRouter::Create(o);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE((*other)->VerifyToken(resp.attribution_token(), "abc123").ok());
}

TEST_F(ExperimentRouterTest, TokenKeyIsCreatedOnceAndKept) {
  const std::string key_path = (dir_ / "token.key").string();
  auto k1 = LoadOrCreateTokenKey(key_path);
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(k1->size(), 32u);
  auto k2 = LoadOrCreateTokenKey(key_path);
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(*k1, *k2);
  ASSERT_TRUE(WriteFileAtomically(key_path, "short").ok());
  EXPECT_EQ(LoadOrCreateTokenKey(key_path).status().code(), absl::StatusCode::kDataLoss);
  ExperimentRouter::Options o;
  o.token_key = "short";
  EXPECT_EQ(ExperimentRouter::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marketsearch
