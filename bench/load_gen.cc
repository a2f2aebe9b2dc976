// load_gen: gRPC load on MarketSearch.Search, for --duration_s after a --warmup_s that is not
// counted, in one of two shapes:
//   closed loop (default): --in_flight requests outstanding, each completion issues the next;
//   open loop (--rate_qps > 0): requests arrive at that mean rate with Poisson (exponential)
//     gaps whatever the server does, and latency counts from each request's scheduled arrival,
//     so a server that falls behind shows its queueing (no coordinated omission);
//     --rate_phases changes the rate over the window (an overload, then a drop), and
//     --timeline_file keeps every completion so a script can cut the window per second.
// --filtered_share of the requests carry a filter (category, price range, condition or a geo
// radius, drawn in turn). Reports throughput, status codes (by name), latency percentiles of OK
// responses up to p99.9, its own CPU and, with --server_pid, the server's CPU per request
// (from /proc/<pid>/stat).
//
// One thread drives every call through one async CompletionQueue, so 512 in flight costs 512
// small call records, not 512 threads: on a 2-core machine the client shares the cores with
// the server, and its own CPU use is reported beside the server's.
// Loopback targets only: this is a bench tool, not a way to load someone else's server.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <unordered_set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "common/proc_stat.h"
#include "datasets/catalog_reader.h"
#include "datasets/query_typos.h"
#include "datasets/marketplace_taxonomy.h"
#include "proto/search.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:8500",
          "server address host:port; loopback only (127.0.0.0/8, localhost, [::1])");
ABSL_FLAG(int, in_flight, 1, "concurrent outstanding requests (closed loop)");
ABSL_FLAG(double, duration_s, 10, "measured window in seconds");
ABSL_FLAG(double, warmup_s, 2, "load before the measured window (not counted)");
ABSL_FLAG(std::string, queries_file, "",
          "the catalog's queries.tsv (<data_dir>/catalog/queries.tsv, datasets/catalog_reader.h); "
          "queries are cycled in a shuffled order");
ABSL_FLAG(uint64_t, seed, 42, "seed of the query order");
ABSL_FLAG(std::string, typo_kind, "",
          "if set (swap, deletion, doubling, keyboard, insertion): every query gets one typo of "
          "this kind in its longest word (datasets/query_typos.h, seed --seed): the load of "
          "buyers who misspell");
ABSL_FLAG(int, page_size, 10, "results per request (1..100)");
ABSL_FLAG(int, deadline_ms, 2000, "per-request deadline");
ABSL_FLAG(int, server_pid, 0,
          "if > 0: report the CPU this process used in the measured window (cores, ms per OK "
          "request), read from /proc/<pid>/stat");
ABSL_FLAG(std::string, name, "", "prefix of the BENCH names (e.g. 1m -> BENCH 1m_inflight64_qps)");
ABSL_FLAG(int64_t, max_requests, 0, "stop issuing after this many requests in all (0 = unlimited)");
ABSL_FLAG(double, rate_qps, 0,
          "open loop: mean arrival rate (Poisson); 0 = closed loop with --in_flight. Requests "
          "that would exceed --max_outstanding are not sent and counted as client_overflow");
ABSL_FLAG(int, max_outstanding, 4096, "open loop: most requests in flight at once");
ABSL_FLAG(std::string, rate_phases, "",
          "open loop in phases, 'qps:seconds,...' (e.g. '900:30,150:15' for an overload then a "
          "drop); overrides --rate_qps and --duration_s, the warmup runs at the first rate");
ABSL_FLAG(std::string, timeline_file, "",
          "if set, one line per request completed in the window: sent_s done_s grpc_code "
          "latency_ms index lexical ranker (seconds from the window's start; versions of OK "
          "responses, else 0) - for per-second views of overload, recovery and swaps");
ABSL_FLAG(double, filtered_share, 0.0,
          "share of requests with a filter (category, price range, condition, geo; in turn)");

namespace marketsearch {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Refuses anything but loopback: "127.x.y.z:port", "localhost:port", "[::1]:port".
bool IsLoopbackTarget(const std::string& target, std::string* why) {
  std::string host;
  std::string port;
  if (!target.empty() && target[0] == '[') {
    const size_t close = target.find(']');
    if (close == std::string::npos || close + 1 >= target.size() || target[close + 1] != ':') {
      *why = "expected [v6]:port";
      return false;
    }
    host = target.substr(0, close + 1);
    port = target.substr(close + 2);
  } else {
    const size_t colon = target.rfind(':');
    if (colon == std::string::npos) {
      *why = "expected host:port";
      return false;
    }
    host = target.substr(0, colon);
    port = target.substr(colon + 1);
  }
  int port_num = 0;
  if (!absl::SimpleAtoi(port, &port_num) || port_num <= 0 || port_num > 65535) {
    *why = absl::StrCat("bad port '", port, "'");
    return false;
  }
  if (host == "localhost" || host == "[::1]") return true;
  const std::vector<std::string> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4) {
    *why = absl::StrCat("host '", host, "' is not loopback");
    return false;
  }
  for (size_t i = 0; i < 4; ++i) {
    int v = -1;
    if (!absl::SimpleAtoi(octets[i], &v) || v < 0 || v > 255 || (i == 0 && v != 127)) {
      *why = absl::StrCat("host '", host, "' is not in 127.0.0.0/8");
      return false;
    }
  }
  return true;
}

double SelfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

double Pct(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))];
}

// One outstanding call; its address is the completion-queue tag.
struct Call {
  grpc::ClientContext ctx;
  SearchRequest req;
  SearchResponse resp;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<SearchResponse>> reader;
  Clock::time_point sent;
};

enum StatusBucket { kOk, kResourceExhausted, kDeadlineExceeded, kUnavailable, kOther, kBuckets };
const char* const kBucketName[kBuckets] = {"ok", "resource_exhausted", "deadline_exceeded",
                                           "unavailable", "other_errors"};

StatusBucket BucketOf(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return kOk;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return kResourceExhausted;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return kDeadlineExceeded;
    case grpc::StatusCode::UNAVAILABLE: return kUnavailable;
    default: return kOther;
  }
}

// The synthetic marketplace's category names (datasets/marketplace_taxonomy.h), for filters.
std::vector<std::string> TaxonomyCategories() {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(kMarketplaceTaxonomy, '\n')) {
    if (absl::ConsumePrefix(&line, "category ")) {
      out.emplace_back(line.substr(0, line.find(' ')));
    }
  }
  return out;
}

// The k-th filter of the mix: category, price range, condition, geo radius, in turn.
void AddFilter(int64_t k, const std::vector<std::string>& categories, std::mt19937_64& rng,
               SearchRequest* req) {
  SearchFilters* f = req->mutable_filters();
  switch (k % 4) {
    case 0:
      if (!categories.empty()) {
        f->add_categories(categories[std::uniform_int_distribution<size_t>(0, categories.size() - 1)(rng)]);
      }
      break;
    case 1: {
      const double lo = std::uniform_real_distribution<double>(5, 200)(rng);
      f->mutable_price()->set_min(lo);
      f->mutable_price()->set_max(lo * 3);
      break;
    }
    case 2:
      f->add_conditions(std::uniform_int_distribution<int>(0, 1)(rng) ? CONDITION_NEW : CONDITION_USED);
      break;
    default:  // the marketplace's listings are in German cities: around Berlin
      f->mutable_geo()->mutable_center()->set_lat(52.52);
      f->mutable_geo()->mutable_center()->set_lon(13.40);
      f->mutable_geo()->set_radius_km(50);
      break;
  }
}

struct RatePhase {
  double qps = 0;
  double seconds = 0;
};

// "qps:seconds,qps:seconds" -> phases; InvalidArgument naming the bad part.
absl::StatusOr<std::vector<RatePhase>> ParseRatePhases(const std::string& spec) {
  std::vector<RatePhase> phases;
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    const std::vector<std::string> kv = absl::StrSplit(part, ':');
    RatePhase ph;
    if (kv.size() != 2 || !absl::SimpleAtod(kv[0], &ph.qps) || !absl::SimpleAtod(kv[1], &ph.seconds) ||
        !(ph.qps > 0) || !(ph.seconds > 0) || !std::isfinite(ph.qps) || !std::isfinite(ph.seconds)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--rate_phases: '", part, "' is not qps:seconds with both > 0"));
    }
    phases.push_back(ph);
  }
  if (phases.empty()) return absl::InvalidArgumentError("--rate_phases: no phase");
  return phases;
}

int Run() {
  const std::string target = absl::GetFlag(FLAGS_target);
  const int in_flight = absl::GetFlag(FLAGS_in_flight);
  double duration_s = absl::GetFlag(FLAGS_duration_s);
  const double warmup_s = std::max(0.0, absl::GetFlag(FLAGS_warmup_s));
  const int deadline_ms = absl::GetFlag(FLAGS_deadline_ms);
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const int64_t max_requests = absl::GetFlag(FLAGS_max_requests);
  double rate_qps = absl::GetFlag(FLAGS_rate_qps);
  std::vector<RatePhase> phases;
  if (!absl::GetFlag(FLAGS_rate_phases).empty()) {
    absl::StatusOr<std::vector<RatePhase>> parsed = ParseRatePhases(absl::GetFlag(FLAGS_rate_phases));
    if (!parsed.ok()) {
      std::fprintf(stderr, "load_gen: %s\n", std::string(parsed.status().message()).c_str());
      return 2;
    }
    phases = *parsed;
    rate_qps = phases[0].qps;
    duration_s = 0;
    for (const RatePhase& ph : phases) duration_s += ph.seconds;
  } else if (rate_qps > 0) {
    phases.push_back({rate_qps, duration_s});
  }
  const bool open_loop = rate_qps > 0;
  const int max_outstanding = std::max(1, absl::GetFlag(FLAGS_max_outstanding));
  const double filtered_share = std::clamp(absl::GetFlag(FLAGS_filtered_share), 0.0, 1.0);
  const std::vector<std::string> categories = TaxonomyCategories();
  std::string why;
  if (!IsLoopbackTarget(target, &why)) {
    std::fprintf(stderr, "load_gen: refusing --target=%s: %s\n", target.c_str(), why.c_str());
    return 2;
  }
  if (in_flight < 1 || in_flight > 10000 || duration_s <= 0 || deadline_ms <= 0) {
    std::fprintf(stderr, "load_gen: need 1 <= --in_flight <= 10000, --duration_s > 0, --deadline_ms > 0\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_queries_file).empty()) {
    std::fprintf(stderr, "load_gen: --queries_file is required\n");
    return 2;
  }
  absl::StatusOr<std::vector<QueryRecord>> records = ReadQueries(absl::GetFlag(FLAGS_queries_file));
  if (!records.ok() || records->empty()) {
    std::fprintf(stderr, "load_gen: %s\n",
                 records.ok() ? "no queries" : std::string(records.status().message()).c_str());
    return 2;
  }
  std::vector<std::string> queries;
  for (const QueryRecord& q : *records) queries.push_back(q.text);
  if (!absl::GetFlag(FLAGS_typo_kind).empty()) {
    absl::StatusOr<marketsearch::TypoKind> kind = marketsearch::ParseTypoKind(absl::GetFlag(FLAGS_typo_kind));
    if (!kind.ok()) {
      std::fprintf(stderr, "load_gen: --typo_kind: %s\n", std::string(kind.status().message()).c_str());
      return 2;
    }
    for (std::string& q : queries) q = marketsearch::WithTypo(q, *kind, absl::GetFlag(FLAGS_seed));
  }
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  std::shuffle(queries.begin(), queries.end(), rng);

  const std::string loadavg_before = LoadAverage();
  auto stub = MarketSearch::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::CompletionQueue cq;
  size_t next_query = 0;
  int64_t issued = 0;
  int outstanding = 0;
  bool issuing = true;
  std::unordered_set<Call*> live;  // to cancel stragglers

  std::mt19937_64 filter_rng(absl::GetFlag(FLAGS_seed) + 1);
  std::uniform_real_distribution<double> unit(0, 1);
  int64_t filtered_issued = 0;
  // `scheduled`: when the request was due (open loop: its Poisson arrival; closed loop: now).
  auto issue = [&](Clock::time_point scheduled) {
    auto* call = new Call;
    call->req.set_query(queries[next_query]);
    next_query = (next_query + 1) % queries.size();
    call->req.set_page_size(absl::GetFlag(FLAGS_page_size));
    if (filtered_share > 0 && unit(filter_rng) < filtered_share) {
      AddFilter(filtered_issued++, categories, filter_rng, &call->req);
    }
    call->sent = scheduled;
    // gRPC takes system_clock deadlines only; latency is measured on the steady clock.
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
    call->reader = stub->PrepareAsyncSearch(&call->ctx, call->req, &cq);
    call->reader->StartCall();
    call->reader->Finish(&call->resp, &call->status, call);
    live.insert(call);
    ++issued;
    ++outstanding;
  };

  const Clock::time_point t_begin = Clock::now();
  const Clock::time_point t_measure =
      t_begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup_s));
  const Clock::time_point t_end =
      t_measure + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration_s));
  bool measuring = false;
  // With --server_pid the server is checked every 200 ms: when it exits, the window ends
  // there (a closed loop against a dead server only measures how fast connects fail).
  bool server_exited = false;
  std::optional<double> last_server_cpu;
  Clock::time_point next_check = t_begin;
  std::optional<double> server_cpu0, server_cpu1;
  double self_cpu0 = 0, self_cpu1 = 0;
  Clock::time_point window_start = t_measure, window_end = t_end;

  int64_t counts[kBuckets] = {};
  std::map<std::string, int64_t> by_code;  // every status code by name
  std::map<StatusBucket, std::string> first_error;
  std::vector<double> ok_ms;
  ok_ms.reserve(1 << 16);

  // Open loop: the next Poisson arrival; requests due while max_outstanding are in flight are
  // not sent (counted: the client, not the server, would be the bottleneck).
  // Gaps are unit exponentials scaled by the rate of the phase the arrival falls in (the
  // warmup runs at the first phase's rate).
  std::exponential_distribution<double> unit_gap(1.0);
  std::mt19937_64 arrival_rng(absl::GetFlag(FLAGS_seed) + 2);
  auto rate_at = [&](Clock::time_point t) {
    double into = Seconds(t_measure, t);
    for (const RatePhase& ph : phases) {
      if (into < ph.seconds) return ph.qps;
      into -= ph.seconds;
    }
    return phases.back().qps;
  };
  std::FILE* timeline = nullptr;
  if (!absl::GetFlag(FLAGS_timeline_file).empty()) {
    timeline = std::fopen(absl::GetFlag(FLAGS_timeline_file).c_str(), "w");
    if (timeline == nullptr) {
      std::fprintf(stderr, "load_gen: cannot write --timeline_file=%s\n",
                   absl::GetFlag(FLAGS_timeline_file).c_str());
      return 2;
    }
  }
  Clock::time_point next_arrival = t_begin;
  int64_t client_overflow = 0;
  if (!open_loop) {
    for (int i = 0; i < in_flight && (max_requests <= 0 || issued < max_requests); ++i) issue(Clock::now());
  }

  auto start_window = [&](Clock::time_point now) {
    measuring = true;
    window_start = now;
    if (server_pid > 0) server_cpu0 = ProcessCpuSeconds(server_pid);
    self_cpu0 = SelfCpuSeconds();
  };
  auto end_window = [&](Clock::time_point now) {
    measuring = false;
    issuing = false;
    window_end = now;
    if (server_pid > 0) {
      server_cpu1 = ProcessCpuSeconds(server_pid);
      if (!server_cpu1) server_cpu1 = last_server_cpu;  // it exited: CPU up to the last check
    }
    self_cpu1 = SelfCpuSeconds();
  };
  if (warmup_s == 0) start_window(t_begin);

  // Calls still out when the window closes have their deadlines; past that (plus slack) they
  // are cancelled so the tool always ends.
  const auto drain_limit = std::chrono::milliseconds(deadline_ms + 5000);
  Clock::time_point drain_until = Clock::time_point::max();
  bool cancelled = false;
  while (outstanding > 0 || (open_loop && issuing)) {
    if (open_loop && issuing) {
      for (Clock::time_point now = Clock::now(); next_arrival <= now && now < t_end;) {
        if (outstanding < max_outstanding && (max_requests <= 0 || issued < max_requests)) {
          issue(next_arrival);
        } else if (measuring) {
          ++client_overflow;
        }
        next_arrival += std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(unit_gap(arrival_rng) / rate_at(next_arrival)));
      }
    }
    void* tag = nullptr;
    bool ok = false;
    auto wait = std::chrono::milliseconds(50);
    if (open_loop && issuing) {
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::max(Clock::duration::zero(), next_arrival - Clock::now())));
    }
    const auto poll = std::chrono::system_clock::now() + wait;
    const grpc::CompletionQueue::NextStatus ns = cq.AsyncNext(&tag, &ok, poll);
    const Clock::time_point now = Clock::now();
    if (server_pid > 0 && issuing && now >= next_check) {
      next_check = now + std::chrono::milliseconds(200);
      if (ProcessAlive(server_pid)) {
        if (measuring) last_server_cpu = ProcessCpuSeconds(server_pid);
      } else {
        server_exited = true;
        std::fprintf(stderr, "load_gen: server process %d exited %.1f s into the run; stopping\n",
                     server_pid, Seconds(t_begin, now));
        if (!measuring) start_window(now);
        end_window(now);
        drain_until = now + drain_limit;
      }
    }
    if (!measuring && issuing && now >= t_measure && now < t_end) start_window(now);
    if (issuing && now >= t_end) {
      if (!measuring) start_window(t_measure);  // a window with no completions at all
      end_window(now);
      drain_until = now + drain_limit;
    }
    if (ns == grpc::CompletionQueue::GOT_EVENT) {
      std::unique_ptr<Call> call(static_cast<Call*>(tag));
      live.erase(call.get());
      --outstanding;
      if (measuring) {
        const StatusBucket b = BucketOf(call->status.error_code());
        ++counts[b];
        ++by_code[absl::StatusCodeToString(static_cast<absl::StatusCode>(call->status.error_code()))];
        const double latency_ms = std::chrono::duration<double, std::milli>(now - call->sent).count();
        if (b == kOk) {
          ok_ms.push_back(latency_ms);
        } else if (!first_error.count(b)) {
          first_error[b] = absl::StrCat(call->status.error_code(), " ", call->status.error_message());
        }
        if (timeline != nullptr) {
          const ServedVersions& v = call->resp.versions();
          const bool got = call->status.ok();
          std::fprintf(timeline, "%.4f %.4f %d %.3f %lld %lld %lld\n", Seconds(t_measure, call->sent),
                       Seconds(t_measure, now), static_cast<int>(call->status.error_code()), latency_ms,
                       static_cast<long long>(got ? v.index() : 0), static_cast<long long>(got ? v.lexical() : 0),
                       static_cast<long long>(got ? v.ranker() : 0));
        }
      }
      if (issuing && !open_loop) {
        if (max_requests > 0 && issued >= max_requests) {
          if (outstanding == 0) {  // the request budget ran out before the window did
            if (!measuring) start_window(now);
            end_window(now);
          }
        } else {
          issue(Clock::now());
        }
      }
    } else if (ns == grpc::CompletionQueue::SHUTDOWN) {
      break;
    }
    if (!issuing && now > drain_until) {
      // Cannot happen while the deadlines hold; belt and braces for a wedged transport.
      if (cancelled) {
        std::fprintf(stderr, "load_gen: %d cancelled calls never completed; exiting\n", outstanding);
        std::fflush(stdout);
        std::_Exit(3);
      }
      std::fprintf(stderr, "load_gen: %d calls outstanding %d ms after the window; cancelling\n",
                   outstanding, static_cast<int>(drain_limit.count()));
      for (Call* c : live) c->ctx.TryCancel();
      cancelled = true;
      drain_until = now + std::chrono::seconds(5);
    }
  }
  if (measuring) end_window(Clock::now());
  if (timeline != nullptr) std::fclose(timeline);
  const std::string loadavg_after = LoadAverage();
  cq.Shutdown();
  {
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) delete static_cast<Call*>(tag);
  }

  // A window cut to nothing (the request budget ran out in the warmup) has no rates.
  const double wall = std::max(1e-3, Seconds(window_start, window_end));
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  std::sort(ok_ms.begin(), ok_ms.end());
  const double qps = counts[kOk] / wall;
  const double client_cores = (self_cpu1 - self_cpu0) / wall;

  struct Figure {
    std::string metric;
    double value;
    const char* fmt;
  };
  std::vector<Figure> figs = {
      {"requests", static_cast<double>(total), "%.0f"},
      {"qps", qps, "%.1f"},
  };
  if (server_exited) figs.push_back({"server_exited", 1, "%.0f"});
  for (int b = 0; b < kBuckets; ++b) figs.push_back({kBucketName[b], static_cast<double>(counts[b]), "%.0f"});
  figs.push_back({"p50_ms", Pct(ok_ms, 0.50), "%.2f"});
  figs.push_back({"p90_ms", Pct(ok_ms, 0.90), "%.2f"});
  figs.push_back({"p99_ms", Pct(ok_ms, 0.99), "%.2f"});
  figs.push_back({"p999_ms", Pct(ok_ms, 0.999), "%.2f"});
  if (open_loop) figs.push_back({"client_overflow", static_cast<double>(client_overflow), "%.0f"});
  figs.push_back({"max_ms", ok_ms.empty() ? 0 : ok_ms.back(), "%.2f"});
  figs.push_back({"client_cores", client_cores, "%.3f"});
  bool have_server_cpu = false;
  if (server_pid > 0) {
    if (server_cpu0 && server_cpu1) {
      have_server_cpu = true;
      const double cpu = *server_cpu1 - *server_cpu0;
      figs.push_back({"server_cores", cpu / wall, "%.3f"});
      if (counts[kOk] > 0) figs.push_back({"server_cpu_ms_per_request", 1000.0 * cpu / counts[kOk], "%.2f"});
    } else {
      std::fprintf(stderr, "load_gen: could not read /proc/%d/stat %s the window (server gone?)\n",
                   server_pid, server_cpu0 ? "after" : "before");
    }
  }

  std::string shape = open_loop ? absl::StrFormat("open loop at %.0f qps (Poisson)", rate_qps)
                                : absl::StrCat("closed loop, in_flight ", in_flight);
  if (phases.size() > 1) {
    shape = "open loop (Poisson) in phases";
    for (const RatePhase& ph : phases) absl::StrAppendFormat(&shape, " %.0f qps for %.0f s;", ph.qps, ph.seconds);
  }
  std::printf("load_gen -> %s: %s, %.1f s measured after %.1f s warmup, page_size %d, "
              "deadline %d ms, %zu distinct queries, %.0f%% filtered\n",
              target.c_str(), shape.c_str(), wall, warmup_s, absl::GetFlag(FLAGS_page_size), deadline_ms,
              queries.size(), 100 * filtered_share);
  std::printf("  loadavg before: %s\n  loadavg after:  %s\n", loadavg_before.c_str(), loadavg_after.c_str());
  std::printf("  %-10s %10s %9s %8s %9s %9s %11s %8s %8s %8s %8s", open_loop ? "rate_qps" : "in_flight", "requests", "qps", "ok",
              "res_exh", "deadline", "unavailable", "other", "p50_ms", "p90_ms", "p99_ms");
  std::printf(" %8s %7s", "max_ms", "client");
  if (have_server_cpu) std::printf(" %7s %9s", "server", "srv_ms/rq");
  std::printf("\n  %-10d %10lld %9.1f %8lld %9lld %9lld %11lld %8lld %8.2f %8.2f %8.2f %8.2f %7.2f",
              open_loop ? static_cast<int>(rate_qps) : in_flight, static_cast<long long>(total), qps,
              static_cast<long long>(counts[kOk]),
              static_cast<long long>(counts[kResourceExhausted]),
              static_cast<long long>(counts[kDeadlineExceeded]),
              static_cast<long long>(counts[kUnavailable]), static_cast<long long>(counts[kOther]),
              Pct(ok_ms, 0.5), Pct(ok_ms, 0.9), Pct(ok_ms, 0.99), ok_ms.empty() ? 0 : ok_ms.back(),
              client_cores);
  if (have_server_cpu) {
    const double cpu = *server_cpu1 - *server_cpu0;
    std::printf(" %7.2f %9.2f", cpu / wall, counts[kOk] > 0 ? 1000.0 * cpu / counts[kOk] : 0.0);
  }
  std::printf("\n  (client/server = CPU cores used in the window; latency percentiles over OK responses)\n");
  if (server_exited) std::printf("  SERVER PROCESS %d EXITED: the window ended there\n", server_pid);
  std::printf("  status codes:");
  for (const auto& [code, n] : by_code) std::printf(" %s %lld", code.c_str(), static_cast<long long>(n));
  std::printf("; p99.9 %.2f ms", Pct(ok_ms, 0.999));
  if (open_loop) std::printf("; requests not sent (client at --max_outstanding): %lld", static_cast<long long>(client_overflow));
  std::printf("\n");
  for (const auto& [b, msg] : first_error) {
    std::printf("  first %s: %s\n", kBucketName[b], msg.c_str());
  }
  const std::string prefix =
      absl::StrCat(absl::GetFlag(FLAGS_name), absl::GetFlag(FLAGS_name).empty() ? "" : "_",
                   open_loop ? absl::StrCat("rate", static_cast<int64_t>(rate_qps)) : absl::StrCat("inflight", in_flight),
                   "_");
  for (const Figure& f : figs) {
    std::printf("BENCH %s%s ", prefix.c_str(), f.metric.c_str());
    std::printf(f.fmt, f.value);
    std::printf("\n");
  }
  std::fflush(stdout);
  if (counts[kOk] == 0) {
    std::fprintf(stderr, "load_gen: no request succeeded in the measured window\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "load_gen: closed-loop load on MarketSearch.Search (loopback targets only).\n"
      "Usage: load_gen --target=127.0.0.1:PORT --queries_file=DATA/catalog/queries.tsv "
      "[--in_flight=64] [--duration_s=10] [--warmup_s=2] [--server_pid=PID] [--name=1m]\n"
      "Prints a table and `BENCH <name>_inflight<N>_<metric> <value>` lines; exits 1 when no "
      "request succeeded.");
  absl::ParseCommandLine(argc, argv);
  return marketsearch::Run();
}
