#include "experiments/attribution_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace marketsearch {
namespace {
constexpr char kVersion[] = "v1";
}  // namespace

std::string EncodeAttributionPayload(const std::string& request_id,
                                     const google::protobuf::RepeatedPtrField<ServedArm>& arms) {
  std::vector<std::string> parts;
  for (const ServedArm& a : arms) {
    parts.push_back(absl::StrCat(a.layer(), "/", a.experiment(), "/", a.arm(), "/", a.forced() ? 1 : 0));
  }
  std::string encoded;
  absl::WebSafeBase64Escape(absl::StrCat(kVersion, "|", request_id, "|", absl::StrJoin(parts, ";")),
                            &encoded);
  return encoded;
}

absl::StatusOr<AttributionPayload> DecodeAttributionPayload(const std::string& token) {
  const size_t dot = token.rfind('.');
  std::string payload;
  if (!absl::WebSafeBase64Unescape(token.substr(0, dot), &payload)) {
    return absl::InvalidArgumentError("attribution_token: malformed (pass it unchanged)");
  }
  std::vector<std::string> fields = absl::StrSplit(payload, absl::MaxSplits('|', 2));
  if (fields.size() != 3 || fields[0] != kVersion) {
    return absl::InvalidArgumentError("attribution_token: unknown token version");
  }
  AttributionPayload out;
  out.request_id = fields[1];
  for (absl::string_view part : absl::StrSplit(fields[2], ';', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(part, '/');
    if (f.size() != 4) return absl::InvalidArgumentError("attribution_token: malformed arms");
    ServedArm a;
    a.set_layer(f[0]);
    a.set_experiment(f[1]);
    a.set_arm(f[2]);
    a.set_forced(f[3] == "1");
    out.arms.push_back(std::move(a));
  }
  return out;
}

}  // namespace marketsearch
