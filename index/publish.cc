#include "index/publish.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace marketsearch {
namespace fs = std::filesystem;

absl::StatusOr<std::string> MakeStagingDir(const std::string& root, int64_t version) {
  MS_RETURN_IF_ERROR(MakeDirs(root));
  const std::string dir = absl::StrCat(root, "/.tmp-", version, "-", ::getpid());
  std::error_code ec;
  fs::remove_all(dir, ec);
  MS_RETURN_IF_ERROR(MakeDirs(dir));
  return dir;
}

absl::Status PublishVersion(const std::string& staging_dir, const std::string& root,
                            int64_t version) {
  const std::string final_dir = absl::StrCat(root, "/", version);
  if (PathExists(final_dir)) {
    return absl::AlreadyExistsError(absl::StrCat(final_dir, " exists; versions are immutable"));
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(staging_dir, ec)) {
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::InternalError(absl::StrCat("open ", e.path().string()));
    int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return absl::InternalError(absl::StrCat("fsync ", e.path().string()));
  }
  MS_RETURN_IF_ERROR(SyncDir(staging_dir));
  if (std::rename(staging_dir.c_str(), final_dir.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", staging_dir, " -> ", final_dir, ": ",
                                            std::strerror(errno)));
  }
  return SyncDir(root);
}

absl::Status SetCurrent(const std::string& root, int64_t version) {
  return WriteFileAtomically(root + "/CURRENT", absl::StrCat(version, "\n"));
}

int64_t NextVersion(const std::string& root) {
  auto v = ListVersions(root);
  return v.empty() ? 1 : v.back() + 1;
}

}  // namespace marketsearch
