// AccessLog: a sampled access log of Search requests, one JSON object per line:
//   {"ts_ms":1796160000123,"request_id":"9f2c...","status":"OK","ms":4.21,"results":10,
//    "candidates":312,"stages":{"ann":0.81,"encode_query":0.12,...},
//    "versions":{"index":3,"query_tower":3,"lexical":2,"ranker":5}}
// No query text or other buyer input is written (the impression log holds what a request
// asked, under the data directory's own retention).
//
// Thread safety: Sampled() and Write() may be called from any thread (Write takes a mutex; at
// a 1% sample the lock is not on any request's path in practice).
#ifndef MARKETSEARCH_SERVING_ACCESS_LOG_H_
#define MARKETSEARCH_SERVING_ACCESS_LOG_H_

#include <cstdio>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/search.pb.h"
#include "serving/search_stats.h"

namespace marketsearch {

class AccessLog {
 public:
  // Appends to `path` (created if missing). `sample_rate` in [0, 1]: the share of requests
  // logged. InvalidArgument for a rate outside it, Internal when the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& path, double sample_rate);
  ~AccessLog();

  // Whether this request is one of the sample (a per-thread random draw).
  bool Sampled() const;
  void Write(int64_t unix_ms, const absl::Status& status, double ms, const SearchResponse& response,
             const SearchRequestStats& stats);
  int64_t written() const;

 private:
  AccessLog(std::FILE* f, double rate) : file_(f), rate_(rate) {}
  mutable absl::Mutex mu_;
  std::FILE* const file_ ABSL_PT_GUARDED_BY(mu_);
  const double rate_;
  int64_t written_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_ACCESS_LOG_H_
