// The `main` of a fuzz target's replay test (and of its binary in the normal build): runs the
// target's LLVMFuzzerTestOneInput over every file of the directories (or files) named on the
// command line, in sorted order, so `make test` replays the seed corpus and every crash input
// in fuzz/regressions/ with the project's ordinary toolchain (and under --config=asan). A
// crash aborts the process, which fails the test; a missing directory is skipped (a target
// may have no regressions yet), but no input at all is an error, so a wrong path cannot make
// the test pass vacuously.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) {
      files.push_back(p.string());
      continue;
    }
    if (!std::filesystem::is_directory(p, ec)) {
      std::fprintf(stderr, "replay: %s: no such directory (skipped)\n", argv[i]);
      continue;
    }
    for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
      if (e.is_regular_file()) files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files in the given paths\n");
    return 1;
  }
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
      return 1;
    }
    // One line per input before running it: the last line before an abort names the culprit.
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replay: %zu inputs, no crash\n", files.size());
  return 0;
}
