#include "serving/searcher.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "ranking/ranking_features.h"
#include "ranking/ranking_pipeline.h"
#include "serving/request_validation.h"

namespace marketsearch {
namespace {

std::string NewRequestId() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   static_cast<uint64_t>(std::hash<std::thread::id>()(std::this_thread::get_id())));
  return absl::StrFormat("%016x", rng());
}

}  // namespace

double HaversineKm(const GeoPoint& a, const GeoPoint& b) {
  return HaversineKm(a.lat(), a.lon(), b.lat(), b.lon());
}

bool MatchesFilters(const Listing& l, const SearchFilters& f) {
  return ListingFilter(f).Matches(ListingAttributes::FromListing(l));
}

Searcher::Searcher(const Options& options, const FeatureStore* store, LiveAnnIndex* ann,
                   LiveLexicalIndex* lexical)
    : options_(options), store_(store), ann_(ann), lexical_(lexical) {}

absl::Status Searcher::SetState(std::shared_ptr<const ServingState> state) {
  absl::MutexLock lock(&mu_);
  // Each leg's live side first: a request that sees the new state finds deltas that hold
  // exactly the writes the new versions lack.
  MS_RETURN_IF_ERROR(ann_->Publish(*state->retrieval.index));
  MS_RETURN_IF_ERROR(lexical_->Publish(state->retrieval.lexical.get(), LexicalSnapshotUnixMs(*state)));
  state_ = std::move(state);
  return absl::OkStatus();
}

int64_t LexicalSnapshotUnixMs(const ServingState& state) {
  if (state.retrieval.lexical != nullptr && state.retrieval.lexical->snapshot_unix_ms() > 0) {
    return state.retrieval.lexical->snapshot_unix_ms();
  }
  return state.retrieval.index->manifest().snapshot_unix_ms();
}

std::shared_ptr<const ServingState> Searcher::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::Status Searcher::Search(const SearchRequest& req, SearchResponse* resp) const {
  const auto t_start = std::chrono::steady_clock::now();
  int offset = 0;
  ParsedQuery query;  // the request's query, normalised once (by validation)
  MS_RETURN_IF_ERROR(ValidateSearchRequest(req, &offset, &query));
  // Pin the artifacts for the whole request; the deltas exist once a state does (SetState
  // publishes to them first).
  const std::shared_ptr<const ServingState> state = this->state();
  if (!state) return absl::UnavailableError("no model/index loaded yet");
  DeltaIndex* const delta = ann_->delta();
  LexicalDelta* const lexical_delta = lexical_->delta();
  absl::Status s = SearchValidated(req, query, offset, *state, delta, lexical_delta, t_start, resp);
  // The request was valid: whatever failed after this point is the server's (a library's
  // InvalidArgument must not tell the client its request was bad).
  if (!s.ok()) return absl::InternalError(absl::StrCat("search: ", s.message()));
  return absl::OkStatus();
}

absl::Status Searcher::SearchValidated(const SearchRequest& req, const ParsedQuery& query, int offset,
                                       const ServingState& pinned, DeltaIndex* delta,
                                       LexicalDelta* lexical_delta,
                                       std::chrono::steady_clock::time_point t_start,
                                       SearchResponse* resp) const {
  const ServingState* const state = &pinned;

  resp->Clear();
  resp->set_request_id(NewRequestId());
  *resp->mutable_versions() = state->versions;
  DebugInfo* debug = req.debug() ? resp->mutable_debug() : nullptr;

  const SearchFilters& f = req.filters();
  const bool filtered = f.categories_size() > 0 || f.price().min() > 0 || f.price().max() > 0 ||
                        f.conditions_size() > 0 || f.has_geo();
  int depth = std::max(options_.min_candidates, offset + req.page_size());
  if (filtered) depth *= options_.filter_overfetch;
  depth = std::min(depth, options_.max_candidates);

  RetrievalOptions ro;
  ro.mode = options_.mode;
  ro.ann_depth = depth;
  ro.lexical_depth = depth;
  ro.nprobe = options_.nprobe;
  ro.fusion = options_.fusion;
  const ListingFilter ann_filter(f);
  if (filtered) ro.filter = &ann_filter;
  RetrievalArtifacts artifacts = state->retrieval;
  artifacts.delta = delta;
  artifacts.lexical_delta = lexical_delta;
  MS_ASSIGN_OR_RETURN(RetrievalResult retrieved, GenerateCandidates(artifacts, query, ro));
  const std::vector<Candidate>& candidates = retrieved.candidates;
  if (debug) {
    (*debug->mutable_stage_ms())["encode_query"] = retrieved.encode_ms;
    (*debug->mutable_stage_ms())["ann"] = retrieved.ann_ms;
    (*debug->mutable_stage_ms())["lexical"] = retrieved.lexical_ms;
    (*debug->mutable_stage_ms())["merge"] = retrieved.merge_ms;
    debug->set_normalized_query(query.normalized);
  }

  auto t = std::chrono::steady_clock::now();
  std::vector<uint64_t> ids;
  ids.reserve(candidates.size());
  for (const Candidate& c : candidates) ids.push_back(c.listing_id);
  MS_ASSIGN_OR_RETURN(auto listings, store_->GetListings(ids));
  if (debug) (*debug->mutable_stage_ms())["features"] = MsSince(t);

  // Candidates that are gone from the store (sold) or fail the filters are dropped.
  std::vector<size_t> kept;  // indexes into candidates / listings, fused order
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (listings[i].has_value() && ann_filter.Matches(ListingAttributes::FromListing(*listings[i]))) {
      kept.push_back(i);
    }
  }
  // The ranker reorders the best rank_depth survivors in one batched forward; the rest
  // follow in fused order.
  std::vector<float> score(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) score[i] = candidates[i].fused_score;
  std::vector<float> ranker_score(candidates.size(), 0.0f);
  absl::flat_hash_map<size_t, std::vector<std::pair<std::string, float>>> explain;  // debug only
  absl::flat_hash_map<size_t, int> fused_rank;
  for (size_t j = 0; j < kept.size(); ++j) fused_rank[kept[j]] = static_cast<int>(j + 1);
  std::vector<size_t> order = kept;
  if (options_.use_ranker && state->ranker && !kept.empty()) {
    t = std::chrono::steady_clock::now();
    const size_t depth = std::min<size_t>(kept.size(), std::max(1, options_.rank_depth));
    std::vector<Candidate> to_rank;
    std::vector<Listing> to_rank_listings;  // read once above, for the filters
    for (size_t j = 0; j < depth; ++j) {
      to_rank.push_back(candidates[kept[j]]);
      to_rank_listings.push_back(*listings[kept[j]]);
    }
    std::optional<User> user;
    if (req.user_id() != 0) {
      MS_ASSIGN_OR_RETURN(user, store_->GetUser(req.user_id()));
    }
    MS_ASSIGN_OR_RETURN(RankingBatch batch,
                        MakeRankingBatch(*store_, *state->retrieval.index, state->stats, query.terms,
                                         retrieved.query_embedding, std::move(to_rank),
                                         std::move(to_rank_listings), user ? &*user : nullptr,
                                         &token_cache_, delta));
    if (debug) (*debug->mutable_stage_ms())["rank_features"] = MsSince(t);
    auto t_rank = std::chrono::steady_clock::now();
    MS_ASSIGN_OR_RETURN(std::vector<float> s, state->ranker->Score(batch.features));
    if (debug) (*debug->mutable_stage_ms())["ranker"] = MsSince(t_rank);
    // The batch holds the kept candidates in fused order.
    absl::flat_hash_map<uint64_t, size_t> at;
    for (size_t j = 0; j < depth; ++j) at[candidates[kept[j]].listing_id] = kept[j];
    std::vector<RankedListing> ranked;
    for (size_t j = 0; j < batch.candidates.size(); ++j) {
      const size_t i = at.at(batch.candidates[j].listing_id);
      ranker_score[i] = s[j];
      if (debug) {
        explain[i] = ExplainFeatures(batch.features.row(static_cast<int64_t>(j)));
      }
      ranked.push_back({candidates[i].listing_id, listings[i]->seller_id(),
                        listings[i]->listed_at_unix(), s[j]});
    }
    const int64_t now_unix = NowUnixMs() / 1000;
    ranked = ApplyBusinessRules(std::move(ranked), options_.rules, now_unix);
    std::vector<size_t> reordered;
    absl::flat_hash_set<size_t> placed;
    for (const RankedListing& r : ranked) {
      const size_t i = at.at(r.listing_id);
      score[i] = r.score;
      reordered.push_back(i);
      placed.insert(i);
    }
    for (size_t i : kept) {
      if (!placed.contains(i)) reordered.push_back(i);
    }
    order = std::move(reordered);
  }

  const int end = offset + req.page_size();
  const bool more = static_cast<int>(order.size()) > end;
  for (int pos = offset; pos < std::min<int>(end, static_cast<int>(order.size())); ++pos) {
    const size_t i = order[pos];
    const Listing& l = *listings[i];
    SearchResult* r = resp->add_results();
    r->set_listing_id(l.listing_id());
    r->set_title(l.title());
    r->set_price(l.price());
    r->set_category(l.category());
    r->set_condition(l.condition());
    r->set_city(l.city());
    const Candidate& c = candidates[i];
    r->set_score(score[i]);
    if (req.debug()) {
      StageScores* d = r->mutable_debug();
      d->set_ann_score(c.ann_score);
      d->set_ann_rank(c.ann_rank);
      d->set_lexical_score(c.lexical_score);
      d->set_lexical_rank(c.lexical_rank);
      d->set_fused_score(c.fused_score);
      d->set_ranker_score(ranker_score[i]);
      d->set_fused_rank(fused_rank[i]);
      if (auto e = explain.find(i); e != explain.end()) {
        for (const auto& [name, value] : e->second) (*d->mutable_features())[name] = value;
      }
    }
  }
  if (more && end < kMaxResultDepth) {
    resp->set_next_page_token(EncodePageToken(req, end, state->versions.index()));
  }
  if (debug) {
    debug->set_candidates(static_cast<int32_t>(candidates.size()));
    (*debug->mutable_stage_ms())["total"] = MsSince(t_start);
  }
  return absl::OkStatus();
}

}  // namespace marketsearch
