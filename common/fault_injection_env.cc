#include "common/fault_injection_env.h"

#include <fnmatch.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace marketsearch {
namespace {

struct NamedOp {
  const char* name;
  FaultOp op;
};
constexpr NamedOp kOps[] = {
    {"write", FaultOp::kWrite},   {"sync", FaultOp::kSync},   {"syncdir", FaultOp::kSyncDir},
    {"rename", FaultOp::kRename}, {"read", FaultOp::kRead},   {"mkdir", FaultOp::kMkdir},
    {"remove", FaultOp::kRemove},
};

struct NamedErrno {
  const char* name;
  int value;
};
constexpr NamedErrno kErrors[] = {
    {"EIO", EIO},     {"ENOSPC", ENOSPC}, {"EROFS", EROFS}, {"EACCES", EACCES}, {"EPERM", EPERM},
    {"EDQUOT", EDQUOT}, {"ENOENT", ENOENT}, {"EBUSY", EBUSY}, {"EMFILE", EMFILE},
};

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class FaultWritableFile : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  absl::Status Append(absl::string_view data) override {
    absl::Status s = env_->Check(FaultOp::kWrite, {path_}, "write", path_);
    if (!s.ok()) {
      // A torn write: part of the data reached the file before the error.
      base_->Append(data.substr(0, data.size() / 2)).IgnoreError();
      return s;
    }
    return base_->Append(data);
  }
  absl::Status Sync() override {
    if (absl::Status s = env_->Check(FaultOp::kSync, {path_}, "fsync", path_); !s.ok()) return s;
    return base_->Sync();
  }
  absl::Status Close() override { return base_->Close(); }

 private:
  FaultInjectionEnv* const env_;
  const std::string path_;
  const std::unique_ptr<WritableFile> base_;
};

class FaultSequentialFile : public SequentialFile {
 public:
  FaultSequentialFile(FaultInjectionEnv* env, std::string path,
                      std::unique_ptr<SequentialFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  absl::Status Read(size_t n, std::string* out) override {
    if (absl::Status s = env_->Check(FaultOp::kRead, {path_}, "read", path_); !s.ok()) {
      out->clear();
      return s;
    }
    return base_->Read(n, out);
  }

 private:
  FaultInjectionEnv* const env_;
  const std::string path_;
  const std::unique_ptr<SequentialFile> base_;
};

}  // namespace

const char* FaultOpName(FaultOp op) {
  for (const NamedOp& o : kOps) {
    if (o.op == op) return o.name;
  }
  return "?";
}

absl::StatusOr<std::vector<FaultRule>> ParseFaultSpec(absl::string_view spec) {
  std::vector<FaultRule> rules;
  auto bad = [](absl::string_view rule, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad rule \"", rule, "\": ", why,
        " (expected OP:PATTERN:ERROR[:WHEN], e.g. rename:CURRENT:EIO or "
        "sync:*.faiss:ENOSPC:first)"));
  };
  if (spec.empty()) return absl::InvalidArgumentError("empty (unset it to inject nothing)");
  for (absl::string_view text : absl::StrSplit(spec, ',')) {
    const std::vector<std::string> f = absl::StrSplit(text, ':');
    if (f.size() != 3 && f.size() != 4) return bad(text, "not 3 or 4 ':'-separated fields");
    FaultRule r;
    bool op_ok = false;
    for (const NamedOp& o : kOps) {
      if (f[0] == o.name) {
        r.op = o.op;
        op_ok = true;
      }
    }
    if (!op_ok) {
      return bad(text, absl::StrCat("unknown operation \"", f[0], "\" (write, sync, syncdir, "
                                    "rename, read, mkdir, remove)"));
    }
    if (f[1].empty()) return bad(text, "empty file pattern ('*' matches every file)");
    r.pattern = f[1];
    for (const NamedErrno& e : kErrors) {
      if (f[2] == e.name) r.error = e.value;
    }
    if (r.error == 0) {
      std::vector<std::string> names;
      for (const NamedErrno& e : kErrors) names.push_back(e.name);
      return bad(text, absl::StrCat("unknown error \"", f[2], "\" (",
                                    absl::StrJoin(names, ", "), ")"));
    }
    if (f.size() == 4 && f[3] != "every") {
      std::string when = f[3];
      if (when == "first") when = "1";
      if (absl::EndsWith(when, "+")) {
        r.and_later = true;
        when.pop_back();
      }
      if (!absl::SimpleAtoi(when, &r.nth) || r.nth < 1) {
        return bad(text, absl::StrCat("occurrence \"", f[3], "\" is not every, first, N or N+"));
      }
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

bool FaultPatternMatches(const std::string& pattern, const std::string& path) {
  if (pattern.find_first_of("*?[") == std::string::npos) return absl::StrContains(path, pattern);
  return ::fnmatch(pattern.c_str(), Basename(path).c_str(), 0) == 0 ||
         ::fnmatch(pattern.c_str(), path.c_str(), 0) == 0;
}

FaultInjectionEnv::FaultInjectionEnv(Env* base, std::vector<FaultRule> rules)
    : base_(base), rules_(std::move(rules)), seen_(rules_.size(), 0) {}

absl::Status FaultInjectionEnv::Check(FaultOp op, const std::vector<std::string>& paths,
                                      const std::string& what, const std::string& shown) {
  absl::MutexLock lock(&mu_);
  int error = 0;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const FaultRule& r = rules_[i];
    if (r.op != op) continue;
    bool match = false;
    for (const std::string& p : paths) match = match || FaultPatternMatches(r.pattern, p);
    if (!match) continue;
    const int64_t n = ++seen_[i];
    const bool fire = r.nth == 0 || n == r.nth || (r.and_later && n > r.nth);
    if (fire && error == 0) error = r.error;
  }
  if (error == 0) return absl::OkStatus();
  ++injected_;
  absl::Status s = ErrnoToStatus(what, shown, error);
  return absl::Status(s.code(), absl::StrCat(s.message(), " (injected)"));
}

int64_t FaultInjectionEnv::injected() const {
  absl::MutexLock lock(&mu_);
  return injected_;
}

absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::ListDir(const std::string& dir) {
  if (absl::Status s = Check(FaultOp::kRead, {dir}, "list", dir); !s.ok()) return s;
  return base_->ListDir(dir);
}

bool FaultInjectionEnv::FileExists(const std::string& path) { return base_->FileExists(path); }

bool FaultInjectionEnv::IsDirectory(const std::string& path) { return base_->IsDirectory(path); }

absl::StatusOr<std::string> FaultInjectionEnv::ReadFileToString(const std::string& path) {
  if (absl::Status s = Check(FaultOp::kRead, {path}, "read", path); !s.ok()) return s;
  return base_->ReadFileToString(path);
}

absl::StatusOr<std::unique_ptr<SequentialFile>> FaultInjectionEnv::NewSequentialFile(
    const std::string& path) {
  absl::StatusOr<std::unique_ptr<SequentialFile>> f = base_->NewSequentialFile(path);
  if (!f.ok()) return f.status();
  return std::unique_ptr<SequentialFile>(new FaultSequentialFile(this, path, *std::move(f)));
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path) {
  absl::StatusOr<std::unique_ptr<WritableFile>> f = base_->NewWritableFile(path);
  if (!f.ok()) return f.status();
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, *std::move(f)));
}

absl::Status FaultInjectionEnv::SyncFile(const std::string& path) {
  if (absl::Status s = Check(FaultOp::kSync, {path}, "fsync", path); !s.ok()) return s;
  return base_->SyncFile(path);
}

absl::Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  if (absl::Status s = Check(FaultOp::kSyncDir, {dir}, "fsync dir", dir); !s.ok()) return s;
  return base_->SyncDir(dir);
}

absl::Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  const std::string shown = absl::StrCat(from, " -> ", to);
  if (absl::Status s = Check(FaultOp::kRename, {from, to}, "rename", shown); !s.ok()) return s;
  return base_->RenameFile(from, to);
}

absl::Status FaultInjectionEnv::CreateDirs(const std::string& dir) {
  if (absl::Status s = Check(FaultOp::kMkdir, {dir}, "mkdir", dir); !s.ok()) return s;
  return base_->CreateDirs(dir);
}

absl::Status FaultInjectionEnv::RemoveAll(const std::string& path) {
  if (absl::Status s = Check(FaultOp::kRemove, {path}, "remove", path); !s.ok()) return s;
  return base_->RemoveAll(path);
}

int64_t FaultInjectionEnv::NowUnixMs() { return base_->NowUnixMs(); }

FaultInjectionEnv* DefaultFaultInjectionEnv() {
  return dynamic_cast<FaultInjectionEnv*>(Env::Default());
}

}  // namespace marketsearch
