#include "serving/grpc_service.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "experiments/experiment_config.h"
#include "experiments/stats.h"
#include "serving/message_parser.h"
#include "serving/request_validation.h"

namespace marketsearch {
namespace {

// Codes whose message our own code writes for the client (validation, overload, nothing
// loaded yet, read-only server, deadline): passed through, cut to size.
bool ClientFacing(absl::StatusCode c) {
  switch (c) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

std::string Cut(absl::string_view m) {
  if (m.size() <= kMaxStatusMessageBytes) return std::string(m);
  size_t n = kMaxStatusMessageBytes - 3;
  while (n > 0 && (static_cast<unsigned char>(m[n]) & 0xC0) == 0x80) --n;  // whole UTF-8 characters
  return absl::StrCat(m.substr(0, n), "...");
}

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

void Serialize(const google::protobuf::Message& message, grpc::ByteBuffer* out) {
  const std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  *out = grpc::ByteBuffer(&slice, 1);
}

}  // namespace

grpc::Status MarketSearchService::ToClientStatus(const absl::Status& s, const char* method) {
  if (s.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(s.code());
  if (ClientFacing(s.code())) return grpc::Status(code, Cut(s.message()));
  const int64_t incident = ++incidents_;
  std::fprintf(stderr, "server: incident %lld in %s: %s: %s\n", static_cast<long long>(incident),
               method, absl::StatusCodeToString(s.code()).c_str(), std::string(s.message()).c_str());
  return grpc::Status(code, absl::StrCat("internal error, incident ", incident,
                                         " (details in the server log)"));
}

void MarketSearchService::Finish(grpc::ServerUnaryReactor* reactor, const char* method,
                                 const grpc::Status& status,
                                 std::chrono::steady_clock::time_point start) {
  if (options_.metrics != nullptr) {
    options_.metrics->RpcFinished(method, static_cast<absl::StatusCode>(status.error_code()),
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  ++finished_;
  reactor->Finish(status);
}

template <typename Req, typename Resp>
grpc::ServerUnaryReactor* MarketSearchService::Dispatch(
    const char* method, QueueDelay queue_delay, grpc::CallbackServerContext* context,
    const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
    std::function<absl::Status(const Req&, Resp*, const RequestControl&)> handle) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const auto start = std::chrono::steady_clock::now();
  // The request's deadline on the steady clock: the client's, capped by the default (a client
  // without one gets the default; gRPC reports "none" as the largest time point).
  RequestControl control;
  control.deadline = start + options_.default_deadline;
  const auto client_left = context->deadline() - std::chrono::system_clock::now();
  if (client_left < std::chrono::duration_cast<std::chrono::system_clock::duration>(options_.default_deadline)) {
    control.deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(client_left);
  }
  control.cancelled = [context] { return context->IsCancelled(); };
  if (options_.metrics != nullptr) options_.metrics->RpcStarted();
  const bool queued = pool_->TrySubmit([this, method, queue_delay, context, request, response,
                                        reactor, start, control = std::move(control),
                                        handle = std::move(handle)] {
    if (context->IsCancelled()) {
      if (options_.metrics != nullptr) options_.metrics->Shed("cancelled_in_queue");
      Finish(reactor, method, grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"), start);
      return;
    }
    if (std::chrono::steady_clock::now() >= control.deadline) {
      ++expired_;
      if (options_.metrics != nullptr) options_.metrics->Shed("expired_in_queue");
      Finish(reactor, method,
             grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "deadline passed while the request waited for a worker"),
             start);
      return;
    }
    // Controlled delay: while overloaded (Options::queue_delay_target), a search that waited
    // longer than the target is shed, so that the searches served under overload keep about
    // their unloaded latency instead of each waiting out the whole queue. A burst the workers
    // absorb within the interval is served, however long it made a search wait.
    if (queue_delay == QueueDelay::kShed && options_.queue_delay_target.count() > 0) {
      const auto now = std::chrono::steady_clock::now();
      const auto waited = now - start;
      const int64_t last_shed = last_shed_ticks_.load();
      const bool shed_recently =
          last_shed != 0 && std::chrono::steady_clock::duration(now.time_since_epoch().count() -
                                                                last_shed) < options_.queue_delay_interval;
      const bool overloaded = shed_recently || pool_->standing_for() > options_.queue_delay_interval;
      if (waited > options_.queue_delay_target && overloaded) {
        const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(waited);
        last_shed_ticks_ = now.time_since_epoch().count();
        ++shed_;
        if (options_.metrics != nullptr) options_.metrics->Shed("queue_delay");
        Finish(reactor, method,
               grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            absl::StrCat("server overloaded: waited ", waited_ms.count(),
                                         " ms for a worker (limit ", options_.queue_delay_target.count(),
                                         " ms while overloaded); retry with backoff")),
               start);
        return;
      }
    }
    Req req;
    if (absl::Status parsed = ParseRequestMessage(ToString(*request), &req); !parsed.ok()) {
      Finish(reactor, method, ToClientStatus(parsed, method), start);
      return;
    }
    Resp resp;
    // A core left idle by the other requests may run part of this one (the Searcher's legs).
    RequestControl running = control;
    running.idle_workers = pool_->idle_workers();
    absl::Status s = handle(req, &resp, running);
    if (s.ok()) Serialize(resp, response);
    Finish(reactor, method, ToClientStatus(s, method), start);
  });
  if (!queued) {
    last_shed_ticks_ = std::chrono::steady_clock::now().time_since_epoch().count();
    ++shed_;
    if (options_.metrics != nullptr) options_.metrics->Shed("queue_full");
    Finish(reactor, method,
           grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat("server overloaded: ", pool_->threads(), " workers busy and ",
                                     pool_->max_queued(), " requests queued; retry with backoff")),
           start);
  }
  return reactor;
}

grpc::ServerUnaryReactor* MarketSearchService::Search(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return Dispatch<SearchRequest, SearchResponse>(
      "Search", QueueDelay::kShed, context, request, response,
      [this](const SearchRequest& q, SearchResponse* r, const RequestControl& c) {
        return DoSearch(q, r, c);
      });
}

grpc::ServerUnaryReactor* MarketSearchService::LogEvents(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return Dispatch<LogEventsRequest, LogEventsResponse>(
      "LogEvents", QueueDelay::kWait, context, request, response,
      [this](const LogEventsRequest& q, LogEventsResponse* r, const RequestControl&) {
        return DoLogEvents(q, r);
      });
}

grpc::ServerUnaryReactor* MarketSearchService::RefuseUnauthenticatedWrite(
    grpc::CallbackServerContext* context, const char* method) {
  if (options_.write_token == nullptr) return nullptr;
  const auto start = std::chrono::steady_clock::now();
  const auto& metadata = context->client_metadata();
  const auto it = metadata.find("authorization");
  const absl::string_view value =
      it == metadata.end() ? absl::string_view() : absl::string_view(it->second.data(), it->second.size());
  const absl::Status s = options_.write_token->Check(value);
  if (s.ok()) return nullptr;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, method, grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(s.message())), start);
  return reactor;
}

grpc::ServerUnaryReactor* MarketSearchService::UpsertListings(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* request,
                                                              grpc::ByteBuffer* response) {
  if (grpc::ServerUnaryReactor* refused = RefuseUnauthenticatedWrite(context, "UpsertListings")) {
    return refused;
  }
  return Dispatch<UpsertListingsRequest, UpsertListingsResponse>(
      "UpsertListings", QueueDelay::kWait, context, request, response,
      [this](const UpsertListingsRequest& q, UpsertListingsResponse* r, const RequestControl&) {
        return DoUpsert(q, r);
      });
}

grpc::ServerUnaryReactor* MarketSearchService::DeleteListings(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* request,
                                                              grpc::ByteBuffer* response) {
  if (grpc::ServerUnaryReactor* refused = RefuseUnauthenticatedWrite(context, "DeleteListings")) {
    return refused;
  }
  return Dispatch<DeleteListingsRequest, DeleteListingsResponse>(
      "DeleteListings", QueueDelay::kWait, context, request, response,
      [this](const DeleteListingsRequest& q, DeleteListingsResponse* r, const RequestControl&) {
        return DoDelete(q, r);
      });
}

absl::Status MarketSearchService::DoSearch(const SearchRequest& request, SearchResponse* response,
                                           const RequestControl& control) {
  const auto start = std::chrono::steady_clock::now();
  SearchRequestStats stats;
  // The experiment arms of this buyer and the options they set (the server's when none).
  ExperimentRouter::Route route;
  if (options_.experiments != nullptr) {
    absl::StatusOr<ExperimentRouter::Route> r =
        options_.experiments->RouteRequest(request, searcher_->options(), NowUnixMs() / 1000);
    if (!r.ok()) return r.status();
    route = *std::move(r);
  }
  absl::Status s;
  if (route.interleave && request.page_token().empty()) {
    s = InterleavedSearch(request, route, response, &stats, control);
  } else {
    s = searcher_->Search(request, response, &stats, &control,
                          route.arms.empty() ? nullptr : &route.options);
  }
  if (s.ok() && options_.experiments != nullptr) {
    options_.experiments->Annotate(route, response);
    if (options_.metrics != nullptr && response->arms_size() > 0) options_.metrics->ExperimentServed(*response);
  }
  if (s.ok() && options_.metrics != nullptr) options_.metrics->SearchDone(stats);
  if (options_.access_log != nullptr && options_.access_log->Sampled()) {
    options_.access_log->Write(NowUnixMs(), s, MsSince(start), *response, stats);
  }
  // Logging never fails or slows the search: a full queue drops the impression (counted).
  if (s.ok() && options_.impressions != nullptr && !options_.impressions->Enqueue(request, *response, NowUnixMs(), MsSince(start)) &&
      options_.metrics != nullptr) {
    options_.metrics->ImpressionDropped(*response);
  }
  // A search an arm failed (the server's failure, not a bad request) is logged too, with no
  // page: the report's error-rate guardrail counts it against the arms that served it.
  if (!s.ok() && !absl::IsInvalidArgument(s) && !route.arms.empty() && options_.impressions != nullptr) {
    SearchResponse failed;
    ExperimentRouter::AddArms(route, &failed);
    (*failed.mutable_debug()->mutable_stage_ms())["error_code"] = static_cast<double>(s.code());
    if (!options_.impressions->Enqueue(request, failed, NowUnixMs(), MsSince(start)) &&
        options_.metrics != nullptr) {
      options_.metrics->ImpressionDropped(failed);
    }
  }
  return s;
}

absl::Status MarketSearchService::InterleavedSearch(const SearchRequest& request,
                                                   const ExperimentRouter::Route& route,
                                                   SearchResponse* response,
                                                   SearchRequestStats* stats,
                                                   const RequestControl& control) {
  // Both rankings in full (twice the work of a search: the price of interleaving's far smaller
  // sample), then one page that takes turns between them (Team-Draft; the coins come from a
  // fixed hash of the request id, and each result's team is logged with the impression).
  SearchResponse b;
  MS_RETURN_IF_ERROR(searcher_->Search(request, response, stats, &control, &route.interleave_a));
  MS_RETURN_IF_ERROR(searcher_->Search(request, &b, nullptr, &control, &route.interleave_b));
  std::vector<uint64_t> ids_a, ids_b;
  absl::flat_hash_map<uint64_t, SearchResult> results;
  for (const SearchResult& r : response->results()) {
    ids_a.push_back(r.listing_id());
    results.emplace(r.listing_id(), r);
  }
  for (const SearchResult& r : b.results()) {
    ids_b.push_back(r.listing_id());
    results.emplace(r.listing_id(), r);
  }
  const stats::InterleavedPage page = stats::TeamDraftInterleave(
      ids_a, ids_b, request.page_size(), Fnv1a32(response->request_id()));
  response->clear_results();
  for (size_t i = 0; i < page.ids.size(); ++i) {
    SearchResult* r = response->add_results();
    *r = results.at(page.ids[i]);
    r->set_interleaving_team(page.team[i] + 1);
  }
  return absl::OkStatus();
}

absl::Status MarketSearchService::DoLogEvents(const LogEventsRequest& request,
                                              LogEventsResponse* response) {
  if (auto s = ValidateLogEventsRequest(request, NowUnixMs()); !s.ok()) return s;
  if (options_.events == nullptr) return absl::UnavailableError("event log disabled");
  if (options_.experiments != nullptr) {
    for (int i = 0; i < request.events_size(); ++i) {
      const Event& e = request.events(i);
      if (e.attribution_token().empty()) continue;
      absl::StatusOr<std::vector<ServedArm>> arms =
          options_.experiments->VerifyToken(e.attribution_token(), e.request_id());
      if (!arms.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("events[", i, "].", arms.status().message()));
      }
    }
  }
  const std::vector<Event> events(request.events().begin(), request.events().end());
  if (absl::Status s = options_.events->AppendEvents(events, NowUnixMs()); !s.ok()) {
    return absl::InternalError(absl::StrCat("event log: ", s.message()));
  }
  response->set_accepted(request.events_size());
  return absl::OkStatus();
}

absl::Status MarketSearchService::DoUpsert(const UpsertListingsRequest& request,
                                           UpsertListingsResponse* response) {
  if (options_.writer == nullptr) {
    return absl::FailedPreconditionError("this server follows the store read-only (--store_mode=secondary)");
  }
  const std::vector<Listing> listings(request.listings().begin(), request.listings().end());
  absl::StatusOr<int64_t> t = options_.writer->Upsert(listings);
  if (!t.ok()) return t.status();
  response->set_upserted(request.listings_size());
  response->set_write_time_ms(*t);
  return absl::OkStatus();
}

absl::Status MarketSearchService::DoDelete(const DeleteListingsRequest& request,
                                           DeleteListingsResponse* response) {
  if (options_.writer == nullptr) {
    return absl::FailedPreconditionError("this server follows the store read-only (--store_mode=secondary)");
  }
  const std::vector<uint64_t> ids(request.listing_ids().begin(), request.listing_ids().end());
  absl::StatusOr<int64_t> t = options_.writer->Delete(ids);
  if (!t.ok()) return t.status();
  response->set_deleted(request.listing_ids_size());
  response->set_write_time_ms(*t);
  return absl::OkStatus();
}

}  // namespace marketsearch
