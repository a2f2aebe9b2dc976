// Files for the fuzz targets whose code under test reads files (the TSV readers, the ESCI and
// WANDS loaders): one private temporary directory per process, made at first use under
// $TEST_TMPDIR (replay tests), else $TMPDIR, else /tmp, and removed at exit.
#ifndef MARKETSEARCH_FUZZ_FUZZ_FILES_H_
#define MARKETSEARCH_FUZZ_FUZZ_FILES_H_

#include <string>
#include <string_view>

namespace marketsearch {

// The process's directory (created on first call; aborts if it cannot be).
const std::string& FuzzTempDir();

// Writes `bytes` to FuzzTempDir()/`name` (replacing it) and returns the path; aborts on error.
std::string WriteFuzzFile(const std::string& name, std::string_view bytes);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FUZZ_FUZZ_FILES_H_
