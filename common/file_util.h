// File helpers shared by the tools: whole-file read/write, durable writes, checksums.
// Thread-compatible (no shared state). Version directories: common/versions.h.
// The I/O goes through an Env (common/env.h; default Env::Default()), so tests can make any
// step fail (common/fault_injection_env.h); errors name the operation and the file.
#ifndef MARKETSEARCH_COMMON_FILE_UTIL_H_
#define MARKETSEARCH_COMMON_FILE_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"

namespace marketsearch {

absl::StatusOr<std::string> ReadFile(const std::string& path, Env* env = Env::Default());

// Writes `contents` to `path` via a temporary file, fsync and rename, so a reader never
// sees a partial file and a crash leaves either the old or the new contents.
// The temporary file is <path>.tmp; it is removed when a step fails.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents,
                                 Env* env = Env::Default());

// Writes `contents` to `path` (created or truncated) and fsyncs it; for files inside a staging
// directory, which is renamed into place as a whole.
absl::Status WriteFileDurably(const std::string& path, const std::string& contents,
                              Env* env = Env::Default());

// fsyncs a directory so that renames inside it are durable.
absl::Status SyncDir(const std::string& dir, Env* env = Env::Default());

absl::Status MakeDirs(const std::string& dir, Env* env = Env::Default());

// Lowercase hex SHA-256 of a file's contents.
// Streamed (files may be GBs); with `bytes`, also the number of bytes read.
absl::StatusOr<std::string> Sha256File(const std::string& path, Env* env = Env::Default(),
                                       int64_t* bytes = nullptr);
std::string Sha256Hex(const std::string& data);

bool PathExists(const std::string& path);

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_FILE_UTIL_H_
