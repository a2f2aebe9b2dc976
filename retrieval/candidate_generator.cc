#include "retrieval/candidate_generator.h"

#include <chrono>
#include <future>

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
  const bool with_ann = o.mode != RetrievalMode::kLexicalOnly;
  const bool with_lexical = o.mode != RetrievalMode::kAnnOnly && a.lexical;
  if (with_ann && (!a.query_encoder || !a.index)) {
    return absl::FailedPreconditionError("no ANN artifacts loaded");
  }
  if (o.mode == RetrievalMode::kLexicalOnly && !a.lexical) {
    return absl::FailedPreconditionError("no lexical index loaded");
  }
  // Each leg writes only its own outputs, so the two may run at the same time.
  auto ann_leg = [&]() -> absl::Status {
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
    return absl::OkStatus();
  };
  auto lexical_leg = [&]() -> absl::Status {
    auto t = std::chrono::steady_clock::now();
    MS_ASSIGN_OR_RETURN(std::vector<LexicalHit> hits,
                        a.lexical->SearchTokens(query.terms.tokens, o.lexical_depth, a.lexical_delta));
    r.lexical_ms = MsSince(t);
    lexical.reserve(hits.size());
    for (const LexicalHit& h : hits) lexical.push_back({h.listing_id, static_cast<float>(h.score)});
    return absl::OkStatus();
  };
  if (with_ann && with_lexical && o.concurrent_legs) {
    std::future<absl::Status> lexical_done = std::async(std::launch::async, lexical_leg);
    const absl::Status ann_status = ann_leg();
    const absl::Status lexical_status = lexical_done.get();
    MS_RETURN_IF_ERROR(ann_status);
    MS_RETURN_IF_ERROR(lexical_status);
  } else {
    if (with_ann) MS_RETURN_IF_ERROR(ann_leg());
    if (with_lexical) MS_RETURN_IF_ERROR(lexical_leg());
  }
  auto t = std::chrono::steady_clock::now();
  r.candidates = MergeCandidates(ann, lexical, o.fusion);
  r.merge_ms = MsSince(t);
  return r;
}

}  // namespace marketsearch
