#include "common/versions.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/file_util.h"

namespace marketsearch {
namespace fs = std::filesystem;

namespace {

constexpr char kCurrent[] = "CURRENT";

bool IsDirectory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

}  // namespace

bool ParseVersionName(absl::string_view name, int64_t* version) {
  if (name.empty() || name[0] == '0') return false;
  if (!std::all_of(name.begin(), name.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    return false;
  }
  return absl::SimpleAtoi(name, version);  // false on overflow
}

absl::StatusOr<int64_t> ParseCurrentFile(absl::string_view contents, const std::string& path) {
  int64_t v = 0;
  if (!ParseVersionName(absl::StripAsciiWhitespace(contents), &v)) {
    return absl::DataLossError(absl::StrCat(path, " does not name a version: \"",
                                            absl::CHexEscape(contents.substr(0, 40)), "\""));
  }
  return v;
}

std::vector<int64_t> ListVersions(const std::string& root) {
  std::vector<int64_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    std::error_code dir_ec;
    if (!e.is_directory(dir_ec)) continue;
    int64_t v;
    if (ParseVersionName(e.path().filename().string(), &v)) out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<int64_t> NewestVersion(const std::string& root) {
  const std::vector<int64_t> versions = ListVersions(root);
  if (versions.empty()) return absl::NotFoundError(absl::StrCat("no versions under ", root));
  return versions.back();
}

absl::StatusOr<std::string> NewestVersionDir(const std::string& root) {
  absl::StatusOr<int64_t> v = NewestVersion(root);
  if (!v.ok()) return v.status();
  return VersionDir(root, *v);
}

int64_t NextVersion(const std::string& root) {
  const std::vector<int64_t> versions = ListVersions(root);
  return versions.empty() ? 1 : versions.back() + 1;
}

absl::StatusOr<int64_t> ReadCurrent(const std::string& root) {
  const std::string path = absl::StrCat(root, "/", kCurrent);
  absl::StatusOr<std::string> text = ReadFile(path);
  if (absl::IsNotFound(text.status())) {
    return absl::NotFoundError(absl::StrCat("no ", kCurrent, " in ", root));
  }
  if (!text.ok()) return text.status();
  return ParseCurrentFile(*text, path);
}

absl::Status WriteCurrent(const std::string& root, int64_t version, Env* env) {
  if (version < 1) {
    return absl::InvalidArgumentError(absl::StrCat("version ", version, " is not >= 1"));
  }
  const std::string dir = VersionDir(root, version);
  if (!env->IsDirectory(dir)) {
    return absl::NotFoundError(
        absl::StrCat("cannot make ", kCurrent, " name ", dir, ": not a directory"));
  }
  return WriteFileAtomically(absl::StrCat(root, "/", kCurrent), absl::StrCat(version, "\n"), env);
}

std::string VersionDir(const std::string& root, int64_t version) {
  return absl::StrCat(root, "/", version);
}

}  // namespace marketsearch
