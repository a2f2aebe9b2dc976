// index_inspect: loads an index version the way the server does (manifest, checksums,
// attribute table), prints what it holds and, with --self_check, runs searches through
// IndexSnapshot::Search (unfiltered and filtered) and checks their invariants. Exits 0 when
// the version loads and every check passes. Used by the index tests; handy by hand.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/versions.h"
#include "index/index_snapshot.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory; inspects <data_dir>/index/CURRENT");
ABSL_FLAG(std::string, dir, "", "inspect this version directory instead of CURRENT");
ABSL_FLAG(bool, self_check, false, "run searches and check their invariants");
ABSL_FLAG(int, queries, 20, "self-check queries per filter kind");

namespace marketsearch {
namespace {

absl::Status Fail(const std::string& what) { return absl::InternalError(what); }

absl::Status SelfCheck(const IndexSnapshot& snap) {
  const ListingAttributeTable* t = snap.attributes();
  if (t == nullptr) return Fail("no attribute table");
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> pick(0, snap.size() - 1);
  std::vector<float> q(snap.dim());
  // attributes.bin keeps category fingerprints, not names, so the filters here use a
  // listing's price (and condition): a window around it always has matches.
  int checked = 0;
  for (int i = 0; i < absl::GetFlag(FLAGS_queries); ++i) {
    const int64_t row = pick(rng);
    MS_RETURN_IF_ERROR(snap.Reconstruct(t->listing_id(row), q.data()));
    // Unfiltered: the listing's own vector should come back (near) first.
    MS_ASSIGN_OR_RETURN(std::vector<Neighbor> nn, snap.Search(q.data(), 10));
    if (nn.empty()) return Fail("unfiltered search returned nothing");
    // Filtered: a price window around this listing's price plus its condition.
    const ListingAttributes& a = t->row(row);
    SearchFilters f;
    f.mutable_price()->set_min(a.price * 0.9);
    f.mutable_price()->set_max(a.price * 1.1);
    if (i % 2 == 0) f.add_conditions(static_cast<Condition>(a.condition));
    ListingFilter filter(f);
    const int64_t matching = snap.CountMatches(filter);
    for (FilterMode mode : {FilterMode::kAuto, FilterMode::kAnn, FilterMode::kExact}) {
      SearchOptions o;
      o.filter = &filter;
      o.filter_mode = mode;
      MS_ASSIGN_OR_RETURN(std::vector<Neighbor> got, snap.Search(q.data(), 100, o));
      const int64_t want = std::min<int64_t>(100, matching);
      if (static_cast<int64_t>(got.size()) != want) {
        return Fail(absl::StrCat("filtered search returned ", got.size(), ", want ", want));
      }
      std::map<uint64_t, int64_t> row_of;
      for (const Neighbor& n : got) row_of[n.listing_id] = 0;
      int64_t seen = 0;
      for (int64_t r = 0; r < t->size() && seen < static_cast<int64_t>(row_of.size()); ++r) {
        auto it = row_of.find(t->listing_id(r));
        if (it == row_of.end()) continue;
        ++seen;
        if (!filter.Matches(t->row(r))) {
          return Fail(absl::StrCat("listing ", t->listing_id(r), " does not pass the filter"));
        }
      }
      if (seen != static_cast<int64_t>(got.size())) return Fail("duplicate or unknown ids");
    }
    ++checked;
  }
  std::printf("self-check: %d queries x 3 filter modes OK\n", checked);
  return absl::OkStatus();
}

absl::Status Run() {
  std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    const std::string root = absl::GetFlag(FLAGS_data_dir) + "/index";
    MS_ASSIGN_OR_RETURN(int64_t v, ReadCurrent(root));
    dir = VersionDir(root, v);
  }
  MS_ASSIGN_OR_RETURN(auto snap, IndexSnapshot::Load(dir));
  const IndexManifest& m = snap->manifest();
  std::printf("index %s: version %lld, factory '%s', %lld listings, dim %d, recall@100 %.4f, "
              "attributes %s, exact vectors %s, snapshot_unix_ms %lld\n",
              dir.c_str(), static_cast<long long>(m.version()), m.factory().c_str(),
              static_cast<long long>(snap->size()), snap->dim(), m.recall_at_100(),
              snap->has_attributes() ? "yes" : "no", snap->exact_vectors() ? "yes" : "no",
              static_cast<long long>(m.snapshot_unix_ms()));
  if (absl::GetFlag(FLAGS_self_check)) MS_RETURN_IF_ERROR(SelfCheck(*snap));
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Loads and verifies an index version (default: the one CURRENT names).\n"
      "Usage: index_inspect [--data_dir=var | --dir=var/index/3] [--self_check]");
  absl::ParseCommandLine(argc, argv);
  omp_set_num_threads(1);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "index_inspect: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
