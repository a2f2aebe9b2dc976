// Reading another process's state from /proc (Linux): its CPU time and whether it still runs.
// Used by the load tools and the end-to-end tests to measure the server from outside, the way
// `top` would. Stateless; thread-safe.
#ifndef MARKETSEARCH_COMMON_PROC_STAT_H_
#define MARKETSEARCH_COMMON_PROC_STAT_H_

#include <sys/types.h>

#include <optional>

namespace marketsearch {

// utime + stime of process `pid` in seconds (/proc/<pid>/stat fields 14 and 15); nullopt when
// the process is gone or the file cannot be parsed.
std::optional<double> ProcessCpuSeconds(pid_t pid);

// False once the process has exited (gone, or a zombie its parent has not reaped yet).
bool ProcessAlive(pid_t pid);

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_PROC_STAT_H_
