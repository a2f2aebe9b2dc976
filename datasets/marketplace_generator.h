// Deterministic synthetic marketplace: listings, users, queries with graded (ESCI) judgments
// and a position-biased click log, written as tab-separated files under one directory.
//
// The catalog is built from a hidden structured world (product type, brand, model and
// attribute values per listing); titles are rendered from it the way sellers write them and
// queries the way buyers type them, and relevance labels are computed from the hidden
// structure, never from text. datasets/README.md describes the files and the rules.
//
// Same options (seed and sizes) -> byte-identical files. Single-threaded; thread-compatible.
#ifndef MARKETSEARCH_DATASETS_MARKETPLACE_GENERATOR_H_
#define MARKETSEARCH_DATASETS_MARKETPLACE_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace marketsearch {

// One progress report of a generation stage ("users", "listings", "index", "queries").
struct MarketplaceProgress {
  std::string stage;
  int64_t done = 0;
  int64_t total = 0;
  double elapsed_seconds = 0;     // since the stage started
  double records_per_second = 0;  // done / elapsed
  double eta_seconds = 0;         // remaining records at the current rate
  bool finished = false;          // last report of the stage
};
using MarketplaceProgressFn = std::function<void(const MarketplaceProgress&)>;

struct MarketplaceOptions {
  uint64_t seed = 42;
  int64_t listings = 20000;
  int64_t users = 2000;
  int64_t queries = 3000;
  double valid_fraction = 0.15;
  double test_fraction = 0.15;
  // Share of the queries of each split that are built to have a vocabulary gap (no Exact
  // listing's title shares a word with the query). The generator retries a query's intent
  // until its gap status matches its slot, so the realised share is this within rounding.
  double vocab_gap_target = 0.20;
  // Product types the marketplace does not carry (taxonomy type names, e.g. "coffee_table"),
  // for measuring "no good match": their listings are drawn as usual, so every other listing
  // is unchanged, but not written, and no judgment or click names them. A query left with no
  // Exact listing in the catalog is "off-catalog": it is written only in the test split (its
  // intent says `carried=no`), so no model trains or tunes on one; other splits skip it.
  std::vector<std::string> held_out_types;
  // Optional; called from the generating thread about twice a second per stage and once at
  // the end of each stage. Does not influence the output.
  MarketplaceProgressFn progress;
};

struct MarketplaceSummary {
  int64_t listings = 0, users = 0, queries = 0, judgments = 0, clicks = 0;
  int categories = 0;
  int64_t train_queries = 0, valid_queries = 0, test_queries = 0;
  // Share of test queries with no Exact listing whose title shares a word with the query
  // (lowercased, split on non-alphanumerics).
  double vocab_gap_share_test = 0;
  double seconds = 0;
  // Extra statistics.
  int product_types = 0;
  double vocab_gap_share_all = 0;
  int64_t median_exact_per_query = 0;
  double mean_exact_per_query = 0;
  double share_queries_under_100_exact = 0;
  int64_t max_exact_per_query = 0;
  // With held_out_types: listings not written, off-catalog test queries written, and
  // off-catalog train/valid queries skipped (their ids stay unused).
  int64_t held_out_listings = 0;
  int64_t off_catalog_test_queries = 0;
  int64_t off_catalog_skipped_queries = 0;
};

// Generates the marketplace for `options` into `out_dir` (created with its parents):
// listings.tsv, users.tsv, queries.tsv, judgments.tsv, clicks.tsv. Files are written under
// temporary names and renamed when complete. `summary` may be null.
absl::Status WriteMarketplace(const MarketplaceOptions& options, const std::string& out_dir,
                              MarketplaceSummary* summary);

}  // namespace marketsearch

#endif  // MARKETSEARCH_DATASETS_MARKETPLACE_GENERATOR_H_
