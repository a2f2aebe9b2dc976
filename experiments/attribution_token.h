// The attribution token's payload: which request and which experiment arms served a page,
// as the server signs it (serving/experiment_router.h adds and checks the HMAC) and as the
// report reads it for an event whose impression is not in the log.
//
// Token = web-safe base64 of "v1|<request id>|<layer>/<experiment>/<arm>/<forced 0|1>;..."
// then "." and the signature. Layer, experiment and arm names are [a-z0-9_-]
// (ExperimentSet validates them), so the separators cannot occur inside them.
#ifndef MARKETSEARCH_EXPERIMENTS_ATTRIBUTION_TOKEN_H_
#define MARKETSEARCH_EXPERIMENTS_ATTRIBUTION_TOKEN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/search.pb.h"

namespace marketsearch {

// The encoded payload (the part of the token before the '.').
std::string EncodeAttributionPayload(const std::string& request_id,
                                     const google::protobuf::RepeatedPtrField<ServedArm>& arms);

struct AttributionPayload {
  std::string request_id;
  std::vector<ServedArm> arms;
};
// Parses the payload of `token` (everything before its last '.', or the whole string). Does
// not check the signature. InvalidArgument naming attribution_token when malformed.
absl::StatusOr<AttributionPayload> DecodeAttributionPayload(const std::string& token);

}  // namespace marketsearch

#endif  // MARKETSEARCH_EXPERIMENTS_ATTRIBUTION_TOKEN_H_
