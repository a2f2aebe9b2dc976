// UTF-8 well-formedness, for code that must refuse or report malformed text without
// normalising it (request validation, the request-bytes parser, listings.tsv validation). Kept
// apart from the normaliser (features/text_normalizer.h) so that its visibility lists only the
// targets that really normalise text. Stateless and thread-safe.
#ifndef MARKETSEARCH_FEATURES_UTF8_H_
#define MARKETSEARCH_FEATURES_UTF8_H_

#include <string_view>

namespace marketsearch {

// True when `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_UTF8_H_
