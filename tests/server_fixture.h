// Test fixture helpers: run the offline pipeline into a temporary data directory and start
// the real server binary on a free loopback port.
#ifndef MARKETSEARCH_TESTS_SERVER_FIXTURE_H_
#define MARKETSEARCH_TESTS_SERVER_FIXTURE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "proto/catalog.pb.h"

namespace marketsearch {

// A valid listing the generated catalogs never hold: category "sofas", brand "zorblax",
// price 199, like new, in Berlin. Tests filter on category + price to find only theirs.
Listing FreshListing(uint64_t id, const std::string& title);

// Root of the Bazel runfiles tree of this test (binaries and sources in repo layout).
std::string RunfilesRoot();
std::string TestTmpDir();

// Runs tools/pipeline.sh into data_dir; returns its exit code (0 = success).
int RunPipeline(const std::string& data_dir, int listings, int queries, int epochs);

// A server child process; stopped (Stop) in the destructor.
class ServerProcess {
 public:
  // Starts `server --data_dir=... --port=0 --port_file=... --admin_address=127.0.0.1:0` and waits (up to timeout_s) for
  // the port. Returns false (with a message on stderr) when it did not come up.
  // The binary is the test's own build of //serving:server, or the one named by the
  // environment variable MARKETSEARCH_SERVER_BIN (to run a test against another build, e.g.
  // the commit before a fix, and see the regression test fail there).
  // `extra_args` are more server flags; `name` names its files in data_dir (<name>.port,
  // <name>.log, <name>.admin_port), so two servers can share a data directory (the second
  // with --store_mode=secondary --log_impressions=false).
  bool Start(const std::string& data_dir, int timeout_s = 120,
             const std::vector<std::string>& extra_args = {}, const std::string& name = "server");
  // The server's log so far, and its last `max_bytes` bytes.
  std::string Log() const;
  std::string LogTail(size_t max_bytes) const;
  // Waits up to timeout_s for the process to exit (after a signal sent by the test); its exit
  // code, 128 + signal when a signal ended it, or -1 when it is still running.
  int WaitExit(int timeout_s);
  // True while the process runs (false once it exited or was killed, e.g. by a crash).
  bool Alive();
  pid_t pid() const { return pid_; }
  // Stops the server as an operator would (SIGTERM: drain, then exit) and reaps it. The server
  // must exit 0 within a minute; otherwise the current test fails (ADD_FAILURE) with the end
  // of the server's log, so that a sanitizer report printed only at exit, a crash while
  // shutting down or a hung drain is not lost. The destructor stops the same way.
  void Stop();
  // Kills the server with SIGKILL (a crash: no shutdown path runs) and reaps it. Its exit
  // status is not checked: the test asked for the crash.
  void Kill();
  ~ServerProcess() { Stop(); }
  std::string target() const;
  int port() const { return port_; }
  // The admin HTTP listener's port (/metrics, /healthz), on 127.0.0.1.
  int admin_port() const { return admin_port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int admin_port_ = 0;
  std::string log_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_TESTS_SERVER_FIXTURE_H_
