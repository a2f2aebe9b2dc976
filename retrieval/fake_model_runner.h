// FakeModelRunner: a ModelRunner whose forward is a function the test gives, with the manifest
// the test gives, so what sits on the ModelRunner seam (encoders, ranker) is unit-tested
// without a trained artifact or libtorch at run time.
#ifndef MARKETSEARCH_RETRIEVAL_FAKE_MODEL_RUNNER_H_
#define MARKETSEARCH_RETRIEVAL_FAKE_MODEL_RUNNER_H_

#include <atomic>
#include <functional>
#include <utility>
#include <vector>

#include "retrieval/model_runner.h"

namespace marketsearch {

class FakeModelRunner : public ModelRunner {
 public:
  using Forward = std::function<absl::StatusOr<FloatMatrix>(absl::Span<const InputTensor>)>;

  // `dir` is what dir() reports: a directory holding files an artifact carries beside the
  // model (e.g. a ranker's calibration), or "fake".
  FakeModelRunner(ModelManifest manifest, Forward forward, std::string dir = "fake")
      : ModelRunner(std::move(manifest), std::move(dir)), forward_(std::move(forward)) {}

  absl::StatusOr<FloatMatrix> Run(absl::Span<const InputTensor> inputs) const override {
    calls_.fetch_add(1);
    return forward_(inputs);
  }
  int calls() const { return calls_.load(); }

  // The int64 values of a 1-D input (what the encoders hand the model).
  static std::vector<int64_t> Int64Values(const InputTensor& t) {
    const auto* p = static_cast<const int64_t*>(t.data);
    return std::vector<int64_t>(p, p + (t.shape.empty() ? 0 : t.shape[0]));
  }

 private:
  Forward forward_;
  mutable std::atomic<int> calls_{0};
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_FAKE_MODEL_RUNNER_H_
