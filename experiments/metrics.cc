#include "experiments/metrics.h"

#include <algorithm>
#include <cmath>

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

double ExactRecallAtK(const std::vector<uint64_t>& ranked, const QueryJudgments& judged, int k) {
  int64_t exact = 0;
  for (const auto& [id, label] : judged) exact += label == Esci::kExact;
  if (exact == 0) return -1;
  int64_t hits = 0;
  const int n = std::min<int>(k, static_cast<int>(ranked.size()));
  for (int i = 0; i < n; ++i) {
    auto it = judged.find(ranked[i]);
    hits += it != judged.end() && it->second == Esci::kExact;
  }
  return static_cast<double>(hits) / std::min<int64_t>(exact, k);
}

}  // namespace marketsearch
