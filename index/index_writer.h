// Building and writing one index version: the FAISS index from a factory string (wrapped in
// an IndexIDMap2 keyed by listing id), and its files in a (staging) directory — the FAISS
// index, the listing attribute table and the MANIFEST that lists both with their sha256.
// Publication (rename into place, CURRENT) is index/publish.h's job.
//
// Thread-compatible; the directory must not be read while it is written.
#ifndef MARKETSEARCH_INDEX_INDEX_WRITER_H_
#define MARKETSEARCH_INDEX_INDEX_WRITER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "index/index_snapshot.h"
#include "index/listing_filter.h"
#include "proto/manifest.pb.h"

namespace faiss {
struct Index;
}

namespace marketsearch {

struct IndexBuildOptions {
  int ef_search = 256;        // HNSW: efSearch the index is served with
  int ef_construction = 128;  // HNSW
  int nprobe = 16;            // IVF: default lists probed (requests may override)
  float refine_k_factor = 4;  // '...,RFlat': candidates per result re-ranked exactly
  // Train (IVF centroids, PQ codebooks) on at most this many vectors, an even stride over
  // the input (0 = all). FAISS's k-means samples 256 points per centroid anyway.
  int64_t max_train_vectors = 0;
  // Called with the number of vectors added so far (may be empty).
  std::function<void(int64_t)> progress;
};

// Builds faiss::IndexIDMap2(index_factory(dim, factory, inner product)) over `vectors`
// (ids.size() × dim, row i has listing id ids[i]); trains first when the factory needs it. Errors: InvalidArgument (bad factory string), Internal (FAISS failure).
absl::StatusOr<std::unique_ptr<faiss::Index>> BuildFaissIndex(const std::string& factory,
                                                              int dim, const float* vectors,
                                                              const std::vector<uint64_t>& ids,
                                                              const IndexBuildOptions& options);

// BuildFaissIndex, served straight from memory without writing a version directory: for tests
// and tools that need a searchable version of a few vectors without the FAISS types.
// `manifest.dim` is set to `dim`; `attributes` (may be null) must follow `ids` row for row.
absl::StatusOr<std::shared_ptr<const IndexSnapshot>> BuildInMemorySnapshot(
    const std::string& factory, int dim, const float* vectors, const std::vector<uint64_t>& ids,
    IndexManifest manifest, std::unique_ptr<ListingAttributeTable> attributes,
    const IndexBuildOptions& options = IndexBuildOptions());

// The writers below do their I/O through `env` (FAISS writes through an IOWriter over an
// Env WritableFile), so an injected write/fsync error reaches them; errors name the file.

// Writes <dir>/index.faiss (fsynced) and appends its FileChecksum to manifest->files.
absl::Status WriteIndexFile(const std::string& dir, const faiss::Index& index,
                            IndexManifest* manifest, Env* env = Env::Default());

// Writes <dir>/attributes.bin (fsynced) and appends its FileChecksum to manifest->files.
absl::Status WriteAttributesFile(const std::string& dir, const ListingAttributeTable& table,
                                 IndexManifest* manifest, Env* env = Env::Default());

// Writes <dir>/MANIFEST (text proto) atomically (temp file + fsync + rename).
absl::Status WriteIndexManifest(const std::string& dir, const IndexManifest& manifest,
                                Env* env = Env::Default());

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_INDEX_WRITER_H_
