#include "ranking/ranker.h"

#include <dlfcn.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ranking/ranking_features.h"

namespace marketsearch {
namespace {

double Metric(const ModelManifest& m, const std::string& key, double fallback) {
  auto it = m.metrics().find(key);
  return it == m.metrics().end() ? fallback : it->second;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Ranker>> Ranker::Load(const Options& options) {
  ModelRunner::Options ro;
  ro.dir = options.dir;
  ro.expected_name = "ranker";
  ro.intra_op_threads = options.intra_op_threads;
  ro.format = options.format;
  ro.concurrency = options.concurrency;
  absl::StatusOr<std::unique_ptr<ModelRunner>> runner = ModelRunner::Load(ro);
  if (!runner.ok()) return runner.status();
  return Create(*std::move(runner), options);
}

absl::StatusOr<std::unique_ptr<Ranker>> Ranker::Create(std::unique_ptr<ModelRunner> runner,
                                                       const Options& options) {
  const ModelManifest& m = runner->manifest();
  const std::string what = absl::StrCat("model ranker v", m.version(), " (", runner->dir(), ")");

  // The input spec: exactly one float32 [-1, kRankingFeatureDim] tensor.
  if (m.inputs_size() != 1 || m.inputs(0).dtype() != "float32" || m.inputs(0).shape_size() != 2) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": manifest must declare one float32 input of rank 2 (features)"));
  }
  if (m.inputs(0).shape(1) != kRankingFeatureDim) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " expects ", m.inputs(0).shape(1), " features per candidate but this binary assembles ",
        kRankingFeatureDim, "; retrain the ranker on features from this build"));
  }
  const double fv = Metric(m, "ranking_feature_version", -1);
  if (fv != static_cast<double>(kRankingFeatureVersion)) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " was trained on ranking features version ", fv, " but this binary assembles version ",
        kRankingFeatureVersion, "; retrain the ranker"));
  }
  std::unique_ptr<Ranker> r(new Ranker(std::move(runner)));
  r->listing_tower_version_ = static_cast<int64_t>(Metric(m, "listing_tower_version", -1));
  if (!r->runner_->dir().empty()) {
    const double threshold = Metric(m, "no_match_threshold", -1);
    absl::StatusOr<std::unique_ptr<RelevanceCalibration>> c =
        RelevanceCalibration::Load(r->runner_->dir(), threshold < 0 ? 0 : threshold);
    if (c.ok()) {
      if (threshold < 0) {
        return absl::FailedPreconditionError(
            absl::StrCat(what, " has calibration knots but no no_match_threshold metric"));
      }
      r->calibration_ = *std::move(c);
    } else if (!absl::IsNotFound(c.status())) {
      return absl::FailedPreconditionError(absl::StrCat(what, ": ", c.status().message()));
    }
  }

  for (int rows : options.warmup_batch_sizes) {
    FloatMatrix x;
    x.rows = std::max(rows, 1);
    x.cols = kRankingFeatureDim;
    x.data.assign(x.rows * x.cols, 0.0f);
    absl::StatusOr<std::vector<float>> s = r->Score(x);
    if (!s.ok()) return absl::InternalError(absl::StrCat(what, ": warm-up failed: ", s.status().message()));
    for (float v : *s) {
      if (!std::isfinite(v)) return absl::InternalError(absl::StrCat(what, ": warm-up produced a non-finite score"));
    }
  }
  return r;
}

absl::StatusOr<std::vector<float>> Ranker::Score(const FloatMatrix& features) const {
  if (features.cols != kRankingFeatureDim) {
    return absl::InvalidArgumentError(absl::StrCat("features: has ", features.cols,
                                                   " columns, expected ", kRankingFeatureDim));
  }
  if (features.rows < 0 ||
      features.data.size() != static_cast<size_t>(features.rows * features.cols)) {
    return absl::InvalidArgumentError(absl::StrCat("features: holds ", features.data.size(),
                                                   " floats, expected ", features.rows, " x ",
                                                   features.cols));
  }
  if (features.rows == 0) return std::vector<float>();
  const InputTensor in{InputTensor::Dtype::kFloat32, {features.rows, features.cols},
                       features.data.data()};
  absl::StatusOr<FloatMatrix> out = runner_->Run(absl::MakeConstSpan(&in, 1));
  if (!out.ok()) return out.status();  // libtorch exceptions arrive here as Internal
  if (out->rows != features.rows || out->cols != 1) {
    return absl::InternalError(absl::StrCat("ranker v", version(), " returned [", out->rows, ", ",
                                            out->cols, "] for ", features.rows,
                                            " candidates; expected [n, 1]"));
  }
  return std::move(out->data);
}

int SetBlasThreads(int threads) {
  using SetFn = void (*)(int);
  int found = 0;
  // FAISS links libopenblas.so.0; a libtorch built on the system BLAS calls sgemm_ from
  // libblas.so.3, with Debian's OpenBLAS a second library with a thread pool of its own.
  for (const char* lib : {"libblas.so.3", "libopenblas.so.0"}) {
    void* h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
    if (h == nullptr) continue;
    if (auto fn = reinterpret_cast<SetFn>(dlsym(h, "openblas_set_num_threads"))) {
      fn(std::max(1, threads));
      ++found;
    }
    dlclose(h);
  }
  return found;
}

int64_t Ranker::version() const { return runner_->manifest().version(); }

double Ranker::mflops_per_candidate() const {
  return Metric(runner_->manifest(), "mflops_per_candidate", 0.0);
}

}  // namespace marketsearch
