// index_bench: the ANN index at catalog scale (issue 5). For 1M listings (--listings) of
// L2-normalised 64-d vectors — real listing-tower embeddings of a feature store when
// --data_dir is given, else clustered synthetic vectors (index/synthetic_listings.h) — it
// builds each factory string with the code build_index runs (BuildFaissIndex), and measures
// through IndexSnapshot::Search, the serving code path, with one OpenMP thread:
//   build time, Recall@100 against exact search, single-query latency p50/p99 and index
//   bytes per listing, for 2-3 search settings per factory (HNSW efSearch: one index
//   instance per setting, set before it serves; IVF nprobe: per request);
//   filtered search: a selectivity sweep of the ANN-with-IDSelector path against the exact
//   scan over matching listings (what the auto threshold is chosen from), and p99 of the
//   default mode at a ~10% and a ~0.5% filter.
// Prints a human table and `BENCH <name> <value>` lines.
#include <faiss/IndexIDMap.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/progress.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "features/feature_store.h"
#include "index/index_snapshot.h"
#include "index/index_writer.h"
#include "index/listing_filter.h"
#include "index/synthetic_listings.h"
#include "retrieval/encoders.h"

ABSL_FLAG(int64_t, listings, 1000000, "listings to index");
ABSL_FLAG(int, queries, 1000, "queries for recall and latency");
ABSL_FLAG(int, filter_queries, 200, "queries per filtered measurement");
ABSL_FLAG(std::string, data_dir, "",
          "real embeddings: encode <data_dir>/store with the listing tower and "
          "<data_dir>/catalog/queries.tsv with the query tower; empty = synthetic vectors");
ABSL_FLAG(std::string, models_dir, "", "models root (default <data_dir>/models)");
ABSL_FLAG(std::string, cache_dir, "", "real mode: cache of the encoded vectors (reused when present)");
ABSL_FLAG(std::string, factories, "HNSW32,Flat;IVF4096,Flat;IVF4096,PQ32",
          "';'-separated factory strings; IVF..PQ.. is also measured with exact re-ranking");
ABSL_FLAG(std::string, default_factory, "HNSW32,Flat", "the configuration build_index ships");
ABSL_FLAG(int, default_ef_search, 256, "efSearch build_index ships (--ef_search default)");
ABSL_FLAG(int, threads, 2, "threads for building and ground truth");
ABSL_FLAG(int64_t, max_train, 262144, "vectors IVF/PQ training sees (64 per IVF4096 centroid)");
ABSL_FLAG(bool, sweep, true, "run the filtered-search selectivity sweep");
ABSL_FLAG(bool, mix_only, false, "--served_index_dir: only the load mix's filter shapes");
ABSL_FLAG(std::string, served_index_dir, "",
          "a published index version (e.g. <data_dir>/index/<v>) of --data_dir's store: build "
          "nothing, measure that index's filtered search in its default (auto) mode over "
          "selectivity buckets (BENCH filtered_recall100_<bucket>, filtered_recall100_min)");

namespace marketsearch {
namespace {

using Clock = std::chrono::steady_clock;

struct Dataset {
  std::string source;
  int dim = 0;
  std::vector<uint64_t> ids;
  std::vector<float> vectors;
  std::vector<ListingAttributes> attrs;
  absl::flat_hash_map<uint64_t, std::string> category_names;  // fingerprint -> name
  std::vector<float> queries;
  int nq = 0;
  int64_t n() const { return static_cast<int64_t>(ids.size()); }
  ListingAttributeTable Table() const {
    ListingAttributeTable t;
    t.Reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) t.Add(ids[i], attrs[i]);
    return t;
  }
};

// ---- data ----

Dataset Synthetic(int64_t n, int nq) {
  SyntheticOptions o;
  o.listings = n;
  o.dim = 64;
  o.clusters = static_cast<int>(std::max<int64_t>(50, n / 500));
  o.categories = 25;
  SyntheticListings s = MakeSyntheticListings(o);
  Dataset d;
  d.queries = MakeSyntheticQueries(s, nq, 99);
  d.nq = nq;
  d.source = absl::StrFormat("synthetic: %d clusters (Zipf sizes), 25 categories tied to clusters",
                             o.clusters);
  d.dim = s.dim;
  d.ids = std::move(s.ids);
  d.vectors = std::move(s.vectors);
  d.attrs = std::move(s.attributes);
  for (const std::string& c : s.categories) d.category_names[CategoryFingerprint(c)] = c;
  return d;
}

template <typename T>
void WriteVec(std::ofstream& f, const std::vector<T>& v) {
  uint64_t n = v.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)));
}
template <typename T>
bool ReadVec(std::ifstream& f, std::vector<T>* v) {
  uint64_t n = 0;
  if (!f.read(reinterpret_cast<char*>(&n), 8)) return false;
  v->resize(n);
  return static_cast<bool>(f.read(reinterpret_cast<char*>(v->data()), static_cast<std::streamsize>(n * sizeof(T))));
}

absl::StatusOr<Dataset> Real(const std::string& data_dir, int64_t max_n, int nq, int threads) {
  Dataset d;
  std::string models = absl::GetFlag(FLAGS_models_dir);
  if (models.empty()) models = data_dir + "/models";
  MS_ASSIGN_OR_RETURN(std::string ldir, NewestVersionDir(models + "/listing_tower"));
  MS_ASSIGN_OR_RETURN(std::string qdir, NewestVersionDir(models + "/query_tower"));
  d.source = absl::StrCat("real: listing tower ", ldir, " over ", data_dir, "/store");
  const std::string cache = absl::GetFlag(FLAGS_cache_dir);
  const std::string cfile = cache.empty() ? "" : absl::StrCat(cache, "/embeddings-", max_n, "-", nq, ".bin");
  const std::string afile = cfile.empty() ? "" : cfile + ".attributes";
  if (!cfile.empty() && std::filesystem::exists(cfile) && std::filesystem::exists(afile)) {
    std::ifstream f(cfile, std::ios::binary);
    std::vector<int32_t> meta;
    std::vector<std::string> names;
    if (ReadVec(f, &meta) && meta.size() == 2 && ReadVec(f, &d.ids) && ReadVec(f, &d.vectors) &&
        ReadVec(f, &d.queries)) {
      std::string line;
      std::getline(f, line);  // rest: category names, one per line
      while (std::getline(f, line)) d.category_names[CategoryFingerprint(line)] = line;
      auto t = ListingAttributeTable::Load(afile);
      if (t.ok() && t->size() == static_cast<int64_t>(d.ids.size())) {
        d.dim = meta[0];
        d.nq = meta[1];
        for (int64_t i = 0; i < t->size(); ++i) d.attrs.push_back(t->row(i));
        d.source += " (cached embeddings " + cfile + ")";
        return d;
      }
    }
    std::fprintf(stderr, "cache %s unreadable; re-encoding\n", cfile.c_str());
  }
  ModelRunner::Options runtime;
  runtime.intra_op_threads = threads;
  MS_ASSIGN_OR_RETURN(ListingEncoder enc, ListingEncoder::Load(ldir, runtime));
  FeatureStore::Options so;
  so.path = data_dir + "/store";
  so.read_only = true;
  MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));
  MS_ASSIGN_OR_RETURN(CatalogStats stats, store->GetCatalogStats());
  d.dim = enc.dim();
  std::vector<Listing> batch;
  absl::Status st;
  Progress prog("encode listings", std::min(max_n, store->EstimateListingCount()));
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    MS_ASSIGN_OR_RETURN(FloatMatrix m, enc.Encode(batch, stats));
    d.vectors.insert(d.vectors.end(), m.data.begin(), m.data.end());
    for (const Listing& l : batch) {
      d.ids.push_back(l.listing_id());
      d.attrs.push_back(ListingAttributes::FromListing(l));
      d.category_names.emplace(CategoryFingerprint(l.category()), l.category());
    }
    batch.clear();
    prog.Update(d.n());
    return absl::OkStatus();
  };
  MS_RETURN_IF_ERROR(store->ScanListings([&](const Listing& l) {
    if (d.n() + static_cast<int64_t>(batch.size()) >= max_n) return false;
    batch.push_back(l);
    if (batch.size() >= 1024) {
      st = flush();
      if (!st.ok()) return false;
    }
    return true;
  }));
  MS_RETURN_IF_ERROR(st);
  MS_RETURN_IF_ERROR(flush());
  prog.Finish();
  MS_ASSIGN_OR_RETURN(auto qs, ReadQueries(data_dir + "/catalog/queries.tsv"));
  std::vector<std::string> texts;
  for (const auto& q : qs) texts.push_back(q.text);
  std::mt19937_64 rng(5);
  std::shuffle(texts.begin(), texts.end(), rng);
  texts.resize(std::min<size_t>(texts.size(), nq));
  MS_ASSIGN_OR_RETURN(QueryEncoder qe, QueryEncoder::Load(qdir));
  MS_ASSIGN_OR_RETURN(FloatMatrix qm, qe.Encode(texts));
  d.queries = qm.data;
  d.nq = static_cast<int>(qm.rows);
  if (!cfile.empty()) {
    std::filesystem::create_directories(cache);
    std::ofstream f(cfile, std::ios::binary | std::ios::trunc);
    WriteVec(f, std::vector<int32_t>{d.dim, d.nq});
    WriteVec(f, d.ids);
    WriteVec(f, d.vectors);
    WriteVec(f, d.queries);
    f << "\n";
    for (const auto& [fp, name] : d.category_names) f << name << "\n";
    MS_RETURN_IF_ERROR(d.Table().Save(afile));
  }
  return d;
}

// ---- measurement ----

struct Latency {
  double p50 = 0, p99 = 0, mean = 0;
};

Latency Summarise(std::vector<double> ms) {
  Latency l;
  if (ms.empty()) return l;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * (ms.size() - 1) + 0.5))]; };
  l.p50 = at(0.5);
  l.p99 = at(0.99);
  for (double x : ms) l.mean += x;
  l.mean /= ms.size();
  return l;
}

struct Measured {
  double recall = 0;
  Latency lat;
};

// Unfiltered Recall@100 and latency over all queries, one at a time, one OpenMP thread.
Measured MeasureAnn(const IndexSnapshot& snap, const Dataset& d, const std::vector<int64_t>& truth,
                    int nprobe) {
  omp_set_num_threads(1);
  const int k = 100;
  for (int i = 0; i < std::min(50, d.nq); ++i) (void)snap.Search(d.queries.data() + i * d.dim, k, nprobe);
  std::vector<double> ms;
  double hits = 0;
  for (int q = 0; q < d.nq; ++q) {
    auto t0 = Clock::now();
    auto r = snap.Search(d.queries.data() + q * d.dim, k, nprobe);
    ms.push_back(MsSince(t0));
    if (!r.ok()) continue;
    absl::flat_hash_set<uint64_t> want;
    for (int j = 0; j < k; ++j) want.insert(d.ids[truth[q * k + j]]);
    for (const Neighbor& n : *r) hits += want.count(n.listing_id);
  }
  Measured m;
  m.recall = hits / (static_cast<double>(d.nq) * k);
  m.lat = Summarise(ms);
  return m;
}

struct IOCounter : faiss::IOWriter {
  size_t bytes = 0;
  size_t operator()(const void*, size_t size, size_t nitems) override {
    bytes += size * nitems;
    return nitems;
  }
};

size_t SerializedBytes(const faiss::Index& index) {
  IOCounter c;
  faiss::write_index(&index, &c);
  return c.bytes;
}

std::unique_ptr<faiss::Index> Copy(const faiss::Index& index) {
  faiss::VectorIOWriter w;
  faiss::write_index(&index, &w);
  faiss::VectorIOReader r;
  r.data = std::move(w.data);
  return std::unique_ptr<faiss::Index>(faiss::read_index(&r));
}

// IDMap2(IVF-PQ) -> IDMap2(IndexRefineFlat(IVF-PQ, exact vectors)): what the factory string
// '...,RFlat' builds, without training the PQ again.
std::unique_ptr<faiss::Index> WithRefine(const faiss::Index& idmap_pq, const float* vectors,
                                         float k_factor) {
  std::unique_ptr<faiss::Index> copy = Copy(idmap_pq);
  auto* src = dynamic_cast<faiss::IndexIDMap2*>(copy.get());
  auto* refine = new faiss::IndexRefineFlat(src->index, vectors);
  refine->own_fields = true;
  refine->k_factor = k_factor;
  src->own_fields = false;
  auto wrap = std::make_unique<faiss::IndexIDMap2>();
  wrap->index = refine;
  wrap->own_fields = true;
  wrap->d = refine->d;
  wrap->ntotal = refine->ntotal;
  wrap->is_trained = true;
  wrap->metric_type = refine->metric_type;
  wrap->id_map = src->id_map;
  wrap->construct_rev_map();
  return wrap;
}

std::shared_ptr<const IndexSnapshot> Snapshot(std::unique_ptr<faiss::Index> index, const Dataset& d,
                                              const std::string& factory, int ef_search) {
  IndexManifest m;
  m.set_version(1);
  m.set_dim(d.dim);
  m.set_factory(factory);
  m.set_hnsw_ef_search(ef_search);
  auto s = IndexSnapshot::Create(std::move(index), m, std::make_unique<ListingAttributeTable>(d.Table()));
  if (!s.ok()) {
    std::fprintf(stderr, "snapshot: %s\n", std::string(s.status().message()).c_str());
    std::exit(1);
  }
  return *s;
}

struct Row {
  std::string config;
  std::string setting;
  double build_s = 0;
  double bytes_per_listing = 0;
  Measured m;
};

// ---- filters ----

struct NamedFilter {
  std::string name;
  SearchFilters proto;
  double selectivity = 0;
};

// Binary search of a price window (a share `w` of the price distribution centred on the
// median, within the rows passing `base`) so that `base` + window matches ~target of all.
NamedFilter Calibrate(const IndexSnapshot& snap, const Dataset& d, const SearchFilters& base,
                      double target, const std::string& name) {
  std::vector<double> prices;
  ListingFilter bf(base);
  for (const auto& a : d.attrs) {
    if (bf.Matches(a)) prices.push_back(a.price);
  }
  std::sort(prices.begin(), prices.end());
  NamedFilter out;
  out.name = name;
  out.proto = base;
  if (prices.empty()) return out;
  const double base_share = static_cast<double>(prices.size()) / d.n();
  auto make = [&](double w) {
    SearchFilters f = base;
    const double lo = std::max(0.0, 0.5 - w / 2), hi = std::min(1.0, 0.5 + w / 2);
    f.mutable_price()->set_min(std::max(0.01, prices[static_cast<size_t>(lo * (prices.size() - 1))]));
    f.mutable_price()->set_max(prices[static_cast<size_t>(hi * (prices.size() - 1))]);
    return f;
  };
  if (base_share <= target) {
    out.selectivity = base_share;
    return out;
  }
  double lo = 0, hi = 1;
  for (int it = 0; it < 25; ++it) {
    const double mid = (lo + hi) / 2;
    const double s = static_cast<double>(snap.CountMatches(ListingFilter(make(mid)))) / d.n();
    (s < target ? lo : hi) = mid;
  }
  out.proto = make(hi);
  out.selectivity = static_cast<double>(snap.CountMatches(ListingFilter(out.proto))) / d.n();
  return out;
}

struct FilteredResult {
  Latency lat;
  double recall = 0;             // vs the exact filtered top-k
  double fallback = 0;           // share of queries where ANN returned < k and the exact scan ran
  double exact_share = 0;        // share of queries answered by the exact scan (any reason)
  double rows_scanned = 0;       // mean rows scanned by the exact scan (when it ran)
};

FilteredResult MeasureFiltered(const IndexSnapshot& snap, const Dataset& d, const ListingFilter& f,
                               FilterMode mode, int nq, const std::vector<std::vector<Neighbor>>* truth,
                               std::vector<std::vector<Neighbor>>* results = nullptr,
                               int max_ann_k = -1, double max_probe_factor = -1) {
  omp_set_num_threads(1);
  const int k = 100;
  std::vector<double> ms;
  FilteredResult r;
  double hits = 0, want_total = 0;
  int64_t scans = 0;
  for (int q = 0; q < nq; ++q) {
    SearchOptions o;
    o.filter = &f;
    o.filter_mode = mode;
    if (max_ann_k >= 0) o.max_filtered_ann_k = max_ann_k;
    if (max_probe_factor >= 0) o.max_filtered_nprobe_factor = max_probe_factor;
    SearchStats st;
    auto t0 = Clock::now();
    auto got = snap.Search(d.queries.data() + (q % d.nq) * d.dim, k, o, &st);
    ms.push_back(MsSince(t0));
    if (!got.ok()) continue;
    if (st.path == SearchStats::Path::kAnnThenExact) r.fallback += 1;
    if (st.path == SearchStats::Path::kExact || st.path == SearchStats::Path::kAnnThenExact) {
      r.exact_share += 1;
      r.rows_scanned += st.rows_scanned;
      ++scans;
    }
    if (truth) {
      absl::flat_hash_set<uint64_t> want;
      for (const Neighbor& n : (*truth)[q]) want.insert(n.listing_id);
      for (const Neighbor& n : *got) hits += want.count(n.listing_id);
      want_total += want.size();
    }
    if (results) results->push_back(*std::move(got));
  }
  r.lat = Summarise(ms);
  r.recall = want_total > 0 ? hits / want_total : 1.0;
  r.fallback /= nq;
  r.exact_share /= nq;
  r.rows_scanned = scans ? r.rows_scanned / scans : 0;
  return r;
}

std::string Pct(double s) { return absl::StrFormat("%.2f%%", 100 * s); }

// The name of the category with the most listings (realistic broad filters), its count in *n.
std::string LargestCategory(const Dataset& d, int64_t* n) {
  absl::flat_hash_map<uint64_t, int64_t> count;
  for (const auto& a : d.attrs) ++count[a.category_fp];
  uint64_t best = 0;
  *n = -1;
  for (const auto& [fp, c] : count) {
    if (c > *n) *n = c, best = fp;
  }
  return d.category_names.count(best) ? d.category_names.at(best) : "";
}

// --served_index_dir: the published index's filtered search, default mode, against an exact
// filtered search, for query-independent filters of 0.5-20% of the catalog: a price window
// alone, and a price window within the largest category where it holds enough listings.
absl::Status RunServedBuckets(const Dataset& d) {
  MS_ASSIGN_OR_RETURN(std::shared_ptr<const IndexSnapshot> snap,
                      IndexSnapshot::Load(absl::GetFlag(FLAGS_served_index_dir)));
  if (snap->size() != d.n()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the served index holds ", snap->size(), " listings, the store ", d.n(),
        ": measure the index built from this store"));
  }
  const IndexManifest& m = snap->manifest();
  const int fq = std::min(absl::GetFlag(FLAGS_filter_queries), d.nq);
  int64_t big_n = 0;
  const std::string big_cat_name = LargestCategory(d, &big_n);
  std::printf("served index %s: '%s', nprobe %d, efSearch %d, %lld listings; %d queries per bucket, "
              "k=100, default (auto) filter mode, 1 OpenMP thread\n",
              absl::GetFlag(FLAGS_served_index_dir).c_str(), m.factory().c_str(), m.ivf_nprobe(),
              m.hnsw_ef_search(), static_cast<long long>(snap->size()), fq);
  std::printf("%-10s %7s %7s %8s %8s %8s %7s %10s\n", "filter", "bucket", "actual", "p50 ms",
              "p99 ms", "recall", "exact", "rows/scan");
  double min_recall = 1.0;
  std::map<double, double> bucket_min;
  for (double target : {0.005, 0.02, 0.05, 0.10, 0.20}) {
    if (absl::GetFlag(FLAGS_mix_only)) break;
    for (const bool with_cat : {false, true}) {
      SearchFilters base;
      if (with_cat) {
        if (target > 0.8 * big_n / static_cast<double>(d.n())) continue;
        base.add_categories(big_cat_name);
      }
      NamedFilter nf = Calibrate(*snap, d, base, target, with_cat ? "cat+price" : "price");
      ListingFilter f(nf.proto);
      std::vector<std::vector<Neighbor>> truth;
      MeasureFiltered(*snap, d, f, FilterMode::kExact, fq, nullptr, &truth);
      FilteredResult r = MeasureFiltered(*snap, d, f, FilterMode::kAuto, fq, &truth);
      std::printf("%-10s %7s %7s %8.3f %8.3f %8.4f %6.0f%% %10.0f\n", nf.name.c_str(),
                  Pct(target).c_str(), Pct(nf.selectivity).c_str(), r.lat.p50, r.lat.p99, r.recall,
                  100 * r.exact_share, r.rows_scanned);
      min_recall = std::min(min_recall, r.recall);
      auto [it, fresh] = bucket_min.emplace(target, r.recall);
      if (!fresh) it->second = std::min(it->second, r.recall);
      std::string key = absl::StrFormat("%s_%gpct", with_cat ? "cat_price" : "price", 100 * target);
      for (char& c : key) c = c == '.' ? '_' : c;
      std::printf("BENCH filtered_%s_p99_ms %.3f\n", key.c_str(), r.lat.p99);
    }
  }
  // The filters of bench/load_gen's mix (the same shapes), to see which path each takes.
  std::printf("\nload_gen's filter shapes (auto mode; fb = ANN returned < k, then the exact scan)\n");
  std::printf("%-26s %8s %8s %8s %8s %7s %6s %10s\n", "filter", "share", "p50 ms", "p99 ms", "recall",
              "exact", "fb", "rows/scan");
  std::vector<NamedFilter> mix;
  {
    SearchFilters geo;
    geo.mutable_geo()->mutable_center()->set_lat(52.52);
    geo.mutable_geo()->mutable_center()->set_lon(13.40);
    geo.mutable_geo()->set_radius_km(50);
    mix.push_back({"geo Berlin 50 km", geo, 0});
    SearchFilters cond;
    cond.add_conditions(CONDITION_NEW);
    mix.push_back({"condition new", cond, 0});
    SearchFilters price;
    price.mutable_price()->set_min(50);
    price.mutable_price()->set_max(150);
    mix.push_back({"price 50-150", price, 0});
    SearchFilters cat;
    cat.add_categories(big_cat_name);
    mix.push_back({"largest category", cat, 0});
  }
  for (NamedFilter& nf : mix) {
    ListingFilter f(nf.proto);
    nf.selectivity = static_cast<double>(snap->CountMatches(f)) / d.n();
    std::vector<std::vector<Neighbor>> truth;
    MeasureFiltered(*snap, d, f, FilterMode::kExact, fq, nullptr, &truth);
    FilteredResult r = MeasureFiltered(*snap, d, f, FilterMode::kAuto, fq, &truth);
    std::printf("%-26s %8s %8.3f %8.3f %8.4f %6.0f%% %5.0f%% %10.0f\n", nf.name.c_str(),
                Pct(nf.selectivity).c_str(), r.lat.p50, r.lat.p99, r.recall, 100 * r.exact_share,
                100 * r.fallback, r.rows_scanned);
  }
  for (const auto& [target, recall] : bucket_min) {
    std::string key = absl::StrFormat("%gpct", 100 * target);
    for (char& c : key) c = c == '.' ? '_' : c;
    std::printf("BENCH filtered_recall100_%s %.4f\n", key.c_str(), recall);
  }
  if (!bucket_min.empty()) std::printf("BENCH filtered_recall100_min %.4f\n", min_recall);
  return absl::OkStatus();
}

absl::Status Run() {
  const int64_t n = absl::GetFlag(FLAGS_listings);
  const int nq = absl::GetFlag(FLAGS_queries);
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  omp_set_num_threads(threads);
  const std::string suffix = n == 1000000 ? "1m" : std::to_string(n);
  auto t_all = Clock::now();

  Dataset d;
  if (absl::GetFlag(FLAGS_data_dir).empty()) {
    d = Synthetic(n, nq);
  } else {
    MS_ASSIGN_OR_RETURN(d, Real(absl::GetFlag(FLAGS_data_dir), n, nq, threads));
  }
  std::printf("index_bench: %lld listings, %d-d, %d queries; vectors: %s\n",
              static_cast<long long>(d.n()), d.dim, d.nq, d.source.c_str());
  if (!absl::GetFlag(FLAGS_served_index_dir).empty()) return RunServedBuckets(d);

  // Ground truth: exact inner-product top-100 (BLAS, all threads).
  auto t_gt = Clock::now();
  omp_set_num_threads(threads);
  const int k = 100;
  std::vector<float> gt_d(static_cast<size_t>(d.nq) * k);
  std::vector<int64_t> gt(static_cast<size_t>(d.nq) * k);
  faiss::knn_inner_product(d.queries.data(), d.vectors.data(), d.dim, d.nq, d.n(), k, gt_d.data(), gt.data());
  std::printf("exact top-%d for %d queries in %.1f s\n", k, d.nq, SecondsSince(t_gt));

  std::vector<Row> rows;
  std::shared_ptr<const IndexSnapshot> default_snap;
  double default_build_s = 0;
  Row default_row;
  const std::string default_factory = absl::GetFlag(FLAGS_default_factory);
  const int default_ef = absl::GetFlag(FLAGS_default_ef_search);

  const std::vector<std::string> factories =
      absl::StrSplit(absl::GetFlag(FLAGS_factories), ';', absl::SkipEmpty());
  for (const std::string& factory : factories) {
    omp_set_num_threads(threads);
    IndexBuildOptions bo;
    bo.max_train_vectors = absl::GetFlag(FLAGS_max_train);
    Progress prog("build " + factory, d.n());
    bo.progress = [&](int64_t done) { prog.Update(done); };
    auto t0 = Clock::now();
    MS_ASSIGN_OR_RETURN(std::unique_ptr<faiss::Index> built,
                        BuildFaissIndex(factory, d.dim, d.vectors.data(), d.ids, bo));
    prog.Finish();
    const double build_s = SecondsSince(t0);
    const double bpl = static_cast<double>(SerializedBytes(*built)) / d.n();
    std::printf("built %s in %.1f s, %.0f bytes/listing\n", factory.c_str(), build_s, bpl);
    const bool hnsw = factory.rfind("HNSW", 0) == 0;
    const bool ivf = factory.rfind("IVF", 0) == 0;
    const bool pq = ivf && factory.find(",PQ") != std::string::npos;
    if (hnsw) {
      for (int ef : {128, 256, 512}) {
        auto snap = Snapshot(Copy(*built), d, factory, ef);
        Row r{factory, absl::StrCat("efSearch ", ef), build_s, bpl, MeasureAnn(*snap, d, gt, 0)};
        rows.push_back(r);
        if (factory == default_factory && ef == default_ef) {
          default_snap = snap;
          default_row = r;
          default_build_s = build_s;
        }
      }
    } else {
      const std::vector<int> probes = pq ? std::vector<int>{16, 32} : std::vector<int>{8, 16, 32};
      auto snap = Snapshot(Copy(*built), d, factory, 0);
      for (int np : probes) {
        rows.push_back({factory, absl::StrCat("nprobe ", np), build_s, bpl, MeasureAnn(*snap, d, gt, np)});
      }
      if (factory == default_factory) {
        default_snap = snap;
        default_row = rows[rows.size() - probes.size() + 1];
        default_build_s = build_s;
      }
      if (pq) {
        auto t_r = Clock::now();
        std::unique_ptr<faiss::Index> refined = WithRefine(*built, d.vectors.data(), 4);
        const double refine_s = build_s + SecondsSince(t_r);
        const double rbpl = static_cast<double>(SerializedBytes(*refined)) / d.n();
        auto rsnap = Snapshot(std::move(refined), d, factory + ",RFlat", 0);
        for (int np : probes) {
          rows.push_back({factory + ",RFlat", absl::StrCat("nprobe ", np, ", k_factor 4"), refine_s, rbpl,
                          MeasureAnn(*rsnap, d, gt, np)});
        }
      }
    }
    built.reset();
  }

  std::printf("\nUnfiltered ANN, k=100, 1 OpenMP thread, one query at a time (%d queries)\n", d.nq);
  std::printf("%-24s %-22s %9s %10s %9s %9s %11s\n", "factory", "setting", "build s", "Recall@100",
              "p50 ms", "p99 ms", "bytes/list");
  for (const Row& r : rows) {
    std::printf("%-24s %-22s %9.1f %10.4f %9.3f %9.3f %11.0f\n", r.config.c_str(), r.setting.c_str(),
                r.build_s, r.m.recall, r.m.lat.p50, r.m.lat.p99, r.bytes_per_listing);
  }
  // Exact search, for scale.
  {
    omp_set_num_threads(1);
    std::vector<double> ms;
    std::vector<float> dd(k);
    std::vector<int64_t> ll(k);
    for (int q = 0; q < std::min(d.nq, 50); ++q) {
      auto t0 = Clock::now();
      faiss::knn_inner_product(d.queries.data() + q * d.dim, d.vectors.data(), d.dim, 1, d.n(), k, dd.data(), ll.data());
      ms.push_back(MsSince(t0));
    }
    const Latency l = Summarise(ms);
    std::printf("%-24s %-22s %9s %10.4f %9.3f %9.3f %11d\n", "exact (brute force)", "", "-", 1.0, l.p50, l.p99,
                d.dim * 4);
    std::printf("BENCH exact_search_%s_p50_ms %.3f\n", suffix.c_str(), l.p50);
  }
  for (const Row& r : rows) {
    std::string key = absl::StrCat(r.config, "_", r.setting);
    for (char& c : key) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
    while (key.find("__") != std::string::npos) key.replace(key.find("__"), 2, "_");
    std::printf("BENCH %s_recall100 %.4f\n", key.c_str(), r.m.recall);
    std::printf("BENCH %s_p99_ms %.3f\n", key.c_str(), r.m.lat.p99);
  }

  if (default_snap == nullptr) return absl::InvalidArgumentError("default factory not in --factories");
  const IndexSnapshot& snap = *default_snap;
  std::printf("\nDefault: %s (%s)\n", default_row.config.c_str(), default_row.setting.c_str());
  std::printf("BENCH index_build_%s_s %.1f\n", suffix.c_str(), default_build_s);
  std::printf("BENCH index_recall100 %.4f\n", default_row.m.recall);
  std::printf("BENCH ann_p50_ms %.3f\n", default_row.m.lat.p50);
  std::printf("BENCH ann_p99_ms %.3f\n", default_row.m.lat.p99);
  std::printf("BENCH index_bytes_per_listing %.0f\n", default_row.bytes_per_listing);
  std::printf("BENCH attribute_table_bytes_per_listing %.0f\n",
              static_cast<double>(snap.attributes()->MemoryBytes()) / d.n() + 4 /*category rows*/);

  // ---- filtered search ----
  const int fq = std::min(absl::GetFlag(FLAGS_filter_queries), d.nq);
  // The largest category and the most common condition, for realistic filters.
  std::map<int, int64_t> cond_count;
  for (const auto& a : d.attrs) ++cond_count[a.condition];
  int64_t big_n = 0;
  const std::string big_cat_name = LargestCategory(d, &big_n);
  int common_cond = 0;
  int64_t cond_n = -1;
  for (const auto& [c, cnt] : cond_count) {
    if (cnt > cond_n) cond_n = cnt, common_cond = c;
  }
  std::printf("\nFiltered search on the default index (k=100, %d queries each; filters independent of the "
              "query; largest category '%s' holds %s of listings)\n",
              fq, big_cat_name.c_str(), Pct(static_cast<double>(big_n) / d.n()).c_str());

  auto exact_truth = [&](const ListingFilter& f) {
    std::vector<std::vector<Neighbor>> t;
    MeasureFiltered(snap, d, f, FilterMode::kExact, fq, nullptr, &t);
    return t;
  };

  if (absl::GetFlag(FLAGS_sweep)) {
    std::printf("\nSelectivity sweep (query-independent filters): exact scan over the matching listings vs "
                "ANN with IDSelector over-fetching k*1.5/selectivity, capped at C (HNSW: C results asked; "
                "IVF: nprobe x sqrt(C/100), so C=100 is no over-fetch); ANN falls back to the exact scan when it returns < k (fb = share of queries)\n");
    std::printf("%-10s %7s %7s | %7s %7s %8s | %7s %7s %6s %5s | %7s %7s %6s %5s | %7s %7s %6s %5s\n", "filter",
                "target", "actual", "ex p50", "ex p99", "rows", "C=100", "p99", "recall", "fb", "C=400", "p99",
                "recall", "fb", "C=2000", "p99", "recall", "fb");
    for (const bool with_cat : {false, true}) {
      for (double target : {0.001, 0.005, 0.01, 0.02, 0.05, 0.10, 0.25, 0.5}) {
        SearchFilters base;
        if (with_cat) {
          if (target > 0.8 * big_n / static_cast<double>(d.n())) continue;
          base.add_categories(big_cat_name);
        }
        NamedFilter nf = Calibrate(snap, d, base, target, with_cat ? "cat+price" : "price");
        ListingFilter f(nf.proto);
        auto truth = exact_truth(f);
        FilteredResult ex = MeasureFiltered(snap, d, f, FilterMode::kExact, fq, nullptr);
        std::printf("%-10s %7s %7s | %7.3f %7.3f %8.0f", nf.name.c_str(), Pct(target).c_str(),
                    Pct(nf.selectivity).c_str(), ex.lat.p50, ex.lat.p99, ex.rows_scanned);
        std::string key = absl::StrFormat("sweep_%s_%gpct", with_cat ? "cat" : "price", 100 * target);
        for (char& c : key) c = c == '.' ? '_' : c;
                std::string lines = absl::StrFormat("BENCH %s_exact_p99_ms %.3f\n", key, ex.lat.p99);
        for (int cap : {100, 400, 2000}) {
          FilteredResult an = MeasureFiltered(snap, d, f, FilterMode::kAnn, fq, &truth, nullptr, cap,
                                              cap == 100 ? 1.0 : cap == 400 ? 2.0 : 6.0);
          std::printf(" | %7.3f %7.3f %6.3f %4.0f%%", an.lat.p50, an.lat.p99, an.recall, 100 * an.fallback);
          lines += absl::StrFormat("BENCH %s_ann%d_p99_ms %.3f\nBENCH %s_ann%d_recall %.4f\n", key, cap,
                                   an.lat.p99, key, cap, an.recall);
        }
        std::printf("\n%s", lines.c_str());
      }
    }
  }

  // Headline filters, default (auto) mode.
  SearchFilters ten;
  ten.add_conditions(static_cast<Condition>(common_cond));
  NamedFilter f10 = Calibrate(snap, d, ten, 0.10, "condition+price ~10%");
  SearchFilters half;
  half.add_categories(big_cat_name);
  half.add_conditions(static_cast<Condition>(common_cond));
  NamedFilter f05 = Calibrate(snap, d, half, 0.005, "category+condition+price ~0.5%");
  std::printf("\nFiltered search, default mode (auto: ANN with IDSelector, exact scan when selective)\n");
  std::printf("%-34s %9s %9s %9s %8s %11s\n", "filter", "actual", "p50 ms", "p99 ms", "recall", "exact path");
  double worst_p99 = 0;
  for (const NamedFilter* nf : {&f10, &f05}) {
    ListingFilter f(nf->proto);
    auto truth = exact_truth(f);
    FilteredResult r = MeasureFiltered(snap, d, f, FilterMode::kAuto, fq, &truth);
    std::printf("%-34s %9s %9.3f %9.3f %8.4f %10.0f%%\n", nf->name.c_str(), Pct(nf->selectivity).c_str(),
                r.lat.p50, r.lat.p99, r.recall, 100 * r.exact_share);
    const char* key = nf == &f10 ? "10pct" : "0_5pct";
    std::printf("BENCH filtered_ann_%s_p50_ms %.3f\nBENCH filtered_ann_%s_p99_ms %.3f\nBENCH filtered_ann_%s_recall100 %.4f\n",
                key, r.lat.p50, key, r.lat.p99, key, r.recall);
    worst_p99 = std::max(worst_p99, r.lat.p99);
  }
  std::printf("BENCH filtered_ann_p99_ms %.3f\n", worst_p99);

  // Query-correlated filter: the category of the query's nearest listing (a buyer filtering
  // "phones" for an iPhone query). Globally a few percent, locally most of the neighbourhood.
  {
    omp_set_num_threads(1);
    struct Variant {
      const char* name;
      FilterMode mode;
      int cap;
      std::vector<double> ms;
      double recall = 0;
      int exact_paths = 0;
    };
    std::vector<Variant> vs = {{"auto (default)", FilterMode::kAuto, -1, {}},
                               {"ANN, C=100", FilterMode::kAnn, 100, {}},
                               {"ANN, C=400", FilterMode::kAnn, 400, {}},
                               {"exact", FilterMode::kExact, -1, {}}};
    double share = 0;
    for (int q = 0; q < fq; ++q) {
      const ListingAttributes& top = d.attrs[gt[q * k]];
      SearchFilters sf;
      sf.add_categories(d.category_names.count(top.category_fp) ? d.category_names.at(top.category_fp) : "");
      ListingFilter f(sf);
      share += static_cast<double>(snap.CountMatches(f)) / d.n();
      const float* qv = d.queries.data() + q * d.dim;
      SearchOptions o;
      o.filter = &f;
      o.filter_mode = FilterMode::kExact;
      auto truth = *snap.Search(qv, k, o);
      absl::flat_hash_set<uint64_t> want;
      for (const Neighbor& nb : truth) want.insert(nb.listing_id);
      for (Variant& v : vs) {
        SearchOptions vo = o;
        vo.filter_mode = v.mode;
        if (v.cap >= 0) vo.max_filtered_ann_k = v.cap;
        SearchStats st;
        auto t0 = Clock::now();
        auto got = *snap.Search(qv, k, vo, &st);
        v.ms.push_back(MsSince(t0));
        double h = 0;
        for (const Neighbor& nb : got) h += want.count(nb.listing_id);
        v.recall += h / std::max<size_t>(1, want.size());
        v.exact_paths += st.path == SearchStats::Path::kExact || st.path == SearchStats::Path::kAnnThenExact;
      }
    }
    std::printf("\nQuery-correlated filter: category of the query's nearest listing (mean share %s of listings)\n",
                Pct(share / fq).c_str());
    for (const Variant& v : vs) {
      const Latency l = Summarise(v.ms);
      std::printf("  %-16s p50 %7.3f ms  p99 %7.3f ms  recall %.4f  exact scan ran %3.0f%%\n", v.name, l.p50,
                  l.p99, v.recall / fq, 100.0 * v.exact_paths / fq);
    }
    const Latency la = Summarise(vs[0].ms);
    std::printf("BENCH filtered_ann_own_category_p99_ms %.3f\nBENCH filtered_ann_own_category_recall100 %.4f\n",
                la.p99, vs[0].recall / fq);
  }
  std::printf("\nindex_bench total %.0f s\n", SecondsSince(t_all));
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "ANN index benchmark: build time, Recall@100, latency, memory per factory string and "
      "search setting, and filtered search.\nUsage: index_bench [--listings=1000000] "
      "[--data_dir=var/bench/data --models_dir=var/demo/models --cache_dir=var/bench/index]");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "index_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
