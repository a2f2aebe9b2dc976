// The Source of the serving lifecycle (tensorflow/serving's Source -> Loader -> Manager):
// reads the data directory and reports, per kind of artifact, the versions that should be
// loaded ("aspired"). It never loads anything; ServableManager (servable_manager.h) does.
//
//   index    <data_dir>/index/CURRENT                  one candidate, absent = none
//   lexical  <data_dir>/lexical/CURRENT                one candidate, absent = none
//   ranker   every version under <data_dir>/models/ranker, newest first (the manager serves the
//            first one compatible with the served index)
// plus, per kind, versions pinned by callers (the experiment layer pins a ranker per arm).
//
// Version names follow common/versions.h: the canonical decimal form of an integer >= 1 ("7",
// never "07", "+7" or " 7"); other entries (staging directories, CURRENT, plain files) are
// ignored. CURRENT holds one version name; surrounding ASCII whitespace is tolerated.
//
// Thread safety: DataDirSource's methods may be called concurrently from any thread.
// Ownership: the Env is not owned and must outlive the source.
#ifndef MARKETSEARCH_SERVING_SERVABLE_SOURCE_H_
#define MARKETSEARCH_SERVING_SERVABLE_SOURCE_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/env.h"
#include "common/versions.h"  // ParseVersionName, ParseCurrentFile, VersionDir

namespace marketsearch {

// The kinds of artifact the server hosts, in the order the manager resolves them (a later
// kind's compatibility may depend on the serving version of an earlier one).
enum class ServableKind { kIndex = 0, kLexical = 1, kRanker = 2 };
inline constexpr int kNumServableKinds = 3;
inline constexpr std::array<ServableKind, kNumServableKinds> kAllServableKinds = {
    ServableKind::kIndex, ServableKind::kLexical, ServableKind::kRanker};
// "index", "lexical", "ranker".
const char* ServableKindName(ServableKind kind);

struct ServableId {
  ServableKind kind = ServableKind::kIndex;
  int64_t version = 0;
  bool operator==(const ServableId& o) const { return kind == o.kind && version == o.version; }
  std::string DebugString() const;  // e.g. "ranker v7"
};

// What the source wants loaded for one kind.
struct AspiredVersions {
  // Versions that may serve, most preferred first: {CURRENT} for index and lexical (empty when
  // there is no CURRENT), every version on disk newest first for the ranker.
  std::vector<int64_t> candidates;
  // Versions callers pinned whose directory exists, ascending: loaded and kept whether or not
  // they serve.
  std::vector<int64_t> pinned;
  // Pinned versions whose directory does not exist (yet); not aspired until it appears.
  std::vector<int64_t> missing_pinned;
  // Not OK when the kind could not be read (malformed CURRENT: DataLoss; unreadable root):
  // the other fields are then empty and the manager keeps the kind's last good aspired set.
  absl::Status status;
};
using AspiredVersionsMap = std::array<AspiredVersions, kNumServableKinds>;

// The interface ServableManager polls; DataDirSource is the production one.
class AspiredVersionsSource {
 public:
  virtual ~AspiredVersionsSource() = default;
  // Indexed by static_cast<int>(ServableKind). Called from the manager's Poll only.
  virtual AspiredVersionsMap GetAspiredVersions() = 0;
};

// <data_dir>/index, <data_dir>/lexical, <data_dir>/models/ranker.
std::string ServableRoot(const std::string& data_dir, ServableKind kind);
// ServableRoot(...) + "/<version>".
std::string ServableVersionDir(const std::string& data_dir, ServableKind kind, int64_t version);

class DataDirSource : public AspiredVersionsSource {
 public:
  struct Options {
    std::string data_dir = "./var";
    Env* env = Env::Default();  // not owned
  };
  explicit DataDirSource(Options options);

  // Reads the data directory: one CURRENT per index/lexical, one directory listing per kind
  // with pins (and of models/ranker). Never fails as a whole; see AspiredVersions::status.
  AspiredVersionsMap GetAspiredVersions() override;

  // Pins are counted: each AddPinned(kind, v) needs its own RemovePinned(kind, v) before v
  // stops being pinned (two arms may pin the same ranker). RemovePinned returns false when
  // (kind, v) was not pinned. REQUIRES: version >= 1.
  void AddPinned(ServableKind kind, int64_t version);
  bool RemovePinned(ServableKind kind, int64_t version);

 private:
  const Options options_;
  absl::Mutex mu_;
  // version -> pin count, per kind.
  std::array<std::map<int64_t, int>, kNumServableKinds> pins_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_SERVABLE_SOURCE_H_
