#include "index/internal/vector_scores.h"

#include "index/internal/dot_product.h"

namespace marketsearch {
namespace internal {

__attribute__((target_clones("arch=haswell", "default")))
void ScoreRows(const float* query, const float* rows, const uint32_t* pick, size_t n, int d,
               float* out) {
  for (size_t i = 0; i < n; ++i) {
    const float* v = rows + static_cast<size_t>(pick != nullptr ? pick[i] : i) * d;
    out[i] = DotProduct(query, v, d);
  }
}

__attribute__((target_clones("arch=haswell", "default")))
void ScoreVectors(const float* query, const float* const* vectors, size_t n, int d, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = DotProduct(query, vectors[i], d);
}

}  // namespace internal
}  // namespace marketsearch
