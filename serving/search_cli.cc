// search_cli: sends one Search request to a running server and prints the page.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "features/listing_tsv.h"
#include "proto/search.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:8500", "server address");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM certificate(s) to verify a TLS server with (its --tls_cert_file for a self-signed "
          "one); empty = plaintext");
ABSL_FLAG(std::string, query, "", "what the buyer types (required)");
ABSL_FLAG(int, page_size, 10, "results per page (1-100)");
ABSL_FLAG(std::string, page_token, "", "next_page_token of a previous call");
ABSL_FLAG(std::string, category, "", "comma-separated categories to keep");
ABSL_FLAG(double, min_price, 0, "lower price bound (0 = none)");
ABSL_FLAG(double, max_price, 0, "upper price bound (0 = none)");
ABSL_FLAG(std::string, condition, "", "comma-separated: new,like_new,used,for_parts");
ABSL_FLAG(double, lat, 0, "geo filter centre latitude");
ABSL_FLAG(double, lon, 0, "geo filter centre longitude");
ABSL_FLAG(double, radius_km, 0, "geo filter radius (0 = no geo filter)");
ABSL_FLAG(uint64_t, user_id, 0, "buyer id (0 = anonymous)");
ABSL_FLAG(bool, debug, false, "show per-stage scores and timings");
ABSL_FLAG(bool, explain, false,
          "show the order before ranking (fused retrieval) next to the ranked order, with the "
          "ranker's score and its main input features");
ABSL_FLAG(int, timeout_ms, 5000, "deadline");

// Pads or cuts `s` to `width` code points (never splitting a UTF-8 sequence).
std::string Fit(const std::string& s, size_t width) {
  std::string out;
  size_t cps = 0;
  for (size_t i = 0; i < s.size() && cps < width;) {
    size_t len = 1;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    out.append(s, i, len);
    i += len;
    ++cps;
  }
  out.append(width - cps, ' ');
  return out;
}

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Sends one MarketSearch.Search request and prints the results.\n"
      "Usage: search_cli --query='grey sofa' [--target=127.0.0.1:8500] [--page_size=10]");
  absl::ParseCommandLine(argc, argv);
  using namespace marketsearch;
  SearchRequest req;
  req.set_query(absl::GetFlag(FLAGS_query));
  req.set_page_size(absl::GetFlag(FLAGS_page_size));
  req.set_page_token(absl::GetFlag(FLAGS_page_token));
  req.set_user_id(absl::GetFlag(FLAGS_user_id));
  req.set_debug(absl::GetFlag(FLAGS_debug) || absl::GetFlag(FLAGS_explain));
  SearchFilters* f = req.mutable_filters();
  for (absl::string_view c : absl::StrSplit(absl::GetFlag(FLAGS_category), ',', absl::SkipEmpty())) {
    f->add_categories(std::string(c));
  }
  f->mutable_price()->set_min(absl::GetFlag(FLAGS_min_price));
  f->mutable_price()->set_max(absl::GetFlag(FLAGS_max_price));
  for (absl::string_view c : absl::StrSplit(absl::GetFlag(FLAGS_condition), ',', absl::SkipEmpty())) {
    Condition cond;
    if (!ParseCondition(std::string(c), &cond)) {
      std::fprintf(stderr, "search_cli: unknown condition '%s'\n", std::string(c).c_str());
      return 2;
    }
    f->add_conditions(cond);
  }
  if (absl::GetFlag(FLAGS_radius_km) > 0) {
    f->mutable_geo()->mutable_center()->set_lat(absl::GetFlag(FLAGS_lat));
    f->mutable_geo()->mutable_center()->set_lon(absl::GetFlag(FLAGS_lon));
    f->mutable_geo()->set_radius_km(absl::GetFlag(FLAGS_radius_km));
  }

  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!absl::GetFlag(FLAGS_tls_ca_file).empty()) {
    std::ifstream in(absl::GetFlag(FLAGS_tls_ca_file));
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in || pem.str().empty()) {
      std::fprintf(stderr, "search_cli: --tls_ca_file: cannot read %s\n", absl::GetFlag(FLAGS_tls_ca_file).c_str());
      return 2;
    }
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(tls);
  }
  auto stub = MarketSearch::NewStub(grpc::CreateChannel(absl::GetFlag(FLAGS_target), credentials));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms)));
  SearchResponse resp;
  grpc::Status s = stub->Search(&ctx, req, &resp);
  if (!s.ok()) {
    std::fprintf(stderr, "search_cli: %d %s\n", static_cast<int>(s.error_code()),
                 s.error_message().c_str());
    return 1;
  }
  std::printf("query \"%s\"  (request %s, index v%lld, query tower v%lld)\n", req.query().c_str(),
              resp.request_id().c_str(), static_cast<long long>(resp.versions().index()),
              static_cast<long long>(resp.versions().query_tower()));
  for (const ServedArm& a : resp.arms()) {
    std::printf("  experiment %s: arm %s%s (ranker v%lld)\n", a.experiment().c_str(), a.arm().c_str(),
                a.forced() ? " (forced)" : "", static_cast<long long>(resp.versions().ranker()));
  }
  if (resp.has_best_relevance_probability()) {
    std::printf("  %s (best result P(Exact) %.2f)\n",
                resp.no_good_match() ? "NO GOOD MATCH: nothing in the catalog is likely what was asked for"
                                     : "good match",
                resp.best_relevance_probability());
  }
  int pos = 0;
  for (const SearchResult& r : resp.results()) {
    std::printf("  %2d. %s %9.2f  %-14.14s %-9s score %.3f", ++pos, Fit(r.title(), 56).c_str(),
                r.price(), r.category().c_str(), ConditionName(r.condition()), r.score());
    if (r.has_relevance_probability()) std::printf(" P(Exact) %.2f", r.relevance_probability());
    std::printf("  [#%llu]\n", static_cast<unsigned long long>(r.listing_id()));
  }
  if (resp.results_size() == 0) std::printf("  (no results)\n");
  if (absl::GetFlag(FLAGS_explain)) {
    std::printf("\n  ranked  before  %-40s %7s %6s %6s %5s %5s %6s %6s\n", "title", "ranker", "t.cov",
                "title", "brand", "attr", "trigr", "sim");
    int rank = 0;
    for (const SearchResult& r : resp.results()) {
      const auto& d = r.debug();
      auto f = [&](const char* name) {
        auto it = d.features().find(name);
        return it == d.features().end() ? 0.0f : it->second;
      };
      std::printf("  %6d  %6d  %s %7.3f %6.2f %6.2f %5.0f %5.2f %6.2f %6.3f\n", ++rank, d.fused_rank(),
                  Fit(r.title(), 40).c_str(), d.ranker_score(), f("term_coverage"), f("title_coverage"),
                  f("brand_named"), f("attributes_named"), f("trigram_jaccard"), f("similarity"));
    }
    std::printf("  (before = position in the fused BM25+ANN order; t.cov/title = share of query words in the\n"
                "   listing / its title; brand = brand named in the query; sim = query-listing cosine)\n");
  }
  if (absl::GetFlag(FLAGS_debug)) {
    std::printf("  normalized query: \"%s\"  candidates: %d\n", resp.debug().normalized_query().c_str(),
                resp.debug().candidates());
    for (const auto& [stage, ms] : resp.debug().stage_ms()) std::printf("  %-14s %.3f ms\n", stage.c_str(), ms);
  }
  if (!resp.next_page_token().empty()) std::printf("  next page: --page_token=%s\n", resp.next_page_token().c_str());
  return 0;
}
