// IndexSnapshot: one loaded, immutable, published index version (var/index/<v>/).
// Load() verifies the manifest and file checksums; search parameters that FAISS keeps in
// the index (HNSW efSearch) are set once at load and never mutated under traffic.
//
// Thread safety: Search() may be called concurrently; the snapshot is never modified after
// Load(). Callers share it through std::shared_ptr so a request keeps its version alive.
#ifndef MARKETSEARCH_INDEX_INDEX_SNAPSHOT_H_
#define MARKETSEARCH_INDEX_INDEX_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/manifest.pb.h"

namespace faiss {
struct Index;
}

namespace marketsearch {

struct Neighbor {
  uint64_t listing_id;
  float score;  // inner product, higher is more similar
};

class IndexSnapshot {
 public:
  // Loads <dir> (a version directory). Errors: NotFound, DataLoss (checksum), Internal.
  static absl::StatusOr<std::shared_ptr<const IndexSnapshot>> Load(const std::string& dir);
  ~IndexSnapshot();

  // Top-k neighbours of one query vector (length dim()), best first. nprobe applies to IVF
  // indexes and is passed per call (0 = index default).
  absl::StatusOr<std::vector<Neighbor>> Search(const float* query, int k, int nprobe = 0) const;

  // Copies the stored embedding of `listing_id` into out[0..dim) (flat-storage indexes:
  // exact; PQ indexes: the decoded approximation). NotFound for an id not in the index.
  absl::Status Reconstruct(uint64_t listing_id, float* out) const;

  const IndexManifest& manifest() const { return manifest_; }
  int64_t version() const { return manifest_.version(); }
  int dim() const { return manifest_.dim(); }
  int64_t size() const;

 private:
  IndexSnapshot() = default;
  std::unique_ptr<faiss::Index> index_;
  IndexManifest manifest_;
};

// Reads the version named by <index_root>/CURRENT.
absl::StatusOr<int64_t> ReadCurrentVersion(const std::string& index_root);
absl::StatusOr<IndexManifest> ReadIndexManifest(const std::string& dir);

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_INDEX_SNAPSHOT_H_
