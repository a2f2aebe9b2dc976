// The MANIFEST of a lexical (Xapian) version directory: what build_lexical records about the
// build, and a sha256 and size for every file of the database, so that a truncated or
// bit-flipped lexical artifact is refused at load (as the FAISS index and the models are)
// instead of serving wrong results or failing at the first query. Xapian writes its own files;
// the checksums are taken from the staged files after Xapian closed them.
//
// Format (text, one "key: value" per line; the file lines come first so that a truncated
// MANIFEST cannot lose the count without losing the files too):
//   files: <n>
//   file: <name> <sha256 hex> <bytes>       (n lines)
//   <other key: value lines>
//
// Thread-compatible; no state.
#ifndef MARKETSEARCH_INDEX_LEXICAL_MANIFEST_H_
#define MARKETSEARCH_INDEX_LEXICAL_MANIFEST_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"

namespace marketsearch {

// "files: <n>" and one "file:" line per regular file directly inside `dir` (sorted by name;
// MANIFEST and *.tmp left out). Errors name the file that could not be read.
absl::StatusOr<std::string> LexicalChecksumLines(const std::string& dir, Env* env = Env::Default());

// Checks every file the MANIFEST of `dir` lists: NotFound when there is no MANIFEST,
// DataLoss naming the file when one is missing, has another size or checksum, or when the
// MANIFEST lists fewer files than it says. A MANIFEST without a "files:" line (written before
// checksums existed) passes with *verified = false.
absl::Status VerifyLexicalVersion(const std::string& dir, bool* verified = nullptr,
                                  Env* env = Env::Default());

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_LEXICAL_MANIFEST_H_
