#include "index/publish.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/versions.h"
#include "common/status_macros.h"

namespace marketsearch {
namespace fs = std::filesystem;

absl::StatusOr<std::string> MakeStagingDir(const std::string& root, int64_t version, Env* env) {
  MS_RETURN_IF_ERROR(MakeDirs(root, env));
  const std::string dir = absl::StrCat(root, "/.tmp-", version, "-", ::getpid());
  MS_RETURN_IF_ERROR(env->RemoveAll(dir));
  MS_RETURN_IF_ERROR(MakeDirs(dir, env));
  return dir;
}

absl::Status PublishVersion(const std::string& staging_dir, const std::string& root,
                            int64_t version, Env* env) {
  const std::string final_dir = absl::StrCat(root, "/", version);
  if (env->FileExists(final_dir)) {
    return absl::AlreadyExistsError(absl::StrCat(final_dir, " exists; versions are immutable"));
  }
  MS_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(staging_dir));
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(staging_dir, "/", name);
    if (env->IsDirectory(path)) continue;  // a library's subdirectory: its files are its own
    MS_RETURN_IF_ERROR(env->SyncFile(path));
  }
  MS_RETURN_IF_ERROR(env->SyncDir(staging_dir));
  MS_RETURN_IF_ERROR(env->RenameFile(staging_dir, final_dir));
  return env->SyncDir(root);
}

int RemoveAbandonedStagingDirs(const std::string& root) {
  int removed = 0;
  std::error_code ec;
  std::vector<fs::path> dead;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (!absl::StartsWith(name, ".tmp-")) continue;
    std::vector<std::string> parts = absl::StrSplit(name.substr(5), '-');
    int64_t pid = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &pid) || pid <= 0) continue;
    // kill(pid, 0) fails with ESRCH only when no such process exists.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    dead.push_back(e.path());
  }
  for (const auto& p : dead) {
    std::error_code rm;
    fs::remove_all(p, rm);
    if (!rm) ++removed;
  }
  return removed;
}

void WithdrawUnservedVersion(const std::string& root, int64_t version, Env* env) {
  const std::string dir = absl::StrCat(root, "/", version);
  if (!env->IsDirectory(dir)) return;
  absl::StatusOr<std::string> current = env->ReadFileToString(absl::StrCat(root, "/CURRENT"));
  if (current.ok()) {
    absl::StatusOr<int64_t> named = ParseCurrentFile(*current, root + "/CURRENT");
    if (named.ok() && *named == version) return;
  } else if (!absl::IsNotFound(current.status())) {
    return;  // cannot tell whether it serves: keep it (complete and verified)
  }
  const std::string staging = absl::StrCat(root, "/.tmp-", version, "-", ::getpid());
  if (!env->RenameFile(dir, staging).ok()) return;
  env->RemoveAll(staging).IgnoreError();
}

void RemoveStagingDir(const std::string& staging_dir) {
  std::error_code ec;
  fs::remove_all(staging_dir, ec);
}

}  // namespace marketsearch
