// LexicalIndexWriter: builds or updates a lexical (BM25, Xapian) index directory, for the
// offline build job (jobs/build_lexical) and tests. Documents are shaped by
// index/lexical_document.h; the read side is LexicalIndex (index/lexical_index.h).
//
// Thread safety: thread-compatible (one thread at a time); Xapian allows one writer per
// database directory (a second one gets FailedPrecondition). No exception escapes: every
// Xapian::Error becomes an absl::Status.
#ifndef MARKETSEARCH_INDEX_LEXICAL_WRITER_H_
#define MARKETSEARCH_INDEX_LEXICAL_WRITER_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "index/lexical_document.h"
#include "proto/catalog.pb.h"

namespace Xapian {
class Stem;
class WritableDatabase;
}  // namespace Xapian

namespace marketsearch {

// Builds or updates a lexical index directory. Owns its Xapian database handle (closed, which
// commits, by the destructor).
class LexicalIndexWriter {
 public:
  // The database directory, overwrite flag and document shape (index/lexical_document.h).
  using Options = LexicalDocumentOptions;

  // Opens (or creates) the database. An existing database built with different field options
  // is FailedPrecondition (its documents would be shaped differently); a database held by
  // another writer is FailedPrecondition too.
  static absl::StatusOr<std::unique_ptr<LexicalIndexWriter>> Open(const Options& options);
  // Commits pending changes (Xapian does that on close); errors there are only logged to stderr.
  ~LexicalIndexWriter();

  // Adds the listing, replacing any document with the same listing_id (upsert).
  absl::Status Add(const Listing& listing);
  // Removes the listing's document; an unknown id is not an error.
  absl::Status Delete(uint64_t listing_id);
  // Makes every change so far durable and visible to readers that (re)open the database.
  absl::Status Commit();
  // Records the store snapshot the index was built from (ms since the epoch; every write
  // acknowledged before it is in the index). LexicalIndex::snapshot_unix_ms reads it back.
  absl::Status SetSnapshotUnixMs(int64_t snapshot_unix_ms);

  // Documents in the database, including uncommitted changes.
  int64_t num_docs() const;

 private:
  explicit LexicalIndexWriter(const Options& options);
  Options options_;
  std::unique_ptr<Xapian::WritableDatabase> db_;
  std::unique_ptr<Xapian::Stem> stem_;  // set when options_.stem
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_LEXICAL_WRITER_H_
