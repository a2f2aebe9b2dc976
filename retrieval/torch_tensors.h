// Conversions between ModelRunner's torch-free types and libtorch tensors, shared by the two
// runtimes (private to retrieval:model_runner; the only header here that names torch types).
#ifndef MARKETSEARCH_RETRIEVAL_TORCH_TENSORS_H_
#define MARKETSEARCH_RETRIEVAL_TORCH_TENSORS_H_

#include <ATen/Tensor.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/float_matrix.h"
#include "retrieval/model_runner.h"

namespace marketsearch {

// Tensors viewing the caller's buffers (no copy; the models only read their inputs).
std::vector<at::Tensor> ToTensors(absl::Span<const InputTensor> inputs);

// The model's output as a FloatMatrix. Internal (naming `model_name`) unless it is one 2-D
// float tensor.
absl::StatusOr<FloatMatrix> ToFloatMatrix(const at::Tensor& output, const std::string& model_name);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_TORCH_TENSORS_H_
