// LexicalIndex: the read side of the lexical (BM25, Xapian) leg of hybrid retrieval, one
// published index version searched by the server (with its LexicalDelta of fresh listings) and
// by the offline tools. The document layout is in index/lexical_document.h, query shaping and
// the search options in index/lexical_query.h, the writer in index/lexical_writer.h, the delta
// in index/lexical_delta.h; this header includes them all, so a client needs only this one.
//
// Thread safety: LexicalIndex is thread-safe: Search may be called concurrently. Xapian::Database
// objects are not thread-safe, so LexicalIndex keeps a pool of Database handles (one per
// concurrent search, up to Options::max_handles; further callers wait for a free one).
// It is immutable after Open; callers share it through shared_ptr, and a search borrows the
// LexicalDelta it is given for the call. No exception escapes: every Xapian::Error becomes an
// absl::Status.
#ifndef MARKETSEARCH_INDEX_LEXICAL_INDEX_H_
#define MARKETSEARCH_INDEX_LEXICAL_INDEX_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "index/lexical_delta.h"
#include "index/lexical_document.h"
#include "index/lexical_query.h"
#include "index/lexical_writer.h"  // LexicalIndexWriter::Options: document_options()
#include "index/listing_filter.h"

namespace marketsearch {

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

// A read-only, searchable lexical index (one published version directory).
class LexicalIndex {
 public:
  // Options, Relax and ConditionWords: index/lexical_query.h.
  using Options = LexicalSearchOptions;
  using Relax = LexicalSearchOptions::Relax;
  using ConditionWords = LexicalSearchOptions::ConditionWords;

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
  // The same for a query already normalised and tokenised (ParsedQuery::terms.tokens): the
  // request path's call, which normalises nothing.
  // `filter` (may be null): its categories and conditions are applied inside the search (see
  // lexical_internal::FilterQuery; the caller still checks each hit against the listing), its
  // price and geo are not.
  absl::StatusOr<std::vector<LexicalHit>> SearchTokens(const std::vector<std::string>& tokens, int k,
                                                       const LexicalDelta* delta = nullptr,
                                                       const ListingFilter* filter = nullptr) const;
  // True when SearchTokens applies every part of `filter` inside the search (categories and
  // conditions only, with category terms in the index): its k hits then nearly all pass it, so
  // the caller need not ask for more.
  bool AppliesInside(const ListingFilter& filter) const;

  // `tokens` (a query normalised and tokenised: ParsedQuery::terms.tokens) with each word the
  // index does not know replaced by its spelling correction, as the search itself corrects it
  // (lexical_internal::CorrectedWord); every other token as it is. *corrected (optional) says
  // whether any word changed. The two-tower leg encodes the corrected query, so a typo does not
  // send it to unrelated listings.
  absl::StatusOr<std::vector<std::string>> CorrectSpelling(const std::vector<std::string>& tokens,
                                                           bool* corrected = nullptr) const;

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

#endif  // MARKETSEARCH_INDEX_LEXICAL_INDEX_H_
