// Inner products of one query with many stored vectors, for the index's own scans (the IVF-Flat
// search and the filtered exact scan). Compiled twice, for Haswell (AVX2 + FMA: DotProduct's
// eight accumulators become one 256-bit register) and for baseline x86-64 (SSE2); the loader
// picks the one this CPU runs (GCC function multi-versioning, an ifunc), so the binary stays
// portable. One call scores a batch: the dispatch is per batch, not per vector.
// Not part of the index/ API.
#ifndef MARKETSEARCH_INDEX_INTERNAL_VECTOR_SCORES_H_
#define MARKETSEARCH_INDEX_INTERNAL_VECTOR_SCORES_H_

#include <cstddef>
#include <cstdint>

namespace marketsearch {
namespace internal {

// out[i] = query . rows[pick[i]] (pick null: rows[i]) for i < n; rows are d floats apart.
void ScoreRows(const float* query, const float* rows, const uint32_t* pick, size_t n, int d,
               float* out);

// out[i] = query . vectors[i] for i < n (each d floats).
void ScoreVectors(const float* query, const float* const* vectors, size_t n, int d, float* out);

}  // namespace internal
}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_INTERNAL_VECTOR_SCORES_H_
