#include "index/delta_index.h"

#include <faiss/Index.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "index/index_writer.h"
#include "index/synthetic_listings.h"

namespace marketsearch {
namespace {

constexpr int kDim = 16;

std::vector<float> Unit(std::mt19937_64& rng, int dim = kDim) {
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  double s = 0;
  for (float& x : v) {
    x = g(rng);
    s += x * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(s));
  return v;
}

ListingAttributes Attrs(const std::string& category, double price,
                        Condition c = CONDITION_USED) {
  ListingAttributes a;
  a.category_fp = CategoryFingerprint(category);
  a.price = price;
  a.condition = c;
  return a;
}

float Dot(const std::vector<float>& a, const float* b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

TEST(DeltaIndex, UpsertSearchDeleteAndTombstones) {
  std::mt19937_64 rng(1);
  DeltaIndex delta(kDim);
  std::vector<std::vector<float>> v;
  for (int i = 0; i < 50; ++i) {
    v.push_back(Unit(rng));
    ASSERT_TRUE(delta.Upsert(100 + i, v.back(), Attrs(i % 2 ? "odd" : "even", i), 1000 + i).ok());
  }
  EXPECT_EQ(delta.size(), 50);
  EXPECT_EQ(delta.tombstone_count(), 50) << "an upsert hides the main index's old copy";
  EXPECT_TRUE(delta.IsTombstoned(100));
  EXPECT_FALSE(delta.IsTombstoned(99));

  // Its own vector is the best match; results are sorted.
  auto got = delta.Search(v[7].data(), 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].listing_id, 107u);
  EXPECT_NEAR(got[0].score, 1.0f, 1e-5);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_GE(got[i - 1].score, got[i].score);

  // Filters apply.
  SearchFilters sf;
  sf.add_categories("odd");
  sf.mutable_price()->set_max(20);
  ListingFilter f(sf);
  got = delta.Search(v[7].data(), 100, &f);
  EXPECT_EQ(got.size(), 10u);  // 1, 3, ..., 19
  for (const Neighbor& n : got) EXPECT_TRUE((n.listing_id - 100) % 2 == 1 && n.listing_id <= 119);

  // An update replaces the vector; a delete removes the listing and keeps a tombstone.
  std::vector<float> back(kDim);
  ASSERT_TRUE(delta.Reconstruct(107, back.data()).ok());
  EXPECT_EQ(back, v[7]);
  ASSERT_TRUE(delta.Upsert(107, v[8], Attrs("odd", 7), 2000).ok());
  ASSERT_TRUE(delta.Reconstruct(107, back.data()).ok());
  EXPECT_EQ(back, v[8]) << "Reconstruct returns the newest copy (the ranker's embedding input)";
  got = delta.Search(v[8].data(), 2);
  EXPECT_NEAR(got[0].score, 1.0f, 1e-5);
  EXPECT_NEAR(got[1].score, 1.0f, 1e-5);
  EXPECT_EQ(delta.size(), 50);
  delta.Delete(107, 2001);
  delta.Delete(999, 2002);  // not in the delta: tombstoned for the main index
  EXPECT_EQ(delta.size(), 49);
  EXPECT_TRUE(delta.IsTombstoned(107));
  EXPECT_TRUE(delta.IsTombstoned(999));
  for (const Neighbor& n : delta.Search(v[8].data(), 100)) EXPECT_NE(n.listing_id, 107u);
  EXPECT_EQ(delta.Reconstruct(107, back.data()).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(delta.Reconstruct(999, back.data()).code(), absl::StatusCode::kNotFound);

  // Bad input.
  EXPECT_EQ(delta.Upsert(1, std::vector<float>(kDim + 1), Attrs("x", 1), 1).code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<float> nan(kDim, 0.f);
  nan[3] = std::nanf("");
  EXPECT_EQ(delta.Upsert(1, nan, Attrs("x", 1), 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(delta.size(), 49);
}

TEST(DeltaIndex, LastWriterWinsByWriteTime) {
  std::mt19937_64 rng(2);
  DeltaIndex delta(kDim);
  const auto a = Unit(rng), b = Unit(rng);
  delta.Delete(5, 100);
  ASSERT_TRUE(delta.Upsert(5, a, Attrs("x", 1), 90).ok());  // older than the delete: ignored
  EXPECT_EQ(delta.size(), 0);
  ASSERT_TRUE(delta.Upsert(5, a, Attrs("x", 1), 110).ok());
  ASSERT_TRUE(delta.Upsert(5, b, Attrs("x", 1), 105).ok());  // older than the upsert: ignored
  auto got = delta.Search(a.data(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NEAR(got[0].score, 1.0f, 1e-5);
  delta.Delete(5, 109);  // older: ignored
  EXPECT_EQ(delta.size(), 1);
}

TEST(DeltaIndex, DropBeforeForgetsWritesTheNewSnapshotHolds) {
  std::mt19937_64 rng(3);
  DeltaIndex delta(kDim);
  ASSERT_TRUE(delta.Upsert(1, Unit(rng), Attrs("x", 1), 100).ok());
  ASSERT_TRUE(delta.Upsert(2, Unit(rng), Attrs("x", 1), 200).ok());
  ASSERT_TRUE(delta.Upsert(3, Unit(rng), Attrs("x", 1), 300).ok());
  delta.Delete(4, 150);
  delta.Delete(5, 200);
  delta.Delete(6, 250);
  // Snapshot taken at 200: writes before it are in the new index; a write at exactly 200
  // might not be, so it stays.
  EXPECT_EQ(delta.DropBefore(200), 2 /*listing 1 + its tombstone*/ + 1 /*tombstone 4*/);
  EXPECT_EQ(delta.size(), 2);
  EXPECT_FALSE(delta.IsTombstoned(1));
  EXPECT_TRUE(delta.IsTombstoned(2));
  EXPECT_TRUE(delta.IsTombstoned(3));
  EXPECT_FALSE(delta.IsTombstoned(4));
  EXPECT_TRUE(delta.IsTombstoned(5));
  EXPECT_TRUE(delta.IsTombstoned(6));
  EXPECT_EQ(delta.DropBefore(1000), 2 + 2 + 2);
  EXPECT_EQ(delta.size(), 0);
  EXPECT_EQ(delta.tombstone_count(), 0);
}

// A main snapshot over synthetic listings with an exact ("Flat") index, so results can be
// compared with brute force.
struct World {
  SyntheticListings data;
  std::shared_ptr<const IndexSnapshot> snap;
  explicit World(const std::string& factory = "Flat", int64_t n = 5000) {
    SyntheticOptions o;
    o.listings = n;
    o.dim = kDim;
    o.clusters = 40;
    data = MakeSyntheticListings(o);
    auto index = BuildFaissIndex(factory, kDim, data.vectors.data(), data.ids, IndexBuildOptions());
    EXPECT_TRUE(index.ok());
    IndexManifest m;
    m.set_version(1);
    m.set_dim(kDim);
    snap = *IndexSnapshot::Create(*std::move(index), m,
                                  std::make_unique<ListingAttributeTable>(data.Table()));
  }
};

TEST(SearchWithDelta, SuppressesTombstonesMergesFreshAndStillReturnsK) {
  World w;
  std::mt19937_64 rng(4);
  DeltaIndex delta(kDim);
  const float* q = w.data.row(10);
  // Tombstone the main index's whole top 150 for this query (deleted or updated listings).
  auto top = *w.snap->Search(q, 150);
  for (size_t i = 0; i < top.size(); ++i) delta.Delete(top[i].listing_id, 500 + i);
  // One fresh listing identical to the query, one update of a main listing.
  std::vector<float> qv(q, q + kDim);
  ASSERT_TRUE(delta.Upsert(1, qv, Attrs("cat00", 10), 900).ok());
  ASSERT_TRUE(delta.Upsert(w.data.ids[20], Unit(rng), w.data.attributes[20], 901).ok());

  auto got = SearchWithDelta(*w.snap, delta, q, 100);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 100u);
  EXPECT_EQ((*got)[0].listing_id, 1u);
  absl::flat_hash_set<uint64_t> dead;
  for (const Neighbor& n : top) dead.insert(n.listing_id);
  absl::flat_hash_set<uint64_t> seen;
  for (size_t i = 0; i < got->size(); ++i) {
    EXPECT_FALSE(dead.count((*got)[i].listing_id)) << (*got)[i].listing_id;
    EXPECT_TRUE(seen.insert((*got)[i].listing_id).second);
    if (i) {
      EXPECT_GE((*got)[i - 1].score, (*got)[i].score);
    }
  }
  // Exactly the brute-force answer over (main - tombstones) + fresh.
  std::vector<Neighbor> truth;
  for (int64_t i = 0; i < w.data.size(); ++i) {
    if (dead.count(w.data.ids[i]) || w.data.ids[i] == w.data.ids[20]) continue;
    truth.push_back({w.data.ids[i], Dot(qv, w.data.row(i))});
  }
  for (const Neighbor& n : delta.Search(q, 100)) truth.push_back(n);
  std::sort(truth.begin(), truth.end(), [](auto& a, auto& b) { return a.score > b.score; });
  truth.resize(100);
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ((*got)[i].listing_id, truth[i].listing_id) << i;

  // The updated listing is served with its new vector only.
  int copies = 0;
  auto all = SearchWithDelta(*w.snap, delta, w.data.row(20), 5000);
  ASSERT_TRUE(all.ok());
  for (const Neighbor& n : *all) {
    copies += n.listing_id == w.data.ids[20];
  }
  EXPECT_EQ(copies, 1);
}

TEST(SearchWithDelta, FilteredAndDimensionChecked) {
  World w;
  std::mt19937_64 rng(5);
  DeltaIndex delta(kDim);
  SearchFilters sf;
  sf.add_categories(w.data.categories[1]);
  sf.add_conditions(CONDITION_NEW);
  ListingFilter f(sf);
  // Delete half of the matching main listings; add 30 fresh matching + 30 fresh non-matching.
  int64_t main_matching = 0;
  for (int64_t i = 0; i < w.data.size(); ++i) {
    if (!f.Matches(w.data.attributes[i])) continue;
    if (++main_matching % 2 == 0) delta.Delete(w.data.ids[i], 10);
  }
  for (int i = 0; i < 60; ++i) {
    ListingAttributes a = Attrs(w.data.categories[1], 5, i < 30 ? CONDITION_NEW : CONDITION_USED);
    ASSERT_TRUE(delta.Upsert(900000 + i, Unit(rng), a, 20).ok());
  }
  const int64_t live_matching = main_matching - main_matching / 2 + 30;
  for (FilterMode mode : {FilterMode::kAuto, FilterMode::kAnn, FilterMode::kExact}) {
    SearchOptions o;
    o.filter = &f;
    o.filter_mode = mode;
    auto got = SearchWithDelta(*w.snap, delta, w.data.row(3), 1000, o);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(static_cast<int64_t>(got->size()), std::min<int64_t>(1000, live_matching));
    for (const Neighbor& n : *got) EXPECT_FALSE(delta.IsTombstoned(n.listing_id) && n.listing_id < 900000);
  }
  DeltaIndex wrong(kDim + 1);
  EXPECT_EQ(SearchWithDelta(*w.snap, wrong, w.data.row(3), 10).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Many readers (Search, IsTombstoned, SearchWithDelta) while one writer upserts and deletes:
// no crash, and every result obeys the invariants that hold at every instant.
TEST(DeltaIndex, ConcurrentReadersDuringWrites) {
  World w("HNSW32,Flat", 5000);
  DeltaIndex delta(kDim);
  // Listings deleted before the readers start must never come back.
  absl::flat_hash_set<uint64_t> deleted;
  for (int64_t i = 0; i < w.data.size(); i += 7) {
    delta.Delete(w.data.ids[i], 1);
    deleted.insert(w.data.ids[i]);
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0}, violations{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 6; ++t) {
    readers.emplace_back([&, t] {
      omp_set_num_threads(1);
      std::mt19937_64 rng(100 + t);
      while (!stop.load()) {
        const auto q = Unit(rng);
        auto fresh = delta.Search(q.data(), 20);
        for (size_t i = 1; i < fresh.size(); ++i) violations += fresh[i - 1].score < fresh[i].score;
        auto got = SearchWithDelta(*w.snap, delta, q.data(), 50);
        if (!got.ok() || got->size() != 50u) {
          ++violations;
          continue;
        }
        absl::flat_hash_set<uint64_t> seen;
        for (size_t i = 0; i < got->size(); ++i) {
          const uint64_t id = (*got)[i].listing_id;
          violations += !seen.insert(id).second;
          violations += deleted.count(id);
          if (i) violations += (*got)[i - 1].score < (*got)[i].score;
        }
        violations += !delta.IsTombstoned(w.data.ids[0]);
        ++reads;
      }
    });
  }
  // The writer: fresh listings 1000000.. come and go; main listings get updated.
  std::mt19937_64 rng(9);
  int64_t now = 10;
  absl::flat_hash_set<uint64_t> live_fresh;
  for (int op = 0; op < 20000; ++op) {
    const uint64_t id = 1000000 + rng() % 500;
    if (rng() % 3 == 0) {
      delta.Delete(id, ++now);
      live_fresh.erase(id);
    } else {
      ASSERT_TRUE(delta.Upsert(id, Unit(rng), Attrs("x", 1), ++now).ok());
      live_fresh.insert(id);
    }
    if (op % 10 == 0) {
      const int64_t row = 1 + static_cast<int64_t>(rng() % (w.data.size() - 1));
      if (!deleted.count(w.data.ids[row])) {
        ASSERT_TRUE(delta.Upsert(w.data.ids[row], Unit(rng), w.data.attributes[row], ++now).ok());
      }
    }
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(reads.load(), 100);
  int64_t updated_main = delta.size() - static_cast<int64_t>(live_fresh.size());
  EXPECT_GE(updated_main, 0);
  // Fold everything into a (hypothetical) new snapshot: the delta empties.
  delta.DropBefore(now + 1);
  EXPECT_EQ(delta.size(), 0);
  EXPECT_EQ(delta.tombstone_count(), 0);
}

}  // namespace
}  // namespace marketsearch
