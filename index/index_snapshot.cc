#include "index/index_snapshot.h"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_io.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "google/protobuf/text_format.h"

namespace marketsearch {

IndexSnapshot::~IndexSnapshot() = default;

absl::StatusOr<int64_t> ReadCurrentVersion(const std::string& index_root) {
  auto text = ReadFile(index_root + "/CURRENT");
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no CURRENT in ", index_root));
  int64_t v;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &v) || v <= 0) {
    return absl::DataLossError(absl::StrCat(index_root, "/CURRENT does not name a version"));
  }
  return v;
}

absl::StatusOr<IndexManifest> ReadIndexManifest(const std::string& dir) {
  auto text = ReadFile(dir + "/MANIFEST");
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no MANIFEST in ", dir));
  IndexManifest m;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &m)) {
    return absl::DataLossError(absl::StrCat("unparsable MANIFEST in ", dir));
  }
  return m;
}

absl::StatusOr<std::shared_ptr<const IndexSnapshot>> IndexSnapshot::Load(const std::string& dir) {
  auto manifest = ReadIndexManifest(dir);
  if (!manifest.ok()) return manifest.status();
  for (const FileChecksum& f : manifest->files()) {
    auto sum = Sha256File(dir + "/" + f.name());
    if (!sum.ok()) return sum.status();
    if (*sum != f.sha256()) {
      return absl::DataLossError(absl::StrCat("index v", manifest->version(),
                                              ": checksum mismatch for ", f.name()));
    }
  }
  std::shared_ptr<IndexSnapshot> snap(new IndexSnapshot());
  try {
    snap->index_.reset(faiss::read_index((dir + "/index.faiss").c_str()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot read index in ", dir, ": ", e.what()));
  }
  if (snap->index_->d != manifest->dim()) {
    return absl::DataLossError(absl::StrCat("index dim ", snap->index_->d, " != manifest dim ",
                                            manifest->dim()));
  }
  // efSearch lives in the index (FAISS 1.7.3 ignores it in SearchParameters): set it once.
  if (auto* idmap = dynamic_cast<faiss::IndexIDMap2*>(snap->index_.get())) {
    if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(idmap->index)) {
      if (manifest->hnsw_ef_search() > 0) hnsw->hnsw.efSearch = manifest->hnsw_ef_search();
    }
  }
  snap->manifest_ = *std::move(manifest);
  return std::shared_ptr<const IndexSnapshot>(std::move(snap));
}

int64_t IndexSnapshot::size() const { return index_->ntotal; }

absl::Status IndexSnapshot::Reconstruct(uint64_t listing_id, float* out) const {
  auto* idmap = dynamic_cast<const faiss::IndexIDMap2*>(index_.get());
  if (idmap == nullptr) return absl::InternalError("index has no id map");
  auto it = idmap->rev_map.find(static_cast<faiss::Index::idx_t>(listing_id));
  if (it == idmap->rev_map.end()) {
    return absl::NotFoundError(absl::StrCat("listing ", listing_id, " not in index v", version()));
  }
  try {
    idmap->index->reconstruct(it->second, out);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("reconstruct: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Neighbor>> IndexSnapshot::Search(const float* query, int k,
                                                            int nprobe) const {
  if (k <= 0) return std::vector<Neighbor>();
  k = static_cast<int>(std::min<int64_t>(k, index_->ntotal));
  std::vector<float> dist(k);
  std::vector<faiss::Index::idx_t> labels(k);
  try {
    faiss::SearchParametersIVF ivf_params;
    const faiss::SearchParameters* params = nullptr;
    auto* idmap = dynamic_cast<const faiss::IndexIDMap2*>(index_.get());
    if (nprobe > 0 && idmap && dynamic_cast<const faiss::IndexIVF*>(idmap->index)) {
      ivf_params.nprobe = static_cast<size_t>(nprobe);
      params = &ivf_params;
    }
    index_->search(1, query, k, dist.data(), labels.data(), params);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("faiss search failed: ", e.what()));
  }
  std::vector<Neighbor> out;
  out.reserve(k);
  for (int i = 0; i < k; ++i) {
    if (labels[i] < 0) continue;
    out.push_back({static_cast<uint64_t>(labels[i]), dist[i]});
  }
  return out;
}

}  // namespace marketsearch
