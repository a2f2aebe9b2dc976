// make_marketplace: writes the synthetic marketplace (listings, users, queries, judgments,
// clicks) into --out_dir. Deterministic for a given --seed and sizes. See datasets/README.md.
//
//   bazel-bin/jobs/make_marketplace --listings 1000000 --users 100000 --queries 20000
//       --out_dir var/catalog
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/progress.h"
#include "datasets/marketplace_generator.h"

ABSL_FLAG(uint64_t, seed, 42, "Random seed; same seed and sizes give byte-identical files.");
ABSL_FLAG(int64_t, listings, 20000, "Number of listings.");
ABSL_FLAG(int64_t, users, 2000, "Number of users (buyers and sellers).");
ABSL_FLAG(int64_t, queries, 3000, "Number of queries (all splits).");
ABSL_FLAG(double, valid_fraction, 0.15, "Share of queries in the valid split.");
ABSL_FLAG(double, test_fraction, 0.15, "Share of queries in the test split.");
ABSL_FLAG(double, vocab_gap_target, 0.20,
          "Share of queries per split whose words appear in no Exact listing's title.");
ABSL_FLAG(std::string, out_dir, "var/catalog", "Output directory (created if missing).");
ABSL_FLAG(std::vector<std::string>, hold_out_types, {},
          "Comma-separated product types the marketplace does not carry (taxonomy names, e.g. "
          "coffee_table,ebike): their listings are not written and their queries stay, in the "
          "test split only, as off-catalog queries (intent carried=no). For measuring the "
          "\"no good match\" signal.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes a deterministic synthetic marketplace (listings.tsv, users.tsv, queries.tsv,\n"
      "judgments.tsv, clicks.tsv) into --out_dir. Progress goes to stderr.\n"
      "Example: make_marketplace --listings 1000000 --users 100000 --queries 20000 "
      "--out_dir var/catalog");
  absl::ParseCommandLine(argc, argv);

  marketsearch::MarketplaceOptions o;
  o.seed = absl::GetFlag(FLAGS_seed);
  o.listings = absl::GetFlag(FLAGS_listings);
  o.users = absl::GetFlag(FLAGS_users);
  o.queries = absl::GetFlag(FLAGS_queries);
  o.valid_fraction = absl::GetFlag(FLAGS_valid_fraction);
  o.test_fraction = absl::GetFlag(FLAGS_test_fraction);
  o.vocab_gap_target = absl::GetFlag(FLAGS_vocab_gap_target);
  o.held_out_types = absl::GetFlag(FLAGS_hold_out_types);
  const std::string out_dir = absl::GetFlag(FLAGS_out_dir);

  std::unique_ptr<marketsearch::Progress> bar;
  std::string stage;
  o.progress = [&](const marketsearch::MarketplaceProgress& p) {
    if (p.stage != stage || bar == nullptr) {
      stage = p.stage;
      bar = std::make_unique<marketsearch::Progress>(p.stage, p.total);
    }
    bar->Update(p.done);
    if (p.finished) {
      bar->Finish();
      bar.reset();
    }
  };

  marketsearch::MarketplaceSummary s;
  const absl::Status st = marketsearch::WriteMarketplace(o, out_dir, &s);
  if (!st.ok()) {
    std::fprintf(stderr, "make_marketplace: %s\n", st.ToString().c_str());
    return 1;
  }
  std::printf(
      "marketplace written to %s (seed %llu) in %.2f s\n"
      "  listings    %lld  (%d categories, %d product types)\n"
      "  users       %lld\n"
      "  queries     %lld  (train %lld / valid %lld / test %lld)\n"
      "  judgments   %lld  (all Exact + sampled S/C/I per query)\n"
      "  clicks      %lld  (train queries, position-biased)\n"
      "  exact/query median %lld, mean %.1f, max %lld; %.1f%% of queries have < 100 Exact\n"
      "  vocabulary gap: test %.3f, all splits %.3f\n",
      out_dir.c_str(), static_cast<unsigned long long>(o.seed), s.seconds,
      static_cast<long long>(s.listings), s.categories, s.product_types,
      static_cast<long long>(s.users), static_cast<long long>(s.queries),
      static_cast<long long>(s.train_queries), static_cast<long long>(s.valid_queries),
      static_cast<long long>(s.test_queries), static_cast<long long>(s.judgments),
      static_cast<long long>(s.clicks), static_cast<long long>(s.median_exact_per_query),
      s.mean_exact_per_query, static_cast<long long>(s.max_exact_per_query),
      100.0 * s.share_queries_under_100_exact, s.vocab_gap_share_test, s.vocab_gap_share_all);
  if (!o.held_out_types.empty()) {
    std::printf("  held out    %zu product types: %lld listings not written; %lld off-catalog test "
                "queries kept, %lld off-catalog train/valid queries skipped\n",
                o.held_out_types.size(), static_cast<long long>(s.held_out_listings),
                static_cast<long long>(s.off_catalog_test_queries),
                static_cast<long long>(s.off_catalog_skipped_queries));
  }
  return 0;
}
