// The requests the page-token fuzz target binds its tokens to, shared with the seed corpus
// generator (make_seed_corpus.cc) so that the seeds hold tokens with matching fingerprints:
// a forged token can only reach the offset and range checks when its fingerprint matches.
#ifndef MARKETSEARCH_FUZZ_PAGE_TOKEN_REQUESTS_H_
#define MARKETSEARCH_FUZZ_PAGE_TOKEN_REQUESTS_H_

#include <vector>

#include "proto/search.pb.h"

namespace marketsearch {

inline std::vector<SearchRequest> PageTokenRequests() {
  std::vector<SearchRequest> out(4);
  out[0].set_query("sofa");
  out[0].set_page_size(10);
  out[1].set_query("used iphone 12 128gb near me");
  out[1].set_page_size(20);
  out[1].mutable_filters()->add_categories("phones");
  out[1].mutable_filters()->mutable_price()->set_max(500);
  out[2].set_query("Ünïcödé sofá 沙发");
  out[2].set_page_size(100);
  out[2].mutable_filters()->mutable_geo()->mutable_center()->set_lat(52.5);
  out[2].mutable_filters()->mutable_geo()->mutable_center()->set_lon(13.4);
  out[2].mutable_filters()->mutable_geo()->set_radius_km(25);
  out[3].set_query("table");
  out[3].set_page_size(1);
  out[3].mutable_filters()->add_conditions(CONDITION_NEW);
  return out;
}

}  // namespace marketsearch

#endif  // MARKETSEARCH_FUZZ_PAGE_TOKEN_REQUESTS_H_
