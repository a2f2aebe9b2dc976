// Searcher: the request pipeline behind MarketSearch.Search, independent of gRPC, as stages
// over one request context:
//   validate (parses the query once: ParsedQuery) → Retrieve (query tower → ANN, then BM25,
//   over each leg's published index + live delta; merged by RRF) → Hydrate (the ListingReader's
//   batched reads: every candidate's record, sold listings and filter misses dropped; then
//   counters, embeddings and user for the best rank_depth) → Rank (features + one batched
//   forward + business rules; reads nothing) → Paginate.
// Each stage is timed by one StageTimer (common/timing.h; DebugInfo.stage_ms).
//
// Loaded artifacts live in an immutable ServingState; a request pins the state it started
// with (shared_ptr), so a hot swap never changes a request's versions mid-flight and the
// old version is freed when its last request ends.
//
// Thread safety: Search() and SetState() may be called concurrently from any thread.
#ifndef MARKETSEARCH_SERVING_SEARCHER_H_
#define MARKETSEARCH_SERVING_SEARCHER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "index/index_snapshot.h"
#include "index/listing_reader.h"
#include "index/live_index.h"
#include "proto/search.pb.h"
#include "ranking/business_rules.h"
#include "ranking/ranker.h"
#include "ranking/ranking_features.h"
#include "retrieval/candidate_generator.h"
#include "serving/search_stats.h"

namespace marketsearch {

// One consistent set of loaded artifacts: the query tower that matches the index's listing
// tower, the index, and the lexical index (optional). Immutable after construction.
struct ServingState {
  RetrievalArtifacts retrieval;
  // The listing tower the index was built with, for embedding upserted listings, and the
  // catalog statistics its dense features need.
  std::shared_ptr<const ListingEncoder> listing_encoder;
  CatalogStats stats;
  // The ranker trained on this index's embedding space; null = serve the fused order.
  std::shared_ptr<const Ranker> ranker;
  ServedVersions versions;
};

// The store snapshot the state's lexical index was built from: the lexical delta keeps the
// writes made since. Falls back to the index's snapshot when there is no lexical index or it
// recorded none (built before build_lexical recorded it; pipelines build both together).
int64_t LexicalSnapshotUnixMs(const ServingState& state);

// What the caller knows of a request's life: its deadline and whether the client gave up.
// The Searcher checks both before each stage, so an expired or abandoned request stops with
// DEADLINE_EXCEEDED / CANCELLED instead of running to the end.
// And whether the server has a core to spare for it
// (Options::concurrent_filtered_legs_when_idle).
struct RequestControl {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::function<bool()> cancelled;  // empty = never
  // Workers of the server's pool (one per core) idle when the request started running.
  int idle_workers = 0;
};

class Searcher {
 public:
  struct Options {
    int min_candidates = 200;   // depth of each retrieval leg for an unfiltered first page
    int max_candidates = 1000;  // hard cap on the depth of each leg
    // Depth multiplier of the lexical leg for a filter its index cannot apply inside the search
    // (LexicalIndex::AppliesInside: price and geo): its candidates are then filtered after
    // retrieval. The ANN leg applies filters inside the index (its results all match) and
    // keeps its unfiltered depth.
    int filter_overfetch = 5;
    int nprobe = 0;             // IVF only; 0 = index default
    RetrievalMode mode = RetrievalMode::kHybrid;  // kAnnOnly ignores the lexical index
    // Run the two retrieval legs at once (RetrievalOptions::concurrent_legs): always, or for
    // a filtered request while its RequestControl reports an idle worker. Measured at 1M on 2
    // cores (README): the second leg's thread costs throughput once every core is busy; on an
    // idle core it pays for filtered requests (both legs cost milliseconds: p99 17.5 -> 14.2
    // ms) but not for unfiltered ones (BM25 ~1 ms: p50 and CPU ~+8%).
    bool concurrent_legs = false;
    bool concurrent_filtered_legs_when_idle = true;
    bool correct_ann_query = true;  // RetrievalOptions::correct_ann_query
    // Results carry the ranker's calibrated relevance_probability and the response its
    // no_good_match flag, when the ranker's artifact has a calibration.
    bool relevance_calibration = true;
    FusionOptions fusion;
    bool use_ranker = true;   // rank with the loaded ranker (if any)
    // An experiment arm's ranker version instead of the served one (null: the served one). It
    // ranks only with an index of its listing tower (else the served ranker does, and the
    // response's versions say so).
    std::shared_ptr<const Ranker> ranker;
    int64_t ranker_version = 0;
    int rank_depth = 200;     // candidates (after filters) the ranker scores
    // Listings whose ranking tokens are memoised between requests (ListingTokenCache) when
    // the reader does not return them with the ranking inputs (MemoryListingReader does, once
    // prepared). A listing not kept is tokenised again on each request that ranks it.
    int token_cache_entries = 200000;
    BusinessRulesOptions rules;  // applied after the ranker
  };

  // `reader` (the catalog's read side: index/listing_reader.h), `ann` and `lexical` (each leg's
  // live side, shared with the ListingWriter) are not owned and must outlive the Searcher.
  Searcher(const Options& options, const ListingReader* reader, LiveAnnIndex* ann,
           LiveLexicalIndex* lexical);

  // Publishes a new state for requests that start after this call, after publishing its
  // index and lexical index to the legs' live sides (which drop the delta entries the new
  // versions hold: LiveAnnIndex/LiveLexicalIndex::Publish, LexicalSnapshotUnixMs).
  // FailedPrecondition when a leg refuses the version (another embedding size or document
  // shape; restart the server to change either).
  absl::Status SetState(std::shared_ptr<const ServingState> state);
  std::shared_ptr<const ServingState> state() const;

  // Errors: INVALID_ARGUMENT (bad request, message names the field), UNAVAILABLE (nothing
  // loaded yet), DEADLINE_EXCEEDED / CANCELLED (`control`), INTERNAL (anything that failed after validation: a library's error, whatever
  // its code; the message is for the server log).
  // `stats` (optional) receives what the request did, for the metrics. `control` (optional):
  // DEADLINE_EXCEEDED / CANCELLED (naming the stage it stopped before) once its deadline
  // passed or the client cancelled.
  // `options` (optional): this request's options instead of the server's (an experiment
  // arm's overrides applied to options(); serving/experiment_router.h).
  absl::Status Search(const SearchRequest& request, SearchResponse* response,
                      SearchRequestStats* stats = nullptr,
                      const RequestControl* control = nullptr,
                      const Options* options = nullptr) const;
  const Options& options() const { return options_; }

 private:
  // The request path after validation, on the pinned state, as stages over one context:
  // Retrieve (both legs, fused) → Hydrate (the candidates' stored records; sold listings and
  // filter misses dropped; the ranking inputs of the best rank_depth) → Rank (features + one
  // batched forward + business rules) → Paginate. Any error is the server's.
  struct RequestContext;
  absl::Status Retrieve(RequestContext* ctx) const;
  absl::Status Hydrate(RequestContext* ctx) const;
  absl::Status Rank(RequestContext* ctx) const;
  void Paginate(const RequestContext& ctx, SearchResponse* response) const;
  absl::Status SearchValidated(const SearchRequest& request, const ParsedQuery& query, int offset,
                               const Options& options,
                               const ServingState& state,
                               DeltaIndex* delta, LexicalDelta* lexical_delta,
                               std::chrono::steady_clock::time_point t_start,
                               SearchResponse* response, SearchRequestStats* stats,
                               const RequestControl* control) const;

  const Options options_;
  const ListingReader* const reader_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const ServingState> state_ ABSL_GUARDED_BY(mu_);
  LiveAnnIndex* const ann_;
  LiveLexicalIndex* const lexical_;
  // Tokenised listing text for the ranker's pair features, shared by all requests (keyed by
  // listing id + text fingerprint, so an updated listing is re-tokenised).
  mutable ListingTokenCache token_cache_;
};

// Great-circle distance in km (index/listing_filter's HaversineKm).
double HaversineKm(const GeoPoint& a, const GeoPoint& b);

// True when the listing passes every filter that is set: ListingFilter's semantics, the ones
// the ANN search applies inside FAISS.
bool MatchesFilters(const Listing& listing, const SearchFilters& filters);

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_SEARCHER_H_
