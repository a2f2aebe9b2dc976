#include "experiments/experiment_analysis.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/percentile.h"
#include "experiments/attribution_token.h"

namespace marketsearch {
namespace {

// One logged search (the fields the analysis reads).
struct Search {
  int64_t ts_ms = 0;
  std::string unit;  // the randomisation unit, as the router hashes it
  std::vector<std::pair<std::string, std::string>> arms;  // experiment -> arm (not forced)
  std::vector<std::string> forced_experiments;
  int results = 0;
  double latency_ms = 0;
  double ndcg = -1;  // -1: not a judged query
  int clicks = 0, purchases = 0;
  std::vector<int> teams;              // interleaved pages: 0 = first arm, 1 = second
  std::vector<int> clicked_positions;  // from the click events
  std::string kind;                    // the query's kind in the catalog, or ""
  bool filtered = false;
  int error_code = 0;                  // a failed search (no page): its status code
};

// One user's totals in one arm (or in the pre-period).
struct UserTotals {
  double searches = 0, clicked = 0, clicks = 0, purchases = 0, zero = 0, judged = 0, ndcg = 0;
  double attempts = 0, errors = 0;  // every search, and the failed ones (not in the others)
  std::vector<double> latencies;
  void Add(const Search& s) {
    attempts += 1;
    if (s.error_code != 0) {
      errors += 1;
      return;
    }
    searches += 1;
    clicked += s.clicks > 0;
    clicks += s.clicks;
    purchases += s.purchases;
    zero += s.results == 0;
    if (s.ndcg >= 0) {
      judged += 1;
      ndcg += s.ndcg;
    }
    latencies.push_back(s.latency_ms);
  }
};

std::string UnitOf(const SearchRequest& r) {
  if (r.user_id() != 0) return absl::StrCat(r.user_id());
  if (!r.anonymous_id().empty()) return absl::StrCat("anon:", r.anonymous_id());
  return "";
}

// Per-user numerators/denominators of the ratio metrics, in the order of `users`.
struct Columns {
  std::vector<double> searches, clicked, clicks, purchases, zero, judged, ndcg, attempts, errors;
};
Columns ColumnsOf(const std::vector<const UserTotals*>& users) {
  Columns c;
  for (const UserTotals* u : users) {
    c.searches.push_back(u->searches);
    c.clicked.push_back(u->clicked);
    c.clicks.push_back(u->clicks);
    c.purchases.push_back(u->purchases);
    c.zero.push_back(u->zero);
    c.judged.push_back(u->judged);
    c.ndcg.push_back(u->ndcg);
    c.attempts.push_back(u->attempts);
    c.errors.push_back(u->errors);
  }
  return c;
}

stats::RatioEstimate Metric(const Columns& c, const std::string& metric) {
  if (metric == "ctr") return stats::EstimateRatio(c.clicked, c.searches);
  if (metric == "clicks_per_search") return stats::EstimateRatio(c.clicks, c.searches);
  if (metric == "purchases_per_search") return stats::EstimateRatio(c.purchases, c.searches);
  if (metric == "zero_result_rate") return stats::EstimateRatio(c.zero, c.searches);
  if (metric == "error_rate") return stats::EstimateRatio(c.errors, c.attempts);
  return stats::EstimateRatio(c.ndcg, c.judged);  // ndcg10
}

// p99 of the searches of a set of users.
double PooledP99(const std::vector<const UserTotals*>& users) {
  std::vector<double> all;
  for (const UserTotals* u : users) all.insert(all.end(), u->latencies.begin(), u->latencies.end());
  return Percentile(std::move(all), 0.99);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.6g", v);
}

}  // namespace

absl::StatusOr<std::unique_ptr<JudgedQueryIndex>> LoadJudgedQueries(const std::string& catalog_dir,
                                                                    int64_t max_judgment_bytes) {
  auto queries = ReadQueries(catalog_dir + "/queries.tsv");
  if (!queries.ok()) return queries.status();
  auto index = std::make_unique<JudgedQueryIndex>();
  const std::string judgments_path = catalog_dir + "/judgments.tsv";
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(judgments_path, ec);
  if (max_judgment_bytes <= 0 || (!ec && bytes <= static_cast<uintmax_t>(max_judgment_bytes))) {
    auto judgments = ReadJudgments(judgments_path);
    if (!judgments.ok()) return judgments.status();
    index->by_query = GroupJudgments(*judgments);
  }
  for (const QueryRecord& q : *queries) {
    auto it = index->by_query.find(q.query_id);
    KnownQuery k;
    k.judgments = it != index->by_query.end() ? &it->second : nullptr;
    k.kind = IntentValue(q.intent, "kind");
    index->by_text.emplace(q.text, std::move(k));
  }
  return index;
}

namespace {

// The log's searches in [since_ms, until_ms), with their clicks and purchases joined by
// request id; the events whose impression is not there are counted (and, when their token
// names arms, counted per arm).
struct LoggedSearches {
  std::vector<Search> searches;
  int64_t orphans = 0;
  // experiment -> arm -> events known only from their attribution token.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, int64_t>> token_only;
};

absl::StatusOr<LoggedSearches> ReadLoggedSearches(const EventLog& log, const JudgedQueries& judged,
                                                  int64_t since_ms, int64_t until_ms) {
  LoggedSearches out;
  // 1. Searches by request id.
  std::vector<Search>& searches = out.searches;
  absl::flat_hash_map<std::string, size_t> by_request;
  absl::Status s = log.ScanImpressions([&](int64_t ts, const SearchRequest& q, const SearchResponse& r) {
    if (ts >= until_ms) return false;
    if (ts < since_ms) return true;
    Search x;
    x.ts_ms = ts;
    x.unit = UnitOf(q);
    for (const ServedArm& a : r.arms()) {
      if (a.forced()) {
        x.forced_experiments.push_back(a.experiment());
      } else {
        x.arms.emplace_back(a.experiment(), a.arm());
      }
    }
    x.results = r.results_size();
    if (auto it = r.debug().stage_ms().find("total"); it != r.debug().stage_ms().end()) {
      x.latency_ms = it->second;
    }
    if (auto it = r.debug().stage_ms().find("error_code"); it != r.debug().stage_ms().end()) {
      x.error_code = static_cast<int>(it->second);
    }
    if (r.results_size() > 0 && r.results(0).interleaving_team() > 0) {
      for (const SearchResult& res : r.results()) x.teams.push_back(res.interleaving_team() - 1);
    }
    if (auto j = judged.find(q.query()); j != judged.end()) {
      x.kind = j->second.kind;
      if (j->second.judgments != nullptr) {
        std::vector<uint64_t> ids;
        for (const SearchResult& res : r.results()) ids.push_back(res.listing_id());
        x.ndcg = NdcgAtK(ids, *j->second.judgments, 10);
      }
    }
    const SearchFilters& f = q.filters();
    x.filtered = f.categories_size() > 0 || f.price().min() > 0 || f.price().max() > 0 ||
                 f.conditions_size() > 0 || f.has_geo();
    by_request.emplace(r.request_id(), searches.size());
    searches.push_back(std::move(x));
    return true;
  });
  if (!s.ok()) return s;
  // 2. Clicks and purchases onto their searches.
  s = log.ScanEvents([&](const Event& e) {
    auto it = by_request.find(e.request_id());
    if (it == by_request.end()) {
      ++out.orphans;
      if (!e.attribution_token().empty()) {
        if (auto p = DecodeAttributionPayload(e.attribution_token()); p.ok()) {
          for (const ServedArm& a : p->arms) {
            if (!a.forced()) ++out.token_only[a.experiment()][a.arm()];
          }
        }
      }
      return true;
    }
    Search& x = searches[it->second];
    if (e.type() == EVENT_TYPE_CLICK) {
      ++x.clicks;
      x.clicked_positions.push_back(e.position());
    }
    if (e.type() == EVENT_TYPE_PURCHASE) ++x.purchases;
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace

absl::StatusOr<std::vector<ExperimentReport>> AnalyzeExperiments(const EventLog& log,
                                                                 const ExperimentSet& set,
                                                                 const JudgedQueries& judged,
                                                                 int64_t now_unix_s,
                                                                 const AnalysisOptions& options) {
  absl::StatusOr<LoggedSearches> logged = ReadLoggedSearches(log, judged, INT64_MIN, INT64_MAX);
  if (!logged.ok()) return logged.status();
  const std::vector<Search>& searches = logged->searches;
  const int64_t orphans = logged->orphans;
  const auto& token_only = logged->token_only;

  std::vector<ExperimentReport> reports;
  for (const ExperimentLayer& layer : set.config().layers()) {
    for (const Experiment& e : layer.experiments()) {
      ExperimentReport rep;
      rep.layer = layer.name();
      rep.key = e.key();
      rep.description = e.description();
      rep.primary_metric = e.primary_metric().empty() ? "ctr" : e.primary_metric();
      rep.type = e.type() == Experiment::INTERLEAVING ? "interleaving" : "ab";
      rep.planned_users_per_arm = e.planned_users_per_arm();
      rep.start_unix_s = e.start_unix_s();
      rep.stop_unix_s = e.stop_unix_s();
      rep.running = ExperimentSet::Running(e, now_unix_s);
      rep.events_without_impression = orphans;
      const int arms = e.arms_size();
      absl::flat_hash_map<std::string, int> arm_index;
      for (int i = 0; i < arms; ++i) arm_index[e.arms(i).name()] = i;
      // The experiment's searches in time order (the log is in time order already).
      std::vector<std::pair<int, const Search*>> mine;
      absl::flat_hash_map<std::string, UserTotals> pre;  // the users' searches before the start
      for (const Search& x : searches) {
        if (std::find(x.forced_experiments.begin(), x.forced_experiments.end(), e.key()) !=
            x.forced_experiments.end()) {
          ++rep.forced_searches_excluded;
          continue;
        }
        if (x.ts_ms < e.start_unix_s() * 1000) {
          if (!x.unit.empty()) pre[x.unit].Add(x);
          continue;  // an earlier run under the same key is not this experiment
        }
        if (e.stop_unix_s() != 0 && x.ts_ms >= e.stop_unix_s() * 1000) continue;
        for (const auto& [exp, arm] : x.arms) {
          if (exp != e.key()) continue;
          auto it = arm_index.find(arm);
          if (it != arm_index.end() && !x.unit.empty()) mine.emplace_back(it->second, &x);
        }
      }
      if (e.type() == Experiment::INTERLEAVING) {
        // Per-query credit on the interleaved pages, aggregated per user.
        rep.interleaving = true;
        std::map<std::string, stats::UserPreference> prefs;
        for (const Search& x : searches) {
          if (x.ts_ms < e.start_unix_s() * 1000 || x.unit.empty() || x.teams.empty()) continue;
          if (e.stop_unix_s() != 0 && x.ts_ms >= e.stop_unix_s() * 1000) continue;
          bool in = false;
          for (const auto& [exp, arm] : x.arms) in |= exp == e.key();
          if (!in) continue;
          ++rep.interleaved_searches;
          stats::InterleavedPage page;
          page.team = x.teams;
          page.ids.resize(x.teams.size());
          const int outcome = stats::InterleavingOutcome(page, x.clicked_positions);
          stats::UserPreference& p = prefs[x.unit];
          if (outcome > 0) {
            ++p.a_wins;
          } else if (outcome < 0) {
            ++p.b_wins;
          } else if (!x.clicked_positions.empty()) {
            ++p.ties;
          }
        }
        std::vector<stats::UserPreference> list;
        for (const auto& [unit, p] : prefs) list.push_back(p);
        rep.interleaved_users = static_cast<int64_t>(list.size());
        rep.preference = stats::AnalyzeInterleaving(list, options.alpha, 2000, options.seed);
        for (int a = 0; a < arms; ++a) {
          ArmSummary m;
          m.name = e.arms(a).name();
          m.weight = e.arms(a).weight();
          rep.arms.push_back(std::move(m));
        }
        reports.push_back(std::move(rep));
        continue;
      }
      // Aggregates per arm and user over the searches up to `until` (all: INT64_MAX).
      auto aggregate = [&](int64_t until) {
        std::vector<std::map<std::string, UserTotals>> per_arm(arms);
        for (const auto& [arm, x] : mine) {
          if (x->ts_ms > until) break;
          per_arm[arm][x->unit].Add(*x);
        }
        return per_arm;
      };
      const auto per_arm = aggregate(INT64_MAX);
      std::vector<std::vector<const UserTotals*>> users(arms);
      std::vector<std::vector<std::string>> unit_names(arms);
      for (int a = 0; a < arms; ++a) {
        for (const auto& [unit, t] : per_arm[a]) {
          users[a].push_back(&t);
          unit_names[a].push_back(unit);
        }
      }
      std::vector<int64_t> observed;
      std::vector<double> weights;
      int64_t total_users = 0;
      std::vector<Columns> cols(arms);
      for (int a = 0; a < arms; ++a) {
        ArmSummary m;
        m.name = e.arms(a).name();
        m.weight = e.arms(a).weight();
        m.users = static_cast<int64_t>(users[a].size());
        std::vector<double> lat;
        for (const UserTotals* u : users[a]) {
          m.searches += static_cast<int64_t>(u->searches);
          m.clicked_searches += static_cast<int64_t>(u->clicked);
          m.clicks += static_cast<int64_t>(u->clicks);
          m.purchases += static_cast<int64_t>(u->purchases);
          m.zero_result_searches += static_cast<int64_t>(u->zero);
          m.failed_searches += static_cast<int64_t>(u->errors);
          m.judged_searches += static_cast<int64_t>(u->judged);
          lat.insert(lat.end(), u->latencies.begin(), u->latencies.end());
        }
        cols[a] = ColumnsOf(users[a]);
        m.ctr = Metric(cols[a], "ctr").value;
        m.clicks_per_search = Metric(cols[a], "clicks_per_search").value;
        m.purchases_per_search = Metric(cols[a], "purchases_per_search").value;
        m.zero_result_rate = Metric(cols[a], "zero_result_rate").value;
        m.error_rate = Metric(cols[a], "error_rate").value;
        m.ndcg10 = Metric(cols[a], "ndcg10").value;
        m.latency_p50_ms = Percentile(lat, 0.5);
        m.latency_p99_ms = Percentile(lat, 0.99);
        m.below_planned = m.users < rep.planned_users_per_arm;
        if (auto t = token_only.find(e.key()); t != token_only.end()) {
          if (auto a2 = t->second.find(m.name); a2 != t->second.end()) m.token_only_events = a2->second;
        }
        observed.push_back(m.users);
        weights.push_back(m.weight);
        total_users += m.users;
        rep.arms.push_back(std::move(m));
      }
      rep.srm = stats::CheckSampleRatio(observed, weights);
      rep.n_tune = rep.planned_users_per_arm > 0 ? rep.planned_users_per_arm * arms : 10000;
      const double seq_m =
          stats::SequentialMultiplier(static_cast<double>(total_users), static_cast<double>(rep.n_tune),
                                      options.alpha);
      const std::vector<std::string> secondaries_all = {"ctr", "ndcg10", "clicks_per_search",
                                                        "purchases_per_search"};
      std::vector<std::string> secondaries;
      for (const std::string& m : secondaries_all) {
        if (m != rep.primary_metric) secondaries.push_back(m);
      }
      std::mt19937_64 rng(options.seed);
      for (int a = 1; a < arms; ++a) {
        ArmComparison cmp;
        cmp.arm = e.arms(a).name();
        auto compare = [&](const std::string& metric, const std::string& role) {
          MetricComparison mc;
          mc.metric = metric;
          mc.role = role;
          const stats::RatioEstimate c = Metric(cols[0], metric), t = Metric(cols[a], metric);
          mc.fixed = stats::CompareRatios(c, t, options.alpha);
          mc.sequential = stats::Widen(mc.fixed, seq_m);
          mc.sequential_p = stats::SequentialPValue(mc.fixed.estimate, mc.fixed.se,
                                                    static_cast<double>(total_users),
                                                    static_cast<double>(rep.n_tune));
          mc.holm_p = mc.fixed.p_value;
          // CUPED on CTR when the users of both arms searched before the start.
          if (metric == "ctr") {
            std::vector<double> pn[2], pd[2];
            int with_pre = 0;
            for (int side = 0; side < 2; ++side) {
              const int arm = side == 0 ? 0 : a;
              for (const std::string& unit : unit_names[arm]) {
                auto it = pre.find(unit);
                pn[side].push_back(it == pre.end() ? 0 : it->second.clicked);
                pd[side].push_back(it == pre.end() ? 0 : it->second.searches);
                with_pre += it != pre.end();
              }
            }
            if (with_pre >= 20) {
              const stats::CupedResult cu = stats::CupedCompare(
                  {cols[0].clicked, cols[0].searches, pn[0], pd[0]},
                  {cols[a].clicked, cols[a].searches, pn[1], pd[1]}, options.alpha);
              if (cu.theta == 0) return mc;  // the pre-period predicts nothing (no clicks then)
              mc.cuped = true;
              mc.cuped_variance_ratio = cu.variance_ratio;
              mc.fixed = cu.difference;
              // The arms' own values stay the raw ones; the difference is the adjusted one.
              mc.fixed.control = c.value;
              mc.fixed.treatment = t.value;
              mc.sequential = stats::Widen(mc.fixed, seq_m);
              mc.holm_p = mc.fixed.p_value;
              mc.sequential_p = stats::SequentialPValue(mc.fixed.estimate, mc.fixed.se,
                                                        static_cast<double>(total_users),
                                                        static_cast<double>(rep.n_tune));
            }
          }
          return mc;
        };
        cmp.metrics.push_back(compare(rep.primary_metric, "primary"));
        std::vector<double> secondary_p;
        for (const std::string& m : secondaries) {
          cmp.metrics.push_back(compare(m, "secondary"));
          secondary_p.push_back(cmp.metrics.back().fixed.p_value);
        }
        const std::vector<double> holm = stats::HolmAdjust(secondary_p);
        for (size_t i = 0; i < holm.size(); ++i) cmp.metrics[1 + i].holm_p = holm[i];
        // Guardrails: zero-result rate (ratio) and latency p99 (user bootstrap).
        std::vector<stats::Guardrail> guards;
        MetricComparison zero = compare("zero_result_rate", "guardrail");
        guards.push_back({zero.fixed, true, options.zero_result_margin});
        cmp.metrics.push_back(zero);
        MetricComparison errors = compare("error_rate", "guardrail");
        guards.push_back({errors.fixed, true, options.error_rate_margin});
        cmp.metrics.push_back(errors);
        {
          MetricComparison lat;
          lat.metric = "latency_p99_ms";
          lat.role = "guardrail";
          const double c99 = PooledP99(users[0]), t99 = PooledP99(users[a]);
          std::vector<double> draws;
          if (!users[0].empty() && !users[a].empty()) {
            for (int d = 0; d < options.bootstrap_draws; ++d) {
              std::vector<const UserTotals*> rc, rt;
              std::uniform_int_distribution<size_t> pc(0, users[0].size() - 1), pt(0, users[a].size() - 1);
              for (size_t i = 0; i < users[0].size(); ++i) rc.push_back(users[0][pc(rng)]);
              for (size_t i = 0; i < users[a].size(); ++i) rt.push_back(users[a][pt(rng)]);
              draws.push_back(PooledP99(rt) - PooledP99(rc));
            }
          }
          lat.fixed.control = c99;
          lat.fixed.treatment = t99;
          lat.fixed.estimate = t99 - c99;
          lat.fixed.lift = c99 > 0 ? t99 / c99 - 1 : 0;
          if (!draws.empty()) {
            std::sort(draws.begin(), draws.end());
            const auto at = [&](double q) {
              return draws[std::min(draws.size() - 1, static_cast<size_t>(q * draws.size()))];
            };
            lat.fixed.ci_low = at(options.alpha / 2);
            lat.fixed.ci_high = at(1 - options.alpha / 2);
            double mean = 0, var = 0;
            for (double d : draws) mean += d / draws.size();
            for (double d : draws) var += (d - mean) * (d - mean) / std::max<size_t>(1, draws.size() - 1);
            lat.fixed.se = std::sqrt(var);
            lat.fixed.p_value = lat.fixed.se > 0 ? stats::PValueTwoSided(lat.fixed.estimate / lat.fixed.se) : 1;
          }
          lat.sequential = lat.fixed;
          lat.holm_p = lat.fixed.p_value;
          guards.push_back({lat.fixed, true, options.latency_p99_margin_ms});
          cmp.metrics.push_back(lat);
        }
        for (MetricComparison& mc : cmp.metrics) {
          const stats::Difference& d = mc.role == "primary" ? mc.sequential : mc.fixed;
          mc.significant = mc.role == "secondary" ? mc.holm_p < options.alpha
                                                   : (d.ci_low > 0 || d.ci_high < 0);
        }
        cmp.verdict = stats::Decide(rep.srm.mismatch, cmp.metrics[0].sequential, guards);
        rep.comparisons.push_back(std::move(cmp));
      }
      // Breakdowns of the primary metric: query kind, filters, new vs returning buyers.
      {
        auto segment = [&](const std::string& dimension, const std::string& value,
                           const std::function<bool(const Search&)>& in) {
          std::vector<std::map<std::string, UserTotals>> agg(arms);
          for (const auto& [arm, x] : mine) {
            if (in(*x)) agg[arm][x->unit].Add(*x);
          }
          SegmentRow row;
          row.dimension = dimension;
          row.value = value;
          std::vector<stats::RatioEstimate> est;
          for (int a = 0; a < arms; ++a) {
            std::vector<const UserTotals*> u;
            for (const auto& [unit, t] : agg[a]) u.push_back(&t);
            const Columns c = ColumnsOf(u);
            row.users.push_back(static_cast<int64_t>(u.size()));
            row.searches.push_back(static_cast<int64_t>(std::accumulate(c.searches.begin(), c.searches.end(), 0.0)));
            est.push_back(Metric(c, rep.primary_metric));
            row.primary.push_back(est.back().value);
          }
          row.vs_control.emplace_back();
          for (int a = 1; a < arms; ++a) row.vs_control.push_back(stats::CompareRatios(est[0], est[a], options.alpha));
          if (std::accumulate(row.searches.begin(), row.searches.end(), int64_t{0}) > 0) {
            rep.breakdowns.push_back(std::move(row));
          }
        };
        std::set<std::string> kinds;
        for (const auto& [arm, x] : mine) kinds.insert(x->kind.empty() ? "unknown" : x->kind);
        for (const std::string& k : kinds) {
          segment("query_kind", k, [&k](const Search& x) { return (x.kind.empty() ? "unknown" : x.kind) == k; });
        }
        segment("filters", "unfiltered", [](const Search& x) { return !x.filtered; });
        segment("filters", "filtered", [](const Search& x) { return x.filtered; });
        segment("buyer", "new", [&pre](const Search& x) { return !pre.contains(x.unit); });
        segment("buyer", "returning", [&pre](const Search& x) { return pre.contains(x.unit); });
      }
      // The timeline: cumulative users and primary metric per arm, and each treatment's
      // always-valid interval at that point.
      if (!mine.empty() && options.timeline_points > 0) {
        const int64_t t0 = mine.front().second->ts_ms, t1 = mine.back().second->ts_ms;
        for (int p = 1; p <= options.timeline_points; ++p) {
          const int64_t until = t0 + (t1 - t0) * p / options.timeline_points;
          const auto agg = aggregate(until);
          TimelinePoint tp;
          tp.until_ms = until;
          std::vector<Columns> c(arms);
          int64_t n = 0;
          for (int a = 0; a < arms; ++a) {
            std::vector<const UserTotals*> u;
            for (const auto& [unit, t] : agg[a]) u.push_back(&t);
            c[a] = ColumnsOf(u);
            tp.users.push_back(static_cast<int64_t>(u.size()));
            n += static_cast<int64_t>(u.size());
            tp.primary.push_back(Metric(c[a], rep.primary_metric).value);
          }
          const double m = stats::SequentialMultiplier(static_cast<double>(n),
                                                       static_cast<double>(rep.n_tune), options.alpha);
          tp.delta_low.push_back(0);
          tp.delta_high.push_back(0);
          for (int a = 1; a < arms; ++a) {
            const stats::Difference d = stats::CompareRatios(
                Metric(c[0], rep.primary_metric), Metric(c[a], rep.primary_metric), options.alpha, m);
            tp.delta_low.push_back(d.ci_low);
            tp.delta_high.push_back(d.ci_high);
          }
          rep.timeline.push_back(std::move(tp));
        }
      }
      reports.push_back(std::move(rep));
    }
  }
  return reports;
}

absl::StatusOr<stats::RatioEstimate> PilotEstimate(const EventLog& log, const std::string& metric,
                                                   int64_t since_ms, int64_t until_ms) {
  absl::StatusOr<LoggedSearches> logged = ReadLoggedSearches(log, {}, since_ms, until_ms);
  if (!logged.ok()) return logged.status();
  std::map<std::string, UserTotals> users;
  for (const Search& x : logged->searches) {
    if (x.unit.empty() || !x.forced_experiments.empty()) continue;  // QA traffic is no pilot
    users[x.unit].Add(x);
  }
  std::vector<const UserTotals*> list;
  for (const auto& [unit, t] : users) list.push_back(&t);
  return Metric(ColumnsOf(list), metric);
}

std::string FormatReport(const ExperimentReport& r) {
  std::string out = absl::StrFormat("experiment %s (layer %s, %s%s)%s%s\n", r.key, r.layer, r.type,
                                    r.running ? ", running" : "",
                                    r.description.empty() ? "" : ": ", r.description);
  if (r.interleaving) {
    const stats::InterleavingResult& p = r.preference;
    absl::StrAppendFormat(
        &out, "  interleaving (Team-Draft): %d searches from %d users; %s wins %d, %s wins %d, ties %d\n"
              "    preference for %s: Delta_AB %+.4f, 95%% CI [%+.4f, %+.4f] (bootstrap over users), "
              "sign test p %.3g%s\n",
        r.interleaved_searches, r.interleaved_users, r.arms[0].name, p.a_wins, r.arms[1].name,
        p.b_wins, p.ties, r.arms[0].name, p.delta_ab, p.ci_low, p.ci_high, p.sign_test_p,
        p.ci_low > 0 ? absl::StrCat(" -> ", r.arms[0].name, " preferred")
                     : p.ci_high < 0 ? absl::StrCat(" -> ", r.arms[1].name, " preferred") : "");
    return out;
  }
  absl::StrAppendFormat(&out, "  primary metric: %s; planned %d users per arm; sequential tuning n %d\n",
                        r.primary_metric, r.planned_users_per_arm, r.n_tune);
  bool below = false;
  for (const ArmSummary& a : r.arms) below |= a.below_planned;
  if (below) {
    out += "  ** below planned sample: the fixed 95% intervals are not valid yet; only the "
           "always-valid ones (which the verdict reads) are **\n";
  }
  absl::StrAppendFormat(&out, "  SRM: chi2 %.2f, p %.3g -> %s\n", r.srm.chi2, r.srm.p_value,
                        r.srm.mismatch ? "MISMATCH: results invalid, do not read them" : "ok");
  out += absl::StrFormat("  %-12s %6s %7s %8s %8s %9s %9s %8s %8s %8s\n", "arm", "weight", "users",
                         "searches", "CTR", "clk/srch", "buy/srch", "0-result", "NDCG@10", "p99 ms");
  for (const ArmSummary& a : r.arms) {
    absl::StrAppendFormat(&out, "  %-12s %6.2f %7d %8d %8.4f %9.4f %9.4f %8.4f %8.4f %8.2f\n", a.name,
                          a.weight, a.users, a.searches, a.ctr, a.clicks_per_search,
                          a.purchases_per_search, a.zero_result_rate, a.ndcg10, a.latency_p99_ms);
  }
  for (const ArmComparison& c : r.comparisons) {
    absl::StrAppendFormat(&out, "  %s vs %s: verdict %s\n", c.arm, r.arms[0].name,
                          stats::VerdictName(c.verdict));
    for (const MetricComparison& m : c.metrics) {
      absl::StrAppendFormat(
          &out, "    %-22s %-9s %+.4f (%+.1f%%)  95%% CI [%+.4f, %+.4f]  always-valid [%+.4f, %+.4f]  p %.3g%s%s%s\n",
          m.metric, m.role, m.fixed.estimate, 100 * m.fixed.lift, m.fixed.ci_low, m.fixed.ci_high,
          m.sequential.ci_low, m.sequential.ci_high, m.role == "secondary" ? m.holm_p : m.fixed.p_value,
          m.role == "secondary" ? " (Holm)" : "", m.significant ? " *" : "",
          m.cuped ? absl::StrFormat(" CUPED var x%.2f", m.cuped_variance_ratio) : "");
    }
  }
  if (!r.breakdowns.empty() && r.arms.size() >= 2) {
    absl::StrAppendFormat(&out, "  breakdown of %s (exploratory: not corrected for the segments, not in the verdict)\n",
                          r.primary_metric);
    for (const SegmentRow& row : r.breakdowns) {
      std::string line = absl::StrFormat("    %-26s", absl::StrCat(row.dimension, "=", row.value));
      for (size_t a = 0; a < r.arms.size(); ++a) {
        absl::StrAppendFormat(&line, " %s %.4f (%d users)", r.arms[a].name, row.primary[a], row.users[a]);
      }
      for (size_t a = 1; a < r.arms.size(); ++a) {
        const stats::Difference& d = row.vs_control[a];
        absl::StrAppendFormat(&line, "  %s %+.4f [%+.4f, %+.4f]", r.arms[a].name, d.estimate, d.ci_low, d.ci_high);
      }
      out += line + "\n";
    }
  }
  int64_t token_only = 0;
  for (const ArmSummary& a : r.arms) token_only += a.token_only_events;
  if (token_only > 0) {
    out += "  events whose impression was dropped, by arm (from their attribution tokens; not in the metrics):";
    for (const ArmSummary& a : r.arms) absl::StrAppendFormat(&out, " %s %d", a.name, a.token_only_events);
    out += "\n";
  }
  if (r.forced_searches_excluded > 0) {
    absl::StrAppendFormat(&out, "  %d forced (QA) searches excluded\n", r.forced_searches_excluded);
  }
  if (r.events_without_impression > 0) {
    absl::StrAppendFormat(&out, "  %d events whose impression is not in the log (dropped or older)\n",
                          r.events_without_impression);
  }
  return out;
}

std::string ReportsToJson(const std::vector<ExperimentReport>& reports) {
  auto diff = [](const stats::Difference& d) {
    return absl::StrCat("{\"control\":", JsonNumber(d.control), ",\"treatment\":", JsonNumber(d.treatment),
                        ",\"estimate\":", JsonNumber(d.estimate), ",\"ci_low\":", JsonNumber(d.ci_low),
                        ",\"ci_high\":", JsonNumber(d.ci_high), ",\"p\":", JsonNumber(d.p_value),
                        ",\"lift\":", JsonNumber(d.lift), "}");
  };
  std::string out = "{\"experiments\":[";
  for (size_t i = 0; i < reports.size(); ++i) {
    const ExperimentReport& r = reports[i];
    if (i > 0) out += ",";
    absl::StrAppend(&out, "{\"key\":", JsonString(r.key), ",\"layer\":", JsonString(r.layer),
                    ",\"type\":", JsonString(r.type), ",\"description\":", JsonString(r.description),
                    ",\"primary_metric\":", JsonString(r.primary_metric),
                    ",\"planned_users_per_arm\":", r.planned_users_per_arm,
                    ",\"start_unix_s\":", r.start_unix_s, ",\"stop_unix_s\":", r.stop_unix_s,
                    ",\"running\":", r.running ? "true" : "false", ",\"n_tune\":", r.n_tune,
                    ",\"forced_searches_excluded\":", r.forced_searches_excluded,
                    ",\"srm\":{\"chi2\":", JsonNumber(r.srm.chi2), ",\"p\":", JsonNumber(r.srm.p_value),
                    ",\"mismatch\":", r.srm.mismatch ? "true" : "false", "},\"arms\":[");
    for (size_t a = 0; a < r.arms.size(); ++a) {
      const ArmSummary& m = r.arms[a];
      if (a > 0) out += ",";
      absl::StrAppend(&out, "{\"name\":", JsonString(m.name), ",\"weight\":", JsonNumber(m.weight),
                      ",\"users\":", m.users, ",\"searches\":", m.searches,
                      ",\"clicked_searches\":", m.clicked_searches, ",\"clicks\":", m.clicks,
                      ",\"purchases\":", m.purchases, ",\"ctr\":", JsonNumber(m.ctr),
                      ",\"clicks_per_search\":", JsonNumber(m.clicks_per_search),
                      ",\"purchases_per_search\":", JsonNumber(m.purchases_per_search),
                      ",\"zero_result_rate\":", JsonNumber(m.zero_result_rate),
                      ",\"error_rate\":", JsonNumber(m.error_rate), ",\"failed_searches\":", m.failed_searches,
                      ",\"ndcg10\":", JsonNumber(m.ndcg10), ",\"judged_searches\":", m.judged_searches,
                      ",\"latency_p50_ms\":", JsonNumber(m.latency_p50_ms),
                      ",\"latency_p99_ms\":", JsonNumber(m.latency_p99_ms),
                      ",\"below_planned\":", m.below_planned ? "true" : "false",
                      ",\"token_only_events\":", m.token_only_events, "}");
    }
    out += "],\"comparisons\":[";
    for (size_t c = 0; c < r.comparisons.size(); ++c) {
      const ArmComparison& cmp = r.comparisons[c];
      if (c > 0) out += ",";
      absl::StrAppend(&out, "{\"arm\":", JsonString(cmp.arm), ",\"verdict\":",
                      JsonString(stats::VerdictName(cmp.verdict)), ",\"metrics\":[");
      for (size_t k = 0; k < cmp.metrics.size(); ++k) {
        const MetricComparison& m = cmp.metrics[k];
        if (k > 0) out += ",";
        absl::StrAppend(&out, "{\"metric\":", JsonString(m.metric), ",\"role\":", JsonString(m.role),
                        ",\"fixed\":", diff(m.fixed), ",\"sequential\":", diff(m.sequential),
                        ",\"sequential_p\":", JsonNumber(m.sequential_p),
                        ",\"holm_p\":", JsonNumber(m.holm_p),
                        ",\"significant\":", m.significant ? "true" : "false",
                        ",\"cuped\":", m.cuped ? "true" : "false",
                        ",\"cuped_variance_ratio\":", JsonNumber(m.cuped_variance_ratio), "}");
      }
      out += "]}";
    }
    out += "],\"breakdowns\":[";
    for (size_t b = 0; b < r.breakdowns.size(); ++b) {
      const SegmentRow& row = r.breakdowns[b];
      if (b > 0) out += ",";
      std::string users, searches, primary, diffs;
      for (size_t a = 0; a < row.users.size(); ++a) {
        absl::StrAppend(&users, a ? "," : "", row.users[a]);
        absl::StrAppend(&searches, a ? "," : "", row.searches[a]);
        absl::StrAppend(&primary, a ? "," : "", JsonNumber(row.primary[a]));
        absl::StrAppend(&diffs, a ? "," : "", a == 0 ? "null" : diff(row.vs_control[a]));
      }
      absl::StrAppend(&out, "{\"dimension\":", JsonString(row.dimension), ",\"value\":", JsonString(row.value),
                      ",\"users\":[", users, "],\"searches\":[", searches, "],\"primary\":[", primary,
                      "],\"vs_control\":[", diffs, "]}");
    }
    out += "],";
    if (r.interleaving) {
      const stats::InterleavingResult& p = r.preference;
      absl::StrAppend(&out, "\"interleaving\":{\"searches\":", r.interleaved_searches,
                      ",\"users\":", r.interleaved_users, ",\"a_wins\":", p.a_wins,
                      ",\"b_wins\":", p.b_wins, ",\"ties\":", p.ties,
                      ",\"delta_ab\":", JsonNumber(p.delta_ab), ",\"ci_low\":", JsonNumber(p.ci_low),
                      ",\"ci_high\":", JsonNumber(p.ci_high), ",\"sign_test_p\":",
                      JsonNumber(p.sign_test_p), "},");
    }
    out += "\"timeline\":[";
    for (size_t p = 0; p < r.timeline.size(); ++p) {
      const TimelinePoint& tp = r.timeline[p];
      if (p > 0) out += ",";
      auto list = [](const auto& v) {
        std::string s = "[";
        for (size_t i = 0; i < v.size(); ++i) absl::StrAppend(&s, i ? "," : "", JsonNumber(static_cast<double>(v[i])));
        return s + "]";
      };
      absl::StrAppend(&out, "{\"until_ms\":", tp.until_ms, ",\"users\":", list(tp.users),
                      ",\"primary\":", list(tp.primary), ",\"delta_low\":", list(tp.delta_low),
                      ",\"delta_high\":", list(tp.delta_high), "}");
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

}  // namespace marketsearch
