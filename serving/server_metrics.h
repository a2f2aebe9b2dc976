// ServerMetrics: the server's Prometheus metrics (prometheus-cpp), in one registry that the
// admin listener (serving/admin_server.h) exposes as /metrics. Names and labels:
//
//   marketsearch_rpcs_total{method, code}                counter: finished RPCs by gRPC code
//   marketsearch_rpc_duration_seconds{method}            histogram: arrival to answer
//   marketsearch_rpcs_in_flight                          gauge: accepted, not yet answered
//   marketsearch_shed_total{reason}                      counter: answered without running
//       (queue_full and queue_delay = RESOURCE_EXHAUSTED, expired_in_queue, cancelled_in_queue)
//   marketsearch_search_stage_duration_seconds{stage}    histogram: Searcher stages
//   marketsearch_search_candidates{source}               histogram: candidates per request
//       (ann, lexical, fused, kept = after store and filters)
//   marketsearch_search_results                          histogram: results returned
//   marketsearch_search_match_total{match}               counter: calibrated responses by match
//       quality (good, none = no_good_match); a rising "none" share means buyers ask for
//       what the catalog does not carry, or the ranker/calibration went wrong
//   marketsearch_servable_version{kind}                  gauge: the version serving
//   marketsearch_servable_load_seconds{kind}             gauge: how long its load took
//   marketsearch_servable_events_total{kind, event}      counter: loaded, failed, swapped
//   marketsearch_delta_listings{leg}                     gauge: fresh listings in each delta
//   marketsearch_impressions_dropped_total               counter: pages not logged (queue full)
//   marketsearch_impression_queue_depth                  gauge: impressions waiting
//   marketsearch_listing_records / _bytes                gauge: in-memory listing records
//
// Thread safety: every method may be called from any thread (prometheus-cpp's metrics are
// thread-safe; label sets are created on first use).
#ifndef MARKETSEARCH_SERVING_SERVER_METRICS_H_
#define MARKETSEARCH_SERVING_SERVER_METRICS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/search.pb.h"
#include "serving/search_stats.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace marketsearch {

class ServerMetrics {
 public:
  ServerMetrics();
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // The registry the admin listener exposes.
  std::shared_ptr<prometheus::Registry> registry() const;
  // The text exposition format of everything registered (what /metrics serves).
  std::string Serialize() const;

  void RpcStarted();
  // `code`: the gRPC status code the client got (absl and gRPC codes share their numbers).
  void RpcFinished(absl::string_view method, absl::StatusCode code, double seconds);
  // `reason`: queue_full, queue_delay, expired_in_queue, cancelled_in_queue.
  void Shed(absl::string_view reason);
  void SearchDone(const SearchRequestStats& stats);

  // kind: index, lexical, ranker. event: loaded, failed, swapped.
  void ServableEvent(absl::string_view kind, absl::string_view event);
  void ServableLoaded(absl::string_view kind, double load_seconds);
  void ServableServing(absl::string_view kind, int64_t version);
  // leg: ann, lexical.
  void DeltaSize(absl::string_view leg, int64_t listings);
  // The impression queue (experiments/impression_queue.h): a page not logged because the queue
  // was full (counted per experiment arm that served it), and the queue's depth.
  void ImpressionDropped(const SearchResponse& response);
  // A page served by experiment arms (one count per arm).
  void ExperimentServed(const SearchResponse& response);
  // The impression/event log's size.
  void EventLogBytes(int64_t bytes);
  // The in-memory listing records (index/memory_listing_reader.h): how many, bytes at load.
  void ListingRecords(int64_t count, int64_t bytes);
  void ImpressionQueueDepth(int64_t depth);

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> f_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_SERVER_METRICS_H_
