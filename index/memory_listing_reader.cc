#include "index/memory_listing_reader.h"

#include "common/status_macros.h"

namespace marketsearch {
namespace {

// A request's ids are scattered over a map of ~1M entries: each lookup is a cache miss or two.
// Prefetching the slot of the id this many places ahead overlaps them.
constexpr size_t kPrefetchAhead = 8;

}  // namespace

absl::StatusOr<std::unique_ptr<MemoryListingReader>> MemoryListingReader::Load(
    const FeatureStore* store, const LiveAnnIndex* ann) {
  std::unique_ptr<MemoryListingReader> reader(new MemoryListingReader(store, ann));
  const int64_t expected = store->EstimateListingCount();
  absl::MutexLock lock(&reader->mu_);
  if (expected > 0) reader->records_.reserve(static_cast<size_t>(expected));
  int64_t bytes = 0;
  MS_RETURN_IF_ERROR(store->ScanListings([&](const Listing& l) {
    auto r = std::make_shared<const Listing>(l);
    bytes += static_cast<int64_t>(r->SpaceUsedLong()) + 80;  // + the map slot and control block
    reader->records_[l.listing_id()].listing = std::move(r);
    return true;
  }));
  // Counters of listings no longer in the store are not kept.
  MS_RETURN_IF_ERROR(store->ScanListingCounters([&](uint64_t id, const ListingCounters& c) {
    auto it = reader->records_.find(id);
    if (it != reader->records_.end()) it->second.counters = {c.impressions(), c.clicks(), c.purchases()};
    return true;
  }));
  reader->loaded_bytes_ = bytes;
  return reader;
}

absl::StatusOr<std::vector<ListingRecord>> MemoryListingReader::ReadListings(
    absl::Span<const uint64_t> ids) const {
  std::vector<ListingRecord> found(ids.size());
  absl::ReaderMutexLock lock(&mu_);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i + kPrefetchAhead < ids.size()) records_.prefetch(ids[i + kPrefetchAhead]);
    auto it = records_.find(ids[i]);
    if (it != records_.end()) found[i] = it->second.listing;
  }
  return found;
}

absl::StatusOr<RankingInputs> MemoryListingReader::ReadRankingInputs(absl::Span<const uint64_t> ids,
                                                                     uint64_t user_id,
                                                                     const IndexSnapshot& index) const {
  RankingInputs in;
  in.counters.resize(ids.size());
  in.tokens.resize(ids.size());
  {
    absl::ReaderMutexLock lock(&mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i + kPrefetchAhead < ids.size()) records_.prefetch(ids[i + kPrefetchAhead]);
      auto it = records_.find(ids[i]);
      if (it == records_.end()) continue;  // erased since ReadListings: zeros, tokens prepared later
      const Counters& c = it->second.counters;
      if (c.impressions != 0 || c.clicks != 0 || c.purchases != 0) {
        in.counters[i].set_impressions(c.impressions);
        in.counters[i].set_clicks(c.clicks);
        in.counters[i].set_purchases(c.purchases);
      }
      in.tokens[i] = it->second.tokens;
    }
  }
  if (user_id != 0) {
    MS_ASSIGN_OR_RETURN(in.user, store_->GetUser(user_id));
  }
  MS_RETURN_IF_ERROR(ReadStoredEmbeddings(ids, index, ann_, &in));
  return in;
}

void MemoryListingReader::Put(const Listing& listing) {
  auto record = std::make_shared<const Listing>(listing);
  auto tokens = std::make_shared<const ListingTokens>(PrepareListingTokens(listing));
  absl::MutexLock lock(&mu_);
  Entry& e = records_[listing.listing_id()];
  if (e.tokens == nullptr) ++tokenized_;
  e.listing = std::move(record);
  e.tokens = std::move(tokens);
}

void MemoryListingReader::Erase(uint64_t listing_id) {
  absl::MutexLock lock(&mu_);
  auto it = records_.find(listing_id);
  if (it == records_.end()) return;
  if (it->second.tokens != nullptr) --tokenized_;
  records_.erase(it);
}

int64_t MemoryListingReader::PrepareTokens(const std::atomic<bool>& stop) {
  // The records to tokenise, as of now; a later Put brings its own tokens.
  std::vector<std::pair<uint64_t, std::shared_ptr<const Listing>>> todo;
  {
    absl::ReaderMutexLock lock(&mu_);
    todo.reserve(records_.size() - static_cast<size_t>(tokenized_));
    for (const auto& [id, e] : records_) {
      if (e.tokens == nullptr) todo.emplace_back(id, e.listing);
    }
  }
  // Batches: tokenise outside the lock, then install under it only where the record is still
  // the one tokenised (a Put or Erase in between wins).
  constexpr size_t kBatch = 512;
  std::vector<std::shared_ptr<const ListingTokens>> batch;
  int64_t done = 0;
  for (size_t begin = 0; begin < todo.size() && !stop.load(std::memory_order_relaxed); begin += kBatch) {
    const size_t end = std::min(todo.size(), begin + kBatch);
    batch.clear();
    for (size_t i = begin; i < end; ++i) {
      batch.push_back(std::make_shared<const ListingTokens>(PrepareListingTokens(*todo[i].second)));
    }
    absl::MutexLock lock(&mu_);
    for (size_t i = begin; i < end; ++i) {
      auto it = records_.find(todo[i].first);
      if (it == records_.end() || it->second.listing != todo[i].second || it->second.tokens != nullptr) continue;
      it->second.tokens = std::move(batch[i - begin]);
      ++tokenized_;
      ++done;
    }
  }
  return done;
}

int64_t MemoryListingReader::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<int64_t>(records_.size());
}

int64_t MemoryListingReader::tokenized() const {
  absl::ReaderMutexLock lock(&mu_);
  return tokenized_;
}

}  // namespace marketsearch
