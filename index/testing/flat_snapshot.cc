#include "index/testing/flat_snapshot.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>

#include "absl/strings/str_cat.h"

namespace marketsearch {

absl::StatusOr<std::shared_ptr<const IndexSnapshot>> FlatSnapshotForTest(
    int dim, const std::vector<uint64_t>& ids, const std::vector<float>& vectors, int64_t version) {
  if (vectors.size() != ids.size() * static_cast<size_t>(dim)) {
    return absl::InvalidArgumentError(absl::StrCat("vectors: ", vectors.size(), " floats for ",
                                                   ids.size(), " ids of dim ", dim));
  }
  auto flat = std::make_unique<faiss::IndexIDMap2>(new faiss::IndexFlatIP(dim));
  flat->own_fields = true;
  const std::vector<faiss::Index::idx_t> faiss_ids(ids.begin(), ids.end());
  flat->add_with_ids(static_cast<faiss::Index::idx_t>(ids.size()), vectors.data(), faiss_ids.data());
  IndexManifest m;
  m.set_version(version);
  m.set_dim(dim);
  m.set_factory("Flat");
  return IndexSnapshot::Create(std::move(flat), m, nullptr);
}

}  // namespace marketsearch
