// The TorchScript runtime behind ModelRunner (private to retrieval:model_runner): the only
// header whose implementation includes libtorch.
#ifndef MARKETSEARCH_RETRIEVAL_TORCHSCRIPT_RUNNER_H_
#define MARKETSEARCH_RETRIEVAL_TORCHSCRIPT_RUNNER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/manifest.pb.h"
#include "retrieval/model_runner.h"

namespace marketsearch {

// Deserialises the verified TorchScript file `model_file` of the artifact in `options.dir`.
// Internal when libtorch throws (its message kept).
absl::StatusOr<std::unique_ptr<ModelRunner>> LoadTorchScriptRunner(const ModelRunner::Options& options,
                                                                   ModelManifest manifest,
                                                                   const std::string& model_file);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_TORCHSCRIPT_RUNNER_H_
