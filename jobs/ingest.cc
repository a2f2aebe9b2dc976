// ingest: validates the catalog files and writes listings and users into the RocksDB
// feature store in batches. Bad rows are reported with line numbers and skipped; with
// --strict any bad row fails the run before anything is written.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/progress.h"
#include "datasets/catalog_reader.h"
#include "features/feature_store.h"
#include "features/featurizer.h"
#include "features/listing_tsv.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (catalog/ in, store/ out)");
ABSL_FLAG(std::string, listings, "", "listings file (default <data_dir>/catalog/listings.tsv)");
ABSL_FLAG(std::string, users, "", "users file (default <data_dir>/catalog/users.tsv; skipped if missing)");
ABSL_FLAG(std::string, store, "", "feature store directory (default <data_dir>/store)");
ABSL_FLAG(int, batch_size, 1000, "listings per atomic write batch");
ABSL_FLAG(bool, strict, false, "fail on the first bad row, writing nothing");
ABSL_FLAG(int, show_bad_rows, 20, "how many bad rows to print");
ABSL_FLAG(std::string, ack_log, "",
          "if set, after every durable batch the number of listings written so far is "
          "appended to this file (a listing counted there survives a crash)");

namespace marketsearch {
namespace {

struct BadRows {
  int64_t count = 0;
  int shown = 0;
  void Report(const std::string& file, int64_t line, const std::string& why) {
    ++count;
    if (shown < absl::GetFlag(FLAGS_show_bad_rows)) {
      std::fprintf(stderr, "bad row %s:%lld: %s\n", file.c_str(), static_cast<long long>(line),
                   why.c_str());
      ++shown;
    }
  }
};

// Counts rows and checks every one without writing (the --strict pre-pass).
absl::StatusOr<int64_t> Validate(const std::string& path, BadRows* bad) {
  ListingTsvReader reader;
  if (auto s = reader.Open(path); !s.ok()) return s;
  absl::flat_hash_set<uint64_t> seen;
  Listing l;
  std::string err;
  int64_t ok = 0;
  for (;;) {
    auto r = reader.Next(&l, &err);
    if (r == ListingTsvReader::Result::kEnd) break;
    if (r == ListingTsvReader::Result::kBadRow) {
      bad->Report(path, reader.line_number(), err);
    } else if (!seen.insert(l.listing_id()).second) {
      bad->Report(path, reader.line_number(), absl::StrCat("duplicate listing_id ", l.listing_id()));
    } else {
      ++ok;
    }
  }
  return ok;
}

int64_t CountLines(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  int64_t n = 0;
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) {
    for (size_t i = 0; i < got; ++i) n += buf[i] == '\n';
  }
  std::fclose(f);
  return n > 0 ? n - 1 : 0;
}

absl::Status IngestUsers(const std::string& path, FeatureStore* store, int64_t* count) {
  auto rows = ReadTsv(path, {"user_id", "city", "lat", "lon", "preferred_categories", "typical_price"});
  if (!rows.ok()) return rows.status();
  std::vector<User> users;
  for (const TsvRow& r : *rows) {
    User u;
    uint64_t id;
    double lat = 0, lon = 0, price = 0;
    if (!absl::SimpleAtoi(r[0], &id) || id == 0) continue;
    u.set_user_id(id);
    u.set_city(r[1]);
    if (absl::SimpleAtod(r[2], &lat) && absl::SimpleAtod(r[3], &lon)) {
      u.mutable_location()->set_lat(lat);
      u.mutable_location()->set_lon(lon);
    }
    for (absl::string_view c : absl::StrSplit(r[4], ';', absl::SkipEmpty())) {
      u.add_preferred_categories(std::string(c));
    }
    if (absl::SimpleAtod(r[5], &price)) u.set_typical_price(price);
    u.set_featurizer_version(kFeaturizerVersion);
    users.push_back(std::move(u));
  }
  *count = static_cast<int64_t>(users.size());
  for (size_t i = 0; i < users.size(); i += 5000) {
    size_t n = std::min<size_t>(5000, users.size() - i);
    if (auto s = store->PutUsers(absl::MakeConstSpan(users).subspan(i, n)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

int Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  std::string listings_path = absl::GetFlag(FLAGS_listings);
  if (listings_path.empty()) listings_path = data_dir + "/catalog/listings.tsv";
  std::string users_path = absl::GetFlag(FLAGS_users);
  if (users_path.empty()) users_path = data_dir + "/catalog/users.tsv";
  std::string store_path = absl::GetFlag(FLAGS_store);
  if (store_path.empty()) store_path = data_dir + "/store";
  const int batch_size = std::max(1, absl::GetFlag(FLAGS_batch_size));

  const int64_t total = CountLines(listings_path);
  if (absl::GetFlag(FLAGS_strict)) {
    BadRows bad;
    auto ok = Validate(listings_path, &bad);
    if (!ok.ok()) {
      std::fprintf(stderr, "ingest: %s\n", std::string(ok.status().message()).c_str());
      return 2;
    }
    if (bad.count > 0) {
      std::fprintf(stderr, "ingest --strict: %lld bad rows in %s; nothing written\n",
                   static_cast<long long>(bad.count), listings_path.c_str());
      return 1;
    }
  }

  FeatureStore::Options opts;
  opts.path = store_path;
  auto store = FeatureStore::Open(opts);
  if (!store.ok()) {
    std::fprintf(stderr, "ingest: %s\n", std::string(store.status().message()).c_str());
    return 2;
  }
  ListingTsvReader reader;
  if (auto s = reader.Open(listings_path); !s.ok()) {
    std::fprintf(stderr, "ingest: %s\n", std::string(s.message()).c_str());
    return 2;
  }

  Progress progress("ingest listings", total);
  BadRows bad;
  absl::flat_hash_set<uint64_t> seen;
  std::vector<Listing> batch;
  batch.reserve(batch_size);
  int64_t written = 0, rows = 0;
  Listing l;
  std::string err;
  FILE* ack = nullptr;
  if (!absl::GetFlag(FLAGS_ack_log).empty()) {
    ack = std::fopen(absl::GetFlag(FLAGS_ack_log).c_str(), "a");
    if (!ack) {
      std::fprintf(stderr, "ingest: cannot open --ack_log\n");
      return 2;
    }
  }
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    auto s = (*store)->PutListings(batch);  // returns after the WAL is fsynced
    if (s.ok()) {
      written += static_cast<int64_t>(batch.size());
      if (ack) {
        std::fprintf(ack, "%lld\n", static_cast<long long>(written));
        std::fflush(ack);
      }
    }
    batch.clear();
    return s;
  };
  for (;;) {
    auto r = reader.Next(&l, &err);
    if (r == ListingTsvReader::Result::kEnd) break;
    ++rows;
    if (r == ListingTsvReader::Result::kBadRow) {
      bad.Report(listings_path, reader.line_number(), err);
      continue;
    }
    if (!seen.insert(l.listing_id()).second) {
      bad.Report(listings_path, reader.line_number(),
                 absl::StrCat("duplicate listing_id ", l.listing_id()));
      continue;
    }
    batch.push_back(l);
    if (static_cast<int>(batch.size()) == batch_size) {
      if (auto s = flush(); !s.ok()) {
        std::fprintf(stderr, "ingest: write failed: %s\n", std::string(s.message()).c_str());
        return 3;
      }
    }
    progress.Update(rows);
  }
  if (auto s = flush(); !s.ok()) {
    std::fprintf(stderr, "ingest: write failed: %s\n", std::string(s.message()).c_str());
    return 3;
  }
  progress.Update(rows);
  const double secs = progress.Finish();
  if (ack) std::fclose(ack);

  // Catalog statistics over everything now in the store (earlier ingests included):
  // category price medians and the newest listing time.
  absl::flat_hash_map<std::string, std::vector<double>> prices;
  int64_t newest = 0;
  absl::Status scanned = (*store)->ScanListings([&](const Listing& x) {
    prices[x.category()].push_back(x.price());
    newest = std::max(newest, x.listed_at_unix());
    return true;
  });
  if (!scanned.ok()) {
    std::fprintf(stderr, "ingest: %s\n", std::string(scanned.message()).c_str());
    return 3;
  }
  CatalogStats stats;
  for (auto& [category, p] : prices) {
    std::nth_element(p.begin(), p.begin() + p.size() / 2, p.end());
    (*stats.mutable_category_median_price())[category] = p[p.size() / 2];
  }
  stats.set_reference_unix(newest);
  int64_t in_store = 0;
  for (const auto& [category, p] : prices) in_store += static_cast<int64_t>(p.size());
  stats.set_listings(in_store);
  stats.set_featurizer_version(kFeaturizerVersion);
  if (auto s = (*store)->PutCatalogStats(stats); !s.ok()) {
    std::fprintf(stderr, "ingest: writing catalog stats failed: %s\n", std::string(s.message()).c_str());
    return 3;
  }

  int64_t users = 0;
  std::string users_note = "skipped (no file)";
  FILE* uf = std::fopen(users_path.c_str(), "r");
  if (uf) {
    std::fclose(uf);
    if (auto s = IngestUsers(users_path, store->get(), &users); !s.ok()) {
      std::fprintf(stderr, "ingest: users: %s\n", std::string(s.message()).c_str());
      return 3;
    }
    users_note = absl::StrCat(users, " written");
  }

  std::printf("ingest summary\n");
  std::printf("  listings file     %s\n", listings_path.c_str());
  std::printf("  rows read         %lld\n", static_cast<long long>(rows));
  std::printf("  listings written  %lld\n", static_cast<long long>(written));
  std::printf("  bad rows          %lld%s\n", static_cast<long long>(bad.count),
              bad.count > bad.shown ? " (first ones shown above)" : "");
  std::printf("  users             %s\n", users_note.c_str());
  std::printf("  categories        %d (median prices stored for the featurizer)\n",
              stats.category_median_price_size());
  std::printf("  throughput        %.0f listings/s (%.1f s)\n", secs > 0 ? written / secs : 0, secs);
  std::printf("  store             %s (featurizer v%u)\n", store_path.c_str(), kFeaturizerVersion);
  return 0;
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Validates <data_dir>/catalog/listings.tsv (and users.tsv) and writes them into the "
      "RocksDB feature store.\nUsage: ingest [--data_dir=var] [--strict]");
  absl::ParseCommandLine(argc, argv);
  return marketsearch::Run();
}
