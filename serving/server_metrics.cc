#include "serving/server_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace marketsearch {
namespace {

// Seconds: 0.5 ms .. 2.5 s, dense where the latency budget is (1-25 ms).
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& CountBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{0, 1, 10, 50, 100, 200, 400, 800, 1600};
  return *b;
}

}  // namespace

struct ServerMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : rpcs(prometheus::BuildCounter()
                 .Name("marketsearch_rpcs_total")
                 .Help("Finished RPCs by method and the gRPC status code the client got.")
                 .Register(r)),
        rpc_seconds(prometheus::BuildHistogram()
                        .Name("marketsearch_rpc_duration_seconds")
                        .Help("RPC latency in the server, from arrival to answer.")
                        .Register(r)),
        in_flight(prometheus::BuildGauge()
                      .Name("marketsearch_rpcs_in_flight")
                      .Help("RPCs accepted and not yet answered (queued or running).")
                      .Register(r)
                      .Add({})),
        shed(prometheus::BuildCounter()
                 .Name("marketsearch_shed_total")
                 .Help("RPCs answered without running: queue_full and queue_delay "
                       "(RESOURCE_EXHAUSTED), expired_in_queue (DEADLINE_EXCEEDED), cancelled_in_queue.")
                 .Register(r)),
        stage_seconds(prometheus::BuildHistogram()
                          .Name("marketsearch_search_stage_duration_seconds")
                          .Help("Time of each stage of a Search request.")
                          .Register(r)),
        candidates(prometheus::BuildHistogram()
                       .Name("marketsearch_search_candidates")
                       .Help("Candidates per Search request by source (ann, lexical, fused, and "
                             "kept: in the store and passing the filters).")
                       .Register(r)),
        results(prometheus::BuildHistogram()
                    .Name("marketsearch_search_results")
                    .Help("Results returned per Search request.")
                    .Register(r)
                    .Add({}, CountBuckets())),
        match(prometheus::BuildCounter()
                  .Name("marketsearch_search_match_total")
                  .Help("Search responses with a calibrated relevance probability, by match "
                        "quality: good, or none (no_good_match: even the best candidate is "
                        "unlikely to be what was asked for).")
                  .Register(r)),
        version(prometheus::BuildGauge()
                    .Name("marketsearch_servable_version")
                    .Help("The version serving, by kind (index, lexical, ranker).")
                    .Register(r)),
        load_seconds(prometheus::BuildGauge()
                         .Name("marketsearch_servable_load_seconds")
                         .Help("How long the load of the last loaded version took, by kind.")
                         .Register(r)),
        events(prometheus::BuildCounter()
                   .Name("marketsearch_servable_events_total")
                   .Help("Version lifecycle events by kind: loaded, failed (refused; the "
                         "previous version keeps serving), swapped.")
                   .Register(r)),
        delta(prometheus::BuildGauge()
                  .Name("marketsearch_delta_listings")
                  .Help("Listings written since the served index was built, held in each "
                        "leg's delta (ann, lexical).")
                  .Register(r)),
        impressions_dropped(prometheus::BuildCounter()
                                .Name("marketsearch_impressions_dropped_total")
                                .Help("Served pages not logged because the impression queue was "
                                      "full, by experiment and arm (empty: not enrolled).")
                                .Register(r)),
        experiment_searches(prometheus::BuildCounter()
                                .Name("marketsearch_experiment_searches_total")
                                .Help("Search pages served per experiment arm (forced QA traffic "
                                      "under forced=\"true\").")
                                .Register(r)),
        event_log_bytes(prometheus::BuildGauge()
                            .Name("marketsearch_event_log_bytes")
                            .Help("Bytes the impression/event log holds on disk and in memory "
                                  "(kept for --log_retention_days).")
                            .Register(r)
                            .Add({})),
        impression_queue_depth(prometheus::BuildGauge()
                                   .Name("marketsearch_impression_queue_depth")
                                   .Help("Impressions waiting to be written to the event log.")
                                   .Register(r)
                                   .Add({})),
        listing_records(prometheus::BuildGauge()
                            .Name("marketsearch_listing_records")
                            .Help("Listing records held in memory for the request path (at load).")
                            .Register(r)
                            .Add({})),
        listing_record_bytes(prometheus::BuildGauge()
                                 .Name("marketsearch_listing_record_bytes")
                                 .Help("Approximate bytes of the in-memory listing records (at load).")
                                 .Register(r)
                                 .Add({})) {}

  prometheus::Family<prometheus::Counter>& rpcs;
  prometheus::Family<prometheus::Histogram>& rpc_seconds;
  prometheus::Gauge& in_flight;
  prometheus::Family<prometheus::Counter>& shed;
  prometheus::Family<prometheus::Histogram>& stage_seconds;
  prometheus::Family<prometheus::Histogram>& candidates;
  prometheus::Histogram& results;
  prometheus::Family<prometheus::Counter>& match;
  prometheus::Family<prometheus::Gauge>& version;
  prometheus::Family<prometheus::Gauge>& load_seconds;
  prometheus::Family<prometheus::Counter>& events;
  prometheus::Family<prometheus::Gauge>& delta;
  prometheus::Family<prometheus::Counter>& impressions_dropped;
  prometheus::Family<prometheus::Counter>& experiment_searches;
  prometheus::Gauge& event_log_bytes;
  prometheus::Gauge& impression_queue_depth;
  prometheus::Gauge& listing_records;
  prometheus::Gauge& listing_record_bytes;
};

ServerMetrics::ServerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      f_(std::make_unique<Families>(*registry_)) {}

ServerMetrics::~ServerMetrics() = default;

std::shared_ptr<prometheus::Registry> ServerMetrics::registry() const { return registry_; }

std::string ServerMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void ServerMetrics::RpcStarted() { f_->in_flight.Increment(); }

void ServerMetrics::RpcFinished(absl::string_view method, absl::StatusCode code, double seconds) {
  f_->in_flight.Decrement();
  const std::string m(method);
  f_->rpcs.Add({{"method", m}, {"code", absl::StatusCodeToString(code)}}).Increment();
  f_->rpc_seconds.Add({{"method", m}}, LatencyBuckets()).Observe(seconds);
}

void ServerMetrics::Shed(absl::string_view reason) {
  f_->shed.Add({{"reason", std::string(reason)}}).Increment();
}

void ServerMetrics::SearchDone(const SearchRequestStats& s) {
  for (const auto& [stage, ms] : s.stage_ms) {
    f_->stage_seconds.Add({{"stage", stage}}, LatencyBuckets()).Observe(ms / 1000.0);
  }
  f_->candidates.Add({{"source", "ann"}}, CountBuckets()).Observe(static_cast<double>(s.ann_candidates));
  f_->candidates.Add({{"source", "lexical"}}, CountBuckets())
      .Observe(static_cast<double>(s.lexical_candidates));
  f_->candidates.Add({{"source", "fused"}}, CountBuckets())
      .Observe(static_cast<double>(s.fused_candidates));
  f_->candidates.Add({{"source", "kept"}}, CountBuckets())
      .Observe(static_cast<double>(s.kept_candidates));
  f_->results.Observe(static_cast<double>(s.results));
  if (!s.match.empty()) f_->match.Add({{"match", s.match}}).Increment();
}

void ServerMetrics::ServableEvent(absl::string_view kind, absl::string_view event) {
  f_->events.Add({{"kind", std::string(kind)}, {"event", std::string(event)}}).Increment();
}

void ServerMetrics::ServableLoaded(absl::string_view kind, double load_seconds) {
  f_->load_seconds.Add({{"kind", std::string(kind)}}).Set(load_seconds);
  ServableEvent(kind, "loaded");
}

void ServerMetrics::ServableServing(absl::string_view kind, int64_t version) {
  f_->version.Add({{"kind", std::string(kind)}}).Set(static_cast<double>(version));
}

void ServerMetrics::ImpressionDropped(const SearchResponse& response) {
  if (response.arms().empty()) {
    f_->impressions_dropped.Add({{"experiment", ""}, {"arm", ""}}).Increment();
  }
  for (const ServedArm& a : response.arms()) {
    f_->impressions_dropped.Add({{"experiment", a.experiment()}, {"arm", a.arm()}}).Increment();
  }
}

void ServerMetrics::ExperimentServed(const SearchResponse& response) {
  for (const ServedArm& a : response.arms()) {
    f_->experiment_searches
        .Add({{"experiment", a.experiment()}, {"arm", a.arm()}, {"forced", a.forced() ? "true" : "false"}})
        .Increment();
  }
}

void ServerMetrics::EventLogBytes(int64_t bytes) { f_->event_log_bytes.Set(static_cast<double>(bytes)); }

void ServerMetrics::ListingRecords(int64_t count, int64_t bytes) {
  f_->listing_records.Set(static_cast<double>(count));
  f_->listing_record_bytes.Set(static_cast<double>(bytes));
}

void ServerMetrics::ImpressionQueueDepth(int64_t depth) {
  f_->impression_queue_depth.Set(static_cast<double>(depth));
}

void ServerMetrics::DeltaSize(absl::string_view leg, int64_t listings) {
  f_->delta.Add({{"leg", std::string(leg)}}).Set(static_cast<double>(listings));
}

}  // namespace marketsearch
