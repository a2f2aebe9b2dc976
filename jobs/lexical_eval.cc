// lexical_eval: quality and latency of the lexical leg alone. Builds lexical indexes with
// different field sets from the feature store (into a scratch directory), replays the judged
// queries of one split through LexicalIndex::Search under different query-shaping options and
// prints NDCG@10, capped Recall@k of Exact listings (experiments/metrics.h) and single-thread Search
// latency, one row per variant; then what the handle pool costs and how Search scales with
// threads.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "datasets/catalog_reader.h"
#include "experiments/metrics.h"
#include "features/feature_store.h"
#include "index/lexical_index.h"
#include "index/lexical_writer.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (store/ and catalog/ in)");
ABSL_FLAG(std::string, split, "test", "which judged queries to replay: train, valid or test");
ABSL_FLAG(int, k, 100, "results per query (Recall@k is reported at this k)");
ABSL_FLAG(std::string, work_dir, "",
          "where the indexes are built (default: a fresh directory under /tmp, removed at exit)");
ABSL_FLAG(std::string, index_dir, "",
          "evaluate this existing lexical index (e.g. var/lexical/3) under the query-shaping "
          "variants instead of building indexes");
ABSL_FLAG(int, show_slowest, 0,
          "print the N slowest queries of the first variant with their shaped queries");
ABSL_FLAG(bool, reuse, false,
          "with --work_dir: reuse indexes a previous run left there instead of rebuilding them");
ABSL_FLAG(bool, quick, false, "only the main variants (title / +fields / +description, OR)");
ABSL_FLAG(int, threads, 4, "threads for the concurrency measurement");
ABSL_FLAG(int, reps, 3,
          "timed passes over the queries; a query's latency is its fastest pass, which keeps "
          "other processes on a shared machine out of the percentiles");

namespace marketsearch {
namespace {

using Clock = std::chrono::steady_clock;

struct JudgedQuery {
  std::string text;
  const QueryJudgments* judged;
};

struct Row {
  std::string index;
  std::string shaping;
  double ndcg10 = 0;
  double recall = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double and_filled = 0;  // share of queries whose k results all matched every term
  double empty = 0;       // share of queries with no result
};

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

absl::StatusOr<int64_t> BuildIndex(const FeatureStore& store, const std::string& dir,
                                   bool fields, bool description, bool stem, bool combined) {
  LexicalIndexWriter::Options o;
  o.path = dir;
  o.index_brand_category_attributes = fields;
  o.index_description = description;
  o.stem = stem;
  o.combined_field = combined;
  o.overwrite = true;
  MS_ASSIGN_OR_RETURN(auto w, LexicalIndexWriter::Open(o));
  absl::Status st;
  int64_t n = 0;
  MS_RETURN_IF_ERROR(store.ScanListings([&](const Listing& l) {
    st = w->Add(l);
    ++n;
    return st.ok();
  }));
  MS_RETURN_IF_ERROR(st);
  MS_RETURN_IF_ERROR(w->Commit());
  return n;
}

absl::StatusOr<Row> Evaluate(const std::string& dir, const LexicalIndex::Options& opts,
                             const std::vector<JudgedQuery>& queries, int k) {
  MS_ASSIGN_OR_RETURN(auto index, LexicalIndex::Open(dir, opts));
  // Warm-up pass (page cache, B-tree blocks), then the measured pass.
  for (const JudgedQuery& q : queries) {
    MS_ASSIGN_OR_RETURN(auto unused, index->Search(q.text, k));
    (void)unused;
  }
  std::vector<double> ms(queries.size(), 1e18);
  for (int rep = 0; rep < std::max(1, absl::GetFlag(FLAGS_reps)); ++rep) {
    for (size_t i = 0; i < queries.size(); ++i) {
      const auto t0 = Clock::now();
      MS_ASSIGN_OR_RETURN(auto unused, index->Search(queries[i].text, k));
      (void)unused;
      ms[i] = std::min(ms[i], MsSince(t0));
    }
  }
  MeanMetric ndcg, recall;
  int64_t filled = 0, empty = 0;
  for (const JudgedQuery& q : queries) {
    MS_ASSIGN_OR_RETURN(std::vector<LexicalHit> hits, index->Search(q.text, k));
    std::vector<uint64_t> ranked;
    bool all_tier0 = static_cast<int>(hits.size()) == k;
    for (const LexicalHit& h : hits) {
      ranked.push_back(h.listing_id);
      all_tier0 &= h.tier == 0 || (h.tier == 1 && opts.condition_words ==
                                                      LexicalIndex::ConditionWords::kFilter);
    }
    filled += all_tier0;
    empty += hits.empty();
    ndcg.Add(NdcgAtK(ranked, *q.judged, 10));
    const double r = ExactRecallAtK(ranked, *q.judged, k);
    if (r >= 0) recall.Add(r);
  }
  static bool shown = false;
  if (!shown && absl::GetFlag(FLAGS_show_slowest) > 0) {
    shown = true;
    std::vector<size_t> order(queries.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ms[a] > ms[b]; });
    order.resize(std::min<size_t>(order.size(), absl::GetFlag(FLAGS_show_slowest)));
    for (size_t i : order) {
      auto hits = index->Search(queries[i].text, k);
      int tiers[4] = {0, 0, 0, 0};
      if (hits.ok()) {
        for (const LexicalHit& h : *hits) ++tiers[std::min(3, std::max(0, h.tier))];
      }
      auto explain = index->Explain(queries[i].text);
      std::printf("%.3f ms  \"%s\"  hits by tier %d/%d/%d/%d\n  %s\n", ms[i],
                  queries[i].text.c_str(), tiers[0], tiers[1], tiers[2], tiers[3],
                  explain.ok() ? explain->c_str() : std::string(explain.status().message()).c_str());
    }
  }
  Row row;
  row.ndcg10 = ndcg.mean();
  row.recall = recall.mean();
  for (double v : ms) row.mean_ms += v / std::max<size_t>(1, ms.size());
  row.p50_ms = Pct(ms, 0.5);
  row.p99_ms = Pct(ms, 0.99);
  row.and_filled = static_cast<double>(filled) / std::max<size_t>(1, queries.size());
  row.empty = static_cast<double>(empty) / std::max<size_t>(1, queries.size());
  return row;
}

// Queries/s of `threads` threads sharing one LexicalIndex with `handles` handles.
absl::StatusOr<double> Throughput(const std::string& dir, int handles, int threads,
                                  const std::vector<JudgedQuery>& queries, int k) {
  LexicalIndex::Options o;
  o.max_handles = handles;
  MS_ASSIGN_OR_RETURN(auto index, LexicalIndex::Open(dir, o));
  std::atomic<int64_t> next{0}, errors{0};
  const int64_t total = static_cast<int64_t>(queries.size()) * 2;
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int64_t i; (i = next++) < total;) {
        if (!index->Search(queries[i % queries.size()].text, k).ok()) ++errors;
      }
    });
  }
  for (auto& th : pool) th.join();
  const double secs = SecondsSince(t0);
  if (errors > 0) return absl::InternalError(absl::StrCat(errors.load(), " searches failed"));
  return total / secs;
}

absl::Status Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const std::string split = absl::GetFlag(FLAGS_split);
  const int k = absl::GetFlag(FLAGS_k);
  MS_ASSIGN_OR_RETURN(auto all_queries, ReadQueries(data_dir + "/catalog/queries.tsv"));
  MS_ASSIGN_OR_RETURN(auto judgments, ReadJudgments(data_dir + "/catalog/judgments.tsv"));
  const JudgmentMap by_query = GroupJudgments(judgments);
  std::vector<JudgedQuery> queries;
  for (const QueryRecord& q : all_queries) {
    if (q.split != split) continue;
    auto it = by_query.find(q.query_id);
    if (it == by_query.end()) continue;
    queries.push_back({q.text, &it->second});
  }
  if (queries.empty()) {
    return absl::NotFoundError(absl::StrCat("no judged ", split, " queries in ", data_dir));
  }

  FeatureStore::Options so;
  so.path = data_dir + "/store";
  so.read_only = true;
  MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));

  std::string work = absl::GetFlag(FLAGS_work_dir);
  const bool scratch = work.empty();
  if (scratch) work = absl::StrCat("/tmp/lexical_eval-", ::getpid());
  struct Cleanup {
    std::string dir;
    bool armed;
    ~Cleanup() {
      std::error_code ec;
      if (armed) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{work, scratch};

  struct IndexSpec {
    std::string name;
    bool fields, description, stem, combined;
  };
  // Index 2 (title + brand/category/attributes + description, all-fields term) is the default.
  std::vector<IndexSpec> specs = {{"title", false, false, false, true},
                                  {"title+b/c/a", true, false, false, true},
                                  {"title+b/c/a+desc", true, true, false, true},
                                  {"+desc, per-field terms", true, true, false, false}};
  if (!absl::GetFlag(FLAGS_quick)) {
    specs.push_back({"+desc, stemmed", true, true, true, true});
    specs.push_back({"title+b/c/a, per-field", true, false, false, false});
  }
  std::printf("lexical_eval: %zu judged %s queries, k=%d, data %s\n", queries.size(),
              split.c_str(), k, data_dir.c_str());
  std::vector<std::string> dirs;
  const std::string given = absl::GetFlag(FLAGS_index_dir);
  if (!given.empty()) {
    specs = {{given, false, false, false, false}};
    dirs = {given};
  }
  for (const IndexSpec& s : given.empty() ? specs : std::vector<IndexSpec>{}) {
    const std::string dir = absl::StrCat(work, "/", dirs.size());
    if (!scratch && absl::GetFlag(FLAGS_reuse) && std::filesystem::exists(dir + "/iamglass")) {
      std::printf("  reusing %-20s %s\n", s.name.c_str(), dir.c_str());
      dirs.push_back(dir);
      continue;
    }
    const auto t0 = Clock::now();
    MS_ASSIGN_OR_RETURN(int64_t n, BuildIndex(*store, dir, s.fields, s.description, s.stem, s.combined));
    std::error_code ec;
    int64_t bytes = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.is_regular_file(ec)) bytes += static_cast<int64_t>(e.file_size(ec));
    }
    std::printf("  built %-22s %lld listings in %.1f s, %.1f MB\n", s.name.c_str(),
                static_cast<long long>(n),
                SecondsSince(t0), bytes / 1e6);
    dirs.push_back(dir);
  }

  using R = LexicalIndex::Relax;
  using C = LexicalIndex::ConditionWords;
  struct Variant {
    int index;
    std::string name;
    LexicalIndex::Options opts;
  };
  const LexicalIndex::Options def;
  auto with = [&](auto fn) {
    LexicalIndex::Options o = def;
    fn(o);
    return o;
  };
  std::vector<Variant> variants = {
      {0, "default (AND, then OR)", def},
      {1, "default (AND, then OR)", def},
      {2, "default (AND, then OR)", def},
      {3, "default (AND, then OR)", def},
      {0, "plain OR", with([](auto& o) { o.relax = R::kOrOnly; })},
      {1, "plain OR", with([](auto& o) { o.relax = R::kOrOnly; })},
      {2, "plain OR", with([](auto& o) { o.relax = R::kOrOnly; })},
      {3, "plain OR", with([](auto& o) { o.relax = R::kOrOnly; })},
      {2, "AND, drop-one, then OR", with([](auto& o) { o.relax = R::kDropOneThenOr; })},
      {2, "AND only", with([](auto& o) { o.relax = R::kNone; })},
      {2, "no spelling correction", with([](auto& o) { o.correct_spelling = false; })},
      {2, "spelling: 2 edits", with([](auto& o) { o.spelling_max_edits = 2; })},
      {2, "spelling: no min listings", with([](auto& o) { o.spelling_min_listings = 1; })},
      {2, "OR tier: rarest 2 words", with([](auto& o) { o.or_tier_max_terms = 2; })},
      {2, "OR tier: rarest 3 words", with([](auto& o) { o.or_tier_max_terms = 3; })},
      {2, "OR tier: rarest 4 words", with([](auto& o) { o.or_tier_max_terms = 4; })},
  };
  if (!absl::GetFlag(FLAGS_quick)) {
    const std::vector<Variant> more = {
        {4, "default (AND, then OR)", def},
        {5, "default (AND, then OR)", def},
        {2, "condition words dropped", with([](auto& o) { o.condition_words = C::kStopword; })},
        {2, "condition words as text", with([](auto& o) { o.condition_words = C::kText; })},
        {2, "bm25 b=0.25", with([](auto& o) { o.bm25_b = 0.25; })},
        {2, "bm25 b=0.5 (Xapian default)", with([](auto& o) { o.bm25_b = 0.5; })},
        {3, "title weight 1", with([](auto& o) { o.title_weight = 1.0; })},
        {3, "title weight 3", with([](auto& o) { o.title_weight = 3.0; })},
        {3, "description weight 0.1", with([](auto& o) { o.description_weight = 0.1; })},
        {3, "description weight 1", with([](auto& o) { o.description_weight = 1.0; })},
    };
    variants.insert(variants.end(), more.begin(), more.end());
  }

  if (!given.empty()) {
    // Only the shaping variants, all on the given index.
    std::vector<Variant> on_given;
    for (Variant v : variants) {
      if (v.index != 2) continue;
      v.index = 0;
      on_given.push_back(v);
    }
    variants = on_given;
  }
  const int main_index = given.empty() ? 2 : 0;
  std::vector<Row> rows;
  for (const Variant& v : variants) {
    MS_ASSIGN_OR_RETURN(Row row, Evaluate(dirs[v.index], v.opts, queries, k));
    row.index = specs[v.index].name;
    row.shaping = v.name;
    rows.push_back(row);
  }

  std::printf("\n%-24s %-28s %8s %8s %8s %8s %8s %8s %7s\n", "index fields", "query shaping",
              "NDCG@10", "R@k cap", "mean ms", "p50 ms", "p99 ms", "AND-fill", "empty");
  std::printf("(R@k cap: capped Recall@k of Exact listings, |top-k ∩ Exact| / min(|Exact|, k))\n");
  for (const Row& r : rows) {
    std::printf("%-24s %-28s %8.4f %8.4f %8.3f %8.3f %8.3f %7.1f%% %6.1f%%\n", r.index.c_str(),
                r.shaping.c_str(), r.ndcg10, r.recall, r.mean_ms, r.p50_ms, r.p99_ms,
                100 * r.and_filled, 100 * r.empty);
  }

  {
    const auto t0 = Clock::now();
    MS_ASSIGN_OR_RETURN(auto index, LexicalIndex::Open(dirs[main_index]));
    std::printf("\nopen %s (%lld listings): %.0f ms\n", specs[main_index].name.c_str(),
                static_cast<long long>(index->num_docs()),
                MsSince(t0));
  }
  // The handle pool: the cost of one uncontended lease, and Search throughput with threads.
  {
    internal::HandlePool<int> pool(
        []() -> absl::StatusOr<std::unique_ptr<int>> { return std::make_unique<int>(0); }, 4);
    const int n = 1000000;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto lease = pool.Acquire();
      if (!lease.ok()) return lease.status();
    }
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
    std::printf("handle pool: %.0f ns per uncontended acquire+release\n", ns);
  }
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  for (int handles : {1, threads}) {
    MS_ASSIGN_OR_RETURN(double one, Throughput(dirs[main_index], handles, 1, queries, k));
    MS_ASSIGN_OR_RETURN(double many, Throughput(dirs[main_index], handles, threads, queries, k));
    std::printf("throughput (default index and shaping): %d handle(s): 1 thread %.0f q/s, %d threads "
                "%.0f q/s (%u cores)\n",
                handles, one, threads, many, std::thread::hardware_concurrency());
  }
  for (const Row& r : rows) {
    if (r.index == specs[main_index].name && r.shaping.rfind("default", 0) == 0) {
      std::printf("BENCH lexical_ndcg10 %.4f\nBENCH lexical_recall100 %.4f\n"
                  "BENCH lexical_search_p50_ms %.3f\nBENCH lexical_search_p99_ms %.3f\n",
                  r.ndcg10, r.recall, r.p50_ms, r.p99_ms);
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Builds lexical indexes from the feature store with different field sets and reports "
      "NDCG@10, Recall@k and Search latency of the judged queries of one split.\n"
      "Usage: lexical_eval [--data_dir=var] [--split=test] [--k=100] [--quick]");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "lexical_eval: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
