#include "retrieval/torchscript_runner.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "retrieval/torch_tensors.h"

namespace marketsearch {
namespace {

class TorchScriptRunner : public ModelRunner {
 public:
  TorchScriptRunner(ModelManifest manifest, std::string dir, torch::jit::Module module)
      : ModelRunner(std::move(manifest), std::move(dir)), module_(std::move(module)) {}

  absl::StatusOr<FloatMatrix> Run(absl::Span<const InputTensor> inputs) const override {
    try {
      c10::InferenceMode guard;
      const std::vector<at::Tensor> tensors = ToTensors(inputs);
      std::vector<torch::jit::IValue> args(tensors.begin(), tensors.end());
      return ToFloatMatrix(module_.forward(args).toTensor(), manifest().model_name());
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("model ", manifest().model_name(), " forward failed: ", e.what()));
    }
  }

 private:
  // torch::jit::Module::forward is const-callable through a copy sharing the same
  // underlying object; concurrent forward calls on one module are supported by libtorch.
  mutable torch::jit::Module module_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ModelRunner>> LoadTorchScriptRunner(const ModelRunner::Options& options,
                                                                   ModelManifest manifest,
                                                                   const std::string& model_file) {
  const std::string what = absl::StrCat("model ", manifest.model_name(), " v", manifest.version());
  try {
    at::set_num_threads(std::max(1, options.intra_op_threads));
    torch::jit::Module module = torch::jit::load(model_file, torch::kCPU);
    module.eval();
    return std::make_unique<TorchScriptRunner>(std::move(manifest), options.dir, std::move(module));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(what, ": libtorch could not load ", model_file, ": ", e.what()));
  }
}

}  // namespace marketsearch
