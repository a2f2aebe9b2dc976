// build_lexical: the offline build of the lexical (Xapian BM25) index. Scans every listing of
// the feature store (read-only, id order), writes a Xapian database into a staging directory
// under <data_dir>/lexical/, adds a MANIFEST, publishes it as <data_dir>/lexical/<v>/ and then
// switches <data_dir>/lexical/CURRENT, atomically (index/publish.h). The store snapshot time
// goes into the database (LexicalIndex::snapshot_unix_ms) and the MANIFEST: the server drops
// the lexical delta entries written before it when it swaps this version in.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/progress.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "common/versions.h"
#include "features/feature_store.h"
#include "index/lexical_index.h"
#include "index/lexical_manifest.h"
#include "index/lexical_writer.h"
#include "index/publish.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (store/ in; lexical/ out)");
ABSL_FLAG(bool, description, true,
          "also index listing descriptions; --nodescription makes the index a third smaller but "
          "costs NDCG@10 0.727 -> 0.645 on the demo data (see jobs/lexical_eval)");
ABSL_FLAG(bool, publish, true, "switch lexical/CURRENT to the new version");

namespace marketsearch {
namespace {

int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += static_cast<int64_t>(e.file_size(ec));
  }
  return total;
}

absl::Status Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const auto t_start = std::chrono::steady_clock::now();

  // The store snapshot time, taken before the (read-only) open that fixes the snapshot, as in
  // build_index: every write acknowledged before this instant is in the scan below.
  const int64_t snapshot_unix_ms = NowUnixMs();
  FeatureStore::Options so;
  so.path = data_dir + "/store";
  so.read_only = true;
  if (!PathExists(so.path)) {
    return absl::NotFoundError(absl::StrCat(so.path, " does not exist (run ingest first)"));
  }
  MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));

  const std::string root = data_dir + "/lexical";
  const int64_t version = NextVersion(root);
  MS_ASSIGN_OR_RETURN(std::string staging, MakeStagingDir(root, version));
  // Leaves no half-built staging directory behind on failure.
  struct Cleanup {
    std::string dir;
    bool armed = true;
    ~Cleanup() {
      if (!armed) return;
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{staging};

  LexicalIndexWriter::Options wo;
  wo.path = staging;
  wo.index_description = absl::GetFlag(FLAGS_description);
  wo.overwrite = true;
  MS_ASSIGN_OR_RETURN(auto writer, LexicalIndexWriter::Open(wo));
  std::printf("build_lexical: %s -> %s/%lld (fields: title, brand, category, attributes%s)\n",
              so.path.c_str(), root.c_str(), static_cast<long long>(version),
              wo.index_description ? ", description" : "");

  Progress progress("index listings", store->EstimateListingCount());
  int64_t count = 0;
  // A listing that cannot be indexed is reported, counted and left out: one stored record
  // must not stop every future build (and with it every index publish).
  int64_t skipped = 0;
  MS_RETURN_IF_ERROR(store->ScanListings([&](const Listing& l) {
    if (absl::Status s = writer->Add(l); !s.ok()) {
      ++skipped;
      std::fprintf(stderr, "build_lexical: skipped listing %llu: %.200s\n",
                   static_cast<unsigned long long>(l.listing_id()), std::string(s.message()).c_str());
      return true;
    }
    progress.Update(++count);
    return true;
  }));
  const double index_s = progress.Finish();
  if (count == 0) return absl::FailedPreconditionError("no listings in the feature store");

  const auto t_commit = std::chrono::steady_clock::now();
  MS_RETURN_IF_ERROR(writer->SetSnapshotUnixMs(snapshot_unix_ms));
  MS_RETURN_IF_ERROR(writer->Commit());
  writer.reset();  // closes the database: releases its write lock before the rename
  const double commit_s = SecondsSince(t_commit);

  // Sanity check before publishing: the staged database opens and holds every listing.
  {
    MS_ASSIGN_OR_RETURN(auto check, LexicalIndex::Open(staging));
    if (check->num_docs() != count) {
      return absl::InternalError(absl::StrCat("staged lexical index holds ", check->num_docs(),
                                              " documents, scanned ", count));
    }
  }
  const int64_t bytes = DirBytes(staging);
  const double build_s = SecondsSince(t_start);
  // A sha256 per database file first (index/lexical_manifest.h): the server refuses a
  // truncated or bit-flipped version instead of serving from it.
  MS_ASSIGN_OR_RETURN(const std::string checksums, LexicalChecksumLines(staging));
  const std::string manifest =
      absl::StrCat(checksums, "version: ", version, "\nlisting_count: ", count,
                   "\nbuild_seconds: ", absl::StrFormat("%.3f", build_s),
                   "\nsnapshot_unix_ms: ", snapshot_unix_ms, "\nskipped_listings: ", skipped,
                   "\nfields: title,brand,category,attributes",
                   wo.index_description ? ",description" : "", wo.combined_field ? ",combined" : "",
                   "\nbackend: xapian-glass\n");
  MS_RETURN_IF_ERROR(WriteFileAtomically(staging + "/MANIFEST", manifest));
  MS_RETURN_IF_ERROR(VerifyLexicalVersion(staging));  // what the server will check, read back
  // An I/O error after the rename withdraws the new directory again unless CURRENT names it
  // (index/publish.h): a failed run adds no version.
  if (absl::Status s = PublishVersion(staging, root, version); !s.ok()) {
    WithdrawUnservedVersion(root, version);
    return s;
  }
  cleanup.armed = false;
  const bool publish = absl::GetFlag(FLAGS_publish);
  if (publish) {
    if (absl::Status s = WriteCurrent(root, version); !s.ok()) {
      WithdrawUnservedVersion(root, version);
      return s;
    }
  }

  std::printf("build_lexical summary\n");
  std::printf("  listings indexed   %lld\n", static_cast<long long>(count));
  std::printf("  listings skipped   %lld (not indexable; see the lines above)\n", static_cast<long long>(skipped));
  std::printf("  indexing           %.1f s (%.0f listings/s)\n", index_s,
              count / std::max(1e-9, index_s));
  std::printf("  commit             %.1f s\n", commit_s);
  std::printf("  database size      %.1f MB\n", bytes / 1e6);
  std::printf("  published          %s/%lld%s\n", root.c_str(), static_cast<long long>(version),
              publish ? " (CURRENT)" : " (CURRENT unchanged)");
  std::printf("  total              %.1f s\n", build_s);
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Builds the lexical (Xapian BM25) index from every listing in the feature store and "
      "publishes it as <data_dir>/lexical/<v>/ (+ CURRENT).\n"
      "Usage: build_lexical [--data_dir=var] [--nodescription] [--nopublish]");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "build_lexical: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
