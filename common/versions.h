// The version protocol of every artifact root (var/index, var/lexical, var/models/<name>):
// immutable numbered version directories <root>/<v>/ and a <root>/CURRENT file naming the
// served version. This is the only C++ code that knows the layout; common/versions.py is its
// Python twin, and both are checked against common/testdata/versions_fixture.txt.
//
// A version name is the canonical decimal form of an integer in [1, INT64_MAX] ("7", never
// "07", "+7" or " 7"), so VersionDir(root, v) names exactly the directory ListVersions saw.
// Anything else under a root is ignored: staging directories (.tmp-<v>-<pid>, see
// index/publish.h), CURRENT and its temporary file, plain files with numeric names.
//
// Thread-safety: the functions keep no state and may be called from any thread. They read a
// directory that other processes change; a result describes the root at the moment of the call.
#ifndef MARKETSEARCH_COMMON_VERSIONS_H_
#define MARKETSEARCH_COMMON_VERSIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env.h"

namespace marketsearch {

// Canonical version name -> *version; false for anything else (see the file comment).
bool ParseVersionName(absl::string_view name, int64_t* version);
// The contents of a CURRENT file -> version. DataLoss (naming `path`) when it is not one version
// name with optional surrounding ASCII whitespace. ReadCurrent's parser, for callers that read
// the file themselves (through an Env).
absl::StatusOr<int64_t> ParseCurrentFile(absl::string_view contents, const std::string& path);

// The version directories under `root`, ascending. A missing or unreadable root has none.
std::vector<int64_t> ListVersions(const std::string& root);

// The highest version under `root`; NotFound when there is none.
absl::StatusOr<int64_t> NewestVersion(const std::string& root);

// VersionDir(root, NewestVersion(root)): "the newest artifact of a kind", e.g.
// NewestVersionDir(data_dir + "/models/query_tower"). NotFound when there is none.
absl::StatusOr<std::string> NewestVersionDir(const std::string& root);

// One more than the highest version under `root` (1 when there is none). Staging directories
// are not counted: two jobs that start together pick the same number, and the second one's
// PublishVersion fails with AlreadyExists (a build is lost, never a published version).
int64_t NextVersion(const std::string& root);

// The version named by <root>/CURRENT ("<v>\n"; surrounding ASCII whitespace is tolerated).
// NotFound when there is no CURRENT; DataLoss when it does not hold a version name. Does not
// check that <root>/<v> exists (the loader of that version reports it).
absl::StatusOr<int64_t> ReadCurrent(const std::string& root);

// Makes <root>/CURRENT name `version`, atomically and durably (temporary file, fsync, rename,
// fsync of root): a reader or a crash sees the old or the new CURRENT, never a mix.
// InvalidArgument when version < 1; NotFound when <root>/<version> is not a directory
// (CURRENT is unchanged then). The I/O goes through `env`: when a step fails, CURRENT still
// names the old version (the temporary file is removed) and the error names the step and file.
absl::Status WriteCurrent(const std::string& root, int64_t version, Env* env = Env::Default());

// "<root>/<version>".
std::string VersionDir(const std::string& root, int64_t version);

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_VERSIONS_H_
