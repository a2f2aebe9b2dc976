// Test helper: an IndexSnapshot over an exact (Flat, inner product) FAISS index of the given
// listing ids and vectors, without attributes, for tests of the code that reads a snapshot.
#ifndef MARKETSEARCH_INDEX_TESTING_FLAT_SNAPSHOT_H_
#define MARKETSEARCH_INDEX_TESTING_FLAT_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "index/index_snapshot.h"

namespace marketsearch {

// `vectors` holds ids.size() rows of `dim` floats. The manifest says version `version`.
absl::StatusOr<std::shared_ptr<const IndexSnapshot>> FlatSnapshotForTest(
    int dim, const std::vector<uint64_t>& ids, const std::vector<float>& vectors,
    int64_t version = 1);

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_TESTING_FLAT_SNAPSHOT_H_
