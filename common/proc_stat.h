// Reading state from /proc (Linux): another process's CPU time and whether it still runs, and
// the machine's load average. Used by the load tools, the benchmarks and the end-to-end tests
// to measure the server from outside, the way `top` would. Stateless; thread-safe.
#ifndef MARKETSEARCH_COMMON_PROC_STAT_H_
#define MARKETSEARCH_COMMON_PROC_STAT_H_

#include <sys/types.h>

#include <optional>
#include <string>

namespace marketsearch {

// utime + stime of process `pid` in seconds (/proc/<pid>/stat fields 14 and 15); nullopt when
// the process is gone or the file cannot be parsed.
std::optional<double> ProcessCpuSeconds(pid_t pid);

// False once the process has exited (gone, or a zombie its parent has not reaped yet).
bool ProcessAlive(pid_t pid);

// The line of /proc/loadavg without its newline ("0.52 1.10 1.31 2/215 14289"), printed beside
// every timing; empty when it cannot be read.
std::string LoadAverage();

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_PROC_STAT_H_
