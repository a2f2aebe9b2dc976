#include "common/env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/fault_injection_env.h"

namespace marketsearch {
namespace {
namespace fs = std::filesystem;

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(absl::string_view data) override {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus("write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (::fsync(fd_) != 0) return ErrnoToStatus("fsync", path_, errno);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    const int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return ErrnoToStatus("close", path_, errno);
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  int fd_;
};

class PosixSequentialFile : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  absl::Status Read(size_t n, std::string* out) override {
    out->resize(n);
    for (;;) {
      const ssize_t got = ::read(fd_, out->data(), n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        out->clear();
        return ErrnoToStatus("read", path_, errno);
      }
      out->resize(static_cast<size_t>(got));
      return absl::OkStatus();
    }
  }

 private:
  const std::string path_;
  const int fd_;
};

// fsync of an existing file or directory, opened read-only (as leveldb's SyncDirIfManifest).
absl::Status SyncPath(const std::string& what, const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return ErrnoToStatus(absl::StrCat("open (for ", what, ")"), path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoToStatus(what, path, err);
  return absl::OkStatus();
}

class PosixEnv : public Env {
 public:
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override {
    std::error_code ec;
    const fs::file_status st = fs::status(dir, ec);
    if (!fs::exists(st)) return absl::NotFoundError(absl::StrCat("no directory ", dir));
    if (!fs::is_directory(st)) {
      return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
    }
    std::vector<std::string> names;
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return absl::InternalError(absl::StrCat("list ", dir, ": ", ec.message()));
    std::sort(names.begin(), names.end());
    return names;
  }

  bool FileExists(const std::string& path) override {
    std::error_code ec;
    return fs::exists(path, ec);
  }

  bool IsDirectory(const std::string& path) override {
    std::error_code ec;
    return fs::is_directory(path, ec);
  }

  absl::StatusOr<std::string> ReadFileToString(const std::string& path) override {
    absl::StatusOr<std::unique_ptr<SequentialFile>> f = NewSequentialFile(path);
    if (!f.ok()) return f.status();
    std::string out, chunk;
    for (;;) {
      if (absl::Status s = (*f)->Read(1 << 20, &chunk); !s.ok()) return s;
      if (chunk.empty()) return out;
      out += chunk;
    }
  }

  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, fd));
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoToStatus("create", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  absl::Status SyncFile(const std::string& path) override { return SyncPath("fsync", path, 0); }

  absl::Status SyncDir(const std::string& dir) override {
    return SyncPath("fsync dir", dir, O_DIRECTORY);
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoToStatus("rename", absl::StrCat(from, " -> ", to), errno);
    }
    return absl::OkStatus();
  }

  absl::Status CreateDirs(const std::string& dir) override {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return ErrnoToStatus("mkdir", dir, ec.value());
    return absl::OkStatus();
  }

  absl::Status RemoveAll(const std::string& path) override {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) return ErrnoToStatus("remove", path, ec.value());
    return absl::OkStatus();
  }

  int64_t NowUnixMs() override { return ::marketsearch::NowUnixMs(); }
};

Env* MakeDefaultEnv() {
  static PosixEnv* const posix = new PosixEnv();
  const char* spec = std::getenv(kFaultsEnvVar);
  if (spec == nullptr) return posix;
  absl::StatusOr<std::vector<FaultRule>> rules = ParseFaultSpec(spec);
  if (!rules.ok()) {
    std::fprintf(stderr, "%s: %s\n", kFaultsEnvVar, std::string(rules.status().message()).c_str());
    std::fflush(stderr);
    std::_Exit(2);
  }
  std::fprintf(stderr,
               "*** %s is set: this process injects I/O faults (a test hook): %s ***\n",
               kFaultsEnvVar, spec);
  std::fflush(stderr);
  return new FaultInjectionEnv(posix, *std::move(rules));
}

// A malformed MARKETSEARCH_FAULTS stops the process at start, not in the middle of a job that
// first touches the Env after an hour of work; the loud line comes first thing too.
[[maybe_unused]] const bool kFaultsCheckedAtStart =
    std::getenv(kFaultsEnvVar) != nullptr && Env::Default() != nullptr;

}  // namespace

absl::Status ErrnoToStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(std::move(msg));
  return absl::InternalError(std::move(msg));
}

Env* Env::Default() {
  static Env* const env = MakeDefaultEnv();  // never destroyed: usable during static teardown
  return env;
}

}  // namespace marketsearch
