// IndexSnapshot: one loaded, immutable, published index version (var/index/<v>/).
// Load() verifies the manifest and file checksums; search parameters that FAISS keeps in
// the index (HNSW efSearch) are set once at load and never mutated under traffic.
//
// Filtered search: a version built with attributes.bin (see index/listing_filter.h) can
// answer Search() with a ListingFilter. The filter runs inside FAISS (an IDSelector over
// the index's internal row ids) or, when few listings match, as an exact scan over just the
// matching listings; either way the result has min(k, #matching listings) entries.
//
// Thread safety: Search() may be called concurrently; the snapshot is never modified after
// Load(). Callers share it through std::shared_ptr so a request keeps its version alive.
// FAISS parallelises with OpenMP: serving threads should run with omp_set_num_threads(1).
#ifndef MARKETSEARCH_INDEX_INDEX_SNAPSHOT_H_
#define MARKETSEARCH_INDEX_INDEX_SNAPSHOT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "index/listing_filter.h"
#include "proto/manifest.pb.h"

namespace faiss {
struct Index;
struct IndexIVFFlat;
struct IndexRefine;
}  // namespace faiss

namespace marketsearch {

struct Neighbor {
  uint64_t listing_id;
  float score;  // inner product, higher is more similar
};

// How a filtered search finds its matches.
enum class FilterMode {
  kAuto,   // exact scan when the filter is selective (thresholds below), else kAnn
  kAnn,    // FAISS search with an IDSelector; exact scan if it returns fewer than k
  kExact,  // exact scan over the matching listings only
};

struct SearchOptions {
  // IVF indexes only: lists probed for this request (0 = the index's default, set at build).
  int nprobe = 0;
  // Not owned; must outlive the call. Null or empty() = no filter.
  const ListingFilter* filter = nullptr;
  FilterMode filter_mode = FilterMode::kAuto;
  // kAuto runs the exact scan when it is affordable: the cheapest access path (the filter's
  // categories, conditions, price range or latitude band, else all rows) leaves at most
  // exact_max_candidates rows to test and at most exact_max_matches of them are estimated
  // to match (each is scored) — or when so few match (<= 4k) that FAISS cannot find k.
  // Otherwise kAnn. The exact scan costs ~10-20 ns per tested row plus ~60-90 ns per scored
  // row at 1M (~3-6 ms at these bounds). The bounds are set by recall, not only cost: on the
  // real listing embeddings at 1M (bench/index_bench --served_index_dir, index/README.md) a
  // filtered IVF search missed up to 17% of the filtered top-100 for filters of 2-5% of the
  // catalog that are unrelated to the query (their matches sit in lists far from it), while
  // from ~10% up it kept Recall@100 >= 0.96; a bound of 20k matches left the 2-5% buckets at
  // 0.94-0.95, 60k lifts them to the exact scan.
  int64_t exact_max_candidates = 100000;
  int64_t exact_max_matches = 60000;
  // kAnn over-fetches so that a selector rejecting most listings still leaves k good ones:
  // the k best matches are about the want = k * ann_overfetch / selectivity best listings.
  //   HNSW: FAISS is asked for min(want, max_filtered_ann_k) results (its candidate list
  //         grows to that); measured at 1M: 400 keeps p50 ~1.3 ms, 2000 costs 7-14 ms.
  //   IVF:  nprobe * min(sqrt(want / k), max_filtered_nprobe_factor) lists are probed.
  double ann_overfetch = 1.5;
  int max_filtered_ann_k = 400;
  double max_filtered_nprobe_factor = 6;
  // IVF: when the filtered ANN finds fewer than k matches and the exact scan would test more
  // than exact_max_candidates rows, one more ANN over this many times the lists comes first.
  double widen_nprobe_factor = 4;
};

// What one Search() did (for metrics and tests).
struct SearchStats {
  // kAnnWidened: the filtered ANN found fewer than k, a second one over more IVF lists did.
  enum class Path { kUnfiltered, kAnnFiltered, kExact, kAnnThenExact, kAnnWidened };
  enum class Access { kAll, kCategory, kCondition, kPrice, kLatitude };
  Path path = Path::kUnfiltered;
  Access access = Access::kAll;        // rows the exact scan / the estimate draw from
  int64_t candidate_rows = 0;          // rows of that access path
  double estimated_selectivity = 1.0;  // share of all listings estimated to match
  int64_t ann_k = 0;                   // matches asked from FAISS (filtered ANN)
  int nprobe = 0;                      // IVF lists probed by the filtered ANN (0 = default)
  int64_t rows_scanned = 0;            // exact scan: rows whose attributes were tested
};

class IndexSnapshot {
 public:
  // Loads <dir> (a version directory). Errors: NotFound, DataLoss (checksum, attribute table
  // not matching the index), Internal.
  static absl::StatusOr<std::shared_ptr<const IndexSnapshot>> Load(const std::string& dir);

  // Builds a snapshot from in-memory parts (tests, benchmarks). `index` must be a
  // faiss::IndexIDMap2 owning its sub-index; `attributes` may be null (no filtered search)
  // or must list the index's ids in its internal order. manifest.hnsw_ef_search (> 0) is
  // applied to an HNSW index here, as in Load().
  static absl::StatusOr<std::shared_ptr<const IndexSnapshot>> Create(
      std::unique_ptr<faiss::Index> index, IndexManifest manifest,
      std::unique_ptr<ListingAttributeTable> attributes);
  ~IndexSnapshot();

  // Top-k neighbours of one query vector (length dim()), best first. nprobe applies to IVF
  // indexes and is passed per call (0 = index default).
  absl::StatusOr<std::vector<Neighbor>> Search(const float* query, int k, int nprobe = 0) const;

  // Top-k neighbours among the listings that pass options.filter, best first. Returns
  // min(k, number of matching listings) neighbours (fewer only when the index itself is
  // approximate in the unfiltered case). Errors: FailedPrecondition when a non-empty filter
  // is given and this version has no attribute table (built before attributes.bin existed);
  // Internal when FAISS fails.
  absl::StatusOr<std::vector<Neighbor>> Search(const float* query, int k,
                                               const SearchOptions& options,
                                               SearchStats* stats = nullptr) const;

  // Copies the stored embedding of `listing_id` into out[0..dim) (flat-storage indexes:
  // exact; PQ indexes: the decoded approximation). NotFound for an id not in the index.
  absl::Status Reconstruct(uint64_t listing_id, float* out) const;
  // Hints the cache to load what Reconstruct(listing_id) reads first (a caller reconstructing
  // many scattered ids calls it a few ids ahead).
  void PrefetchReconstruct(uint64_t listing_id) const { row_of_id_.prefetch(listing_id); }

  // Number of listings that pass `filter` (a full pass over the attribute table; for tests
  // and benchmarks, not for the request path). 0 when there is no attribute table.
  int64_t CountMatches(const ListingFilter& filter) const;

  const IndexManifest& manifest() const { return manifest_; }
  int64_t version() const { return manifest_.version(); }
  int dim() const { return manifest_.dim(); }
  int64_t size() const;
  bool has_attributes() const { return attributes_ != nullptr; }
  // Null when the version has no attribute table.
  const ListingAttributeTable* attributes() const { return attributes_.get(); }
  // True when the exact scan reads the vectors the index stores at full precision.
  bool exact_vectors() const { return flat_base_ != nullptr || !row_ptrs_.empty(); }

 private:
  IndexSnapshot() = default;
  absl::Status Init();
  void BuildOrderedPaths();
  // ANN over the index with an optional selector (faiss::IDSelector*, may be null).
  // `k` results are kept; `fetch` (>= k) are asked from FAISS.
  absl::Status AnnSearch(const float* query, int k, int64_t fetch, int nprobe,
                         const void* selector, std::vector<Neighbor>* out) const;
  // The rows a filter can match, as spans of the cheapest access path (all rows when
  // `all` is set).
  struct Candidates {
    bool all = true;
    std::vector<std::pair<const uint32_t*, size_t>> spans;
    int64_t count = 0;
    SearchStats::Access access = SearchStats::Access::kAll;
  };
  Candidates Plan(const ListingFilter& filter) const;
  // Exact top-k over the candidate rows that pass `filter`.
  void ExactScan(const float* query, int k, const ListingFilter& filter, const Candidates& c,
                 std::vector<Neighbor>* out, int64_t* rows_scanned) const;
  // The stored full-precision vector of internal row `row`, or null (compressed storage).
  const float* RowVector(int64_t row) const;
  // Inner product of `query` with the stored vector of internal row `row`.
  float RowScore(const float* query, int64_t row, float* scratch) const;

  std::unique_ptr<faiss::Index> index_;  // an IndexIDMap2
  const faiss::Index* inner_ = nullptr;  // the IDMap2's sub-index
  const faiss::Index* ann_ = nullptr;    // what is searched: inner_, or a refine's base index
  const faiss::IndexRefine* refine_ = nullptr;
  // ann_ as an IndexIVFFlat the project's own scan searches (internal/ivf_flat_scan.h), else
  // null (FAISS searches ann_).
  const faiss::IndexIVFFlat* ivf_flat_ = nullptr;
  float refine_k_factor_ = 1;
  const int64_t* id_map_ = nullptr;  // internal row -> listing id
  // listing id -> internal row, for Reconstruct (the ranker's embeddings, ~200 per request):
  // one probe of an open-addressing table instead of FAISS's node-based rev_map (~18 MB at 1M).
  absl::flat_hash_map<uint64_t, int64_t> row_of_id_;
  // Exact vectors by internal row: contiguous (flat storage) or per-row pointers (IVF-Flat);
  // neither for compressed storage (decoded through reconstruct()).
  const float* flat_base_ = nullptr;
  std::vector<const float*> row_ptrs_;
  std::unique_ptr<ListingAttributeTable> attributes_;
  // Access paths over the attribute table (4 bytes per listing each): rows by category and
  // by condition (ascending), rows ordered by price and rows with a location by latitude.
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> category_rows_;
  absl::flat_hash_map<int32_t, std::vector<uint32_t>> condition_rows_;
  std::vector<uint32_t> rows_by_price_;  // empty when a price is NaN
  std::vector<uint32_t> rows_by_lat_;    // empty when a latitude is NaN
  // The position of each row of rows_by_lat_ as a float unit vector, in that order (12 bytes
  // per listing): a geo scan over a latitude band decides most rows with one dot product over
  // memory it reads in order (ListingFilter::GeoPreTest), instead of a haversine on each
  // row's attributes, scattered over memory (a cache miss each). A geo scan at 1M listings
  // took ~18 ms that way (Berlin, 50 km: 88k rows in the band, 50k matches).
  std::vector<std::array<float, 3>> xyz_by_lat_;
  IndexManifest manifest_;
};

absl::StatusOr<IndexManifest> ReadIndexManifest(const std::string& dir);

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_INDEX_SNAPSHOT_H_
