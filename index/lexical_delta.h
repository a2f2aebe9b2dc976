// LexicalDelta: the listings written after the served lexical index's store snapshot, kept
// until an index built from a later snapshot replaces them (the lexical counterpart of
// index/DeltaIndex). A published lexical index never changes; its store snapshot time is its
// metadata marketsearch.lexical.snapshot_unix_ms, set by build_lexical. The delta is a small
// Xapian database of the same document shape (index/lexical_document.h) that
// LexicalIndex::Search searches together with the main one (one BM25 statistics over both),
// hiding the main index's copies of the listings the delta updated or deleted. It holds:
//   - fresh documents: upserted listings, shaped exactly as LexicalIndexWriter shapes them,
//     in a small Xapian database in a private temporary directory (removed with the delta;
//     a crashed process leaves it behind; the server rebuilds the delta from the store's
//     write log after a restart);
//   - superseded ids: every listing upserted or deleted here, whose copy in the main index
//     LexicalIndex::Search must skip.
// Writes to one listing are last-writer-wins by write time, as in DeltaIndex. DropBefore(t)
// forgets what was written before t once the server serves a lexical index built from a store
// snapshot taken at t.
//
// Thread safety: all methods may be called concurrently. A reader/writer lock, as in
// DeltaIndex: a write changes the database and commits it (small database, no fsync) under the
// exclusive lock; LexicalIndex::Search holds the shared lock for one search, reopening its own
// read handle of the delta database when the delta changed since its last search. Holding the
// shared lock keeps the read handle at the newest revision for the whole search (a Xapian
// reader fails once a writer has committed twice under it) and the superseded ids consistent
// with the documents it sees; the cost is that a write waits for the searches in flight
// (lexical_index_test: ~3 ms a single-listing write while 3 threads search non-stop on 2 cores).
// No exception escapes: every Xapian::Error becomes an absl::Status.
#ifndef MARKETSEARCH_INDEX_LEXICAL_DELTA_H_
#define MARKETSEARCH_INDEX_LEXICAL_DELTA_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "index/lexical_document.h"
#include "proto/catalog.pb.h"

namespace Xapian {
class Stem;
class WritableDatabase;
}  // namespace Xapian

namespace marketsearch {

class LexicalIndex;

// Owns its database and directory (both removed by the destructor); LexicalIndex::Search
// borrows the delta for one call.
class LexicalDelta {
 public:
  // A delta whose documents are shaped by `shape` (path and overwrite are ignored), in a new
  // directory under `parent_dir` (default: $TMPDIR, else /tmp).
  // The directory is named after this process's pid; Create first removes the directories
  // that processes which no longer exist left there (a server killed with SIGKILL).
  static absl::StatusOr<std::unique_ptr<LexicalDelta>> Create(
      const LexicalDocumentOptions& shape, const std::string& parent_dir = "");
  ~LexicalDelta();  // removes the directory
  // Removes the delta directories under `parent_dir` of processes that no longer exist;
  // returns how many.
  static int RemoveAbandoned(const std::string& parent_dir);

  // One write: an upsert (`listing` set) or a delete (`listing` null) of `listing_id`.
  struct Write {
    uint64_t listing_id = 0;
    const Listing* listing = nullptr;
    int64_t write_unix_ms = 0;
  };
  // Applies the writes in order and commits once. A write older than the one recorded for
  // its listing is ignored; deleting a listing the delta does not hold is a no-op. No
  // listing's content can make it fail (see kMaxLexicalTermBytes). Errors: those of Xapian's
  // database, e.g. I/O (the delta may then hold part of the batch, each entry consistent with
  // its document).
  absl::Status Apply(absl::Span<const Write> writes);
  absl::Status Upsert(absl::Span<const Listing> listings, int64_t write_unix_ms);
  absl::Status Delete(absl::Span<const uint64_t> listing_ids, int64_t write_unix_ms);

  // Forgets the writes made before snapshot_unix_ms (strictly, as DeltaIndex::DropBefore).
  // Returns how many listings it forgot.
  absl::StatusOr<int64_t> DropBefore(int64_t snapshot_unix_ms);

  // True when LexicalIndex::Search can use this delta with `index` (same document shape).
  // Defined in lexical_index.cc (the lexical_index target): it reads the index, which depends
  // on this target; a LexicalIndex exists only through LexicalIndex::Open, so a program that
  // has one links it.
  bool SameShape(const LexicalIndex& index) const;
  const LexicalDocumentOptions& shape() const { return shape_; }
  const std::string& dir() const { return dir_; }
  // Fresh documents held; listings whose main-index copy is superseded (upserted or deleted).
  int64_t size() const;
  int64_t superseded_count() const;

 private:
  friend class LexicalIndex;
  struct Entry {
    int64_t write_unix_ms = 0;
    uint32_t docid = 0;  // of the fresh document; 0 = deleted
  };
  LexicalDelta();

  LexicalDocumentOptions shape_;
  std::string dir_;
  const uint64_t instance_ = 0;  // tells read handles which delta they opened
  mutable absl::Mutex mu_;
  std::unique_ptr<Xapian::WritableDatabase> db_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Xapian::Stem> stem_;  // set when shape_.stem
  absl::flat_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint32_t next_docid_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by every commit
  int64_t fresh_ ABSL_GUARDED_BY(mu_) = 0;
};

namespace lexical_internal {

// A LexicalDelta numbers its documents from here up (below 2^31, so that the docids of the
// two-database search, which interleave the databases' docids, stay 32-bit). A match decider
// sees each database's own docid, so this is how it tells a delta document from a main one;
// a main index must hold fewer documents (Search refuses a delta otherwise). Xapian::docid.
inline constexpr unsigned kDeltaFirstDocid = 1u << 30;
inline constexpr unsigned kDeltaDocidLimit = 1u << 31;

}  // namespace lexical_internal
}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_LEXICAL_DELTA_H_
