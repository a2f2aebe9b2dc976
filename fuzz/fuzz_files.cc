#include "fuzz/fuzz_files.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace marketsearch {
namespace {

std::string* MakeTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string templ = std::string(base) + "/marketsearch_fuzz_XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    std::perror("fuzz: mkdtemp");
    std::abort();
  }
  auto* dir = new std::string(templ);
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(FuzzTempDir(), ec);
  });
  return dir;
}

}  // namespace

const std::string& FuzzTempDir() {
  static const std::string* const dir = MakeTempDir();
  return *dir;
}

std::string WriteFuzzFile(const std::string& name, std::string_view bytes) {
  const std::string path = FuzzTempDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

}  // namespace marketsearch
