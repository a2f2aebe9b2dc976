#include "index/index_snapshot.h"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/file_util.h"
#include "gtest/gtest.h"
#include "index/index_writer.h"
#include "index/synthetic_listings.h"

namespace marketsearch {
namespace {

std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = std::string(t ? t : "/tmp") + "/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

const SyntheticListings& Data() {
  static const SyntheticListings* d = [] {
    // One OpenMP thread, as in serving; also keeps FAISS's spinning thread pool from
    // fighting other jobs on a loaded 2-core machine.
    omp_set_num_threads(1);
    SyntheticOptions o;
    o.listings = 20000;
    o.clusters = 100;
    return new SyntheticListings(MakeSyntheticListings(o));
  }();
  return *d;
}

std::shared_ptr<const IndexSnapshot> BuildUncached(const std::string& factory, bool attributes,
                                                   IndexBuildOptions bo) {
  const SyntheticListings& d = Data();
  auto index = BuildFaissIndex(factory, d.dim, d.vectors.data(), d.ids, bo);
  EXPECT_TRUE(index.ok()) << index.status();
  IndexManifest m;
  m.set_version(1);
  m.set_dim(d.dim);
  m.set_factory(factory);
  m.set_hnsw_ef_search(bo.ef_search);
  auto snap = IndexSnapshot::Create(
      *std::move(index), m,
      attributes ? std::make_unique<ListingAttributeTable>(d.Table()) : nullptr);
  EXPECT_TRUE(snap.ok()) << snap.status();
  return *snap;
}

// Snapshots are immutable: tests share one per (factory, attributes, nprobe).
std::shared_ptr<const IndexSnapshot> Build(const std::string& factory, bool attributes = true,
                                           IndexBuildOptions bo = IndexBuildOptions()) {
  static auto* cache = new std::map<std::string, std::shared_ptr<const IndexSnapshot>>();
  const std::string key = factory + (attributes ? "+a" : "") + std::to_string(bo.nprobe);
  auto& slot = (*cache)[key];
  if (slot == nullptr) slot = BuildUncached(factory, attributes, bo);
  return slot;
}

// Exact filtered top-k over the synthetic data (the ground truth).
std::vector<Neighbor> Truth(const float* q, int k, const ListingFilter* f) {
  const SyntheticListings& d = Data();
  std::vector<Neighbor> all;
  for (int64_t i = 0; i < d.size(); ++i) {
    if (f && !f->Matches(d.attributes[i])) continue;
    float s = 0;
    for (int j = 0; j < d.dim; ++j) s += q[j] * d.row(i)[j];
    all.push_back({d.ids[i], s});
  }
  std::sort(all.begin(), all.end(), [](const Neighbor& a, const Neighbor& b) {
    return a.score > b.score;
  });
  if (static_cast<int>(all.size()) > k) all.resize(k);
  return all;
}

double Overlap(const std::vector<Neighbor>& got, const std::vector<Neighbor>& want) {
  if (want.empty()) return 1.0;
  absl::flat_hash_set<uint64_t> w;
  for (const Neighbor& n : want) w.insert(n.listing_id);
  int hit = 0;
  for (const Neighbor& n : got) hit += w.count(n.listing_id);
  return static_cast<double>(hit) / want.size();
}

// Invariants of every filtered result: size, all pass, unique, best first.
void CheckResult(const std::vector<Neighbor>& got, int k, const ListingFilter& f,
                 int64_t matching) {
  const SyntheticListings& d = Data();
  static const absl::flat_hash_map<uint64_t, int64_t>* row_of = [] {
    auto* m = new absl::flat_hash_map<uint64_t, int64_t>();
    for (int64_t i = 0; i < Data().size(); ++i) (*m)[Data().ids[i]] = i;
    return m;
  }();
  ASSERT_EQ(static_cast<int64_t>(got.size()), std::min<int64_t>(k, matching));
  absl::flat_hash_set<uint64_t> seen;
  for (size_t i = 0; i < got.size(); ++i) {
    auto it = row_of->find(got[i].listing_id);
    ASSERT_NE(it, row_of->end());
    EXPECT_TRUE(f.Matches(d.attributes[it->second])) << "listing " << got[i].listing_id;
    EXPECT_TRUE(seen.insert(got[i].listing_id).second) << "duplicate " << got[i].listing_id;
    if (i > 0) {
      EXPECT_GE(got[i - 1].score, got[i].score);
    }
  }
}

// Filters of decreasing selectivity over the synthetic data.
std::vector<SearchFilters> TestFilters() {
  const SyntheticListings& d = Data();
  std::vector<SearchFilters> out;
  SearchFilters f;
  f.mutable_price()->set_max(30);  // ~25%
  out.push_back(f);
  f = SearchFilters();
  f.add_categories(d.categories[3]);  // ~4%, categories only
  out.push_back(f);
  f.add_conditions(CONDITION_NEW);  // ~1%
  out.push_back(f);
  f = SearchFilters();
  f.add_conditions(CONDITION_FOR_PARTS);
  f.mutable_price()->set_min(200);  // ~0.4%, no category: full scan
  out.push_back(f);
  f = SearchFilters();
  f.add_categories(d.categories[5]);
  f.add_conditions(CONDITION_LIKE_NEW);
  f.mutable_price()->set_min(300);  // a handful: fewer than k
  out.push_back(f);
  f = SearchFilters();
  f.add_categories("no such category");
  out.push_back(f);
  f = SearchFilters();
  f.mutable_geo()->mutable_center()->set_lat(d.city_centres[0].first);
  f.mutable_geo()->mutable_center()->set_lon(d.city_centres[0].second);
  f.mutable_geo()->set_radius_km(15);
  out.push_back(f);
  return out;
}

// ---- What FAISS 1.7.3 does (the snapshot's design rests on these; re-check on upgrade) ----

struct RecordingSelector : faiss::IDSelector {
  mutable std::atomic<int64_t> max_id{-1};
  bool is_member(idx_t id) const override {
    int64_t m = max_id.load();
    while (id > m && !max_id.compare_exchange_weak(m, id)) {
    }
    return true;
  }
};

TEST(FaissBehaviour, IdMapRefusesSearchParametersAndSelectorsSeeInternalRows) {
  const SyntheticListings& d = Data();
  const std::vector<uint64_t> ids(d.ids.begin(), d.ids.begin() + 4000);
  for (const char* factory : {"HNSW32,Flat", "IVF64,Flat", "Flat"}) {
    auto index = BuildFaissIndex(factory, d.dim, d.vectors.data(), ids, IndexBuildOptions());
    ASSERT_TRUE(index.ok());
    auto* idmap = dynamic_cast<faiss::IndexIDMap2*>(index->get());
    ASSERT_NE(idmap, nullptr);
    RecordingSelector sel;
    faiss::SearchParametersIVF ivf;
    faiss::SearchParametersHNSW hnsw;
    faiss::SearchParameters plain;
    faiss::SearchParameters* p = &plain;
    if (std::string(factory).rfind("IVF", 0) == 0) p = &ivf;
    if (std::string(factory).rfind("HNSW", 0) == 0) p = &hnsw;
    p->sel = &sel;
    std::vector<float> dist(10);
    std::vector<faiss::Index::idx_t> lab(10);
    // 1.7.3: IndexIDMap2::search throws on any SearchParameters (no id translation).
    EXPECT_ANY_THROW(idmap->search(1, d.row(0), 10, dist.data(), lab.data(), p)) << factory;
    // The sub-index accepts them and calls is_member() with its own row numbers, which
    // are not listing ids (those start at 1000 and step by 3).
    ASSERT_NO_THROW(idmap->index->search(1, d.row(0), 10, dist.data(), lab.data(), p)) << factory;
    EXPECT_GE(sel.max_id.load(), 0) << factory;
    EXPECT_LT(sel.max_id.load(), static_cast<int64_t>(ids.size())) << factory;
  }
}

TEST(FaissBehaviour, HnswRejectsPlainSearchParameters) {
  const std::vector<uint64_t> ids(Data().ids.begin(), Data().ids.begin() + 2000);
  auto snap_index = BuildFaissIndex("HNSW32,Flat", Data().dim, Data().vectors.data(), ids,
                                    IndexBuildOptions());
  ASSERT_TRUE(snap_index.ok());
  auto* inner = dynamic_cast<faiss::IndexIDMap2*>(snap_index->get())->index;
  faiss::SearchParameters plain;
  std::vector<float> dist(10);
  std::vector<faiss::Index::idx_t> lab(10);
  EXPECT_ANY_THROW(inner->search(1, Data().row(0), 10, dist.data(), lab.data(), &plain));
}

TEST(FaissBehaviour, HnswEfSearchParameter) {
  // 1.7.3: IndexHNSW's candidate list holds max(hnsw.efSearch, k) nodes (the index field);
  // SearchParametersHNSW::efSearch only bounds the level-0 walk's early stop. So the
  // parameter can lower the effort below the field but never raise it above max(field, k):
  // a deeper per-request search needs a larger k (what filtered search does).
  const SyntheticListings& d = Data();
  auto built = BuildFaissIndex("HNSW32,Flat", d.dim, d.vectors.data(), d.ids, IndexBuildOptions());
  ASSERT_TRUE(built.ok());
  auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(dynamic_cast<faiss::IndexIDMap2*>(built->get())->index);
  ASSERT_NE(hnsw, nullptr);
  std::vector<float> q = MakeSyntheticQueries(d, 40, 3);
  const int k = 10;
  auto run = [&](int field, int param) {
    hnsw->hnsw.efSearch = field;
    faiss::SearchParametersHNSW p;
    p.efSearch = param;
    std::vector<faiss::Index::idx_t> all;
    std::vector<float> dist(k);
    std::vector<faiss::Index::idx_t> lab(k);
    for (int i = 0; i < 40; ++i) {
      hnsw->search(1, q.data() + i * d.dim, k, dist.data(), lab.data(), param > 0 ? &p : nullptr);
      all.insert(all.end(), lab.begin(), lab.end());
    }
    return all;
  };
  auto recall = [&](const std::vector<faiss::Index::idx_t>& rows) {
    double hits = 0;
    for (int i = 0; i < 40; ++i) {
      auto truth = Truth(q.data() + i * d.dim, k, nullptr);
      absl::flat_hash_set<uint64_t> t;
      for (const auto& n : truth) t.insert(n.listing_id);
      for (int j = 0; j < k; ++j) hits += t.count(d.ids[rows[i * k + j]]);
    }
    return hits / (40.0 * k);
  };
  // Raising the parameter above the field changes nothing ...
  EXPECT_EQ(run(16, 512), run(16, 0));
  // ... lowering it below the field does.
  EXPECT_LT(recall(run(256, 2)), recall(run(256, 0)) - 0.02);
}

// ---- IndexSnapshot ----

TEST(IndexSnapshot, NprobeIsPerRequestAndNeverMutatesTheIndex) {
  // Before: Search(q, k, nprobe>0) passed SearchParameters to IndexIDMap2, which throws in
  // FAISS 1.7.3, so a per-request nprobe always failed with INTERNAL.
  IndexBuildOptions bo;
  bo.nprobe = 1;
  auto snap = Build("IVF256,Flat", true, bo);
  const SyntheticListings& d = Data();
  std::vector<float> q = MakeSyntheticQueries(d, 30, 5);
  double r1 = 0, r64 = 0, r1_again = 0;
  for (int i = 0; i < 30; ++i) {
    const float* qi = q.data() + i * d.dim;
    auto truth = Truth(qi, 100, nullptr);
    auto a = snap->Search(qi, 100, 0);
    auto b = snap->Search(qi, 100, 64);
    auto c = snap->Search(qi, 100);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << b.status();
    r1 += Overlap(*a, truth);
    r64 += Overlap(*b, truth);
    r1_again += Overlap(*c, truth);
  }
  EXPECT_GT(r64, r1 + 30 * 0.1) << "nprobe=64 should find clearly more than the default 1";
  EXPECT_DOUBLE_EQ(r1, r1_again) << "a per-request nprobe must not change the index default";
}

TEST(IndexSnapshot, FilteredSearchReturnsKMatchingListingsInEveryMode) {
  const SyntheticListings& d = Data();
  std::vector<float> q = MakeSyntheticQueries(d, 8, 9);
  for (const char* factory : {"HNSW32,Flat", "IVF64,Flat", "IVF64,PQ16", "IVF64,PQ16,RFlat",
                              "Flat"}) {
    auto snap = Build(factory);
    EXPECT_EQ(snap->exact_vectors(), std::string(factory) != "IVF64,PQ16") << factory;
    for (const SearchFilters& sf : TestFilters()) {
      const ListingFilter f(sf);
      const int64_t matching = snap->CountMatches(f);
      for (FilterMode mode : {FilterMode::kAuto, FilterMode::kAnn, FilterMode::kExact}) {
        for (int i = 0; i < 8; ++i) {
          SearchOptions o;
          o.filter = &f;
          o.filter_mode = mode;
          SearchStats st;
          auto got = snap->Search(q.data() + i * d.dim, 100, o, &st);
          ASSERT_TRUE(got.ok()) << got.status();
          SCOPED_TRACE(std::string(factory) + " filter " + sf.ShortDebugString() + " mode " +
                       std::to_string(static_cast<int>(mode)));
          CheckResult(*got, 100, f, matching);
          if (mode == FilterMode::kExact && snap->exact_vectors()) {
            // The exact scan is exact.
            EXPECT_EQ(Overlap(*got, Truth(q.data() + i * d.dim, 100, &f)), 1.0);
          }
        }
      }
    }
  }
}

TEST(IndexSnapshot, FilteredAnnRecallAndAutoPathChoice) {
  auto snap = Build("HNSW32,Flat");
  const SyntheticListings& d = Data();
  std::vector<float> q = MakeSyntheticQueries(d, 50, 13);
  SearchFilters broad;
  broad.mutable_price()->set_max(30);  // ~25% of listings
  SearchFilters narrow;
  narrow.add_conditions(CONDITION_FOR_PARTS);
  narrow.mutable_price()->set_min(300);  // ~0.5%: ~100 matches, fewer than 4k
  const ListingFilter fb(broad), fn(narrow);
  double recall_broad = 0;
  for (int i = 0; i < 50; ++i) {
    const float* qi = q.data() + i * d.dim;
    SearchOptions o;
    o.exact_max_matches = 1000;  // 20k listings: ~5000 matches must not count as cheap
    o.filter = &fb;
    SearchStats st;
    auto got = snap->Search(qi, 100, o, &st);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(st.path, SearchStats::Path::kAnnFiltered);
    EXPECT_NEAR(st.estimated_selectivity, 0.25, 0.1);
    recall_broad += Overlap(*got, Truth(qi, 100, &fb));
    o.filter = &fn;
    got = snap->Search(qi, 100, o, &st);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(st.path, SearchStats::Path::kExact);
    EXPECT_EQ(Overlap(*got, Truth(qi, 100, &fn)), 1.0);
  }
  EXPECT_GT(recall_broad / 50, 0.9) << "filtered HNSW recall at 25% selectivity";
  // A forced ANN search with a selective filter falls back to the exact scan.
  SearchOptions o;
  o.filter = &fn;
  o.filter_mode = FilterMode::kAnn;
  SearchStats st;
  ASSERT_TRUE(snap->Search(q.data(), 100, o, &st).ok());
  EXPECT_EQ(st.path, SearchStats::Path::kAnnThenExact);
}

// IVF: when the probed lists hold fewer than k matches and the exact scan would be large, a
// second ANN over more lists answers; without widening the same queries take the exact scan.
TEST(IndexSnapshot, FilteredIvfWidensBeforeTheExactScan) {
  auto snap = Build("IVF64,Flat");
  const SyntheticListings& d = Data();
  std::vector<float> q = MakeSyntheticQueries(d, 50, 21);
  SearchFilters broad;
  broad.mutable_price()->set_max(30);  // ~25%: one list of ~312 holds ~78 matches, < k
  const ListingFilter f(broad);
  int widened = 0;
  for (int i = 0; i < 50; ++i) {
    const float* qi = q.data() + i * d.dim;
    SearchOptions o;
    o.filter = &f;
    o.filter_mode = FilterMode::kAnn;
    o.nprobe = 1;
    o.max_filtered_nprobe_factor = 1;
    o.exact_max_candidates = 0;  // any exact scan counts as large
    SearchStats st;
    auto got = snap->Search(qi, 100, o, &st);
    ASSERT_TRUE(got.ok());
    CheckResult(*got, 100, f, snap->CountMatches(f));
    if (st.path != SearchStats::Path::kAnnWidened) continue;
    ++widened;
    EXPECT_EQ(st.nprobe, 4);
    o.widen_nprobe_factor = 1;  // off
    ASSERT_TRUE(snap->Search(qi, 100, o, &st).ok());
    EXPECT_EQ(st.path, SearchStats::Path::kAnnThenExact);
  }
  EXPECT_GT(widened, 10);
}

TEST(IndexSnapshot, WriteLoadRoundTripVerifiesAttributes) {
  const SyntheticListings& d = Data();
  const std::string dir = TmpDir("snap_v1");
  auto index = BuildFaissIndex("IVF64,Flat", d.dim, d.vectors.data(), d.ids, IndexBuildOptions());
  ASSERT_TRUE(index.ok());
  IndexManifest m;
  m.set_version(1);
  m.set_dim(d.dim);
  m.set_hnsw_ef_search(128);
  ASSERT_TRUE(WriteIndexFile(dir, **index, &m).ok());
  ASSERT_TRUE(WriteAttributesFile(dir, d.Table(), &m).ok());
  ASSERT_TRUE(WriteIndexManifest(dir, m).ok());
  auto snap = IndexSnapshot::Load(dir);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_TRUE((*snap)->has_attributes());
  SearchFilters sf;
  sf.add_categories(d.categories[2]);
  ListingFilter f(sf);
  SearchOptions o;
  o.filter = &f;
  auto got = (*snap)->Search(d.row(0), 50, o);
  ASSERT_TRUE(got.ok());
  CheckResult(*got, 50, f, (*snap)->CountMatches(f));
  std::vector<float> v(d.dim);
  ASSERT_TRUE((*snap)->Reconstruct(d.ids[7], v.data()).ok());
  EXPECT_EQ(v[3], d.row(7)[3]);

  // A flipped byte in attributes.bin: the manifest checksum catches it.
  {
    std::fstream io(dir + "/attributes.bin", std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(100);
    io.put('\x7f');
  }
  EXPECT_EQ(IndexSnapshot::Load(dir).status().code(), absl::StatusCode::kDataLoss);

  // An attribute table whose rows are not the index's rows is refused.
  IndexManifest m2 = m;
  m2.clear_files();
  ListingAttributeTable shuffled;
  for (int64_t i = d.size() - 1; i >= 0; --i) shuffled.Add(d.ids[i], d.attributes[i]);
  const std::string dir2 = TmpDir("snap_v2");
  ASSERT_TRUE(WriteIndexFile(dir2, **index, &m2).ok());
  ASSERT_TRUE(WriteAttributesFile(dir2, shuffled, &m2).ok());
  ASSERT_TRUE(WriteIndexManifest(dir2, m2).ok());
  EXPECT_EQ(IndexSnapshot::Load(dir2).status().code(), absl::StatusCode::kDataLoss);
}

TEST(IndexSnapshot, VersionWithoutAttributesServesUnfilteredOnly) {
  auto snap = Build("HNSW32,Flat", /*attributes=*/false);
  EXPECT_FALSE(snap->has_attributes());
  ASSERT_TRUE(snap->Search(Data().row(0), 10).ok());
  SearchFilters sf;
  sf.add_categories("x");
  ListingFilter f(sf);
  SearchOptions o;
  o.filter = &f;
  EXPECT_EQ(snap->Search(Data().row(0), 10, o).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ListingFilter empty;
  o.filter = &empty;  // an empty filter is no filter
  EXPECT_TRUE(snap->Search(Data().row(0), 10, o).ok());
}

TEST(IndexSnapshot, ConcurrentFilteredSearchesMatchSerialOnes) {
  auto snap = Build("HNSW32,Flat");
  const SyntheticListings& d = Data();
  const int nq = 64;
  std::vector<float> q = MakeSyntheticQueries(d, nq, 17);
  const std::vector<SearchFilters> filters = TestFilters();
  std::vector<ListingFilter> fs;
  for (const auto& sf : filters) fs.emplace_back(sf);
  auto run = [&](int i) {
    SearchOptions o;
    o.filter = &fs[i % fs.size()];
    o.nprobe = 0;
    return *snap->Search(q.data() + (i % nq) * d.dim, 50, o);
  };
  std::vector<std::vector<Neighbor>> serial;
  for (int i = 0; i < nq; ++i) serial.push_back(run(i));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      omp_set_num_threads(1);
      for (int rep = 0; rep < 4; ++rep) {
        for (int i = t; i < nq; i += 2) {
          const auto got = run(i);
          bool same = got.size() == serial[i].size();
          for (size_t j = 0; same && j < got.size(); ++j) {
            same = got[j].listing_id == serial[i][j].listing_id;
          }
          if (!same) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace marketsearch
