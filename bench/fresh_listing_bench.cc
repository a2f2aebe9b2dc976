// fresh_listing_bench: freshness of the serving index (issue 5) measured against a running
// server over gRPC. For each of N listings: UpsertListings, then Search with its title until
// the listing comes back (visible ms = upsert ack -> first response that contains it); then
// DeleteListings and Search again — any response after the delete ack that still returns
// the listing is a violation. Writes go to the server's store: point it at a scratch copy.
//
// The polling search narrows the title query with a filter the listing passes (its category
// and exact price), so "visible" measures freshness, not ranking: a fresh listing is only in
// the ANN leg (the Xapian index is built offline), and under hybrid RRF it is often outscored
// by catalog listings both legs found. Its rank in the plain title search is reported beside.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "proto/search.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:8500", "server address");
ABSL_FLAG(int, n, 200, "listings to upsert, find and delete (one at a time)");
ABSL_FLAG(int, page_size, 10, "page size of the polling searches (1..100)");
ABSL_FLAG(bool, filter, true, "poll with category + price filter (false: the bare title)");
ABSL_FLAG(int, timeout_ms, 10000, "give up on a listing not visible after this long (a failure)");
ABSL_FLAG(int, poll_sleep_us, 0, "pause between polling searches (0 = poll back to back)");
ABSL_FLAG(int, delete_checks, 3, "searches right after each delete ack");
ABSL_FLAG(uint64_t, id_base, 0, "first listing id (0 = derived from the clock, so reruns on "
                                "the same store do not reuse ids)");

namespace marketsearch {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

absl::Status FromGrpc(const grpc::Status& s, const char* what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

// A made-up word per listing (letters only: the normaliser may treat digits differently),
// so no two listings of the run share a title. Short, to perturb the embedding little.
std::string Nonce(int i) {
  std::string w = "zq";
  do {
    w.push_back(static_cast<char>('a' + i % 26));
    i /= 26;
  } while (i > 0);
  return w;
}

// Valid per features/listing_tsv ValidateListing (title, category, price, condition, rating,
// location), in the style of tests/search_e2e_test.cc FreshListing. Real categories, so the
// featurizer's category statistics apply as for catalog listings.
Listing FreshListing(uint64_t id, int i) {
  struct Kind {
    const char* category;
    const char* brand;
    const char* title;
    double price;
  };
  static const Kind kKinds[] = {
      {"sofas", "zorblax", "zorblax quantum velvet sofa teal", 199.0},
      {"phones", "zorblax", "zorblax nebula phone 256gb midnight", 349.0},
      {"bikes", "zorblax", "zorblax gravel bike carbon frame", 820.0},
      {"headphones", "zorblax", "zorblax wireless headphones noise cancelling", 89.0},
      {"tables", "zorblax", "zorblax oak dining table extendable", 260.0},
      {"guitars", "zorblax", "zorblax acoustic guitar spruce top", 310.0},
  };
  const Kind& k = kKinds[i % (sizeof(kKinds) / sizeof(kKinds[0]))];
  Listing l;
  l.set_listing_id(id);
  l.set_title(absl::StrCat(k.title, " ", Nonce(i)));
  l.set_category(k.category);
  l.set_brand(k.brand);
  l.set_price(k.price);
  l.set_condition(CONDITION_LIKE_NEW);
  l.set_seller_rating(4.5f);
  l.set_city("Berlin");
  l.mutable_location()->set_lat(52.52);
  l.mutable_location()->set_lon(13.40);
  return l;
}

// 1-based position of `id` on the page, 0 = absent.
int RankOf(const SearchResponse& r, uint64_t id) {
  for (int i = 0; i < r.results_size(); ++i) {
    if (r.results(i).listing_id() == id) return i + 1;
  }
  return 0;
}

class Client {
 public:
  explicit Client(const std::string& target)
      : stub_(MarketSearch::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {}

  absl::Status Upsert(const Listing& l) {
    UpsertListingsRequest req;
    *req.add_listings() = l;
    UpsertListingsResponse resp;
    grpc::ClientContext ctx;
    Deadline(&ctx);
    return FromGrpc(stub_->UpsertListings(&ctx, req, &resp), "UpsertListings");
  }
  absl::Status Delete(uint64_t id) {
    DeleteListingsRequest req;
    req.add_listing_ids(id);
    DeleteListingsResponse resp;
    grpc::ClientContext ctx;
    Deadline(&ctx);
    return FromGrpc(stub_->DeleteListings(&ctx, req, &resp), "DeleteListings");
  }
  // The listing's title as the query; `narrow` adds a filter that `l` passes.
  absl::Status Search(const Listing& l, bool narrow, int page_size, SearchResponse* resp) {
    SearchRequest req;
    req.set_query(l.title());
    req.set_page_size(page_size);
    if (narrow) {
      req.mutable_filters()->add_categories(l.category());
      req.mutable_filters()->mutable_price()->set_min(l.price());
      req.mutable_filters()->mutable_price()->set_max(l.price());
    }
    grpc::ClientContext ctx;
    Deadline(&ctx);
    return FromGrpc(stub_->Search(&ctx, req, resp), "Search");
  }

 private:
  static void Deadline(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }
  std::unique_ptr<MarketSearch::Stub> stub_;
};

absl::Status Run() {
  Client client(absl::GetFlag(FLAGS_target));
  const int n = absl::GetFlag(FLAGS_n);
  const auto timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  const auto poll_sleep = std::chrono::microseconds(absl::GetFlag(FLAGS_poll_sleep_us));
  uint64_t base = absl::GetFlag(FLAGS_id_base);
  if (base == 0) {
    // Far above catalog ids (12 digits); unique per run to the millisecond.
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    base = 9'000'000'000'000'000ULL + static_cast<uint64_t>(ms) * 1000;
  }

  const bool narrow = absl::GetFlag(FLAGS_filter);
  const int page_size = absl::GetFlag(FLAGS_page_size);
  // Warm-up: the first searches pay for lazy model/allocator setup, not for freshness.
  for (int i = 0; i < 5; ++i) {
    SearchResponse r;
    MS_RETURN_IF_ERROR(client.Search(FreshListing(base, i), narrow, page_size, &r));
  }

  std::vector<double> visible_ms, plain_rank;
  int failures = 0, violations = 0, plain_missing = 0;
  int64_t polls = 0;
  for (int i = 0; i < n; ++i) {
    const Listing l = FreshListing(base + static_cast<uint64_t>(i), i);
    MS_RETURN_IF_ERROR(client.Upsert(l));
    const Clock::time_point acked = Clock::now();
    bool found = false;
    SearchResponse resp;
    while (true) {
      resp.Clear();
      MS_RETURN_IF_ERROR(client.Search(l, narrow, page_size, &resp));
      ++polls;
      const Clock::time_point got = Clock::now();
      if (RankOf(resp, l.listing_id()) > 0) {
        visible_ms.push_back(Ms(acked, got));
        found = true;
        break;
      }
      if (got - acked > timeout) break;
      if (poll_sleep.count() > 0) std::this_thread::sleep_for(poll_sleep);
    }
    if (!found) {
      ++failures;
      std::fprintf(stderr, "not visible after %d ms: %llu '%s'\n", absl::GetFlag(FLAGS_timeout_ms),
                   static_cast<unsigned long long>(l.listing_id()), l.title().c_str());
    }
    // Where a buyer typing the title finds it (after the timing; 0 = not in the top 100).
    resp.Clear();
    MS_RETURN_IF_ERROR(client.Search(l, false, 100, &resp));
    if (const int r = RankOf(resp, l.listing_id()); r > 0) {
      plain_rank.push_back(r);
    } else {
      ++plain_missing;
    }
    // Deleted must mean gone from the very next response, not eventually: both the narrowed
    // search (where it ranked first) and the plain one.
    MS_RETURN_IF_ERROR(client.Delete(l.listing_id()));
    for (int c = 0; c < absl::GetFlag(FLAGS_delete_checks); ++c) {
      for (bool nar : {true, false}) {
        resp.Clear();
        MS_RETURN_IF_ERROR(client.Search(l, nar, 100, &resp));
        if (RankOf(resp, l.listing_id()) > 0) {
          ++violations;
          std::fprintf(stderr, "returned after its delete was acknowledged: %llu\n",
                       static_cast<unsigned long long>(l.listing_id()));
        }
      }
    }
  }

  const double p99 = Pct(visible_ms, 0.99);
  std::printf("fresh listings through the delta index: %d upserted, %d visible, %lld searches "
              "polled (title%s, page_size %d)\n",
              n, static_cast<int>(visible_ms.size()), static_cast<long long>(polls),
              narrow ? " + category/price filter" : "", page_size);
  std::printf("  %-28s %10s\n", "measure", "value");
  std::printf("  %-28s %10.2f\n", "visible after ack, p50 ms", Pct(visible_ms, 0.5));
  std::printf("  %-28s %10.2f\n", "visible after ack, p99 ms", p99);
  std::printf("  %-28s %10.2f\n", "visible after ack, max ms", Pct(visible_ms, 1.0));
  std::printf("  %-28s %10d\n", "not visible within timeout", failures);
  std::printf("  %-28s %10d\n", "returned after delete ack", violations);
  std::printf("  plain title search (no filter, top 100): rank p50 %.0f, p90 %.0f; in top 10: %d; "
              "not in top 100: %d\n",
              Pct(plain_rank, 0.5), Pct(plain_rank, 0.9),
              static_cast<int>(std::count_if(plain_rank.begin(), plain_rank.end(),
                                             [](double r) { return r <= 10; })),
              plain_missing);
  std::printf("BENCH fresh_listing_visible_ms %.2f\n", p99);
  std::printf("BENCH fresh_listing_delete_violations %d\n", violations);
  if (failures > 0 || violations > 0) {
    return absl::InternalError(absl::StrCat(failures, " listings never visible, ", violations,
                                            " responses with a deleted listing"));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Upsert -> searchable latency and delete -> gone checks against a running server.\n"
      "Usage: fresh_listing_bench --target=127.0.0.1:8500 [--n=200]");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "fresh_listing_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
