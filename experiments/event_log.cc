#include "experiments/event_log.h"

#include <algorithm>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/str_cat.h"

namespace marketsearch {
namespace {

// "<kind><timestamp big-endian 8 bytes><sequence big-endian 8 bytes>"
std::string Key(char kind, int64_t ts, uint64_t seq) {
  std::string k(17, '\0');
  k[0] = kind;
  uint64_t t = static_cast<uint64_t>(ts);
  for (int i = 0; i < 8; ++i) k[1 + i] = static_cast<char>(t >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) k[9 + i] = static_cast<char>(seq >> (56 - 8 * i));
  return k;
}

absl::Status FromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::OpenReadOnly(const std::string& path) {
  rocksdb::Options o;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(o, path, &db);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("open event log ", path, ": ", s.ToString()));
  std::unique_ptr<EventLog> log(new EventLog());
  log->db_.reset(db);
  return log;
}

absl::StatusOr<std::unique_ptr<EventLog>> EventLog::Open(const std::string& path) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, path, &db);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("open event log ", path, ": ", s.ToString()));
  std::unique_ptr<EventLog> log(new EventLog());
  log->db_.reset(db);
  // Continue the sequence after the highest one in use so a restart never overwrites a
  // record: a key is (kind, timestamp, sequence), and events carry client timestamps, so two
  // events may share kind and timestamp. Counting the keys (as before) fell short of the
  // highest sequence whenever one was used but its key is gone: dropped by retention, or
  // taken by an append that a kill -9 cut short. A later event with the same client timestamp
  // (a client resending a batch whose answer the crash lost) then replaced an acknowledged one.
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  uint64_t next = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (k.size() != 17) continue;
    uint64_t seq = 0;
    for (int i = 0; i < 8; ++i) seq = (seq << 8) | static_cast<unsigned char>(k[9 + i]);
    next = std::max(next, seq + 1);
  }
  log->seq_ = next;
  return log;
}

EventLog::~EventLog() {
  if (db_) db_->Close();
}

SearchResponse SlimImpression(const SearchResponse& response) {
  SearchResponse slim;
  slim.set_request_id(response.request_id());
  *slim.mutable_versions() = response.versions();
  *slim.mutable_arms() = response.arms();  // the experiment arms that served the page
  for (const char* key : {"total", "error_code"}) {  // the latency; a failed search's status code
    if (auto it = response.debug().stage_ms().find(key); it != response.debug().stage_ms().end()) {
      (*slim.mutable_debug()->mutable_stage_ms())[key] = it->second;
    }
  }
  for (const auto& r : response.results()) {
    auto* x = slim.add_results();
    x->set_listing_id(r.listing_id());
    x->set_score(r.score());
    x->set_interleaving_team(r.interleaving_team());
  }
  return slim;
}

absl::Status EventLog::AppendImpression(const SearchRequest& request,
                                        const SearchResponse& response, int64_t ts) {
  std::string value = request.SerializeAsString();
  std::string resp = SlimImpression(response).SerializeAsString();
  // value = varint-free framing: 4-byte length of request, request, response.
  std::string framed(4, '\0');
  for (int i = 0; i < 4; ++i) framed[i] = static_cast<char>(value.size() >> (8 * i));
  framed += value;
  framed += resp;
  rocksdb::WriteOptions wo;
  wo.sync = false;  // impressions are high-volume; the WAL still survives a process crash
  return FromRocks(db_->Put(wo, Key('i', ts, seq_++), framed), "append impression");
}

absl::Status EventLog::AppendEvents(absl::Span<const Event> events, int64_t ts) {
  rocksdb::WriteBatch batch;
  for (const Event& e : events) {
    const int64_t t = e.timestamp_ms() > 0 ? e.timestamp_ms() : ts;
    batch.Put(Key('e', t, seq_++), e.SerializeAsString());
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &batch), "append events");
}

absl::Status EventLog::ScanEvents(const std::function<bool(const Event&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  Event e;
  for (it->Seek("e"); it->Valid() && it->key().starts_with("e"); it->Next()) {
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("corrupt event record");
    }
    if (!fn(e)) break;
  }
  return FromRocks(it->status(), "scan events");
}

absl::Status EventLog::ScanImpressions(
    const std::function<bool(int64_t, const SearchRequest&, const SearchResponse&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  SearchRequest request;
  SearchResponse response;
  for (it->Seek("i"); it->Valid() && it->key().starts_with("i"); it->Next()) {
    const rocksdb::Slice k = it->key(), v = it->value();
    if (k.size() != 17 || v.size() < 4) return absl::DataLossError("corrupt impression record");
    uint64_t ts = 0;
    for (int i = 0; i < 8; ++i) ts = (ts << 8) | static_cast<unsigned char>(k[1 + i]);
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(static_cast<unsigned char>(v[i])) << (8 * i);
    if (len > v.size() - 4 ||
        !request.ParseFromArray(v.data() + 4, static_cast<int>(len)) ||
        !response.ParseFromArray(v.data() + 4 + len, static_cast<int>(v.size() - 4 - len))) {
      return absl::DataLossError("corrupt impression record");
    }
    if (!fn(static_cast<int64_t>(ts), request, response)) break;
  }
  return FromRocks(it->status(), "scan impressions");
}

absl::Status EventLog::DropBefore(int64_t cutoff_ms) {
  if (cutoff_ms <= 0) return absl::OkStatus();
  for (const char kind : {'i', 'e'}) {
    const std::string begin = Key(kind, 0, 0), end = Key(kind, cutoff_ms, 0);
    if (absl::Status s = FromRocks(
            db_->DeleteRange(rocksdb::WriteOptions(), db_->DefaultColumnFamily(), begin, end),
            "drop old log records");
        !s.ok()) {
      return s;
    }
    const rocksdb::Slice b(begin), e(end);
    if (absl::Status s = FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), &b, &e),
                                   "compact dropped log records");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

int64_t EventLog::SizeBytes() const {
  uint64_t sst = 0, mem = 0;
  db_->GetIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize, &sst);
  db_->GetIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &mem);
  return static_cast<int64_t>(sst + mem);
}

int64_t EventLog::CountImpressions() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  int64_t n = 0;
  for (it->Seek("i"); it->Valid() && it->key().starts_with("i"); it->Next()) ++n;
  return n;
}

}  // namespace marketsearch
