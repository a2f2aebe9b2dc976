#include "index/lexical_delta.h"

#include <xapian.h>

#include <signal.h>  // kill
#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // getpid

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "index/internal/xapian_status.h"

namespace marketsearch {

using lexical_internal::FromStd;
using lexical_internal::FromXapian;
using lexical_internal::kDeltaDocidLimit;
using lexical_internal::kDeltaFirstDocid;
using lexical_internal::ListingDocument;

static_assert(std::is_same_v<Xapian::docid, std::remove_const_t<decltype(kDeltaFirstDocid)>>,
              "kDeltaFirstDocid is a Xapian::docid");

namespace {
std::atomic<uint64_t> g_next_delta_instance{1};
}  // namespace

LexicalDelta::LexicalDelta() : instance_(g_next_delta_instance++) {}

namespace {
constexpr char kDeltaDirPrefix[] = "marketsearch-lexical-delta-";  // + <pid>-<random>
}  // namespace

int LexicalDelta::RemoveAbandoned(const std::string& parent_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> dead;
  for (const auto& e : fs::directory_iterator(parent_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!absl::StartsWith(name, kDeltaDirPrefix)) continue;
    const std::vector<std::string> parts =
        absl::StrSplit(name.substr(sizeof(kDeltaDirPrefix) - 1), '-');
    int64_t pid = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &pid) || pid <= 0) continue;
    // kill(pid, 0) fails with ESRCH only when no such process exists.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    dead.push_back(e.path());
  }
  int removed = 0;
  for (const auto& p : dead) {
    std::error_code rm;
    fs::remove_all(p, rm);
    if (!rm) ++removed;
  }
  return removed;
}

absl::StatusOr<std::unique_ptr<LexicalDelta>> LexicalDelta::Create(
    const LexicalDocumentOptions& shape, const std::string& parent_dir) {
  std::string parent = parent_dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  RemoveAbandoned(parent);
  std::string dir = absl::StrCat(parent, "/", kDeltaDirPrefix, ::getpid(), "-XXXXXX");
  if (::mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("lexical delta: cannot create a directory under ",
                                            parent, ": ", std::strerror(errno)));
  }
  std::unique_ptr<LexicalDelta> d(new LexicalDelta());
  d->shape_ = shape;
  d->shape_.path = dir;
  d->shape_.overwrite = false;
  d->dir_ = dir;
  absl::Status status;
  {
    absl::MutexLock lock(&d->mu_);
    d->next_docid_ = kDeltaFirstDocid;
    try {
      // No fsync: the delta is rebuilt from the store's write log after a crash.
      d->db_ = std::make_unique<Xapian::WritableDatabase>(
          dir, Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS | Xapian::DB_NO_SYNC);
      if (shape.stem) d->stem_ = std::make_unique<Xapian::Stem>("english");
      d->db_->commit();  // a first revision for read handles to open
    } catch (const Xapian::Error& e) {
      status = FromXapian(e, absl::StrCat("create lexical delta ", dir));
    }
  }
  if (!status.ok()) return status;  // the destructor removes the directory
  return d;
}

LexicalDelta::~LexicalDelta() {
  absl::MutexLock lock(&mu_);
  if (db_ != nullptr) {
    try {
      db_->close();
    } catch (const Xapian::Error& e) {
      std::fprintf(stderr, "LexicalDelta(%s): close: %s\n", dir_.c_str(),
                   e.get_description().c_str());
    }
    db_.reset();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::Status LexicalDelta::Apply(absl::Span<const Write> writes) {
  if (writes.empty()) return absl::OkStatus();
  absl::WriterMutexLock lock(&mu_);
  try {
    for (const Write& w : writes) {
      auto [it, inserted] = entries_.try_emplace(w.listing_id);
      Entry& e = it->second;
      if (!inserted && e.write_unix_ms > w.write_unix_ms) continue;  // stale write
      if (w.listing != nullptr) {
        Xapian::Document doc = ListingDocument(*w.listing, shape_, stem_.get(), db_.get());
        if (e.docid == 0) {
          if (next_docid_ >= kDeltaDocidLimit) {
            if (inserted) entries_.erase(it);
            return absl::ResourceExhaustedError("lexical delta: out of docids (restart the server)");
          }
          // The docid is recorded only once its document is written: an entry never names a
          // document the database lacks.
          db_->replace_document(next_docid_, doc);
          e.docid = next_docid_++;
          ++fresh_;
        } else {
          db_->replace_document(e.docid, doc);
        }
      } else if (e.docid != 0) {
        try {
          db_->delete_document(e.docid);
        } catch (const Xapian::DocNotFoundError&) {
          // Already gone: a delete is idempotent.
        }
        e.docid = 0;
        --fresh_;
      }
      e.write_unix_ms = w.write_unix_ms;
    }
    db_->commit();
    ++revision_;
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("lexical delta ", dir_, ": write"));
  } catch (const std::exception& e) {
    return FromStd(e, absl::StrCat("lexical delta ", dir_, ": write"));
  }
  return absl::OkStatus();
}

absl::Status LexicalDelta::Upsert(absl::Span<const Listing> listings, int64_t write_unix_ms) {
  std::vector<Write> writes;
  writes.reserve(listings.size());
  for (const Listing& l : listings) writes.push_back({l.listing_id(), &l, write_unix_ms});
  return Apply(writes);
}

absl::Status LexicalDelta::Delete(absl::Span<const uint64_t> listing_ids, int64_t write_unix_ms) {
  std::vector<Write> writes;
  writes.reserve(listing_ids.size());
  for (uint64_t id : listing_ids) writes.push_back({id, nullptr, write_unix_ms});
  return Apply(writes);
}

absl::StatusOr<int64_t> LexicalDelta::DropBefore(int64_t snapshot_unix_ms) {
  absl::WriterMutexLock lock(&mu_);
  int64_t dropped = 0;
  try {
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.write_unix_ms >= snapshot_unix_ms) {
        ++it;
        continue;
      }
      if (it->second.docid != 0) {
        db_->delete_document(it->second.docid);
        --fresh_;
      }
      entries_.erase(it++);
      ++dropped;
    }
    if (dropped > 0) {
      db_->commit();
      ++revision_;
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("lexical delta ", dir_, ": drop"));
  }
  return dropped;
}

int64_t LexicalDelta::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return fresh_;
}

int64_t LexicalDelta::superseded_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<int64_t>(entries_.size());
}

}  // namespace marketsearch
