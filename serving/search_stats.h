// SearchRequestStats: what one Search request did, as the metrics count it (Searcher fills it,
// ServerMetrics::SearchDone records it). A plain struct, so the request path does not depend
// on the metrics library.
#ifndef MARKETSEARCH_SERVING_SEARCH_STATS_H_
#define MARKETSEARCH_SERVING_SEARCH_STATS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace marketsearch {

struct SearchRequestStats {
  std::vector<std::pair<std::string, double>> stage_ms;  // StageTimer's stages
  int64_t ann_candidates = 0;
  int64_t lexical_candidates = 0;
  int64_t fused_candidates = 0;
  int64_t kept_candidates = 0;  // in the store and passing the filters
  int64_t results = 0;
  bool filtered = false;         // the request had filters
  bool concurrent_legs = false;  // the two retrieval legs ran at the same time
  // The response's match quality: "good", "none" (no_good_match) or "" when the ranker gave
  // no calibrated probability (no calibration, calibration off, or nothing ranked).
  std::string match;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_SEARCH_STATS_H_
