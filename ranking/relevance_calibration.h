// RelevanceCalibration: the ranker's raw score → a calibrated probability that the result is
// an Exact match for the query, and the "no good match" decision built on it.
//
// The ranker is trained listwise (ranking/train/train_ranker.py), so its scores order a
// request's candidates but carry no absolute meaning. train_ranker.py fits an isotonic
// (monotone non-decreasing) map from score to P(Exact) on the validation queries' top results
// and stores its knots in the ranker's artifact (calibration_scores.npy,
// calibration_probabilities.npy) with the threshold (metric no_match_threshold): the best
// result's probability below which a page counts as "no good match", chosen so that the flag
// fires on at most a target share of validation queries (all of which have an Exact listing).
// Probability() interpolates linearly between knots and is flat beyond the end knots.
//
// Thread safety: immutable after Create; all methods may be called concurrently.
#ifndef MARKETSEARCH_RANKING_RELEVANCE_CALIBRATION_H_
#define MARKETSEARCH_RANKING_RELEVANCE_CALIBRATION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace marketsearch {

class RelevanceCalibration {
 public:
  // InvalidArgument naming the field when: the knot vectors are empty or of different
  // lengths, a score is not finite or scores do not strictly increase, a probability is
  // outside [0, 1] or probabilities decrease, or the threshold is outside [0, 1].
  static absl::StatusOr<std::unique_ptr<RelevanceCalibration>> Create(
      std::vector<float> scores, std::vector<float> probabilities, double no_match_threshold);

  // Reads the knots from <artifact_dir>/calibration_{scores,probabilities}.npy. NotFound when
  // the artifact has no calibration (an older ranker); DataLoss / InvalidArgument (naming the
  // file) when it has a broken one.
  static absl::StatusOr<std::unique_ptr<RelevanceCalibration>> Load(const std::string& artifact_dir,
                                                                    double no_match_threshold);

  // P(Exact) of a result the ranker scored `score`. NaN maps to the lowest knot's probability.
  float Probability(float score) const;
  // True when the best result's probability is below the threshold.
  bool NoGoodMatch(float best_probability) const { return best_probability < no_match_threshold_; }
  double no_match_threshold() const { return no_match_threshold_; }
  size_t knots() const { return scores_.size(); }

 private:
  RelevanceCalibration() = default;
  std::vector<float> scores_;
  std::vector<float> probabilities_;
  double no_match_threshold_ = 0;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_RANKING_RELEVANCE_CALIBRATION_H_
