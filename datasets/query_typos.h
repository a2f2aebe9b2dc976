// Typing mistakes for evaluating (and, later, training) how search copes with misspelt queries:
// the project's own perturbation code, so a typo'd copy of a query set is reproducible from
// (query, kind, seed) alone.
//
// One typo goes into the query's longest alphabetic ASCII word of at least 4 letters (the
// first such word on ties): the word a buyer is most likely to mistype and the one that
// carries the most meaning. The word's first letter is kept (people rarely get it wrong, and
// spelling correctors rely on it as well). Kinds:
//   swap       two adjacent letters exchanged         "drill"   -> "dirll"
//   deletion   one letter dropped                     "drill"   -> "dril"
//   doubling   one letter typed twice                 "drill"   -> "drrill"
//   keyboard   one letter replaced by a QWERTY neighbour  "drill" -> "dtill"
//   insertion  a QWERTY neighbour of a letter typed beside it  "drill" -> "drtill"
// The generator's training queries use swaps, deletions, doublings and vowel-like
// substitutions (datasets/marketplace_generator.cc); keyboard substitutions and insertions are
// kinds a model trained on those has not seen.
//
// Thread safety: pure functions.
#ifndef MARKETSEARCH_DATASETS_QUERY_TYPOS_H_
#define MARKETSEARCH_DATASETS_QUERY_TYPOS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace marketsearch {

enum class TypoKind { kSwap, kDeletion, kDoubling, kKeyboard, kInsertion };

// Every kind, in the order above.
const std::vector<TypoKind>& AllTypoKinds();
// "swap", "deletion", "doubling", "keyboard", "insertion".
absl::string_view TypoKindName(TypoKind kind);
// The kind of a name above; InvalidArgument naming the accepted names otherwise.
absl::StatusOr<TypoKind> ParseTypoKind(absl::string_view name);

// `query` with one typo of `kind` in its longest alphabetic word of 4+ letters (see above).
// `seed` picks the position and the letter: the same (query, kind, seed) always gives the same
// text, on every platform. A query without such a word is returned unchanged, with *changed
// (optional) set to false.
std::string WithTypo(absl::string_view query, TypoKind kind, uint64_t seed,
                     bool* changed = nullptr);

}  // namespace marketsearch

#endif  // MARKETSEARCH_DATASETS_QUERY_TYPOS_H_
