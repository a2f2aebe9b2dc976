// Atomic publication of versioned artifact directories under an index root:
//   1. the caller writes everything into a temporary directory inside the root,
//   2. PublishVersion fsyncs it and renames it to <root>/<version> (atomic on POSIX),
//   3. WriteCurrent (common/versions.h) rewrites <root>/CURRENT via temp file + fsync + rename.
// The version numbering itself (NextVersion, CURRENT) is common/versions.h.
// A crash at any point leaves the previously published version and CURRENT intact, and so
// does an I/O error: the I/O goes through an Env (default Env::Default()), the error names the
// step and the file, and the staging directory never looks like a version.
#ifndef MARKETSEARCH_INDEX_PUBLISH_H_
#define MARKETSEARCH_INDEX_PUBLISH_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"

namespace marketsearch {

// A fresh temporary directory <root>/.tmp-<version>-<pid> (created).
absl::StatusOr<std::string> MakeStagingDir(const std::string& root, int64_t version,
                                           Env* env = Env::Default());

// fsyncs every file in staging_dir and the directory, renames it to <root>/<version> and
// fsyncs root. REQUIRES: staging_dir is inside root and <root>/<version> does not exist.
// On an error before the rename nothing is published; after it (the fsync of root) the version
// directory is complete but CURRENT was not switched by the caller.
absl::Status PublishVersion(const std::string& staging_dir, const std::string& root,
                            int64_t version, Env* env = Env::Default());

// Removes staging directories <root>/.tmp-<version>-<pid> left behind by build jobs that
// died (kill -9, OOM, machine crash): those whose <pid> is not a running process. A staging
// directory of a live job (this one included) is left alone. Returns how many were removed.
int RemoveAbandonedStagingDirs(const std::string& root);

// For a job whose PublishVersion or WriteCurrent failed after the rename: withdraws
// <root>/<version> unless CURRENT names it — renamed back to its staging name first (so a crash
// midway leaves a staging directory, never a half-deleted version), then removed — so a failed
// run leaves no new version behind. A version CURRENT names (the switch happened but was not
// reported durable) is kept: it is complete, and the caller's error says what failed.
// Best effort: the caller reports its own error either way.
void WithdrawUnservedVersion(const std::string& root, int64_t version, Env* env = Env::Default());

// Removes a staging directory (best effort; for error paths before PublishVersion).
void RemoveStagingDir(const std::string& staging_dir);

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_PUBLISH_H_
