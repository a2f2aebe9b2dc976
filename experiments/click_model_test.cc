#include "experiments/click_model.h"

#include <vector>

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(ClickModelTest, RelevantResultsHigherUpGetMoreClicks) {
  ClickModel m;
  std::mt19937_64 rng(1);
  const int n = 20000;
  std::vector<Esci> good_first = {Esci::kExact, Esci::kIrrelevant, Esci::kIrrelevant};
  std::vector<Esci> good_last = {Esci::kIrrelevant, Esci::kIrrelevant, Esci::kExact};
  int clicked_first = 0, clicked_last = 0, purchases = 0, clicks = 0;
  for (int i = 0; i < n; ++i) {
    const PageClicks a = SimulateClicks(m, good_first, 1.0, rng);
    clicked_first += !a.clicked_positions.empty();
    clicks += static_cast<int>(a.clicked_positions.size());
    purchases += static_cast<int>(a.purchased_positions.size());
    for (int p : a.purchased_positions) EXPECT_EQ(p, 0);  // only Exact results are bought
    clicked_last += !SimulateClicks(m, good_last, 1.0, rng).clicked_positions.empty();
  }
  // Position bias: the same page reordered gets fewer clicks with the relevant result last.
  EXPECT_GT(clicked_first, clicked_last * 1.5);
  // ~0.45 at the first position, plus a little from the rest.
  EXPECT_NEAR(static_cast<double>(clicked_first) / n, 0.47, 0.03);
  EXPECT_NEAR(static_cast<double>(purchases) / clicks, 0.45 / 0.47 * m.purchase_after_click, 0.02);
}

TEST(ClickModelTest, PropensityScalesClicksAndTheStreamIsReproducible) {
  ClickModel m;
  std::vector<Esci> page(10, Esci::kSubstitute);
  std::mt19937_64 a(5), b(5);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(SimulateClicks(m, page, 1.3, a).clicked_positions,
              SimulateClicks(m, page, 1.3, b).clicked_positions);
  }
  std::mt19937_64 rng(2);
  int low = 0, high = 0;
  for (int i = 0; i < 20000; ++i) {
    low += !SimulateClicks(m, page, 0.5, rng).clicked_positions.empty();
    high += !SimulateClicks(m, page, 2.0, rng).clicked_positions.empty();
  }
  EXPECT_GT(high, low * 2);
  EXPECT_TRUE(SimulateClicks(m, {}, 1.0, rng).clicked_positions.empty());
}

}  // namespace
}  // namespace marketsearch
