#include "retrieval/model_runner.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "features/featurizer.h"
#include "google/protobuf/text_format.h"

namespace marketsearch {

struct ModelRunner::Impl {
  // torch::jit::Module::forward is const-callable through a copy sharing the same
  // underlying object; concurrent forward calls on one module are supported by libtorch.
  mutable torch::jit::Module module;
};

ModelRunner::~ModelRunner() = default;

absl::StatusOr<ModelManifest> ReadModelManifest(const std::string& dir) {
  auto text = ReadFile(dir + "/MANIFEST");
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no MANIFEST in ", dir));
  ModelManifest m;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &m)) {
    return absl::DataLossError(absl::StrCat("unparsable MANIFEST in ", dir));
  }
  return m;
}

absl::StatusOr<std::unique_ptr<ModelRunner>> ModelRunner::Load(const Options& options) {
  auto manifest = ReadModelManifest(options.dir);
  if (!manifest.ok()) return manifest.status();
  const std::string what = absl::StrCat("model ", manifest->model_name(), " v", manifest->version());
  if (!options.expected_name.empty() && manifest->model_name() != options.expected_name) {
    return absl::FailedPreconditionError(absl::StrCat(options.dir, " holds model '",
                                                      manifest->model_name(), "', expected '",
                                                      options.expected_name, "'"));
  }
  if (auto s = CheckFeaturizerVersion(manifest->featurizer_version(), what); !s.ok()) return s;
  if (!manifest->format().empty() && manifest->format() != "torchscript") {
    return absl::FailedPreconditionError(absl::StrCat(what, ": unsupported format ", manifest->format()));
  }
  std::string model_file;
  for (const FileChecksum& f : manifest->files()) {
    const std::string path = options.dir + "/" + f.name();
    auto sum = Sha256File(path);
    if (!sum.ok()) return sum.status();
    if (*sum != f.sha256()) {
      return absl::DataLossError(absl::StrCat(what, ": checksum mismatch for ", f.name(),
                                              " (manifest ", f.sha256(), ", file ", *sum, ")"));
    }
    if (f.name() == "model.pt") model_file = path;
  }
  if (model_file.empty()) {
    return absl::DataLossError(absl::StrCat(what, ": manifest lists no checksummed model.pt"));
  }
  std::unique_ptr<ModelRunner> runner(new ModelRunner());
  runner->impl_ = std::make_unique<Impl>();
  try {
    at::set_num_threads(std::max(1, options.intra_op_threads));
    runner->impl_->module = torch::jit::load(model_file, torch::kCPU);
    runner->impl_->module.eval();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": libtorch could not load ", model_file, ": ", e.what()));
  }
  runner->manifest_ = *std::move(manifest);
  runner->dir_ = options.dir;
  return runner;
}

absl::StatusOr<FloatMatrix> ModelRunner::Run(absl::Span<const InputTensor> inputs) const {
  try {
    c10::InferenceMode guard;
    std::vector<torch::jit::IValue> args;
    args.reserve(inputs.size());
    for (const InputTensor& in : inputs) {
      auto dtype = in.dtype == InputTensor::Dtype::kInt64 ? torch::kInt64 : torch::kFloat32;
      // from_blob does not copy; the model only reads its inputs.
      args.emplace_back(torch::from_blob(const_cast<void*>(in.data), in.shape,
                                         torch::TensorOptions().dtype(dtype)));
    }
    torch::Tensor out = impl_->module.forward(args).toTensor().contiguous();
    if (out.dim() != 2 || out.scalar_type() != torch::kFloat32) {
      return absl::InternalError(absl::StrCat("model ", manifest_.model_name(),
                                              " returned a tensor of rank ", out.dim(),
                                              "; expected a 2-D float tensor"));
    }
    FloatMatrix m;
    m.rows = out.size(0);
    m.cols = out.size(1);
    const float* p = out.data_ptr<float>();
    m.data.assign(p, p + m.rows * m.cols);
    return m;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("model ", manifest_.model_name(), " forward failed: ", e.what()));
  }
}

}  // namespace marketsearch
