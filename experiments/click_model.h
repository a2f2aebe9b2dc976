// A position-biased cascade click model driven by hidden relevance (ESCI grades), shared by
// the traffic simulator (jobs/simulate_traffic) and the calibration benchmark
// (bench/experiment_calibration): the user examines the page top-down; at an examined position
// they click with probability click[grade] * propensity; after a click they leave with
// probability stop_after_click, else go on; after a position without a click they examine the
// next one with probability examine_decay. A click on an Exact result becomes a purchase with
// probability purchase_after_click. Pure given the random stream.
#ifndef MARKETSEARCH_EXPERIMENTS_CLICK_MODEL_H_
#define MARKETSEARCH_EXPERIMENTS_CLICK_MODEL_H_

#include <random>
#include <vector>

#include "absl/types/span.h"
#include "proto/esci.h"

namespace marketsearch {

struct ClickModel {
  double click_exact = 0.45, click_substitute = 0.12, click_complement = 0.04, click_irrelevant = 0.01;
  double examine_decay = 0.8;
  double stop_after_click = 0.6;
  double purchase_after_click = 0.15;

  double ClickProbability(Esci grade) const;
};

struct PageClicks {
  std::vector<int> clicked_positions;    // 0-based, in the order clicked
  std::vector<int> purchased_positions;  // a subset of the clicked ones
};

// The clicks of one user with `propensity` on a page whose results have `grades` (unjudged
// results: kIrrelevant), drawing from `rng`.
PageClicks SimulateClicks(const ClickModel& model, absl::Span<const Esci> grades, double propensity,
                          std::mt19937_64& rng);

}  // namespace marketsearch

#endif  // MARKETSEARCH_EXPERIMENTS_CLICK_MODEL_H_
