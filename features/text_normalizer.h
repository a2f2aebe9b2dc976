// Unicode text normalisation and tokenisation shared by every component that reads text
// (query featurisation, listing featurisation, lexical index). A request's query is normalised
// once, by ParseQuery (features/featurizer.h); the BUILD target's visibility lists who else may.
// (Well-formedness alone is IsValidUtf8, features/utf8.h.) Stateless and thread-safe.
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
// Pure-ASCII text (most listing and query text) takes a byte loop that gives exactly what
// utf8proc gives for it (lower case; letters and digits kept); NormalizeTextUnicode is the
// general path, exposed so the tests can hold the two equal.
std::string NormalizeText(std::string_view text);
std::string NormalizeTextUnicode(std::string_view text);

// How many times NormalizeText has run on the calling thread, so tests can prove that a
// request normalises its query once (ParseQuery) and its cached listings never.
int64_t NormalizeTextCalls();

// Splits normalised text on spaces.
std::vector<std::string> Tokenize(std::string_view normalized);

// Unicode code points of a UTF-8 string (which must be valid).
std::vector<std::string> SplitCodepoints(std::string_view utf8);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_TEXT_NORMALIZER_H_
