// simulate_traffic: simulated buyers searching a running server over gRPC and clicking what
// they are shown, so that an A/B experiment has traffic to analyse (experiment_report).
//
// Each simulated user is one of the catalog's users with their own judged queries (the
// valid/test splits: queries the ranker was not trained on), so a user's searches repeat
// their own interests and are correlated, as real users' are. Each user has their own click
// propensity (lognormal multiplier) and activity (lognormal share of the searches).
//
// Clicks follow a position-biased cascade driven by the generator's hidden relevance (the
// judgments), never by the ranker's scores (experiments/click_model.h; its parameters are
// flags). Events go to LogEvents with the response's attribution token.
//
// Arrivals are Poisson at --rate_qps, sent by --concurrency workers; deterministic per seed
// (which user, which query, which clicks), whatever the server answers.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "datasets/catalog_reader.h"
#include "experiments/click_model.h"
#include "proto/esci.h"
#include "proto/search.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:8500", "server address");
ABSL_FLAG(std::string, data_dir, "var", "data directory (catalog/queries.tsv, judgments.tsv)");
ABSL_FLAG(std::string, splits, "valid,test", "query splits the users search with");
ABSL_FLAG(int, users, 2000, "simulated users (at most the catalog's users with judged queries)");
ABSL_FLAG(int, searches, 20000, "searches to send");
ABSL_FLAG(double, rate_qps, 100, "Poisson arrival rate");
ABSL_FLAG(int, concurrency, 8, "requests in flight at most");
ABSL_FLAG(int, page_size, 10, "results per page");
ABSL_FLAG(uint64_t, seed, 1, "random seed (users, queries, clicks)");
ABSL_FLAG(double, click_e, 0.45, "click probability at an examined Exact result (x propensity)");
ABSL_FLAG(double, click_s, 0.12, "... Substitute");
ABSL_FLAG(double, click_c, 0.04, "... Complement");
ABSL_FLAG(double, click_i, 0.01, "... Irrelevant or unjudged");
ABSL_FLAG(double, examine_decay, 0.8, "probability of examining the next position after no click");
ABSL_FLAG(double, stop_after_click, 0.6, "probability of leaving the page after a click");
ABSL_FLAG(double, purchase_after_click, 0.15, "probability that a click on an Exact result buys");
ABSL_FLAG(double, propensity_sigma, 0.5, "lognormal sigma of a user's click propensity");
ABSL_FLAG(double, activity_sigma, 0.8, "lognormal sigma of a user's share of the searches");
ABSL_FLAG(uint64_t, user_id_offset, 0,
          "added to the catalog's user ids (a fresh population for an A/A or a second run)");
ABSL_FLAG(int, user_replicas, 1,
          "simulated users per catalog user: each replica has its own id (+ r * 1e9), propensity "
          "and activity but the same queries (people with the same interests), for a population "
          "larger than the catalog's");

namespace marketsearch {
namespace {

struct SimUser {
  uint64_t user_id = 0;
  std::vector<const QueryRecord*> queries;
  double propensity = 1;
};

struct Plan {
  size_t user = 0;
  const QueryRecord* query = nullptr;
  double send_at_s = 0;
  uint64_t click_seed = 0;
};

struct Totals {
  std::mutex mu;
  int64_t sent = 0, ok = 0, errors = 0, clicks = 0, purchases = 0, event_errors = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> per_arm;  // "exp/arm" -> searches, clicked
  std::map<std::string, int64_t> error_codes;
};

int Run() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir) + "/catalog";
  auto queries = ReadQueries(dir + "/queries.tsv");
  auto judgments = ReadJudgments(dir + "/judgments.tsv");
  if (!queries.ok() || !judgments.ok()) {
    std::fprintf(stderr, "simulate_traffic: %s\n",
                 std::string((queries.ok() ? judgments.status() : queries.status()).message()).c_str());
    return 2;
  }
  const JudgmentMap judged = GroupJudgments(*judgments);
  const std::vector<std::string> splits = absl::StrSplit(absl::GetFlag(FLAGS_splits), ',');
  std::map<uint64_t, SimUser> by_user;  // ordered: deterministic
  for (const QueryRecord& q : *queries) {
    if (std::find(splits.begin(), splits.end(), q.split) == splits.end()) continue;
    if (!judged.contains(q.query_id) || q.user_id == 0) continue;
    SimUser& u = by_user[q.user_id];
    u.user_id = q.user_id + absl::GetFlag(FLAGS_user_id_offset);
    u.queries.push_back(&q);
  }
  if (by_user.empty()) {
    std::fprintf(stderr, "simulate_traffic: no judged queries with a user in splits %s\n",
                 absl::GetFlag(FLAGS_splits).c_str());
    return 2;
  }
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  std::vector<SimUser> users;
  for (int r = 0; r < std::max(1, absl::GetFlag(FLAGS_user_replicas)); ++r) {
    for (const auto& [id, u] : by_user) {
      users.push_back(u);
      users.back().user_id += static_cast<uint64_t>(r) * 1000000000ULL;
    }
  }
  std::shuffle(users.begin(), users.end(), rng);
  users.resize(std::min<size_t>(users.size(), std::max(1, absl::GetFlag(FLAGS_users))));
  std::lognormal_distribution<double> propensity(0, absl::GetFlag(FLAGS_propensity_sigma));
  std::lognormal_distribution<double> activity(0, absl::GetFlag(FLAGS_activity_sigma));
  std::vector<double> weights;
  for (SimUser& u : users) {
    // Normalised so that the mean multiplier is ~1 (E[lognormal(0, s)] = exp(s^2 / 2)).
    const double s = absl::GetFlag(FLAGS_propensity_sigma);
    u.propensity = propensity(rng) / std::exp(s * s / 2);
    weights.push_back(activity(rng));
  }
  std::discrete_distribution<size_t> pick_user(weights.begin(), weights.end());
  std::exponential_distribution<double> gap(std::max(1e-3, absl::GetFlag(FLAGS_rate_qps)));
  std::vector<Plan> plan(static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_searches))));
  // Every user searches at least once (in a random order), so the population of the run is
  // the --users the plan asked for; the rest of the searches follow the users' activity.
  std::vector<size_t> first_round(users.size());
  for (size_t i = 0; i < first_round.size(); ++i) first_round[i] = i;
  std::shuffle(first_round.begin(), first_round.end(), rng);
  double t = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    Plan& p = plan[i];
    p.user = i < first_round.size() ? first_round[i] : pick_user(rng);
    const SimUser& u = users[p.user];
    p.query = u.queries[std::uniform_int_distribution<size_t>(0, u.queries.size() - 1)(rng)];
    t += gap(rng);
    p.send_at_s = t;
    p.click_seed = rng();
  }
  std::fprintf(stderr,
               "simulate_traffic -> %s: %zu searches from %zu users at %.0f qps (~%.0f s), "
               "concurrency %d, seed %llu\n",
               absl::GetFlag(FLAGS_target).c_str(), plan.size(), users.size(),
               absl::GetFlag(FLAGS_rate_qps), t, absl::GetFlag(FLAGS_concurrency),
               static_cast<unsigned long long>(absl::GetFlag(FLAGS_seed)));

  ClickModel model;
  model.click_exact = absl::GetFlag(FLAGS_click_e);
  model.click_substitute = absl::GetFlag(FLAGS_click_s);
  model.click_complement = absl::GetFlag(FLAGS_click_c);
  model.click_irrelevant = absl::GetFlag(FLAGS_click_i);
  model.examine_decay = absl::GetFlag(FLAGS_examine_decay);
  model.stop_after_click = absl::GetFlag(FLAGS_stop_after_click);
  model.purchase_after_click = absl::GetFlag(FLAGS_purchase_after_click);
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  auto stub = MarketSearch::NewStub(channel);
  Totals totals;
  std::atomic<size_t> next{0};
  const auto start = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= plan.size()) return;
      const Plan& p = plan[i];
      std::this_thread::sleep_until(start + std::chrono::duration<double>(p.send_at_s));
      const SimUser& u = users[p.user];
      SearchRequest req;
      req.set_query(p.query->text);
      req.set_user_id(u.user_id);
      req.set_page_size(absl::GetFlag(FLAGS_page_size));
      SearchResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      const grpc::Status s = stub->Search(&ctx, req, &resp);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(totals.mu);
        ++totals.sent;
        ++totals.errors;
        ++totals.error_codes[std::to_string(static_cast<int>(s.error_code()))];
        continue;
      }
      // The cascade over the page, with this search's own random stream.
      std::mt19937_64 click_rng(p.click_seed);
      const auto& labels = judged.at(p.query->query_id);
      std::vector<Esci> grades;
      for (const SearchResult& r : resp.results()) {
        auto it = labels.find(r.listing_id());
        grades.push_back(it == labels.end() ? Esci::kIrrelevant : it->second);
      }
      const PageClicks page = SimulateClicks(model, grades, u.propensity, click_rng);
      LogEventsRequest events;
      const int clicks = static_cast<int>(page.clicked_positions.size());
      const int purchases = static_cast<int>(page.purchased_positions.size());
      for (int pos : page.clicked_positions) {
        Event* e = events.add_events();
        e->set_request_id(resp.request_id());
        e->set_listing_id(resp.results(pos).listing_id());
        e->set_position(pos);
        e->set_type(EVENT_TYPE_CLICK);
        e->set_user_id(u.user_id);
        e->set_attribution_token(resp.attribution_token());
        if (std::find(page.purchased_positions.begin(), page.purchased_positions.end(), pos) !=
            page.purchased_positions.end()) {
          Event* b = events.add_events();
          *b = *e;
          b->set_type(EVENT_TYPE_PURCHASE);
        }
      }
      bool event_error = false;
      if (events.events_size() > 0) {
        LogEventsResponse logged;
        grpc::ClientContext ectx;
        ectx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        event_error = !stub->LogEvents(&ectx, events, &logged).ok();
      }
      std::lock_guard<std::mutex> lock(totals.mu);
      ++totals.sent;
      ++totals.ok;
      totals.clicks += clicks;
      totals.purchases += purchases;
      totals.event_errors += event_error;
      for (const ServedArm& a : resp.arms()) {
        auto& [searches, clicked] = totals.per_arm[a.experiment() + "/" + a.arm()];
        ++searches;
        clicked += clicks > 0;
      }
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < std::max(1, absl::GetFlag(FLAGS_concurrency)); ++w) workers.emplace_back(worker);
  std::atomic<bool> done{false};
  std::thread progress([&] {
    while (!done) {
      for (int k = 0; k < 20 && !done; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (done) break;
      std::lock_guard<std::mutex> lock(totals.mu);
      const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "  %.0f s: %lld/%zu searches (%.0f qps), %lld errors, %lld clicks\n", el,
                   static_cast<long long>(totals.sent), plan.size(), totals.sent / std::max(el, 1e-9),
                   static_cast<long long>(totals.errors), static_cast<long long>(totals.clicks));
    }
  });
  for (std::thread& w : workers) w.join();
  done = true;
  progress.join();
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("simulated %lld searches in %.1f s (%.0f qps): %lld OK, %lld errors; %lld clicks, "
              "%lld purchases, %lld LogEvents failures\n",
              static_cast<long long>(totals.sent), el, totals.sent / std::max(el, 1e-9),
              static_cast<long long>(totals.ok), static_cast<long long>(totals.errors),
              static_cast<long long>(totals.clicks), static_cast<long long>(totals.purchases),
              static_cast<long long>(totals.event_errors));
  for (const auto& [code, n] : totals.error_codes) {
    std::printf("  error code %s: %lld\n", code.c_str(), static_cast<long long>(n));
  }
  for (const auto& [arm, v] : totals.per_arm) {
    std::printf("  %-40s %7lld searches, %.3f with a click (naive per-search; see experiment_report)\n",
                arm.c_str(), static_cast<long long>(v.first),
                v.first > 0 ? static_cast<double>(v.second) / v.first : 0.0);
  }
  return totals.errors > 0 && totals.ok == 0 ? 1 : 0;
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Usage: simulate_traffic --target=HOST:PORT --data_dir=DIR [--searches=N] [--rate_qps=R]");
  absl::ParseCommandLine(argc, argv);
  return marketsearch::Run();
}
