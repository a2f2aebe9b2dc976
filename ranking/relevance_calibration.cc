#include "ranking/relevance_calibration.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "features/npy_io.h"

namespace marketsearch {

absl::StatusOr<std::unique_ptr<RelevanceCalibration>> RelevanceCalibration::Create(
    std::vector<float> scores, std::vector<float> probabilities, double no_match_threshold) {
  if (scores.empty()) return absl::InvalidArgumentError("calibration scores: no knots");
  if (scores.size() != probabilities.size()) {
    return absl::InvalidArgumentError(absl::StrCat("calibration: ", scores.size(), " scores but ",
                                                   probabilities.size(), " probabilities"));
  }
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      return absl::InvalidArgumentError(absl::StrCat("calibration scores[", i, "] is not finite"));
    }
    if (i > 0 && !(scores[i] > scores[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration scores[", i, "] = ", scores[i], " does not exceed scores[", i - 1,
                       "] = ", scores[i - 1], " (knots must strictly increase)"));
    }
    if (!(probabilities[i] >= 0 && probabilities[i] <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("calibration probabilities[", i, "] = ", probabilities[i], " is outside [0, 1]"));
    }
    if (i > 0 && probabilities[i] < probabilities[i - 1]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "calibration probabilities[", i, "] = ", probabilities[i], " is below probabilities[", i - 1,
          "] = ", probabilities[i - 1], " (the map must be non-decreasing)"));
    }
  }
  if (!(no_match_threshold >= 0 && no_match_threshold <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("no_match_threshold = ", no_match_threshold, " is outside [0, 1]"));
  }
  std::unique_ptr<RelevanceCalibration> c(new RelevanceCalibration());
  c->scores_ = std::move(scores);
  c->probabilities_ = std::move(probabilities);
  c->no_match_threshold_ = no_match_threshold;
  return c;
}

absl::StatusOr<std::unique_ptr<RelevanceCalibration>> RelevanceCalibration::Load(
    const std::string& artifact_dir, double no_match_threshold) {
  const std::string scores_path = artifact_dir + "/calibration_scores.npy";
  const std::string probs_path = artifact_dir + "/calibration_probabilities.npy";
  std::error_code ec;
  if (!std::filesystem::exists(scores_path, ec) && !std::filesystem::exists(probs_path, ec)) {
    return absl::NotFoundError(absl::StrCat(artifact_dir, " has no relevance calibration"));
  }
  std::vector<float> knots[2];
  const std::string paths[2] = {scores_path, probs_path};
  for (int k = 0; k < 2; ++k) {
    absl::StatusOr<NpyArray> a = ReadNpy(paths[k]);
    if (!a.ok()) return a.status();
    if (a->dtype != "<f4" || a->shape.size() != 1) {
      return absl::DataLossError(absl::StrCat(paths[k], ": expected a float32 vector, found dtype ",
                                              a->dtype, " of rank ", a->shape.size()));
    }
    knots[k] = a->AsFloat32();
  }
  absl::StatusOr<std::unique_ptr<RelevanceCalibration>> c =
      Create(std::move(knots[0]), std::move(knots[1]), no_match_threshold);
  if (!c.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(artifact_dir, ": ", c.status().message()));
  }
  return c;
}

float RelevanceCalibration::Probability(float score) const {
  if (!(score > scores_.front())) return probabilities_.front();  // also NaN
  if (score >= scores_.back()) return probabilities_.back();
  const size_t hi = static_cast<size_t>(std::upper_bound(scores_.begin(), scores_.end(), score) - scores_.begin());
  const size_t lo = hi - 1;
  const float t = (score - scores_[lo]) / (scores_[hi] - scores_[lo]);
  return probabilities_[lo] + t * (probabilities_[hi] - probabilities_[lo]);
}

}  // namespace marketsearch
