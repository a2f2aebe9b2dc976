#include "experiments/metrics.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace marketsearch {

double NdcgAtK(const std::vector<uint64_t>& ranked, const QueryJudgments& judged, int k) {
  double dcg = 0;
  const int n = std::min<int>(k, static_cast<int>(ranked.size()));
  for (int i = 0; i < n; ++i) {
    auto it = judged.find(ranked[i]);
    if (it != judged.end()) dcg += EsciGain(it->second) / std::log2(i + 2.0);
  }
  std::vector<double> gains;
  gains.reserve(judged.size());
  for (const auto& [id, label] : judged) gains.push_back(EsciGain(label));
  std::sort(gains.begin(), gains.end(), std::greater<double>());
  double idcg = 0;
  for (int i = 0; i < std::min<int>(k, static_cast<int>(gains.size())); ++i) {
    idcg += gains[i] / std::log2(i + 2.0);
  }
  return idcg > 0 ? dcg / idcg : 0.0;
}

namespace {

// Exact listings judged for the query, and how many of them are in the top k of `ranked`.
std::pair<int64_t, int64_t> ExactHits(const std::vector<uint64_t>& ranked, const QueryJudgments& judged,
                                      int k) {
  int64_t exact = 0;
  for (const auto& [id, label] : judged) exact += label == Esci::kExact;
  int64_t hits = 0;
  const int n = std::min<int>(k, static_cast<int>(ranked.size()));
  for (int i = 0; i < n; ++i) {
    auto it = judged.find(ranked[i]);
    hits += it != judged.end() && it->second == Esci::kExact;
  }
  return {exact, hits};
}

}  // namespace

double ExactRecallAtK(const std::vector<uint64_t>& ranked, const QueryJudgments& judged, int k) {
  const auto [exact, hits] = ExactHits(ranked, judged, k);
  if (exact == 0) return -1;
  return static_cast<double>(hits) / std::min<int64_t>(exact, k);
}

double ExactRecallAtKUncapped(const std::vector<uint64_t>& ranked, const QueryJudgments& judged,
                              int k) {
  const auto [exact, hits] = ExactHits(ranked, judged, k);
  if (exact == 0) return -1;
  return static_cast<double>(hits) / exact;
}

}  // namespace marketsearch
