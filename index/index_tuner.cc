#include "index/index_tuner.h"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexRefine.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <regex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/percentile.h"
#include "common/timing.h"

namespace marketsearch {
namespace {

constexpr int kMaxEfSearch = 4096;

// The one search parameter of an index this project builds, set in the index itself.
struct Knob {
  faiss::IndexIVF* ivf = nullptr;
  faiss::IndexHNSW* hnsw = nullptr;
  int lo = 1, hi = 1;
  const char* name = "";
  void Set(int v) const {
    if (ivf != nullptr) ivf->nprobe = static_cast<size_t>(v);
    if (hnsw != nullptr) hnsw->hnsw.efSearch = v;
  }
};

Knob FindKnob(faiss::Index* index, int k) {
  faiss::Index* core = index;
  if (auto* refine = dynamic_cast<faiss::IndexRefine*>(core)) core = refine->base_index;
  Knob knob;
  if ((knob.ivf = dynamic_cast<faiss::IndexIVF*>(core)) != nullptr) {
    knob.lo = 1;
    knob.hi = static_cast<int>(knob.ivf->nlist);
    knob.name = "nprobe";
  } else if ((knob.hnsw = dynamic_cast<faiss::IndexHNSW*>(core)) != nullptr) {
    knob.lo = k;  // FAISS searches with max(efSearch, k): smaller values are the same search
    knob.hi = kMaxEfSearch;
    knob.name = "efSearch";
  }
  return knob;
}

// Recall@k of `index` on `queries` against `truth` (batched: the search parameter, not the
// batching, decides which rows come back).
double Recall(const faiss::Index& index, const FloatMatrix& queries,
              const std::vector<int64_t>& truth, int k) {
  std::vector<float> dist(queries.rows * k);
  std::vector<faiss::Index::idx_t> rows(queries.rows * k);
  index.search(queries.rows, queries.data.data(), k, dist.data(), rows.data());
  double hits = 0;
  for (int64_t q = 0; q < queries.rows; ++q) {
    absl::flat_hash_set<int64_t> want(truth.begin() + q * k, truth.begin() + (q + 1) * k);
    for (int j = 0; j < k; ++j) hits += want.count(rows[q * k + j]);
  }
  return hits / (static_cast<double>(queries.rows) * k);
}

// Single-query latency on one OpenMP thread, as served.
void MeasureLatency(const faiss::Index& index, const FloatMatrix& queries, int k, TunedIndex* out) {
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(1);
  std::vector<float> dist(k);
  std::vector<faiss::Index::idx_t> rows(k);
  std::vector<double> ms;
  ms.reserve(queries.rows);
  for (int64_t q = 0; q < queries.rows; ++q) {
    const SteadyTime t0 = std::chrono::steady_clock::now();
    index.search(1, queries.row(q), k, dist.data(), rows.data());
    ms.push_back(MsSince(t0));
  }
  omp_set_num_threads(saved_threads);
  out->p50_ms = Percentile(ms, 0.50);
  out->p99_ms = Percentile(ms, 0.99);
}

}  // namespace

std::vector<std::string> CandidateFactories(int64_t n, int dim, int64_t pq_min_listings) {
  // ~4·sqrt(n) lists, a power of two, but at least 39 training points per list (FAISS's
  // k-means minimum) for small catalogs.
  const double target = 4.0 * std::sqrt(static_cast<double>(std::max<int64_t>(n, 1)));
  int64_t nlist = int64_t{1} << static_cast<int>(std::lround(std::log2(target)));
  while (nlist > 1 && nlist * 39 > n) nlist /= 2;
  std::vector<std::string> out = {absl::StrCat("IVF", nlist, ",Flat"), "HNSW32,Flat"};
  if (n >= pq_min_listings && dim % 2 == 0) {
    out.push_back(absl::StrCat("IVF", nlist, ",PQ", dim / 2, ",RFlat"));
  }
  return out;
}

std::string ScaleFactoryToSample(const std::string& factory, int64_t n_full, int64_t n_sample) {
  static const std::regex kIvf("^IVF([0-9]+)");
  std::smatch m;
  if (n_full <= 0 || n_sample >= n_full || !std::regex_search(factory, m, kIvf)) return factory;
  const int64_t nlist = std::stoll(m[1].str());
  const int64_t scaled = std::max<int64_t>(16, nlist * n_sample / n_full);
  return absl::StrCat("IVF", scaled, m.suffix().str());
}

std::vector<int64_t> ExactNeighbors(const float* vectors, int64_t n, int dim,
                                    const FloatMatrix& queries, int k) {
  std::vector<float> dist(queries.rows * k);
  std::vector<int64_t> rows(queries.rows * k);
  faiss::knn_inner_product(queries.data.data(), vectors, dim, queries.rows, n, k, dist.data(),
                           rows.data());
  return rows;
}

absl::StatusOr<TunedIndex> TuneSearchParameter(faiss::Index* index, const FloatMatrix& queries,
                                               const std::vector<int64_t>& truth, int k,
                                               double target, int start) {
  if (queries.rows == 0) return absl::InvalidArgumentError("no tuning queries");
  if (truth.size() != static_cast<size_t>(queries.rows * k)) {
    return absl::InvalidArgumentError("ground truth does not have queries × k rows");
  }
  TunedIndex out;
  out.listings = index->ntotal;
  const Knob knob = FindKnob(index, k);
  try {
    if (knob.ivf == nullptr && knob.hnsw == nullptr) {  // exact or unknown: nothing to tune
      out.recall = Recall(*index, queries, truth, k);
      out.reached = out.recall >= target;
      MeasureLatency(*index, queries, k, &out);
      return out;
    }
    out.parameter = knob.name;
    auto recall_at = [&](int v) {
      knob.Set(v);
      return Recall(*index, queries, truth, k);
    };
    // Double from the start until the target is reached (or the parameter's ceiling) ...
    int fail = knob.lo - 1, v = std::clamp(start > 0 ? start : knob.lo, knob.lo, knob.hi);
    double r = recall_at(v);
    if (r >= target) {
      // ... or, when the start already reaches it, halve down to the first value that fails.
      while (v > knob.lo) {
        const int lower = std::max(knob.lo, v / 2);
        const double rl = recall_at(lower);
        if (rl < target) {
          fail = lower;
          break;
        }
        v = lower;
        r = rl;
      }
    } else {
      while (r < target && v < knob.hi) {
        fail = v;
        v = std::min(knob.hi, v * 2);
        r = recall_at(v);
      }
    }
    out.reached = r >= target;
    // Bisect (fail, v] to within ~6% of v: recall is monotone in both parameters.
    while (out.reached && v - fail > std::max(1, v / 16)) {
      const int mid = fail + (v - fail) / 2;
      const double rm = recall_at(mid);
      if (rm >= target) {
        v = mid;
        r = rm;
      } else {
        fail = mid;
      }
    }
    knob.Set(v);
    out.value = v;
    out.recall = r;
    MeasureLatency(*index, queries, k, &out);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("faiss search while tuning: ", e.what()));
  }
  return out;
}

absl::StatusOr<TunedIndex> MeasureSearchParameter(faiss::Index* index, const FloatMatrix& queries,
                                                  const std::vector<int64_t>& truth, int k,
                                                  int value) {
  if (truth.size() != static_cast<size_t>(queries.rows * k)) {
    return absl::InvalidArgumentError("ground truth does not have queries × k rows");
  }
  TunedIndex out;
  out.listings = index->ntotal;
  const Knob knob = FindKnob(index, k);
  out.parameter = knob.name;
  try {
    if (knob.ivf != nullptr || knob.hnsw != nullptr) {
      out.value = std::clamp(value, knob.lo, knob.hi);
      knob.Set(out.value);
    }
    out.recall = Recall(*index, queries, truth, k);
    MeasureLatency(*index, queries, k, &out);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("faiss search: ", e.what()));
  }
  return out;
}

absl::StatusOr<IndexChoice> ChooseIndex(const float* vectors, int64_t n, int dim,
                                        const FloatMatrix& queries, const TunerOptions& o) {
  if (n <= 0 || queries.rows == 0) {
    return absl::InvalidArgumentError("ChooseIndex needs vectors and tuning queries");
  }
  if (queries.cols != dim) {
    return absl::InvalidArgumentError(absl::StrCat("queries have ", queries.cols,
                                                   " dimensions, vectors ", dim));
  }
  const int64_t s = std::min(n, std::max<int64_t>(o.sample_size, 1));
  std::vector<float> sample(static_cast<size_t>(s) * dim);
  for (int64_t i = 0; i < s; ++i) {
    const float* src = vectors + (i * n / s) * dim;
    std::copy(src, src + dim, sample.data() + i * dim);
  }
  std::vector<uint64_t> ids(s);
  std::iota(ids.begin(), ids.end(), 0);
  const int k = static_cast<int>(std::min<int64_t>(o.k, s));
  const std::vector<int64_t> truth = ExactNeighbors(sample.data(), s, dim, queries, k);

  IndexChoice choice;
  std::vector<std::string> families =
      o.factories.empty() ? CandidateFactories(n, dim, o.pq_min_listings) : o.factories;
  for (const std::string& family : families) {
    const std::string factory = ScaleFactoryToSample(family, n, s);
    const SteadyTime t0 = std::chrono::steady_clock::now();
    IndexBuildOptions bo = o.build;
    bo.progress = nullptr;
    absl::StatusOr<std::unique_ptr<faiss::Index>> built =
        BuildFaissIndex(factory, dim, sample.data(), ids, bo);
    if (!built.ok()) return built.status();
    const double build_s = SecondsSince(t0);
    faiss::Index* inner = static_cast<faiss::IndexIDMap2*>(built->get())->index;
    absl::StatusOr<TunedIndex> tuned = TuneSearchParameter(inner, queries, truth, k, o.target_recall);
    if (!tuned.ok()) return tuned.status();
    tuned->factory = factory;
    tuned->build_s = build_s;
    // IVF at the full size keeps the listings per list, so a probe scans as many vectors; an
    // HNSW walk grows with the graph's depth.
    const bool graph = tuned->parameter == "efSearch";
    tuned->estimated_full_p50_ms =
        tuned->p50_ms * (graph && s > 1 && n > s ? std::log(n) / std::log(s) : 1.0);
    choice.sample_results.push_back(*tuned);
  }
  std::vector<size_t> order(families.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const TunedIndex& x = choice.sample_results[a];
    const TunedIndex& y = choice.sample_results[b];
    if (x.reached != y.reached) return x.reached;
    return x.reached ? x.estimated_full_p50_ms < y.estimated_full_p50_ms : x.recall > y.recall;
  });
  for (size_t i : order) {
    choice.ranked_factories.push_back(families[i]);
    choice.start_values.push_back(choice.sample_results[i].value);
  }
  return choice;
}

}  // namespace marketsearch
