#include "features/npy_io.h"

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

int64_t NpyArray::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<float> NpyArray::AsFloat32() const {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

std::vector<uint64_t> NpyArray::AsUint64() const {
  std::vector<uint64_t> v(bytes.size() / 8);
  std::memcpy(v.data(), bytes.data(), v.size() * 8);
  return v;
}

absl::StatusOr<NpyArray> ReadNpy(const std::string& path) {
  auto raw = ReadFile(path);
  if (!raw.ok()) return raw.status();
  const std::string& s = *raw;
  auto bad = [&](const char* why) { return absl::DataLossError(absl::StrCat(path, ": ", why)); };
  if (s.size() < 10 || s.compare(0, 6, "\x93NUMPY") != 0) return bad("not an .npy file");
  const int major = static_cast<unsigned char>(s[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = static_cast<unsigned char>(s[8]) | (static_cast<unsigned char>(s[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (s.size() < 12) return bad("truncated header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(s[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    return bad("unsupported .npy version");
  }
  if (s.size() < header_start + header_len) return bad("truncated header");
  const std::string header = s.substr(header_start, header_len);
  NpyArray a;
  auto field = [&](const std::string& key) -> std::string {
    size_t p = header.find("'" + key + "'");
    if (p == std::string::npos) return "";
    p = header.find(':', p);
    return p == std::string::npos ? "" : header.substr(p + 1);
  };
  std::string descr = field("descr");
  size_t q1 = descr.find('\''), q2 = descr.find('\'', q1 + 1);
  if (q1 == std::string::npos || q2 == std::string::npos) return bad("no dtype");
  a.dtype = descr.substr(q1 + 1, q2 - q1 - 1);
  if (field("fortran_order").find("False") == std::string::npos) return bad("Fortran order not supported");
  std::string shape = field("shape");
  size_t open = shape.find('('), close = shape.find(')');
  if (open == std::string::npos || close == std::string::npos) return bad("no shape");
  for (absl::string_view d : absl::StrSplit(shape.substr(open + 1, close - open - 1), ',', absl::SkipWhitespace())) {
    int64_t v;
    if (!absl::SimpleAtoi(d, &v)) return bad("bad shape");
    a.shape.push_back(v);
  }
  int width = 0;
  if (a.dtype == "<f4" || a.dtype == "<i4" || a.dtype == "<u4") width = 4;
  if (a.dtype == "<f8" || a.dtype == "<i8" || a.dtype == "<u8") width = 8;
  if (width == 0) return bad("unsupported dtype");
  const size_t want = static_cast<size_t>(a.size()) * width;
  if (s.size() - header_start - header_len != want) return bad("data size does not match shape");
  a.bytes = s.substr(header_start + header_len);
  return a;
}

}  // namespace marketsearch
