// The AOTInductor runtime behind ModelRunner (private to retrieval:model_runner): serves the
// model.pt2 package of a torch.export'ed model through torch::inductor::AOTIModelPackageLoader.
#ifndef MARKETSEARCH_RETRIEVAL_AOTI_RUNNER_H_
#define MARKETSEARCH_RETRIEVAL_AOTI_RUNNER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/manifest.pb.h"
#include "retrieval/model_runner.h"

namespace marketsearch {

// Loads the verified package `package_file` with `options.concurrency` model instances (so that
// many requests run at once; a request beyond them waits for a free one). Internal when
// libtorch throws (its message kept).
absl::StatusOr<std::unique_ptr<ModelRunner>> LoadAotiRunner(const ModelRunner::Options& options,
                                                            ModelManifest manifest,
                                                            const std::string& package_file);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_AOTI_RUNNER_H_
