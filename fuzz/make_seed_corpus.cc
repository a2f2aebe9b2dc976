// Writes the binary seed inputs of the fuzz targets whose input is serialized protobuf or a
// token bound to a request fingerprint, so the committed corpus is reproducible:
//   <out>/search_request/*    SearchRequest bytes (plain, filtered, paged, edge cases)
//   <out>/upsert_listings/*   UpsertListingsRequest bytes (valid and invalid listings)
//   <out>/page_token/*        byte 0 = index into PageTokenRequests(), then a token
// usage: bazel run //fuzz:make_seed_corpus -- "$PWD/fuzz/corpus"
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "fuzz/page_token_requests.h"
#include "proto/search.pb.h"
#include "serving/request_validation.h"

namespace marketsearch {
namespace {

void Write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
}

SearchRequest Query(const std::string& q, int page_size = 10) {
  SearchRequest r;
  r.set_query(q);
  r.set_page_size(page_size);
  return r;
}

void SearchRequests(const std::string& dir) {
  std::vector<std::pair<std::string, SearchRequest>> seeds;
  seeds.emplace_back("plain", Query("sofa"));
  seeds.emplace_back("long_tail", Query("used iphone 12 128gb near me", 20));
  seeds.emplace_back("unicode", Query("Canapé d'angle 沙发 диван", 5));
  seeds.emplace_back("emoji_zwj", Query("emoji 👩‍👩‍👧 😀 sticker"));
  seeds.emplace_back("combining", Query("e\xCC\x81\xCC\x81\xCC\x81\xCC\x81 lamp"));
  seeds.emplace_back("rtl", Query("\xE2\x80\x8F" "أريكة جلد sofa"));
  seeds.emplace_back("page_size_1", Query("lamp", 1));
  seeds.emplace_back("page_size_100", Query("bike", 100));
  seeds.emplace_back("empty_query", Query(""));
  seeds.emplace_back("punctuation_only", Query("?!... ---"));
  seeds.emplace_back("zero_page_size", Query("sofa", 0));
  seeds.emplace_back("long_query", Query(std::string(600, 'a')));
  SearchRequest r = Query("grey sofa", 3);
  r.set_user_id(1);
  r.set_debug(true);
  seeds.emplace_back("user_debug", r);
  r = Query("phone", 5);
  r.mutable_filters()->add_categories("phones");
  r.mutable_filters()->mutable_price()->set_min(10);
  r.mutable_filters()->mutable_price()->set_max(400);
  r.mutable_filters()->add_conditions(CONDITION_USED);
  r.mutable_filters()->add_conditions(CONDITION_LIKE_NEW);
  seeds.emplace_back("filters", r);
  r = Query("lamp", 5);
  r.mutable_filters()->mutable_geo()->mutable_center()->set_lat(52.52);
  r.mutable_filters()->mutable_geo()->mutable_center()->set_lon(13.40);
  r.mutable_filters()->mutable_geo()->set_radius_km(50);
  r.set_user_id(2);
  seeds.emplace_back("geo", r);
  r = Query("table", 5);
  r.mutable_filters()->mutable_price()->set_min(500);
  r.mutable_filters()->mutable_price()->set_max(10);
  seeds.emplace_back("inverted_price", r);
  r = Query("table", 5);
  r.mutable_filters()->mutable_price()->set_max(std::numeric_limits<double>::quiet_NaN());
  r.mutable_filters()->mutable_geo()->set_radius_km(std::numeric_limits<double>::infinity());
  seeds.emplace_back("nan_inf", r);
  r = Query("sofa", 2);
  r.set_page_token(EncodePageToken(r, 2, 1));
  seeds.emplace_back("second_page", r);
  r = Query("sofa", 2);
  r.set_page_token(EncodePageToken(Query("table"), 2, 1));
  seeds.emplace_back("token_of_another_query", r);
  r = Query("sofa", 10);
  r.set_anonymous_id("cookie-1234");
  (*r.mutable_force_arms())["ranker-vs-fused"] = "ranker";
  seeds.emplace_back("anonymous_forced_arm", r);
  for (const auto& [name, req] : seeds) Write(dir, name, req.SerializeAsString());
  // Invalid UTF-8 in the query, as raw bytes on the wire (field 1, length 3).
  Write(dir, "invalid_utf8", std::string("\x0a\x03\xc3\x28\x41\x20\x0a", 7));
  Write(dir, "not_a_message", "\xff\xff\xff\xff");
}

Listing Seller(uint64_t id, const std::string& title) {
  Listing l;
  l.set_listing_id(id);
  l.set_title(title);
  l.set_category("sofas");
  l.set_price(120);
  l.set_condition(CONDITION_USED);
  return l;
}

void UpsertRequests(const std::string& dir) {
  std::vector<std::pair<std::string, UpsertListingsRequest>> seeds;
  UpsertListingsRequest r;
  *r.add_listings() = Seller(1000, "velvet sofa green");
  seeds.emplace_back("one", r);
  Listing full = Seller(1001, "Canapé d'angle 沙发 convertible");
  full.set_description("Three seats, washable covers.\nPick up in Berlin.");
  full.set_brand("Habitat");
  Attribute* a = full.add_attributes();
  a->set_name("color");
  a->set_value("green");
  full.set_seller_id(7);
  full.set_seller_rating(4.5f);
  full.set_city("Berlin");
  full.mutable_location()->set_lat(52.5);
  full.mutable_location()->set_lon(13.4);
  full.set_listed_at_unix(1760000000);
  r.Clear();
  *r.add_listings() = full;
  *r.add_listings() = Seller(1002, "oak table");
  seeds.emplace_back("full_and_minimal", r);
  r.Clear();
  *r.add_listings() = Seller(1003, std::string(300, 'x'));  // one very long word
  seeds.emplace_back("long_word_title", r);
  r.Clear();
  Listing bad = Seller(0, "no id");
  *r.add_listings() = bad;
  seeds.emplace_back("zero_id", r);
  r.Clear();
  bad = Seller(1004, "negative price");
  bad.set_price(-1);
  *r.add_listings() = bad;
  seeds.emplace_back("negative_price", r);
  r.Clear();
  bad = Seller(1005, "nan location");
  bad.mutable_location()->set_lat(std::numeric_limits<double>::quiet_NaN());
  *r.add_listings() = bad;
  seeds.emplace_back("nan_lat", r);
  r.Clear();
  seeds.emplace_back("empty", r);
  for (const auto& [name, req] : seeds) Write(dir, name, req.SerializeAsString());
}

void PageTokens(const std::string& dir) {
  const std::vector<SearchRequest> requests = PageTokenRequests();
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string sel(1, static_cast<char>(i));
    Write(dir, absl::StrCat("valid_", i), sel + EncodePageToken(requests[i], 10, 1));
    Write(dir, absl::StrCat("valid_last_", i), sel + EncodePageToken(requests[i], 999, 42));
    Write(dir, absl::StrCat("offset_out_of_range_", i), sel + EncodePageToken(requests[i], 1000, 1));
    Write(dir, absl::StrCat("negative_offset_", i), sel + EncodePageToken(requests[i], -5, 1));
    Write(dir, absl::StrCat("other_query_", i),
          sel + EncodePageToken(requests[(i + 1) % requests.size()], 10, 1));
  }
  const std::string sel(1, '\0');
  Write(dir, "not_base64", sel + "!!!***");
  Write(dir, "old_version", sel + absl::WebSafeBase64Escape("p1:10:1:abc"));
  Write(dir, "huge_numbers",
        sel + absl::WebSafeBase64Escape("p2:99999999999999999999:1:ffffffffffffffffff"));
  Write(dir, "too_long", sel + std::string(200, 'A'));
  Write(dir, "empty", sel);
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seed_corpus OUT_DIR (fuzz/corpus)\n");
    return 2;
  }
  const std::string out = argv[1];
  marketsearch::SearchRequests(out + "/search_request");
  marketsearch::UpsertRequests(out + "/upsert_listings");
  marketsearch::PageTokens(out + "/page_token");
  std::printf("make_seed_corpus: wrote search_request, upsert_listings and page_token seeds under %s\n",
              out.c_str());
  return 0;
}
