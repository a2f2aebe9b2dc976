#include "serving/experiment_router.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "experiments/attribution_token.h"

namespace marketsearch {

absl::StatusOr<std::string> LoadOrCreateTokenKey(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    absl::StatusOr<std::string> key = ReadFile(path);
    if (!key.ok()) return key.status();
    if (key->size() < 16) {
      return absl::DataLossError(absl::StrCat("experiment token key ", path, ": ", key->size(),
                                              " bytes, at least 16 needed"));
    }
    return key;
  }
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return absl::InternalError("experiment token key: RAND_bytes failed");
  }
  if (absl::Status s = WriteFileAtomically(path, key); !s.ok()) return s;
  ::chmod(path.c_str(), 0600);
  return key;
}

Searcher::Options ApplyOverrides(const Searcher::Options& base, const ServingOverrides& o) {
  Searcher::Options out = base;
  if (o.has_use_ranker()) out.use_ranker = o.use_ranker();
  if (o.has_ranker_version()) out.use_ranker = true;
  if (o.has_retrieval_mode()) {
    out.mode = o.retrieval_mode() == "ann_only"       ? RetrievalMode::kAnnOnly
               : o.retrieval_mode() == "lexical_only" ? RetrievalMode::kLexicalOnly
                                                      : RetrievalMode::kHybrid;
  }
  if (o.has_fusion_ann_weight()) out.fusion.ann_weight = o.fusion_ann_weight();
  if (o.has_min_candidates()) out.min_candidates = std::min(o.min_candidates(), out.max_candidates);
  if (o.has_rank_depth()) out.rank_depth = o.rank_depth();
  if (o.has_fresh_boost()) out.rules.fresh_boost = o.fresh_boost();
  if (o.has_diversity_top_n()) out.rules.diversity_top_n = o.diversity_top_n();
  if (o.has_max_per_seller()) out.rules.max_per_seller = o.max_per_seller();
  return out;
}

absl::StatusOr<std::unique_ptr<ExperimentRouter>> ExperimentRouter::Create(const Options& options) {
  if (options.token_key.size() < 16) {
    return absl::InvalidArgumentError(absl::StrCat(
        "experiment token key: at least 16 bytes needed, got ", options.token_key.size()));
  }
  return std::unique_ptr<ExperimentRouter>(new ExperimentRouter(options));
}

absl::Status ExperimentRouter::Reload(int64_t now_unix_s) {
  struct stat st;
  if (options_.config_path.empty() || ::stat(options_.config_path.c_str(), &st) != 0) {
    return absl::OkStatus();  // no file (yet): the current set (none, or the last) stays
  }
  const int64_t size = st.st_size;
  const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  std::shared_ptr<const ExperimentSet> previous;
  {
    absl::MutexLock lock(&mu_);
    if (size == file_size_ && mtime_ns == file_mtime_ns_) return absl::OkStatus();
    // Remember the attempt: a bad file is reported once, not on every poll.
    file_size_ = size;
    file_mtime_ns_ = mtime_ns;
    previous = set_;
  }
  absl::StatusOr<std::shared_ptr<const ExperimentSet>> loaded = ExperimentSet::Load(
      options_.config_path, previous.get(), now_unix_s, options_.ranker_loadable);
  if (!loaded.ok()) return loaded.status();
  absl::MutexLock lock(&mu_);
  set_ = *std::move(loaded);
  ++loads_;
  return absl::OkStatus();
}

std::shared_ptr<const ExperimentSet> ExperimentRouter::current() const {
  absl::MutexLock lock(&mu_);
  return set_;
}

int64_t ExperimentRouter::loads() const {
  absl::MutexLock lock(&mu_);
  return loads_;
}

absl::StatusOr<ExperimentRouter::Route> ExperimentRouter::RouteRequest(
    const SearchRequest& request, const Searcher::Options& base, int64_t now_unix_s) const {
  if (request.force_arms_size() > 0 && !options_.allow_forced_arms) {
    return absl::InvalidArgumentError(
        "force_arms: QA overrides are disabled on this server (start it with "
        "--experiment_qa_overrides)");
  }
  Route route;
  route.set = current();
  if (route.set == nullptr) return route;
  std::string unit;
  if (request.user_id() != 0) {
    unit = absl::StrCat(request.user_id());
  } else if (!request.anonymous_id().empty()) {
    unit = absl::StrCat("anon:", request.anonymous_id());
  }
  absl::flat_hash_map<std::string, std::string> forced(request.force_arms().begin(),
                                                       request.force_arms().end());
  if (unit.empty() && forced.empty()) return route;  // nothing to hash on: not enrolled
  route.arms = route.set->Assign(unit, now_unix_s, forced.empty() ? nullptr : &forced);
  if (route.arms.empty()) return route;
  route.options = base;  // copied only for a request that arms change
  const Experiment* interleaved = nullptr;
  for (ArmAssignment& a : route.arms) {
    if (a.type == Experiment::INTERLEAVING && interleaved == nullptr && !a.forced) {
      interleaved = route.set->Find(a.experiment);
      a.arm = "interleaved";
      a.arm_index = -1;
      continue;  // both arms' overrides apply below, one ranking each
    }
    if (a.overrides != nullptr) route.options = WithArm(route.options, *a.overrides);
  }
  if (interleaved != nullptr) {
    route.interleave = true;
    route.interleave_a = WithArm(route.options, interleaved->arms(0).overrides());
    route.interleave_b = WithArm(route.options, interleaved->arms(1).overrides());
    route.options = route.interleave_a;
  }
  return route;
}

Searcher::Options ExperimentRouter::WithArm(const Searcher::Options& base,
                                            const ServingOverrides& overrides) const {
  Searcher::Options out = ApplyOverrides(base, overrides);
  if (overrides.has_ranker_version() && options_.ranker_for_version) {
    out.ranker = options_.ranker_for_version(overrides.ranker_version());
    out.ranker_version = overrides.ranker_version();
  }
  return out;
}

std::string ExperimentRouter::Sign(const std::string& payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), options_.token_key.data(), static_cast<int>(options_.token_key.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), static_cast<size_t>(len)));
}

void ExperimentRouter::AddArms(const Route& route, SearchResponse* response) {
  for (const ArmAssignment& a : route.arms) {
    ServedArm* s = response->add_arms();
    s->set_layer(a.layer);
    s->set_experiment(a.experiment);
    s->set_arm(a.arm);
    s->set_forced(a.forced);
  }
}

void ExperimentRouter::Annotate(const Route& route, SearchResponse* response) const {
  if (route.arms.empty()) return;
  AddArms(route, response);
  const std::string encoded = EncodeAttributionPayload(response->request_id(), response->arms());
  response->set_attribution_token(absl::StrCat(encoded, ".", Sign(encoded)));
}

absl::StatusOr<std::vector<ServedArm>> ExperimentRouter::VerifyToken(
    const std::string& token, const std::string& request_id) const {
  const size_t dot = token.rfind('.');
  if (dot == std::string::npos) {
    return absl::InvalidArgumentError("attribution_token: malformed (pass it unchanged)");
  }
  const std::string expected = Sign(token.substr(0, dot));
  const std::string mac = token.substr(dot + 1);
  if (mac.size() != expected.size() || CRYPTO_memcmp(mac.data(), expected.data(), mac.size()) != 0) {
    return absl::InvalidArgumentError(
        "attribution_token: signature does not verify (not issued by this deployment, or altered)");
  }
  absl::StatusOr<AttributionPayload> payload = DecodeAttributionPayload(token);
  if (!payload.ok()) return payload.status();
  if (payload->request_id != request_id) {
    return absl::InvalidArgumentError(
        "attribution_token: issued for another request_id than the event's");
  }
  return std::move(payload->arms);
}

}  // namespace marketsearch
