// The lexical (BM25) leg of hybrid retrieval: a Xapian database of listings, written by
// LexicalIndexWriter (offline build job, incremental upserts/deletes) and searched by
// LexicalIndex (serving). Both sides tokenise with features/text_normalizer (NormalizeText +
// Tokenize), so a query and a listing are cut into the same tokens.
//
// Layout of one document (a listing):
//   Q<listing_id>        unique boolean term: upsert/delete by listing id. Xapian's docid is
//                        32-bit and listing ids are uint64, so the docid is Xapian's own.
//   value slot 0         listing_id as 8 big-endian bytes (loaded into memory at Open).
//   <token>              unprefixed, all fields in one term (Options::combined_field): wdf_inc
//                        title 3, brand 2, category/attributes/description 1. What queries use.
//   XT<token>            title tokens
//   XB<token>            brand tokens; XBF<whole normalised brand> (boolean) for brand phrases
//   XC<token>            category tokens
//   XA<token>            attribute value tokens ("128gb", "red")
//   XD<token>            description tokens (only without the combined term)
//   XK<condition>        boolean: new | like_new | used | for_parts
// Why one all-fields term: a query word costs one posting list instead of the OR of five
// field variants; on 1M listings p50 1.27 -> 0.61 ms, p99 15.8 -> 4.7 ms for NDCG@10 0.803 ->
// 0.798 (jobs/lexical_eval). The prefixed field terms stay for field-restricted queries
// (and Options::use_combined_field = false, which weights fields at query time).
//
// Numbers in this header: lexical_eval, test split (450 judged queries), k = 100, "demo" = the
// 20k-listing demo catalogue, "1M" = make_marketplace --listings 1000000; latencies on a shared
// 2-core machine under load, each query's fastest of 5 runs.
// Which fields were indexed (and whether tokens were stemmed) is stored in the database's
// metadata; LexicalIndex reads it, so a reader always shapes queries the way the index was built.
//
// Fresh listings: a published index never changes. Listings written after its store snapshot
// (metadata marketsearch.lexical.snapshot_unix_ms, set by build_lexical) live in a LexicalDelta,
// a small Xapian database of the same document shape that LexicalIndex::Search searches
// together with the main one (one BM25 statistics over both), hiding the main index's copies
// of the listings the delta updated or deleted.
//
// Thread safety:
//  - LexicalIndexWriter is thread-compatible (one thread at a time); Xapian allows one writer
//    per database directory (a second one gets FailedPrecondition).
//  - LexicalIndex is thread-safe: Search may be called concurrently. Xapian::Database objects are
//    not thread-safe, so LexicalIndex keeps a pool of Database handles (one per concurrent
//    search, up to Options::max_handles; further callers wait for a free one).
//  - LexicalDelta is thread-safe: see the class comment.
// No exception escapes: every Xapian::Error becomes an absl::Status.
#ifndef MARKETSEARCH_RETRIEVAL_LEXICAL_INDEX_H_
#define MARKETSEARCH_RETRIEVAL_LEXICAL_INDEX_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "proto/catalog.pb.h"

namespace Xapian {
class Stem;
class WritableDatabase;
}  // namespace Xapian

namespace marketsearch {

// Builds or updates a lexical index directory.
class LexicalIndexWriter {
 public:
  struct Options {
    std::string path;  // database directory (created if missing)
    // Index brand, category and attribute values besides the title. Default true: demo NDCG@10
    // 0.584 -> 0.645, Recall@100 0.527 -> 0.619 (1M: 0.701 -> 0.696, 0.650 -> 0.681).
    bool index_brand_category_attributes = true;
    // Index description tokens (in the all-fields term with wdf 1; as XD terms without it).
    // Default true: demo NDCG@10 0.645 -> 0.727, Recall@100 0.619 -> 0.720, queries without
    // result 5.8% -> 0.7% (buyers' words that sellers only put in the text); 1M NDCG@10 0.696 ->
    // 0.798. Costs 1.5x the index size (1M: 422 -> 643 MB) and nothing measurable in latency.
    bool index_description = true;
    // Stem tokens with Xapian's English (Snowball) stemmer, on both sides. Default false: demo
    // NDCG@10 +0.002, Recall@100 +0.011; 1M +0.000, +0.003: not worth a second vocabulary that
    // every reader of the index (and its spelling dictionary) has to agree on.
    bool stem = false;
    // Also index every token unprefixed, in one all-fields term whose wdf counts a title
    // occurrence 3, brand 2, category/attribute/description 1 (BM25F-like, one shared length
    // normalisation). With it the description has no XD terms. See LexicalIndex::Options::
    // use_combined_field for why this is the default.
    bool combined_field = true;
    // Build Xapian's spelling dictionary from title and brand words, so that the reader can
    // correct typos in query words the index does not know (LexicalIndex::Options::
    // correct_spelling).
    bool spelling = true;
    // Start from an empty database even when `path` holds one.
    bool overwrite = false;
  };

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

// One search result. Hits come tier by tier, best BM25 score first within a tier; scores of
// different tiers are not comparable (a tier-0 hit may score lower than a tier-2 hit).
struct LexicalHit {
  uint64_t listing_id = 0;
  double score = 0;  // BM25 (with the field weights) of the query that found it
  // 0: every query term (and the condition the query asked for, if any);
  // 1: every query term, any condition (only when the query named a condition);
  // 2: all but one query term (Options::relax == kDropOneThenOr, queries of 3+ terms);
  // 3: at least one query term.
  int tier = 0;
};

class LexicalDelta;

// Xapian refuses terms (field prefix + word) longer than this. Documents skip such terms, as
// Lucene skips tokens over its maximum token length: a listing may legally hold a 300-letter
// word (a URL), and that must never make it unindexable.
inline constexpr size_t kMaxLexicalTermBytes = 245;

// A read-only, searchable lexical index (one published version directory).
class LexicalIndex {
 public:
  // How the query is widened when the strict AND query returns fewer than k listings.
  enum class Relax {
    kOr,               // AND, then OR of the terms
    kDropOneThenOr,    // AND, then listings matching all terms but one, then OR
    kNone,             // AND only
    kOrOnly,           // no AND at all: one plain OR query (the baseline; slow on big indexes)
  };
  // What to do with condition words in the query ("new", "brand new", "sealed", "used",
  // "second hand", "pre owned", ...).
  enum class ConditionWords {
    kFilter,    // recognise them as a condition: tier 0 keeps only listings in that condition,
                // tier 1 drops the requirement. They are not text terms.
    kStopword,  // drop them
    kText,      // keep them as ordinary text terms
  };

  struct Options {
    // Database handles kept open, i.e. searches that can run at the same time; more callers
    // wait. A handle costs a few file descriptors and the B-tree block caches.
    int max_handles = 4;
    // Search the unprefixed all-fields term (one posting list per query word) when the index
    // has it. Otherwise each query word is the OR of its field-prefixed terms, weighted below:
    // five posting lists per word, 1M p50 0.61 -> 1.27 ms for NDCG@10 +0.005.
    bool use_combined_field = true;
    // Query-time field weights (OP_SCALE_WEIGHT on each field's term); per-field mode only.
    double title_weight = 2.0;
    double brand_weight = 1.0;
    double category_weight = 1.0;
    double attribute_weight = 1.0;
    double description_weight = 0.3;
    // kOr. AND first matters: plain OR (kOrOnly) is NDCG@10 -0.019 on 1M (-0.012 demo) and
    // slower (mean 0.91 vs 0.76 ms). The drop-one tier: NDCG@10 +0.004 on 1M (+0.000 demo) for
    // ~3% more mean latency; a wash, kept as an option.
    Relax relax = Relax::kOr;
    // kFilter: 1M NDCG@10 0.780 (dropped) / 0.783 (as text) -> 0.798; demo 0.723 -> 0.727.
    ConditionWords condition_words = ConditionWords::kFilter;
    // BM25 parameters. b = 0 (no document length normalisation; Xapian's default is 0.5): with
    // b > 0 Xapian reads every candidate's length, ~75% of a search on 1M listings (p50 2.68 ->
    // 0.61 ms) for NDCG@10 within 0.003 either way (listings are short; their length says
    // little).
    double bm25_k1 = 1.0;
    double bm25_b = 0.0;
    // A query word the index does not know (4+ letters, no digits) is replaced by the most
    // frequent word of the index's spelling dictionary within spelling_max_edits edits that at
    // least spelling_min_listings listings contain, instead of being dropped. Demo NDCG@10
    // 0.692 -> 0.727, queries without result 2.2% -> 0.7%; 1M 0.768 -> 0.798. Two edits scored
    // lower (demo 0.724, 1M 0.792: "reading" -> "wedding"); no minimum the same, but it turns
    // "earphones" into one seller's "hearphones".
    bool correct_spelling = true;
    int spelling_max_edits = 1;
    int spelling_min_listings = 3;
    // Query words beyond this many (after stopwords) are ignored: bounds the cost of a query.
    int max_query_terms = 12;
  };

  // Opens the database at `path` read-only. A missing directory (or one without a database)
  // is NotFound, an unreadable/corrupt one DataLoss, a database that was not written by
  // LexicalIndexWriter FailedPrecondition; every message names the path.
  static absl::StatusOr<std::unique_ptr<LexicalIndex>> Open(const std::string& path);
  static absl::StatusOr<std::unique_ptr<LexicalIndex>> Open(const std::string& path,
                                                             const Options& options);
  ~LexicalIndex();

  // Up to k listings for `raw_query` (any UTF-8 text), best first (see LexicalHit::tier).
  // A query with no searchable word (empty, only stopwords, or only words the index has never
  // seen) returns an empty vector, not an error. k < 0 is InvalidArgument; k == 0 returns {}.
  // With a non-empty `delta`, searches this index and the delta as one database (shared BM25
  // statistics, spelling dictionary and brand phrases) and skips this index's copy of every
  // listing the delta upserted or deleted. Thread-safe.
  absl::StatusOr<std::vector<LexicalHit>> Search(const std::string& raw_query, int k,
                                                 const LexicalDelta* delta = nullptr) const;

  // The shaped queries of each tier, in Xapian's notation (for --debug output and tests).
  absl::StatusOr<std::string> Explain(const std::string& raw_query) const;

  // Documents in the index.
  int64_t num_docs() const { return num_docs_; }
  const std::string& path() const { return path_; }
  const Options& options() const { return options_; }
  // The store snapshot the index was built from (LexicalIndexWriter::SetSnapshotUnixMs);
  // 0 when the builder recorded none.
  int64_t snapshot_unix_ms() const { return snapshot_unix_ms_; }
  // How the documents were shaped (fields, stemming, spelling; path empty): a LexicalDelta
  // searched with this index must shape its documents the same way.
  const LexicalIndexWriter::Options& document_options() const { return document_options_; }

  struct Handle;  // a Xapian::Database with its Enquire and Stem (defined in the .cc)

 private:
  LexicalIndex() = default;
  class Pool;
  std::string path_;
  Options options_;
  int64_t num_docs_ = 0;
  int64_t snapshot_unix_ms_ = 0;
  LexicalIndexWriter::Options document_options_;
  // From the index metadata and Options: (prefix, weight) of each field a query word may match,
  // whether tokens are stemmed, and whether brand phrases (XBF terms) exist.
  std::vector<std::pair<std::string, double>> fields_;
  bool stemmed_ = false;
  bool brand_phrases_ = false;
  bool has_spelling_ = false;
  // listing_id of each Xapian docid at Open (0: unknown, read the value slot instead). Reading
  // the value slot costs a B-tree lookup per hit, which was most of a k=100 search.
  std::vector<uint64_t> listing_of_docid_;
  // Condition bits of each docid at Open (0: unknown, read the document's XK terms instead).
  std::vector<uint8_t> condition_of_docid_;
  std::unique_ptr<Pool> pool_;
};

// LexicalDelta: the listings written after the served lexical index's store snapshot, kept
// until an index built from a later snapshot replaces them (the lexical counterpart of
// index/DeltaIndex):
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
class LexicalDelta {
 public:
  // A delta whose documents are shaped by `shape` (path and overwrite are ignored), in a new
  // directory under `parent_dir` (default: $TMPDIR, else /tmp).
  // The directory is named after this process's pid; Create first removes the directories
  // that processes which no longer exist left there (a server killed with SIGKILL).
  static absl::StatusOr<std::unique_ptr<LexicalDelta>> Create(
      const LexicalIndexWriter::Options& shape, const std::string& parent_dir = "");
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
  bool SameShape(const LexicalIndex& index) const;
  const LexicalIndexWriter::Options& shape() const { return shape_; }
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

  LexicalIndexWriter::Options shape_;
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

// The words the query shaper drops (English function words and marketplace noise such as
// "cheap", "near me", "for sale"); exposed for tests and docs.
const std::vector<std::string>& LexicalStopwords();

namespace internal {

// A bounded pool of expensive, non-thread-safe objects, created on demand by `factory` up to
// `max_size`; Acquire blocks while all of them are leased. Thread-safe. Kept in the header only
// so that lexical_eval can measure what a lease costs.
template <typename T>
class HandlePool {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<T>>()>;

  // A leased object; returns it to the pool when destroyed. Movable.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), obj_(std::move(o.obj_)) {}
    Lease& operator=(Lease&& o) noexcept {
      Release();
      pool_ = std::exchange(o.pool_, nullptr);
      obj_ = std::move(o.obj_);
      return *this;
    }
    ~Lease() { Release(); }
    T* operator->() const { return obj_.get(); }
    T& operator*() const { return *obj_; }
    // Drops the object instead of returning it (e.g. after an error left it unusable); the pool
    // makes a new one on demand.
    void Discard() {
      if (pool_ != nullptr) pool_->Return(nullptr);
      pool_ = nullptr;
      obj_.reset();
    }

   private:
    friend class HandlePool;
    Lease(HandlePool* pool, std::unique_ptr<T> obj) : pool_(pool), obj_(std::move(obj)) {}
    void Release() {
      if (pool_ != nullptr) pool_->Return(std::move(obj_));
      pool_ = nullptr;
    }
    HandlePool* pool_ = nullptr;
    std::unique_ptr<T> obj_;
  };

  HandlePool(Factory factory, int max_size)
      : factory_(std::move(factory)), max_size_(max_size < 1 ? 1 : max_size) {}

  // Puts an already created object into the pool (counts towards max_size).
  void Add(std::unique_ptr<T> obj) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(obj));
    ++created_;
  }

  // An idle object, a new one when fewer than max_size exist, else waits for a Release.
  absl::StatusOr<Lease> Acquire() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !idle_.empty() || created_ < max_size_; });
      if (!idle_.empty()) {
        std::unique_ptr<T> obj = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(obj));
      }
      ++created_;  // reserve the slot; create outside the lock (opening may do I/O)
    }
    absl::StatusOr<std::unique_ptr<T>> obj = factory_();
    if (!obj.ok()) {
      Return(nullptr);
      return obj.status();
    }
    return Lease(this, std::move(obj).value());
  }

  int max_size() const { return max_size_; }

 private:
  void Return(std::unique_ptr<T> obj) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (obj != nullptr) {
        idle_.push_back(std::move(obj));
      } else {
        --created_;
      }
    }
    cv_.notify_one();
  }

  Factory factory_;
  const int max_size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<T>> idle_;  // guarded by mu_
  int created_ = 0;                       // guarded by mu_: idle + leased
};

}  // namespace internal
}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_LEXICAL_INDEX_H_
