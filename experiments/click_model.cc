#include "experiments/click_model.h"

#include <algorithm>

namespace marketsearch {

double ClickModel::ClickProbability(Esci grade) const {
  switch (grade) {
    case Esci::kExact: return click_exact;
    case Esci::kSubstitute: return click_substitute;
    case Esci::kComplement: return click_complement;
    default: return click_irrelevant;
  }
}

PageClicks SimulateClicks(const ClickModel& model, absl::Span<const Esci> grades, double propensity,
                          std::mt19937_64& rng) {
  std::uniform_real_distribution<double> coin(0, 1);
  PageClicks out;
  for (size_t pos = 0; pos < grades.size(); ++pos) {
    const double p = std::min(1.0, model.ClickProbability(grades[pos]) * propensity);
    if (coin(rng) < p) {
      out.clicked_positions.push_back(static_cast<int>(pos));
      if (grades[pos] == Esci::kExact && coin(rng) < model.purchase_after_click) {
        out.purchased_positions.push_back(static_cast<int>(pos));
      }
      if (coin(rng) < model.stop_after_click) break;
    } else if (coin(rng) >= model.examine_decay) {
      break;
    }
  }
  return out;
}

}  // namespace marketsearch
