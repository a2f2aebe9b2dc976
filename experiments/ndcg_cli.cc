// ndcg_cli: reads cases "k<TAB>ranked ids (comma-separated)<TAB>id:label,..." on stdin and
// prints NDCG@k per line. Exists so tests can check the C++ metric against scikit-learn.
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "experiments/metrics.h"
#include "proto/esci.h"

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() != 3) {
      std::cerr << "bad line: " << line << "\n";
      return 1;
    }
    int k = 0;
    absl::SimpleAtoi(f[0], &k);
    std::vector<uint64_t> ranked;
    for (absl::string_view s : absl::StrSplit(f[1], ',', absl::SkipEmpty())) {
      uint64_t id;
      if (absl::SimpleAtoi(s, &id)) ranked.push_back(id);
    }
    marketsearch::QueryJudgments judged;
    for (absl::string_view s : absl::StrSplit(f[2], ',', absl::SkipEmpty())) {
      std::pair<std::string, std::string> p = absl::StrSplit(s, ':');
      uint64_t id;
      auto label = marketsearch::ParseEsci(p.second);
      if (absl::SimpleAtoi(p.first, &id) && label.ok()) judged[id] = *label;
    }
    std::printf("%.12f\n", marketsearch::NdcgAtK(ranked, judged, k));
  }
  return 0;
}
