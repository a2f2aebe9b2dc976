// MarketSearchService: the gRPC face of the Searcher, the ListingWriter and the EventLog (buyer
// events directly; impressions through the ImpressionQueue, off the request path).
//
// Every method is a raw callback handler: gRPC hands over the request bytes and returns at
// once; the work runs on the RequestPool (bounded workers, bounded queue), and a request that
// finds the pool full is answered RESOURCE_EXHAUSTED at once (gRPC's load-shedding code:
// clients retry with backoff), as is a search that waited beyond Options::queue_delay_target
// while the service is overloaded. A request whose deadline passed or that the client cancelled
// while it waited is answered without doing the work, and a Search checks both again before
// each stage; a request without a deadline gets the service's default one. The server parses the request itself
// (ParseRequestMessage), so invalid UTF-8 is INVALID_ARGUMENT naming the field.
//
// Status messages are what a client may see: those of INVALID_ARGUMENT and the other codes a
// client acts on pass through (cut to kMaxStatusMessageBytes); INTERNAL and the other server
// failures are logged in full with an incident number, and the client gets only that number
// (no paths, exception types or echoed input).
//
// Thread-safe. Nothing is owned; all pointers must outlive the gRPC server.
#ifndef MARKETSEARCH_SERVING_GRPC_SERVICE_H_
#define MARKETSEARCH_SERVING_GRPC_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "experiments/event_log.h"
#include "experiments/impression_queue.h"
#include "serving/access_log.h"
#include "serving/bearer_token.h"
#include "serving/experiment_router.h"
#include "proto/search.grpc.pb.h"
#include "serving/listing_writer.h"
#include "serving/request_pool.h"
#include "serving/searcher.h"
#include "serving/server_metrics.h"

namespace marketsearch {

inline constexpr size_t kMaxStatusMessageBytes = 256;

using RawMarketSearchService = MarketSearch::WithRawCallbackMethod_Search<
    MarketSearch::WithRawCallbackMethod_LogEvents<MarketSearch::WithRawCallbackMethod_UpsertListings<
        MarketSearch::WithRawCallbackMethod_DeleteListings<MarketSearch::Service>>>>;

class MarketSearchService final : public RawMarketSearchService {
 public:
  // What the service uses besides the searcher and the pool; every pointer may be null and is
  // not owned.
  struct Options {
    EventLog* events = nullptr;    // null: LogEvents answers UNAVAILABLE
    ListingWriter* writer = nullptr;  // null: read-only server, the write RPCs answer FAILED_PRECONDITION
    ServerMetrics* metrics = nullptr;  // null: nothing counted
    ImpressionQueue* impressions = nullptr;  // null: the pages served are not logged
    AccessLog* access_log = nullptr;  // null: no access log
    // null: no experiments (no arms in responses; LogEvents accepts tokens unchecked)
    ExperimentRouter* experiments = nullptr;
    // null: anyone who reaches the port may write; else UpsertListings and DeleteListings
    // need `authorization: Bearer <token>` and are answered UNAUTHENTICATED without it.
    const BearerToken* write_token = nullptr;
    // The deadline of a request whose client set none (or a later one).
    std::chrono::milliseconds default_deadline{2000};
    // Searches are shed (RESOURCE_EXHAUSTED) when they waited longer than the target for a
    // worker while the service is overloaded: the pool's queue has not emptied for a whole
    // interval (a standing queue, not a burst), or a request was shed within the last interval
    // (so that draining the stale requests, which may empty the queue for a moment, does not
    // end the state and let the queue's whole length build up again). Zero target: searches
    // wait up to their deadline. Writes and LogEvents always wait (a shed write costs its
    // client a retry for little CPU saved).
    std::chrono::milliseconds queue_delay_target{0};
    std::chrono::milliseconds queue_delay_interval{100};
  };
  MarketSearchService(const Searcher* searcher, RequestPool* pool, const Options& options)
      : searcher_(searcher), pool_(pool), options_(options) {}

  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* LogEvents(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* UpsertListings(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeleteListings(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;

  // Requests answered RESOURCE_EXHAUSTED because the pool was full or (searches) they waited
  // beyond the queue-delay target while overloaded.
  int64_t shed() const { return shed_.load(); }
  // RPCs answered so far, whatever their status.
  int64_t finished() const { return finished_.load(); }
  // Requests answered DEADLINE_EXCEEDED because their deadline passed in the queue.
  int64_t expired_in_queue() const { return expired_.load(); }

  // The client-facing status for `s` (see the header comment); `method` names the RPC in the
  // server log line of an incident.
  grpc::Status ToClientStatus(const absl::Status& s, const char* method);

 private:
  // For a write RPC: null when the request may write, else the reactor it was answered on
  // (UNAUTHENTICATED: Options::write_token is set and the request lacks it).
  grpc::ServerUnaryReactor* RefuseUnauthenticatedWrite(grpc::CallbackServerContext* context,
                                                       const char* method);
  // Answers the RPC and counts it (method, code, time since `start`).
  void Finish(grpc::ServerUnaryReactor* reactor, const char* method, const grpc::Status& status,
              std::chrono::steady_clock::time_point start);
  // Whether a request of the method may be shed for its wait while overloaded.
  enum class QueueDelay { kShed, kWait };
  // Parses the request into Req on a pool worker, runs `handle`, serialises the response.
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* Dispatch(
      const char* method, QueueDelay queue_delay, grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
      std::function<absl::Status(const Req&, Resp*, const RequestControl&)> handle);

  // The first page of a buyer in an interleaving experiment: both arms' rankings, one
  // Team-Draft page (each result's interleaving_team says which arm contributed it).
  absl::Status InterleavedSearch(const SearchRequest& request, const ExperimentRouter::Route& route,
                                 SearchResponse* response, SearchRequestStats* stats,
                                 const RequestControl& control);
  absl::Status DoSearch(const SearchRequest& request, SearchResponse* response,
                        const RequestControl& control);
  absl::Status DoLogEvents(const LogEventsRequest& request, LogEventsResponse* response);
  absl::Status DoUpsert(const UpsertListingsRequest& request, UpsertListingsResponse* response);
  absl::Status DoDelete(const DeleteListingsRequest& request, DeleteListingsResponse* response);

  const Searcher* const searcher_;
  RequestPool* const pool_;
  const Options options_;
  std::atomic<int64_t> shed_{0};
  // When a request was last shed (queue full or queue delay), steady-clock ticks: shedding
  // keeps the service in its overloaded state for another queue_delay_interval.
  std::atomic<int64_t> last_shed_ticks_{0};  // 0: never (the steady clock counts from boot)
  std::atomic<int64_t> finished_{0};
  std::atomic<int64_t> expired_{0};
  std::atomic<int64_t> incidents_{0};
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_GRPC_SERVICE_H_
