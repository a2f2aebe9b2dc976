// MarketSearchService: the gRPC face of the Searcher and the EventLog. Converts absl::Status
// to gRPC status codes one to one (same canonical codes). Thread-safe.
#ifndef MARKETSEARCH_SERVING_GRPC_SERVICE_H_
#define MARKETSEARCH_SERVING_GRPC_SERVICE_H_

#include "experiments/event_log.h"
#include "proto/search.grpc.pb.h"
#include "serving/listing_writer.h"
#include "serving/searcher.h"

namespace marketsearch {

class MarketSearchService final : public MarketSearch::Service {
 public:
  // No pointer is owned. `events` may be null (impressions and events not logged, LogEvents
  // answers UNAVAILABLE); `writer` may be null (read-only server: the write RPCs answer
  // FAILED_PRECONDITION).
  MarketSearchService(const Searcher* searcher, EventLog* events, ListingWriter* writer)
      : searcher_(searcher), events_(events), writer_(writer) {}

  grpc::Status Search(grpc::ServerContext* context, const SearchRequest* request,
                      SearchResponse* response) override;
  grpc::Status LogEvents(grpc::ServerContext* context, const LogEventsRequest* request,
                         LogEventsResponse* response) override;
  grpc::Status UpsertListings(grpc::ServerContext* context, const UpsertListingsRequest* request,
                              UpsertListingsResponse* response) override;
  grpc::Status DeleteListings(grpc::ServerContext* context, const DeleteListingsRequest* request,
                              DeleteListingsResponse* response) override;

 private:
  const Searcher* searcher_;
  EventLog* events_;
  ListingWriter* writer_;
};

grpc::Status ToGrpc(const absl::Status& s);

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_GRPC_SERVICE_H_
