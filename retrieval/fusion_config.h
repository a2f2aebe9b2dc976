// The deployment's fusion of the two retrieval legs (proto FusionConfig in
// <data_dir>/fusion.textproto, chosen by jobs/tune_fusion on the valid split). One default
// does not fit every catalog: RRF with the ANN leg at 0.7 is best on the synthetic
// marketplace, where the two-tower leg is strong, and worse than BM25 alone on small
// ESCI/WANDS-shaped catalogs, where it is weak (README: search quality).
#ifndef MARKETSEARCH_RETRIEVAL_FUSION_CONFIG_H_
#define MARKETSEARCH_RETRIEVAL_FUSION_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/manifest.pb.h"
#include "retrieval/candidate_merge.h"

namespace marketsearch {

// The file jobs/tune_fusion writes and the server reads by default.
std::string FusionConfigPath(const std::string& data_dir);

// "rrf" / "score_blend".
const char* FusionMethodName(FusionMethod method);

// Checks and converts; InvalidArgument naming the field (method unknown, ann_weight outside
// [0, 1], rrf_k negative or not finite). Unset rrf_k = the default.
absl::StatusOr<FusionOptions> FusionOptionsFromConfig(const FusionConfig& config);

// Parses and checks the file at `path`; errors name the file and the field.
absl::StatusOr<FusionOptions> LoadFusionConfig(const std::string& path);

// What a data directory serves: its fusion.textproto when it exists, else the built-in
// default (FusionOptions()). `source`, when given, is set to the file read or to "built-in
// default", for logs. A file that exists but is invalid is an error, never the default.
absl::StatusOr<FusionOptions> LoadDeploymentFusion(const std::string& data_dir,
                                                   std::string* source = nullptr);

// One line for logs and tables: "rrf ann_weight=0.70" / "score_blend ann_weight=0.30".
std::string DescribeFusion(const FusionOptions& options);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_FUSION_CONFIG_H_
