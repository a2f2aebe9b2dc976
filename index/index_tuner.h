// Choosing and tuning the ANN index for the vectors it will serve (build_index --factory=auto).
//
// Synthetic benchmarks are a poor guide for real embeddings (at 1M listings the listing tower's
// vectors needed efSearch > 1024 for HNSW to reach Recall@100 0.95, where clustered synthetic
// vectors needed 128), so the choice is measured on the data itself:
//   1. ChooseIndex: on an even-stride sample (default 100k) of the vectors, each candidate
//      family (IVF-Flat, HNSW-Flat, and IVF-PQ with exact re-ranking for large catalogs) is
//      built at the sample's size (IVF lists scaled to keep the listings per list of the full
//      build) and its search parameter (nprobe / efSearch) raised until Recall@k on the tuning
//      queries reaches the target; the families that reach it are ranked by single-query
//      latency (HNSW's scaled by log n / log sample, its walk length growing with the graph).
//   2. The caller builds the winner at full size and calls TuneSearchParameter again there,
//      on the same tuning queries against exact search over all vectors (the sample's value
//      is a starting point, not the answer: recall at a given nprobe/efSearch falls as the
//      catalog grows), falling back to the next family if it cannot reach the target.
//   3. The caller gates on a disjoint set of queries, so the published recall is not the
//      figure the parameter was fitted to.
//
// Everything here runs queries one at a time on the calling thread (omp_set_num_threads(1) is
// the caller's job, as in serving); builds and ground truth use OpenMP as set by the caller.
#ifndef MARKETSEARCH_INDEX_INDEX_TUNER_H_
#define MARKETSEARCH_INDEX_INDEX_TUNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/float_matrix.h"
#include "index/index_writer.h"

namespace faiss {
struct Index;
}

namespace marketsearch {

struct TunerOptions {
  int k = 100;                   // Recall@k
  double target_recall = 0.97;   // tuned to this (above the gate, with room for the gate queries)
  int64_t sample_size = 100000;  // vectors in the sample the families are compared on
  // Families compared; empty = CandidateFactories(n, dim, pq_min_listings).
  std::vector<std::string> factories;
  int64_t pq_min_listings = 5000000;  // IVF-PQ + exact re-rank is a candidate from this size
  IndexBuildOptions build;            // efConstruction, k-means sample, refine k_factor
};

// One family measured at one size with its parameter tuned.
struct TunedIndex {
  std::string factory;     // as built at this size (IVF lists scaled for a sample)
  std::string parameter;   // "nprobe" or "efSearch"; empty for an exact index
  int value = 0;           // the smallest value reaching the target, else the largest tried
  bool reached = false;    // recall >= target at `value`
  double recall = 0;       // Recall@k on the tuning queries at `value`
  double p50_ms = 0, p99_ms = 0;  // single-query latency at `value`, one thread
  double build_s = 0;      // train + add at this size
  int64_t listings = 0;
  double estimated_full_p50_ms = 0;  // p50 extrapolated to the full catalog (ranking key)
};

struct IndexChoice {
  std::vector<TunedIndex> sample_results;  // every family, in the order tried
  // Families to build at full size, best first: those that reached the target ranked by
  // estimated latency, then the others by recall. Factory strings are for the full size.
  std::vector<std::string> ranked_factories;
  std::vector<int> start_values;  // the sample's tuned value for each ranked factory
};

// The families compared for `n` vectors: IVF<nlist>,Flat (nlist ~ 4·sqrt(n), a power of two,
// at least 16), HNSW32,Flat, and IVF<nlist>,PQ<dim/2>,RFlat from pq_min_listings.
std::vector<std::string> CandidateFactories(int64_t n, int dim, int64_t pq_min_listings);

// `factory` with its IVF list count scaled from n_full to n_sample vectors (same listings per
// list; at least 16 lists); other factories unchanged.
std::string ScaleFactoryToSample(const std::string& factory, int64_t n_full, int64_t n_sample);

// Exact top-k rows (inner product) of `vectors` (n × dim) for each query: the ground truth.
std::vector<int64_t> ExactNeighbors(const float* vectors, int64_t n, int dim,
                                    const FloatMatrix& queries, int k);

// Raises `index`'s search parameter (IVF nprobe, HNSW efSearch; the index's own field, so
// the index must not serve concurrently) from `start` (0 = the smallest) until Recall@k against
// `truth` (queries.rows × k internal row numbers) reaches `target`, bisecting back to the
// smallest value that does; then measures latency there. `index` is the inner index of an
// IndexIDMap2 (labels are internal row numbers). The parameter is left at the result's value.
absl::StatusOr<TunedIndex> TuneSearchParameter(faiss::Index* index, const FloatMatrix& queries,
                                               const std::vector<int64_t>& truth, int k,
                                               double target, int start = 0);

// Recall@k and single-query latency of `index` with its parameter set to `value` (no search
// for a better value; for an index without a parameter `value` is ignored). For gate checks.
absl::StatusOr<TunedIndex> MeasureSearchParameter(faiss::Index* index, const FloatMatrix& queries,
                                                  const std::vector<int64_t>& truth, int k,
                                                  int value);

// Step 1 above. `vectors` is n × dim, `queries` the tuning queries. Errors: InvalidArgument
// (no vectors or queries, bad factory), Internal (FAISS).
absl::StatusOr<IndexChoice> ChooseIndex(const float* vectors, int64_t n, int dim,
                                        const FloatMatrix& queries, const TunerOptions& options);

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_INDEX_TUNER_H_
