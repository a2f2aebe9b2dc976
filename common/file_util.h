// File helpers shared by the tools: whole-file read/write, durable writes, checksums.
// Thread-compatible (no shared state). Version directories: common/versions.h.
#ifndef MARKETSEARCH_COMMON_FILE_UTIL_H_
#define MARKETSEARCH_COMMON_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marketsearch {

absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to `path` via a temporary file, fsync and rename, so a reader never
// sees a partial file and a crash leaves either the old or the new contents.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

// fsyncs a directory so that renames inside it are durable.
absl::Status SyncDir(const std::string& dir);

absl::Status MakeDirs(const std::string& dir);

// Lowercase hex SHA-256 of a file's contents.
absl::StatusOr<std::string> Sha256File(const std::string& path);
std::string Sha256Hex(const std::string& data);

bool PathExists(const std::string& path);

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_FILE_UTIL_H_
