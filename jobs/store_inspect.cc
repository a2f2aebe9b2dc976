// store_inspect: reads the feature store (read-only) — counts, catalog stats, listings by
// id, and the write log. For operators and for tests that check what survived a crash.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "features/feature_store.h"
#include "google/protobuf/text_format.h"

ABSL_FLAG(std::string, store, "var/store", "feature store directory");
ABSL_FLAG(std::string, get, "", "comma-separated listing ids to print");
ABSL_FLAG(bool, count, true, "count listings with a full scan");
ABSL_FLAG(bool, stats, false, "print the catalog statistics");
ABSL_FLAG(bool, write_log, false,
          "print the write log (write_unix_ms listing_id upsert|delete), oldest first");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Reads the feature store read-only.\nUsage: store_inspect --store=var/store [--get=1,2] [--stats]");
  absl::ParseCommandLine(argc, argv);
  using namespace marketsearch;
  FeatureStore::Options o;
  o.path = absl::GetFlag(FLAGS_store);
  o.read_only = true;
  auto store = FeatureStore::Open(o);
  if (!store.ok()) {
    std::fprintf(stderr, "store_inspect: %s\n", std::string(store.status().message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_count)) {
    int64_t n = 0;
    uint64_t max_id = 0;
    auto s = (*store)->ScanListings([&](const Listing& l) {
      ++n;
      max_id = std::max<uint64_t>(max_id, l.listing_id());
      return true;
    });
    if (!s.ok()) {
      std::fprintf(stderr, "store_inspect: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    std::printf("listings %lld\nmax_listing_id %llu\n", static_cast<long long>(n),
                static_cast<unsigned long long>(max_id));
  }
  if (absl::GetFlag(FLAGS_stats)) {
    auto stats = (*store)->GetCatalogStats();
    if (!stats.ok()) {
      std::fprintf(stderr, "store_inspect: %s\n", std::string(stats.status().message()).c_str());
      return 1;
    }
    std::string text;
    google::protobuf::TextFormat::PrintToString(*stats, &text);
    std::printf("%s", text.c_str());
  }
  if (absl::GetFlag(FLAGS_write_log)) {
    auto s = (*store)->ScanWriteLog(0, [](const FeatureStore::LoggedWrite& w) {
      std::printf("%lld %llu %s\n", static_cast<long long>(w.write_unix_ms),
                  static_cast<unsigned long long>(w.listing_id), w.deleted ? "delete" : "upsert");
      return true;
    });
    if (!s.ok()) {
      std::fprintf(stderr, "store_inspect: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::vector<uint64_t> ids;
  for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_get), ',', absl::SkipEmpty())) {
    uint64_t id;
    if (!absl::SimpleAtoi(s, &id)) {
      std::fprintf(stderr, "store_inspect: bad id '%s'\n", std::string(s).c_str());
      return 2;
    }
    ids.push_back(id);
  }
  if (!ids.empty()) {
    auto got = (*store)->GetListings(ids);
    if (!got.ok()) return 1;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!(*got)[i]) {
        std::printf("%llu: not found\n", static_cast<unsigned long long>(ids[i]));
        continue;
      }
      std::string text;
      google::protobuf::TextFormat::PrintToString(*(*got)[i], &text);
      std::printf("%llu:\n%s\n", static_cast<unsigned long long>(ids[i]), text.c_str());
    }
  }
  return 0;
}
