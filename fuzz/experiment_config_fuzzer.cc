// Fuzz target: the experiment config parser and its validation
// (experiments/experiment_config.h, ExperimentSet::Parse of a text proto). Input: the file's
// text. Checks, for a set that parses: it is accepted again as its own successor (nothing
// running changed); every assignment names a layer, experiment and arm of the set, at most one
// per layer; a forced arm is marked forced.
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "experiments/experiment_config.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsearch;
  const std::string text(reinterpret_cast<const char*>(data), size);
  constexpr int64_t kNow = 1800000000;
  auto set = ExperimentSet::Parse(text, "experiments.textproto", nullptr, kNow);
  if (!set.ok()) {
    FUZZ_CHECK(!set.status().message().empty(), "refused without a message");
    return 0;
  }
  const ExperimentSet& s = **set;
  auto again = ExperimentSet::Parse(text, "experiments.textproto", &s, kNow);
  FUZZ_CHECK(again.ok(), "a set is refused as its own successor");
  (void)s.RankerVersionsNeeded(kNow);

  absl::flat_hash_map<std::string, std::string> forced;
  for (const ExperimentLayer& layer : s.config().layers()) {
    for (const Experiment& e : layer.experiments()) {
      FUZZ_CHECK(s.Find(e.key()) != nullptr, "Find misses an experiment of the set");
      if (e.arms_size() > 0) forced[e.key()] = e.arms(e.arms_size() - 1).name();
    }
  }
  for (int user = 0; user < 16; ++user) {
    const std::string unit = absl::StrCat(user * 7919);
    for (const auto* f : {static_cast<decltype(&forced)>(nullptr), &forced}) {
      absl::flat_hash_set<std::string> layers;
      for (const ArmAssignment& a : s.Assign(unit, kNow, f)) {
        FUZZ_CHECK(layers.insert(a.layer).second, "two arms in one layer");
        const Experiment* e = s.Find(a.experiment);
        FUZZ_CHECK(e != nullptr, "assigned to an unknown experiment");
        FUZZ_CHECK(a.arm_index >= 0 && a.arm_index < e->arms_size(), "arm index out of range");
        FUZZ_CHECK(e->arms(a.arm_index).name() == a.arm, "arm name does not match its index");
        if (f == nullptr) FUZZ_CHECK(!a.forced, "forced without an override");
      }
    }
  }
  return 0;
}
