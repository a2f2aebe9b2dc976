// The live side of each retrieval leg: what was written since the served index was built.
// One object per leg, owned by the server and handed to both the request path (Searcher reads
// the delta) and the write path (ListingWriter writes it), so neither owns the other's data:
//   LiveAnnIndex      the DeltaIndex of the FAISS leg
//   LiveLexicalIndex  the LexicalDelta of the Xapian leg
// Each delta is created when the first index version of its leg is published (its embedding
// size, its document shape come from that version) and then lives as long as the object; a
// later version must match it (restart the server to change either). Publishing a version
// drops the delta entries written before that version's store snapshot (the version holds
// them).
//
// Thread safety: all methods may be called from any thread. The delta pointers never change
// once set, so a caller may keep them; the deltas synchronise their own reads and writes.
#ifndef MARKETSEARCH_INDEX_LIVE_INDEX_H_
#define MARKETSEARCH_INDEX_LIVE_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "index/delta_index.h"
#include "index/index_snapshot.h"
#include "index/lexical_delta.h"
#include "index/lexical_index.h"

namespace marketsearch {

class LiveAnnIndex {
 public:
  // True when `snapshot` can serve with this leg's delta (same embedding size, or no delta
  // yet). Cheap; the lifecycle asks before switching.
  bool Accepts(const IndexSnapshot& snapshot) const;
  // `snapshot` starts serving: creates the delta at the first call, drops the entries written
  // before the snapshot's store snapshot. FailedPrecondition when !Accepts(snapshot).
  absl::Status Publish(const IndexSnapshot& snapshot);
  // Null until the first Publish.
  DeltaIndex* delta() const;

 private:
  mutable absl::Mutex mu_;
  std::unique_ptr<DeltaIndex> delta_ ABSL_GUARDED_BY(mu_);
};

class LiveLexicalIndex {
 public:
  // `parent_dir`: where the delta's temporary database goes (default: $TMPDIR, else /tmp).
  explicit LiveLexicalIndex(std::string parent_dir = "") : parent_dir_(std::move(parent_dir)) {}

  // True when `lexical` shapes documents as this leg's delta does (or there is no delta yet).
  bool Accepts(const LexicalIndex& lexical) const;
  // A lexical version starts serving (`lexical` null = none: ANN only), holding the writes
  // made before `snapshot_unix_ms`. Creates the delta at the first call, shaped like `lexical`
  // (or like build_lexical's defaults without one); drops the entries the version holds.
  // FailedPrecondition when `lexical` is set and !Accepts(*lexical); the delta's errors.
  absl::Status Publish(const LexicalIndex* lexical, int64_t snapshot_unix_ms);
  // Null until the first Publish.
  LexicalDelta* delta() const;

 private:
  const std::string parent_dir_;
  mutable absl::Mutex mu_;
  std::unique_ptr<LexicalDelta> delta_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_LIVE_INDEX_H_
