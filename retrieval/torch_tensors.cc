#include "retrieval/torch_tensors.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace marketsearch {

std::vector<at::Tensor> ToTensors(absl::Span<const InputTensor> inputs) {
  std::vector<at::Tensor> out;
  out.reserve(inputs.size());
  for (const InputTensor& in : inputs) {
    auto dtype = in.dtype == InputTensor::Dtype::kInt64 ? torch::kInt64 : torch::kFloat32;
    out.push_back(torch::from_blob(const_cast<void*>(in.data), in.shape,
                                   torch::TensorOptions().dtype(dtype)));
  }
  return out;
}

absl::StatusOr<FloatMatrix> ToFloatMatrix(const at::Tensor& output, const std::string& model_name) {
  const at::Tensor out = output.contiguous();
  if (out.dim() != 2 || out.scalar_type() != torch::kFloat32) {
    return absl::InternalError(absl::StrCat("model ", model_name, " returned a tensor of rank ",
                                            out.dim(), "; expected a 2-D float tensor"));
  }
  FloatMatrix m;
  m.rows = out.size(0);
  m.cols = out.size(1);
  const float* p = out.data_ptr<float>();
  m.data.assign(p, p + m.rows * m.cols);
  return m;
}

}  // namespace marketsearch
