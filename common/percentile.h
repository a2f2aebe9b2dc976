// Nearest-rank percentile of a sample, shared by the tools that report single-query latency
// (build_index's gate, index_tuner) and the experiment report's latency guardrail. Header-only: a few lines with no dependencies.
#ifndef MARKETSEARCH_COMMON_PERCENTILE_H_
#define MARKETSEARCH_COMMON_PERCENTILE_H_

#include <algorithm>
#include <vector>

namespace marketsearch {

// The value at rank q·(n−1), rounded, of `v` sorted (q in [0, 1]); 0 for an empty sample.
inline double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_PERCENTILE_H_
