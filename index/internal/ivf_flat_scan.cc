#include "index/internal/ivf_flat_scan.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/invlists/InvertedLists.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "index/internal/vector_scores.h"

namespace marketsearch {
namespace internal {
namespace {

using Scored = std::pair<float, faiss::Index::idx_t>;

// A bounded min-heap of the best `k` (score, id) pairs: the root is the worst kept.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }
  float threshold() const { return heap_.size() < k_ ? -std::numeric_limits<float>::infinity() : heap_.front().first; }
  void Push(float score, faiss::Index::idx_t id) {
    if (heap_.size() < k_) {
      heap_.emplace_back(score, id);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    } else if (score > heap_.front().first) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      heap_.back() = {score, id};
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    }
  }
  // Best first; ties by smaller id (deterministic).
  std::vector<Scored> Sorted() {
    std::sort(heap_.begin(), heap_.end(), [](const Scored& a, const Scored& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<Scored> heap_;
};

}  // namespace

const faiss::IndexIVFFlat* AsScannableIvfFlat(const faiss::Index* index) {
  const auto* ivf = dynamic_cast<const faiss::IndexIVFFlat*>(index);
  if (ivf == nullptr || ivf->metric_type != faiss::METRIC_INNER_PRODUCT || ivf->invlists == nullptr) {
    return nullptr;
  }
  // IndexIVFFlatDedup and other subclasses store or scan differently.
  if (typeid(*ivf) != typeid(faiss::IndexIVFFlat)) return nullptr;
  const auto* q = dynamic_cast<const faiss::IndexFlat*>(ivf->quantizer);
  if (q == nullptr || q->metric_type != faiss::METRIC_INNER_PRODUCT || q->d != ivf->d ||
      q->ntotal != static_cast<faiss::Index::idx_t>(ivf->nlist)) {
    return nullptr;
  }
  return ivf;
}

void IvfFlatSearch(const faiss::IndexIVFFlat& ivf, const float* query, int64_t k, size_t nprobe,
                   size_t max_codes, const faiss::IDSelector* sel, float* distances,
                   faiss::Index::idx_t* labels) {
  const int d = static_cast<int>(ivf.d);
  const size_t nlist = ivf.nlist;
  nprobe = std::min(std::max<size_t>(nprobe, 1), nlist);
  // The coarse step: the query against every centroid, the best nprobe lists.
  const float* centroids = static_cast<const faiss::IndexFlat*>(ivf.quantizer)->get_xb();
  std::vector<float> scores(nlist);
  ScoreRows(query, centroids, nullptr, nlist, d, scores.data());
  std::vector<Scored> lists(nlist);
  for (size_t c = 0; c < nlist; ++c) lists[c] = {scores[c], static_cast<faiss::Index::idx_t>(c)};
  auto better = [](const Scored& a, const Scored& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  std::partial_sort(lists.begin(), lists.begin() + nprobe, lists.end(), better);
  // The fine step: every vector of those lists (best list first, as FAISS visits them).
  TopK top(static_cast<size_t>(std::max<int64_t>(k, 0)));
  size_t scanned = 0;
  std::vector<uint32_t> pick;
  const faiss::InvertedLists* il = ivf.invlists;
  for (size_t p = 0; p < nprobe && k > 0; ++p) {
    if (max_codes > 0 && scanned >= max_codes) break;
    const size_t list = static_cast<size_t>(lists[p].second);
    const size_t n = il->list_size(list);
    if (n == 0) continue;
    faiss::InvertedLists::ScopedCodes codes(il, list);
    faiss::InvertedLists::ScopedIds ids(il, list);
    // The list's vectors the selector keeps (all without one), scored in one call.
    const uint32_t* pick_rows = nullptr;
    size_t m = n;
    if (sel != nullptr) {
      pick.clear();
      for (size_t j = 0; j < n; ++j) {
        if (sel->is_member(ids[j])) pick.push_back(static_cast<uint32_t>(j));
      }
      pick_rows = pick.data();
      m = pick.size();
    }
    if (scores.size() < m) scores.resize(m);
    ScoreRows(query, reinterpret_cast<const float*>(codes.get()), pick_rows, m, d, scores.data());
    for (size_t j = 0; j < m; ++j) {
      if (scores[j] > top.threshold()) top.Push(scores[j], ids[pick_rows != nullptr ? pick_rows[j] : j]);
    }
    scanned += n;
  }
  const std::vector<Scored> best = top.Sorted();
  for (int64_t i = 0; i < k; ++i) {
    if (i < static_cast<int64_t>(best.size())) {
      distances[i] = best[i].first;
      labels[i] = best[i].second;
    } else {
      distances[i] = -std::numeric_limits<float>::infinity();
      labels[i] = -1;
    }
  }
}

}  // namespace internal
}  // namespace marketsearch
