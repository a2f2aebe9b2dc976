#include "fuzz/serving_fixture.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_files.h"
#include "proto/manifest.pb.h"
#include "ranking/ranker.h"
#include "ranking/ranking_features.h"
#include "retrieval/fake_model_runner.h"
#include "serving/fake_serving_state.h"

namespace marketsearch {
namespace {

void Require(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "fuzz deployment: %s: %s\n", what, std::string(s.message()).c_str());
    std::abort();
  }
}

std::vector<Listing> Catalog() {
  struct Row {
    const char* title;
    const char* category;
    const char* brand;
  };
  const Row rows[] = {
      {"grey fabric sofa 3 seater", "sofas", "Ikea"},
      {"red leather sofa", "sofas", ""},
      {"blue corner sofa bed", "sofas", "Habitat"},
      {"Canapé d'angle en velours", "sofas", "Maisons du Monde"},
      {"iphone 12 128gb black", "phones", "Apple"},
      {"used iphone 11 64gb", "phones", "Apple"},
      {"samsung galaxy s21 ultra", "phones", "Samsung"},
      {"pixel 7 pro 256 GB", "phones", "Google"},
      {"oak dining table 6 chairs", "tables", ""},
      {"glass coffee table", "tables", "Ikea"},
      {"Schreibtisch Eiche massiv", "tables", ""},
      {"mountain bike 29 inch", "bikes", "Trek"},
      {"road bike carbon 56cm", "bikes", "Specialized"},
      {"kids bike 16\"", "bikes", ""},
      {"lawn mower petrol self propelled", "garden", "Honda"},
      {"electric lawn mower", "garden", "Bosch"},
      {"garden hose 30m", "garden", ""},
      {"KitchenAid stand mixer 4.8L", "kitchen", "KitchenAid"},
      {"espresso machine", "kitchen", "De'Longhi"},
      {"cast iron skillet 12\"", "kitchen", "Lodge"},
      {"沙发 三人 灰色", "sofas", ""},
      {"ソファ 2人掛け", "sofas", "無印良品"},
      {"диван угловой", "sofas", ""},
      {"أريكة جلد", "sofas", ""},
      {"nintendo switch oled", "games", "Nintendo"},
      {"ps5 disc edition + 2 controllers", "games", "Sony"},
      {"lego star wars millennium falcon", "toys", "LEGO"},
      {"wooden train set", "toys", ""},
      {"winter jacket men XL", "clothing", "North Face"},
      {"running shoes size 42", "clothing", "Nike"},
      {"vintage record player", "electronics", ""},
      {"55 inch 4k tv", "electronics", "LG"},
      {"noise cancelling headphones", "electronics", "Sony"},
      {"macbook air m1 8gb 256gb", "computers", "Apple"},
      {"gaming pc rtx 3070", "computers", ""},
      {"office chair ergonomic", "chairs", "Herman Miller"},
      {"rocking chair", "chairs", ""},
      {"bookshelf white 5 shelves", "storage", "Ikea"},
      {"chest of drawers", "storage", ""},
      {"baby stroller", "baby", "Bugaboo"},
      {"crib with mattress", "baby", ""},
      {"acoustic guitar", "music", "Yamaha"},
      {"digital piano 88 keys", "music", "Roland"},
      {"drill set cordless 18v", "tools", "Makita"},
      {"emoji 😀 sticker pack", "toys", ""},
      {"e\xCC\x81\xCC\x81\xCC\x81 combining marks lamp", "lighting", ""},
      {"floor lamp", "lighting", ""},
      {"desk lamp led", "lighting", "Philips"},
  };
  const Condition conditions[] = {CONDITION_NEW, CONDITION_LIKE_NEW, CONDITION_USED,
                                  CONDITION_FOR_PARTS};
  std::vector<Listing> out;
  uint64_t id = 1;
  for (const Row& r : rows) {
    Listing l;
    l.set_listing_id(id);
    l.set_title(r.title);
    l.set_category(r.category);
    l.set_brand(r.brand);
    l.set_description(absl::StrCat("A ", r.title, " in good shape. Pick up only."));
    l.set_price(5.0 * static_cast<double>(id * id % 97 + 1));
    l.set_condition(conditions[id % 4]);
    l.set_seller_id(100 + id % 7);
    l.set_seller_rating(static_cast<float>(id % 6));
    l.set_city(id % 2 ? "Berlin" : "Paris");
    l.mutable_location()->set_lat(id % 2 ? 52.52 + 0.01 * id : 48.85 - 0.01 * id);
    l.mutable_location()->set_lon(id % 2 ? 13.40 : 2.35 + 0.01 * id);
    l.set_listed_at_unix(1700000000 + 86400 * static_cast<int64_t>(id));
    if (id % 3 == 0) {
      Attribute* a = l.add_attributes();
      a->set_name("color");
      a->set_value(id % 2 ? "grey" : "black");
    }
    out.push_back(l);
    ++id;
  }
  return out;
}

// A ranker over a fake model: the score is the query-listing similarity plus the title
// coverage; the forward aborts on a non-finite feature (the ranker's inputs must be finite
// whatever the request).
std::shared_ptr<const Ranker> FakeRanker() {
  ModelManifest m;
  m.set_model_name("ranker");
  m.set_version(3);
  TensorSpec* in = m.add_inputs();
  in->set_dtype("float32");
  in->add_shape(-1);
  in->add_shape(kRankingFeatureDim);
  (*m.mutable_metrics())["ranking_feature_version"] = kRankingFeatureVersion;
  (*m.mutable_metrics())["listing_tower_version"] = 1;
  auto runner = std::make_unique<FakeModelRunner>(
      m, [](absl::Span<const InputTensor> x) -> absl::StatusOr<FloatMatrix> {
        const auto* f = static_cast<const float*>(x[0].data);
        FloatMatrix out;
        out.rows = x[0].shape[0];
        out.cols = 1;
        for (int64_t r = 0; r < out.rows; ++r) {
          const float* row = f + r * kRankingFeatureDim;
          for (int c = 0; c < kRankingFeatureDim; ++c) {
            FUZZ_CHECK(std::isfinite(row[c]), absl::StrCat("ranking feature ", c).c_str());
          }
          out.data.push_back(row[kRankRetrievalBegin] + row[1]);
        }
        return out;
      });
  Ranker::Options ro;
  ro.warmup_batch_sizes = {};
  auto ranker = Ranker::Create(std::move(runner), ro);
  Require(ranker.status(), "fake ranker");
  return std::shared_ptr<const Ranker>(std::move(*ranker));
}

FuzzDeployment* Build() {
  auto* d = new FuzzDeployment();
  const std::string dir = FuzzTempDir();
  FeatureStore::Options so;
  so.path = dir + "/store";
  so.sync_writes = false;  // nothing here must survive a crash; fsync per exec is slow
  so.block_cache_mb = 8;
  auto store = FeatureStore::Open(so);
  Require(store.status(), "store");
  d->store = *std::move(store);
  const std::vector<Listing> catalog = Catalog();
  for (const Listing& l : catalog) d->catalog[l.listing_id()] = l;
  Require(d->store->PutListings(catalog), "put listings");
  std::vector<User> users(3);
  for (int i = 0; i < 3; ++i) {
    users[i].set_user_id(i + 1);
    users[i].add_preferred_categories(i == 0 ? "sofas" : "phones");
    users[i].set_typical_price(50.0 * (i + 1));
    if (i > 0) {
      users[i].mutable_location()->set_lat(52.5);
      users[i].mutable_location()->set_lon(13.4);
    }
  }
  Require(d->store->PutUsers(users), "put users");
  d->lexical = std::make_unique<LiveLexicalIndex>(dir);
  auto reader = MemoryListingReader::Load(d->store.get(), &d->ann);
  Require(reader.status(), "listing reader");
  d->reader = *std::move(reader);
  Searcher::Options o;  // hybrid: both legs
  o.concurrent_filtered_legs_when_idle = false;  // one thread: reproducible runs
  d->searcher = std::make_unique<Searcher>(o, d->reader.get(), &d->ann, d->lexical.get());
  FakeServingStateOptions fo;
  fo.lexical_dir = dir + "/lexical";
  fo.ranker = FakeRanker();
  auto state = MakeFakeServingState(catalog, fo);
  Require(state.status(), "serving state");
  Require(d->searcher->SetState(*state), "set state");
  d->writer = std::make_unique<ListingWriter>(d->store.get(), d->searcher.get(), &d->ann,
                                              d->lexical.get(), d->reader.get());
  return d;
}

}  // namespace

FuzzDeployment& Deployment() {
  static FuzzDeployment* const d = Build();
  return *d;
}

}  // namespace marketsearch
