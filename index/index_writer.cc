#include "index/index_writer.h"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexRefine.h>
#include <faiss/index_factory.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cmath>
#include <string>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "google/protobuf/text_format.h"

namespace marketsearch {

namespace {

absl::Status AddChecksum(const std::string& dir, const std::string& name,
                         IndexManifest* manifest, Env* env) {
  const std::string path = dir + "/" + name;
  auto sum = Sha256File(path, env);
  if (!sum.ok()) return sum.status();
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("stat ", path, ": ", ec.message()));
  FileChecksum* f = manifest->add_files();
  f->set_name(name);
  f->set_sha256(*sum);
  f->set_bytes(static_cast<int64_t>(bytes));
  return absl::OkStatus();
}

// FAISS's serialisation writes through this, so its bytes go through the Env: the first
// failed Append is kept (with the file name and errno) and FAISS, seeing a short write, throws.
class EnvIOWriter : public faiss::IOWriter {
 public:
  explicit EnvIOWriter(WritableFile* file) : file_(file) {}
  size_t operator()(const void* ptr, size_t size, size_t nitems) override {
    if (!status_.ok()) return 0;
    status_ = file_->Append(absl::string_view(static_cast<const char*>(ptr), size * nitems));
    return status_.ok() ? nitems : 0;
  }
  const absl::Status& status() const { return status_; }

 private:
  WritableFile* const file_;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<faiss::Index>> BuildFaissIndex(const std::string& factory,
                                                              int dim, const float* vectors,
                                                              const std::vector<uint64_t>& ids,
                                                              const IndexBuildOptions& o) {
  std::unique_ptr<faiss::Index> inner;
  try {
    inner.reset(faiss::index_factory(dim, factory.c_str(), faiss::METRIC_INNER_PRODUCT));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("factory '", factory, "': ", e.what()));
  }
  faiss::Index* core = inner.get();
  if (auto* refine = dynamic_cast<faiss::IndexRefine*>(core)) {
    refine->k_factor = std::max(1.0f, o.refine_k_factor);
    core = refine->base_index;
  }
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(core)) {
    hnsw->hnsw.efConstruction = o.ef_construction;
    hnsw->hnsw.efSearch = o.ef_search;
  }
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(core)) {
    ivf->nprobe = static_cast<size_t>(std::max(1, o.nprobe));
  }
  // index_factory turns on polysemous training for PQ codes. It only serves Hamming-filtered
  // search (polysemous_ht, unused here) and dominates the build time: on Debian's generic
  // (no hardware popcount) FAISS build it took ~95% of an IVF64,PQ16 build over 20k vectors.
  // PQ codebooks: FAISS trains each sub-quantizer's 256 centroids on 256 points per
  // centroid (65k); with 2-d sub-vectors (PQ32 on 64-d) that costs ~4 s per sub-quantizer on
  // this FAISS build (scalar distance code) and 64 per centroid gives the same codebooks.
  if (auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(core)) {
    ivfpq->do_polysemous_training = false;
    ivfpq->pq.cp.max_points_per_centroid = 64;
  }
  if (auto* pq = dynamic_cast<faiss::IndexPQ*>(core)) {
    pq->do_polysemous_training = false;
    pq->pq.cp.max_points_per_centroid = 64;
  }
  const int64_t n = static_cast<int64_t>(ids.size());
  try {
    if (!inner->is_trained) {
      if (o.max_train_vectors > 0 && n > o.max_train_vectors) {
        const int64_t m = o.max_train_vectors;
        std::vector<float> sample(static_cast<size_t>(m) * dim);
        for (int64_t i = 0; i < m; ++i) {
          const float* src = vectors + (i * n / m) * dim;
          std::copy(src, src + dim, sample.data() + i * dim);
        }
        inner->train(m, sample.data());
      } else {
        inner->train(n, vectors);
      }
    }
    auto index = std::make_unique<faiss::IndexIDMap2>(inner.release());
    index->own_fields = true;
    std::vector<faiss::Index::idx_t> fids(ids.begin(), ids.end());
    const int64_t chunk = 20000;
    for (int64_t i = 0; i < n; i += chunk) {
      const int64_t m = std::min(chunk, n - i);
      index->add_with_ids(m, vectors + i * dim, fids.data() + i);
      if (o.progress) o.progress(i + m);
    }
    return std::unique_ptr<faiss::Index>(index.release());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("building '", factory, "': ", e.what()));
  }
}

absl::Status WriteIndexFile(const std::string& dir, const faiss::Index& index,
                            IndexManifest* manifest, Env* env) {
  const std::string path = dir + "/index.faiss";
  absl::StatusOr<std::unique_ptr<WritableFile>> file = env->NewWritableFile(path);
  if (!file.ok()) return file.status();
  EnvIOWriter writer(file->get());
  try {
    faiss::write_index(&index, &writer);
  } catch (const std::exception& e) {
    if (!writer.status().ok()) return writer.status();  // names the file and the errno
    return absl::InternalError(absl::StrCat("write_index ", path, ": ", e.what()));
  }
  absl::Status s = (*file)->Sync();
  absl::Status closed = (*file)->Close();
  if (!s.ok()) return s;
  if (!closed.ok()) return closed;
  return AddChecksum(dir, "index.faiss", manifest, env);
}

absl::Status WriteAttributesFile(const std::string& dir, const ListingAttributeTable& table,
                                 IndexManifest* manifest, Env* env) {
  absl::Status s = WriteFileDurably(dir + "/attributes.bin", table.Serialize(), env);
  if (!s.ok()) return s;
  return AddChecksum(dir, "attributes.bin", manifest, env);
}

absl::Status WriteIndexManifest(const std::string& dir, const IndexManifest& manifest, Env* env) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(manifest, &text)) {
    return absl::InternalError("cannot print IndexManifest");
  }
  return WriteFileAtomically(dir + "/MANIFEST", text, env);
}

absl::StatusOr<std::shared_ptr<const IndexSnapshot>> BuildInMemorySnapshot(
    const std::string& factory, int dim, const float* vectors, const std::vector<uint64_t>& ids,
    IndexManifest manifest, std::unique_ptr<ListingAttributeTable> attributes,
    const IndexBuildOptions& options) {
  absl::StatusOr<std::unique_ptr<faiss::Index>> index = BuildFaissIndex(factory, dim, vectors, ids, options);
  if (!index.ok()) return index.status();
  manifest.set_dim(dim);
  if (manifest.factory().empty()) manifest.set_factory(factory);
  return IndexSnapshot::Create(*std::move(index), std::move(manifest), std::move(attributes));
}

}  // namespace marketsearch
