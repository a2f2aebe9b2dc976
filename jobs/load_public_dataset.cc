// load_public_dataset: converts a public relevance dataset (Amazon ESCI Shopping Queries or
// Wayfair WANDS) into our catalog files (listings.tsv, queries.tsv, judgments.tsv,
// listing_ids.tsv) in --out_dir. See datasets/README.md, "Public datasets".
//
//   load_public_dataset --format=esci --examples=shopping_queries_dataset_examples.csv
//       --products=shopping_queries_dataset_products.csv --out_dir=var/catalog
//   load_public_dataset --format=wands --wands_dir=WANDS/dataset --out_dir=var/catalog
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/progress.h"
#include "datasets/public_loaders.h"

ABSL_FLAG(std::string, format, "", "Input format: esci | wands.");
ABSL_FLAG(std::string, examples, "", "esci: the examples CSV (query, query_id, product_id, esci_label, ...).");
ABSL_FLAG(std::string, products, "", "esci: the products CSV (product_id, product_title, ...).");
ABSL_FLAG(std::string, locale, "us", "esci: keep examples and products of this locale (us, es, jp).");
ABSL_FLAG(bool, small_version_only, true, "esci: keep only examples with small_version == 1.");
ABSL_FLAG(double, esci_valid_fraction, 0.10,
          "esci: share of ESCI train queries moved to the valid split (by hashed query_id).");
ABSL_FLAG(bool, include_unjudged_products, false,
          "esci: also write products of the locale that no kept example refers to.");
ABSL_FLAG(std::string, wands_dir, "", "wands: directory with product.csv, query.csv, label.csv.");
ABSL_FLAG(double, wands_valid_fraction, 0.15, "wands: share of queries in the valid split.");
ABSL_FLAG(double, wands_test_fraction, 0.15, "wands: share of queries in the test split.");
ABSL_FLAG(int, max_description_chars, 500, "Descriptions are cut to this many characters.");
ABSL_FLAG(std::string, out_dir, "var/catalog", "Output directory (created if missing).");

namespace {

// Progress bar per input file, in MB read (rows/s would need the row count up front);
// rows when the size is unknown (a pipe). Files under 4 MB load too fast to need one.
marketsearch::LoadProgressFn MakeProgress(std::unique_ptr<marketsearch::Progress>* bar,
                                          std::string* stage) {
  return [bar, stage](const marketsearch::LoadProgress& p) {
    const bool by_size = p.total_bytes > 0;
    if (by_size && p.total_bytes < (4 << 20)) return;
    if (*bar == nullptr || p.stage != *stage) {
      *stage = p.stage;
      *bar = std::make_unique<marketsearch::Progress>(p.stage + (by_size ? " (MB)" : " (rows)"),
                                                      by_size ? p.total_bytes >> 20 : 0);
    }
    (*bar)->Update(by_size ? p.done_bytes >> 20 : p.rows);
    if (p.finished) {
      (*bar)->Finish();
      bar->reset();
    }
  };
}

int Usage(const char* msg) {
  std::fprintf(stderr, "load_public_dataset: %s (see --help)\n", msg);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Converts a public relevance dataset into catalog files (listings.tsv, queries.tsv,\n"
      "judgments.tsv, listing_ids.tsv) in --out_dir. Progress goes to stderr, a summary to stdout.\n"
      "  load_public_dataset --format=esci --examples=EXAMPLES.csv --products=PRODUCTS.csv "
      "[--locale=us]\n"
      "  load_public_dataset --format=wands --wands_dir=WANDS/dataset");
  absl::ParseCommandLine(argc, argv);

  const std::string format = absl::GetFlag(FLAGS_format);
  const std::string out_dir = absl::GetFlag(FLAGS_out_dir);
  const int max_desc = absl::GetFlag(FLAGS_max_description_chars);
  if (max_desc < 0) return Usage("--max_description_chars must be >= 0");
  std::unique_ptr<marketsearch::Progress> bar;
  std::string stage;
  marketsearch::LoadSummary summary;
  absl::Status st;
  if (format == "esci") {
    marketsearch::EsciOptions o;
    o.examples_path = absl::GetFlag(FLAGS_examples);
    o.products_path = absl::GetFlag(FLAGS_products);
    if (o.examples_path.empty() || o.products_path.empty()) {
      return Usage("--format=esci needs --examples and --products");
    }
    o.locale = absl::GetFlag(FLAGS_locale);
    o.small_version_only = absl::GetFlag(FLAGS_small_version_only);
    o.valid_fraction = absl::GetFlag(FLAGS_esci_valid_fraction);
    o.include_unjudged_products = absl::GetFlag(FLAGS_include_unjudged_products);
    o.max_description_chars = static_cast<size_t>(max_desc);
    o.progress = MakeProgress(&bar, &stage);
    st = marketsearch::LoadEsci(o, out_dir, &summary);
  } else if (format == "wands") {
    marketsearch::WandsOptions o;
    o.dir = absl::GetFlag(FLAGS_wands_dir);
    if (o.dir.empty()) return Usage("--format=wands needs --wands_dir");
    o.valid_fraction = absl::GetFlag(FLAGS_wands_valid_fraction);
    o.test_fraction = absl::GetFlag(FLAGS_wands_test_fraction);
    o.max_description_chars = static_cast<size_t>(max_desc);
    o.progress = MakeProgress(&bar, &stage);
    st = marketsearch::LoadWands(o, out_dir, &summary);
  } else {
    return Usage("--format must be esci or wands");
  }
  if (!st.ok()) {
    std::fprintf(stderr, "load_public_dataset: %s\n", st.ToString().c_str());
    return 1;
  }
  std::fputs(marketsearch::FormatLoadSummary(summary).c_str(), stdout);
  return 0;
}
