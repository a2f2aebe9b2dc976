#include "serving/access_log.h"

#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace marketsearch {

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path, double sample_rate) {
  if (!(sample_rate >= 0 && sample_rate <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("access log sample rate must be in [0, 1], got ", sample_rate));
  }
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return absl::InternalError(absl::StrCat("cannot open access log ", path));
  return std::unique_ptr<AccessLog>(new AccessLog(f, sample_rate));
}

AccessLog::~AccessLog() {
  absl::MutexLock lock(&mu_);
  std::fclose(file_);
}

bool AccessLog::Sampled() const {
  if (rate_ <= 0) return false;
  if (rate_ >= 1) return true;
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   std::hash<std::thread::id>()(std::this_thread::get_id()));
  return std::uniform_real_distribution<double>(0, 1)(rng) < rate_;
}

void AccessLog::Write(int64_t unix_ms, const absl::Status& status, double ms,
                      const SearchResponse& response, const SearchRequestStats& stats) {
  // Every string written is ours (hex ids, status code names, stage names): no escaping needed.
  std::string stages;
  for (const auto& [stage, stage_ms] : stats.stage_ms) {
    absl::StrAppend(&stages, stages.empty() ? "" : ",", "\"", stage, "\":", absl::StrFormat("%.3f", stage_ms));
  }
  const ServedVersions& v = response.versions();
  const std::string line = absl::StrFormat(
      "{\"ts_ms\":%d,\"request_id\":\"%s\",\"status\":\"%s\",\"ms\":%.3f,\"results\":%d,"
      "\"candidates\":%d,\"filtered\":%s,\"legs\":\"%s\",\"match\":\"%s\",\"stages\":{%s},"
      "\"versions\":{\"index\":%d,\"query_tower\":%d,\"lexical\":%d,\"ranker\":%d}}\n",
      unix_ms, response.request_id(), absl::StatusCodeToString(status.code()), ms, stats.results,
      stats.fused_candidates, stats.filtered ? "true" : "false",
      stats.concurrent_legs ? "concurrent" : "sequential", stats.match, stages, v.index(), v.query_tower(),
      v.lexical(), v.ranker());
  absl::MutexLock lock(&mu_);
  std::fputs(line.c_str(), file_);
  std::fflush(file_);
  ++written_;
}

int64_t AccessLog::written() const {
  absl::MutexLock lock(&mu_);
  return written_;
}

}  // namespace marketsearch
