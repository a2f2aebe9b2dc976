// Unicode text normalisation and tokenisation shared by every component that reads text
// (query featurisation, listing featurisation, lexical index). Stateless and thread-safe.
#ifndef MARKETSEARCH_FEATURES_TEXT_NORMALIZER_H_
#define MARKETSEARCH_FEATURES_TEXT_NORMALIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace marketsearch {

// NFKC + case folding + accent stripping (utf8proc); every character that is not a letter
// or a digit becomes a separator; runs of separators collapse to one space; no leading or
// trailing space. Invalid UTF-8 yields an empty string.
std::string NormalizeText(std::string_view text);

// How many times NormalizeText has run in this process (relaxed atomic count), so tests can
// prove that a request normalises its query once (ParseQuery) and its cached listings never.
int64_t NormalizeTextCalls();

// Splits normalised text on spaces.
std::vector<std::string> Tokenize(std::string_view normalized);

// True when `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

// Unicode code points of a UTF-8 string (which must be valid).
std::vector<std::string> SplitCodepoints(std::string_view utf8);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_TEXT_NORMALIZER_H_
