// Ranking quality metrics, the one implementation every report uses.
// NDCG@k uses the ESCI gains (Exact 1.0, Substitute 0.1, Complement 0.01, Irrelevant 0)
// with linear gain and log2(rank + 1) discount; the ideal ranking is built from all judged
// listings of the query. Unjudged listings count as Irrelevant. Pure functions.
#ifndef MARKETSEARCH_EXPERIMENTS_METRICS_H_
#define MARKETSEARCH_EXPERIMENTS_METRICS_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "proto/esci.h"

namespace marketsearch {

using QueryJudgments = absl::flat_hash_map<uint64_t, Esci>;  // listing_id -> label

// NDCG@k of `ranked` (listing ids, best first). 0 when the query has no positive gain.
double NdcgAtK(const std::vector<uint64_t>& ranked, const QueryJudgments& judged, int k);

// Capped recall of Exact listings: |top-k ∩ Exact| / min(|Exact|, k) (1.0 when the top k
// holds k Exact listings, however many more there are).
// Returns -1 when the query has no Exact listing (callers skip it).
double ExactRecallAtK(const std::vector<uint64_t>& ranked, const QueryJudgments& judged, int k);
// Plain recall of Exact listings: |top-k ∩ Exact| / |Exact|. -1 without Exact listings.
double ExactRecallAtKUncapped(const std::vector<uint64_t>& ranked, const QueryJudgments& judged,
                              int k);

// Running mean over queries.
struct MeanMetric {
  double sum = 0;
  int64_t n = 0;
  void Add(double v) {
    sum += v;
    ++n;
  }
  double mean() const { return n ? sum / n : 0.0; }
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_EXPERIMENTS_METRICS_H_
