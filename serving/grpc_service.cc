#include "serving/grpc_service.h"

#include <chrono>
#include <cstdio>

#include "serving/request_validation.h"

namespace marketsearch {
namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

grpc::Status MarketSearchService::Search(grpc::ServerContext*, const SearchRequest* request,
                                         SearchResponse* response) {
  absl::Status s = searcher_->Search(*request, response);
  if (s.ok() && events_ != nullptr) {
    // Logging must not fail the search; a failed append is reported on stderr.
    absl::Status logged = events_->AppendImpression(*request, *response, NowMs());
    if (!logged.ok()) std::fprintf(stderr, "impression log: %s\n", std::string(logged.message()).c_str());
  }
  return ToGrpc(s);
}

grpc::Status MarketSearchService::LogEvents(grpc::ServerContext*, const LogEventsRequest* request,
                                            LogEventsResponse* response) {
  if (auto s = ValidateLogEventsRequest(*request); !s.ok()) return ToGrpc(s);
  if (events_ == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "event log disabled");
  const std::vector<Event> events(request->events().begin(), request->events().end());
  absl::Status s = events_->AppendEvents(events, NowMs());
  if (!s.ok()) return ToGrpc(s);
  response->set_accepted(request->events_size());
  return grpc::Status::OK;
}

}  // namespace marketsearch
