#include "index/internal/ivf_flat_scan.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/IDSelector.h>

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace internal {
namespace {

constexpr int kDim = 64;

std::vector<float> UnitVectors(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> v(static_cast<size_t>(n) * kDim);
  for (int i = 0; i < n; ++i) {
    float norm = 0;
    for (int j = 0; j < kDim; ++j) norm += (v[i * kDim + j] = g(rng)) * v[i * kDim + j];
    for (int j = 0; j < kDim; ++j) v[i * kDim + j] /= std::sqrt(norm);
  }
  return v;
}

struct Ivf {
  faiss::IndexFlatIP quantizer{kDim};
  faiss::IndexIVFFlat index{&quantizer, kDim, 32, faiss::METRIC_INNER_PRODUCT};
  Ivf() {
    const std::vector<float> base = UnitVectors(5000, 1);
    index.train(5000, base.data());
    index.add(5000, base.data());
  }
};

// Same neighbours as FAISS's own search (scores to float rounding), for every probe depth,
// with and without a selector, and with a visit bound.
TEST(IvfFlatScanTest, SameResultsAsFaiss) {
  Ivf ivf;
  ASSERT_EQ(AsScannableIvfFlat(&ivf.index), &ivf.index);
  const std::vector<float> queries = UnitVectors(40, 2);
  faiss::IDSelectorRange odd_half(2500, 5000);
  constexpr int k = 50;
  int swapped = 0;
  for (size_t nprobe : {1, 4, 32}) {
    for (const faiss::IDSelector* sel : {static_cast<const faiss::IDSelector*>(nullptr),
                                         static_cast<const faiss::IDSelector*>(&odd_half)}) {
      for (size_t max_codes : {0, 400}) {
        for (int q = 0; q < 40; ++q) {
          const float* x = queries.data() + q * kDim;
          faiss::SearchParametersIVF p;
          p.nprobe = nprobe;
          p.max_codes = max_codes;
          p.sel = const_cast<faiss::IDSelector*>(sel);
          std::vector<float> want_d(k), got_d(k);
          std::vector<faiss::Index::idx_t> want_l(k), got_l(k);
          ivf.index.search(1, x, k, want_d.data(), want_l.data(), &p);
          IvfFlatSearch(ivf.index, x, k, nprobe, max_codes, sel, got_d.data(), got_l.data());
          // Rank by rank the same score (to float rounding: FMA and summation order differ);
          // the same id unless FAISS has an equal score there (a near tie may swap).
          for (int i = 0; i < k; ++i) {
            SCOPED_TRACE(testing::Message() << "nprobe " << nprobe << " sel " << (sel != nullptr)
                                            << " max_codes " << max_codes << " query " << q << " rank " << i);
            ASSERT_EQ(got_l[i] >= 0, want_l[i] >= 0);
            if (want_l[i] < 0) continue;
            EXPECT_NEAR(got_d[i], want_d[i], 1e-5);
            if (got_l[i] != want_l[i]) {
              bool tied = false;
              for (int j = 0; j < k; ++j) {
                tied |= want_l[j] == got_l[i] && std::fabs(want_d[j] - got_d[i]) < 1e-5;
              }
              tied |= got_d[i] <= want_d[k - 1] + 1e-5;  // a tie at the boundary of the top k
              EXPECT_TRUE(tied) << got_l[i] << " vs " << want_l[i];
              ++swapped;
            }
            if (sel != nullptr) EXPECT_GE(got_l[i], 2500);
          }
        }
      }
    }
  }
  EXPECT_LE(swapped, 12);  // of 24,000 ranks
}

TEST(IvfFlatScanTest, FewerMatchesThanKEndWithMinusOne) {
  Ivf ivf;
  const std::vector<float> q = UnitVectors(1, 3);
  faiss::IDSelectorRange three(10, 13);
  std::vector<float> d(10);
  std::vector<faiss::Index::idx_t> l(10);
  IvfFlatSearch(ivf.index, q.data(), 10, 32, 0, &three, d.data(), l.data());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l[i] >= 10 && l[i] < 13) << l[i];
  EXPECT_GE(d[0], d[1]);
  for (int i = 3; i < 10; ++i) EXPECT_EQ(l[i], -1);
}

TEST(IvfFlatScanTest, OnlyIvfFlatInnerProduct) {
  faiss::IndexFlatIP flat(kDim);
  EXPECT_EQ(AsScannableIvfFlat(&flat), nullptr);
  faiss::IndexFlatL2 q2(kDim);
  faiss::IndexIVFFlat l2(&q2, kDim, 8, faiss::METRIC_L2);
  EXPECT_EQ(AsScannableIvfFlat(&l2), nullptr);
  faiss::IndexFlatIP qpq(kDim);
  faiss::IndexIVFPQ pq(&qpq, kDim, 8, 8, 8);
  EXPECT_EQ(AsScannableIvfFlat(&pq), nullptr);
  faiss::IndexHNSWFlat hnsw(kDim, 8, faiss::METRIC_INNER_PRODUCT);
  EXPECT_EQ(AsScannableIvfFlat(&hnsw), nullptr);
}

}  // namespace
}  // namespace internal
}  // namespace marketsearch
