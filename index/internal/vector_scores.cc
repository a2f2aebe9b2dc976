#include "index/internal/vector_scores.h"

#include "index/internal/dot_product.h"

// Under ThreadSanitizer the clones are left out: the ifunc resolver that picks one is itself
// instrumented and runs while the dynamic loader relocates the library, before the TSan runtime
// is initialised, so every binary linking this crashed at load (--config=tsan; .bazelrc defines
// MARKETSEARCH_TSAN there because it hides __SANITIZE_THREAD__ from the headers).
#if defined(__SANITIZE_THREAD__) || defined(MARKETSEARCH_TSAN)
#define MARKETSEARCH_TARGET_CLONES
#else
#define MARKETSEARCH_TARGET_CLONES __attribute__((target_clones("arch=haswell", "default")))
#endif

namespace marketsearch {
namespace internal {

MARKETSEARCH_TARGET_CLONES
void ScoreRows(const float* query, const float* rows, const uint32_t* pick, size_t n, int d,
               float* out) {
  for (size_t i = 0; i < n; ++i) {
    const float* v = rows + static_cast<size_t>(pick != nullptr ? pick[i] : i) * d;
    out[i] = DotProduct(query, v, d);
  }
}

MARKETSEARCH_TARGET_CLONES
void ScoreVectors(const float* query, const float* const* vectors, size_t n, int d, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = DotProduct(query, vectors[i], d);
}

}  // namespace internal
}  // namespace marketsearch
