// Inner product of two float vectors, for the exact scans of the snapshot and the delta.
// Eight independent accumulators: Debian's FAISS is a generic (non-AVX2) build whose
// fvec_inner_product is a scalar loop; this is 1.4x (sequential rows) to 2.5x (scattered
// rows) faster on 64-d vectors here. Not part of the index/ API.
#ifndef MARKETSEARCH_INDEX_INTERNAL_DOT_PRODUCT_H_
#define MARKETSEARCH_INDEX_INTERNAL_DOT_PRODUCT_H_

namespace marketsearch {
namespace internal {

inline float DotProduct(const float* a, const float* b, int d) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= d; i += 8) {
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  }
  float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < d; ++i) t += a[i] * b[i];
  return t;
}

// Hints the cache to load the `bytes` starting at p (a vector about to be scored).
inline void PrefetchVector(const float* p, int bytes) {
  const char* c = reinterpret_cast<const char*>(p);
  for (int off = 0; off < bytes; off += 64) __builtin_prefetch(c + off);
}

}  // namespace internal
}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_INTERNAL_DOT_PRODUCT_H_
