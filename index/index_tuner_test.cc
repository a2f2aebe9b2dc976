#include "index/index_tuner.h"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <omp.h>

#include <algorithm>
#include <numeric>

#include "gtest/gtest.h"
#include "index/index_writer.h"
#include "index/synthetic_listings.h"

namespace marketsearch {
namespace {

struct Data {
  SyntheticListings listings;
  FloatMatrix tune, gate;  // disjoint query sets
};

const Data& TestData() {
  static const Data* d = [] {
    omp_set_num_threads(1);
    auto* out = new Data;
    SyntheticOptions o;
    o.listings = 20000;
    o.clusters = 100;
    o.spread = 0.6f;  // harder than the default: small parameters must not suffice
    out->listings = MakeSyntheticListings(o);
    std::vector<float> q = MakeSyntheticQueries(out->listings, 400, 7);
    for (FloatMatrix* m : {&out->tune, &out->gate}) m->cols = o.dim;
    out->tune.rows = out->gate.rows = 200;
    out->tune.data.assign(q.begin(), q.begin() + 200 * o.dim);
    out->gate.data.assign(q.begin() + 200 * o.dim, q.end());
    return out;
  }();
  return *d;
}

TEST(CandidateFactoriesTest, IvfListsGrowWithTheCatalogAndPqOnlyWhenLarge) {
  EXPECT_EQ(CandidateFactories(1000000, 64, 5000000),
            (std::vector<std::string>{"IVF4096,Flat", "HNSW32,Flat"}));
  EXPECT_EQ(CandidateFactories(20000, 64, 5000000)[0], "IVF512,Flat");
  EXPECT_EQ(CandidateFactories(1000, 64, 5000000)[0], "IVF16,Flat");  // >= 39 points a list
  EXPECT_EQ(CandidateFactories(8000000, 64, 5000000).back(), "IVF8192,PQ32,RFlat");
}

TEST(ScaleFactoryToSampleTest, KeepsListingsPerList) {
  EXPECT_EQ(ScaleFactoryToSample("IVF4096,Flat", 1000000, 100000), "IVF409,Flat");
  EXPECT_EQ(ScaleFactoryToSample("IVF4096,PQ32,RFlat", 1000000, 100000), "IVF409,PQ32,RFlat");
  EXPECT_EQ(ScaleFactoryToSample("IVF64,Flat", 1000000, 1000), "IVF16,Flat");  // floor
  EXPECT_EQ(ScaleFactoryToSample("HNSW32,Flat", 1000000, 100000), "HNSW32,Flat");
  EXPECT_EQ(ScaleFactoryToSample("IVF4096,Flat", 1000, 1000), "IVF4096,Flat");  // no sample
}

// Returns the inner index of a BuildFaissIndex result over the test listings.
std::unique_ptr<faiss::Index> Build(const std::string& factory) {
  const SyntheticListings& d = TestData().listings;
  std::vector<uint64_t> rows(d.size());
  std::iota(rows.begin(), rows.end(), 0);
  auto built = BuildFaissIndex(factory, d.dim, d.vectors.data(), rows, IndexBuildOptions());
  EXPECT_TRUE(built.ok()) << built.status();
  return *std::move(built);
}

faiss::Index* Inner(const std::unique_ptr<faiss::Index>& idmap) {
  return static_cast<faiss::IndexIDMap2*>(idmap.get())->index;
}

std::vector<int64_t> Truth(const FloatMatrix& q) {
  const SyntheticListings& d = TestData().listings;
  return ExactNeighbors(d.vectors.data(), d.size(), d.dim, q, 100);
}

TEST(TuneSearchParameterTest, FindsTheSmallestNprobeReachingTheTarget) {
  auto index = Build("IVF128,Flat");
  const FloatMatrix& q = TestData().tune;
  auto t = TuneSearchParameter(Inner(index), q, Truth(q), 100, 0.95);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->parameter, "nprobe");
  EXPECT_TRUE(t->reached);
  EXPECT_GE(t->recall, 0.95);
  EXPECT_GT(t->value, 1);
  EXPECT_EQ(static_cast<faiss::IndexIVF*>(Inner(index))->nprobe, static_cast<size_t>(t->value));
  // Within the bisection's precision (~6%), one step smaller misses the target: the search
  // did not stop at a needlessly large value.
  const int smaller = t->value - std::max(1, t->value / 16) - 1;
  if (smaller >= 1) {
    auto at_smaller = MeasureSearchParameter(Inner(index), q, Truth(q), 100, smaller);
    ASSERT_TRUE(at_smaller.ok());
    EXPECT_EQ(at_smaller->value, smaller);
    EXPECT_LT(at_smaller->recall, 0.95) << "nprobe " << smaller;
  }
  EXPECT_GT(t->p50_ms, 0);
  EXPECT_GE(t->p99_ms, t->p50_ms);
}

TEST(TuneSearchParameterTest, StartingAboveTheAnswerComesDownToTheSameValue) {
  auto index = Build("IVF128,Flat");
  const FloatMatrix& q = TestData().tune;
  auto from_below = TuneSearchParameter(Inner(index), q, Truth(q), 100, 0.95);
  auto from_above = TuneSearchParameter(Inner(index), q, Truth(q), 100, 0.95, 128);
  ASSERT_TRUE(from_below.ok() && from_above.ok());
  EXPECT_NEAR(from_above->value, from_below->value, std::max(1, from_below->value / 16) + 1);
  EXPECT_TRUE(from_above->reached);
}

TEST(TuneSearchParameterTest, HnswEfSearchAndAnUnreachableTarget) {
  auto index = Build("HNSW16,Flat");
  const FloatMatrix& q = TestData().tune;
  auto t = TuneSearchParameter(Inner(index), q, Truth(q), 100, 0.97);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->parameter, "efSearch");
  EXPECT_TRUE(t->reached);
  EXPECT_GE(t->value, 100);
  EXPECT_EQ(static_cast<faiss::IndexHNSW*>(Inner(index))->hnsw.efSearch, t->value);
  // Recall above 1 cannot be reached: the largest value is reported, not reached.
  auto never = TuneSearchParameter(Inner(index), q, Truth(q), 100, 1.01);
  ASSERT_TRUE(never.ok());
  EXPECT_FALSE(never->reached);
  EXPECT_EQ(never->value, 4096);
}

TEST(TuneSearchParameterTest, RefusesTruthOfTheWrongShape) {
  auto index = Build("IVF128,Flat");
  auto t = TuneSearchParameter(Inner(index), TestData().tune, {1, 2, 3}, 100, 0.95);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ChooseIndexTest, RanksFamiliesThatReachTheTargetByLatencyAndGeneralisesToDisjointQueries) {
  const Data& d = TestData();
  TunerOptions o;
  o.sample_size = 10000;
  o.target_recall = 0.96;
  o.factories = {"IVF128,Flat", "HNSW16,Flat", "IVF128,PQ8"};  // PQ8 alone cannot reach 0.96
  auto choice = ChooseIndex(d.listings.vectors.data(), d.listings.size(), d.listings.dim, d.tune, o);
  ASSERT_TRUE(choice.ok()) << choice.status();
  ASSERT_EQ(choice->sample_results.size(), 3u);
  EXPECT_EQ(choice->sample_results[0].factory, "IVF64,Flat");  // lists scaled to the sample
  EXPECT_EQ(choice->sample_results[0].listings, 10000);
  EXPECT_FALSE(choice->sample_results[2].reached);
  ASSERT_EQ(choice->ranked_factories.size(), 3u);
  EXPECT_EQ(choice->ranked_factories.back(), "IVF128,PQ8");  // unreached ones rank last
  for (const TunedIndex& t : choice->sample_results) {
    if (t.reached) EXPECT_GE(t.recall, 0.96) << t.factory;
  }
  const TunedIndex& ivf = choice->sample_results[0];
  const TunedIndex& hnsw = choice->sample_results[1];
  ASSERT_TRUE(ivf.reached && hnsw.reached);
  EXPECT_EQ(choice->ranked_factories[0],
            ivf.estimated_full_p50_ms <= hnsw.estimated_full_p50_ms ? "IVF128,Flat" : "HNSW16,Flat");

  // The winner, built at full size and tuned on the tuning queries, holds on the gate queries
  // (the disjoint set build_index publishes with) within a small margin.
  auto full = Build(choice->ranked_factories[0]);
  auto tuned = TuneSearchParameter(Inner(full), d.tune, Truth(d.tune), 100, 0.96,
                                   choice->start_values[0]);
  ASSERT_TRUE(tuned.ok() && tuned->reached);
  auto gate = MeasureSearchParameter(Inner(full), d.gate, Truth(d.gate), 100, tuned->value);
  ASSERT_TRUE(gate.ok());
  EXPECT_GE(gate->recall, 0.95);
}

TEST(ChooseIndexTest, RefusesQueriesOfAnotherDimension) {
  FloatMatrix q;
  q.rows = 1;
  q.cols = 3;
  q.data = {1, 0, 0};
  const SyntheticListings& d = TestData().listings;
  TunerOptions o;
  EXPECT_EQ(ChooseIndex(d.vectors.data(), d.size(), d.dim, q, o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marketsearch
