#include "retrieval/fusion_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/text_proto.h"

namespace marketsearch {

std::string FusionConfigPath(const std::string& data_dir) { return data_dir + "/fusion.textproto"; }

const char* FusionMethodName(FusionMethod method) {
  return method == FusionMethod::kScoreBlend ? "score_blend" : "rrf";
}

absl::StatusOr<FusionOptions> FusionOptionsFromConfig(const FusionConfig& config) {
  FusionOptions o;
  if (config.method() == "rrf") {
    o.method = FusionMethod::kReciprocalRank;
  } else if (config.method() == "score_blend") {
    o.method = FusionMethod::kScoreBlend;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("method: \"", config.method(), "\" is not one of \"rrf\", \"score_blend\""));
  }
  if (!(config.ann_weight() >= 0 && config.ann_weight() <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ann_weight: ", config.ann_weight(), " is outside [0, 1]"));
  }
  o.ann_weight = config.ann_weight();
  if (!std::isfinite(config.rrf_k()) || config.rrf_k() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("rrf_k: ", config.rrf_k(), " must be a finite number >= 0"));
  }
  if (config.rrf_k() > 0) o.rrf_k = config.rrf_k();
  return o;
}

absl::StatusOr<FusionOptions> LoadFusionConfig(const std::string& path) {
  MS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  FusionConfig config;
  MS_RETURN_IF_ERROR(ParseTextProto(text, path, &config));
  absl::StatusOr<FusionOptions> o = FusionOptionsFromConfig(config);
  if (!o.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", o.status().message()));
  return o;
}

absl::StatusOr<FusionOptions> LoadDeploymentFusion(const std::string& data_dir, std::string* source) {
  const std::string path = FusionConfigPath(data_dir);
  if (!PathExists(path)) {
    if (source != nullptr) *source = "built-in default";
    return FusionOptions();
  }
  if (source != nullptr) *source = path;
  return LoadFusionConfig(path);
}

std::string DescribeFusion(const FusionOptions& o) {
  return absl::StrFormat("%s ann_weight=%.2f", FusionMethodName(o.method), o.ann_weight);
}

}  // namespace marketsearch
