#include "retrieval/candidate_generator.h"

#include <chrono>
#include <future>
#include <optional>

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
  const bool with_ann = o.mode != RetrievalMode::kLexicalOnly;
  const bool with_lexical = o.mode != RetrievalMode::kAnnOnly && a.lexical;
  if (with_ann && (!a.query_encoder || !a.index)) {
    return absl::FailedPreconditionError("no ANN artifacts loaded");
  }
  if (o.mode == RetrievalMode::kLexicalOnly && !a.lexical) {
    return absl::FailedPreconditionError("no lexical index loaded");
  }
  std::optional<AnnSource> ann;
  std::optional<LexicalSource> lexical;
  if (with_ann) {
    ann.emplace(*a.query_encoder, *a.index, a.delta,
                o.correct_ann_query ? a.lexical.get() : nullptr);
  }
  if (with_lexical) lexical.emplace(*a.lexical, a.lexical_delta);
  return GenerateFromSources(ann ? &*ann : nullptr, lexical ? &*lexical : nullptr, query, o);
}

absl::StatusOr<RetrievalResult> GenerateFromSources(const CandidateSource* ann,
                                                    const CandidateSource* lexical,
                                                    const ParsedQuery& query,
                                                    const RetrievalOptions& o) {
  // Each leg writes only its own result, so the two may run at the same time.
  SourceResult ann_result, lexical_result;
  auto ann_leg = [&]() -> absl::Status {
    MS_ASSIGN_OR_RETURN(ann_result, ann->Retrieve({query, o.ann_depth, o.filter, o.nprobe}));
    return absl::OkStatus();
  };
  auto lexical_leg = [&]() -> absl::Status {
    MS_ASSIGN_OR_RETURN(lexical_result, lexical->Retrieve({query, o.lexical_depth, o.filter, 0}));
    return absl::OkStatus();
  };
  const bool concurrent = ann != nullptr && lexical != nullptr && o.concurrent_legs;
  if (concurrent) {
    std::future<absl::Status> lexical_done = std::async(std::launch::async, lexical_leg);
    const absl::Status ann_status = ann_leg();
    const absl::Status lexical_status = lexical_done.get();
    MS_RETURN_IF_ERROR(ann_status);
    MS_RETURN_IF_ERROR(lexical_status);
  } else {
    if (ann != nullptr) MS_RETURN_IF_ERROR(ann_leg());
    if (lexical != nullptr) MS_RETURN_IF_ERROR(lexical_leg());
  }
  RetrievalResult r;
  r.concurrent = concurrent;
  r.query_embedding = std::move(ann_result.query_embedding);
  r.corrected_tokens = std::move(ann_result.corrected_tokens);
  r.encode_ms = ann_result.encode_ms;
  r.ann_ms = ann_result.search_ms;
  r.lexical_ms = lexical_result.encode_ms + lexical_result.search_ms;
  const auto t = std::chrono::steady_clock::now();
  r.candidates = MergeCandidates(ann_result.hits, lexical_result.hits, o.fusion);
  r.merge_ms = MsSince(t);
  return r;
}

}  // namespace marketsearch
