// ModelRunner: the only way C++ code loads and runs a trained model artifact
// (<models_root>/<name>/<version>/{model.pt or model.pt2, MANIFEST}). It verifies the manifest, the
// file checksum and the featurizer version before the model can be used, and turns every
// runtime exception into an absl::Status. Only the runtimes' translation units
// (torchscript_runner.cc, aoti_runner.cc, torch_tensors.cc) include torch headers, so the rest of the tree
// compiles without them; the manifest's format chooses the runtime, without touching callers.
//
// Thread safety: Run() may be called concurrently from many threads on one instance.
#ifndef MARKETSEARCH_RETRIEVAL_MODEL_RUNNER_H_
#define MARKETSEARCH_RETRIEVAL_MODEL_RUNNER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/float_matrix.h"
#include "proto/manifest.pb.h"

namespace marketsearch {

// A borrowed input buffer (C order). The data must outlive the Run() call.
struct InputTensor {
  enum class Dtype { kInt64, kFloat32 };
  Dtype dtype;
  std::vector<int64_t> shape;
  const void* data;

  static InputTensor Int64(const std::vector<int64_t>& v) {
    return {Dtype::kInt64, {static_cast<int64_t>(v.size())}, v.data()};
  }
  static InputTensor Float32(const std::vector<float>& v, int64_t rows, int64_t cols) {
    return {Dtype::kFloat32, {rows, cols}, v.data()};
  }
};

// The seam between C++ callers (encoders, ranker) and a model runtime. Load() verifies the
// artifact, then hands it to the runtime its manifest's `format` names (today "torchscript":
// retrieval/torchscript_runner.cc); tests substitute a fake (retrieval/fake_model_runner.h).
class ModelRunner {
 public:
  struct Options {
    std::string dir;            // the version directory holding the model file and MANIFEST
    std::string expected_name;  // if set, the manifest's model_name must equal it
    int intra_op_threads = 1;   // intra-op threads of the runtime (process-wide in libtorch)
    // "" = the manifest's format; "torchscript" or "aoti" picks one of the files an artifact
    // carries (benchmarks; an operator falling back to TorchScript).
    std::string format;
    // Requests that may run the model at once (AOTInductor keeps one model instance each;
    // size it to the serving threads). TorchScript shares one module whatever this is.
    int concurrency = 1;
  };

  // Relative difference (|got - want| / max(1, |want|)) the load check tolerates between the
  // runtime's output and the exporting PyTorch's on the artifact's load-check fixture.
  static constexpr double kLoadCheckTolerance = 1e-4;

  // Heavy: reads and verifies the artifact (manifest, every listed file's checksum, featurizer
  // version, model name; for "aoti" that this CPU supports the package's target), loads it with
  // the runtime its format names (model.pt2: AOTInductor, model.pt: TorchScript), then runs its
  // load-check fixture when it has one and refuses an output that differs from the exporting
  // PyTorch's. Errors: NotFound (missing files), DataLoss (checksum mismatch, no model file
  // listed), FailedPrecondition (featurizer version, model name, unknown format, CPU target,
  // failed load check), Internal (the runtime failed to load).
  static absl::StatusOr<std::unique_ptr<ModelRunner>> Load(const Options& options);
  virtual ~ModelRunner() = default;

  // Runs the model's forward(inputs...) without autograd. The model must return one 2-D float
  // tensor. A runtime's exception arrives as Internal, its message kept.
  virtual absl::StatusOr<FloatMatrix> Run(absl::Span<const InputTensor> inputs) const = 0;

  const ModelManifest& manifest() const { return manifest_; }
  const std::string& dir() const { return dir_; }

 protected:
  ModelRunner(ModelManifest manifest, std::string dir)
      : manifest_(std::move(manifest)), dir_(std::move(dir)) {}

 private:
  const ModelManifest manifest_;
  const std::string dir_;
};

// Reads and parses a text-proto MANIFEST (no verification).
absl::StatusOr<ModelManifest> ReadModelManifest(const std::string& dir);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_MODEL_RUNNER_H_
