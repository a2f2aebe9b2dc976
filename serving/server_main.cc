// server: the MarketSearch gRPC server, as wiring. The feature store, the Searcher (request
// path), the ListingWriter (UpsertListings/DeleteListings, primary only), the bounded
// RequestPool the gRPC handlers run on, and the ServingLifecycle that loads the versions the
// data directory names (index/CURRENT and the towers it was built with, lexical/CURRENT, the
// newest compatible ranker), switches new requests to them and releases the old ones after
// their in-flight requests end; at the first load it replays the store's write log into the
// deltas, so the writes made since the served index's snapshot survive a restart. Also the
// standard gRPC health service and server reflection.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/grpcpp.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/timing.h"
#include "experiments/event_log.h"
#include "experiments/impression_queue.h"
#include "features/feature_store.h"
#include "index/listing_reader.h"
#include "index/memory_listing_reader.h"
#include "retrieval/fusion_config.h"
#include "serving/access_log.h"
#include "serving/bearer_token.h"
#include "serving/admin_server.h"
#include "serving/server_config.h"
#include "proto/server_config.pb.h"
#include "absl/strings/str_join.h"
#include "absl/flags/reflection.h"
#include "serving/grpc_service.h"
#include "serving/server_metrics.h"
#include "ranking/ranker.h"
#include "serving/listing_writer.h"
#include "serving/message_parser.h"
#include "serving/request_pool.h"
#include "serving/searcher.h"
#include "serving/experiment_dashboard.h"
#include "serving/experiment_router.h"
#include "serving/serving_lifecycle.h"
#include "serving/servable_source.h"
#include "serving/version_pool.h"

ABSL_FLAG(std::string, config, "",
          "a text-proto ServerConfig (proto/server_config.proto): each field sets the flag of the "
          "same name; flags given on the command line override it");
ABSL_FLAG(std::string, data_dir, "var", "data directory (store/, models/, index/, logs/)");
ABSL_FLAG(std::string, host, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 8500, "gRPC port; 0 picks a free port");
ABSL_FLAG(std::string, port_file, "", "if set, the chosen port is written here once serving");
ABSL_FLAG(int, reload_interval_ms, 2000, "how often to look for a new index version");
ABSL_FLAG(std::string, admin_address, "127.0.0.1:8501",
          "the HTTP listener for operators: GET /metrics (Prometheus text format) and /healthz; "
          "loopback by default (port 0 = a free one; empty = none)");
ABSL_FLAG(std::string, admin_port_file, "", "if set, the admin listener's port is written here");
ABSL_FLAG(bool, log_impressions, true, "write impressions and events to <data_dir>/logs");
ABSL_FLAG(std::string, experiments_config, "",
          "the A/B experiment configuration (proto/experiment.proto, text format), reloaded when "
          "it changes; default <data_dir>/experiments.textproto (missing = no experiments)");
ABSL_FLAG(double, log_retention_days, 30,
          "impressions and events older than this are deleted from <data_dir>/logs (RocksDB range "
          "deletes and compaction, checked every 10 minutes); 0 keeps everything");
ABSL_FLAG(bool, experiment_qa_overrides, false,
          "honour SearchRequest.force_arms (QA; forced traffic is excluded from analysis)");
ABSL_FLAG(std::string, experiment_token_key, "",
          "file holding the HMAC key of the attribution tokens; default "
          "<data_dir>/run/experiment_token.key (created with a random key when missing)");
ABSL_FLAG(int, drain_grace_ms, 1000,
          "on SIGTERM/SIGINT: how long the server keeps answering after its health turns "
          "NOT_SERVING (for load balancers to notice), before it stops accepting");
ABSL_FLAG(int, drain_timeout_ms, 10000,
          "on SIGTERM/SIGINT: how long accepted requests may take to finish before they are "
          "cancelled");
ABSL_FLAG(int, default_deadline_ms, 2000,
          "deadline of a request whose client set none (a later client deadline is capped to it): "
          "a request still queued or between stages past it is answered DEADLINE_EXCEEDED");
ABSL_FLAG(std::string, access_log, "",
          "the sampled access log of Search requests (JSON lines; default <data_dir>/run/access.jsonl)");
ABSL_FLAG(double, access_log_sample, 0.01, "share of Search requests written to the access log (0 = none)");
ABSL_FLAG(int, impression_queue_capacity, 10000,
          "impressions that may wait for the log writer; beyond, a page is not logged (counted "
          "in marketsearch_impressions_dropped_total) rather than slowing the request");
ABSL_FLAG(int, min_candidates, 200, "ANN depth for an unfiltered first page");
ABSL_FLAG(int, max_candidates, 1000, "cap on the depth of each retrieval leg");
ABSL_FLAG(std::string, retrieval, "hybrid", "hybrid | ann | lexical");
ABSL_FLAG(bool, ranker, true, "rank with the newest ranker trained for the served index");
ABSL_FLAG(int, rank_depth, 200, "candidates the ranker scores per request");
ABSL_FLAG(int, token_cache_entries, 200000,
          "listings whose tokenised text the ranking features memoise for records that do not "
          "carry their tokens (--listing_records=store, or before --prepare_listing_tokens has "
          "reached them); a listing not kept is tokenised again each time it is ranked");
ABSL_FLAG(bool, prepare_listing_tokens, true,
          "after start, tokenise every in-memory listing record on a background thread at a "
          "lower CPU priority while the server already answers (1M listings: 14-16 s on 2 busy "
          "cores, ~1.1 GB), so buyers' requests do not pay it");
ABSL_FLAG(bool, concurrent_legs, false,
          "always run the BM25 leg on a thread of its own while the query tower and FAISS run "
          "(hybrid mode); see the README for what it measured on 2 cores");
ABSL_FLAG(bool, spelling_correction, true,
          "correct misspelt query words against the lexical index's dictionary in the BM25 leg; "
          "off, nothing is corrected anywhere (neither the query tower's nor the ranker's "
          "corrected-query input): the switch to compare or to fall back");
ABSL_FLAG(bool, correct_ann_query, true,
          "the query tower also reads the query with its unknown words spell-corrected by the "
          "lexical index's dictionary (typo robustness of the two-tower leg; see the README)");
ABSL_FLAG(bool, relevance_calibration, true,
          "return each ranked result's calibrated probability of being an Exact match and flag "
          "a response whose best candidate is below the ranker's no_match_threshold "
          "(no_good_match); needs a ranker trained with calibration (see the README)");
ABSL_FLAG(std::string, fusion_config, "",
          "how the ANN and BM25 legs are fused: a FusionConfig text proto (jobs/tune_fusion writes "
          "one chosen on the valid split); default <data_dir>/fusion.textproto, and when that is "
          "missing the built-in RRF with the ANN leg at 0.7. Read at start; a file that does not "
          "parse stops the start");
ABSL_FLAG(bool, concurrent_filtered_legs_when_idle, true,
          "for a filtered request, run the BM25 leg on a thread of its own while the query tower "
          "and FAISS run when a serving thread is idle as the request starts (a spare core cuts "
          "its latency; under load the legs run one after the other, which keeps throughput; "
          "unfiltered requests gain nothing from it, see the README)");
ABSL_FLAG(std::string, listing_records, "memory",
          "where the request path reads listing records: memory (loaded from the store at start, "
          "kept current by the write path; the store stays the durable copy) or store (RocksDB "
          "per request; what a --store_mode=secondary server does)");
ABSL_FLAG(std::string, model_format, "",
          "model file every version is served from: empty = what each artifact's MANIFEST says "
          "(aoti: the AOTInductor package model.pt2), torchscript = the TorchScript fallback "
          "model.pt that artifacts carry beside it");
ABSL_FLAG(int, serving_threads, 0,
          "worker threads that run requests (0 = one per core); each runs FAISS, OpenMP and "
          "BLAS on itself alone, so workers x 1 thread never oversubscribe the cores");
ABSL_FLAG(int, max_queued_requests, 16,
          "requests that may wait for a worker; beyond that the server answers "
          "RESOURCE_EXHAUSTED at once (clients retry with backoff). The longest wait is about "
          "max_queued_requests x the CPU time of a request / serving_threads (16: ~80 ms at "
          "1M listings on 2 cores)");
ABSL_FLAG(int, queue_delay_target_ms, 5,
          "under overload, a search that waited longer than this for a worker is answered "
          "RESOURCE_EXHAUSTED instead of run, so the searches served keep about their unloaded "
          "latency; 'overload' = the queue has not emptied for queue_delay_interval_ms, or a "
          "request was shed within that time (a burst the workers absorb is served however "
          "long it waits). 0 = searches wait up to their deadline. "
          "Writes and LogEvents are never shed this way");
ABSL_FLAG(int, queue_delay_interval_ms, 100,
          "how long the request queue must stand (not empty once) before queue_delay_target_ms "
          "applies");
ABSL_FLAG(std::string, write_token_file, "",
          "a file holding the bearer token UpsertListings and DeleteListings must carry "
          "(metadata authorization: Bearer <token>; at least 16 bytes, no whitespace); empty = "
          "writes are open to anyone who reaches the port");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain: serve gRPC over TLS (with --tls_key_file); empty = plaintext");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(int, max_request_bytes, 4 << 20,
          "largest gRPC request message accepted (gRPC answers RESOURCE_EXHAUSTED above it; "
          "4 MiB is gRPC's own default, made explicit); at least 1024");
ABSL_FLAG(std::string, store_mode, "primary",
          "primary: the server writes the feature store (UpsertListings/DeleteListings); "
          "secondary: follow a store another process writes, read only");

namespace marketsearch {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

constexpr char kServiceName[] = "marketsearch.MarketSearch";

// Loopback addresses the default --host and the operators' usual spellings of it.
bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || absl::StartsWith(host, "127.");
}

int Run() {
  const auto process_start = std::chrono::steady_clock::now();
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  // Thread budget: serving_threads workers, each running FAISS, libtorch and BLAS on itself
  // alone. OpenMP's thread count is a per-thread setting (set here for the loading thread and
  // by each worker for itself); OpenBLAS keeps a pool of its own that ignores it and, left at
  // its default, spins a worker in sched_yield (a whole core with one client) and corrupts
  // memory when more threads call it than it was built for (seen at 256 requests in flight).
  omp_set_num_threads(1);
  const int blas_libraries = SetBlasThreads(1);
  InstallProtobufLogFilter();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int serving_threads = absl::GetFlag(FLAGS_serving_threads) > 0
                                  ? absl::GetFlag(FLAGS_serving_threads)
                                  : static_cast<int>(cores);

  // Each retrieval leg's live side (fresh listings and tombstones since its index was built),
  // shared by the request path and the writer.
  LiveAnnIndex live_ann;
  LiveLexicalIndex live_lexical;
  ServerMetrics metrics;
  std::atomic<const ImpressionQueue*> impression_queue{nullptr};  // for /metrics, once it exists
  std::atomic<bool> serving_now{false};  // what /healthz says; the gRPC health service agrees
  std::atomic<ExperimentDashboard*> dashboard{nullptr};  // /experiments, once the log is open
  // The admin listener first: metrics and health for operators, on its own (loopback) port,
  // already answering (NOT_SERVING) while the versions load.
  AdminServer admin;
  if (const std::string address = absl::GetFlag(FLAGS_admin_address); !address.empty()) {
    admin.Handle("/metrics", [&metrics, &live_ann, &live_lexical, &impression_queue](const std::string&,
                                                                                    const std::string&) {
      if (const ImpressionQueue* q = impression_queue.load()) metrics.ImpressionQueueDepth(q->depth());
      if (const DeltaIndex* d = live_ann.delta()) metrics.DeltaSize("ann", d->size());
      if (const LexicalDelta* d = live_lexical.delta()) metrics.DeltaSize("lexical", d->size());
      AdminServer::Response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = metrics.Serialize();
      return r;
    });
    admin.Handle("/healthz", [&serving_now](const std::string&, const std::string&) {
      const bool up = serving_now.load();
      return AdminServer::Response{up ? 200 : 503, "text/plain; charset=utf-8",
                                   up ? "SERVING\n" : "NOT_SERVING\n"};
    });
    admin.Handle("/experiments", [&dashboard](const std::string& path, const std::string&) {
      if (ExperimentDashboard* d = dashboard.load()) return d->Respond(path);
      return AdminServer::Response{503, "text/plain; charset=utf-8", "starting\n"};
    });
    if (absl::Status s = admin.Start(address); !s.ok()) {
      std::fprintf(stderr, "server: %s (--admin_address)\n", std::string(s.message()).c_str());
      return 2;
    }
    std::fprintf(stderr, "server: admin listener on %s (port %d): /metrics, /healthz, /experiments\n", address.c_str(),
                 admin.port());
    if (!absl::GetFlag(FLAGS_admin_port_file).empty()) {
      if (auto s = WriteFileAtomically(absl::GetFlag(FLAGS_admin_port_file), absl::StrCat(admin.port(), "\n"));
          !s.ok()) {
        std::fprintf(stderr, "server: %s\n", std::string(s.message()).c_str());
        return 2;
      }
    }
  }


  // Primary: the server owns the store and accepts UpsertListings/DeleteListings (ingest
  // cannot run at the same time). Secondary: it follows a store written by another process
  // (e.g. a long ingest) and refuses writes.
  FeatureStore::Options so;
  so.path = data_dir + "/store";
  const bool writable = absl::GetFlag(FLAGS_store_mode) == "primary";
  if (!writable && absl::GetFlag(FLAGS_store_mode) != "secondary") {
    std::fprintf(stderr, "server: --store_mode must be primary or secondary\n");
    return 2;
  }
  if (!writable) {
    so.secondary_path = absl::StrCat(data_dir, "/run/store-secondary-", ::getpid());
    if (auto s = MakeDirs(so.secondary_path); !s.ok()) {
      std::fprintf(stderr, "server: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  auto store = FeatureStore::Open(so);
  if (!store.ok()) {
    std::fprintf(stderr, "server: cannot open the feature store: %s (run ingest first)\n",
                 std::string(store.status().message()).c_str());
    return 2;
  }
  std::unique_ptr<EventLog> events;
  if (absl::GetFlag(FLAGS_log_impressions)) {
    auto log = EventLog::Open(data_dir + "/logs");
    if (!log.ok()) {
      std::fprintf(stderr, "server: %s\n", std::string(log.status().message()).c_str());
      return 2;
    }
    events = std::move(*log);
  }

  Searcher::Options opts;
  opts.min_candidates = absl::GetFlag(FLAGS_min_candidates);
  opts.max_candidates = absl::GetFlag(FLAGS_max_candidates);
  opts.use_ranker = absl::GetFlag(FLAGS_ranker);
  opts.rank_depth = absl::GetFlag(FLAGS_rank_depth);
  opts.token_cache_entries = absl::GetFlag(FLAGS_token_cache_entries);
  opts.concurrent_legs = absl::GetFlag(FLAGS_concurrent_legs);
  opts.concurrent_filtered_legs_when_idle = absl::GetFlag(FLAGS_concurrent_filtered_legs_when_idle);
  opts.correct_ann_query = absl::GetFlag(FLAGS_correct_ann_query);
  opts.relevance_calibration = absl::GetFlag(FLAGS_relevance_calibration);
  {
    std::string source = absl::GetFlag(FLAGS_fusion_config);
    absl::StatusOr<FusionOptions> fusion =
        source.empty() ? LoadDeploymentFusion(data_dir, &source) : LoadFusionConfig(source);
    if (!fusion.ok()) {
      std::fprintf(stderr, "server: --fusion_config: %s\n", std::string(fusion.status().message()).c_str());
      return 2;
    }
    opts.fusion = *fusion;
    std::fprintf(stderr, "server: retrieval legs fused by %s (%s)\n", DescribeFusion(opts.fusion).c_str(),
                 source.c_str());
  }
  // The security settings are checked before anything is loaded, so a bad one fails at once
  // rather than after the models and indexes. Writes: a bearer token when one is configured.
  std::unique_ptr<BearerToken> write_token;
  if (!absl::GetFlag(FLAGS_write_token_file).empty()) {
    absl::StatusOr<BearerToken> token = BearerToken::Load(absl::GetFlag(FLAGS_write_token_file));
    if (!token.ok()) {
      std::fprintf(stderr, "server: --write_token_file: %s\n", std::string(token.status().message()).c_str());
      return 2;
    }
    write_token = std::make_unique<BearerToken>(*std::move(token));
    std::fprintf(stderr, "server: UpsertListings and DeleteListings need the bearer token of --write_token_file\n");
  } else if (writable && !IsLoopbackHost(absl::GetFlag(FLAGS_host))) {
    std::fprintf(stderr, "server: WARNING: --host=%s is not loopback and writes need no token: anyone who "
                 "reaches the port can change the catalog (set --write_token_file)\n",
                 absl::GetFlag(FLAGS_host).c_str());
  }
  // Transport: TLS when a certificate and key are given.
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!absl::GetFlag(FLAGS_tls_cert_file).empty() || !absl::GetFlag(FLAGS_tls_key_file).empty()) {
    if (absl::GetFlag(FLAGS_tls_cert_file).empty() || absl::GetFlag(FLAGS_tls_key_file).empty()) {
      std::fprintf(stderr, "server: --tls_cert_file and --tls_key_file: give both or neither\n");
      return 2;
    }
    absl::StatusOr<std::string> cert = ReadFile(absl::GetFlag(FLAGS_tls_cert_file));
    absl::StatusOr<std::string> key = ReadFile(absl::GetFlag(FLAGS_tls_key_file));
    if (!cert.ok() || !key.ok()) {
      std::fprintf(stderr, "server: --tls_cert_file / --tls_key_file: %s\n",
                   std::string((cert.ok() ? key.status() : cert.status()).message()).c_str());
      return 2;
    }
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(tls);
    std::fprintf(stderr, "server: gRPC over TLS (%s)\n", absl::GetFlag(FLAGS_tls_cert_file).c_str());
  }
  if (absl::GetFlag(FLAGS_max_request_bytes) < 1024) {
    std::fprintf(stderr, "server: --max_request_bytes: %d is below 1024\n", absl::GetFlag(FLAGS_max_request_bytes));
    return 2;
  }
  const std::string mode = absl::GetFlag(FLAGS_retrieval);
  if (mode == "ann") {
    opts.mode = RetrievalMode::kAnnOnly;
  } else if (mode == "lexical") {
    opts.mode = RetrievalMode::kLexicalOnly;
  } else if (mode != "hybrid") {
    std::fprintf(stderr, "server: --retrieval must be hybrid, ann or lexical\n");
    return 2;
  }
  if (const std::string f = absl::GetFlag(FLAGS_model_format);
      !f.empty() && f != "aoti" && f != "torchscript") {
    std::fprintf(stderr, "server: --model_format must be empty, aoti or torchscript\n");
    return 2;
  }
  // The request path reads the catalog through a ListingReader: the records in memory (loaded
  // once, kept current by the writer) or RocksDB per request; counters, user and embeddings
  // come from the store and the FAISS vectors either way.
  const std::string cache_mode = absl::GetFlag(FLAGS_listing_records);
  if (cache_mode != "memory" && cache_mode != "store") {
    std::fprintf(stderr, "server: --listing_records must be memory or store\n");
    return 2;
  }
  std::unique_ptr<MemoryListingReader> memory_reader;
  if (cache_mode == "memory" && writable) {
    const auto t = std::chrono::steady_clock::now();
    auto loaded = MemoryListingReader::Load(store->get(), &live_ann);
    if (!loaded.ok()) {
      std::fprintf(stderr, "server: loading listing records: %s\n", std::string(loaded.status().message()).c_str());
      return 2;
    }
    memory_reader = *std::move(loaded);
    metrics.ListingRecords(memory_reader->size(), memory_reader->loaded_bytes());
    std::fprintf(stderr, "server: %lld listing records in memory (~%.0f MB) in %.1f s\n",
                 static_cast<long long>(memory_reader->size()), memory_reader->loaded_bytes() / 1e6,
                 MsSince(t) / 1000);
  } else if (cache_mode == "memory") {
    std::fprintf(stderr, "server: --store_mode=secondary reads listing records from the store "
                 "(another process writes them)\n");
  }
  const StoreListingReader store_reader(store->get(), &live_ann);
  const ListingReader* reader = memory_reader != nullptr ? static_cast<const ListingReader*>(memory_reader.get())
                                                         : &store_reader;
  Searcher searcher(opts, reader, &live_ann, &live_lexical);
  std::unique_ptr<ListingWriter> writer;
  if (writable) {
    writer = std::make_unique<ListingWriter>(store->get(), &searcher, &live_ann, &live_lexical,
                                             memory_reader.get());
  }
  // The version lifecycle: the first round loads what is published (synchronously, before
  // the port opens); the reload loop below polls it again.
  ServingLifecycle::Options lo;
  lo.data_dir = data_dir;
  lo.metrics = &metrics;
  lo.model_format = absl::GetFlag(FLAGS_model_format);
  lo.model_concurrency = serving_threads;  // one AOTInductor model instance per worker
  lo.spelling_correction = absl::GetFlag(FLAGS_spelling_correction);
  auto lifecycle = ServingLifecycle::Create(lo, store->get(), &searcher, writer.get(), &live_ann,
                                            &live_lexical);
  if (!lifecycle.ok()) {
    std::fprintf(stderr, "server: %s\n", std::string(lifecycle.status().message()).c_str());
    return 2;
  }
  const bool serving_at_start = (*lifecycle)->Poll();
  serving_now = serving_at_start;

  RequestPool::Options po;
  po.threads = serving_threads;
  po.max_queued = std::max(0, absl::GetFlag(FLAGS_max_queued_requests));
  po.on_thread_start = [] { omp_set_num_threads(1); };
  // Declared before the server: destroyed after it, once every accepted request has finished.
  RequestPool pool(po);
  std::fprintf(stderr, "server: %d serving threads, up to %d queued requests (searches shed "
               "after %d ms in a queue standing %d ms); OpenMP and BLAS at 1 thread per worker "
               "(%d OpenBLAS libraries set)\n",
               pool.threads(), pool.max_queued(), absl::GetFlag(FLAGS_queue_delay_target_ms),
               absl::GetFlag(FLAGS_queue_delay_interval_ms), blas_libraries);
  // Impressions leave the request path: a bounded queue drained by one thread into the log.
  std::unique_ptr<ImpressionQueue> impressions;
  if (events) {
    impressions = std::make_unique<ImpressionQueue>(events.get(),
                                                    absl::GetFlag(FLAGS_impression_queue_capacity));
  }
  impression_queue = impressions.get();
  std::unique_ptr<AccessLog> access_log;
  if (absl::GetFlag(FLAGS_access_log_sample) > 0) {
    const std::string path = absl::GetFlag(FLAGS_access_log).empty() ? data_dir + "/run/access.jsonl"
                                                                      : absl::GetFlag(FLAGS_access_log);
    if (absl::GetFlag(FLAGS_access_log).empty()) (void)MakeDirs(data_dir + "/run");
    auto log = AccessLog::Open(path, absl::GetFlag(FLAGS_access_log_sample));
    if (!log.ok()) {
      std::fprintf(stderr, "server: %s (--access_log, --access_log_sample)\n",
                   std::string(log.status().message()).c_str());
      return 2;
    }
    access_log = *std::move(log);
    std::fprintf(stderr, "server: access log %s (%.3g of Search requests)\n", path.c_str(),
                 absl::GetFlag(FLAGS_access_log_sample));
  }
  // The experiment layer: arms per request from the configuration file (checked again in the
  // reload loop), and the key that signs the responses' attribution tokens.
  VersionPool<Ranker> arm_rankers([&](int64_t version) -> absl::StatusOr<std::shared_ptr<const Ranker>> {
    Ranker::Options ro;
    ro.dir = ServableVersionDir(data_dir, ServableKind::kRanker, version);
    ro.format = absl::GetFlag(FLAGS_model_format);
    ro.concurrency = serving_threads;
    absl::StatusOr<std::unique_ptr<Ranker>> ranker = Ranker::Load(ro);
    if (!ranker.ok()) return ranker.status();
    const std::shared_ptr<const ServingState> state = searcher.state();
    const int64_t tower = state != nullptr ? state->versions.listing_tower() : 0;
    if ((*ranker)->listing_tower_version() != tower) {
      return absl::FailedPreconditionError(absl::StrCat(
          "ranker v", version, " was trained for listing tower v", (*ranker)->listing_tower_version(),
          "; the served index has v", tower));
    }
    std::fprintf(stderr, "server: ranker v%lld loaded for experiment arms\n", static_cast<long long>(version));
    return std::shared_ptr<const Ranker>(*std::move(ranker));
  });
  std::unique_ptr<ExperimentRouter> experiments;
  {
    const std::string key_path = absl::GetFlag(FLAGS_experiment_token_key).empty()
                                     ? data_dir + "/run/experiment_token.key"
                                     : absl::GetFlag(FLAGS_experiment_token_key);
    if (absl::GetFlag(FLAGS_experiment_token_key).empty()) (void)MakeDirs(data_dir + "/run");
    absl::StatusOr<std::string> key = LoadOrCreateTokenKey(key_path);
    if (!key.ok()) {
      std::fprintf(stderr, "server: %s (--experiment_token_key)\n",
                   std::string(key.status().message()).c_str());
      return 2;
    }
    ExperimentRouter::Options eo;
    eo.config_path = absl::GetFlag(FLAGS_experiments_config).empty()
                         ? data_dir + "/experiments.textproto"
                         : absl::GetFlag(FLAGS_experiments_config);
    eo.allow_forced_arms = absl::GetFlag(FLAGS_experiment_qa_overrides);
    eo.token_key = *key;
    // A ranker version an arm names is loaded when the configuration is (a file naming one that
    // cannot load, or that was trained for another listing tower than the served index's, is
    // refused) and released when no experiment needs it (arm_rankers.Retain below).
    eo.ranker_loadable = [&arm_rankers](int64_t version) { return arm_rankers.Load(version); };
    eo.ranker_for_version = [&arm_rankers](int64_t version) { return arm_rankers.Get(version); };
    experiments = *ExperimentRouter::Create(eo);
    if (absl::Status s = experiments->Reload(NowUnixMs() / 1000); !s.ok()) {
      std::fprintf(stderr, "server: %s (no experiments until the file is fixed)\n",
                   std::string(s.message()).c_str());
    }
    const auto set = experiments->current();
    if (set != nullptr) arm_rankers.Retain(set->RankerVersionsNeeded(NowUnixMs() / 1000));
    std::fprintf(stderr, "server: experiments from %s: %d layers%s\n", eo.config_path.c_str(),
                 set != nullptr ? set->config().layers_size() : 0,
                 eo.allow_forced_arms ? ", QA overrides enabled" : "");
  }
  // The dashboard reads the server's own log; the catalog (when the data directory has one)
  // gives the query kinds and, when its judgments are small enough, the online NDCG; it is
  // read at the first report, not at start.
  ExperimentDashboard::Options dashboard_options;
  dashboard_options.log = events.get();
  dashboard_options.router = experiments.get();
  dashboard_options.catalog_dir = data_dir + "/catalog";
  ExperimentDashboard experiment_dashboard(dashboard_options);
  dashboard = &experiment_dashboard;
  if (admin.port() > 0) {
    std::fprintf(stderr, "server: experiment dashboard at http://127.0.0.1:%d/experiments\n", admin.port());
  }
  MarketSearchService::Options service_options;
  service_options.experiments = experiments.get();
  service_options.events = events.get();
  service_options.writer = writer.get();
  service_options.metrics = &metrics;
  service_options.impressions = impressions.get();
  service_options.access_log = access_log.get();
  service_options.queue_delay_target =
      std::chrono::milliseconds(std::max(0, absl::GetFlag(FLAGS_queue_delay_target_ms)));
  service_options.queue_delay_interval =
      std::chrono::milliseconds(std::max(0, absl::GetFlag(FLAGS_queue_delay_interval_ms)));
  service_options.default_deadline =
      std::chrono::milliseconds(std::max(1, absl::GetFlag(FLAGS_default_deadline_ms)));
  service_options.write_token = write_token.get();
  MarketSearchService service(&searcher, &pool, service_options);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string addr = absl::StrCat(absl::GetFlag(FLAGS_host), ":", absl::GetFlag(FLAGS_port));
  builder.AddListeningPort(addr, credentials, &port);
  builder.SetMaxReceiveMessageSize(absl::GetFlag(FLAGS_max_request_bytes));
  builder.RegisterService(&service);
  // The health and reflection services are synchronous: bound the threads gRPC may start
  // for them (MarketSearch's own methods run on the pool above).
  grpc::ResourceQuota quota("marketsearch");
  quota.SetMaxThreads(8);
  builder.SetResourceQuota(quota);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 1);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "server: cannot listen on %s\n", addr.c_str());
    return 2;
  }
  auto* health = server->GetHealthCheckService();
  health->SetServingStatus(kServiceName, serving_at_start);
  health->SetServingStatus(serving_at_start);
  std::fprintf(stderr, "server: listening on %s:%d, %s %.1f s after start\n", absl::GetFlag(FLAGS_host).c_str(),
               port, serving_at_start ? "SERVING" : "NOT_SERVING (nothing loaded)", MsSince(process_start) / 1000);
  if (!absl::GetFlag(FLAGS_port_file).empty()) {
    if (auto s = WriteFileAtomically(absl::GetFlag(FLAGS_port_file), absl::StrCat(port, "\n")); !s.ok()) {
      std::fprintf(stderr, "server: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }

  // The in-memory records' tokens for the ranking features, prepared on a background thread
  // at a lower CPU priority while the server already answers; stopped and joined on every way
  // out of Run().
  std::atomic<bool> tokens_stop{false};
  std::thread tokens_thread;
  struct StopAndJoin {
    std::atomic<bool>* stop;
    std::thread* thread;
    ~StopAndJoin() {
      stop->store(true);
      if (thread->joinable()) thread->join();
    }
  } tokens_guard{&tokens_stop, &tokens_thread};
  if (absl::GetFlag(FLAGS_prepare_listing_tokens) && memory_reader != nullptr) {
    tokens_thread = std::thread([&memory_reader, &tokens_stop] {
      setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
      const auto t0 = std::chrono::steady_clock::now();
      const int64_t n = memory_reader->PrepareTokens(tokens_stop);
      std::fprintf(stderr, "server: tokenised %lld listing records in %.1f s (%lld of %lld have tokens)\n",
                   static_cast<long long>(n), MsSince(t0) / 1000,
                   static_cast<long long>(memory_reader->tokenized()),
                   static_cast<long long>(memory_reader->size()));
    });
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  // The reload loop: follow the store's primary and let the lifecycle follow the data
  // directory (a version that fails to load is reported once and the old one keeps serving).
  auto next_check = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(absl::GetFlag(FLAGS_reload_interval_ms));
  bool serving = serving_at_start;
  int64_t experiment_loads = experiments->loads();
  // Log retention: at start, then every 10 minutes.
  const int64_t retention_ms =
      static_cast<int64_t>(absl::GetFlag(FLAGS_log_retention_days) * 86400.0 * 1000.0);
  auto enforce_retention = [&]() {
    if (!events) return;
    if (retention_ms > 0) {
      if (absl::Status s = events->DropBefore(NowUnixMs() - retention_ms); !s.ok()) {
        std::fprintf(stderr, "server: log retention: %s\n", std::string(s.message()).c_str());
      }
    }
    metrics.EventLogBytes(events->SizeBytes());
  };
  enforce_retention();
  auto next_retention = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() < next_check) continue;
    next_check = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(absl::GetFlag(FLAGS_reload_interval_ms));
    if (auto s = (*store)->CatchUp(); !s.ok()) {
      std::fprintf(stderr, "server: store catch-up: %s\n", std::string(s.message()).c_str());
    }
    if (events) metrics.EventLogBytes(events->SizeBytes());
    if (std::chrono::steady_clock::now() >= next_retention) {
      next_retention = std::chrono::steady_clock::now() + std::chrono::minutes(10);
      enforce_retention();
    }
    if (absl::Status s = experiments->Reload(NowUnixMs() / 1000); !s.ok()) {
      std::fprintf(stderr, "server: %s (the previous experiments keep running)\n",
                   std::string(s.message()).c_str());
    } else if (experiments->loads() != experiment_loads) {
      experiment_loads = experiments->loads();
      const int released = arm_rankers.Retain(experiments->current()->RankerVersionsNeeded(NowUnixMs() / 1000));
      if (released > 0) std::fprintf(stderr, "server: %d ranker versions no arm needs released\n", released);
      std::fprintf(stderr, "server: experiments reloaded (%d layers)\n",
                   experiments->current()->config().layers_size());
    }
    if ((*lifecycle)->Poll() != serving) {
      serving = !serving;
      serving_now = serving;
      health->SetServingStatus(kServiceName, serving);
      health->SetServingStatus(serving);
    }
  }
  // Graceful drain: tell load balancers first (health NOT_SERVING while still answering), then
  // stop accepting and let the accepted requests finish, then write the queued impressions.
  const auto drain_start = std::chrono::steady_clock::now();
  const int64_t finished_before = service.finished();
  std::fprintf(stderr, "server: draining: health NOT_SERVING, still answering for %d ms\n",
               absl::GetFlag(FLAGS_drain_grace_ms));
  serving_now = false;
  health->SetServingStatus(kServiceName, false);
  health->SetServingStatus(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(std::max(0, absl::GetFlag(FLAGS_drain_grace_ms))));
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(std::max(0, absl::GetFlag(FLAGS_drain_timeout_ms))));
  std::fprintf(stderr, "server: drained in %.0f ms: %lld requests answered during the drain\n",
               MsSince(drain_start), static_cast<long long>(service.finished() - finished_before));
  // The admin listener stops here, before what its handlers read goes away: clearing the atomic
  // pointers below keeps new requests off, but a request already inside /experiments would still
  // be reading the dashboard while `return` destroys it (declared after `admin`, so destroyed
  // first). ThreadSanitizer reported exactly that (tests:search_e2e_test's server, the /experiments
  // handler's read against ~ExperimentDashboard). Stop() waits for the handlers in progress.
  admin.Stop();
  dashboard = nullptr;  // /experiments stops reading the log before it closes
  if (impressions) {
    impression_queue = nullptr;  // /metrics stops reading it
    impressions->Close();        // the requests are done: write what they queued
    std::fprintf(stderr, "server: impressions: %lld written, %lld dropped, %lld failed\n",
                 static_cast<long long>(impressions->written()),
                 static_cast<long long>(impressions->dropped()),
                 static_cast<long long>(impressions->failed()));
  }
  return 0;
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "MarketSearch gRPC server.\nUsage: server [--data_dir=var] [--port=8500] [--host=127.0.0.1]");
  absl::ParseCommandLine(argc, argv);
  // The config schema names flags of this binary: a field without its flag is a build error
  // caught by every test that starts the server.
  const google::protobuf::Descriptor* schema = marketsearch::ServerConfig::descriptor();
  for (int i = 0; i < schema->field_count(); ++i) {
    if (absl::FindCommandLineFlag(schema->field(i)->name()) == nullptr) {
      std::fprintf(stderr, "server: proto/server_config.proto field %s has no flag\n",
                   schema->field(i)->name().c_str());
      return 2;
    }
  }
  if (const std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    marketsearch::ServerConfig config;
    std::vector<std::string> applied, overridden;
    absl::Status s = marketsearch::ReadTextConfig(path, &config);
    if (s.ok()) {
      s = marketsearch::ApplyConfigToFlags(config, marketsearch::FlagsGivenOnCommandLine(argc, argv),
                                           &applied, &overridden);
    }
    if (!s.ok()) {
      std::fprintf(stderr, "server: %s\n", std::string(s.message()).c_str());
      return 2;
    }
    std::fprintf(stderr, "server: config %s: %s%s%s\n", path.c_str(), absl::StrJoin(applied, " ").c_str(),
                 overridden.empty() ? "" : "; the command line overrides ",
                 absl::StrJoin(overridden, ", ").c_str());
  }
  return marketsearch::Run();
}
