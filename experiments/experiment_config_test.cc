#include "experiments/experiment_config.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "experiments/stats.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace marketsearch {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'800'000'000;

// Two layers: ranking (one 50/50 experiment over the whole layer) and retrieval (an
// experiment over the first 40% of its users).
constexpr char kConfig[] = R"pb(
  layers {
    name: "ranking"
    experiments {
      key: "ranker-vs-fused"
      range_begin: 0 range_end: 1
      start_unix_s: 1700000000
      primary_metric: "ndcg10"
      planned_users_per_arm: 1000
      arms { name: "fused" weight: 0.5 overrides { use_ranker: false } }
      arms { name: "ranker" weight: 0.5 overrides { use_ranker: true rank_depth: 200 } }
    }
  }
  layers {
    name: "retrieval"
    experiments {
      key: "fusion-weight"
      range_begin: 0 range_end: 0.4
      start_unix_s: 1700000000
      arms { name: "control" weight: 0.75 }
      arms { name: "more-ann" weight: 0.25 overrides { fusion_ann_weight: 0.9 } }
    }
  }
)pb";

std::shared_ptr<const ExperimentSet> MustParse(const std::string& text,
                                               const ExperimentSet* previous = nullptr) {
  auto set = ExperimentSet::Parse(text, "test", previous, kNow);
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? *set : nullptr;
}

std::string ParseError(const std::string& text, const ExperimentSet* previous = nullptr,
                       const ExperimentSet::RankerVersionCheck& check = nullptr) {
  auto set = ExperimentSet::Parse(text, "test", previous, kNow, check);
  EXPECT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(set.status().message());
}

// The reference's test vector: salt "ranker-v2", id "user-123": h = 3759245045,
// FNV1a32("3759245045") = 954123977, u = 0.3977.
TEST(ExperimentConfigTest, GrowthBookHashTestVector) {
  EXPECT_EQ(Fnv1a32("ranker-v2user-123"), 3759245045u);
  EXPECT_EQ(Fnv1a32("3759245045"), 954123977u);
  EXPECT_DOUBLE_EQ(HashToUnit("ranker-v2", "user-123"), 0.3977);
}

TEST(ExperimentConfigTest, HashIsUniform) {
  std::vector<int64_t> bins(100, 0);
  for (int i = 0; i < 100000; ++i) ++bins[static_cast<int>(HashToUnit("salt", absl::StrCat(i)) * 100)];
  const std::vector<double> weights(100, 1.0);
  const stats::SrmResult r = stats::CheckSampleRatio(bins, weights);
  EXPECT_GT(r.p_value, 0.001) << "chi2 " << r.chi2;
}

TEST(ExperimentConfigTest, ArmsFollowTheWeightsAndLayersAreIndependent) {
  auto set = MustParse(kConfig);
  ASSERT_NE(set, nullptr);
  std::map<std::string, int> arms;
  std::map<std::pair<std::string, std::string>, int> joint;
  const int n = 40000;
  for (int user = 1; user <= n; ++user) {
    const std::vector<ArmAssignment> a = set->Assign(absl::StrCat(user), kNow);
    ASSERT_GE(a.size(), 1u);
    ASSERT_EQ(a[0].layer, "ranking");  // covers every user
    ++arms[a[0].arm];
    if (a.size() == 2) {
      EXPECT_EQ(a[1].experiment, "fusion-weight");
      ++arms[a[1].arm];
      ++joint[{a[0].arm, a[1].arm}];
    }
    // Deterministic.
    EXPECT_EQ(set->Assign(absl::StrCat(user), kNow)[0].arm, a[0].arm);
  }
  const std::vector<int64_t> ranking = {arms["fused"], arms["ranker"]};
  EXPECT_FALSE(stats::CheckSampleRatio(ranking, std::vector<double>{0.5, 0.5}).mismatch);
  const int in_retrieval = arms["control"] + arms["more-ann"];
  EXPECT_NEAR(in_retrieval, 0.4 * n, 0.4 * n * 0.05);
  const std::vector<int64_t> retrieval = {arms["control"], arms["more-ann"]};
  EXPECT_FALSE(stats::CheckSampleRatio(retrieval, std::vector<double>{0.75, 0.25}).mismatch);
  // Independence of the two layers: each ranking arm splits 75/25 in the retrieval layer.
  for (const char* r : {"fused", "ranker"}) {
    const std::vector<int64_t> split = {joint[{r, "control"}], joint[{r, "more-ann"}]};
    EXPECT_FALSE(stats::CheckSampleRatio(split, std::vector<double>{0.75, 0.25}).mismatch) << r;
  }
}

TEST(ExperimentConfigTest, OverridesAndForcedArms) {
  auto set = MustParse(kConfig);
  ASSERT_NE(set, nullptr);
  const absl::flat_hash_map<std::string, std::string> forced = {{"ranker-vs-fused", "ranker"},
                                                                {"no-such", "x"}};
  for (int user = 1; user <= 50; ++user) {
    const std::vector<ArmAssignment> a = set->Assign(absl::StrCat(user), kNow, &forced);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a[0].arm, "ranker");
    EXPECT_EQ(a[0].arm_index, 1);
    EXPECT_TRUE(a[0].forced);
    ASSERT_NE(a[0].overrides, nullptr);
    EXPECT_TRUE(a[0].overrides->use_ranker());
    EXPECT_EQ(a[0].overrides->rank_depth(), 200);
    for (size_t i = 1; i < a.size(); ++i) EXPECT_FALSE(a[i].forced);
  }
  // Before the start or after the stop nothing is assigned.
  EXPECT_TRUE(set->Assign("7", 1600000000).empty());
}

TEST(ExperimentConfigTest, ErrorsNameTheFieldAndTheExperiment) {
  EXPECT_THAT(ParseError("layers { name: \"r\" nonsense: 1 }"), HasSubstr("nonsense"));
  EXPECT_THAT(ParseError(R"pb(layers { name: "r" experiments { key: "e" range_end: 1
                 arms { name: "a" weight: 0.5 } arms { name: "b" weight: 0.6 } } })pb"),
              HasSubstr("experiment 'e': arm weights sum to 1.1"));
  EXPECT_THAT(ParseError(R"pb(layers { name: "r" experiments { key: "e" range_end: 1
                 arms { name: "a" weight: 1 } } })pb"),
              HasSubstr("1 arms"));
  EXPECT_THAT(ParseError(R"pb(layers { name: "r" experiments { key: "e" range_end: 1
                 arms { name: "a" weight: 0.5 }
                 arms { name: "b" weight: 0.5 overrides { retrieval_mode: "bm25" } } } })pb"),
              HasSubstr("arm 'b'.overrides.retrieval_mode: 'bm25'"));
  EXPECT_THAT(ParseError(R"pb(layers { name: "r" experiments { key: "e" range_end: 1.5
                 arms { name: "a" weight: 0.5 } arms { name: "b" weight: 0.5 } } })pb"),
              HasSubstr("range [0, 1.5)"));
  EXPECT_THAT(ParseError(R"pb(layers { name: "r"
                 experiments { key: "e1" range_end: 0.6
                   arms { name: "a" weight: 0.5 } arms { name: "b" weight: 0.5 } }
                 experiments { key: "e2" range_begin: 0.5 range_end: 1
                   arms { name: "a" weight: 0.5 } arms { name: "b" weight: 0.5 } } })pb"),
              HasSubstr("overlaps experiment 'e1'"));
  // Overlapping ranges one after the other in time are fine.
  MustParse(R"pb(layers { name: "r"
                 experiments { key: "e1" range_end: 1 stop_unix_s: 1700000000
                   arms { name: "a" weight: 0.5 } arms { name: "b" weight: 0.5 } }
                 experiments { key: "e2" range_end: 1 start_unix_s: 1700000000
                   arms { name: "a" weight: 0.5 } arms { name: "b" weight: 0.5 } } })pb");
  EXPECT_THAT(ParseError(R"pb(layers { name: "r" experiments { key: "e" range_end: 1 type: INTERLEAVING
                 arms { name: "a" weight: 0.4 } arms { name: "b" weight: 0.3 }
                 arms { name: "c" weight: 0.3 } } })pb"),
              HasSubstr("exactly 2 arms"));
  EXPECT_THAT(ParseError(R"pb(layers { name: "R!" })pb"), HasSubstr("layer 'R!'"));
  EXPECT_THAT(ParseError(R"pb(layers { name: "r" } layers { name: "r" })pb"),
              HasSubstr("second layer"));
  // A ranker version the server cannot load.
  const auto loadable = [](int64_t v) {
    return v == 1 ? absl::OkStatus() : absl::NotFoundError(absl::StrCat("no ranker v", v));
  };
  EXPECT_THAT(ParseError(R"pb(layers { name: "r" experiments { key: "e" range_end: 1
                 arms { name: "a" weight: 0.5 overrides { ranker_version: 1 } }
                 arms { name: "b" weight: 0.5 overrides { ranker_version: 7 } } } })pb",
                         nullptr, loadable),
              HasSubstr("arm 'b'.overrides.ranker_version: 7 cannot be loaded: no ranker v7"));
}

TEST(ExperimentConfigTest, ARunningExperimentCannotChangeItsWeights) {
  auto first = MustParse(kConfig);
  ASSERT_NE(first, nullptr);
  std::string changed = kConfig;
  changed.replace(changed.find("weight: 0.75"), 12, "weight: 0.50");
  changed.replace(changed.find("weight: 0.25"), 12, "weight: 0.50");
  EXPECT_THAT(ParseError(changed, first.get()), HasSubstr("'fusion-weight' is running"));
  // Unchanged: accepted. Removing it (stopping it) is accepted too.
  MustParse(kConfig, first.get());
  std::string removed = kConfig;
  removed = removed.substr(0, removed.find("  layers {\n    name: \"retrieval\""));
  MustParse(removed, first.get());
  // The same change to an experiment that has not started yet is fine.
  std::string later = kConfig;
  later.replace(later.rfind("start_unix_s: 1700000000"), 24, "start_unix_s: 1900000000");
  auto future = MustParse(later);
  ASSERT_NE(future, nullptr);
  std::string later_changed = later;
  later_changed.replace(later_changed.find("weight: 0.75"), 12, "weight: 0.50");
  later_changed.replace(later_changed.find("weight: 0.25"), 12, "weight: 0.50");
  MustParse(later_changed, future.get());
}

TEST(ExperimentConfigTest, RankerVersionsNeeded) {
  auto set = MustParse(R"pb(layers { name: "r" experiments { key: "e" range_end: 1
                 arms { name: "a" weight: 0.5 overrides { ranker_version: 3 } }
                 arms { name: "b" weight: 0.5 overrides { ranker_version: 4 } } } })pb");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->RankerVersionsNeeded(kNow), (std::vector<int64_t>{3, 4}));
  EXPECT_NE(set->Find("e"), nullptr);
  EXPECT_EQ(set->Find("x"), nullptr);
}

}  // namespace
}  // namespace marketsearch
