// Ranker against real artifacts written by the Python exporter (ranking/train/make_test_ranker.py
// → train_ranker.write_artifact → common/model_artifact.py): AOTInductor packages and the
// TorchScript fallback.
#include "ranking/ranker.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/file_util.h"
#include "common/float_matrix.h"
#include "features/featurizer.h"
#include "features/npy_io.h"
#include "gtest/gtest.h"
#include "ranking/ranking_features.h"

namespace marketsearch {
namespace {

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp");
}

std::string Runfile(const std::string& path) {
  const char* s = std::getenv("TEST_SRCDIR");
  return std::string(s ? s : ".") + "/marketsearch/" + path;
}

// Writes <models_dir>/ranker/<version> with the given knobs; returns the directory.
std::string MakeArtifact(const std::string& models_dir, int version, const std::string& extra = "",
                         int seed = 0) {
  const std::string cmd = absl::StrCat(Runfile("third_party/python"), " ", Runfile("ranking/train/make_test_ranker.py"), " --models_dir=", models_dir,
                                       " --version=", version, " --featurizer_version=",
                                       kFeaturizerVersion, " --feature_dim=", kRankingFeatureDim,
                                       " --ranking_feature_version=", kRankingFeatureVersion,
                                       " --seed=", seed, " ", extra,
                                       " > /dev/null");
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return absl::StrCat(models_dir, "/ranker/", version);
}

FloatMatrix Fixture(const std::string& dir, std::vector<float>* scores) {
  auto x = ReadNpy(dir + "/parity_features.npy");
  auto s = ReadNpy(dir + "/parity_scores.npy");
  EXPECT_TRUE(x.ok() && s.ok());
  FloatMatrix m;
  m.rows = x->shape[0];
  m.cols = x->shape[1];
  m.data = x->AsFloat32();
  *scores = s->AsFloat32();
  return m;
}

Ranker::Options Opts(const std::string& dir) {
  Ranker::Options o;
  o.dir = dir;
  o.warmup_batch_sizes = {1, 7};
  return o;
}

// The suite's artifact carries both formats (one AOTInductor compile, ~20 s): the tests run
// the served format (AOTInductor), one of them the TorchScript fallback too.
class RankerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = new std::string(TmpDir() + "/models_basic");
    MakeArtifact(*models_, 1, "--format=aoti");
  }
  static std::string* models_;
};
std::string* RankerTest::models_ = nullptr;

TEST_F(RankerTest, ScoresEqualPythonEagerInOneBatchAndPerRow) {
  const std::string dir = *models_ + "/ranker/1";
  auto r = Ranker::Load(Opts(dir));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->manifest().format(), "aoti");
  EXPECT_EQ((*r)->version(), 1);
  EXPECT_EQ((*r)->listing_tower_version(), 1);
  EXPECT_GT((*r)->mflops_per_candidate(), 0.0);
  std::vector<float> want;
  FloatMatrix x = Fixture(dir, &want);
  ASSERT_EQ(x.cols, kRankingFeatureDim);
  auto got = (*r)->Score(x);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR((*got)[i], want[i], 1e-5) << "row " << i;
  // A candidate's score does not depend on the rest of the batch.
  for (int64_t row : {0L, 17L, x.rows - 1}) {
    FloatMatrix one;
    one.rows = 1;
    one.cols = x.cols;
    one.data.assign(x.row(row), x.row(row) + x.cols);
    auto s = (*r)->Score(one);
    ASSERT_TRUE(s.ok());
    EXPECT_NEAR((*s)[0], want[row], 1e-5);
  }
}

TEST_F(RankerTest, BadInputsAreInvalidArgument) {
  auto r = Ranker::Load(Opts(*models_ + "/ranker/1"));
  ASSERT_TRUE(r.ok()) << r.status();
  FloatMatrix empty;
  empty.cols = kRankingFeatureDim;
  auto e = (*r)->Score(empty);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->empty());
  FloatMatrix narrow;
  narrow.rows = 2;
  narrow.cols = kRankingFeatureDim - 1;
  narrow.data.assign(2 * narrow.cols, 0.0f);
  auto n = (*r)->Score(narrow);
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(n.status().message().find("features"), absl::string_view::npos);
  FloatMatrix short_data;
  short_data.rows = 3;
  short_data.cols = kRankingFeatureDim;
  short_data.data.assign(kRankingFeatureDim, 0.0f);
  EXPECT_EQ((*r)->Score(short_data).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RankerTest, ConcurrentScoresAreIdentical) {
  auto r = Ranker::Load(Opts(*models_ + "/ranker/1"));
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<float> want;
  FloatMatrix x = Fixture(*models_ + "/ranker/1", &want);
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 20; ++k) {
        auto s = (*r)->Score(x);
        if (!s.ok()) {
          ++bad[t];
          continue;
        }
        for (size_t i = 0; i < want.size(); ++i) bad[t] += std::fabs((*s)[i] - want[i]) > 1e-5;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(bad[t], 0) << "thread " << t;
}

TEST(RankerLoadTest, RefusesAnotherFeatureWidth) {
  const std::string models = TmpDir() + "/models_width";
  const std::string dir = MakeArtifact(models, 1, "--feature_dim=50");
  auto r = Ranker::Load(Opts(dir));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("50"), absl::string_view::npos) << r.status();
  EXPECT_NE(r.status().message().find(absl::StrCat(kRankingFeatureDim)), absl::string_view::npos);
}

TEST(RankerLoadTest, RefusesAnotherFeatureVersion) {
  const std::string models = TmpDir() + "/models_fv";
  const std::string dir = MakeArtifact(models, 1, "--ranking_feature_version=99");
  auto r = Ranker::Load(Opts(dir));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("99"), absl::string_view::npos) << r.status();
}

TEST(RankerLoadTest, MissingAndCorruptArtifacts) {
  EXPECT_EQ(Ranker::Load(Opts(TmpDir() + "/nothing/here")).status().code(),
            absl::StatusCode::kNotFound);
  const std::string models = TmpDir() + "/models_corrupt";
  const std::string dir = MakeArtifact(models, 1);
  {
    std::ofstream f(dir + "/model.pt", std::ios::app | std::ios::binary);
    f << "x";
  }
  EXPECT_EQ(Ranker::Load(Opts(dir)).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(RankerTest, TheTorchScriptFallbackScoresTheSame) {
  const std::string dir = *models_ + "/ranker/1";
  Ranker::Options o = Opts(dir);
  o.format = "torchscript";
  auto r = Ranker::Load(o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<float> want;
  FloatMatrix x = Fixture(dir, &want);
  auto got = (*r)->Score(x);
  ASSERT_TRUE(got.ok()) << got.status();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR((*got)[i], want[i], 1e-5) << "row " << i;
  o.format = "onnx";
  EXPECT_EQ(Ranker::Load(o).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Rewrites one file of a copy of the artifact and its checksum in the MANIFEST: a package that
// verifies but is not what it claims (for the refusals below).
std::string CopyWithFile(const std::string& from, const std::string& to, const std::string& name,
                         const std::string& manifest_edit_from = "",
                         const std::string& manifest_edit_to = "") {
  std::filesystem::remove_all(to);
  std::filesystem::create_directories(std::filesystem::path(to).parent_path());
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  std::string manifest = *ReadFile(to + "/MANIFEST");
  if (!name.empty()) {
    auto arr = ReadNpy(to + "/" + name);
    EXPECT_TRUE(arr.ok());
    std::vector<float> v = arr->AsFloat32();
    for (float& f : v) f += 0.5f;  // what a miscompiled kernel would return
    EXPECT_TRUE(WriteNpy(to + "/" + name, v, arr->shape).ok());
    const std::string old_sum = *Sha256File(from + "/" + name);
    manifest = absl::StrReplaceAll(manifest, {{old_sum, *Sha256File(to + "/" + name)}});
  }
  if (!manifest_edit_from.empty()) {
    manifest = absl::StrReplaceAll(manifest, {{manifest_edit_from, manifest_edit_to}});
  }
  EXPECT_TRUE(WriteFileAtomically(to + "/MANIFEST", manifest).ok());
  return to;
}

TEST_F(RankerTest, APackageThatFailsItsLoadCheckIsRefused) {
  const std::string dir = CopyWithFile(*models_ + "/ranker/1", TmpDir() + "/models_badcheck/ranker/1",
                                       "load_check_output.npy");
  auto r = Ranker::Load(Opts(dir));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("load check"), absl::string_view::npos) << r.status();
}

TEST_F(RankerTest, APackageForACpuTargetThisServerCannotCheckIsRefused) {
  const std::string dir = CopyWithFile(*models_ + "/ranker/1", TmpDir() + "/models_march/ranker/1", "",
                                       "aoti_march: \"x86-64-v3\"", "aoti_march: \"native\"");
  auto r = Ranker::Load(Opts(dir));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("native"), absl::string_view::npos) << r.status();
}

}  // namespace
}  // namespace marketsearch
