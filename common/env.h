// Env: the file-system operations and the clock that our code does its I/O through, behind an
// interface (leveldb's Env, reduced to what is used), so that
//  * the version policy is unit-tested with fake directories, injected read errors and a
//    manually advanced clock (common/fake_env.h), and
//  * every write on the publication path (WriteFileAtomically, SyncDir, PublishVersion,
//    WriteCurrent, manifests, the FAISS index file) can be made to fail on purpose: the
//    fault-injecting Env (common/fault_injection_env.h), which Env::Default() becomes when
//    MARKETSEARCH_FAULTS is set (a test hook; RELIABILITY.md, "Injected faults").
// RocksDB and Xapian do their own I/O; features/ routes RocksDB's through the same fault rules.
//
// Errors name the operation and the path ("fsync <path>: Input/output error"), so a job that
// returns one prints a message that says what failed where.
//
// Thread safety: every method of every implementation may be called concurrently from any
// thread. An Env keeps no per-call state; results describe the file system at the moment of
// the call (other processes publish versions concurrently). A WritableFile/SequentialFile is
// used by one thread at a time.
// Ownership: Env::Default() is a process-lifetime singleton owned by the library (never
// delete it); any other Env is owned by whoever created it and must outlive its users.
#ifndef MARKETSEARCH_COMMON_ENV_H_
#define MARKETSEARCH_COMMON_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace marketsearch {

// A file being written from the start (created or truncated by Env::NewWritableFile).
class WritableFile {
 public:
  // Closes the file if Close() was not called (errors are then lost: call Close()).
  virtual ~WritableFile() = default;
  virtual absl::Status Append(absl::string_view data) = 0;
  // Makes what was appended durable (fsync).
  virtual absl::Status Sync() = 0;
  virtual absl::Status Close() = 0;
};

// A file read from the start in chunks.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Up to `n` next bytes into *out (replacing its contents); an empty *out is the end.
  virtual absl::Status Read(size_t n, std::string* out) = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX implementation (std::filesystem, POSIX calls and the system clock) — or, when
  // the environment variable MARKETSEARCH_FAULTS is set, a FaultInjectionEnv over it
  // (common/fault_injection_env.h). A malformed MARKETSEARCH_FAULTS stops the process.
  static Env* Default();

  // --- Reads ---

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

  // `path` opened for reading from the start. NotFound when it cannot be opened.
  virtual absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) = 0;

  // --- Writes (errors: Internal, or ResourceExhausted for a full disk/quota) ---

  // Creates `path`, or truncates it when it exists. The parent directory must exist.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  // fsyncs the existing file `path` (written by someone else, e.g. a library with its own I/O).
  virtual absl::Status SyncFile(const std::string& path) = 0;
  // fsyncs the directory `dir`, so that creations and renames inside it are durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  // rename(2): atomic; replaces a file `to`, or an empty directory `to`.
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Creates `dir` and its missing parents; OK when it exists already.
  virtual absl::Status CreateDirs(const std::string& dir) = 0;
  // Removes the file or directory `path` with everything under it; OK when it is absent.
  virtual absl::Status RemoveAll(const std::string& path) = 0;

  // --- Clock ---

  // Wall-clock milliseconds since the Unix epoch.
  virtual int64_t NowUnixMs() = 0;
};

// The Status of a failed system call: "<what> <path>: <strerror(err)>", ResourceExhausted for
// ENOSPC and EDQUOT (a full disk), Internal otherwise.
absl::Status ErrnoToStatus(const std::string& what, const std::string& path, int err);

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_ENV_H_
