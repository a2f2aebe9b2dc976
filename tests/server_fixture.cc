#include "tests/server_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

#include "gtest/gtest.h"

namespace marketsearch {

Listing FreshListing(uint64_t id, const std::string& title) {
  Listing l;
  l.set_listing_id(id);
  l.set_title(title);
  l.set_category("sofas");
  l.set_brand("zorblax");
  l.set_price(199.0);
  l.set_condition(CONDITION_LIKE_NEW);
  l.set_seller_rating(4.5f);
  l.mutable_location()->set_lat(52.52);
  l.mutable_location()->set_lon(13.40);
  return l;
}

std::string RunfilesRoot() {
  const char* s = std::getenv("TEST_SRCDIR");
  return std::string(s ? s : ".") + "/marketsearch";
}

std::string TestTmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

int RunPipeline(const std::string& data_dir, int listings, int queries, int epochs) {
  const std::string root = RunfilesRoot();
  const std::string cmd = "bash " + root + "/tools/pipeline.sh " + root + " " + data_dir + " " +
                          std::to_string(listings) + " " + std::to_string(queries) + " " +
                          std::to_string(epochs) + " > " + data_dir + ".pipeline.log 2>&1";
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::ifstream log(data_dir + ".pipeline.log");
    std::fprintf(stderr, "pipeline failed (%d):\n%s\n", rc,
                 std::string(std::istreambuf_iterator<char>(log), {}).c_str());
  }
  return rc;
}

bool ServerProcess::Start(const std::string& data_dir, int timeout_s,
                          const std::vector<std::string>& extra_args, const std::string& name) {
  const char* override_bin = std::getenv("MARKETSEARCH_SERVER_BIN");
  const std::string bin = override_bin != nullptr && *override_bin != '\0'
                              ? std::string(override_bin)
                              : RunfilesRoot() + "/serving/server";
  const std::string port_file = data_dir + "/" + name + ".port";
  const std::string admin_port_file = data_dir + "/" + name + ".admin_port";
  std::remove(port_file.c_str());
  std::vector<std::string> args = {bin,
                                   "--data_dir=" + data_dir,
                                   "--port=0",
                                   "--port_file=" + port_file,
                                   "--reload_interval_ms=200",
                                   "--admin_address=127.0.0.1:0",
                                   "--admin_port_file=" + admin_port_file};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  const std::string log = data_dir + "/" + name + ".log";
  log_ = log;
  pid_ = fork();
  if (pid_ == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    if (in >> port_ && port_ > 0) {
      std::ifstream admin(admin_port_file);  // written before the port file
      if (!(admin >> admin_port_)) admin_port_ = 0;
      return true;
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream l(log);
      std::fprintf(stderr, "server exited early:\n%s\n", std::string(std::istreambuf_iterator<char>(l), {}).c_str());
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "server did not report a port within %d s\n", timeout_s);
  return false;
}

bool ServerProcess::Alive() {
  if (pid_ <= 0) return false;
  int status;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    std::fprintf(stderr, "server exited: %s %d\n", WIFSIGNALED(status) ? "signal" : "code",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    pid_ = -1;
    return false;
  }
  return true;
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  const pid_t pid = pid_;
  kill(pid, SIGTERM);
  // The drain takes --drain_grace_ms (1 s) plus the in-flight requests; a sanitizer build
  // also runs its leak check at exit. Far above both, so only a hung shutdown reaches it.
  constexpr int kStopTimeoutS = 60;
  const int code = WaitExit(kStopTimeoutS);
  if (code == 0) return;
  // A normal stop must end in exit code 0: a LeakSanitizer or AddressSanitizer report that is
  // printed only at exit (and makes the process exit nonzero) or a crash in the shutdown path
  // fails the test that stopped the server instead of passing unseen.
  std::string why;
  if (code == -1) {
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    pid_ = -1;
    why = "did not exit within " + std::to_string(kStopTimeoutS) + " s of SIGTERM";
  } else if (code > 128) {
    why = "was ended by signal " + std::to_string(code - 128) + " after SIGTERM";
  } else {
    why = "exited with code " + std::to_string(code) + " after SIGTERM";
  }
  ADD_FAILURE() << "server (pid " << pid << ") " << why << "; the end of its log:\n" << LogTail(4000);
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ServerProcess::target() const { return "127.0.0.1:" + std::to_string(port_); }

}  // namespace marketsearch

namespace marketsearch {

int ServerProcess::WaitExit(int timeout_s) {
  if (pid_ <= 0) return -1;
  for (int i = 0; i < timeout_s * 20; ++i) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string ServerProcess::LogTail(size_t max_bytes) const {
  const std::string log = Log();
  return log.size() <= max_bytes ? log : "..." + log.substr(log.size() - max_bytes);
}

}  // namespace marketsearch
