// ExperimentSet: a validated experiment configuration (proto/experiment.proto), and the
// assignment of a user to one arm per layer.
//
// Every rule is checked when the file is loaded, never at request time: a file that breaks one
// is refused with an error naming the layer, experiment, arm and field, and the caller keeps
// serving the previous set. The rules: unknown fields (the text-proto parser), names and keys
// unique and well-formed, at least two arms with weights > 0 summing to 1, an experiment's
// range inside [0, 1), no two experiments of a layer sharing users while both run, start
// before stop, overrides in range (retrieval mode, fusion weight, depths), an interleaving
// experiment with exactly two arms, every ranker version an arm names loadable (asked of the
// caller), and — against the set it replaces — no change to the salt, type, range, arms or
// weights of an experiment that is running (a change is a new experiment, under a new key).
//
// Assignment hashes with GrowthBook's v2 hash (FNV-1a 32 of salt + id, then FNV-1a 32 of that
// number's decimal text, mod 10000): the same users land in the same arms as in GrowthBook's
// SDKs for the same salts.
//
// Thread safety: an ExperimentSet is immutable; share it through shared_ptr.
#ifndef MARKETSEARCH_EXPERIMENTS_EXPERIMENT_CONFIG_H_
#define MARKETSEARCH_EXPERIMENTS_EXPERIMENT_CONFIG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/experiment.pb.h"

namespace marketsearch {

// u in [0, 1) for (salt, id): GrowthBook hash v2.
double HashToUnit(std::string_view salt, std::string_view id);
// FNV-1a 32 over the bytes of `s`.
uint32_t Fnv1a32(std::string_view s);

// The arm serving a request in one layer.
struct ArmAssignment {
  std::string layer;
  std::string experiment;
  std::string arm;
  int arm_index = 0;   // 0 = control
  bool forced = false; // a QA override chose it: excluded from analysis
  Experiment::Type type = Experiment::AB;
  const ServingOverrides* overrides = nullptr;  // points into the ExperimentSet
};

class ExperimentSet {
 public:
  // Whether ranker version `version` can be loaded (the lifecycle manager's check). Null: every
  // version is accepted (offline tools that serve nothing).
  using RankerVersionCheck = std::function<absl::Status(int64_t version)>;

  // Parses and validates `text` (`source` names it in errors). `previous` (may be null) is the
  // set being replaced: experiments running in it at `now_unix_s` must be unchanged.
  static absl::StatusOr<std::shared_ptr<const ExperimentSet>> Parse(
      const std::string& text, const std::string& source, const ExperimentSet* previous,
      int64_t now_unix_s, const RankerVersionCheck& ranker_loadable = nullptr);
  // The same for a file. NotFound when it does not exist.
  static absl::StatusOr<std::shared_ptr<const ExperimentSet>> Load(
      const std::string& path, const ExperimentSet* previous, int64_t now_unix_s,
      const RankerVersionCheck& ranker_loadable = nullptr);

  // One arm per layer whose running experiment holds `unit_id` (the user id as decimal text,
  // or the request's anonymous id). `forced` (may be null): experiment key -> arm name, the QA
  // override (only when the server enables it); an unknown key or arm there is ignored.
  std::vector<ArmAssignment> Assign(std::string_view unit_id, int64_t now_unix_s,
                                    const absl::flat_hash_map<std::string, std::string>* forced =
                                        nullptr) const;

  const ExperimentConfig& config() const { return config_; }
  // Ranker versions named by the arms of experiments running (or starting later) at `now`.
  std::vector<int64_t> RankerVersionsNeeded(int64_t now_unix_s) const;
  // The experiment with `key`, or null.
  const Experiment* Find(const std::string& key) const;

  static bool Running(const Experiment& e, int64_t now_unix_s) {
    return e.start_unix_s() <= now_unix_s && (e.stop_unix_s() == 0 || now_unix_s < e.stop_unix_s());
  }

 private:
  ExperimentSet() = default;
  ExperimentConfig config_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_EXPERIMENTS_EXPERIMENT_CONFIG_H_
