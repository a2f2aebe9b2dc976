#include "serving/grpc_service.h"

#include <cstdio>

#include "common/clock.h"
#include "serving/request_validation.h"

namespace marketsearch {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

grpc::Status MarketSearchService::Search(grpc::ServerContext*, const SearchRequest* request,
                                         SearchResponse* response) {
  absl::Status s = searcher_->Search(*request, response);
  if (s.ok() && events_ != nullptr) {
    // Logging must not fail the search; a failed append is reported on stderr.
    absl::Status logged = events_->AppendImpression(*request, *response, NowUnixMs());
    if (!logged.ok()) std::fprintf(stderr, "impression log: %s\n", std::string(logged.message()).c_str());
  }
  return ToGrpc(s);
}

grpc::Status MarketSearchService::LogEvents(grpc::ServerContext*, const LogEventsRequest* request,
                                            LogEventsResponse* response) {
  if (auto s = ValidateLogEventsRequest(*request); !s.ok()) return ToGrpc(s);
  if (events_ == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "event log disabled");
  const std::vector<Event> events(request->events().begin(), request->events().end());
  absl::Status s = events_->AppendEvents(events, NowUnixMs());
  if (!s.ok()) return ToGrpc(s);
  response->set_accepted(request->events_size());
  return grpc::Status::OK;
}

grpc::Status MarketSearchService::UpsertListings(grpc::ServerContext*,
                                                 const UpsertListingsRequest* request,
                                                 UpsertListingsResponse* response) {
  if (writer_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "this server follows the store read-only (--store_mode=secondary)");
  }
  const std::vector<Listing> listings(request->listings().begin(), request->listings().end());
  absl::StatusOr<int64_t> t = writer_->Upsert(listings);
  if (!t.ok()) return ToGrpc(t.status());
  response->set_upserted(request->listings_size());
  response->set_write_time_ms(*t);
  return grpc::Status::OK;
}

grpc::Status MarketSearchService::DeleteListings(grpc::ServerContext*,
                                                 const DeleteListingsRequest* request,
                                                 DeleteListingsResponse* response) {
  if (writer_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "this server follows the store read-only (--store_mode=secondary)");
  }
  const std::vector<uint64_t> ids(request->listing_ids().begin(), request->listing_ids().end());
  absl::StatusOr<int64_t> t = writer_->Delete(ids);
  if (!t.ok()) return ToGrpc(t.status());
  response->set_deleted(request->listing_ids_size());
  response->set_write_time_ms(*t);
  return grpc::Status::OK;
}

}  // namespace marketsearch
