#include "features/npy_writer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"

namespace marketsearch {
namespace {

absl::Status Write(const std::string& path, const char* descr, const void* data, size_t bytes,
                   size_t elems, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  if (n != static_cast<int64_t>(elems)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": shape does not match data size"));
  }
  std::string shape_str = absl::StrJoin(shape, ", ");
  if (shape.size() == 1) shape_str += ",";
  std::string header = absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (",
                                    shape_str, "), }");
  // Magic (6) + version (2) + header length (2) + header, padded to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out.append(static_cast<const char*>(data), bytes);
  return WriteFileAtomically(path, out);
}

}  // namespace

absl::Status WriteNpy(const std::string& path, const std::vector<int64_t>& d,
                      const std::vector<int64_t>& shape) {
  return Write(path, "<i8", d.data(), d.size() * 8, d.size(), shape);
}
absl::Status WriteNpy(const std::string& path, const std::vector<uint64_t>& d,
                      const std::vector<int64_t>& shape) {
  return Write(path, "<u8", d.data(), d.size() * 8, d.size(), shape);
}
absl::Status WriteNpy(const std::string& path, const std::vector<float>& d,
                      const std::vector<int64_t>& shape) {
  return Write(path, "<f4", d.data(), d.size() * 4, d.size(), shape);
}

}  // namespace marketsearch
