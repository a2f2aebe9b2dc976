#include "retrieval/candidate_generator.h"

#include <chrono>

#include "common/status_macros.h"
#include "common/timing.h"

namespace marketsearch {

absl::StatusOr<RetrievalResult> GenerateCandidates(const RetrievalArtifacts& a,
                                                   const std::string& raw_query,
                                                   const RetrievalOptions& o) {
  return GenerateCandidates(a, ParseQuery(raw_query), o);
}

absl::StatusOr<RetrievalResult> GenerateCandidates(const RetrievalArtifacts& a,
                                                   const ParsedQuery& query,
                                                   const RetrievalOptions& o) {
  RetrievalResult r;
  std::vector<ScoredId> ann, lexical;
  if (o.mode != RetrievalMode::kLexicalOnly) {
    if (!a.query_encoder || !a.index) return absl::FailedPreconditionError("no ANN artifacts loaded");
    auto t = std::chrono::steady_clock::now();
    MS_ASSIGN_OR_RETURN(FloatMatrix qv, a.query_encoder->Encode(query));
    r.encode_ms = MsSince(t);
    r.query_embedding.assign(qv.row(0), qv.row(0) + qv.cols);
    t = std::chrono::steady_clock::now();
    std::vector<Neighbor> nn;
    if (a.delta != nullptr) {
      MS_ASSIGN_OR_RETURN(nn, SearchWithDelta(*a.index, *a.delta, qv.row(0), o.ann_depth, o.filter, o.nprobe));
    } else {
      SearchOptions so;
      so.nprobe = o.nprobe;
      so.filter = o.filter;
      MS_ASSIGN_OR_RETURN(nn, a.index->Search(qv.row(0), o.ann_depth, so));
    }
    r.ann_ms = MsSince(t);
    ann.reserve(nn.size());
    for (const Neighbor& n : nn) ann.push_back({n.listing_id, n.score});
  }
  if (o.mode != RetrievalMode::kAnnOnly && a.lexical) {
    auto t = std::chrono::steady_clock::now();
    MS_ASSIGN_OR_RETURN(std::vector<LexicalHit> hits,
                        a.lexical->SearchTokens(query.terms.tokens, o.lexical_depth, a.lexical_delta));
    r.lexical_ms = MsSince(t);
    lexical.reserve(hits.size());
    for (const LexicalHit& h : hits) lexical.push_back({h.listing_id, static_cast<float>(h.score)});
  } else if (o.mode == RetrievalMode::kLexicalOnly) {
    return absl::FailedPreconditionError("no lexical index loaded");
  }
  auto t = std::chrono::steady_clock::now();
  r.candidates = MergeCandidates(ann, lexical, o.fusion);
  r.merge_ms = MsSince(t);
  return r;
}

}  // namespace marketsearch
