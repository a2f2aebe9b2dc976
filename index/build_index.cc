// build_index: the offline index build job. Reads every live listing from the feature
// store, embeds them with the listing tower, builds a FAISS index from a factory string,
// measures Recall@100 against exact search, and publishes a new immutable version
// <data_dir>/index/<v>/ and then CURRENT, atomically.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <omp.h>

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
#include "common/file_util.h"
#include "common/progress.h"
#include "common/status_macros.h"
#include "datasets/catalog_reader.h"
#include "features/feature_store.h"
#include "features/featurizer.h"
#include "google/protobuf/text_format.h"
#include "index/publish.h"
#include "proto/manifest.pb.h"
#include "retrieval/encoders.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (store/, models/ in; index/ out)");
ABSL_FLAG(std::string, factory, "HNSW32,Flat", "FAISS index_factory string (inner product)");
ABSL_FLAG(int, ef_search, 256, "HNSW efSearch the index is served with");
ABSL_FLAG(int, ef_construction, 128, "HNSW efConstruction");
ABSL_FLAG(int, batch_size, 1024, "listings per encoder batch");
ABSL_FLAG(int, threads, 2, "threads for encoding and index construction");
ABSL_FLAG(double, min_recall, 0.95, "refuse to publish below this Recall@100 vs exact search");
ABSL_FLAG(int, recall_queries, 500, "queries sampled to measure recall");
ABSL_FLAG(bool, publish, true, "switch CURRENT to the new version");

namespace marketsearch {
namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Query vectors for the recall check: real queries through the query tower when the catalog
// has them, else listing vectors (a weaker proxy).
absl::StatusOr<FloatMatrix> RecallQueries(const std::string& data_dir, const FloatMatrix& emb,
                                          int n, std::mt19937_64* rng) {
  auto queries = ReadQueries(data_dir + "/catalog/queries.tsv");
  auto qdir = LatestModelDir(data_dir + "/models", "query_tower");
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

  MS_ASSIGN_OR_RETURN(std::string ldir, LatestModelDir(data_dir + "/models", "listing_tower"));
  MS_ASSIGN_OR_RETURN(ListingEncoder encoder, ListingEncoder::Load(ldir, threads));
  FeatureStore::Options so;
  so.path = data_dir + "/store";
  so.read_only = true;
  MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));
  MS_ASSIGN_OR_RETURN(const CatalogStats stats, store->GetCatalogStats());
  std::printf("build_index: listing tower v%lld (%s), factory '%s'\n",
              static_cast<long long>(encoder.version()), ldir.c_str(),
              absl::GetFlag(FLAGS_factory).c_str());

  // Phase 1: scan + encode. Writes acknowledged before this instant are in the snapshot.
  const int64_t snapshot_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch()).count();
  const int dim = encoder.dim();
  FloatMatrix emb;
  emb.cols = dim;
  std::vector<faiss::Index::idx_t> ids;
  std::vector<Listing> batch;
  absl::Status encode_status;
  Progress enc_progress("encode listings", store->EstimateListingCount());
  auto encode_batch = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    MS_ASSIGN_OR_RETURN(FloatMatrix m, encoder.Encode(batch, stats));
    emb.data.insert(emb.data.end(), m.data.begin(), m.data.end());
    emb.rows += m.rows;
    for (const Listing& l : batch) ids.push_back(static_cast<faiss::Index::idx_t>(l.listing_id()));
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

  // Phase 2: build.
  auto t_build = std::chrono::steady_clock::now();
  std::unique_ptr<faiss::Index> inner(
      faiss::index_factory(dim, absl::GetFlag(FLAGS_factory).c_str(), faiss::METRIC_INNER_PRODUCT));
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(inner.get())) {
    hnsw->hnsw.efConstruction = absl::GetFlag(FLAGS_ef_construction);
    hnsw->hnsw.efSearch = absl::GetFlag(FLAGS_ef_search);
  }
  if (!inner->is_trained) {
    std::fprintf(stderr, "train %s on %lld vectors...\n", absl::GetFlag(FLAGS_factory).c_str(),
                 static_cast<long long>(emb.rows));
    inner->train(emb.rows, emb.data.data());
  }
  faiss::IndexIDMap2 index(inner.get());
  Progress add_progress("add to index", emb.rows);
  const int64_t chunk = 20000;
  for (int64_t i = 0; i < emb.rows; i += chunk) {
    const int64_t n = std::min(chunk, emb.rows - i);
    index.add_with_ids(n, emb.row(i), ids.data() + i);
    add_progress.Update(i + n);
  }
  add_progress.Finish();
  const double build_s = Seconds(t_build);

  // Phase 3: recall against exact search.
  std::mt19937_64 rng(1234);
  MS_ASSIGN_OR_RETURN(FloatMatrix rq, RecallQueries(data_dir, emb, absl::GetFlag(FLAGS_recall_queries), &rng));
  faiss::IndexFlatIP exact(dim);
  exact.add(emb.rows, emb.data.data());
  const int k = static_cast<int>(std::min<int64_t>(100, emb.rows));
  std::vector<float> d1(rq.rows * k), d2(rq.rows * k);
  std::vector<faiss::Index::idx_t> l1(rq.rows * k), l2(rq.rows * k);
  omp_set_num_threads(1);  // measure as served: one OpenMP thread per query
  auto t_search = std::chrono::steady_clock::now();
  index.search(rq.rows, rq.data.data(), k, d1.data(), l1.data());
  const double ann_ms_per_query = Seconds(t_search) * 1000.0 / std::max<int64_t>(1, rq.rows);
  omp_set_num_threads(threads);
  exact.search(rq.rows, rq.data.data(), k, d2.data(), l2.data());
  double hits = 0;
  for (int64_t q = 0; q < rq.rows; ++q) {
    absl::flat_hash_set<faiss::Index::idx_t> truth;
    for (int j = 0; j < k; ++j) truth.insert(ids[l2[q * k + j]]);
    for (int j = 0; j < k; ++j) hits += truth.count(l1[q * k + j]);
  }
  const double recall = hits / (static_cast<double>(rq.rows) * k);
  std::printf("recall@%d vs exact search: %.4f over %lld queries (%.3f ms/query ANN, 1 thread)\n", k,
              recall, static_cast<long long>(rq.rows), ann_ms_per_query);
  if (recall < absl::GetFlag(FLAGS_min_recall)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "recall ", recall, " below --min_recall=", absl::GetFlag(FLAGS_min_recall),
        "; not publishing (raise --ef_search or change --factory)"));
  }

  // Phase 4: write + publish.
  const std::string root = data_dir + "/index";
  const int64_t version = NextVersion(root);
  MS_ASSIGN_OR_RETURN(std::string staging, MakeStagingDir(root, version));
  const std::string index_file = staging + "/index.faiss";
  try {
    faiss::write_index(&index, index_file.c_str());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("write_index: ", e.what()));
  }
  IndexManifest m;
  m.set_version(version);
  m.set_factory(absl::GetFlag(FLAGS_factory));
  m.set_metric("inner_product");
  m.set_dim(dim);
  m.set_listing_count(emb.rows);
  m.set_listing_tower_version(encoder.version());
  m.set_featurizer_version(kFeaturizerVersion);
  m.set_build_seconds(Seconds(t_start));
  m.set_recall_at_100(recall);
  m.set_recall_sample_queries(static_cast<int32_t>(rq.rows));
  m.set_created_unix(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count());
  m.set_hnsw_ef_search(absl::GetFlag(FLAGS_ef_search));
  m.set_snapshot_unix_ms(snapshot_unix_ms);
  MS_ASSIGN_OR_RETURN(std::string sum, Sha256File(index_file));
  FileChecksum* f = m.add_files();
  f->set_name("index.faiss");
  f->set_sha256(sum);
  f->set_bytes(static_cast<int64_t>(std::filesystem::file_size(index_file)));
  std::string text;
  google::protobuf::TextFormat::PrintToString(m, &text);
  MS_RETURN_IF_ERROR(WriteFileAtomically(staging + "/MANIFEST", text));
  MS_RETURN_IF_ERROR(PublishVersion(staging, root, version));
  if (absl::GetFlag(FLAGS_publish)) MS_RETURN_IF_ERROR(SetCurrent(root, version));

  std::printf("build_index summary\n");
  std::printf("  listings indexed   %lld (dim %d)\n", static_cast<long long>(emb.rows), dim);
  std::printf("  encode             %.1f s (%.0f listings/s)\n", encode_s, emb.rows / std::max(1e-9, encode_s));
  std::printf("  index build        %.1f s ('%s', efSearch %d)\n", build_s,
              absl::GetFlag(FLAGS_factory).c_str(), absl::GetFlag(FLAGS_ef_search));
  std::printf("  Recall@%d          %.4f vs exact (threshold %.2f)\n", k, recall, absl::GetFlag(FLAGS_min_recall));
  std::printf("  index file         %.1f MB\n", f->bytes() / 1e6);
  std::printf("  published          %s/%lld%s\n", root.c_str(), static_cast<long long>(version),
              absl::GetFlag(FLAGS_publish) ? " (CURRENT)" : " (CURRENT unchanged)");
  std::printf("  total              %.1f s\n", Seconds(t_start));
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Embeds every listing in the feature store with the latest listing tower, builds a FAISS "
      "index, checks its recall against exact search and publishes <data_dir>/index/<v>.\n"
      "Usage: build_index [--data_dir=var] [--factory='HNSW32,Flat'] [--min_recall=0.95]");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "build_index: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
