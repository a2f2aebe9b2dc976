#include "retrieval/candidate_source.h"

#include <chrono>

#include "common/status_macros.h"
#include "common/timing.h"

namespace marketsearch {

absl::StatusOr<SourceResult> AnnSource::Retrieve(const SourceQuery& q) const {
  SourceResult r;
  auto t = std::chrono::steady_clock::now();
  MS_ASSIGN_OR_RETURN(FloatMatrix qv, encoder_.Encode(q.query));
  r.encode_ms = MsSince(t);
  r.query_embedding.assign(qv.row(0), qv.row(0) + qv.cols);
  t = std::chrono::steady_clock::now();
  std::vector<Neighbor> nn;
  if (delta_ != nullptr) {
    MS_ASSIGN_OR_RETURN(nn, SearchWithDelta(index_, *delta_, qv.row(0), q.depth, q.filter, q.nprobe));
  } else {
    SearchOptions so;
    so.nprobe = q.nprobe;
    so.filter = q.filter;
    MS_ASSIGN_OR_RETURN(nn, index_.Search(qv.row(0), q.depth, so));
  }
  r.search_ms = MsSince(t);
  r.hits.reserve(nn.size());
  for (const Neighbor& n : nn) r.hits.push_back({n.listing_id, n.score});
  return r;
}

absl::StatusOr<SourceResult> LexicalSource::Retrieve(const SourceQuery& q) const {
  SourceResult r;
  const auto t = std::chrono::steady_clock::now();
  MS_ASSIGN_OR_RETURN(std::vector<LexicalHit> hits, index_.SearchTokens(q.query.terms.tokens, q.depth, delta_, q.filter));
  r.search_ms = MsSince(t);
  r.hits.reserve(hits.size());
  for (const LexicalHit& h : hits) r.hits.push_back({h.listing_id, static_cast<float>(h.score)});
  return r;
}

}  // namespace marketsearch
