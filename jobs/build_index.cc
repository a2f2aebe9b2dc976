// build_index: the offline index build job. Reads every live listing from the feature
// store, embeds them with the listing tower, builds a FAISS index — by default the family and
// search parameter chosen on these embeddings (--factory=auto, index/index_tuner.h), else the
// factory string given — measures Recall@100 against exact search on queries the choice did
// not see, and publishes a new immutable version <data_dir>/index/<v>/ and then CURRENT,
// atomically.
#include <faiss/Index.h>
#include <faiss/IndexIDMap.h>
#include <faiss/utils/distances.h>
#include <omp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/float_matrix.h"
#include "common/percentile.h"
#include "common/progress.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "features/feature_store.h"
#include "features/featurizer.h"
#include "google/protobuf/text_format.h"
#include "index/index_snapshot.h"
#include "index/index_tuner.h"
#include "index/index_writer.h"
#include "index/listing_filter.h"
#include "index/publish.h"
#include "proto/manifest.pb.h"
#include "retrieval/encoders.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (store/, models/ in; index/ out)");
ABSL_FLAG(std::string, factory, "auto",
          "FAISS index_factory string (inner product); auto = the family and search parameter "
          "measured on these embeddings (index/index_tuner.h)");
ABSL_FLAG(std::string, auto_factories, "",
          "--factory=auto: ';'-separated families to compare (empty = IVF<~4 sqrt(n)>,Flat and "
          "HNSW32,Flat, plus IVF-PQ with exact re-ranking from --auto_pq_min_listings)");
ABSL_FLAG(int64_t, auto_sample, 100000, "--factory=auto: listings in the sample the families "
          "are compared on");
ABSL_FLAG(int64_t, auto_pq_min_listings, 5000000,
          "--factory=auto: catalogs from this size also try IVF-PQ with exact re-ranking");
ABSL_FLAG(double, target_recall, 0.97, "--factory=auto: Recall@100 the search parameter is "
          "tuned to on the tuning queries (>= --min_recall, with room for the gate queries)");
ABSL_FLAG(int, tune_queries, 500, "--factory=auto: queries the parameter is tuned on "
          "(disjoint from --recall_queries)");
ABSL_FLAG(int64_t, max_train_vectors, 262144,
          "IVF/PQ training sees at most this many vectors, an even stride (0 = all)");
ABSL_FLAG(int, ef_search, 256, "HNSW efSearch the index is served with (explicit --factory)");
ABSL_FLAG(int, ef_construction, 128, "HNSW efConstruction");
ABSL_FLAG(int, batch_size, 1024, "listings per encoder batch");
ABSL_FLAG(int, threads, 2, "threads for encoding and index construction");
ABSL_FLAG(double, min_recall, 0.95, "refuse to publish below this Recall@100 vs exact search");
ABSL_FLAG(int, recall_queries, 500, "queries sampled to measure (gate) recall");
ABSL_FLAG(bool, publish, true, "switch CURRENT to the new version");
ABSL_FLAG(int, nprobe, 16, "IVF indexes, explicit --factory: lists probed by default (stored "
          "in the index; requests may override it)");
ABSL_FLAG(double, refine_k_factor, 4.0, "indexes with a refine stage (factory '...,RFlat'): "
          "candidates fetched from the compressed index per result, re-ranked exactly");
// Test-only: kill this process with SIGKILL right after the named step, to test that a
// crash at any point leaves the published versions and CURRENT intact. Steps, in order:
// encode, build, index_file, attributes_file, staging (complete, before the rename),
// publish_dir (renamed, before CURRENT), current.
ABSL_FLAG(std::string, crash_after, "", "test only: SIGKILL self after this step");

namespace marketsearch {
namespace {

void MaybeCrash(const char* step) {
  if (absl::GetFlag(FLAGS_crash_after) == step) {
    std::fprintf(stderr, "build_index: --crash_after=%s: killing myself\n", step);
    std::fflush(stderr);
    ::kill(::getpid(), SIGKILL);
  }
}

// Removes the staging directory on every exit path that does not publish it.
class StagingGuard {
 public:
  explicit StagingGuard(std::string dir) : dir_(std::move(dir)) {}
  ~StagingGuard() {
    if (!dir_.empty()) RemoveStagingDir(dir_);
  }
  void Release() { dir_.clear(); }

 private:
  std::string dir_;
};

// Two disjoint sets of query vectors (tune_n + gate_n): distinct real query texts through the
// query tower when the catalog has them, else distinct listing vectors (a weaker proxy).
// The parameter is tuned on the first set and the index gated on the second, so the
// published recall is not the figure the parameter was fitted to.
struct QuerySets {
  FloatMatrix tune, gate;
  std::string source;
};

absl::StatusOr<QuerySets> SampleQueries(const std::string& data_dir, const FloatMatrix& emb,
                                        int tune_n, int gate_n, std::mt19937_64* rng) {
  FloatMatrix all;
  QuerySets out;
  auto queries = ReadQueries(data_dir + "/catalog/queries.tsv");
  auto qdir = NewestVersionDir(data_dir + "/models/query_tower");
  if (queries.ok() && !queries->empty() && qdir.ok()) {
    MS_ASSIGN_OR_RETURN(QueryEncoder qe, QueryEncoder::Load(*qdir));
    std::vector<std::string> texts;
    absl::flat_hash_set<std::string> seen;
    for (const auto& q : *queries) {
      if (seen.insert(q.text).second) texts.push_back(q.text);
    }
    std::shuffle(texts.begin(), texts.end(), *rng);
    texts.resize(std::min<size_t>(texts.size(), tune_n + gate_n));
    MS_ASSIGN_OR_RETURN(all, qe.Encode(texts));
    out.source = "query texts";
  } else {
    std::vector<int64_t> rows(emb.rows);
    std::iota(rows.begin(), rows.end(), 0);
    std::shuffle(rows.begin(), rows.end(), *rng);
    rows.resize(std::min<size_t>(rows.size(), tune_n + gate_n));
    all.cols = emb.cols;
    for (int64_t r : rows) all.data.insert(all.data.end(), emb.row(r), emb.row(r) + emb.cols);
    all.rows = static_cast<int64_t>(rows.size());
    out.source = "listing vectors (no queries.tsv or query tower)";
  }
  // Fewer than asked: split what there is in proportion (both sets non-empty when possible).
  int64_t n_tune = tune_n == 0 ? 0
                   : std::max<int64_t>(1, all.rows * tune_n / std::max(1, tune_n + gate_n));
  if (all.rows >= 2) n_tune = std::min<int64_t>(n_tune, all.rows - 1);
  for (FloatMatrix* m : {&out.tune, &out.gate}) m->cols = all.cols;
  out.tune.rows = std::min(n_tune, all.rows);
  out.gate.rows = all.rows - out.tune.rows;
  out.tune.data.assign(all.data.begin(), all.data.begin() + out.tune.rows * all.cols);
  out.gate.data.assign(all.data.begin() + out.tune.rows * all.cols, all.data.end());
  return out;
}

void CopyMeasured(const TunedIndex& t, IndexTuning::Measured* m) {
  m->set_factory(t.factory);
  m->set_parameter(t.parameter);
  m->set_value(t.value);
  m->set_reached(t.reached);
  m->set_recall(t.recall);
  m->set_p50_ms(t.p50_ms);
  m->set_p99_ms(t.p99_ms);
  m->set_build_seconds(t.build_s);
  m->set_listings(t.listings);
  m->set_estimated_full_p50_ms(t.estimated_full_p50_ms);
}

void PrintMeasured(const char* indent, const TunedIndex& t) {
  std::printf("%s%-22s %8lld listings  %-8s %5d  Recall@100 %.4f%s  p50 %.3f ms  p99 %.3f ms  "
              "build %.1f s\n",
              indent, t.factory.c_str(), static_cast<long long>(t.listings),
              t.parameter.empty() ? "-" : t.parameter.c_str(), t.value, t.recall,
              t.reached ? "" : " (short)", t.p50_ms, t.p99_ms, t.build_s);
}

// --factory=auto: chooses the family on a sample, then builds the ranked families at full size
// until one reaches the target on the tuning queries; returns it with its parameter set.
absl::StatusOr<std::unique_ptr<faiss::Index>> BuildAuto(const FloatMatrix& emb,
                                                        const std::vector<uint64_t>& ids,
                                                        const FloatMatrix& tune_queries,
                                                        const IndexBuildOptions& bo,
                                                        IndexManifest* manifest) {
  TunerOptions to;
  to.k = static_cast<int>(std::min<int64_t>(100, emb.rows));
  to.target_recall = absl::GetFlag(FLAGS_target_recall);
  to.sample_size = absl::GetFlag(FLAGS_auto_sample);
  to.pq_min_listings = absl::GetFlag(FLAGS_auto_pq_min_listings);
  for (absl::string_view f : absl::StrSplit(absl::GetFlag(FLAGS_auto_factories), ';', absl::SkipEmpty())) {
    to.factories.emplace_back(f);
  }
  to.build = bo;
  IndexTuning* tuning = manifest->mutable_tuning();
  tuning->set_target_recall(to.target_recall);
  tuning->set_tune_queries(static_cast<int32_t>(tune_queries.rows));
  const SteadyTime t_choose = std::chrono::steady_clock::now();
  std::printf("choosing the index on a sample of min(%lld, %lld) listings, tuning to Recall@%d >= %.3f "
              "on %lld queries\n", static_cast<long long>(to.sample_size),
              static_cast<long long>(emb.rows), to.k, to.target_recall,
              static_cast<long long>(tune_queries.rows));
  std::fflush(stdout);
  MS_ASSIGN_OR_RETURN(IndexChoice choice,
                      ChooseIndex(emb.data.data(), emb.rows, emb.cols, tune_queries, to));
  tuning->set_choose_seconds(SecondsSince(t_choose));
  tuning->set_sample_listings(std::min(emb.rows, to.sample_size));
  for (const TunedIndex& t : choice.sample_results) {
    PrintMeasured("  sample  ", t);
    CopyMeasured(t, tuning->add_sample());
  }
  std::fflush(stdout);
  const std::vector<int64_t> truth = ExactNeighbors(emb.data.data(), emb.rows, emb.cols,
                                                    tune_queries, to.k);
  for (size_t i = 0; i < choice.ranked_factories.size(); ++i) {
    const std::string& factory = choice.ranked_factories[i];
    const SteadyTime t0 = std::chrono::steady_clock::now();
    Progress add_progress("train + add " + factory, emb.rows);
    IndexBuildOptions full = bo;
    full.progress = [&](int64_t done) { add_progress.Update(done); };
    MS_ASSIGN_OR_RETURN(std::unique_ptr<faiss::Index> index,
                        BuildFaissIndex(factory, emb.cols, emb.data.data(), ids, full));
    add_progress.Finish();
    const double build_s = SecondsSince(t0);
    faiss::Index* inner = static_cast<faiss::IndexIDMap2*>(index.get())->index;
    MS_ASSIGN_OR_RETURN(TunedIndex t, TuneSearchParameter(inner, tune_queries, truth, to.k,
                                                          to.target_recall, choice.start_values[i]));
    t.factory = factory;
    t.build_s = build_s;
    PrintMeasured("  full    ", t);
    std::fflush(stdout);
    CopyMeasured(t, tuning->add_full());
    if (!t.reached) {
      std::printf("  %s stays below %.3f at full size; trying the next family\n", factory.c_str(),
                  to.target_recall);
      continue;
    }
    manifest->set_factory(factory);
    if (t.parameter == "efSearch") manifest->set_hnsw_ef_search(t.value);
    if (t.parameter == "nprobe") manifest->set_ivf_nprobe(t.value);
    return index;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no index family reached Recall@", to.k, " ", to.target_recall,
      " on the tuning queries at full size; not publishing (see the table above; lower "
      "--min_recall or name a --factory)"));
}

absl::Status Run() {
  // Flags that cannot work together fail before the (long) encode.
  if (absl::GetFlag(FLAGS_factory) == "auto" &&
      absl::GetFlag(FLAGS_target_recall) < absl::GetFlag(FLAGS_min_recall)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--target_recall=", absl::GetFlag(FLAGS_target_recall), " is below --min_recall=",
        absl::GetFlag(FLAGS_min_recall), ": the tuned index would fail its own gate"));
  }
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  omp_set_num_threads(threads);
  auto t_start = std::chrono::steady_clock::now();

  MS_ASSIGN_OR_RETURN(std::string ldir, NewestVersionDir(data_dir + "/models/listing_tower"));
  ModelRunner::Options runtime;
  runtime.intra_op_threads = threads;
  MS_ASSIGN_OR_RETURN(ListingEncoder encoder, ListingEncoder::Load(ldir, runtime));
  // The store snapshot time, taken before the (read-only) open that fixes the snapshot:
  // every write acknowledged before this instant is in the scan below. The server drops
  // delta entries and write-log entries older than it once it serves this index.
  const int64_t snapshot_unix_ms = NowUnixMs();
  FeatureStore::Options so;
  so.path = data_dir + "/store";
  so.read_only = true;
  MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));
  MS_ASSIGN_OR_RETURN(const CatalogStats stats, store->GetCatalogStats());
  std::printf("build_index: listing tower v%lld (%s), factory '%s'\n",
              static_cast<long long>(encoder.version()), ldir.c_str(),
              absl::GetFlag(FLAGS_factory).c_str());

  // Phase 1: scan + encode.
  const int dim = encoder.dim();
  FloatMatrix emb;
  emb.cols = dim;
  std::vector<uint64_t> ids;
  ListingAttributeTable attributes;
  std::vector<Listing> batch;
  absl::Status encode_status;
  Progress enc_progress("encode listings", store->EstimateListingCount());
  auto encode_batch = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    MS_ASSIGN_OR_RETURN(FloatMatrix m, encoder.Encode(batch, stats));
    emb.data.insert(emb.data.end(), m.data.begin(), m.data.end());
    emb.rows += m.rows;
    for (const Listing& l : batch) {
      ids.push_back(l.listing_id());
      attributes.Add(l.listing_id(), ListingAttributes::FromListing(l));
    }
    batch.clear();
    enc_progress.Update(emb.rows);
    return absl::OkStatus();
  };
  MS_RETURN_IF_ERROR(store->ScanListings([&](const Listing& l) {
    batch.push_back(l);
    if (static_cast<int>(batch.size()) >= absl::GetFlag(FLAGS_batch_size)) {
      encode_status = encode_batch();
      if (!encode_status.ok()) return false;
    }
    return true;
  }));
  MS_RETURN_IF_ERROR(encode_status);
  MS_RETURN_IF_ERROR(encode_batch());
  const double encode_s = enc_progress.Finish();
  if (emb.rows == 0) return absl::FailedPreconditionError("no listings in the feature store");
  MaybeCrash("encode");

  // Phase 2: choose (auto) and build. Tuning and gate queries are disjoint.
  std::mt19937_64 rng(1234);
  const bool auto_factory = absl::GetFlag(FLAGS_factory) == "auto";
  MS_ASSIGN_OR_RETURN(QuerySets queries,
                      SampleQueries(data_dir, emb, auto_factory ? absl::GetFlag(FLAGS_tune_queries) : 0,
                                    absl::GetFlag(FLAGS_recall_queries), &rng));
  if (queries.gate.rows == 0) return absl::FailedPreconditionError("no queries to measure recall");
  auto t_build = std::chrono::steady_clock::now();
  IndexBuildOptions bo;
  bo.ef_search = absl::GetFlag(FLAGS_ef_search);
  bo.ef_construction = absl::GetFlag(FLAGS_ef_construction);
  bo.nprobe = absl::GetFlag(FLAGS_nprobe);
  bo.refine_k_factor = static_cast<float>(absl::GetFlag(FLAGS_refine_k_factor));
  bo.max_train_vectors = absl::GetFlag(FLAGS_max_train_vectors);
  IndexManifest m;
  m.set_hnsw_ef_search(absl::GetFlag(FLAGS_ef_search));
  std::unique_ptr<faiss::Index> inner;
  std::string factory = absl::GetFlag(FLAGS_factory);
  if (auto_factory) {
    if (queries.tune.rows == 0) {
      return absl::FailedPreconditionError("--factory=auto needs tuning queries (--tune_queries)");
    }
    MS_ASSIGN_OR_RETURN(inner, BuildAuto(emb, ids, queries.tune, bo, &m));
    m.mutable_tuning()->set_gate_queries(static_cast<int32_t>(queries.gate.rows));
    factory = m.factory();
  } else {
    Progress add_progress("train + add to index", emb.rows);
    bo.progress = [&](int64_t done) { add_progress.Update(done); };
    MS_ASSIGN_OR_RETURN(inner, BuildFaissIndex(factory, dim, emb.data.data(), ids, bo));
    add_progress.Finish();
    if (factory.find("IVF") != std::string::npos) m.set_ivf_nprobe(bo.nprobe);
  }
  const double build_s = SecondsSince(t_build);
  MaybeCrash("build");

  // Phase 3: write the version into a staging directory (never looks like a version).
  const std::string root = data_dir + "/index";
  MS_RETURN_IF_ERROR(MakeDirs(root));
  if (int n = RemoveAbandonedStagingDirs(root); n > 0) {
    std::fprintf(stderr, "removed %d staging director%s of dead build jobs\n", n, n == 1 ? "y" : "ies");
  }
  const int64_t version = NextVersion(root);
  MS_ASSIGN_OR_RETURN(std::string staging, MakeStagingDir(root, version));
  StagingGuard guard(staging);
  m.set_version(version);
  m.set_factory(factory);
  m.set_metric("inner_product");
  m.set_dim(dim);
  m.set_listing_count(emb.rows);
  m.set_listing_tower_version(encoder.version());
  m.set_featurizer_version(kFeaturizerVersion);
  m.set_snapshot_unix_ms(snapshot_unix_ms);
  m.set_encode_seconds(encode_s);
  MS_RETURN_IF_ERROR(WriteIndexFile(staging, *inner, &m));
  MaybeCrash("index_file");
  inner.reset();  // the snapshot below re-reads it from the file, as the server will
  MS_RETURN_IF_ERROR(WriteAttributesFile(staging, attributes, &m));
  MaybeCrash("attributes_file");
  MS_RETURN_IF_ERROR(WriteIndexManifest(staging, m));

  // Phase 4: recall against exact search, through the written files and the serving code
  // path (IndexSnapshot::Search, one OpenMP thread, one query at a time).
  const FloatMatrix& rq = queries.gate;
  MS_ASSIGN_OR_RETURN(auto snapshot, IndexSnapshot::Load(staging));
  const int k = static_cast<int>(std::min<int64_t>(100, emb.rows));
  std::vector<float> d_exact(rq.rows * k);
  std::vector<int64_t> l_exact(rq.rows * k);
  faiss::knn_inner_product(rq.data.data(), emb.data.data(), dim, rq.rows, emb.rows, k,
                           d_exact.data(), l_exact.data());
  omp_set_num_threads(1);  // measure as served: one OpenMP thread per query
  std::vector<double> latency_ms;
  double hits = 0;
  for (int64_t q = 0; q < rq.rows; ++q) {
    auto t0 = std::chrono::steady_clock::now();
    MS_ASSIGN_OR_RETURN(std::vector<Neighbor> nn, snapshot->Search(rq.row(q), k));
    latency_ms.push_back(MsSince(t0));
    absl::flat_hash_set<uint64_t> truth;
    for (int j = 0; j < k; ++j) truth.insert(ids[l_exact[q * k + j]]);
    for (const Neighbor& n : nn) hits += truth.count(n.listing_id);
  }
  omp_set_num_threads(threads);
  snapshot.reset();
  const double recall = hits / (static_cast<double>(rq.rows) * k);
  const double p50 = Percentile(latency_ms, 0.50), p99 = Percentile(latency_ms, 0.99);
  std::printf("recall@%d vs exact search: %.4f over %lld gate queries from %s (ANN p50 %.3f ms, "
              "p99 %.3f ms, 1 thread)\n", k, recall, static_cast<long long>(rq.rows),
              queries.source.c_str(), p50, p99);
  if (recall < absl::GetFlag(FLAGS_min_recall)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "recall ", recall, " below --min_recall=", absl::GetFlag(FLAGS_min_recall),
        "; not publishing (raise --ef_search/--nprobe, add ',RFlat' or change --factory)"));
  }
  m.set_recall_at_100(recall);
  m.set_recall_sample_queries(static_cast<int32_t>(rq.rows));
  m.set_recall_p50_ms(p50);
  m.set_recall_p99_ms(p99);
  m.set_build_seconds(SecondsSince(t_start));
  m.set_index_seconds(SecondsSince(t_build));
  m.set_created_unix(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count());
  MS_RETURN_IF_ERROR(WriteIndexManifest(staging, m));
  MaybeCrash("staging");

  // Phase 5: publish (rename into place, then CURRENT). An I/O error after the rename
  // withdraws the new directory again unless CURRENT names it: a failed run adds no version.
  if (absl::Status s = PublishVersion(staging, root, version); !s.ok()) {
    WithdrawUnservedVersion(root, version);
    return s;
  }
  guard.Release();
  MaybeCrash("publish_dir");
  if (absl::GetFlag(FLAGS_publish)) {
    if (absl::Status s = WriteCurrent(root, version); !s.ok()) {
      WithdrawUnservedVersion(root, version);
      return s;
    }
  }
  MaybeCrash("current");
  int64_t index_bytes = 0, attr_bytes = 0;
  for (const FileChecksum& f : m.files()) {
    (f.name() == "index.faiss" ? index_bytes : attr_bytes) += f.bytes();
  }

  std::printf("build_index summary\n");
  std::printf("  listings indexed   %lld (dim %d)\n", static_cast<long long>(emb.rows), dim);
  std::printf("  encode             %.1f s (%.0f listings/s)\n", encode_s, emb.rows / std::max(1e-9, encode_s));
  std::printf("  index build        %.1f s ('%s'%s, %s)\n", build_s, factory.c_str(),
              auto_factory ? ", chosen by --factory=auto" : "",
              factory.find("HNSW") != std::string::npos
                  ? absl::StrCat("efSearch ", m.hnsw_ef_search()).c_str()
                  : absl::StrCat("nprobe ", m.ivf_nprobe()).c_str());
  std::printf("  choose+build+gate  %.1f s\n", m.index_seconds());
  std::printf("  Recall@%d          %.4f vs exact (threshold %.2f)\n", k, recall, absl::GetFlag(FLAGS_min_recall));
  std::printf("  ANN latency        p50 %.3f ms, p99 %.3f ms (1 thread)\n", p50, p99);
  std::printf("  index file         %.1f MB (%.0f bytes/listing)\n", index_bytes / 1e6,
              static_cast<double>(index_bytes) / emb.rows);
  std::printf("  attributes file    %.1f MB\n", attr_bytes / 1e6);
  std::printf("  published          %s/%lld%s\n", root.c_str(), static_cast<long long>(version),
              absl::GetFlag(FLAGS_publish) ? " (CURRENT)" : " (CURRENT unchanged)");
  std::printf("  total              %.1f s\n", SecondsSince(t_start));
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Embeds every listing in the feature store with the latest listing tower, builds a FAISS "
      "index, checks its recall against exact search and publishes <data_dir>/index/<v>.\n"
      "Usage: build_index [--data_dir=var] [--factory=auto] [--min_recall=0.95]\n"
      "Factories: auto (default: IVF-Flat, HNSW and, for large catalogs, IVF-PQ with exact "
      "re-ranking compared on a sample of the embeddings, nprobe/efSearch tuned at full size), "
      "'HNSW32,Flat', 'IVF4096,Flat' (--nprobe), 'IVF4096,PQ32,RFlat' (PQ candidates re-ranked "
      "exactly, --refine_k_factor).");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "build_index: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
