#include "common/env.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/file_util.h"

namespace marketsearch {
namespace {
namespace fs = std::filesystem;

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
    return ReadFile(path);
  }

  int64_t NowUnixMs() override { return ::marketsearch::NowUnixMs(); }
};

}  // namespace

Env* Env::Default() {
  static Env* const env = new PosixEnv();  // never destroyed: usable during static teardown
  return env;
}

}  // namespace marketsearch
