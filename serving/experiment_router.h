// ExperimentRouter: the serving side of the A/B experiment layer. It holds the current
// ExperimentSet (experiments/experiment_config.h), reloads it when its file changes (a file
// that fails validation is reported and the previous set keeps serving), and per request:
//   - assigns the buyer (user_id, else anonymous_id; neither: no experiment) one arm per layer,
//     or the arms the request forces when QA overrides are enabled;
//   - turns the arms' overrides into the Searcher::Options this request runs with;
//   - writes the arms and a signed attribution token into the response.
// The token is HMAC-SHA256 (OpenSSL) over the request id and the arms, so LogEvents can
// attribute an event to its arms even when the impression was dropped, and refuse a token
// that was not issued here.
//
// Thread safety: Route/Annotate/VerifyToken may run concurrently with each other and with
// Reload (the set is swapped under a mutex; a request keeps the set it was routed with).
#ifndef MARKETSEARCH_SERVING_EXPERIMENT_ROUTER_H_
#define MARKETSEARCH_SERVING_EXPERIMENT_ROUTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "experiments/experiment_config.h"
#include "proto/search.pb.h"
#include "serving/searcher.h"

namespace marketsearch {

class ExperimentRouter {
 public:
  struct Options {
    // The configuration file (proto/experiment.proto, text format). A missing file means no
    // experiments until it appears.
    std::string config_path;
    // Honour SearchRequest.force_arms (QA); otherwise a request that sets it is refused.
    bool allow_forced_arms = false;
    // HMAC-SHA256 key of the attribution tokens (at least 16 bytes).
    std::string token_key;
    // Asked for each ranker version an arm names, when a file is loaded (the server loads the
    // version there, serving/version_pool.h).
    ExperimentSet::RankerVersionCheck ranker_loadable;
    // The loaded ranker of a version an arm names (null: not loaded; the arm then ranks with
    // the served ranker). Null function: arms cannot name versions.
    std::function<std::shared_ptr<const Ranker>(int64_t version)> ranker_for_version;
  };

  // InvalidArgument for a short key; the file's own errors are Reload's.
  static absl::StatusOr<std::unique_ptr<ExperimentRouter>> Create(const Options& options);

  // Loads the file when it changed (size or modification time) since the last call. Returns
  // the file's error when it fails validation (the previous set keeps serving); OK when it
  // did not change, loaded, or does not exist (then no experiments run).
  absl::Status Reload(int64_t now_unix_s);
  std::shared_ptr<const ExperimentSet> current() const;
  // Number of successful loads (tests, metrics).
  int64_t loads() const;

  struct Route {
    std::shared_ptr<const ExperimentSet> set;  // keeps `arms[i].overrides` alive
    std::vector<ArmAssignment> arms;
    // The base options with every arm's overrides applied; set only when `arms` is not empty
    // (a request no arm changes runs with the server's own options).
    Searcher::Options options;
    // An interleaving experiment holds this buyer (its ArmAssignment's arm is "interleaved"):
    // the first page interleaves the rankings of `options` with the first arm's overrides
    // (interleave_a) and with the second's (interleave_b); later pages are served with
    // interleave_a. At most one interleaving experiment per request (the first layer's).
    bool interleave = false;
    Searcher::Options interleave_a, interleave_b;
  };
  // The arms and options of `request`. InvalidArgument (naming force_arms) when it forces
  // arms and the server does not allow it. Cheap when no experiment runs.
  absl::StatusOr<Route> RouteRequest(const SearchRequest& request, const Searcher::Options& base,
                                     int64_t now_unix_s) const;
  // Writes the arms and the attribution token of `response` (its request_id must be set).
  void Annotate(const Route& route, SearchResponse* response) const;
  // Only the arms (a failed search's log record: no token, nothing for a client to send back).
  static void AddArms(const Route& route, SearchResponse* response);

  // Checks a token from Event.attribution_token: OK and the arms it carries when it was
  // issued by a server with this key for `request_id`; InvalidArgument otherwise.
  absl::StatusOr<std::vector<ServedArm>> VerifyToken(const std::string& token,
                                                     const std::string& request_id) const;

 private:
  explicit ExperimentRouter(const Options& options) : options_(options) {}
  std::string Sign(const std::string& payload) const;
  // ApplyOverrides plus the ranker of the arm's ranker_version.
  Searcher::Options WithArm(const Searcher::Options& base, const ServingOverrides& overrides) const;

  const Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const ExperimentSet> set_ ABSL_GUARDED_BY(mu_);
  int64_t file_size_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t file_mtime_ns_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
};

// The token key kept at `path`: read when the file exists (at least 16 bytes), else 32 random
// bytes (OpenSSL RAND_bytes) written there first, so that tokens stay valid across restarts.
absl::StatusOr<std::string> LoadOrCreateTokenKey(const std::string& path);

// The Searcher options of `base` with an arm's overrides applied.
Searcher::Options ApplyOverrides(const Searcher::Options& base, const ServingOverrides& overrides);

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_EXPERIMENT_ROUTER_H_
