#include "index/memory_listing_reader.h"

#include "common/status_macros.h"

namespace marketsearch {

std::shared_ptr<const Listing> MemoryListingReader::Record(const Listing& listing) {
  return std::make_shared<const Listing>(listing);
}

absl::StatusOr<std::unique_ptr<MemoryListingReader>> MemoryListingReader::Load(
    const FeatureStore* store, const LiveAnnIndex* ann) {
  std::unique_ptr<MemoryListingReader> reader(new MemoryListingReader(store, ann));
  const int64_t expected = store->EstimateListingCount();
  absl::MutexLock lock(&reader->mu_);
  if (expected > 0) reader->records_.reserve(static_cast<size_t>(expected));
  int64_t bytes = 0;
  MS_RETURN_IF_ERROR(store->ScanListings([&](const Listing& l) {
    std::shared_ptr<const Listing> r = Record(l);
    bytes += static_cast<int64_t>(r->SpaceUsedLong()) + 48;  // + the map slot and control block
    reader->records_[l.listing_id()] = std::move(r);
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
    auto it = records_.find(ids[i]);
    if (it != records_.end()) found[i] = it->second;
  }
  return found;
}

absl::StatusOr<RankingInputs> MemoryListingReader::ReadRankingInputs(absl::Span<const uint64_t> ids,
                                                                     uint64_t user_id,
                                                                     const IndexSnapshot& index) const {
  return store_reader_.ReadRankingInputs(ids, user_id, index);
}

void MemoryListingReader::Put(const Listing& listing) {
  std::shared_ptr<const Listing> r = Record(listing);
  absl::MutexLock lock(&mu_);
  records_[listing.listing_id()] = std::move(r);
}

void MemoryListingReader::Erase(uint64_t listing_id) {
  absl::MutexLock lock(&mu_);
  records_.erase(listing_id);
}

std::vector<ListingRecord> MemoryListingReader::Records() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<ListingRecord> out;
  out.reserve(records_.size());
  for (const auto& [id, record] : records_) out.push_back(record);
  return out;
}

int64_t MemoryListingReader::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<int64_t>(records_.size());
}

}  // namespace marketsearch
