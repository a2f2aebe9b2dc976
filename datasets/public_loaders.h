// Loaders that convert public product-search relevance datasets into our catalog files
// (listings.tsv, queries.tsv, judgments.tsv, plus listing_ids.tsv mapping our uint64
// listing ids back to the source's product ids), so the whole offline pipeline (ingest,
// export_training, build_index, evaluate_search) runs on real queries and real labels:
//
//   - Amazon ESCI Shopping Queries (examples + products, exported as comma-separated CSV),
//   - Wayfair WANDS (product.csv, query.csv, label.csv; tab-separated despite the name).
//
// datasets/README.md ("Public datasets") documents every mapping and placeholder. Output is
// deterministic: the same inputs and options give byte-identical files, and a product keeps
// its listing_id whatever else is in the input.
//
// Also here: CsvReader, a small RFC 4180 reader. It is written by hand because no C++ CSV
// library is packaged in Debian 12 for this project to depend on (and the formats need only
// quoting, doubled quotes, embedded line breaks and a configurable delimiter).
//
// Thread-compatible: no shared state; run one loader per output directory at a time.
#ifndef MARKETSEARCH_DATASETS_PUBLIC_LOADERS_H_
#define MARKETSEARCH_DATASETS_PUBLIC_LOADERS_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace marketsearch {

// ---------------------------------------------------------------------------------------
// CSV

// Streaming RFC 4180 reader: fields separated by `delimiter`, records by LF, CRLF or a lone
// CR; a field that starts with a double quote is quoted and may contain delimiters, line
// breaks and doubled quotes (""). Leniencies, matching what Python's csv/pandas accept:
// a quote inside an unquoted field is literal, and characters after a closing quote are
// appended to the field. A UTF-8 byte order mark at the start of the input is dropped;
// blank lines are skipped. Bytes are returned as they are (no UTF-8 checking here).
class CsvReader {
 public:
  struct Options {
    char delimiter = ',';
    char quote = '"';
    // A record longer than this is an error (a stray quote would otherwise swallow the
    // rest of a multi-gigabyte file into one field).
    size_t max_record_bytes = 64 << 20;
  };
  enum class Result { kOk, kEnd, kError };

  explicit CsvReader(Options options);
  CsvReader() : CsvReader(Options()) {}
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads from the file at `path` (NotFound if it cannot be opened).
  absl::Status Open(const std::string& path);
  // Reads from `text` (copied).
  void OpenString(absl::string_view text);

  // kOk: `fields` holds the next record. kEnd: no more records. kError: `error` says why
  // (unterminated quoted field, record too long, read error); the reader is then at its end.
  Result Next(std::vector<std::string>* fields, std::string* error);

  // 1-based line on which the record last returned by Next() starts.
  int64_t record_line() const { return record_line_; }
  // Bytes consumed so far and the file size (0 for OpenString or when unknown): progress.
  int64_t bytes_read() const { return bytes_before_buf_ + static_cast<int64_t>(pos_); }
  int64_t size_bytes() const { return size_bytes_; }

 private:
  int Get();   // next byte or -1 at end
  int Peek();  // next byte without consuming it, or -1
  bool Fill();

  Options options_;
  std::FILE* file_ = nullptr;
  std::string buf_;
  size_t pos_ = 0;
  int64_t bytes_before_buf_ = 0;
  int64_t size_bytes_ = 0;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
  bool at_start_ = true;
  bool done_ = false;
  bool read_error_ = false;
};

// Parses a whole CSV text into records (convenience for small inputs and tests).
absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(absl::string_view text,
                                                               char delimiter = ',');

// ---------------------------------------------------------------------------------------
// Shared output rules

// What every text field goes through before it is written: invalid UTF-8 bytes are dropped;
// tabs, line breaks, other control characters (C0, DEL, C1) and the Unicode line/paragraph
// separators U+2028/U+2029 become spaces; runs of spaces collapse to one; the ends are trimmed.
std::string SanitizeField(absl::string_view text);

// Cuts `text` (valid UTF-8) to at most `max_chars` code points, then trims trailing spaces.
std::string TruncateUtf8(const std::string& text, size_t max_chars);
// The same, to at most `max_bytes` bytes of whole code points: how the loaders keep titles,
// brands and categories within the listing limits (features/listing_tsv.h) instead of
// losing a product whose title is long.
std::string TruncateUtf8Bytes(const std::string& text, size_t max_bytes);

// Listing id of an ESCI product: the 64-bit FNV-1a hash of the ASIN (as written in the
// source, surrounding spaces removed) with the top bit cleared; 0 maps to 1. Stable across
// runs, locales and filters; in [1, 2^63 - 1].
uint64_t EsciListingId(absl::string_view asin);
// Listing id of a WANDS product: product_id + 1 (WANDS ids start at 0).
inline uint64_t WandsListingId(uint64_t product_id) { return product_id + 1; }

// Split of an ESCI query: ESCI "test" stays "test"; of ESCI "train", the queries whose
// hashed query_id falls below `valid_fraction` become "valid", the rest "train".
std::string EsciSplit(uint64_t query_id, const std::string& esci_split, double valid_fraction);
// Split of a WANDS query by hashed query_id: "valid" with probability valid_fraction,
// "test" with test_fraction, otherwise "train".
std::string WandsSplit(uint64_t query_id, double valid_fraction, double test_fraction);

// ---------------------------------------------------------------------------------------
// Loaders

// One progress report of a loader stage (one input file being read).
struct LoadProgress {
  std::string stage;        // e.g. "esci examples", "esci products", "wands labels"
  int64_t done_bytes = 0;
  int64_t total_bytes = 0;  // 0 when unknown
  int64_t rows = 0;         // data rows read so far in this stage
  bool finished = false;    // last report of the stage
};
using LoadProgressFn = std::function<void(const LoadProgress&)>;

struct EsciOptions {
  // Required. The examples file (example_id,query,query_id,product_id,product_locale,
  // esci_label,small_version,large_version,split) and the products file (product_id,
  // product_locale,product_title,product_description,product_bullet_point,product_brand,
  // product_color), as CSV with a header line; columns are found by name, extra columns
  // (such as a pandas index) are ignored.
  std::string examples_path;
  std::string products_path;
  // Keep only examples and products of this locale ("us", "es", "jp"; case-insensitive).
  std::string locale = "us";
  // Keep only examples with small_version == 1 (the reduced task 1 set).
  bool small_version_only = true;
  // Share of ESCI train queries moved to our "valid" split (by hashed query_id).
  double valid_fraction = 0.10;
  // false: listings are the products some kept example refers to. true: every product of
  // the locale (a bigger, harder retrieval corpus).
  bool include_unjudged_products = false;
  // Descriptions are cut to this many code points.
  size_t max_description_chars = 500;
  // Optional; called about every 64k rows per input file and once when each file is done.
  LoadProgressFn progress;
};

struct WandsOptions {
  // Required. Directory holding product.csv, query.csv and label.csv (tab-separated with a
  // header line). A WANDS checkout also works: <dir>/dataset/ is used when <dir> itself
  // lacks product.csv.
  std::string dir;
  // Query splits by hashed query_id (train gets the rest: 70 % at the defaults).
  double valid_fraction = 0.15;
  double test_fraction = 0.15;
  size_t max_description_chars = 500;
  LoadProgressFn progress;
};

// Counts of one load. Map keys are "<input>: <reason>" with these reasons:
//   skipped (source rows that are unusable):
//     "examples|products|query|product|label: wrong field count"
//     "examples: missing query_id" / "bad query_id" / "missing query" / "missing product_id" /
//       "unknown esci_label" / "unknown split" / "unknown product" / "duplicate judgment"
//     "products: missing product_id" / "missing title" / "duplicate product_id" /
//       "listing_id hash collision" (two ASINs with one hash: the later one is skipped)
//     "query: missing query_id" / "bad query_id" / "missing query" / "duplicate query_id"
//     "product: missing product_id" / "bad product_id" / "missing title" /
//       "duplicate product_id"
//     "label: missing query_id" / "bad query_id" / "missing product_id" / "bad product_id" /
//       "unknown label" / "unknown query" / "unknown product" / "duplicate judgment"
//     "queries: no judgment left" (a query whose every judgment was skipped is not written)
//   filtered (rows dropped on purpose by an option):
//     "examples: other locale", "examples: not in small version",
//     "products: other locale", "products: not judged"
struct LoadSummary {
  std::string format;  // "esci" | "wands"
  std::string out_dir;
  int64_t listings = 0;
  int64_t queries = 0;
  std::map<std::string, int64_t> queries_per_split;    // "train", "valid", "test"
  int64_t judgments = 0;
  std::map<std::string, int64_t> judgments_per_label;  // "E", "S", "C", "I"
  std::map<std::string, int64_t> rows_read;            // input name -> data rows
  std::map<std::string, int64_t> skipped;
  std::map<std::string, int64_t> filtered;
  // The first few skipped rows as "<file>:<line>: <reason>", for finding them in the source.
  std::vector<std::string> skip_examples;
  // Things worth a look that do not stop the load (e.g. stale files in out_dir).
  std::vector<std::string> warnings;
  double seconds = 0;

  int64_t TotalSkipped() const;
};

// Each loader writes listings.tsv, queries.tsv, judgments.tsv and listing_ids.tsv into
// `out_dir` (created with its parents) under temporary names, renamed into place only when
// all four are complete, so a failed load leaves earlier files untouched. Bad rows are
// skipped and counted in `summary` (may be null), never fatal; an error status means an
// input could not be opened, lacks a required column, or is malformed beyond one row
// (unterminated quote), or an output could not be written. users.tsv is not written
// (public datasets have no users; queries get user_id 0 = anonymous).
absl::Status LoadEsci(const EsciOptions& options, const std::string& out_dir,
                      LoadSummary* summary);
absl::Status LoadWands(const WandsOptions& options, const std::string& out_dir,
                       LoadSummary* summary);

// The one-screen text summary printed by the load_public_dataset tool.
std::string FormatLoadSummary(const LoadSummary& summary);

}  // namespace marketsearch

#endif  // MARKETSEARCH_DATASETS_PUBLIC_LOADERS_H_
