// Synthetic listings for index tests and benchmarks: clustered, L2-normalised vectors (the
// shape of two-tower embeddings: listings of one product type sit close together) with
// filter attributes correlated to the clusters (a cluster mostly belongs to one category),
// Index construction itself is index_writer.h's BuildFaissIndex (what build_index runs).
//
// Thread-compatible: plain data and free functions.
#ifndef MARKETSEARCH_INDEX_SYNTHETIC_LISTINGS_H_
#define MARKETSEARCH_INDEX_SYNTHETIC_LISTINGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "index/listing_filter.h"

namespace marketsearch {

struct SyntheticOptions {
  int64_t listings = 10000;
  int dim = 64;
  int clusters = 200;       // product-type clusters
  float spread = 0.35f;     // within-cluster noise (relative to the unit-norm centre)
  int categories = 25;      // category names "cat00", "cat01", ...
  int cities = 40;          // listing locations are jittered around city centres
  uint64_t seed = 42;
  uint64_t first_id = 1000;  // listing ids are first_id + 3 * i (not dense, not row numbers)
};

struct SyntheticListings {
  int dim = 0;
  std::vector<uint64_t> ids;
  std::vector<float> vectors;  // ids.size() × dim, unit norm
  std::vector<ListingAttributes> attributes;
  std::vector<std::string> categories;  // names; attributes[i].category_fp = fp(name)
  std::vector<int> category_of;         // index into categories, per listing
  std::vector<std::pair<double, double>> city_centres;  // (lat, lon)

  int64_t size() const { return static_cast<int64_t>(ids.size()); }
  const float* row(int64_t i) const { return vectors.data() + i * dim; }
  ListingAttributeTable Table() const;
};

SyntheticListings MakeSyntheticListings(const SyntheticOptions& options);

// nq query vectors near the listings' clusters (perturbed listing vectors, unit norm).
std::vector<float> MakeSyntheticQueries(const SyntheticListings& listings, int nq, uint64_t seed);

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_SYNTHETIC_LISTINGS_H_
