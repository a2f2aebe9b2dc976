#include "features/feature_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/match.h"
#include "features/rocksdb_fault_fs.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace marketsearch {
namespace {

constexpr int kListings = 1;
constexpr int kUsers = 2;
constexpr int kCounters = 3;
constexpr int kWrites = 4;
// Counters CF keys: "s" = catalog stats, "l" + IdKey(id) = listing counters.
const char kStatsKey[] = "s";
const char kWritesCf[] = "writes";
// Write-log values.
const char kLoggedUpsert[] = "u";
const char kLoggedDelete[] = "d";

std::string WriteLogKey(int64_t write_unix_ms, uint64_t listing_id) {
  return IdKey(static_cast<uint64_t>(write_unix_ms)) + IdKey(listing_id);
}

uint64_t ReadBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat(what, ": ", s.ToString()));
  if (s.IsIOError()) return absl::UnavailableError(absl::StrCat(what, ": ", s.ToString()));
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

// RocksDB's info LOG, written by us: RocksDB's own EnvLogger (this Debian build has
// assertions on) aborts the process when it appends after a failed write — a full disk made
// `ingest` die with SIGABRT while closing the store instead of reporting the error. This one
// appends lines to <dir>/LOG with stdio and, after its first failed write, stops writing it
// (the store's own writes report the disk error). Warnings and errors also go to stderr.
class StoreLogger : public rocksdb::Logger {
 public:
  explicit StoreLogger(const std::string& path)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), f_(std::fopen(path.c_str(), "ae")) {}
  ~StoreLogger() override {
    if (f_ != nullptr) std::fclose(f_);
  }

  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    if (level >= rocksdb::InfoLogLevel::WARN_LEVEL && level < rocksdb::InfoLogLevel::HEADER_LEVEL) {
      std::fprintf(stderr, "rocksdb: %s\n", line);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (f_ == nullptr) return;
    if (std::fprintf(f_, "%s\n", line) < 0 || std::fflush(f_) != 0) {
      std::fclose(f_);  // a full disk: the LOG is the least important file to keep writing
      f_ = nullptr;
    }
  }

 private:
  std::mutex mu_;
  std::FILE* f_;
};

}  // namespace

std::string IdKey(uint64_t id) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i) {
    k[i] = static_cast<char>(id & 0xff);
    id >>= 8;
  }
  return k;
}

absl::StatusOr<std::unique_ptr<FeatureStore>> FeatureStore::Open(const Options& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("feature store path is empty");
  rocksdb::Options db_opts;
  db_opts.create_if_missing = !options.read_only;
  db_opts.create_missing_column_families = !options.read_only;
  db_opts.IncreaseParallelism(2);
  // MARKETSEARCH_FAULTS (a test hook): RocksDB's own I/O meets the injected faults too.
  if (rocksdb::Env* faulty = DefaultRocksEnvWithFaults()) db_opts.env = faulty;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(options.block_cache_mb) << 20);
  table.cache_index_and_filter_blocks = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_opts;
  cf_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_opts.compression = rocksdb::kLZ4Compression;
  db_opts.table_factory = cf_opts.table_factory;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf_opts},
      {"listings", cf_opts},
      {"users", cf_opts},
      {"counters", cf_opts},
  };
  // The write log is newer than the other column families: a writable open creates it, a
  // read-only or secondary open of an older store (which cannot create it) goes without.
  bool has_writes = !options.read_only && options.secondary_path.empty();
  if (!has_writes) {
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(db_opts, options.path, &existing).ok()) {
      for (const std::string& name : existing) has_writes |= name == kWritesCf;
    }
  }
  if (has_writes) cfs.push_back({kWritesCf, cf_opts});
  // The info LOG goes where RocksDB would put it (a secondary writes into its own directory);
  // a read-only open appends to the primary's.
  const std::string log_dir = options.secondary_path.empty() ? options.path : options.secondary_path;
  std::error_code mkdir_ec;
  if (!options.read_only) std::filesystem::create_directories(log_dir, mkdir_ec);
  db_opts.info_log = std::make_shared<StoreLogger>(log_dir + "/LOG");
  std::unique_ptr<FeatureStore> store(new FeatureStore());
  store->sync_writes_ = options.sync_writes;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s;
  if (options.read_only) {
    s = rocksdb::DB::OpenForReadOnly(db_opts, options.path, cfs, &store->handles_, &db);
  } else if (!options.secondary_path.empty()) {
    db_opts.create_if_missing = false;
    db_opts.create_missing_column_families = false;
    db_opts.max_open_files = -1;  // required by secondary instances
    s = rocksdb::DB::OpenAsSecondary(db_opts, options.path, options.secondary_path, cfs,
                                     &store->handles_, &db);
    store->secondary_ = true;
  } else {
    s = rocksdb::DB::Open(db_opts, options.path, cfs, &store->handles_, &db);
  }
  if (!s.ok()) {
    // What the operator needs besides RocksDB's own words: which directory, and what to do.
    std::string hint;
    if (s.IsIOError() && absl::StrContains(s.ToString(), "lock")) {
      hint = absl::StrCat(" (another process — a running server or ingest — holds ", options.path,
                          "/LOCK; stop it or open the store read-only)");
    } else if (s.IsCorruption()) {
      hint = absl::StrCat(" (", options.path, " is corrupted; restore it from a copy, or re-run "
                          "ingest into an empty directory)");
    }
    absl::Status st = FromRocks(s, absl::StrCat("open feature store ", options.path));
    return absl::Status(st.code(), absl::StrCat(st.message(), hint));
  }
  store->db_.reset(db);
  if (!has_writes) store->handles_.push_back(nullptr);
  return store;
}

FeatureStore::~FeatureStore() {
  if (db_) {
    for (auto* h : handles_) {
      if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
    }
    db_->Close();
  }
}

absl::Status FeatureStore::PutListings(absl::Span<const Listing> listings,
                                       int64_t write_unix_ms) {
  if (write_unix_ms < 0) return absl::InvalidArgumentError("write_unix_ms: must be >= 0");
  if (write_unix_ms > 0 && handles_[kWrites] == nullptr) {
    return absl::FailedPreconditionError("feature store opened without its write log");
  }
  rocksdb::WriteBatch batch;
  std::string value;
  for (const Listing& l : listings) {
    if (l.listing_id() == 0) return absl::InvalidArgumentError("listing_id: must be > 0");
    l.SerializeToString(&value);
    batch.Put(handles_[kListings], IdKey(l.listing_id()), value);
    if (write_unix_ms > 0) {
      batch.Put(handles_[kWrites], WriteLogKey(write_unix_ms, l.listing_id()), kLoggedUpsert);
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  return FromRocks(db_->Write(wo, &batch), "put listings");
}

absl::Status FeatureStore::DeleteListings(absl::Span<const uint64_t> ids,
                                          int64_t write_unix_ms) {
  if (write_unix_ms < 0) return absl::InvalidArgumentError("write_unix_ms: must be >= 0");
  if (write_unix_ms > 0 && handles_[kWrites] == nullptr) {
    return absl::FailedPreconditionError("feature store opened without its write log");
  }
  rocksdb::WriteBatch batch;
  for (uint64_t id : ids) {
    batch.Delete(handles_[kListings], IdKey(id));
    if (write_unix_ms > 0) batch.Put(handles_[kWrites], WriteLogKey(write_unix_ms, id), kLoggedDelete);
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  return FromRocks(db_->Write(wo, &batch), "delete listings");
}

absl::Status FeatureStore::ScanWriteLog(int64_t since_unix_ms,
                                        const std::function<bool(const LoggedWrite&)>& fn) const {
  if (handles_[kWrites] == nullptr) return absl::OkStatus();  // older store, read-only
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kWrites]));
  LoggedWrite w;
  for (it->Seek(IdKey(static_cast<uint64_t>(std::max<int64_t>(0, since_unix_ms)))); it->Valid();
       it->Next()) {
    const rocksdb::Slice k = it->key();
    if (k.size() != 16 || it->value().size() != 1) {
      return absl::DataLossError("corrupt write-log entry");
    }
    w.write_unix_ms = static_cast<int64_t>(ReadBigEndian(k.data()));
    w.listing_id = ReadBigEndian(k.data() + 8);
    w.deleted = it->value().ToString() == kLoggedDelete;
    if (!fn(w)) break;
  }
  return FromRocks(it->status(), "scan write log");
}

absl::Status FeatureStore::PruneWriteLog(int64_t before_unix_ms) {
  if (handles_[kWrites] == nullptr) {
    return absl::FailedPreconditionError("feature store opened without its write log");
  }
  if (before_unix_ms <= 0) return absl::OkStatus();
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  return FromRocks(db_->DeleteRange(wo, handles_[kWrites], std::string(),
                                    IdKey(static_cast<uint64_t>(before_unix_ms))),
                   "prune write log");
}

absl::StatusOr<std::vector<std::optional<Listing>>> FeatureStore::GetListings(
    absl::Span<const uint64_t> ids) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (uint64_t id : ids) keys.push_back(IdKey(id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(ids.size());
  std::vector<rocksdb::Status> statuses(ids.size());
  db_->MultiGet(rocksdb::ReadOptions(), handles_[kListings], slices.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<std::optional<Listing>> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], "multiget listings");
    Listing l;
    if (!l.ParseFromArray(values[i].data(), static_cast<int>(values[i].size()))) {
      return absl::DataLossError(absl::StrCat("corrupt listing record ", ids[i]));
    }
    out[i] = std::move(l);
  }
  return out;
}

absl::Status FeatureStore::ScanListings(const std::function<bool(const Listing&)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a full scan should not evict the serving hot set
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kListings]));
  Listing l;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!l.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("corrupt listing record during scan");
    }
    if (!fn(l)) break;
  }
  return FromRocks(it->status(), "scan listings");
}

absl::Status FeatureStore::PutUsers(absl::Span<const User> users) {
  rocksdb::WriteBatch batch;
  std::string value;
  for (const User& u : users) {
    u.SerializeToString(&value);
    batch.Put(handles_[kUsers], IdKey(u.user_id()), value);
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  return FromRocks(db_->Write(wo, &batch), "put users");
}

absl::StatusOr<std::optional<User>> FeatureStore::GetUser(uint64_t user_id) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kUsers], IdKey(user_id), &value);
  if (s.IsNotFound()) return std::optional<User>();
  if (!s.ok()) return FromRocks(s, "get user");
  User u;
  if (!u.ParseFromString(value)) return absl::DataLossError("corrupt user record");
  return std::optional<User>(std::move(u));
}

absl::Status FeatureStore::PutCatalogStats(const CatalogStats& stats) {
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  return FromRocks(db_->Put(wo, handles_[kCounters], kStatsKey, stats.SerializeAsString()),
                   "put catalog stats");
}

absl::StatusOr<CatalogStats> FeatureStore::GetCatalogStats() const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kCounters], kStatsKey, &value);
  if (s.IsNotFound()) return absl::NotFoundError("no catalog stats in the feature store; run ingest");
  if (!s.ok()) return FromRocks(s, "get catalog stats");
  CatalogStats stats;
  if (!stats.ParseFromString(value)) return absl::DataLossError("corrupt catalog stats");
  return stats;
}

absl::Status FeatureStore::PutListingCounters(absl::Span<const uint64_t> ids,
                                              absl::Span<const ListingCounters> counters) {
  if (ids.size() != counters.size()) return absl::InvalidArgumentError("ids/counters size mismatch");
  rocksdb::WriteBatch batch;
  for (size_t i = 0; i < ids.size(); ++i) {
    batch.Put(handles_[kCounters], "l" + IdKey(ids[i]), counters[i].SerializeAsString());
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  return FromRocks(db_->Write(wo, &batch), "put listing counters");
}

absl::StatusOr<std::vector<ListingCounters>> FeatureStore::GetListingCounters(
    absl::Span<const uint64_t> ids) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (uint64_t id : ids) keys.push_back("l" + IdKey(id));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(ids.size());
  std::vector<rocksdb::Status> statuses(ids.size());
  db_->MultiGet(rocksdb::ReadOptions(), handles_[kCounters], slices.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<ListingCounters> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], "multiget counters");
    if (!out[i].ParseFromArray(values[i].data(), static_cast<int>(values[i].size()))) {
      return absl::DataLossError("corrupt listing counters");
    }
  }
  return out;
}

absl::Status FeatureStore::ScanListingCounters(
    const std::function<bool(uint64_t, const ListingCounters&)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kCounters]));
  ListingCounters c;
  for (it->Seek("l"); it->Valid() && it->key().starts_with("l"); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (key.size() != 9) return absl::DataLossError("corrupt listing counters key during scan");
    uint64_t id = 0;
    for (size_t i = 1; i < 9; ++i) id = (id << 8) | static_cast<uint8_t>(key[i]);
    if (!c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("corrupt listing counters during scan");
    }
    if (!fn(id, c)) break;
  }
  return FromRocks(it->status(), "scan listing counters");
}

absl::Status FeatureStore::CatchUp() {
  if (!secondary_) return absl::OkStatus();
  return FromRocks(db_->TryCatchUpWithPrimary(), "catch up with primary");
}

int64_t FeatureStore::EstimateListingCount() const {
  uint64_t n = 0;
  db_->GetIntProperty(handles_[kListings], "rocksdb.estimate-num-keys", &n);
  return static_cast<int64_t>(n);
}

absl::Status FeatureStore::Flush() {
  rocksdb::FlushOptions fo;
  for (auto* h : handles_) {
    if (h == nullptr) continue;
    rocksdb::Status s = db_->Flush(fo, h);
    if (!s.ok()) return FromRocks(s, "flush");
  }
  return absl::OkStatus();
}

}  // namespace marketsearch
