// Business rules applied after the ranker has scored a request's candidates, as a separate,
// configurable step (so the model's own quality is measured without them):
//  - freshness boost: a listing younger than `fresh_days` gets `fresh_boost` added to its
//    score (optionally decaying linearly to 0 at `fresh_days`);
//  - seller diversity: within the first `diversity_top_n` results at most
//    `max_per_seller` listings of one seller; the displaced listings move down to just after
//    the top N (in score order), nothing is dropped.
// Pure functions; thread-safe.
#ifndef MARKETSEARCH_RANKING_BUSINESS_RULES_H_
#define MARKETSEARCH_RANKING_BUSINESS_RULES_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace marketsearch {

struct BusinessRulesOptions {
  // Freshness. 0 boost (the default) disables the rule.
  double fresh_boost = 0.0;  // added to the ranker score (scores are logits; ~0.5 is a nudge)
  double fresh_days = 3.0;   // "fresh" = listed less than this many days before now
  bool fresh_linear_decay = false;  // boost * (1 - age / fresh_days) instead of a step
  // Seller diversity. 0 (the default) disables the rule.
  int diversity_top_n = 0;   // e.g. 10: the first page
  int max_per_seller = 2;    // listings of one seller allowed within the top N (>= 1)
};

// One scored candidate. seller_id 0 = unknown seller (never capped); listed_at_unix 0 =
// unknown age (never boosted).
struct RankedListing {
  uint64_t listing_id = 0;
  uint64_t seller_id = 0;
  int64_t listed_at_unix = 0;
  float score = 0;  // the ranker's score; the freshness boost is added to it
};

// InvalidArgument naming the field for a negative boost/days/top_n or max_per_seller < 1.
absl::Status ValidateBusinessRules(const BusinessRulesOptions& options);

// Returns `items` in their final order: boosted scores, sorted by score (descending; ties by
// listing id, so the result is deterministic), then the diversity cap. `now_unix` is the
// request time (tests and offline replays pass a fixed one). REQUIRES: options validated.
std::vector<RankedListing> ApplyBusinessRules(std::vector<RankedListing> items,
                                              const BusinessRulesOptions& options, int64_t now_unix);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RANKING_BUSINESS_RULES_H_
