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

Searcher::Searcher(const Options& options, const ListingReader* reader, LiveAnnIndex* ann,
                   LiveLexicalIndex* lexical)
    : options_(options), reader_(reader), ann_(ann), lexical_(lexical),
      token_cache_(static_cast<size_t>(std::max(1, options.token_cache_entries))) {}

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

namespace {

// Stops a request whose deadline passed or whose client cancelled, before `next_stage`.
absl::Status CheckControl(const RequestControl* control, const char* next_stage) {
  if (control == nullptr) return absl::OkStatus();
  if (std::chrono::steady_clock::now() >= control->deadline) {
    return absl::DeadlineExceededError(absl::StrCat("deadline passed before ", next_stage));
  }
  if (control->cancelled && control->cancelled()) {
    return absl::CancelledError(absl::StrCat("cancelled by the client before ", next_stage));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Searcher::Search(const SearchRequest& req, SearchResponse* resp,
                              SearchRequestStats* stats, const RequestControl* control,
                              const Options* options) const {
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
  absl::Status s = SearchValidated(req, query, offset, options != nullptr ? *options : options_,
                                   *state, delta, lexical_delta, t_start, resp, stats, control);
  // The request's own end (deadline, cancellation) is the client's to know.
  if (absl::IsDeadlineExceeded(s) || absl::IsCancelled(s)) return s;
  // The request was valid: whatever else failed after this point is the server's (a library's
  // InvalidArgument must not tell the client its request was bad).
  if (!s.ok()) return absl::InternalError(absl::StrCat("search: ", s.message()));
  return absl::OkStatus();
}

// Everything one request carries from stage to stage. Built by Search(), filled in order by
// Retrieve → Hydrate → Rank → Paginate; each stage reads what the ones before it wrote.
struct Searcher::RequestContext {
  const SearchRequest& request;
  const ParsedQuery& query;    // parsed once, by validation
  const int offset;            // rank the page starts at
  const Options& options;      // the server's, or an experiment arm's
  const ServingState& state;   // pinned for the whole request
  DeltaIndex* const delta;
  LexicalDelta* const lexical_delta;
  const ListingFilter filter;  // the request's filters, as the ANN search applies them
  const bool filtered;
  const Ranker* ranker = nullptr;  // null: the fused order (set by SearchValidated)
  int idle_workers = 0;            // RequestControl::idle_workers (0 without a control)
  StageTimer timer;            // per-stage milliseconds (DebugInfo.stage_ms)

  // Retrieve: candidates in fused order, and the query embedding the ranker reuses.
  RetrievalResult retrieved;
  // Hydrate: the stored record of each candidate (null: gone from the store), and the
  // candidates that survive: in the store and passing the filters (indexes, fused order).
  std::vector<ListingRecord> listings;
  std::vector<size_t> kept;
  // ... and what the ranker needs of the first rank_depth kept (empty without a ranker).
  size_t rank_count = 0;
  RankingInputs ranking_inputs;
  // Rank: the final order (indexes into candidates) and per-candidate scores.
  std::vector<size_t> order;
  std::vector<float> score;         // what the page is ordered by
  std::vector<float> ranker_score;  // 0 when not ranked
  // Calibrated P(Exact) per candidate, -1 when not ranked or not calibrated; the best one.
  std::vector<float> probability;
  float best_probability = -1;
  absl::flat_hash_map<size_t, int> fused_rank;  // 1-based position among the kept
  absl::flat_hash_map<size_t, std::vector<std::pair<std::string, float>>> explain;  // debug only

  const std::vector<Candidate>& candidates() const { return retrieved.candidates; }
};

absl::Status Searcher::SearchValidated(const SearchRequest& req, const ParsedQuery& query, int offset,
                                       const Options& options, const ServingState& state, DeltaIndex* delta,
                                       LexicalDelta* lexical_delta,
                                       std::chrono::steady_clock::time_point t_start,
                                       SearchResponse* resp, SearchRequestStats* stats,
                                       const RequestControl* control) const {
  const SearchFilters& f = req.filters();
  RequestContext ctx{req, query, offset, options, state, delta, lexical_delta, ListingFilter(f),
                     f.categories_size() > 0 || f.price().min() > 0 || f.price().max() > 0 ||
                         f.conditions_size() > 0 || f.has_geo()};
  if (control != nullptr) ctx.idle_workers = control->idle_workers;
  resp->Clear();
  resp->set_request_id(NewRequestId());
  *resp->mutable_versions() = state.versions;
  if (options.use_ranker) {
    if (options.ranker != nullptr &&
        options.ranker->listing_tower_version() == state.versions.listing_tower()) {
      ctx.ranker = options.ranker.get();
      resp->mutable_versions()->set_ranker(options.ranker_version);
    } else {
      ctx.ranker = state.ranker.get();
    }
  }
  if (ctx.ranker == nullptr) resp->mutable_versions()->set_ranker(0);
  MS_RETURN_IF_ERROR(CheckControl(control, "retrieval"));
  MS_RETURN_IF_ERROR(Retrieve(&ctx));
  MS_RETURN_IF_ERROR(CheckControl(control, "hydration"));
  MS_RETURN_IF_ERROR(Hydrate(&ctx));
  MS_RETURN_IF_ERROR(CheckControl(control, "ranking"));
  MS_RETURN_IF_ERROR(Rank(&ctx));
  Paginate(ctx, resp);
  if (stats != nullptr) {
    stats->stage_ms.assign(ctx.timer.stages_ms().begin(), ctx.timer.stages_ms().end());
    for (const Candidate& c : ctx.candidates()) {
      stats->ann_candidates += c.ann_rank > 0;
      stats->lexical_candidates += c.lexical_rank > 0;
    }
    stats->fused_candidates = static_cast<int64_t>(ctx.candidates().size());
    stats->kept_candidates = static_cast<int64_t>(ctx.kept.size());
    stats->results = resp->results_size();
    if (resp->has_best_relevance_probability()) stats->match = resp->no_good_match() ? "none" : "good";
    stats->filtered = ctx.filtered;
    stats->concurrent_legs = ctx.retrieved.concurrent;
  }
  if (req.debug()) {
    DebugInfo* debug = resp->mutable_debug();
    debug->set_normalized_query(query.normalized);
    debug->set_candidates(static_cast<int32_t>(ctx.candidates().size()));
    for (const auto& [stage, ms] : ctx.timer.stages_ms()) (*debug->mutable_stage_ms())[stage] = ms;
    (*debug->mutable_stage_ms())["total"] = MsSince(t_start);
  }
  return absl::OkStatus();
}

absl::Status Searcher::Retrieve(RequestContext* ctx) const {
  // Depth of each leg: enough for the page; the lexical leg's more when filters will drop its
  // candidates (the ANN leg filters inside the index: every one of its results matches).
  const int depth = std::min(std::max(ctx->options.min_candidates, ctx->offset + ctx->request.page_size()),
                             ctx->options.max_candidates);
  RetrievalOptions ro;
  ro.mode = ctx->options.mode;
  ro.ann_depth = depth;
  // The lexical leg applies categories and conditions inside its search; a filter with a
  // price or geo part it cannot apply is over-fetched and checked afterwards (Hydrate).
  // (Price and geo checked inside Xapian by a match decider on in-memory values cost more:
  // at 1M, filtered p99 15.6-16.3 -> 17.9-18.5 ms, since Xapian then walks far more postings
  // for a selective filter than the over-fetch does.)
  const LexicalIndex* lexical = ctx->state.retrieval.lexical.get();
  const bool overfetch_lexical =
      ctx->filtered && (lexical == nullptr || !lexical->AppliesInside(ctx->filter));
  ro.lexical_depth = overfetch_lexical
                         ? std::min(depth * ctx->options.filter_overfetch, ctx->options.max_candidates)
                         : depth;
  ro.nprobe = ctx->options.nprobe;
  ro.fusion = ctx->options.fusion;
  ro.correct_ann_query = ctx->options.correct_ann_query;
  ro.concurrent_legs = ctx->options.concurrent_legs ||
                       (ctx->options.concurrent_filtered_legs_when_idle && ctx->filtered &&
                        ctx->idle_workers > 0);
  if (ctx->filtered) ro.filter = &ctx->filter;
  RetrievalArtifacts artifacts = ctx->state.retrieval;
  artifacts.delta = ctx->delta;
  artifacts.lexical_delta = ctx->lexical_delta;
  MS_ASSIGN_OR_RETURN(ctx->retrieved, GenerateCandidates(artifacts, ctx->query, ro));
  ctx->timer.Add("encode_query", ctx->retrieved.encode_ms);
  ctx->timer.Add("ann", ctx->retrieved.ann_ms);
  ctx->timer.Add("lexical", ctx->retrieved.lexical_ms);
  ctx->timer.Add("merge", ctx->retrieved.merge_ms);
  return absl::OkStatus();
}

absl::Status Searcher::Hydrate(RequestContext* ctx) const {
  const SteadyTime t = std::chrono::steady_clock::now();
  const std::vector<Candidate>& candidates = ctx->candidates();
  std::vector<uint64_t> ids;
  ids.reserve(candidates.size());
  for (const Candidate& c : candidates) ids.push_back(c.listing_id);
  MS_ASSIGN_OR_RETURN(ctx->listings, reader_->ReadListings(ids));
  // Candidates that are gone from the store (sold) or fail the filters are dropped.
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (ctx->listings[i] != nullptr &&
        (!ctx->filtered || ctx->filter.Matches(ListingAttributes::FromListing(*ctx->listings[i])))) {
      ctx->kept.push_back(i);
    }
  }
  ctx->timer.Record("features", t);
  if (ctx->ranker == nullptr || ctx->kept.empty()) return absl::OkStatus();
  // The ranker scores the best rank_depth survivors: only they need counters and embeddings.
  const SteadyTime t_inputs = std::chrono::steady_clock::now();
  ctx->rank_count = std::min<size_t>(ctx->kept.size(), std::max(1, ctx->options.rank_depth));
  std::vector<uint64_t> rank_ids(ctx->rank_count);
  for (size_t j = 0; j < ctx->rank_count; ++j) rank_ids[j] = candidates[ctx->kept[j]].listing_id;
  MS_ASSIGN_OR_RETURN(ctx->ranking_inputs,
                      reader_->ReadRankingInputs(rank_ids, ctx->request.user_id(),
                                                 *ctx->state.retrieval.index));
  ctx->timer.Record("ranking_inputs", t_inputs);
  return absl::OkStatus();
}

absl::Status Searcher::Rank(RequestContext* ctx) const {
  const std::vector<Candidate>& candidates = ctx->candidates();
  const std::vector<size_t>& kept = ctx->kept;
  ctx->score.resize(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) ctx->score[i] = candidates[i].fused_score;
  ctx->ranker_score.assign(candidates.size(), 0.0f);
  ctx->probability.assign(candidates.size(), -1.0f);
  for (size_t j = 0; j < kept.size(); ++j) ctx->fused_rank[kept[j]] = static_cast<int>(j + 1);
  ctx->order = kept;
  const ServingState& state = ctx->state;
  if (ctx->ranker == nullptr || kept.empty()) return absl::OkStatus();

  // The ranker reorders the best rank_depth survivors (read by Hydrate) in one batched
  // forward; the rest follow in fused order.
  SteadyTime t = std::chrono::steady_clock::now();
  const size_t depth = ctx->rank_count;
  std::vector<Candidate> to_rank;
  std::vector<ListingRecord> to_rank_listings;
  for (size_t j = 0; j < depth; ++j) {
    to_rank.push_back(candidates[kept[j]]);
    to_rank_listings.push_back(ctx->listings[kept[j]]);
  }
  const std::optional<QueryTerms> corrected = CorrectedQueryTerms(ctx->retrieved.corrected_tokens);
  MS_ASSIGN_OR_RETURN(RankingBatch batch,
                      MakeRankingBatch(state.stats, ctx->query.terms, ctx->retrieved.query_embedding,
                                       std::move(to_rank), std::move(to_rank_listings),
                                       ctx->ranking_inputs, &token_cache_,
                                       corrected ? &*corrected : nullptr));
  ctx->timer.Record("rank_features", t);
  t = std::chrono::steady_clock::now();
  MS_ASSIGN_OR_RETURN(std::vector<float> s, ctx->ranker->Score(batch.features));
  ctx->timer.Record("ranker", t);
  const RelevanceCalibration* calibration =
      ctx->options.relevance_calibration ? ctx->ranker->calibration() : nullptr;
  // The batch holds the kept candidates in fused order.
  absl::flat_hash_map<uint64_t, size_t> at;
  for (size_t j = 0; j < depth; ++j) at[candidates[kept[j]].listing_id] = kept[j];
  std::vector<RankedListing> ranked;
  for (size_t j = 0; j < batch.candidates.size(); ++j) {
    const size_t i = at.at(batch.candidates[j].listing_id);
    ctx->ranker_score[i] = s[j];
    if (calibration != nullptr) {
      ctx->probability[i] = calibration->Probability(s[j]);
      ctx->best_probability = std::max(ctx->best_probability, ctx->probability[i]);
    }
    if (ctx->request.debug()) {
      ctx->explain[i] = ExplainFeatures(batch.features.row(static_cast<int64_t>(j)));
    }
    ranked.push_back({candidates[i].listing_id, ctx->listings[i]->seller_id(),
                      ctx->listings[i]->listed_at_unix(), s[j]});
  }
  ranked = ApplyBusinessRules(std::move(ranked), ctx->options.rules, NowUnixMs() / 1000);
  std::vector<size_t> reordered;
  absl::flat_hash_set<size_t> placed;
  for (const RankedListing& r : ranked) {
    const size_t i = at.at(r.listing_id);
    ctx->score[i] = r.score;
    reordered.push_back(i);
    placed.insert(i);
  }
  for (size_t i : kept) {
    if (!placed.contains(i)) reordered.push_back(i);
  }
  ctx->order = std::move(reordered);
  return absl::OkStatus();
}

void Searcher::Paginate(const RequestContext& ctx, SearchResponse* resp) const {
  const SearchRequest& req = ctx.request;
  const int end = ctx.offset + req.page_size();
  const bool more = static_cast<int>(ctx.order.size()) > end;
  for (int pos = ctx.offset; pos < std::min<int>(end, static_cast<int>(ctx.order.size())); ++pos) {
    const size_t i = ctx.order[pos];
    const Listing& l = *ctx.listings[i];
    SearchResult* r = resp->add_results();
    r->set_listing_id(l.listing_id());
    r->set_title(l.title());
    r->set_price(l.price());
    r->set_category(l.category());
    r->set_condition(l.condition());
    r->set_city(l.city());
    r->set_score(ctx.score[i]);
    if (ctx.probability[i] >= 0) r->set_relevance_probability(ctx.probability[i]);
    if (req.debug()) {
      const Candidate& c = ctx.candidates()[i];
      StageScores* d = r->mutable_debug();
      d->set_ann_score(c.ann_score);
      d->set_ann_rank(c.ann_rank);
      d->set_lexical_score(c.lexical_score);
      d->set_lexical_rank(c.lexical_rank);
      d->set_fused_score(c.fused_score);
      d->set_ranker_score(ctx.ranker_score[i]);
      if (auto fr = ctx.fused_rank.find(i); fr != ctx.fused_rank.end()) d->set_fused_rank(fr->second);
      if (auto e = ctx.explain.find(i); e != ctx.explain.end()) {
        for (const auto& [name, value] : e->second) (*d->mutable_features())[name] = value;
      }
    }
  }
  // "No good match" is about the ranked set, not the page or the filters; a best probability
  // exists only when the calibrated ranker scored something (an empty set speaks for itself).
  if (ctx.best_probability >= 0) {
    resp->set_best_relevance_probability(ctx.best_probability);
    resp->set_no_good_match(ctx.ranker->calibration()->NoGoodMatch(ctx.best_probability));
  }
  if (more && end < kMaxResultDepth) {
    resp->set_next_page_token(EncodePageToken(req, end, ctx.state.versions.index()));
  }
}

}  // namespace marketsearch
