#include "index/synthetic_listings.h"

#include <cmath>
#include <random>

#include "absl/strings/str_format.h"

namespace marketsearch {
namespace {

void Normalise(float* v, int d) {
  double s = 0;
  for (int i = 0; i < d; ++i) s += static_cast<double>(v[i]) * v[i];
  const float inv = s > 0 ? static_cast<float>(1.0 / std::sqrt(s)) : 0.f;
  for (int i = 0; i < d; ++i) v[i] *= inv;
}

}  // namespace

ListingAttributeTable SyntheticListings::Table() const {
  ListingAttributeTable t;
  t.Reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) t.Add(ids[i], attributes[i]);
  return t;
}

SyntheticListings MakeSyntheticListings(const SyntheticOptions& o) {
  SyntheticListings s;
  s.dim = o.dim;
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> gauss(0.f, 1.f);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int c = 0; c < o.categories; ++c) s.categories.push_back(absl::StrFormat("cat%02d", c));
  for (int c = 0; c < o.cities; ++c) {
    s.city_centres.emplace_back(36.0 + 20.0 * unit(rng), -8.0 + 30.0 * unit(rng));
  }
  // Cluster centres, cluster sizes (Zipf-like: some product types are much more common) and
  // each cluster's category (categories hold several clusters).
  std::vector<float> centres(static_cast<size_t>(o.clusters) * o.dim);
  for (float& x : centres) x = gauss(rng);
  for (int c = 0; c < o.clusters; ++c) Normalise(centres.data() + c * o.dim, o.dim);
  std::vector<double> weight(o.clusters);
  for (int c = 0; c < o.clusters; ++c) weight[c] = 1.0 / std::pow(c + 1.0, 0.6);
  std::discrete_distribution<int> pick_cluster(weight.begin(), weight.end());
  std::vector<int> cluster_category(o.clusters);
  for (int c = 0; c < o.clusters; ++c) cluster_category[c] = static_cast<int>(rng() % o.categories);
  std::discrete_distribution<int> pick_condition({0.0, 0.25, 0.2, 0.45, 0.1});  // NEW..FOR_PARTS
  std::lognormal_distribution<double> price(4.0, 1.0);  // median ~55
  const float noise = o.spread / std::sqrt(static_cast<float>(o.dim));
  s.ids.reserve(o.listings);
  s.vectors.resize(static_cast<size_t>(o.listings) * o.dim);
  s.attributes.reserve(o.listings);
  s.category_of.reserve(o.listings);
  for (int64_t i = 0; i < o.listings; ++i) {
    const int c = pick_cluster(rng);
    float* v = s.vectors.data() + i * o.dim;
    for (int j = 0; j < o.dim; ++j) v[j] = centres[c * o.dim + j] + noise * gauss(rng);
    Normalise(v, o.dim);
    s.ids.push_back(o.first_id + 3 * static_cast<uint64_t>(i));
    // 90% of a cluster's listings are in its category, the rest anywhere.
    const int cat = unit(rng) < 0.9 ? cluster_category[c] : static_cast<int>(rng() % o.categories);
    s.category_of.push_back(cat);
    ListingAttributes a;
    a.category_fp = CategoryFingerprint(s.categories[cat]);
    a.price = std::round(price(rng) * 100) / 100 + 0.01;
    a.condition = pick_condition(rng);
    if (unit(rng) < 0.95) {
      const auto& city = s.city_centres[rng() % s.city_centres.size()];
      a.has_location = true;
      a.lat = city.first + 0.2 * gauss(rng);
      a.lon = city.second + 0.3 * gauss(rng);
    }
    s.attributes.push_back(a);
  }
  return s;
}

std::vector<float> MakeSyntheticQueries(const SyntheticListings& l, int nq, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss(0.f, 1.f);
  std::uniform_int_distribution<int64_t> pick(0, l.size() - 1);
  const float noise = 0.5f / std::sqrt(static_cast<float>(l.dim));
  std::vector<float> q(static_cast<size_t>(nq) * l.dim);
  for (int i = 0; i < nq; ++i) {
    const float* src = l.row(pick(rng));
    for (int j = 0; j < l.dim; ++j) q[i * l.dim + j] = src[j] + noise * gauss(rng);
    Normalise(q.data() + i * l.dim, l.dim);
  }
  return q;
}

}  // namespace marketsearch
