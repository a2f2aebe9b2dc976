#include "datasets/public_loaders.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "datasets/catalog_reader.h"
#include "proto/esci.h"
#include "proto/listing_limits.h"

namespace marketsearch {

// ---------------------------------------------------------------------------------------
// CsvReader

CsvReader::CsvReader(Options options) : options_(options) {}

CsvReader::~CsvReader() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status CsvReader::Open(const std::string& path) {
  if (file_ != nullptr) std::fclose(file_);
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct stat st;
  size_bytes_ = (fstat(fileno(file_), &st) == 0 && S_ISREG(st.st_mode)) ? st.st_size : 0;
  buf_.clear();
  pos_ = 0;
  bytes_before_buf_ = 0;
  line_ = 1;
  record_line_ = 0;
  at_start_ = true;
  done_ = false;
  read_error_ = false;
  return absl::OkStatus();
}

void CsvReader::OpenString(absl::string_view text) {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  buf_.assign(text.data(), text.size());
  size_bytes_ = static_cast<int64_t>(text.size());
  pos_ = 0;
  bytes_before_buf_ = 0;
  line_ = 1;
  record_line_ = 0;
  at_start_ = true;
  done_ = false;
  read_error_ = false;
}

bool CsvReader::Fill() {
  if (file_ == nullptr) return false;
  bytes_before_buf_ += static_cast<int64_t>(buf_.size());
  buf_.resize(1 << 20);
  const size_t n = std::fread(&buf_[0], 1, buf_.size(), file_);
  buf_.resize(n);
  pos_ = 0;
  if (n == 0 && std::ferror(file_)) read_error_ = true;
  return n > 0;
}

inline int CsvReader::Get() {
  if (pos_ >= buf_.size() && !Fill()) return -1;
  return static_cast<unsigned char>(buf_[pos_++]);
}

inline int CsvReader::Peek() {
  if (pos_ >= buf_.size() && !Fill()) return -1;
  return static_cast<unsigned char>(buf_[pos_]);
}

CsvReader::Result CsvReader::Next(std::vector<std::string>* fields, std::string* error) {
  fields->clear();
  if (done_) return Result::kEnd;
  if (at_start_) {
    at_start_ = false;
    if (Peek() >= 0 && buf_.compare(pos_, 3, "\xEF\xBB\xBF") == 0) pos_ += 3;
  }
  const char delim = options_.delimiter;
  const char quote = options_.quote;
  for (;;) {  // one iteration per physical record; blank lines loop again
    if (Peek() < 0) {
      done_ = true;
      if (read_error_) {
        *error = "read error";
        return Result::kError;
      }
      return Result::kEnd;
    }
    record_line_ = line_;
    enum { kStart, kUnquoted, kQuoted, kAfterQuote } state = kStart;
    std::string field;
    size_t record_bytes = 0;
    bool any_quoted = false;
    bool end_of_record = false;
    while (!end_of_record) {
      const int c = Get();
      if (c < 0) {
        if (read_error_) {
          done_ = true;
          fields->clear();
          *error = "read error";
          return Result::kError;
        }
        if (state == kQuoted) {
          done_ = true;
          fields->clear();
          *error = absl::StrCat("unterminated quoted field (record starts on line ", record_line_, ")");
          return Result::kError;
        }
        break;
      }
      if (++record_bytes > options_.max_record_bytes) {
        done_ = true;
        fields->clear();
        *error = absl::StrCat("record starting on line ", record_line_, " is longer than ",
                              options_.max_record_bytes, " bytes (unbalanced quote?)");
        return Result::kError;
      }
      const char ch = static_cast<char>(c);
      switch (state) {
        case kQuoted:
          if (ch == quote) {
            state = kAfterQuote;
          } else {
            if (ch == '\n' || (ch == '\r' && Peek() != '\n')) ++line_;
            field.push_back(ch);
          }
          break;
        case kAfterQuote:
          if (ch == quote) {  // doubled quote
            field.push_back(quote);
            state = kQuoted;
            break;
          }
          [[fallthrough]];
        case kStart:
          if (state == kStart && ch == quote) {
            state = kQuoted;
            any_quoted = true;
            break;
          }
          [[fallthrough]];
        case kUnquoted:
          if (ch == delim) {
            fields->push_back(std::move(field));
            field.clear();
            state = kStart;
          } else if (ch == '\n') {
            ++line_;
            end_of_record = true;
          } else if (ch == '\r') {
            if (Peek() == '\n') Get();
            ++line_;
            end_of_record = true;
          } else {
            field.push_back(ch);  // also a stray quote, or text after a closing quote
            state = kUnquoted;
          }
          break;
      }
    }
    fields->push_back(std::move(field));
    if (fields->size() == 1 && (*fields)[0].empty() && !any_quoted) {
      fields->clear();
      continue;  // blank line
    }
    return Result::kOk;
  }
}

absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(absl::string_view text,
                                                               char delimiter) {
  CsvReader::Options o;
  o.delimiter = delimiter;
  CsvReader r(o);
  r.OpenString(text);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> fields;
  std::string error;
  for (;;) {
    switch (r.Next(&fields, &error)) {
      case CsvReader::Result::kOk:
        out.push_back(fields);
        break;
      case CsvReader::Result::kEnd:
        return out;
      case CsvReader::Result::kError:
        return absl::InvalidArgumentError(error);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Text, ids and splits

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (2..4 bytes, i.e. s[i] >= 0x80),
// with its code point in *cp; 0 if the bytes there are not valid UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF are invalid).
size_t Utf8SequenceAt(absl::string_view s, size_t i, uint32_t* cp) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t v;
  if (c < 0xC2) return 0;
  if (c < 0xE0) {
    n = 2;
    v = c & 0x1F;
  } else if (c < 0xF0) {
    n = 3;
    v = c & 0x0F;
  } else if (c < 0xF5) {
    n = 4;
    v = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const unsigned char b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  if (n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) return 0;
  if (n == 4 && (v < 0x10000 || v > 0x10FFFF)) return 0;
  *cp = v;
  return n;
}

uint64_t Mix64(uint64_t x) {  // splitmix64 finaliser: fixed, platform-independent
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from a query id; the salt keeps the datasets' splits independent.
double UnitHash(uint64_t id, uint64_t salt) {
  return static_cast<double>(Mix64(id ^ salt) >> 11) * (1.0 / 9007199254740992.0);
}

constexpr uint64_t kEsciSplitSalt = 0x45534349'00000001ull;   // "ESCI"
constexpr uint64_t kWandsSplitSalt = 0x57414E44'53000001ull;  // "WANDS"

std::string Trim(absl::string_view s) { return std::string(absl::StripAsciiWhitespace(s)); }
std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(absl::StripAsciiWhitespace(s)); }

}  // namespace

std::string SanitizeField(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  bool pending_space = false;
  auto emit = [&](absl::string_view bytes) {
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.append(bytes.data(), bytes.size());
  };
  size_t i = 0;
  while (i < in.size()) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      if (c <= 0x20 || c == 0x7F) {
        pending_space = true;
      } else {
        emit(in.substr(i, 1));
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = Utf8SequenceAt(in, i, &cp);
    if (n == 0) {  // invalid byte: drop it and resynchronise on the next one
      ++i;
      continue;
    }
    // C1 controls (incl. NEL U+0085), no-break space, line/paragraph separators: readers
    // such as Python's str.splitlines() treat some of them as line breaks.
    if ((cp >= 0x80 && cp <= 0xA0) || cp == 0x2028 || cp == 0x2029) {
      pending_space = true;
    } else {
      emit(in.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string TruncateUtf8Bytes(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // a lead byte
  std::string out = text.substr(0, n);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string TruncateUtf8(const std::string& text, size_t max_chars) {
  size_t chars = 0, i = 0;
  while (i < text.size()) {
    if (chars == max_chars) {
      std::string out = text.substr(0, i);
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out;
    }
    ++i;  // past the lead byte, then past its continuation bytes
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    ++chars;
  }
  return text;
}

uint64_t EsciListingId(absl::string_view asin) {
  const absl::string_view s = absl::StripAsciiWhitespace(asin);
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  h &= 0x7FFFFFFFFFFFFFFFull;
  return h == 0 ? 1 : h;
}

std::string EsciSplit(uint64_t query_id, const std::string& esci_split, double valid_fraction) {
  if (esci_split == "test") return "test";
  return UnitHash(query_id, kEsciSplitSalt) < valid_fraction ? "valid" : "train";
}

std::string WandsSplit(uint64_t query_id, double valid_fraction, double test_fraction) {
  const double u = UnitHash(query_id, kWandsSplitSalt);
  if (u < test_fraction) return "test";
  if (u < test_fraction + valid_fraction) return "valid";
  return "train";
}

int64_t LoadSummary::TotalSkipped() const {
  int64_t n = 0;
  for (const auto& [k, v] : skipped) n += v;
  return n;
}

// ---------------------------------------------------------------------------------------
// Loader plumbing

namespace {

constexpr size_t kMaxSkipExamples = 10;
constexpr char kListingsHeader[] =
    "listing_id\ttitle\tdescription\tcategory\tbrand\tattributes\tprice\tcondition\t"
    "seller_id\tseller_rating\tcity\tlat\tlon\tlisted_at_unix";
// Public datasets carry no price or condition; ingest requires both. Documented placeholders.
constexpr char kPlaceholderPrice[] = "1.00";
constexpr char kPlaceholderCondition[] = "new";

// One delimited input file with a header line; columns are looked up by name.
class Input {
 public:
  Input(std::string name, std::string path, char delimiter, LoadSummary* summary,
        const LoadProgressFn* progress, std::string stage)
      : name_(std::move(name)), path_(std::move(path)), summary_(summary),
        progress_(progress), stage_(std::move(stage)) {
    CsvReader::Options o;
    o.delimiter = delimiter;
    reader_ = std::make_unique<CsvReader>(o);
  }

  // Opens the file and checks that every `required` column is in the header.
  absl::Status Open(const std::vector<std::string>& required) {
    MS_RETURN_IF_ERROR(reader_->Open(path_));
    std::string err;
    const auto r = reader_->Next(&header_, &err);
    if (r == CsvReader::Result::kError) {
      return absl::InvalidArgumentError(absl::StrCat(path_, ": ", err));
    }
    if (r == CsvReader::Result::kEnd) {
      return absl::InvalidArgumentError(absl::StrCat(path_, ": empty file (no header line)"));
    }
    for (auto& h : header_) h = Trim(h);
    for (const auto& c : required) {
      if (Col(c) < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            path_, ": header lacks required column '", c, "' (header: ",
            absl::StrJoin(header_, ","), ")"));
      }
    }
    return absl::OkStatus();
  }

  int Col(const std::string& name) const {
    for (size_t i = 0; i < header_.size(); ++i) {
      if (header_[i] == name) return static_cast<int>(i);
    }
    return -1;
  }

  // Next data row with the header's field count (rows with another count are skipped and
  // counted). false at the end; *status is set when the file is malformed.
  bool Next(absl::Status* status) {
    std::string err;
    for (;;) {
      const auto r = reader_->Next(&row_, &err);
      if (r == CsvReader::Result::kEnd) {
        Report(true);
        return false;
      }
      if (r == CsvReader::Result::kError) {
        *status = absl::InvalidArgumentError(absl::StrCat(path_, ": ", err));
        return false;
      }
      ++rows_;
      ++summary_->rows_read[name_];
      if ((rows_ & 0xFFFF) == 0) Report(false);
      if (row_.size() != header_.size()) {
        Skip(absl::StrCat("wrong field count"),
             absl::StrCat(" (", row_.size(), " instead of ", header_.size(), ")"));
        continue;
      }
      return true;
    }
  }

  // Field `col` of the current row, or "" for an absent optional column (col < 0).
  const std::string& Get(int col) const {
    static const std::string kEmpty;
    return col < 0 ? kEmpty : row_[static_cast<size_t>(col)];
  }

  int64_t line() const { return reader_->record_line(); }
  const std::string& path() const { return path_; }

  void Skip(const std::string& reason, const std::string& detail = "") {
    ++summary_->skipped[absl::StrCat(name_, ": ", reason)];
    if (summary_->skip_examples.size() < kMaxSkipExamples) {
      summary_->skip_examples.push_back(absl::StrCat(path_, ":", line(), ": ", reason, detail));
    }
  }
  void Filter(const std::string& reason) { ++summary_->filtered[absl::StrCat(name_, ": ", reason)]; }

 private:
  void Report(bool finished) {
    if (progress_ == nullptr || !*progress_) return;
    LoadProgress p;
    p.stage = stage_;
    p.done_bytes = reader_->bytes_read();
    p.total_bytes = reader_->size_bytes();
    p.rows = rows_;
    p.finished = finished;
    (*progress_)(p);
  }

  std::string name_, path_;
  LoadSummary* summary_;
  const LoadProgressFn* progress_;
  std::string stage_;
  std::unique_ptr<CsvReader> reader_;
  std::vector<std::string> header_, row_;
  int64_t rows_ = 0;
};

// An output file written under a temporary name in the output directory and renamed into
// place by Commit(); removed on destruction if never committed.
class OutFile {
 public:
  OutFile(const std::string& dir, const std::string& name)
      : final_path_(absl::StrCat(dir, "/", name)), tmp_path_(absl::StrCat(dir, "/.", name, ".tmp")) {}
  ~OutFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) std::remove(tmp_path_.c_str());
  }

  absl::Status Open(const char* header) {
    file_ = std::fopen(tmp_path_.c_str(), "wb");
    if (file_ == nullptr) {
      return absl::InternalError(absl::StrCat("cannot create ", tmp_path_, ": ", std::strerror(errno)));
    }
    buf_.append(header);
    buf_.push_back('\n');
    return absl::OkStatus();
  }

  // Fields must already be sanitised (no tabs or line breaks).
  void Row(std::initializer_list<absl::string_view> fields) {
    bool first = true;
    for (absl::string_view f : fields) {
      if (!first) buf_.push_back('\t');
      first = false;
      buf_.append(f.data(), f.size());
    }
    buf_.push_back('\n');
    ++rows_;
    if (buf_.size() >= (1 << 20)) Flush();
  }

  absl::Status Close() {
    Flush();
    const bool close_failed = std::fclose(file_) != 0;
    file_ = nullptr;
    if (write_failed_ || close_failed) {
      return absl::InternalError(absl::StrCat("write failed: ", tmp_path_));
    }
    return absl::OkStatus();
  }

  absl::Status Commit() {
    std::error_code ec;
    std::filesystem::rename(tmp_path_, final_path_, ec);
    if (ec) return absl::InternalError(absl::StrCat("rename ", tmp_path_, ": ", ec.message()));
    committed_ = true;
    return absl::OkStatus();
  }

  int64_t rows() const { return rows_; }

 private:
  void Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) {
      write_failed_ = true;
    }
    buf_.clear();
  }

  std::string final_path_, tmp_path_;
  std::FILE* file_ = nullptr;
  std::string buf_;
  int64_t rows_ = 0;
  bool write_failed_ = false;
  bool committed_ = false;
};

absl::Status PrepareOutDir(const std::string& out_dir, LoadSummary* s) {
  if (out_dir.empty()) return absl::InvalidArgumentError("out_dir: must not be empty");
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", out_dir, ": ", ec.message()));
  for (const char* stale : {"users.tsv", "clicks.tsv"}) {
    if (std::filesystem::exists(absl::StrCat(out_dir, "/", stale), ec)) {
      s->warnings.push_back(absl::StrCat(
          out_dir, "/", stale, " is left from another catalog (e.g. make_marketplace) and does "
          "not match these listings; ingest reads users.tsv if present: remove it or use a "
          "fresh --out_dir"));
    }
  }
  return absl::OkStatus();
}

absl::Status CloseAndCommit(std::initializer_list<OutFile*> files) {
  for (OutFile* f : files) MS_RETURN_IF_ERROR(f->Close());
  for (OutFile* f : files) MS_RETURN_IF_ERROR(f->Commit());
  return absl::OkStatus();
}

struct QueryInfo {
  uint64_t id = 0;
  std::string text;
  std::string split;
  std::string intent;
  int64_t judgments = 0;
};

// Writes queries.tsv (only queries that kept at least one judgment) and counts splits.
void WriteQueries(const std::vector<QueryInfo>& queries, OutFile* out, LoadSummary* s) {
  for (const QueryInfo& q : queries) {
    if (q.judgments == 0) {
      ++s->skipped["queries: no judgment left"];
      continue;
    }
    const std::string id = absl::StrCat(q.id);
    out->Row({id, q.split, "0", q.text, q.intent});
    ++s->queries;
    ++s->queries_per_split[q.split];
  }
}

const char* EsciLetter(Esci e) {
  switch (e) {
    case Esci::kExact: return "E";
    case Esci::kSubstitute: return "S";
    case Esci::kComplement: return "C";
    case Esci::kIrrelevant: return "I";
  }
  return "I";
}

// An intent value: no ';' or '=' (they delimit the key=value list).
std::string IntentValue(const std::string& v) {
  std::string out = SanitizeField(v);
  for (char& c : out) {
    if (c == ';' || c == '=') c = ' ';
  }
  return out;
}

// Parses a trimmed id; "" -> missing, not an integer -> bad.
enum class IdParse { kOk, kMissing, kBad };
IdParse ParseId(const std::string& raw, uint64_t* id) {
  const absl::string_view s = absl::StripAsciiWhitespace(raw);
  if (s.empty()) return IdParse::kMissing;
  return absl::SimpleAtoi(s, id) ? IdParse::kOk : IdParse::kBad;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// ESCI

absl::Status LoadEsci(const EsciOptions& o, const std::string& out_dir, LoadSummary* summary) {
  const auto start = std::chrono::steady_clock::now();
  if (o.examples_path.empty()) return absl::InvalidArgumentError("examples_path: required");
  if (o.products_path.empty()) return absl::InvalidArgumentError("products_path: required");
  if (!(o.valid_fraction >= 0 && o.valid_fraction <= 1)) {
    return absl::InvalidArgumentError("valid_fraction: must be in [0, 1]");
  }
  const std::string locale = Lower(o.locale);
  if (locale.empty()) return absl::InvalidArgumentError("locale: must not be empty");
  LoadSummary s;
  s.format = "esci";
  s.out_dir = out_dir;
  MS_RETURN_IF_ERROR(PrepareOutDir(out_dir, &s));

  // 1. Examples: queries and the (query, product, label) triples of the kept rows.
  struct Example {
    uint32_t query;  // index into `queries`
    Esci label;
    std::string asin;
    int64_t line;
  };
  std::vector<QueryInfo> queries;
  absl::flat_hash_map<uint64_t, uint32_t> query_index;
  std::vector<Example> examples;
  absl::flat_hash_set<std::string> needed;
  {
    Input in("examples", o.examples_path, ',', &s, &o.progress, "esci examples");
    std::vector<std::string> required = {"query_id", "query", "product_id", "product_locale",
                                         "esci_label", "split"};
    if (o.small_version_only) required.push_back("small_version");
    MS_RETURN_IF_ERROR(in.Open(required));
    const int c_qid = in.Col("query_id"), c_query = in.Col("query"), c_pid = in.Col("product_id"),
              c_locale = in.Col("product_locale"), c_label = in.Col("esci_label"),
              c_split = in.Col("split"), c_small = in.Col("small_version");
    absl::Status st;
    while (in.Next(&st)) {
      if (Lower(in.Get(c_locale)) != locale) {
        in.Filter("other locale");
        continue;
      }
      if (o.small_version_only) {
        int small = 0;
        if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(in.Get(c_small)), &small) || small != 1) {
          in.Filter("not in small version");
          continue;
        }
      }
      uint64_t qid = 0;
      const IdParse qp = ParseId(in.Get(c_qid), &qid);
      if (qp != IdParse::kOk) {
        in.Skip(qp == IdParse::kMissing ? "missing query_id" : "bad query_id");
        continue;
      }
      const std::string asin = Trim(in.Get(c_pid));
      if (asin.empty()) {
        in.Skip("missing product_id");
        continue;
      }
      const auto label = ParseEsci(in.Get(c_label));
      if (!label.ok()) {
        in.Skip("unknown esci_label", absl::StrCat(" '", in.Get(c_label), "'"));
        continue;
      }
      const std::string esci_split = Lower(in.Get(c_split));
      if (esci_split != "train" && esci_split != "test") {
        in.Skip("unknown split", absl::StrCat(" '", in.Get(c_split), "'"));
        continue;
      }
      auto it = query_index.find(qid);
      if (it == query_index.end()) {
        std::string text = SanitizeField(in.Get(c_query));
        if (text.empty()) {
          in.Skip("missing query");
          continue;
        }
        QueryInfo q;
        q.id = qid;
        q.text = std::move(text);
        q.split = EsciSplit(qid, esci_split, o.valid_fraction);
        q.intent = absl::StrCat("source=esci;locale=", IntentValue(locale), ";esci_split=", esci_split);
        it = query_index.emplace(qid, static_cast<uint32_t>(queries.size())).first;
        queries.push_back(std::move(q));
      }
      needed.insert(asin);
      examples.push_back(Example{it->second, *label, asin, in.line()});
    }
    MS_RETURN_IF_ERROR(st);
  }

  // 2. Products of the locale -> listings.
  OutFile listings(out_dir, "listings.tsv"), ids(out_dir, "listing_ids.tsv"),
      judgments(out_dir, "judgments.tsv"), queries_out(out_dir, "queries.tsv");
  MS_RETURN_IF_ERROR(listings.Open(kListingsHeader));
  MS_RETURN_IF_ERROR(ids.Open("listing_id\tsource_id"));
  MS_RETURN_IF_ERROR(judgments.Open("query_id\tlisting_id\tlabel"));
  MS_RETURN_IF_ERROR(queries_out.Open("query_id\tsplit\tuser_id\ttext\tintent"));
  absl::flat_hash_map<std::string, uint64_t> listing_of;
  absl::flat_hash_set<uint64_t> used_ids;
  {
    Input in("products", o.products_path, ',', &s, &o.progress, "esci products");
    MS_RETURN_IF_ERROR(in.Open({"product_id", "product_locale", "product_title"}));
    const int c_pid = in.Col("product_id"), c_locale = in.Col("product_locale"),
              c_title = in.Col("product_title"), c_desc = in.Col("product_description"),
              c_bullets = in.Col("product_bullet_point"), c_brand = in.Col("product_brand"),
              c_color = in.Col("product_color");
    absl::Status st;
    while (in.Next(&st)) {
      if (Lower(in.Get(c_locale)) != locale) {
        in.Filter("other locale");
        continue;
      }
      const std::string asin = Trim(in.Get(c_pid));
      if (asin.empty()) {
        in.Skip("missing product_id");
        continue;
      }
      if (!o.include_unjudged_products && !needed.contains(asin)) {
        in.Filter("not judged");
        continue;
      }
      if (listing_of.contains(asin)) {
        in.Skip("duplicate product_id", absl::StrCat(" ", asin));
        continue;
      }
      const std::string title = TruncateUtf8Bytes(SanitizeField(in.Get(c_title)), kMaxTitleBytes);
      if (title.empty()) {
        in.Skip("missing title", absl::StrCat(" (", asin, ")"));
        continue;
      }
      const uint64_t id = EsciListingId(asin);
      if (!used_ids.insert(id).second) {
        in.Skip("listing_id hash collision", absl::StrCat(" (", asin, ")"));
        continue;
      }
      listing_of.emplace(asin, id);
      std::string desc = TruncateUtf8(SanitizeField(in.Get(c_desc)), o.max_description_chars);
      if (desc.empty()) desc = TruncateUtf8(SanitizeField(in.Get(c_bullets)), o.max_description_chars);
      const std::string brand = TruncateUtf8Bytes(SanitizeField(in.Get(c_brand)), kMaxBrandBytes);
      std::string colour = TruncateUtf8Bytes(SanitizeField(in.Get(c_color)), kMaxAttributeValueBytes);
      std::replace(colour.begin(), colour.end(), ';', ',');  // ';' separates attributes
      const std::string attributes = colour.empty() ? "" : absl::StrCat("colour=", colour);
      const std::string sid = absl::StrCat(id);
      listings.Row({sid, title, desc, "unknown", brand, attributes, kPlaceholderPrice,
                    kPlaceholderCondition, "", "", "", "", "", ""});
      ids.Row({sid, SanitizeField(asin)});
    }
    MS_RETURN_IF_ERROR(st);
  }
  s.listings = listings.rows();

  // 3. Judgments, in examples order.
  {
    absl::flat_hash_set<std::pair<uint64_t, uint64_t>> seen;
    for (const Example& e : examples) {
      auto it = listing_of.find(e.asin);
      auto skip = [&](const char* reason) {
        ++s.skipped[absl::StrCat("examples: ", reason)];
        if (s.skip_examples.size() < kMaxSkipExamples) {
          s.skip_examples.push_back(
              absl::StrCat(o.examples_path, ":", e.line, ": ", reason, " ", e.asin));
        }
      };
      if (it == listing_of.end()) {
        skip("unknown product");
        continue;
      }
      QueryInfo& q = queries[e.query];
      if (!seen.insert({q.id, it->second}).second) {
        skip("duplicate judgment");
        continue;
      }
      const char* letter = EsciLetter(e.label);
      judgments.Row({absl::StrCat(q.id), absl::StrCat(it->second), letter});
      ++q.judgments;
      ++s.judgments;
      ++s.judgments_per_label[letter];
    }
  }

  // 4. Queries that kept a judgment.
  WriteQueries(queries, &queries_out, &s);
  MS_RETURN_IF_ERROR(CloseAndCommit({&listings, &ids, &judgments, &queries_out}));
  s.seconds = SecondsSince(start);
  if (summary != nullptr) *summary = std::move(s);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// WANDS

absl::Status LoadWands(const WandsOptions& o, const std::string& out_dir, LoadSummary* summary) {
  const auto start = std::chrono::steady_clock::now();
  if (o.dir.empty()) return absl::InvalidArgumentError("dir: required");
  if (!(o.valid_fraction >= 0 && o.test_fraction >= 0 && o.valid_fraction + o.test_fraction <= 1)) {
    return absl::InvalidArgumentError(
        "valid_fraction, test_fraction: must be >= 0 with a sum of at most 1");
  }
  std::string dir = o.dir;
  {
    std::error_code ec;
    if (!std::filesystem::exists(dir + "/product.csv", ec) &&
        std::filesystem::exists(dir + "/dataset/product.csv", ec)) {
      dir += "/dataset";
    }
  }
  LoadSummary s;
  s.format = "wands";
  s.out_dir = out_dir;
  MS_RETURN_IF_ERROR(PrepareOutDir(out_dir, &s));

  OutFile listings(out_dir, "listings.tsv"), ids(out_dir, "listing_ids.tsv"),
      judgments(out_dir, "judgments.tsv"), queries_out(out_dir, "queries.tsv");
  MS_RETURN_IF_ERROR(listings.Open(kListingsHeader));
  MS_RETURN_IF_ERROR(ids.Open("listing_id\tsource_id"));
  MS_RETURN_IF_ERROR(judgments.Open("query_id\tlisting_id\tlabel"));
  MS_RETURN_IF_ERROR(queries_out.Open("query_id\tsplit\tuser_id\ttext\tintent"));

  // 1. Products -> listings (all of them: WANDS is a closed corpus).
  absl::flat_hash_set<uint64_t> products;
  {
    Input in("product", dir + "/product.csv", '\t', &s, &o.progress, "wands products");
    MS_RETURN_IF_ERROR(in.Open({"product_id", "product_name"}));
    const int c_pid = in.Col("product_id"), c_name = in.Col("product_name"),
              c_class = in.Col("product_class"), c_desc = in.Col("product_description"),
              c_rating = in.Col("average_rating");
    absl::Status st;
    while (in.Next(&st)) {
      uint64_t pid = 0;
      const IdParse pp = ParseId(in.Get(c_pid), &pid);
      if (pp != IdParse::kOk || pid == UINT64_MAX) {
        in.Skip(pp == IdParse::kMissing ? "missing product_id" : "bad product_id");
        continue;
      }
      if (!products.insert(pid).second) {
        in.Skip("duplicate product_id", absl::StrCat(" ", pid));
        continue;
      }
      const std::string title = TruncateUtf8Bytes(SanitizeField(in.Get(c_name)), kMaxTitleBytes);
      if (title.empty()) {
        products.erase(pid);
        in.Skip("missing title", absl::StrCat(" (", pid, ")"));
        continue;
      }
      std::string category;
      for (absl::string_view part : absl::StrSplit(in.Get(c_class), '|')) {
        category = TruncateUtf8Bytes(SanitizeField(part), kMaxCategoryBytes);
        if (!category.empty()) break;
      }
      if (category.empty()) category = "unknown";
      const std::string desc = TruncateUtf8(SanitizeField(in.Get(c_desc)), o.max_description_chars);
      std::string rating;
      double r = 0;
      if (absl::SimpleAtod(absl::StripAsciiWhitespace(in.Get(c_rating)), &r) && std::isfinite(r)) {
        rating = absl::StrFormat("%.1f", std::min(5.0, std::max(0.0, r)));
      }
      const std::string sid = absl::StrCat(WandsListingId(pid));
      listings.Row({sid, title, desc, category, "", "", kPlaceholderPrice, kPlaceholderCondition,
                    "", rating, "", "", "", ""});
      ids.Row({sid, absl::StrCat(pid)});
    }
    MS_RETURN_IF_ERROR(st);
  }
  s.listings = listings.rows();

  // 2. Queries.
  std::vector<QueryInfo> queries;
  absl::flat_hash_map<uint64_t, size_t> query_index;
  {
    Input in("query", dir + "/query.csv", '\t', &s, &o.progress, "wands queries");
    MS_RETURN_IF_ERROR(in.Open({"query_id", "query"}));
    const int c_qid = in.Col("query_id"), c_query = in.Col("query"),
              c_class = in.Col("query_class");
    absl::Status st;
    while (in.Next(&st)) {
      uint64_t qid = 0;
      const IdParse qp = ParseId(in.Get(c_qid), &qid);
      if (qp != IdParse::kOk) {
        in.Skip(qp == IdParse::kMissing ? "missing query_id" : "bad query_id");
        continue;
      }
      if (query_index.contains(qid)) {
        in.Skip("duplicate query_id", absl::StrCat(" ", qid));
        continue;
      }
      QueryInfo q;
      q.id = qid;
      q.text = SanitizeField(in.Get(c_query));
      if (q.text.empty()) {
        in.Skip("missing query", absl::StrCat(" (", qid, ")"));
        continue;
      }
      q.split = WandsSplit(qid, o.valid_fraction, o.test_fraction);
      q.intent = "source=wands";
      const std::string cls = IntentValue(in.Get(c_class));
      if (!cls.empty()) absl::StrAppend(&q.intent, ";query_class=", cls);
      query_index.emplace(qid, queries.size());
      queries.push_back(std::move(q));
    }
    MS_RETURN_IF_ERROR(st);
  }

  // 3. Labels -> judgments.
  {
    Input in("label", dir + "/label.csv", '\t', &s, &o.progress, "wands labels");
    MS_RETURN_IF_ERROR(in.Open({"query_id", "product_id", "label"}));
    const int c_qid = in.Col("query_id"), c_pid = in.Col("product_id"), c_label = in.Col("label");
    absl::flat_hash_set<std::pair<uint64_t, uint64_t>> seen;
    absl::Status st;
    while (in.Next(&st)) {
      uint64_t qid = 0, pid = 0;
      const IdParse qp = ParseId(in.Get(c_qid), &qid);
      if (qp != IdParse::kOk) {
        in.Skip(qp == IdParse::kMissing ? "missing query_id" : "bad query_id");
        continue;
      }
      const IdParse pp = ParseId(in.Get(c_pid), &pid);
      if (pp != IdParse::kOk) {
        in.Skip(pp == IdParse::kMissing ? "missing product_id" : "bad product_id");
        continue;
      }
      const std::string raw = Lower(in.Get(c_label));
      const char* letter = raw == "exact" ? "E" : raw == "partial" ? "S" : raw == "irrelevant" ? "I" : nullptr;
      if (letter == nullptr) {
        in.Skip("unknown label", absl::StrCat(" '", in.Get(c_label), "'"));
        continue;
      }
      auto q = query_index.find(qid);
      if (q == query_index.end()) {
        in.Skip("unknown query", absl::StrCat(" ", qid));
        continue;
      }
      if (!products.contains(pid)) {
        in.Skip("unknown product", absl::StrCat(" ", pid));
        continue;
      }
      const uint64_t lid = WandsListingId(pid);
      if (!seen.insert({qid, lid}).second) {
        in.Skip("duplicate judgment", absl::StrCat(" (", qid, ", ", pid, ")"));
        continue;
      }
      judgments.Row({absl::StrCat(qid), absl::StrCat(lid), letter});
      ++queries[q->second].judgments;
      ++s.judgments;
      ++s.judgments_per_label[letter];
    }
    MS_RETURN_IF_ERROR(st);
  }

  WriteQueries(queries, &queries_out, &s);
  MS_RETURN_IF_ERROR(CloseAndCommit({&listings, &ids, &judgments, &queries_out}));
  s.seconds = SecondsSince(start);
  if (summary != nullptr) *summary = std::move(s);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Summary

std::string FormatLoadSummary(const LoadSummary& s) {
  auto count = [](const std::map<std::string, int64_t>& m, const char* key) -> int64_t {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
  };
  std::string out = absl::StrFormat("%s catalog written to %s in %.2f s\n", s.format, s.out_dir, s.seconds);
  absl::StrAppendFormat(&out, "  listings    %d  (price 1.00 and condition 'new' are placeholders)\n",
                        s.listings);
  absl::StrAppendFormat(&out, "  queries     %d  (train %d / valid %d / test %d)\n", s.queries,
                        count(s.queries_per_split, "train"), count(s.queries_per_split, "valid"),
                        count(s.queries_per_split, "test"));
  absl::StrAppendFormat(&out, "  judgments   %d  (E %d / S %d / C %d / I %d)\n", s.judgments,
                        count(s.judgments_per_label, "E"), count(s.judgments_per_label, "S"),
                        count(s.judgments_per_label, "C"), count(s.judgments_per_label, "I"));
  std::vector<std::string> read;
  for (const auto& [k, v] : s.rows_read) read.push_back(absl::StrCat(k, " ", v));
  absl::StrAppend(&out, "  rows read   ", read.empty() ? "none" : absl::StrJoin(read, ", "), "\n");
  if (!s.filtered.empty()) {
    absl::StrAppend(&out, "  filtered by options:\n");
    for (const auto& [k, v] : s.filtered) absl::StrAppendFormat(&out, "    %-40s %d\n", k, v);
  }
  absl::StrAppendFormat(&out, "  skipped     %d rows\n", s.TotalSkipped());
  for (const auto& [k, v] : s.skipped) absl::StrAppendFormat(&out, "    %-40s %d\n", k, v);
  if (!s.skip_examples.empty()) {
    absl::StrAppend(&out, "  first skipped rows:\n");
    for (size_t i = 0; i < s.skip_examples.size() && i < 5; ++i) {
      absl::StrAppend(&out, "    ", s.skip_examples[i], "\n");
    }
  }
  for (const auto& w : s.warnings) absl::StrAppend(&out, "  warning: ", w, "\n");
  absl::StrAppend(&out, "  files       listings.tsv queries.tsv judgments.tsv listing_ids.tsv\n");
  return out;
}

}  // namespace marketsearch
