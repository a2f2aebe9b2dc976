#include "common/fake_env.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace marketsearch {
namespace {

// "a/b/c" -> "a/b"; "a" -> ""; "/a" -> "/".
std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The entry name of `child` when it lies directly inside `dir`, else "".
std::string ChildName(const std::string& dir, const std::string& child) {
  const std::string prefix = dir == "/" ? "/" : dir + "/";
  if (!absl::StartsWith(child, prefix) || child.size() == prefix.size()) return "";
  const std::string rest = child.substr(prefix.size());
  return rest.find('/') == std::string::npos ? rest : "";
}

bool IsUnder(const std::string& root, const std::string& path) {
  return path == root || absl::StartsWith(path, root == "/" ? "/" : root + "/");
}

}  // namespace

FakeEnv::FakeEnv(int64_t now_unix_ms) : now_unix_ms_(now_unix_ms) {}

std::string FakeEnv::Normalize(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

absl::StatusOr<std::vector<std::string>> FakeEnv::ListDir(const std::string& dir) {
  const std::string d = Normalize(dir);
  absl::MutexLock lock(&mu_);
  if (auto e = read_errors_.find(d); e != read_errors_.end()) return e->second;
  if (files_.count(d)) return absl::FailedPreconditionError(absl::StrCat(d, " is not a directory"));
  if (!dirs_.count(d)) return absl::NotFoundError(absl::StrCat("no directory ", d));
  std::set<std::string> names;  // sorted
  for (const std::string& sub : dirs_) {
    if (std::string n = ChildName(d, sub); !n.empty()) names.insert(n);
  }
  for (const auto& [path, contents] : files_) {
    if (std::string n = ChildName(d, path); !n.empty()) names.insert(n);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

bool FakeEnv::FileExists(const std::string& path) {
  const std::string p = Normalize(path);
  absl::MutexLock lock(&mu_);
  return dirs_.count(p) > 0 || files_.count(p) > 0;
}

bool FakeEnv::IsDirectory(const std::string& path) {
  const std::string p = Normalize(path);
  absl::MutexLock lock(&mu_);
  return dirs_.count(p) > 0;
}

absl::StatusOr<std::string> FakeEnv::ReadFileToString(const std::string& path) {
  const std::string p = Normalize(path);
  absl::MutexLock lock(&mu_);
  if (auto e = read_errors_.find(p); e != read_errors_.end()) return e->second;
  auto f = files_.find(p);
  if (f == files_.end()) return absl::NotFoundError(absl::StrCat("cannot open ", p));
  return f->second;
}

namespace {

class FakeSequentialFile : public SequentialFile {
 public:
  explicit FakeSequentialFile(std::string contents) : contents_(std::move(contents)) {}
  absl::Status Read(size_t n, std::string* out) override {
    *out = contents_.substr(std::min(pos_, contents_.size()), n);
    pos_ += out->size();
    return absl::OkStatus();
  }

 private:
  const std::string contents_;
  size_t pos_ = 0;
};

class FakeWritableFile : public WritableFile {
 public:
  FakeWritableFile(FakeEnv* env, std::string path) : env_(env), path_(std::move(path)) {}
  absl::Status Append(absl::string_view data) override {
    env_->AppendToFile(path_, data);
    return absl::OkStatus();
  }
  absl::Status Sync() override { return env_->SyncFile(path_); }
  absl::Status Close() override { return absl::OkStatus(); }

 private:
  FakeEnv* const env_;
  const std::string path_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SequentialFile>> FakeEnv::NewSequentialFile(
    const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileToString(path);
  if (!contents.ok()) return contents.status();
  return std::unique_ptr<SequentialFile>(new FakeSequentialFile(*std::move(contents)));
}

absl::StatusOr<std::unique_ptr<WritableFile>> FakeEnv::NewWritableFile(const std::string& path) {
  const std::string p = Normalize(path);
  absl::MutexLock lock(&mu_);
  if (dirs_.count(p)) {
    return absl::FailedPreconditionError(absl::StrCat("create ", p, ": is a directory"));
  }
  if (!Parent(p).empty() && !dirs_.count(Parent(p))) {
    return absl::NotFoundError(absl::StrCat("create ", p, ": no directory ", Parent(p)));
  }
  files_[p].clear();
  return std::unique_ptr<WritableFile>(new FakeWritableFile(this, p));
}

void FakeEnv::AppendToFile(const std::string& path, absl::string_view data) {
  const std::string p = Normalize(path);
  absl::MutexLock lock(&mu_);
  MakeDirsLocked(Parent(p));
  files_[p].append(data.data(), data.size());
}

absl::Status FakeEnv::SyncFile(const std::string& path) {
  const std::string p = Normalize(path);
  absl::MutexLock lock(&mu_);
  if (!files_.count(p)) {
    return absl::NotFoundError(absl::StrCat("fsync ", p, ": no such file"));
  }
  return absl::OkStatus();
}

absl::Status FakeEnv::SyncDir(const std::string& dir) {
  const std::string d = Normalize(dir);
  absl::MutexLock lock(&mu_);
  if (!dirs_.count(d)) {
    return absl::NotFoundError(absl::StrCat("fsync dir ", d, ": no directory"));
  }
  return absl::OkStatus();
}

absl::Status FakeEnv::RenameFile(const std::string& from, const std::string& to) {
  const std::string f = Normalize(from), t = Normalize(to);
  auto refused = [&](absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat("rename ", f, " -> ", t, ": ", why));
  };
  absl::MutexLock lock(&mu_);
  if (files_.count(f)) {
    if (dirs_.count(t)) return refused("is a directory");
    std::string contents = std::move(files_[f]);
    files_.erase(f);
    MakeDirsLocked(Parent(t));
    files_[t] = std::move(contents);
    return absl::OkStatus();
  }
  if (!dirs_.count(f)) {
    return absl::NotFoundError(absl::StrCat("rename ", f, " -> ", t, ": no such entry"));
  }
  if (files_.count(t)) return refused("not a directory");
  for (const std::string& d : dirs_) {
    if (d != t && IsUnder(t, d)) return refused("directory not empty");
  }
  for (const auto& [path, contents] : files_) {
    if (IsUnder(t, path)) return refused("directory not empty");
  }
  std::set<std::string> dirs;
  for (const std::string& d : dirs_) dirs.insert(IsUnder(f, d) ? t + d.substr(f.size()) : d);
  std::map<std::string, std::string> files;
  for (auto& [path, contents] : files_) {
    files[IsUnder(f, path) ? t + path.substr(f.size()) : path] = std::move(contents);
  }
  dirs_ = std::move(dirs);
  files_ = std::move(files);
  MakeDirsLocked(Parent(t));
  return absl::OkStatus();
}

absl::Status FakeEnv::CreateDirs(const std::string& dir) {
  const std::string d = Normalize(dir);
  absl::MutexLock lock(&mu_);
  for (std::string p = d; !p.empty(); p = Parent(p)) {
    if (files_.count(p)) {
      return absl::FailedPreconditionError(absl::StrCat("mkdir ", d, ": ", p, " is a file"));
    }
    if (p == "/") break;
  }
  MakeDirsLocked(d);
  return absl::OkStatus();
}

absl::Status FakeEnv::RemoveAll(const std::string& path) {
  Remove(path);
  return absl::OkStatus();
}

int64_t FakeEnv::NowUnixMs() {
  absl::MutexLock lock(&mu_);
  return now_unix_ms_;
}

void FakeEnv::MakeDirsLocked(const std::string& normalized) {
  for (std::string d = normalized; !d.empty() && !dirs_.count(d); d = Parent(d)) {
    dirs_.insert(d);
    if (d == "/") break;
  }
}

void FakeEnv::MakeDirs(const std::string& path) {
  absl::MutexLock lock(&mu_);
  MakeDirsLocked(Normalize(path));
}

void FakeEnv::WriteFile(const std::string& path, const std::string& contents) {
  const std::string p = Normalize(path);
  absl::MutexLock lock(&mu_);
  MakeDirsLocked(Parent(p));
  files_[p] = contents;
}

void FakeEnv::Remove(const std::string& path) {
  const std::string p = Normalize(path);
  absl::MutexLock lock(&mu_);
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    it = IsUnder(p, *it) ? dirs_.erase(it) : std::next(it);
  }
  for (auto it = files_.begin(); it != files_.end();) {
    it = IsUnder(p, it->first) ? files_.erase(it) : std::next(it);
  }
}

void FakeEnv::SetReadError(const std::string& path, absl::Status error) {
  const std::string p = Normalize(path);
  absl::MutexLock lock(&mu_);
  if (error.ok()) {
    read_errors_.erase(p);
  } else {
    read_errors_[p] = std::move(error);
  }
}

void FakeEnv::AdvanceMs(int64_t ms) {
  absl::MutexLock lock(&mu_);
  now_unix_ms_ += ms;
}

void FakeEnv::SetNowUnixMs(int64_t now_unix_ms) {
  absl::MutexLock lock(&mu_);
  now_unix_ms_ = now_unix_ms;
}

}  // namespace marketsearch
