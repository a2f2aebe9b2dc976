#include "serving/server_config.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "gtest/gtest.h"
#include "proto/server_config.pb.h"

// A few of the server's flags, defined here as the server defines them (the test binary does
// not link server_main.cc).
ABSL_FLAG(int, serving_threads, 0, "test");
ABSL_FLAG(int, max_queued_requests, 16, "test");
ABSL_FLAG(std::string, retrieval, "hybrid", "test");
ABSL_FLAG(double, access_log_sample, 0.01, "test");
ABSL_FLAG(bool, ranker, true, "test");

namespace marketsearch {
namespace {

std::string Write(const std::string& name, const std::string& text) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ServerConfig, FileSetsFlagsAndTheCommandLineWins) {
  // The command line gives max_queued_requests.
  char arg0[] = "server";
  char arg1[] = "--max_queued_requests=4";
  char* argv[] = {arg0, arg1};
  absl::ParseCommandLine(2, argv);
  const auto given = FlagsGivenOnCommandLine(2, argv);

  ServerConfig config;
  ASSERT_TRUE(ReadTextConfig(Write("server.textproto",
                                   "# the demo box\n"
                                   "serving_threads: 3\n"
                                   "max_queued_requests: 64\n"
                                   "retrieval: \"ann\"\n"
                                   "access_log_sample: 0.5\n"
                                   "ranker: false\n"),
                             &config)
                  .ok());
  std::vector<std::string> applied, overridden;
  ASSERT_TRUE(ApplyConfigToFlags(config, given, &applied, &overridden).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_serving_threads), 3);
  EXPECT_EQ(absl::GetFlag(FLAGS_max_queued_requests), 4);  // the command line's
  EXPECT_EQ(absl::GetFlag(FLAGS_retrieval), "ann");
  EXPECT_EQ(absl::GetFlag(FLAGS_access_log_sample), 0.5);
  EXPECT_FALSE(absl::GetFlag(FLAGS_ranker));
  EXPECT_EQ(overridden, (std::vector<std::string>{"max_queued_requests"}));
  EXPECT_EQ(applied.size(), 4u);
}

TEST(ServerConfig, FlagsGivenOnTheCommandLineAreFound) {
  char a0[] = "server", a1[] = "--port=1", a2[] = "-host", a3[] = "x", a4[] = "--noranker",
       a5[] = "--", a6[] = "--data_dir=after_dashes";
  char* argv[] = {a0, a1, a2, a3, a4, a5, a6};
  const auto given = FlagsGivenOnCommandLine(7, argv);
  EXPECT_TRUE(given.contains("port"));
  EXPECT_TRUE(given.contains("host"));
  EXPECT_TRUE(given.contains("ranker"));
  EXPECT_FALSE(given.contains("data_dir"));
}

TEST(ServerConfig, ErrorsNameTheLineOrTheField) {
  ServerConfig config;
  absl::Status s = ReadTextConfig(Write("typo.textproto", "serving_threads: 2\nserving_thread: 3\n"), &config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("serving_thread"), absl::string_view::npos) << s;
  EXPECT_EQ(ReadTextConfig(Write("type.textproto", "serving_threads: \"many\"\n"), &config).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadTextConfig("/nonexistent/server.textproto", &config).code(), absl::StatusCode::kNotFound);

  // A field of the schema that this binary has no flag for.
  ServerConfig unknown;
  unknown.set_port(9000);
  s = ApplyConfigToFlags(unknown, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("port"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace marketsearch
