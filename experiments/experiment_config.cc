#include "experiments/experiment_config.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/text_proto.h"
#include "google/protobuf/util/message_differencer.h"

namespace marketsearch {
namespace {

bool WellFormedName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Whether two experiments' time windows overlap ([start, stop), stop 0 = open-ended).
bool TimesOverlap(const Experiment& a, const Experiment& b) {
  const int64_t a_end = a.stop_unix_s() == 0 ? INT64_MAX : a.stop_unix_s();
  const int64_t b_end = b.stop_unix_s() == 0 ? INT64_MAX : b.stop_unix_s();
  return a.start_unix_s() < b_end && b.start_unix_s() < a_end;
}

absl::Status CheckOverrides(const ServingOverrides& o, const std::string& where,
                            const ExperimentSet::RankerVersionCheck& ranker_loadable) {
  if (o.has_retrieval_mode() && o.retrieval_mode() != "hybrid" &&
      o.retrieval_mode() != "ann_only" && o.retrieval_mode() != "lexical_only") {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ".overrides.retrieval_mode: '", o.retrieval_mode(),
        "' is none of hybrid, ann_only, lexical_only"));
  }
  if (o.has_fusion_ann_weight() &&
      !(o.fusion_ann_weight() >= 0 && o.fusion_ann_weight() <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".overrides.fusion_ann_weight: ",
                                                   o.fusion_ann_weight(), " is outside [0, 1]"));
  }
  if (o.has_min_candidates() && (o.min_candidates() < 10 || o.min_candidates() > 1000)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".overrides.min_candidates: ",
                                                   o.min_candidates(), " is outside [10, 1000]"));
  }
  if (o.has_rank_depth() && (o.rank_depth() < 1 || o.rank_depth() > 1000)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".overrides.rank_depth: ", o.rank_depth(), " is outside [1, 1000]"));
  }
  if (o.has_fresh_boost() && !(std::fabs(o.fresh_boost()) <= 10)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".overrides.fresh_boost: ", o.fresh_boost(), " is outside [-10, 10]"));
  }
  if (o.has_diversity_top_n() && (o.diversity_top_n() < 0 || o.diversity_top_n() > 1000)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ".overrides.diversity_top_n: ", o.diversity_top_n(), " is outside [0, 1000]"));
  }
  if (o.has_max_per_seller() && o.max_per_seller() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".overrides.max_per_seller: ", o.max_per_seller(), " must be >= 1"));
  }
  if (o.has_ranker_version()) {
    if (o.has_use_ranker() && !o.use_ranker()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".overrides: ranker_version with use_ranker: false"));
    }
    if (o.ranker_version() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".overrides.ranker_version: ",
                                                     o.ranker_version(), " must be >= 1"));
    }
    if (ranker_loadable) {
      const absl::Status s = ranker_loadable(o.ranker_version());
      if (!s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".overrides.ranker_version: ",
                                                       o.ranker_version(), " cannot be loaded: ",
                                                       s.message()));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckExperiment(const Experiment& e, const std::string& where,
                             const ExperimentSet::RankerVersionCheck& ranker_loadable) {
  if (!(e.range_begin() >= 0 && e.range_begin() < e.range_end() && e.range_end() <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": range [", e.range_begin(), ", ",
                                                   e.range_end(), ") is not inside [0, 1)"));
  }
  if (e.start_unix_s() < 0 || (e.stop_unix_s() != 0 && e.stop_unix_s() <= e.start_unix_s())) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": stop_unix_s ", e.stop_unix_s(),
                                                   " is not after start_unix_s ", e.start_unix_s()));
  }
  if (e.arms_size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", e.arms_size(),
                                                   " arms; an experiment needs a control and at "
                                                   "least one treatment"));
  }
  if (e.type() == Experiment::INTERLEAVING && e.arms_size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": an interleaving experiment has exactly 2 arms, not ", e.arms_size()));
  }
  if (!e.primary_metric().empty() && e.primary_metric() != "ctr" && e.primary_metric() != "ndcg10") {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ".primary_metric: '", e.primary_metric(), "' is neither ctr nor ndcg10"));
  }
  if (e.planned_users_per_arm() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".planned_users_per_arm: ",
                                                   e.planned_users_per_arm(), " is negative"));
  }
  absl::flat_hash_set<std::string> arms;
  double total = 0;
  for (const ExperimentArm& a : e.arms()) {
    const std::string at = absl::StrCat(where, " arm '", a.name(), "'");
    if (!WellFormedName(a.name())) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": name must be 1-64 characters of [a-z0-9_-]"));
    }
    if (!arms.insert(a.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(at, ": a second arm of that name"));
    }
    if (!(a.weight() > 0 && a.weight() <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".weight: ", a.weight(), " is outside (0, 1]"));
    }
    total += a.weight();
    if (absl::Status s = CheckOverrides(a.overrides(), at, ranker_loadable); !s.ok()) return s;
  }
  if (std::fabs(total - 1) > 1e-6) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": arm weights sum to ", total, ", not 1"));
  }
  return absl::OkStatus();
}

// What of a running experiment may not change: everything that decides who gets which arm.
bool SameAssignment(const Experiment& a, const Experiment& b) {
  if (a.salt() != b.salt() || a.type() != b.type() || a.range_begin() != b.range_begin() ||
      a.range_end() != b.range_end() || a.start_unix_s() != b.start_unix_s() ||
      a.arms_size() != b.arms_size()) {
    return false;
  }
  for (int i = 0; i < a.arms_size(); ++i) {
    if (a.arms(i).name() != b.arms(i).name() || a.arms(i).weight() != b.arms(i).weight() ||
        !google::protobuf::util::MessageDifferencer::Equals(a.arms(i).overrides(),
                                                           b.arms(i).overrides())) {
      return false;
    }
  }
  return true;
}

const std::string& LayerSalt(const ExperimentLayer& l) { return l.salt().empty() ? l.name() : l.salt(); }
const std::string& ExperimentSalt(const Experiment& e) { return e.salt().empty() ? e.key() : e.salt(); }

}  // namespace

uint32_t Fnv1a32(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

double HashToUnit(std::string_view salt, std::string_view id) {
  std::string keyed(salt);
  keyed.append(id);
  const uint32_t h = Fnv1a32(keyed);
  return static_cast<double>(Fnv1a32(std::to_string(h)) % 10000) / 10000.0;
}

absl::StatusOr<std::shared_ptr<const ExperimentSet>> ExperimentSet::Parse(
    const std::string& text, const std::string& source, const ExperimentSet* previous,
    int64_t now_unix_s, const RankerVersionCheck& ranker_loadable) {
  std::shared_ptr<ExperimentSet> set(new ExperimentSet());
  if (absl::Status s = ParseTextProto(text, source, &set->config_); !s.ok()) return s;
  absl::flat_hash_set<std::string> layers, keys;
  for (const ExperimentLayer& layer : set->config_.layers()) {
    const std::string lw = absl::StrCat(source, ": layer '", layer.name(), "'");
    if (!WellFormedName(layer.name())) {
      return absl::InvalidArgumentError(absl::StrCat(lw, ": name must be 1-64 characters of [a-z0-9_-]"));
    }
    if (!layers.insert(layer.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(lw, ": a second layer of that name"));
    }
    for (int i = 0; i < layer.experiments_size(); ++i) {
      const Experiment& e = layer.experiments(i);
      const std::string ew = absl::StrCat(lw, " experiment '", e.key(), "'");
      if (!WellFormedName(e.key())) {
        return absl::InvalidArgumentError(absl::StrCat(ew, ": key must be 1-64 characters of [a-z0-9_-]"));
      }
      if (!keys.insert(e.key()).second) {
        return absl::InvalidArgumentError(absl::StrCat(ew, ": a second experiment with that key"));
      }
      if (absl::Status s = CheckExperiment(e, ew, ranker_loadable); !s.ok()) return s;
      // One experiment per layer per request: two that run at the same time own disjoint ranges.
      for (int j = 0; j < i; ++j) {
        const Experiment& o = layer.experiments(j);
        if (TimesOverlap(e, o) && e.range_begin() < o.range_end() && o.range_begin() < e.range_end()) {
          return absl::InvalidArgumentError(absl::StrCat(
              ew, ": range [", e.range_begin(), ", ", e.range_end(), ") overlaps experiment '",
              o.key(), "' [", o.range_begin(), ", ", o.range_end(), ") while both run"));
        }
      }
    }
  }
  if (previous != nullptr) {
    for (const ExperimentLayer& layer : previous->config_.layers()) {
      for (const Experiment& old : layer.experiments()) {
        if (!Running(old, now_unix_s)) continue;
        const Experiment* now = set->Find(old.key());
        if (now != nullptr && !SameAssignment(old, *now)) {
          return absl::InvalidArgumentError(absl::StrCat(
              source, ": experiment '", old.key(), "' is running: its salt, type, range, start, "
              "arms, weights and overrides cannot change (users would switch arms); stop it and "
              "start a new experiment under a new key"));
        }
      }
    }
  }
  return std::shared_ptr<const ExperimentSet>(std::move(set));
}

absl::StatusOr<std::shared_ptr<const ExperimentSet>> ExperimentSet::Load(
    const std::string& path, const ExperimentSet* previous, int64_t now_unix_s,
    const RankerVersionCheck& ranker_loadable) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat("experiment config ", path, ": cannot read it"));
  }
  return Parse(*text, absl::StrCat("experiment config ", path), previous, now_unix_s,
               ranker_loadable);
}

const Experiment* ExperimentSet::Find(const std::string& key) const {
  for (const ExperimentLayer& layer : config_.layers()) {
    for (const Experiment& e : layer.experiments()) {
      if (e.key() == key) return &e;
    }
  }
  return nullptr;
}

std::vector<int64_t> ExperimentSet::RankerVersionsNeeded(int64_t now_unix_s) const {
  std::set<int64_t> versions;
  for (const ExperimentLayer& layer : config_.layers()) {
    for (const Experiment& e : layer.experiments()) {
      if (e.stop_unix_s() != 0 && e.stop_unix_s() <= now_unix_s) continue;  // over
      for (const ExperimentArm& a : e.arms()) {
        if (a.overrides().has_ranker_version()) versions.insert(a.overrides().ranker_version());
      }
    }
  }
  return {versions.begin(), versions.end()};
}

std::vector<ArmAssignment> ExperimentSet::Assign(
    std::string_view unit_id, int64_t now_unix_s,
    const absl::flat_hash_map<std::string, std::string>* forced) const {
  std::vector<ArmAssignment> out;
  for (const ExperimentLayer& layer : config_.layers()) {
    const Experiment* chosen = nullptr;
    int arm = -1;
    bool was_forced = false;
    if (forced != nullptr) {
      for (const Experiment& e : layer.experiments()) {
        auto it = forced->find(e.key());
        if (it == forced->end() || !Running(e, now_unix_s)) continue;
        for (int i = 0; i < e.arms_size(); ++i) {
          if (e.arms(i).name() == it->second) {
            chosen = &e;
            arm = i;
            was_forced = true;
          }
        }
        if (chosen != nullptr) break;
      }
    }
    if (chosen == nullptr) {
      const double u_layer = HashToUnit(LayerSalt(layer), unit_id);
      for (const Experiment& e : layer.experiments()) {
        if (Running(e, now_unix_s) && e.range_begin() <= u_layer && u_layer < e.range_end()) {
          chosen = &e;
          break;
        }
      }
      if (chosen == nullptr) continue;  // this layer serves the defaults to this user
      // The arm hash has its own salt: arms are independent of the layer range and of the
      // layer's earlier experiments.
      const double u_arm = HashToUnit(ExperimentSalt(*chosen), unit_id);
      double start = 0;
      arm = chosen->arms_size() - 1;  // weights sum to 1 up to rounding: the last arm takes it
      for (int i = 0; i < chosen->arms_size(); ++i) {
        start += chosen->arms(i).weight();
        if (u_arm < start) {
          arm = i;
          break;
        }
      }
    }
    ArmAssignment a;
    a.layer = layer.name();
    a.experiment = chosen->key();
    a.arm = chosen->arms(arm).name();
    a.arm_index = arm;
    a.forced = was_forced;
    a.type = chosen->type();
    a.overrides = &chosen->arms(arm).overrides();
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace marketsearch
