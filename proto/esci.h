// The ESCI relevance grade of a judged (query, listing) pair (Amazon's Shopping Queries
// labels: Exact, Substitute, Complement, Irrelevant), part of the catalog's data contract
// like proto/catalog.proto: datasets/ writes and reads it (judgments.tsv), experiments/
// scores rankings with its gains. It lives here so the two folders share it without
// depending on each other.
#ifndef MARKETSEARCH_PROTO_ESCI_H_
#define MARKETSEARCH_PROTO_ESCI_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace marketsearch {

// ESCI grades.
enum class Esci { kIrrelevant = 0, kComplement = 1, kSubstitute = 2, kExact = 3 };

// NDCG gain of a grade: Exact 1.0, Substitute 0.1, Complement 0.01, Irrelevant 0.
inline double EsciGain(Esci e) {
  switch (e) {
    case Esci::kExact: return 1.0;
    case Esci::kSubstitute: return 0.1;
    case Esci::kComplement: return 0.01;
    case Esci::kIrrelevant: return 0.0;
  }
  return 0.0;
}

// Parses "E", "S", "C", "I" (also the full words, any case).
inline absl::StatusOr<Esci> ParseEsci(const std::string& raw) {
  const std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
  if (s == "e" || s == "exact") return Esci::kExact;
  if (s == "s" || s == "substitute") return Esci::kSubstitute;
  if (s == "c" || s == "complement") return Esci::kComplement;
  if (s == "i" || s == "irrelevant") return Esci::kIrrelevant;
  return absl::InvalidArgumentError(absl::StrCat("unknown ESCI label '", raw, "'"));
}

}  // namespace marketsearch

#endif  // MARKETSEARCH_PROTO_ESCI_H_
