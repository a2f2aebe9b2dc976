#include "index/internal/vector_scores.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace internal {
namespace {

double Reference(const float* a, const float* b, int d) {
  double s = 0;
  for (int i = 0; i < d; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

TEST(VectorScoresTest, MatchADoubleReference) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int d : {1, 7, 8, 64, 100}) {
    const size_t n = 37;
    std::vector<float> q(d), rows(n * d);
    for (float& x : q) x = u(rng);
    for (float& x : rows) x = u(rng);
    std::vector<float> all(n), picked(3), by_ptr(n);
    ScoreRows(q.data(), rows.data(), nullptr, n, d, all.data());
    const uint32_t pick[3] = {36, 0, 5};
    ScoreRows(q.data(), rows.data(), pick, 3, d, picked.data());
    std::vector<const float*> ptrs(n);
    for (size_t i = 0; i < n; ++i) ptrs[i] = rows.data() + (n - 1 - i) * d;
    ScoreVectors(q.data(), ptrs.data(), n, d, by_ptr.data());
    for (size_t i = 0; i < n; ++i) {
      EXPECT_NEAR(all[i], Reference(q.data(), rows.data() + i * d, d), 1e-4) << "d " << d << " row " << i;
      EXPECT_EQ(by_ptr[i], all[n - 1 - i]);
    }
    for (int j = 0; j < 3; ++j) EXPECT_EQ(picked[j], all[pick[j]]);
  }
}

}  // namespace
}  // namespace internal
}  // namespace marketsearch
