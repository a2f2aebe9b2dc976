#include "index/delta_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "index/internal/dot_product.h"

namespace marketsearch {
namespace {

bool Better(const Neighbor& a, const Neighbor& b) {
  return a.score != b.score ? a.score > b.score : a.listing_id < b.listing_id;
}

}  // namespace

DeltaIndex::DeltaIndex(int dim) : dim_(dim) {}

int64_t DeltaIndex::LatestWrite(uint64_t id) const {
  int64_t t = std::numeric_limits<int64_t>::min();
  if (auto it = slot_of_.find(id); it != slot_of_.end()) t = write_ms_[it->second];
  if (auto it = tombstones_.find(id); it != tombstones_.end()) t = std::max(t, it->second);
  return t;
}

void DeltaIndex::RemoveSlot(size_t slot) {
  const size_t last = ids_.size() - 1;
  slot_of_.erase(ids_[slot]);
  if (slot != last) {
    ids_[slot] = ids_[last];
    std::copy(vectors_.begin() + last * dim_, vectors_.begin() + (last + 1) * dim_,
              vectors_.begin() + slot * dim_);
    attributes_[slot] = attributes_[last];
    write_ms_[slot] = write_ms_[last];
    slot_of_[ids_[slot]] = slot;
  }
  ids_.pop_back();
  vectors_.resize(last * dim_);
  attributes_.pop_back();
  write_ms_.pop_back();
}

absl::Status DeltaIndex::CheckEmbedding(uint64_t listing_id,
                                        absl::Span<const float> embedding) const {
  if (static_cast<int>(embedding.size()) != dim_) {
    return absl::InvalidArgumentError(absl::StrCat("listing ", listing_id, ": embedding has ",
                                                   embedding.size(), " values, expected ", dim_));
  }
  for (float v : embedding) {
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("listing ", listing_id, ": embedding has a non-finite value"));
    }
  }
  return absl::OkStatus();
}

absl::Status DeltaIndex::Upsert(uint64_t listing_id, absl::Span<const float> embedding,
                                const ListingAttributes& attributes, int64_t write_time_ms) {
  if (absl::Status s = CheckEmbedding(listing_id, embedding); !s.ok()) return s;
  absl::WriterMutexLock lock(&mu_);
  if (LatestWrite(listing_id) > write_time_ms) return absl::OkStatus();  // stale write
  auto it = slot_of_.find(listing_id);
  size_t slot;
  if (it != slot_of_.end()) {
    slot = it->second;
  } else {
    slot = ids_.size();
    ids_.push_back(listing_id);
    vectors_.resize(vectors_.size() + dim_);
    attributes_.emplace_back();
    write_ms_.push_back(0);
    slot_of_[listing_id] = slot;
  }
  std::copy(embedding.begin(), embedding.end(), vectors_.begin() + slot * dim_);
  attributes_[slot] = attributes;
  write_ms_[slot] = write_time_ms;
  tombstones_[listing_id] = write_time_ms;
  return absl::OkStatus();
}

void DeltaIndex::Delete(uint64_t listing_id, int64_t write_time_ms) {
  absl::WriterMutexLock lock(&mu_);
  if (LatestWrite(listing_id) > write_time_ms) return;  // stale write
  if (auto it = slot_of_.find(listing_id); it != slot_of_.end()) RemoveSlot(it->second);
  tombstones_[listing_id] = write_time_ms;
}

bool DeltaIndex::IsTombstoned(uint64_t listing_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return tombstones_.contains(listing_id);
}

int64_t DeltaIndex::DropBefore(int64_t snapshot_unix_ms) {
  absl::WriterMutexLock lock(&mu_);
  int64_t dropped = 0;
  for (size_t slot = ids_.size(); slot-- > 0;) {
    if (write_ms_[slot] < snapshot_unix_ms) {
      RemoveSlot(slot);  // moves the last slot here; it was already visited
      ++dropped;
    }
  }
  for (auto it = tombstones_.begin(); it != tombstones_.end();) {
    if (it->second < snapshot_unix_ms) {
      tombstones_.erase(it++);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

absl::Status DeltaIndex::Reconstruct(uint64_t listing_id, float* out) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = slot_of_.find(listing_id);
  if (it == slot_of_.end()) {
    return absl::NotFoundError(absl::StrCat("listing ", listing_id, " has no fresh copy"));
  }
  std::copy_n(vectors_.begin() + it->second * dim_, dim_, out);
  return absl::OkStatus();
}

int64_t DeltaIndex::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<int64_t>(ids_.size());
}

int64_t DeltaIndex::tombstone_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<int64_t>(tombstones_.size());
}

std::vector<Neighbor> DeltaIndex::Search(const float* query, int k,
                                         const ListingFilter* filter) const {
  absl::ReaderMutexLock lock(&mu_);
  return SearchLocked(query, k, filter);
}

std::vector<Neighbor> DeltaIndex::SearchLocked(const float* query, int k,
                                               const ListingFilter* filter) const {
  std::vector<Neighbor> out;
  if (k <= 0) return out;
  if (filter != nullptr && filter->empty()) filter = nullptr;
  auto worse = [](const Neighbor& a, const Neighbor& b) { return Better(a, b); };
  std::priority_queue<Neighbor, std::vector<Neighbor>, decltype(worse)> heap(worse);
  for (size_t slot = 0; slot < ids_.size(); ++slot) {
    if (filter != nullptr && !filter->Matches(attributes_[slot])) continue;
    Neighbor n{ids_[slot], internal::DotProduct(query, vectors_.data() + slot * dim_, dim_)};
    if (static_cast<int>(heap.size()) < k) {
      heap.push(n);
    } else if (Better(n, heap.top())) {
      heap.pop();
      heap.push(n);
    }
  }
  out.reserve(heap.size());
  while (!heap.empty()) {
    out.push_back(heap.top());
    heap.pop();
  }
  std::reverse(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<Neighbor>> SearchWithDelta(const IndexSnapshot& snapshot,
                                                      const DeltaIndex& delta, const float* query,
                                                      int k, const SearchOptions& options,
                                                      SearchStats* stats) {
  if (delta.dim() != snapshot.dim()) {
    return absl::InvalidArgumentError(absl::StrCat("delta index dim ", delta.dim(),
                                                   " != snapshot dim ", snapshot.dim()));
  }
  std::vector<Neighbor> out;
  if (k <= 0) return out;
  // Tombstones rarely cluster among one query's top hits (most are upserts of listings the
  // snapshot may not even hold), so over-fetch a little and go deeper only when needed.
  const int64_t n = snapshot.size();
  const int64_t tombstones = delta.tombstone_count();
  int64_t fetch = std::min<int64_t>(n, k + std::min<int64_t>(tombstones, std::max(16, k / 4)));
  for (;;) {
    std::vector<Neighbor> main;
    if (fetch > 0) {
      auto r = snapshot.Search(query, static_cast<int>(fetch), options, stats);
      if (!r.ok()) return r.status();
      main = *std::move(r);
    }
    absl::ReaderMutexLock lock(&delta.mu_);
    std::vector<Neighbor> kept;
    kept.reserve(main.size());
    for (const Neighbor& nb : main) {
      if (!delta.tombstones_.contains(nb.listing_id)) kept.push_back(nb);
    }
    const bool exhausted = static_cast<int64_t>(main.size()) < fetch || fetch >= n;
    if (static_cast<int>(kept.size()) >= k || exhausted) {
      std::vector<Neighbor> fresh = delta.SearchLocked(query, k, options.filter);
      out = std::move(kept);
      out.insert(out.end(), fresh.begin(), fresh.end());
      std::sort(out.begin(), out.end(), Better);
      // The same id in both lists cannot happen under one lock (an upsert tombstones the
      // main copy), but stay safe: keep the first (best) occurrence.
      std::vector<Neighbor> unique;
      unique.reserve(std::min<size_t>(out.size(), k));
      absl::flat_hash_set<uint64_t> seen;
      for (const Neighbor& nb : out) {
        if (static_cast<int>(unique.size()) >= k) break;
        if (seen.insert(nb.listing_id).second) unique.push_back(nb);
      }
      return unique;
    }
    fetch = std::min<int64_t>(n, fetch * 2 + (k - static_cast<int64_t>(kept.size())));
  }
}

absl::StatusOr<std::vector<Neighbor>> SearchWithDelta(const IndexSnapshot& snapshot,
                                                      const DeltaIndex& delta, const float* query,
                                                      int k, const ListingFilter* filter,
                                                      int nprobe) {
  SearchOptions o;
  o.filter = filter;
  o.nprobe = nprobe;
  return SearchWithDelta(snapshot, delta, query, k, o, nullptr);
}

}  // namespace marketsearch
