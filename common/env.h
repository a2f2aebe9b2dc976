// Env: the file-system reads and the clock that the serving lifecycle needs, behind an
// interface (leveldb's Env, reduced to what is used), so the version policy is unit-tested
// with fake directories, injected read errors and a manually advanced clock (common/fake_env.h).
//
// Thread safety: every method of every implementation may be called concurrently from any
// thread. An Env keeps no per-call state; results describe the file system at the moment of
// the call (other processes publish versions concurrently).
// Ownership: Env::Default() is a process-lifetime singleton owned by the library (never
// delete it); any other Env is owned by whoever created it and must outlive its users.
#ifndef MARKETSEARCH_COMMON_ENV_H_
#define MARKETSEARCH_COMMON_ENV_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace marketsearch {

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX implementation: std::filesystem, common/file_util's ReadFile and the system
  // clock (common/clock.h).
  static Env* Default();

  // The names (not paths) of the entries directly inside `dir`, files and directories alike,
  // sorted, without "." and "..". NotFound when `dir` does not exist; FailedPrecondition when
  // it is not a directory; Internal for other I/O errors.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) = 0;

  // True when `path` exists (file or directory). I/O errors read as false.
  virtual bool FileExists(const std::string& path) = 0;
  // True when `path` exists and is a directory (symlinks followed). I/O errors read as false.
  virtual bool IsDirectory(const std::string& path) = 0;

  // The whole contents of the file `path`. NotFound when it cannot be opened; Internal when a
  // read fails.
  virtual absl::StatusOr<std::string> ReadFileToString(const std::string& path) = 0;

  // Wall-clock milliseconds since the Unix epoch.
  virtual int64_t NowUnixMs() = 0;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_ENV_H_
