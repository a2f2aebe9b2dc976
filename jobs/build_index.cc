// build_index: the offline index build job. Reads every live listing from the feature
// store, embeds them with the listing tower, builds a FAISS index from a factory string,
// measures Recall@100 against exact search, and publishes a new immutable version
// <data_dir>/index/<v>/ and then CURRENT, atomically.
#include <faiss/Index.h>
#include <faiss/utils/distances.h>
#include <omp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
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
#include "common/clock.h"
#include "common/file_util.h"
#include "common/float_matrix.h"
#include "common/progress.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "features/feature_store.h"
#include "features/featurizer.h"
#include "google/protobuf/text_format.h"
#include "index/index_snapshot.h"
#include "index/index_writer.h"
#include "index/listing_filter.h"
#include "index/publish.h"
#include "proto/manifest.pb.h"
#include "retrieval/encoders.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (store/, models/ in; index/ out)");
ABSL_FLAG(std::string, factory, "auto",
          "FAISS index_factory string (inner product); auto = HNSW32,Flat up to 1M listings, "
          "IVF<~4 sqrt(n)>,Flat beyond");
ABSL_FLAG(int, ef_search, 256, "HNSW efSearch the index is served with");
ABSL_FLAG(int, ef_construction, 128, "HNSW efConstruction");
ABSL_FLAG(int, batch_size, 1024, "listings per encoder batch");
ABSL_FLAG(int, threads, 2, "threads for encoding and index construction");
ABSL_FLAG(double, min_recall, 0.95, "refuse to publish below this Recall@100 vs exact search");
ABSL_FLAG(int, recall_queries, 500, "queries sampled to measure recall");
ABSL_FLAG(bool, publish, true, "switch CURRENT to the new version");
ABSL_FLAG(int, nprobe, 16, "IVF indexes: lists probed by default (stored in the index; "
          "requests may override it)");
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

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Query vectors for the recall check: real queries through the query tower when the catalog
// has them, else listing vectors (a weaker proxy).
absl::StatusOr<FloatMatrix> RecallQueries(const std::string& data_dir, const FloatMatrix& emb,
                                          int n, std::mt19937_64* rng) {
  auto queries = ReadQueries(data_dir + "/catalog/queries.tsv");
  auto qdir = NewestVersionDir(data_dir + "/models/query_tower");
  if (queries.ok() && !queries->empty() && qdir.ok()) {
    MS_ASSIGN_OR_RETURN(QueryEncoder qe, QueryEncoder::Load(*qdir));
    std::vector<std::string> texts;
    for (const auto& q : *queries) texts.push_back(q.text);
    std::shuffle(texts.begin(), texts.end(), *rng);
    texts.resize(std::min<size_t>(texts.size(), n));
    return qe.Encode(texts);
  }
  FloatMatrix m;
  m.cols = emb.cols;
  std::uniform_int_distribution<int64_t> pick(0, emb.rows - 1);
  for (int i = 0; i < n; ++i) {
    const float* r = emb.row(pick(*rng));
    m.data.insert(m.data.end(), r, r + emb.cols);
    ++m.rows;
  }
  return m;
}

absl::Status Run() {
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

  // Phase 2: build.
  std::string factory = absl::GetFlag(FLAGS_factory);
  if (factory == "auto") {
    factory = DefaultFactoryFor(emb.rows);
    std::printf("factory auto -> '%s' for %lld listings\n", factory.c_str(),
                static_cast<long long>(emb.rows));
  }
  auto t_build = std::chrono::steady_clock::now();
  IndexBuildOptions bo;
  bo.ef_search = absl::GetFlag(FLAGS_ef_search);
  bo.ef_construction = absl::GetFlag(FLAGS_ef_construction);
  bo.nprobe = absl::GetFlag(FLAGS_nprobe);
  bo.refine_k_factor = static_cast<float>(absl::GetFlag(FLAGS_refine_k_factor));
  Progress add_progress("train + add to index", emb.rows);
  bo.progress = [&](int64_t done) { add_progress.Update(done); };
  MS_ASSIGN_OR_RETURN(std::unique_ptr<faiss::Index> inner,
                      BuildFaissIndex(factory, dim, emb.data.data(), ids, bo));
  add_progress.Finish();
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
  IndexManifest m;
  m.set_version(version);
  m.set_factory(factory);
  m.set_metric("inner_product");
  m.set_dim(dim);
  m.set_listing_count(emb.rows);
  m.set_listing_tower_version(encoder.version());
  m.set_featurizer_version(kFeaturizerVersion);
  m.set_hnsw_ef_search(absl::GetFlag(FLAGS_ef_search));
  m.set_snapshot_unix_ms(snapshot_unix_ms);
  MS_RETURN_IF_ERROR(WriteIndexFile(staging, *inner, &m));
  MaybeCrash("index_file");
  inner.reset();  // the snapshot below re-reads it from the file, as the server will
  MS_RETURN_IF_ERROR(WriteAttributesFile(staging, attributes, &m));
  MaybeCrash("attributes_file");
  MS_RETURN_IF_ERROR(WriteIndexManifest(staging, m));

  // Phase 4: recall against exact search, through the written files and the serving code
  // path (IndexSnapshot::Search, one OpenMP thread, one query at a time).
  std::mt19937_64 rng(1234);
  MS_ASSIGN_OR_RETURN(FloatMatrix rq, RecallQueries(data_dir, emb, absl::GetFlag(FLAGS_recall_queries), &rng));
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
  std::printf("recall@%d vs exact search: %.4f over %lld queries (ANN p50 %.3f ms, p99 %.3f ms, 1 thread)\n",
              k, recall, static_cast<long long>(rq.rows), p50, p99);
  if (recall < absl::GetFlag(FLAGS_min_recall)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "recall ", recall, " below --min_recall=", absl::GetFlag(FLAGS_min_recall),
        "; not publishing (raise --ef_search/--nprobe, add ',RFlat' or change --factory)"));
  }
  m.set_recall_at_100(recall);
  m.set_recall_sample_queries(static_cast<int32_t>(rq.rows));
  m.set_build_seconds(SecondsSince(t_start));
  m.set_created_unix(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count());
  MS_RETURN_IF_ERROR(WriteIndexManifest(staging, m));
  MaybeCrash("staging");

  // Phase 5: publish (rename into place, then CURRENT).
  MS_RETURN_IF_ERROR(PublishVersion(staging, root, version));
  guard.Release();
  MaybeCrash("publish_dir");
  if (absl::GetFlag(FLAGS_publish)) MS_RETURN_IF_ERROR(WriteCurrent(root, version));
  MaybeCrash("current");
  int64_t index_bytes = 0, attr_bytes = 0;
  for (const FileChecksum& f : m.files()) {
    (f.name() == "index.faiss" ? index_bytes : attr_bytes) += f.bytes();
  }

  std::printf("build_index summary\n");
  std::printf("  listings indexed   %lld (dim %d)\n", static_cast<long long>(emb.rows), dim);
  std::printf("  encode             %.1f s (%.0f listings/s)\n", encode_s, emb.rows / std::max(1e-9, encode_s));
  std::printf("  index build        %.1f s ('%s', efSearch %d, nprobe %d)\n", build_s,
              factory.c_str(), absl::GetFlag(FLAGS_ef_search), absl::GetFlag(FLAGS_nprobe));
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
      "Factories: auto (default: HNSW32,Flat up to 1M listings, IVF<~4 sqrt(n)>,Flat beyond), "
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
