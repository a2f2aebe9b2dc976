// Merging the candidates of the two retrieval legs (ANN over two-tower embeddings, BM25 over
// Xapian) into one de-duplicated list, each candidate keeping its per-source scores and
// ranks for the ranker. Pure functions; no dependency on FAISS or Xapian types.
#ifndef MARKETSEARCH_RETRIEVAL_CANDIDATE_MERGE_H_
#define MARKETSEARCH_RETRIEVAL_CANDIDATE_MERGE_H_

#include <cstdint>
#include <vector>

namespace marketsearch {

// One source's result: ids best first with that source's score.
struct ScoredId {
  uint64_t listing_id;
  float score;
};

struct Candidate {
  uint64_t listing_id = 0;
  float ann_score = 0;      // inner product; 0 when not retrieved by ANN
  int32_t ann_rank = 0;     // 1-based; 0 = not retrieved by ANN
  float lexical_score = 0;  // BM25; 0 when not retrieved lexically
  int32_t lexical_rank = 0;
  float fused_score = 0;    // what the merged list is ordered by
};

enum class FusionMethod {
  // Reciprocal-rank fusion: sum over sources of weight / (k + rank). Scale-free.
  kReciprocalRank,
  // Blend of scores: ann_weight * ann_score + (1 - ann_weight) * bm25 / max bm25 of the query.
  kScoreBlend,
};

struct FusionOptions {
  FusionMethod method = FusionMethod::kReciprocalRank;
  double rrf_k = 60.0;       // RRF constant (Cormack et al. 2009)
  // RRF: weight of the ANN leg (lexical gets 1 - ann_weight), x2 so 0.5 means equal
  // weights; blend: the mixing weight. The built-in 0.7 measured best on the synthetic
  // marketplace in an early stop; a deployment serves what jobs/tune_fusion chose on its own
  // valid split (retrieval/fusion_config.h), which this default only stands in for.
  double ann_weight = 0.7;
};

// Merges and de-duplicates; ordered by fused_score descending (ties by listing id).
std::vector<Candidate> MergeCandidates(const std::vector<ScoredId>& ann,
                                       const std::vector<ScoredId>& lexical,
                                       const FusionOptions& options);

// The same candidates fused another way: each leg's hits rebuilt from the ranks and scores
// they carry, merged again. What jobs/tune_fusion and the benches use to compare fusions
// without retrieving each query once per fusion.
std::vector<Candidate> FuseAgain(const std::vector<Candidate>& candidates,
                                        const FusionOptions& options);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_CANDIDATE_MERGE_H_
