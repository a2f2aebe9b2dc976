// FloatMatrix: a dense float matrix, the currency between the model runner (its outputs), the
// encoders (embeddings) and the ranking features (the ranker's input). It lives here, not
// beside ModelRunner, so code that only builds or reads matrices does not depend on the
// torch runner's target.
#ifndef MARKETSEARCH_COMMON_FLOAT_MATRIX_H_
#define MARKETSEARCH_COMMON_FLOAT_MATRIX_H_

#include <cstdint>
#include <vector>

namespace marketsearch {

// A dense float matrix [rows, cols] in row-major order.
struct FloatMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;
  const float* row(int64_t r) const { return data.data() + r * cols; }
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_FLOAT_MATRIX_H_
