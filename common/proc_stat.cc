#include "common/proc_stat.h"

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace marketsearch {
namespace {

// The fields of /proc/<pid>/stat after the command name (which may hold spaces and
// parentheses): element 0 is field 3 (state). Empty when unreadable.
std::vector<std::string> StatFieldsAfterName(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  if (!in || !std::getline(in, stat)) return {};
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return {};
  return absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
}

}  // namespace

std::optional<double> ProcessCpuSeconds(pid_t pid) {
  const std::vector<std::string> f = StatFieldsAfterName(pid);
  // utime is field 14, stime field 15.
  int64_t utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) || !absl::SimpleAtoi(f[12], &stime)) {
    return std::nullopt;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

bool ProcessAlive(pid_t pid) {
  const std::vector<std::string> f = StatFieldsAfterName(pid);
  if (f.empty() || f[0].empty()) return false;
  const char state = f[0][0];
  return state != 'Z' && state != 'X' && state != 'x';
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace marketsearch
