#include "index/index_snapshot.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>
#include <queue>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "google/protobuf/text_format.h"
#include "index/internal/dot_product.h"
#include "index/internal/ivf_flat_scan.h"
#include "index/internal/vector_scores.h"

namespace marketsearch {
namespace {

using idx_t = faiss::Index::idx_t;

// The filter as FAISS sees it. FAISS 1.7.3 calls is_member() with the *internal* row ids of
// the index it runs in (IndexIDMap2::search refuses SearchParameters altogether, see
// index_snapshot_test FaissBehaviour), so the snapshot searches the IDMap2's sub-index and
// the selector indexes the attribute table, which is stored in internal row order.
struct FilterSelector final : faiss::IDSelector {
  FilterSelector(const ListingAttributeTable& t, const ListingFilter& f) : table(t), filter(f) {}
  bool is_member(idx_t row) const override {
    return row >= 0 && row < table.size() && filter.Matches(table.row(row));
  }
  const ListingAttributeTable& table;
  const ListingFilter& filter;
};

// Best-first order with a deterministic tie-break.
bool Better(const Neighbor& a, const Neighbor& b) {
  return a.score != b.score ? a.score > b.score : a.listing_id < b.listing_id;
}

}  // namespace

IndexSnapshot::~IndexSnapshot() = default;

absl::StatusOr<IndexManifest> ReadIndexManifest(const std::string& dir) {
  auto text = ReadFile(dir + "/MANIFEST");
  if (absl::IsNotFound(text.status())) {
    return absl::NotFoundError(absl::StrCat("no MANIFEST in ", dir));
  }
  if (!text.ok()) return text.status();  // an I/O error, naming the operation and the file
  IndexManifest m;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &m)) {
    return absl::DataLossError(absl::StrCat("unparsable MANIFEST in ", dir));
  }
  return m;
}

absl::StatusOr<std::shared_ptr<const IndexSnapshot>> IndexSnapshot::Load(const std::string& dir) {
  auto manifest = ReadIndexManifest(dir);
  if (!manifest.ok()) return manifest.status();
  bool has_attributes = false;
  for (const FileChecksum& f : manifest->files()) {
    auto sum = Sha256File(dir + "/" + f.name());
    if (!sum.ok()) return sum.status();
    if (*sum != f.sha256()) {
      return absl::DataLossError(absl::StrCat("index v", manifest->version(),
                                              ": checksum mismatch for ", f.name()));
    }
    has_attributes |= f.name() == "attributes.bin";
  }
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index((dir + "/index.faiss").c_str()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot read index in ", dir, ": ", e.what()));
  }
  std::unique_ptr<ListingAttributeTable> attributes;
  if (has_attributes) {
    auto t = ListingAttributeTable::Load(dir + "/attributes.bin");
    if (!t.ok()) return t.status();
    attributes = std::make_unique<ListingAttributeTable>(*std::move(t));
  }
  return Create(std::move(index), *std::move(manifest), std::move(attributes));
}

absl::StatusOr<std::shared_ptr<const IndexSnapshot>> IndexSnapshot::Create(
    std::unique_ptr<faiss::Index> index, IndexManifest manifest,
    std::unique_ptr<ListingAttributeTable> attributes) {
  std::shared_ptr<IndexSnapshot> snap(new IndexSnapshot());
  snap->index_ = std::move(index);
  snap->manifest_ = std::move(manifest);
  snap->attributes_ = std::move(attributes);
  absl::Status s = snap->Init();
  if (!s.ok()) return s;
  return std::shared_ptr<const IndexSnapshot>(std::move(snap));
}

absl::Status IndexSnapshot::Init() {
  auto* idmap = dynamic_cast<faiss::IndexIDMap2*>(index_.get());
  if (idmap == nullptr || idmap->index == nullptr) {
    return absl::DataLossError(absl::StrCat("index v", version(), " is not an IndexIDMap2"));
  }
  if (index_->d != manifest_.dim()) {
    return absl::DataLossError(absl::StrCat("index dim ", index_->d, " != manifest dim ",
                                            manifest_.dim()));
  }
  faiss::Index* inner = idmap->index;
  inner_ = inner;
  ann_ = inner;
  id_map_ = idmap->id_map.data();
  row_of_id_.reserve(idmap->id_map.size());
  for (size_t r = 0; r < idmap->id_map.size(); ++r) {
    row_of_id_.emplace(static_cast<uint64_t>(idmap->id_map[r]), static_cast<int64_t>(r));
  }
  // efSearch lives in the index (FAISS 1.7.3 ignores it in SearchParameters): set it once.
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(inner)) {
    if (manifest_.hnsw_ef_search() > 0) hnsw->hnsw.efSearch = manifest_.hnsw_ef_search();
  }
  faiss::Index* storage_owner = inner;
  if (auto* refine = dynamic_cast<faiss::IndexRefine*>(inner)) {
    // IndexRefine::search refuses SearchParameters in 1.7.3: search its base index with the
    // per-request parameters and re-rank here against the refine index's exact vectors.
    refine_ = refine;
    refine_k_factor_ = std::max(1.0f, refine->k_factor);
    ann_ = refine->base_index;
    storage_owner = refine->refine_index;
  }
  ivf_flat_ = internal::AsScannableIvfFlat(ann_);
  // Exact vectors by internal row, for re-ranking and the exact filtered scan.
  if (auto* flat = dynamic_cast<faiss::IndexFlat*>(storage_owner)) {
    flat_base_ = flat->get_xb();
  } else if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(storage_owner)) {
    if (auto* flat_storage = dynamic_cast<faiss::IndexFlat*>(hnsw->storage)) {
      flat_base_ = flat_storage->get_xb();
    }
  } else if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(storage_owner)) {
    auto* array_lists = dynamic_cast<faiss::ArrayInvertedLists*>(ivf->invlists);
    if (dynamic_cast<faiss::IndexIVFFlat*>(ivf) != nullptr && array_lists != nullptr) {
      // IVF-Flat codes are the raw vectors: point into the inverted lists (no copy).
      row_ptrs_.assign(static_cast<size_t>(ivf->ntotal), nullptr);
      for (size_t l = 0; l < ivf->nlist; ++l) {
        const idx_t* ids = array_lists->get_ids(l);
        const uint8_t* codes = array_lists->get_codes(l);
        for (size_t j = 0; j < array_lists->list_size(l); ++j) {
          if (ids[j] < 0 || ids[j] >= ivf->ntotal) {
            return absl::DataLossError(absl::StrCat("index v", version(), ": bad IVF row id"));
          }
          row_ptrs_[ids[j]] = reinterpret_cast<const float*>(codes + j * ivf->code_size);
        }
      }
      for (const float* p : row_ptrs_) {
        if (p == nullptr) {
          return absl::DataLossError(absl::StrCat("index v", version(), ": IVF lists miss a row"));
        }
      }
    } else {
      try {
        ivf->make_direct_map(true);  // reconstruct() of compressed IVF codes needs it
      } catch (const std::exception& e) {
        return absl::InternalError(absl::StrCat("make_direct_map: ", e.what()));
      }
    }
  }
  if (attributes_ != nullptr) {
    if (attributes_->size() != index_->ntotal) {
      return absl::DataLossError(absl::StrCat("index v", version(), ": attribute table has ",
                                              attributes_->size(), " rows, index ",
                                              index_->ntotal));
    }
    for (int64_t r = 0; r < attributes_->size(); ++r) {
      if (static_cast<int64_t>(attributes_->listing_id(r)) != id_map_[r]) {
        return absl::DataLossError(absl::StrCat("index v", version(),
                                                ": attribute table row ", r,
                                                " is not the index's row ", r));
      }
      const ListingAttributes& a = attributes_->row(r);
      category_rows_[a.category_fp].push_back(static_cast<uint32_t>(r));
      condition_rows_[a.condition].push_back(static_cast<uint32_t>(r));
    }
    BuildOrderedPaths();
  }
  return absl::OkStatus();
}

void IndexSnapshot::BuildOrderedPaths() {
  const int64_t n = attributes_->size();
  bool price_ok = true, lat_ok = true;
  rows_by_price_.reserve(n);
  for (int64_t r = 0; r < n; ++r) {
    const ListingAttributes& a = attributes_->row(r);
    price_ok &= !std::isnan(a.price);
    if (a.has_location) {
      lat_ok &= !std::isnan(a.lat);
      rows_by_lat_.push_back(static_cast<uint32_t>(r));
    }
    rows_by_price_.push_back(static_cast<uint32_t>(r));
  }
  // NaN breaks the ordering (and a NaN price passes every price bound in Matches()): such a
  // table simply has no price / latitude path.
  if (price_ok) {
    std::sort(rows_by_price_.begin(), rows_by_price_.end(), [this](uint32_t x, uint32_t y) {
      return attributes_->row(x).price < attributes_->row(y).price;
    });
  } else {
    std::vector<uint32_t>().swap(rows_by_price_);
  }
  if (lat_ok) {
    std::sort(rows_by_lat_.begin(), rows_by_lat_.end(), [this](uint32_t x, uint32_t y) {
      return attributes_->row(x).lat < attributes_->row(y).lat;
    });
    xyz_by_lat_.reserve(rows_by_lat_.size());
    for (uint32_t r : rows_by_lat_) {
      xyz_by_lat_.push_back(ListingFilter::UnitVector(attributes_->row(r).lat, attributes_->row(r).lon));
    }
  } else {
    std::vector<uint32_t>().swap(rows_by_lat_);
  }
}

int64_t IndexSnapshot::size() const { return index_->ntotal; }

int64_t IndexSnapshot::CountMatches(const ListingFilter& filter) const {
  if (attributes_ == nullptr) return 0;
  int64_t n = 0;
  for (int64_t r = 0; r < attributes_->size(); ++r) n += filter.Matches(attributes_->row(r));
  return n;
}

absl::Status IndexSnapshot::Reconstruct(uint64_t listing_id, float* out) const {
  auto it = row_of_id_.find(listing_id);
  if (it == row_of_id_.end()) {
    return absl::NotFoundError(absl::StrCat("listing ", listing_id, " not in index v", version()));
  }
  const int64_t row = it->second;
  const float* v = flat_base_ ? flat_base_ + row * dim() : row_ptrs_.empty() ? nullptr : row_ptrs_[row];
  if (v != nullptr) {
    std::copy(v, v + dim(), out);
    return absl::OkStatus();
  }
  try {
    inner_->reconstruct(row, out);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("reconstruct: ", e.what()));
  }
  return absl::OkStatus();
}

const float* IndexSnapshot::RowVector(int64_t row) const {
  if (flat_base_ != nullptr) return flat_base_ + row * dim();
  if (!row_ptrs_.empty()) return row_ptrs_[row];
  return nullptr;
}

float IndexSnapshot::RowScore(const float* query, int64_t row, float* scratch) const {
  const float* v = RowVector(row);
  if (v == nullptr) {
    inner_->reconstruct(row, scratch);
    v = scratch;
  }
  return internal::DotProduct(query, v, dim());
}

absl::Status IndexSnapshot::AnnSearch(const float* query, int k, int64_t fetch, int nprobe,
                                      const void* selector, std::vector<Neighbor>* out) const {
  out->clear();
  auto* sel = static_cast<const faiss::IDSelector*>(selector);
  // With a refine wrapper, FAISS candidates come from the compressed base index and are
  // re-ranked with exact inner products.
  fetch = std::min<int64_t>(refine_ ? static_cast<int64_t>(fetch * refine_k_factor_ + 0.5f) : fetch,
                            ann_->ntotal);
  if (fetch <= 0) return absl::OkStatus();
  std::vector<float> dist(fetch);
  std::vector<idx_t> rows(fetch);
  try {
    if (ivf_flat_ != nullptr) {
      // FAISS's centroids, lists and selector, with vectorised inner products (see
      // internal/ivf_flat_scan.h).
      internal::IvfFlatSearch(*ivf_flat_, query, fetch,
                              nprobe > 0 ? static_cast<size_t>(nprobe) : ivf_flat_->nprobe,
                              ivf_flat_->max_codes, sel, dist.data(), rows.data());
    } else {
      faiss::SearchParametersIVF ivf_params;
      faiss::SearchParametersHNSW hnsw_params;
      faiss::SearchParameters plain_params;
      const faiss::SearchParameters* params = nullptr;
      if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(ann_)) {
        ivf_params.nprobe = nprobe > 0 ? static_cast<size_t>(nprobe) : ivf->nprobe;
        ivf_params.max_codes = ivf->max_codes;
        ivf_params.sel = const_cast<faiss::IDSelector*>(sel);
        params = &ivf_params;
      } else if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(ann_)) {
        if (sel != nullptr) {
          // IndexHNSW rejects any other SearchParameters type. In 1.7.3 the candidate list
          // holds max(index efSearch, fetch) nodes, while the parameter's efSearch is the
          // early-stop bound of the level-0 walk: raise it with fetch, or a deep filtered
          // search stops after efSearch nodes (index_snapshot_test HnswEfSearchParameter).
          hnsw_params.efSearch = static_cast<int>(std::max<int64_t>(hnsw->hnsw.efSearch, fetch));
          hnsw_params.sel = const_cast<faiss::IDSelector*>(sel);
          params = &hnsw_params;
        }
      } else if (sel != nullptr) {
        plain_params.sel = const_cast<faiss::IDSelector*>(sel);
        params = &plain_params;
      }
      ann_->search(1, query, fetch, dist.data(), rows.data(), params);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("faiss search failed: ", e.what()));
  }
  out->reserve(fetch);
  if (refine_ != nullptr) {
    std::vector<float> scratch(dim());
    for (int64_t i = 0; i < fetch; ++i) {
      if (rows[i] < 0) continue;
      out->push_back({static_cast<uint64_t>(id_map_[rows[i]]), RowScore(query, rows[i], scratch.data())});
    }
    std::sort(out->begin(), out->end(), Better);
    if (static_cast<int>(out->size()) > k) out->resize(k);
    return absl::OkStatus();
  }
  for (int64_t i = 0; i < fetch && static_cast<int>(out->size()) < k; ++i) {
    if (rows[i] < 0) continue;
    out->push_back({static_cast<uint64_t>(id_map_[rows[i]]), dist[i]});
  }
  return absl::OkStatus();
}

IndexSnapshot::Candidates IndexSnapshot::Plan(const ListingFilter& f) const {
  Candidates best;
  best.count = attributes_->size();
  auto consider = [&](Candidates c) {
    if (c.count < best.count) best = std::move(c);
  };
  // A keyed path: the rows of each key the filter names (category any-of, condition any-of).
  auto keyed = [&](const auto& keys, const auto& rows_by_key, SearchStats::Access access) {
    if (keys.empty()) return;
    Candidates c;
    c.all = false;
    c.access = access;
    c.count = 0;
    for (const auto& key : keys) {
      auto it = rows_by_key.find(key);
      if (it == rows_by_key.end()) continue;
      c.spans.emplace_back(it->second.data(), it->second.size());
      c.count += static_cast<int64_t>(it->second.size());
    }
    consider(std::move(c));
  };
  keyed(f.category_fps(), category_rows_, SearchStats::Access::kCategory);
  keyed(f.conditions(), condition_rows_, SearchStats::Access::kCondition);
  // An ordered path: the rows whose key lies in [lo, hi] (a superset of the matches).
  auto range = [&](const std::vector<uint32_t>& rows, double lo, double hi, bool use_lo,
                   bool use_hi, auto key, SearchStats::Access access) {
    if (rows.empty()) return;
    auto first = rows.begin(), last = rows.end();
    if (use_lo) {
      first = std::lower_bound(rows.begin(), rows.end(), lo,
                               [&](uint32_t r, double v) { return key(r) < v; });
    }
    if (use_hi) {
      last = std::upper_bound(first, rows.end(), hi,
                              [&](double v, uint32_t r) { return v < key(r); });
    }
    Candidates c;
    c.all = false;
    c.access = access;
    c.count = static_cast<int64_t>(last - first);
    if (c.count > 0) c.spans.emplace_back(&*first, static_cast<size_t>(c.count));
    consider(std::move(c));
  };
  const bool use_min = f.min_price() > 0, use_max = f.max_price() > 0;
  if (use_min || use_max) {
    range(rows_by_price_, f.min_price(), f.max_price(), use_min, use_max,
          [this](uint32_t r) { return attributes_->row(r).price; }, SearchStats::Access::kPrice);
  }
  double lat_lo, lat_hi;
  if (f.LatitudeBand(&lat_lo, &lat_hi)) {
    range(rows_by_lat_, lat_lo, lat_hi, true, true,
          [this](uint32_t r) { return attributes_->row(r).lat; }, SearchStats::Access::kLatitude);
  }
  return best;
}

void IndexSnapshot::ExactScan(const float* query, int k, const ListingFilter& filter,
                              const Candidates& c, std::vector<Neighbor>* out,
                              int64_t* rows_scanned) const {
  // Min-heap of the best k (worst on top), by internal row: the listing id (a random access
  // into the 8 MB id map, a cache miss per scored row) is read only to break a score tie and
  // for the k rows kept, the same order as Better() on Neighbors.
  struct RowHit {
    float score;
    int64_t row;
  };
  auto better = [this](const RowHit& a, const RowHit& b) {
    return a.score != b.score ? a.score > b.score : id_map_[a.row] < id_map_[b.row];
  };
  std::priority_queue<RowHit, std::vector<RowHit>, decltype(better)> heap(better);
  std::vector<float> scratch(dim());
  // The category and price paths hold exactly the matches of a filter on that alone.
  const bool need_test = !(filter.categories_only() && c.access == SearchStats::Access::kCategory) &&
                         !(filter.price_only() && c.access == SearchStats::Access::kPrice);
  // Matching rows are scored in batches whose vectors are prefetched first: the rows are
  // scattered over the index, so one cache miss per vector would otherwise dominate.
  constexpr int kBatch = 32;
  int64_t batch[kBatch];
  int nbatch = 0;
  const int vec_bytes = dim() * static_cast<int>(sizeof(float));
  const float* batch_vectors[kBatch];
  float batch_scores[kBatch];
  auto flush = [&]() {
    if (exact_vectors()) {
      internal::ScoreVectors(query, batch_vectors, static_cast<size_t>(nbatch), dim(), batch_scores);
    } else {
      for (int i = 0; i < nbatch; ++i) batch_scores[i] = RowScore(query, batch[i], scratch.data());
    }
    for (int i = 0; i < nbatch; ++i) {
      const RowHit n{batch_scores[i], batch[i]};
      if (static_cast<int>(heap.size()) < k) {
        heap.push(n);
      } else if (better(n, heap.top())) {
        heap.pop();
        heap.push(n);
      }
    }
    nbatch = 0;
  };
  auto score = [&](int64_t row) {
    const float* v = RowVector(row);
    if (v != nullptr) internal::PrefetchVector(v, vec_bytes);
    batch_vectors[nbatch] = v;
    batch[nbatch++] = row;
    if (nbatch == kBatch) flush();
  };
  auto visit = [&](int64_t row) {
    if (need_test && !filter.Matches(attributes_->row(row))) return;
    score(row);
  };
  // The rows of a path are scattered over the attribute table and the per-row vector
  // pointers: prefetch both a few rows ahead so the misses overlap instead of stalling the
  // test and the scoring one row at a time (the vectors themselves are prefetched per batch).
  constexpr size_t kAhead = 16;
  auto prefetch_row = [&](uint32_t row) {
    if (need_test) __builtin_prefetch(&attributes_->row(row));
    if (!row_ptrs_.empty()) __builtin_prefetch(&row_ptrs_[row]);
  };
  if (c.all) {
    for (int64_t r = 0; r < attributes_->size(); ++r) visit(r);
  } else if (c.access == SearchStats::Access::kLatitude && !xyz_by_lat_.empty()) {
    // A row certainly inside the circle of a geo-only filter is a match without its
    // attributes; one certainly outside is skipped; the rest take the full test.
    using Side = ListingFilter::GeoSide;
    const bool geo_only = filter.geo_only();
    for (const auto& [rows, len] : c.spans) {
      const std::array<float, 3>* xyz = xyz_by_lat_.data() + (rows - rows_by_lat_.data());
      for (size_t i = 0; i < len; ++i) {
        if (i + kAhead < len && filter.GeoPreTest(xyz[i + kAhead]) != Side::kOutside) {
          prefetch_row(rows[i + kAhead]);
        }
        const Side side = filter.GeoPreTest(xyz[i]);
        if (side == Side::kOutside) continue;
        if (side == Side::kInside && geo_only) {
          score(rows[i]);
        } else {
          visit(rows[i]);
        }
      }
    }
  } else {
    for (const auto& [rows, len] : c.spans) {
      for (size_t i = 0; i < len; ++i) {
        if (i + kAhead < len) prefetch_row(rows[i + kAhead]);
        visit(rows[i]);
      }
    }
  }
  flush();
  out->clear();
  out->reserve(heap.size());
  while (!heap.empty()) {
    out->push_back({static_cast<uint64_t>(id_map_[heap.top().row]), heap.top().score});
    heap.pop();
  }
  std::reverse(out->begin(), out->end());
  if (rows_scanned) *rows_scanned = c.count;
}

absl::StatusOr<std::vector<Neighbor>> IndexSnapshot::Search(const float* query, int k,
                                                            int nprobe) const {
  SearchOptions o;
  o.nprobe = nprobe;
  return Search(query, k, o);
}

absl::StatusOr<std::vector<Neighbor>> IndexSnapshot::Search(const float* query, int k,
                                                            const SearchOptions& options,
                                                            SearchStats* stats) const {
  SearchStats local;
  SearchStats& st = stats ? *stats : local;
  st = SearchStats();
  std::vector<Neighbor> out;
  if (k <= 0 || index_->ntotal == 0) return out;
  k = static_cast<int>(std::min<int64_t>(k, index_->ntotal));
  const ListingFilter* filter = options.filter;
  if (filter == nullptr || filter->empty()) {
    absl::Status s = AnnSearch(query, k, k, options.nprobe, nullptr, &out);
    if (!s.ok()) return s;
    return out;
  }
  if (attributes_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "index v", version(), " has no attribute table (built without attributes.bin); "
        "filter after retrieval or rebuild the index"));
  }
  const int64_t n = attributes_->size();
  const Candidates cand = Plan(*filter);
  st.access = cand.access;
  st.candidate_rows = cand.count;
  if (cand.count == 0) {
    st.path = SearchStats::Path::kExact;
    st.estimated_selectivity = 0;
    return out;
  }
  // Share of matching listings, from an evenly spaced sample of the candidate rows (at most
  // a few hundred attribute tests, ~10 µs).
  {
    const int64_t samples = std::min<int64_t>(256, cand.count);
    int64_t hits = 0;
    size_t span = 0;
    int64_t base = 0;
    for (int64_t i = 0; i < samples; ++i) {
      const int64_t pos = (i * cand.count) / samples + (cand.count / samples) / 2;
      int64_t row = pos;
      if (!cand.all) {
        while (pos - base >= static_cast<int64_t>(cand.spans[span].second)) {
          base += static_cast<int64_t>(cand.spans[span].second);
          ++span;
        }
        row = cand.spans[span].first[pos - base];
      }
      hits += filter->Matches(attributes_->row(row));
    }
    st.estimated_selectivity = static_cast<double>(hits) / samples * cand.count / n;
  }
  FilterMode mode = options.filter_mode;
  if (mode == FilterMode::kAuto) {
    const double matches = st.estimated_selectivity * n;
    const bool cheap = cand.count <= options.exact_max_candidates &&
                       matches <= static_cast<double>(options.exact_max_matches);
    mode = cheap || matches <= 4.0 * k ? FilterMode::kExact : FilterMode::kAnn;
  }
  if (mode == FilterMode::kAnn) {
    // Ask for enough matches that the selector still leaves k: HNSW explores a candidate
    // list of max(efSearch, asked) nodes, IVF scans the probed lists.
    const double sel = std::max(st.estimated_selectivity, 1.0 / static_cast<double>(n));
    const double want = std::max<double>(k, k * options.ann_overfetch / std::min(1.0, sel));
    int64_t fetch = k;
    int nprobe = options.nprobe;
    if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(ann_)) {
      // The k best matches are about the k/selectivity best listings overall; the lists
      // holding those grow roughly with the square root of that depth (measured with
      // bench/index_bench), so probe sqrt(want / k) times more lists.
      const int base_probe = nprobe > 0 ? nprobe : static_cast<int>(ivf->nprobe);
      const double factor =
          std::max(1.0, std::min(std::sqrt(want / k), options.max_filtered_nprobe_factor));
      nprobe = static_cast<int>(std::min<double>(ivf->nlist, std::ceil(base_probe * factor)));
    } else if (dynamic_cast<const faiss::IndexHNSW*>(ann_) != nullptr) {
      fetch = std::max<int64_t>(k, std::min<double>(want, options.max_filtered_ann_k));
    }
    st.ann_k = fetch;
    st.nprobe = nprobe;
    FilterSelector selector(*attributes_, *filter);
    absl::Status s = AnnSearch(query, k, fetch, nprobe, &selector, &out);
    if (!s.ok()) return s;
    st.path = SearchStats::Path::kAnnFiltered;
    if (static_cast<int>(out.size()) >= k) return out;
    // The probed IVF lists held too few matches (the filter is rare near this query). Before
    // an exact scan over a large candidate set (~85 ns a match at 1M: 26 ms for a filter
    // matching 31%), probe more lists once: at 1M that scan ran for ~4% of the queries of a
    // 31% price filter and set the filtered p99.
    auto* ivf = dynamic_cast<const faiss::IndexIVF*>(ann_);
    if (ivf != nullptr && options.widen_nprobe_factor > 1 && nprobe < static_cast<int>(ivf->nlist) &&
        cand.count > options.exact_max_candidates) {
      nprobe = static_cast<int>(std::min<double>(ivf->nlist, std::ceil(nprobe * options.widen_nprobe_factor)));
      st.nprobe = nprobe;
      s = AnnSearch(query, k, fetch, nprobe, &selector, &out);
      if (!s.ok()) return s;
      if (static_cast<int>(out.size()) >= k) {
        st.path = SearchStats::Path::kAnnWidened;
        return out;
      }
    }
    // FAISS found fewer than k matches (HNSW's candidate list or the probed IVF lists held
    // too few): the exact scan returns min(k, #matches).
    st.path = SearchStats::Path::kAnnThenExact;
  } else {
    st.path = SearchStats::Path::kExact;
  }
  try {
    ExactScan(query, k, *filter, cand, &out, &st.rows_scanned);
  } catch (const std::exception& e) {  // reconstruct() of compressed codes
    return absl::InternalError(absl::StrCat("exact scan failed: ", e.what()));
  }
  return out;
}

}  // namespace marketsearch
