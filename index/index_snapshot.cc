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
#include <queue>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "google/protobuf/text_format.h"

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

absl::StatusOr<int64_t> ReadCurrentVersion(const std::string& index_root) {
  auto text = ReadFile(index_root + "/CURRENT");
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no CURRENT in ", index_root));
  int64_t v;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &v) || v <= 0) {
    return absl::DataLossError(absl::StrCat(index_root, "/CURRENT does not name a version"));
  }
  return v;
}

absl::StatusOr<IndexManifest> ReadIndexManifest(const std::string& dir) {
  auto text = ReadFile(dir + "/MANIFEST");
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no MANIFEST in ", dir));
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
      category_rows_[attributes_->row(r).category_fp].push_back(static_cast<uint32_t>(r));
    }
  }
  return absl::OkStatus();
}

int64_t IndexSnapshot::size() const { return index_->ntotal; }

int64_t IndexSnapshot::CountMatches(const ListingFilter& filter) const {
  if (attributes_ == nullptr) return 0;
  int64_t n = 0;
  for (int64_t r = 0; r < attributes_->size(); ++r) n += filter.Matches(attributes_->row(r));
  return n;
}

absl::Status IndexSnapshot::Reconstruct(uint64_t listing_id, float* out) const {
  auto* idmap = dynamic_cast<const faiss::IndexIDMap2*>(index_.get());
  auto it = idmap->rev_map.find(static_cast<idx_t>(listing_id));
  if (it == idmap->rev_map.end()) {
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

float IndexSnapshot::RowScore(const float* query, int64_t row, float* scratch) const {
  const size_t d = static_cast<size_t>(dim());
  if (flat_base_ != nullptr) return faiss::fvec_inner_product(query, flat_base_ + row * d, d);
  if (!row_ptrs_.empty()) return faiss::fvec_inner_product(query, row_ptrs_[row], d);
  inner_->reconstruct(row, scratch);
  return faiss::fvec_inner_product(query, scratch, d);
}

absl::Status IndexSnapshot::AnnSearch(const float* query, int k, int nprobe, const void* selector,
                                      std::vector<Neighbor>* out) const {
  out->clear();
  auto* sel = static_cast<const faiss::IDSelector*>(selector);
  // With a refine wrapper, FAISS candidates come from the compressed base index and are
  // re-ranked with exact inner products.
  const int64_t fetch = std::min<int64_t>(
      refine_ ? static_cast<int64_t>(k * refine_k_factor_ + 0.5f) : k, ann_->ntotal);
  if (fetch <= 0) return absl::OkStatus();
  std::vector<float> dist(fetch);
  std::vector<idx_t> rows(fetch);
  try {
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
        // IndexHNSW rejects any other SearchParameters type. Its efSearch field is ignored
        // by 1.7.3 (the index's own hnsw.efSearch applies), set here only for clarity.
        hnsw_params.efSearch = hnsw->hnsw.efSearch;
        hnsw_params.sel = const_cast<faiss::IDSelector*>(sel);
        params = &hnsw_params;
      }
    } else if (sel != nullptr) {
      plain_params.sel = const_cast<faiss::IDSelector*>(sel);
      params = &plain_params;
    }
    ann_->search(1, query, fetch, dist.data(), rows.data(), params);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("faiss search failed: ", e.what()));
  }
  out->reserve(fetch);
  if (refine_ != nullptr) {
    std::vector<float> scratch(dim());
    std::vector<std::pair<float, idx_t>> scored;
    scored.reserve(fetch);
    for (int64_t i = 0; i < fetch; ++i) {
      if (rows[i] < 0) continue;
      scored.emplace_back(RowScore(query, rows[i], scratch.data()), rows[i]);
    }
    for (const auto& [score, row] : scored) {
      out->push_back({static_cast<uint64_t>(id_map_[row]), score});
    }
    std::sort(out->begin(), out->end(), Better);
    if (static_cast<int>(out->size()) > k) out->resize(k);
    return absl::OkStatus();
  }
  for (int64_t i = 0; i < fetch; ++i) {
    if (rows[i] < 0) continue;
    out->push_back({static_cast<uint64_t>(id_map_[rows[i]]), dist[i]});
  }
  return absl::OkStatus();
}

void IndexSnapshot::ExactScan(const float* query, int k, const ListingFilter& filter,
                              const std::vector<const std::vector<uint32_t>*>& postings,
                              std::vector<Neighbor>* out, int64_t* rows_scanned) const {
  // Min-heap of the best k (worst on top).
  auto worse = [](const Neighbor& a, const Neighbor& b) { return Better(a, b); };
  std::priority_queue<Neighbor, std::vector<Neighbor>, decltype(worse)> heap(worse);
  std::vector<float> scratch(dim());
  const bool need_test = !filter.categories_only();
  auto visit = [&](int64_t row) {
    if (need_test && !filter.Matches(attributes_->row(row))) return;
    Neighbor n{static_cast<uint64_t>(id_map_[row]), RowScore(query, row, scratch.data())};
    if (static_cast<int>(heap.size()) < k) {
      heap.push(n);
    } else if (Better(n, heap.top())) {
      heap.pop();
      heap.push(n);
    }
  };
  int64_t scanned = 0;
  if (filter.category_fps().empty()) {
    for (int64_t r = 0; r < attributes_->size(); ++r) visit(r);
    scanned = attributes_->size();
  } else {
    for (const std::vector<uint32_t>* rows : postings) {
      for (uint32_t r : *rows) visit(r);
      scanned += static_cast<int64_t>(rows->size());
    }
  }
  out->clear();
  out->reserve(heap.size());
  while (!heap.empty()) {
    out->push_back(heap.top());
    heap.pop();
  }
  std::reverse(out->begin(), out->end());
  if (rows_scanned) *rows_scanned = scanned;
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
    absl::Status s = AnnSearch(query, k, options.nprobe, nullptr, &out);
    if (!s.ok()) return s;
    return out;
  }
  if (attributes_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "index v", version(), " has no attribute table (built without attributes.bin); "
        "filter after retrieval or rebuild the index"));
  }
  const int64_t n = attributes_->size();
  // The rows a filter can match: those of its categories, or all.
  std::vector<const std::vector<uint32_t>*> postings;
  int64_t candidates = n;
  if (!filter->category_fps().empty()) {
    candidates = 0;
    for (uint64_t fp : filter->category_fps()) {
      auto it = category_rows_.find(fp);
      if (it == category_rows_.end()) continue;
      postings.push_back(&it->second);
      candidates += static_cast<int64_t>(it->second.size());
    }
  }
  st.candidate_rows = candidates;
  if (candidates == 0) {
    st.path = SearchStats::Path::kExact;
    st.estimated_selectivity = 0;
    return out;
  }
  FilterMode mode = options.filter_mode;
  if (mode == FilterMode::kAuto) {
    if (candidates <= options.exact_max_candidates) {
      mode = FilterMode::kExact;
      st.estimated_selectivity = static_cast<double>(candidates) / n;  // upper bound
    } else {
      // Estimate the share of matching listings from an evenly spaced sample of the
      // candidate rows (a few hundred attribute tests, ~10 µs).
      double frac = 1.0;
      if (!filter->categories_only()) {
        const int64_t samples = std::min<int64_t>(256, candidates);
        int64_t hits = 0;
        size_t p = 0;
        int64_t base = 0;
        for (int64_t s = 0; s < samples; ++s) {
          int64_t pos = (s * candidates) / samples + (candidates / samples) / 2;
          int64_t row;
          if (postings.empty()) {
            row = pos;
          } else {
            while (pos - base >= static_cast<int64_t>(postings[p]->size())) {
              base += static_cast<int64_t>(postings[p]->size());
              ++p;
            }
            row = (*postings[p])[pos - base];
          }
          hits += filter->Matches(attributes_->row(row));
        }
        frac = static_cast<double>(hits) / samples;
      }
      st.estimated_selectivity = frac * candidates / n;
      mode = st.estimated_selectivity < options.exact_max_selectivity ? FilterMode::kExact
                                                                      : FilterMode::kAnn;
    }
  }
  if (mode == FilterMode::kAnn) {
    FilterSelector selector(*attributes_, *filter);
    absl::Status s = AnnSearch(query, k, options.nprobe, &selector, &out);
    if (!s.ok()) return s;
    st.path = SearchStats::Path::kAnnFiltered;
    if (static_cast<int>(out.size()) >= k) return out;
    // FAISS found fewer than k matches (HNSW's candidate list or the probed IVF lists held
    // too few): the exact scan returns min(k, #matches).
    st.path = SearchStats::Path::kAnnThenExact;
  } else {
    st.path = SearchStats::Path::kExact;
  }
  ExactScan(query, k, *filter, postings, &out, &st.rows_scanned);
  return out;
}

}  // namespace marketsearch
