#include "retrieval/aoti_runner.h"

#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "retrieval/torch_tensors.h"

namespace marketsearch {
namespace {

class AotiRunner : public ModelRunner {
 public:
  AotiRunner(ModelManifest manifest, std::string dir,
             std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader)
      : ModelRunner(std::move(manifest), std::move(dir)), loader_(std::move(loader)) {}

  absl::StatusOr<FloatMatrix> Run(absl::Span<const InputTensor> inputs) const override {
    try {
      c10::InferenceMode guard;
      std::vector<at::Tensor> outs = loader_->run(ToTensors(inputs));
      if (outs.size() != 1) {
        return absl::InternalError(absl::StrCat("model ", manifest().model_name(), " returned ",
                                                outs.size(), " tensors; expected 1"));
      }
      return ToFloatMatrix(outs[0], manifest().model_name());
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("model ", manifest().model_name(), " forward failed: ", e.what()));
    }
  }

 private:
  // AOTIModelPackageLoader::run is safe to call from many threads: each call takes one of
  // the container's `num_runners` model instances and waits while all are busy.
  const std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ModelRunner>> LoadAotiRunner(const ModelRunner::Options& options,
                                                            ModelManifest manifest,
                                                            const std::string& package_file) {
  const std::string what = absl::StrCat("model ", manifest.model_name(), " v", manifest.version());
  try {
    auto loader = std::make_unique<torch::inductor::AOTIModelPackageLoader>(
        package_file, "model", /*run_single_threaded=*/false,
        static_cast<size_t>(std::max(1, options.concurrency)));
    return std::make_unique<AotiRunner>(std::move(manifest), options.dir, std::move(loader));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(what, ": libtorch could not load the AOTInductor package ", package_file, ": ",
                     e.what()));
  }
}

}  // namespace marketsearch
