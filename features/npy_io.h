// NumPy .npy files (format 1.0, little-endian, C order): the hand-off format from the C++
// featurizer to the Python trainers (numpy.load reads them; nothing is parsed twice), and
// the parity fixtures the trainers write back for the C++ side to check.
#ifndef MARKETSEARCH_FEATURES_NPY_IO_H_
#define MARKETSEARCH_FEATURES_NPY_IO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marketsearch {

absl::Status WriteNpy(const std::string& path, const std::vector<int64_t>& data,
                      const std::vector<int64_t>& shape);
absl::Status WriteNpy(const std::string& path, const std::vector<uint64_t>& data,
                      const std::vector<int64_t>& shape);
absl::Status WriteNpy(const std::string& path, const std::vector<float>& data,
                      const std::vector<int64_t>& shape);

// A loaded array: the data as raw little-endian bytes plus dtype and shape.
struct NpyArray {
  std::string dtype;  // numpy descr, e.g. "<f4", "<u8", "<i8"
  std::vector<int64_t> shape;
  std::string bytes;
  int64_t size() const;
  std::vector<float> AsFloat32() const;    // REQUIRES: dtype "<f4"
  std::vector<uint64_t> AsUint64() const;  // REQUIRES: dtype "<u8" or "<i8"
};

// Reads a C-order .npy file (version 1.0 or 2.0). DataLoss on a malformed file.
absl::StatusOr<NpyArray> ReadNpy(const std::string& path);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_NPY_IO_H_
