#include "retrieval/candidate_merge.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"

namespace marketsearch {

std::vector<Candidate> MergeCandidates(const std::vector<ScoredId>& ann,
                                       const std::vector<ScoredId>& lexical,
                                       const FusionOptions& o) {
  std::vector<Candidate> out;
  out.reserve(ann.size() + lexical.size());
  absl::flat_hash_map<uint64_t, size_t> at;
  at.reserve(ann.size() + lexical.size());
  auto slot = [&](uint64_t id) -> Candidate& {
    auto [it, inserted] = at.try_emplace(id, out.size());
    if (inserted) {
      out.emplace_back();
      out.back().listing_id = id;
    }
    return out[it->second];
  };
  for (size_t i = 0; i < ann.size(); ++i) {
    Candidate& c = slot(ann[i].listing_id);
    if (c.ann_rank == 0) {  // keep the best (first) occurrence
      c.ann_rank = static_cast<int32_t>(i + 1);
      c.ann_score = ann[i].score;
    }
  }
  float max_bm25 = 0;
  for (const ScoredId& s : lexical) max_bm25 = std::max(max_bm25, s.score);
  for (size_t i = 0; i < lexical.size(); ++i) {
    Candidate& c = slot(lexical[i].listing_id);
    if (c.lexical_rank == 0) {
      c.lexical_rank = static_cast<int32_t>(i + 1);
      c.lexical_score = lexical[i].score;
    }
  }
  const double w_ann = o.ann_weight;
  for (Candidate& c : out) {
    double f = 0;
    if (o.method == FusionMethod::kReciprocalRank) {
      if (c.ann_rank) f += 2 * w_ann / (o.rrf_k + c.ann_rank);
      if (c.lexical_rank) f += 2 * (1 - w_ann) / (o.rrf_k + c.lexical_rank);
    } else {
      if (c.ann_rank) f += w_ann * c.ann_score;
      if (c.lexical_rank && max_bm25 > 0) f += (1 - w_ann) * c.lexical_score / max_bm25;
    }
    c.fused_score = static_cast<float>(f);
  }
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    if (a.fused_score != b.fused_score) return a.fused_score > b.fused_score;
    return a.listing_id < b.listing_id;
  });
  return out;
}

std::vector<Candidate> FuseAgain(const std::vector<Candidate>& candidates,
                                        const FusionOptions& options) {
  std::vector<std::pair<int32_t, ScoredId>> ann, lexical;
  for (const Candidate& c : candidates) {
    if (c.ann_rank > 0) ann.push_back({c.ann_rank, {c.listing_id, c.ann_score}});
    if (c.lexical_rank > 0) lexical.push_back({c.lexical_rank, {c.listing_id, c.lexical_score}});
  }
  auto by_rank = [](std::vector<std::pair<int32_t, ScoredId>>& v) {
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<ScoredId> out;
    out.reserve(v.size());
    for (const auto& [rank, s] : v) out.push_back(s);
    return out;
  };
  return MergeCandidates(by_rank(ann), by_rank(lexical), options);
}

}  // namespace marketsearch
