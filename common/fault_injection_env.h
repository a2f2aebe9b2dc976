// FaultInjectionEnv: an Env that forwards to another one and fails chosen operations on
// chosen files with a chosen errno — leveldb's fault-injection Env and RocksDB's
// FaultInjectionTestFS, reduced to what our tests need. It proves that a job which meets an
// I/O error stops with a message naming the operation and the file, and publishes nothing.
//
// A rule: which operation, which files, which error, which occurrence. As text (the syntax of
// the MARKETSEARCH_FAULTS environment variable, which makes Env::Default() one of these):
//
//   RULE[,RULE...]        RULE = OP:PATTERN:ERROR[:WHEN]
//   OP       write (WritableFile::Append), sync (WritableFile::Sync, SyncFile), syncdir,
//            rename (matches the source or the destination), read (ReadFileToString,
//            SequentialFile::Read, ListDir), mkdir (CreateDirs), remove (RemoveAll)
//   PATTERN  with any of * ? [ : a glob (fnmatch) on the file name or on the whole path;
//            else a substring of the path. '*' matches every file.
//   ERROR    EIO, ENOSPC ("No space left on device"), EROFS, EACCES, EPERM, EDQUOT, ENOENT,
//            EBUSY, EMFILE
//   WHEN     every (default), first, N (only the Nth matching call), N+ (the Nth and later)
//
// e.g. MARKETSEARCH_FAULTS="rename:CURRENT:EIO,sync:*.faiss:EIO,write:MANIFEST:ENOSPC:2"
//
// An injected write stores the first half of the data before failing (a torn write, as a disk
// filling up leaves it). Injected errors read like real ones, with " (injected)" appended.
//
// Thread safety: as Env; the occurrence counters are shared by all threads.
#ifndef MARKETSEARCH_COMMON_FAULT_INJECTION_ENV_H_
#define MARKETSEARCH_COMMON_FAULT_INJECTION_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/env.h"

namespace marketsearch {

// The environment variable Env::Default() reads (see the file comment).
inline constexpr char kFaultsEnvVar[] = "MARKETSEARCH_FAULTS";

enum class FaultOp { kWrite, kSync, kSyncDir, kRename, kRead, kMkdir, kRemove };

// "write", "sync", ... as in the spec.
const char* FaultOpName(FaultOp op);

struct FaultRule {
  FaultOp op = FaultOp::kWrite;
  std::string pattern;
  int error = 0;      // an errno value
  int64_t nth = 0;    // 0: every matching call; else the nth (counting from 1)
  bool and_later = false;  // with nth: the nth and every later one
};

// Parses the spec (file comment). InvalidArgument naming the bad rule and what is wrong with
// it; an empty spec is an error too (unset the variable instead).
absl::StatusOr<std::vector<FaultRule>> ParseFaultSpec(absl::string_view spec);

// True when PATTERN (file comment) matches `path`.
bool FaultPatternMatches(const std::string& pattern, const std::string& path);

class FaultInjectionEnv : public Env {
 public:
  // `base` is not owned and must outlive this Env.
  FaultInjectionEnv(Env* base, std::vector<FaultRule> rules);

  // The check every operation makes: counts this call against every rule for `op` that
  // matches one of `paths`, and returns the first rule's error ("<what> <shown>: <strerror>
  // (injected)"), else OK. Public for wrappers of libraries with their own I/O (RocksDB).
  absl::Status Check(FaultOp op, const std::vector<std::string>& paths, const std::string& what,
                     const std::string& shown);
  // How many errors were injected so far.
  int64_t injected() const;

  // Env.
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  bool FileExists(const std::string& path) override;
  bool IsDirectory(const std::string& path) override;
  absl::StatusOr<std::string> ReadFileToString(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  absl::Status SyncFile(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status CreateDirs(const std::string& dir) override;
  absl::Status RemoveAll(const std::string& path) override;
  int64_t NowUnixMs() override;

 private:
  Env* const base_;
  mutable absl::Mutex mu_;
  const std::vector<FaultRule> rules_;
  std::vector<int64_t> seen_ ABSL_GUARDED_BY(mu_);  // matching calls per rule
  int64_t injected_ ABSL_GUARDED_BY(mu_) = 0;
};

// Env::Default() when it injects faults (MARKETSEARCH_FAULTS set), else null.
FaultInjectionEnv* DefaultFaultInjectionEnv();

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_FAULT_INJECTION_ENV_H_
