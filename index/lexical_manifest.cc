#include "index/lexical_manifest.h"

#include <cstdint>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace marketsearch {

absl::StatusOr<std::string> LexicalChecksumLines(const std::string& dir, Env* env) {
  MS_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  std::string lines;
  int n = 0;
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (name == "MANIFEST" || absl::EndsWith(name, ".tmp") || env->IsDirectory(path)) continue;
    int64_t bytes = 0;
    MS_ASSIGN_OR_RETURN(std::string sum, Sha256File(path, env, &bytes));
    absl::StrAppend(&lines, "file: ", name, " ", sum, " ", bytes, "\n");
    ++n;
  }
  return absl::StrCat("files: ", n, "\n", lines);
}

absl::Status VerifyLexicalVersion(const std::string& dir, bool* verified, Env* env) {
  if (verified != nullptr) *verified = false;
  const std::string manifest_path = dir + "/MANIFEST";
  absl::StatusOr<std::string> text = env->ReadFileToString(manifest_path);
  if (absl::IsNotFound(text.status())) {
    return absl::NotFoundError(absl::StrCat("no MANIFEST in lexical version ", dir));
  }
  if (!text.ok()) return text.status();
  int64_t expected = -1, listed = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, "files: ")) {
      if (!absl::SimpleAtoi(line, &expected) || expected < 0) {
        return absl::DataLossError(absl::StrCat(manifest_path, ": bad files line"));
      }
      continue;
    }
    if (!absl::ConsumePrefix(&line, "file: ")) continue;
    const std::vector<std::string> f = absl::StrSplit(line, ' ');
    int64_t bytes = 0;
    if (f.size() != 3 || !absl::SimpleAtoi(f[2], &bytes)) {
      return absl::DataLossError(absl::StrCat(manifest_path, ": bad file line \"", line, "\""));
    }
    ++listed;
    const std::string path = absl::StrCat(dir, "/", f[0]);
    int64_t size = 0;
    absl::StatusOr<std::string> sum = Sha256File(path, env, &size);
    if (absl::IsNotFound(sum.status())) {
      return absl::DataLossError(
          absl::StrCat("lexical file ", path, " listed in the MANIFEST is missing"));
    }
    if (!sum.ok()) return sum.status();
    if (size != bytes) {
      return absl::DataLossError(absl::StrCat("lexical file ", path, " has ", size,
                                              " bytes, the MANIFEST says ", bytes,
                                              " (truncated?)"));
    }
    if (*sum != f[1]) {
      return absl::DataLossError(
          absl::StrCat("lexical file ", path, ": checksum mismatch (corrupted)"));
    }
  }
  if (expected < 0) return absl::OkStatus();  // built before checksums: nothing to check
  if (listed != expected) {
    return absl::DataLossError(absl::StrCat(manifest_path, " lists ", listed, " of its ", expected,
                                            " files (truncated MANIFEST)"));
  }
  if (verified != nullptr) *verified = true;
  return absl::OkStatus();
}

}  // namespace marketsearch
