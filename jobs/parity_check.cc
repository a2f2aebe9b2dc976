// parity_check: proves that the serving path (C++ featurizer on raw text + TorchScript under
// libtorch) reproduces the Python model. The trainer saves, beside each exported tower, the
// eager PyTorch model's embeddings of a few validation queries and listings
// (parity_*_{ids,emb}.npy); this tool encodes the same queries (from queries.tsv) and
// listings (from the feature store) in C++ and compares. Exit 1 above --tolerance.
#include <cmath>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/float_matrix.h"
#include "common/status_macros.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "features/feature_store.h"
#include "features/npy_io.h"
#include "retrieval/encoders.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (models/, store/, catalog/)");
ABSL_FLAG(double, tolerance, 1e-5, "largest allowed absolute difference");

namespace marketsearch {
namespace {

double MaxAbsDiff(const FloatMatrix& got, const std::vector<float>& want) {
  if (got.data.size() != want.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < want.size(); ++i) m = std::max(m, std::fabs(double(got.data[i]) - want[i]));
  return m;
}

absl::StatusOr<bool> Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const double tol = absl::GetFlag(FLAGS_tolerance);
  MS_ASSIGN_OR_RETURN(std::string qdir, NewestVersionDir(data_dir + "/models/query_tower"));
  MS_ASSIGN_OR_RETURN(std::string ldir, NewestVersionDir(data_dir + "/models/listing_tower"));
  MS_ASSIGN_OR_RETURN(QueryEncoder qe, QueryEncoder::Load(qdir));
  MS_ASSIGN_OR_RETURN(ListingEncoder le, ListingEncoder::Load(ldir));

  // Queries: ids → raw text → C++ featurizer → TorchScript.
  MS_ASSIGN_OR_RETURN(NpyArray qids, ReadNpy(qdir + "/parity_query_ids.npy"));
  MS_ASSIGN_OR_RETURN(NpyArray qemb, ReadNpy(qdir + "/parity_query_emb.npy"));
  MS_ASSIGN_OR_RETURN(auto queries, ReadQueries(data_dir + "/catalog/queries.tsv"));
  absl::flat_hash_map<uint64_t, std::string> text_of;
  for (const auto& q : queries) text_of[q.query_id] = q.text;
  std::vector<std::string> texts;
  for (uint64_t id : qids.AsUint64()) {
    auto it = text_of.find(id);
    if (it == text_of.end()) return absl::NotFoundError(absl::StrCat("query ", id, " not in queries.tsv"));
    texts.push_back(it->second);
  }
  MS_ASSIGN_OR_RETURN(FloatMatrix qgot, qe.Encode(texts));
  const double qdiff = MaxAbsDiff(qgot, qemb.AsFloat32());

  // Listings: ids → stored record → C++ featurizer → TorchScript.
  MS_ASSIGN_OR_RETURN(NpyArray lids, ReadNpy(ldir + "/parity_listing_ids.npy"));
  MS_ASSIGN_OR_RETURN(NpyArray lemb, ReadNpy(ldir + "/parity_listing_emb.npy"));
  FeatureStore::Options so;
  so.path = data_dir + "/store";
  so.read_only = true;
  MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));
  MS_ASSIGN_OR_RETURN(CatalogStats stats, store->GetCatalogStats());
  const std::vector<uint64_t> ids = lids.AsUint64();
  MS_ASSIGN_OR_RETURN(auto got, store->GetListings(ids));
  std::vector<Listing> listings;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!got[i]) return absl::NotFoundError(absl::StrCat("listing ", ids[i], " not in the store"));
    listings.push_back(*got[i]);
  }
  MS_ASSIGN_OR_RETURN(FloatMatrix lgot, le.Encode(listings, stats));
  const double ldiff = MaxAbsDiff(lgot, lemb.AsFloat32());

  std::printf("parity C++ (featurizer + libtorch) vs Python (eager PyTorch)\n");
  std::printf("  query tower    %zu queries   max |diff| %.3g\n", texts.size(), qdiff);
  std::printf("  listing tower  %zu listings  max |diff| %.3g\n", listings.size(), ldiff);
  std::printf("  tolerance      %.1g -> %s\n", tol, qdiff <= tol && ldiff <= tol ? "OK" : "MISMATCH");
  return qdiff <= tol && ldiff <= tol;
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Checks that C++ embeddings equal the Python model's parity fixtures.\n"
      "Usage: parity_check [--data_dir=var] [--tolerance=1e-5]");
  absl::ParseCommandLine(argc, argv);
  auto ok = marketsearch::Run();
  if (!ok.ok()) {
    std::fprintf(stderr, "parity_check: %s\n", std::string(ok.status().message()).c_str());
    return 2;
  }
  return *ok ? 0 : 1;
}
