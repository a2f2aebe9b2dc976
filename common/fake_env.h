// FakeEnv: an in-memory Env for tests — directories and files held in maps, read errors
// injected per path, and a clock that moves only when the test advances it. Nothing touches
// the disk and nothing sleeps.
//
// Paths are plain strings: "a//b/" and "a/b" name the same entry (repeated and trailing
// slashes are dropped); there is no "."/".." resolution and no current directory.
//
// Thread safety: all methods (the Env ones and the set-up ones below) may be called
// concurrently. Ownership: the test owns the FakeEnv; it must outlive everything given it.
#ifndef MARKETSEARCH_COMMON_FAKE_ENV_H_
#define MARKETSEARCH_COMMON_FAKE_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/env.h"

namespace marketsearch {

class FakeEnv : public Env {
 public:
  // The clock starts at `now_unix_ms`.
  explicit FakeEnv(int64_t now_unix_ms = 1'700'000'000'000);

  // Env.
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  bool FileExists(const std::string& path) override;
  bool IsDirectory(const std::string& path) override;
  absl::StatusOr<std::string> ReadFileToString(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override;
  // Writes land in the map at once (there is no page cache to lose); Sync checks the file is
  // still there. NotFound when the parent directory does not exist.
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  absl::Status SyncFile(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;
  // Moves a file, or a directory with everything under it. NotFound when `from` is absent;
  // FailedPrecondition when `to` is a non-empty directory or a directory replaces a file.
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status CreateDirs(const std::string& dir) override;
  absl::Status RemoveAll(const std::string& path) override;
  int64_t NowUnixMs() override;

  // Creates the directory `path` and its missing parents. REQUIRES: no parent is a file.
  void MakeDirs(const std::string& path);
  // Creates or replaces the file `path` (parents are created). REQUIRES: `path` is not a
  // directory and no parent is a file.
  void WriteFile(const std::string& path, const std::string& contents);
  // Removes the file or directory `path` and everything under it; absent paths are ignored.
  void Remove(const std::string& path);
  // Appends to the file `path` (created when absent; parents are created).
  void AppendToFile(const std::string& path, absl::string_view data);
  // From now on ReadFileToString(path), NewSequentialFile(path) and ListDir(path) return
  // `error` (an OK status clears the injection). The entry itself is unchanged.
  void SetReadError(const std::string& path, absl::Status error);

  void AdvanceMs(int64_t ms);
  void SetNowUnixMs(int64_t now_unix_ms);

 private:
  static std::string Normalize(const std::string& path);
  void MakeDirsLocked(const std::string& normalized) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  int64_t now_unix_ms_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> dirs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> files_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> read_errors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_FAKE_ENV_H_
