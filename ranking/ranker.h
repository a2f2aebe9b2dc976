// Ranker: the deep ranking model (ranking/train/, DCN-V2-style cross layers + MLP) served
// through ModelRunner, so this file never sees libtorch headers. It scores the feature matrix
// of all candidates of a request (ranking/ranking_features.h) in ONE batched forward; feature
// standardisation is part of the exported model, so callers pass raw features.
// Versions are loaded and swapped by the serving lifecycle (serving/serving_loaders.h).
//
// Thread safety: a loaded Ranker is immutable; Score() may be called concurrently from many
// threads.
#ifndef MARKETSEARCH_RANKING_RANKER_H_
#define MARKETSEARCH_RANKING_RANKER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/float_matrix.h"
#include "ranking/relevance_calibration.h"
#include "retrieval/model_runner.h"

namespace marketsearch {

class Ranker {
 public:
  struct Options {
    std::string dir;           // version directory <data_dir>/models/ranker/<v>
    int intra_op_threads = 1;  // libtorch intra-op threads (process-wide setting)
    std::string format;        // ModelRunner::Options::format ("" = the manifest's)
    int concurrency = 1;       // ModelRunner::Options::concurrency (the serving threads)
    // Forward passes run at load with zero features of these batch sizes: TorchScript's
    // profiling executor optimises the graph during the first calls (tens of ms each), and
    // the first AOTInductor calls fault in its weights; neither must land on a buyer's
    // request. Empty = no warm-up.
    std::vector<int> warmup_batch_sizes = {1, 50, 200, 200, 200, 500};
  };

  // Heavy: verifies and loads the artifact through ModelRunner (manifest, checksums,
  // featurizer version, model name "ranker"), then checks that the manifest's input spec is
  // float32 [-1, kRankingFeatureDim] and its ranking_feature_version metric equals
  // kRankingFeatureVersion. Errors: NotFound, DataLoss, FailedPrecondition (version, name or
  // feature width mismatch, naming both values), Internal (libtorch).
  static absl::StatusOr<std::unique_ptr<Ranker>> Load(const Options& options);
  static absl::StatusOr<std::unique_ptr<Ranker>> Load(const std::string& dir) {
    Options o;
    o.dir = dir;
    return Load(o);
  }
  // Load's checks (input spec, feature version), the calibration (when the runner's directory
  // has one; broken knots or a missing no_match_threshold metric fail the load) and warm-up on
  // a runner already loaded
  // (`options.dir` unused): how tests put a fake model behind the ranker.
  static absl::StatusOr<std::unique_ptr<Ranker>> Create(std::unique_ptr<ModelRunner> runner,
                                                        const Options& options);

  // One score per row of `features` ([n, kRankingFeatureDim], raw, from
  // AssembleRankingFeatures), higher is better; scores are comparable within a request only.
  // n == 0 returns {} without running the model. InvalidArgument when features.cols is not
  // kRankingFeatureDim or the data size does not match rows x cols; Internal when libtorch
  // throws (the exception's message is kept).
  absl::StatusOr<std::vector<float>> Score(const FloatMatrix& features) const;

  int64_t version() const;
  // The listing tower version whose embedding space the model was trained in (the index the
  // training candidates came from); -1 when the manifest does not say. Serve the ranker only
  // with an index whose manifest().listing_tower_version() equals it.
  int64_t listing_tower_version() const { return listing_tower_version_; }
  // Analytic multiply-add count x 2 of one candidate's forward, from the manifest (0 if absent).
  double mflops_per_candidate() const;
  // The artifact's score → P(Exact) map and "no good match" threshold
  // (ranking/relevance_calibration.h); nullptr when the artifact has none (a ranker trained
  // before calibration existed): then results carry no probability and no page is flagged.
  const RelevanceCalibration* calibration() const { return calibration_.get(); }
  const ModelManifest& manifest() const { return runner_->manifest(); }
  const std::string& dir() const { return runner_->dir(); }

 private:
  explicit Ranker(std::unique_ptr<ModelRunner> runner) : runner_(std::move(runner)) {}
  std::unique_ptr<ModelRunner> runner_;
  int64_t listing_tower_version_ = -1;
  std::unique_ptr<RelevanceCalibration> calibration_;
};

// Process-wide: limits OpenBLAS's own thread pool(s) to `threads`. FAISS runs its GEMMs through
// Debian's OpenBLAS, which ignores OpenMP's settings and by default starts one thread per core
// whose spin-waiting (sched_yield) competes with serving threads on a small machine. (The
// wheel's libtorch has its own GEMM kernels, which follow OpenMP's per-thread setting; a
// libtorch built against the system BLAS, like Debian's 1.13, loads libblas.so.3 as well.)
// Call once at startup (the benchmark and server do). Returns how many OpenBLAS libraries were
// found and set (0 when the process has no OpenBLAS).
int SetBlasThreads(int threads);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RANKING_RANKER_H_
