// Writes NumPy .npy files (format 1.0, little-endian, C order), the hand-off format from
// the C++ featurizer to the Python trainers (numpy.load reads them; nothing is parsed twice).
#ifndef MARKETSEARCH_FEATURES_NPY_WRITER_H_
#define MARKETSEARCH_FEATURES_NPY_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace marketsearch {

absl::Status WriteNpy(const std::string& path, const std::vector<int64_t>& data,
                      const std::vector<int64_t>& shape);
absl::Status WriteNpy(const std::string& path, const std::vector<uint64_t>& data,
                      const std::vector<int64_t>& shape);
absl::Status WriteNpy(const std::string& path, const std::vector<float>& data,
                      const std::vector<int64_t>& shape);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_NPY_WRITER_H_
