#include "datasets/query_typos.h"

#include <array>
#include <cctype>
#include <utility>

#include "absl/strings/str_cat.h"

namespace marketsearch {
namespace {

// splitmix64: a fixed, platform-independent stream of 64-bit values from one seed (the
// standard library's distributions are implementation-defined).
class Stream {
 public:
  explicit Stream(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n) for n far below 2^64.
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

// FNV-1a of the query, mixed into the seed: each query gets its own stream.
uint64_t QuerySeed(absl::string_view query, TypoKind kind, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : query) h = (h ^ c) * 0x100000001b3ULL;
  return h ^ (seed * 0x9E3779B97F4A7C15ULL) ^ (static_cast<uint64_t>(kind) + 1);
}

// QWERTY neighbours of each lowercase letter (same row and the rows above and below).
absl::string_view Neighbours(char lower) {
  static const std::array<const char*, 26> kNear = {
      "qwsz",    // a
      "vghn",    // b
      "xdfv",    // c
      "serfcx",  // d
      "wsdr",    // e
      "drtgvc",  // f
      "ftyhbv",  // g
      "gyujnb",  // h
      "ujko",    // i
      "huikmn",  // j
      "jiolm",   // k
      "kop",     // l
      "njk",     // m
      "bhjm",    // n
      "iklp",    // o
      "ol",      // p
      "wa",      // q
      "edft",    // r
      "awedxz",  // s
      "rfgy",    // t
      "yhji",    // u
      "cfgb",    // v
      "qase",    // w
      "zsdc",    // x
      "tghu",    // y
      "asx",     // z
  };
  return kNear[lower - 'a'];
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A QWERTY neighbour of `c` (a letter), in c's case.
char NeighbourOf(char c, Stream* s) {
  const bool upper = c >= 'A' && c <= 'Z';
  const char lower = upper ? static_cast<char>(c - 'A' + 'a') : c;
  const absl::string_view near = Neighbours(lower);
  const char n = near[s->Below(near.size())];
  return upper ? static_cast<char>(n - 'a' + 'A') : n;
}

}  // namespace

const std::vector<TypoKind>& AllTypoKinds() {
  static const auto* kinds = new std::vector<TypoKind>{
      TypoKind::kSwap, TypoKind::kDeletion, TypoKind::kDoubling, TypoKind::kKeyboard,
      TypoKind::kInsertion};
  return *kinds;
}

absl::string_view TypoKindName(TypoKind kind) {
  switch (kind) {
    case TypoKind::kSwap: return "swap";
    case TypoKind::kDeletion: return "deletion";
    case TypoKind::kDoubling: return "doubling";
    case TypoKind::kKeyboard: return "keyboard";
    case TypoKind::kInsertion: return "insertion";
  }
  return "?";
}

absl::StatusOr<TypoKind> ParseTypoKind(absl::string_view name) {
  for (TypoKind k : AllTypoKinds()) {
    if (TypoKindName(k) == name) return k;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown typo kind '", name, "'; expected swap, deletion, doubling, keyboard or insertion"));
}

std::string WithTypo(absl::string_view query, TypoKind kind, uint64_t seed, bool* changed) {
  // The longest alphabetic word of 4+ letters (words are separated by anything but a letter
  // or digit; a word with a digit or a non-ASCII byte is not alphabetic).
  size_t best_pos = 0, best_len = 0;
  for (size_t i = 0; i < query.size();) {
    const auto word_byte = [](unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; };
    if (!word_byte(static_cast<unsigned char>(query[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    bool alpha = true;
    while (j < query.size() && word_byte(static_cast<unsigned char>(query[j]))) {
      alpha &= IsAsciiLetter(query[j]);
      ++j;
    }
    if (alpha && j - i >= 4 && j - i > best_len) best_pos = i, best_len = j - i;
    i = j;
  }
  std::string out(query);
  if (changed != nullptr) *changed = best_len > 0;
  if (best_len == 0) return out;
  Stream s(QuerySeed(query, kind, seed));
  std::string w(query.substr(best_pos, best_len));
  const size_t n = w.size();
  switch (kind) {
    case TypoKind::kSwap: {
      // Positions 1..n-2 whose letter differs from the next one (a swap of equal letters is
      // no typo; a word like "baaa" has none and stays as it is).
      std::vector<size_t> at;
      for (size_t p = 1; p + 1 < n; ++p) {
        if (w[p] != w[p + 1]) at.push_back(p);
      }
      if (at.empty()) {
        if (changed != nullptr) *changed = false;
        return out;
      }
      const size_t p = at[s.Below(at.size())];
      std::swap(w[p], w[p + 1]);
      break;
    }
    case TypoKind::kDeletion:
      w.erase(1 + s.Below(n - 1), 1);
      break;
    case TypoKind::kDoubling: {
      const size_t p = 1 + s.Below(n - 1);
      w.insert(p, 1, w[p]);
      break;
    }
    case TypoKind::kKeyboard: {
      const size_t p = 1 + s.Below(n - 1);
      w[p] = NeighbourOf(w[p], &s);
      break;
    }
    case TypoKind::kInsertion: {
      // The neighbour of a letter, typed right after it (the finger touched two keys).
      const size_t p = 1 + s.Below(n - 1);
      w.insert(p + 1, 1, NeighbourOf(w[p], &s));
      break;
    }
  }
  out.replace(best_pos, best_len, w);
  return out;
}

}  // namespace marketsearch
