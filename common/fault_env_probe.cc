// fault_env_probe ROOT: makes ROOT/1 and points ROOT/CURRENT at it through Env::Default(), so
// fault_env_spec_test.sh can check what MARKETSEARCH_FAULTS does to a real process.
#include <cstdio>
#include <string>

#include "common/file_util.h"
#include "common/versions.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fault_env_probe ROOT\n");
    return 2;
  }
  const std::string root = argv[1];
  absl::Status s = marketsearch::MakeDirs(root + "/1");
  if (s.ok()) s = marketsearch::WriteCurrent(root, 1);
  if (!s.ok()) {
    std::fprintf(stderr, "fault_env_probe: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("ok\n");
  return 0;
}
