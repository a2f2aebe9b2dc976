// ListingReader: the read-only view of the catalog that the request path's Hydrate stage (and
// the offline ranking tools) use: the candidates' stored records, and what the ranker needs of
// the ones it scores (counters, stored embeddings, the user). Two batched calls per request,
// not one, because the filters decide which candidates reach the ranker: every candidate's
// record is read (filters need it), counters and embeddings only for the rank_depth survivors.
//
// StoreListingReader serves it from the RocksDB feature store and the served FAISS version (+
// the live delta's fresher vectors); the server's MemoryListingReader (memory_listing_reader.h)
// serves records, tokens and counters from memory behind the same interface.
//
// Thread safety: implementations are safe for concurrent reads.
#ifndef MARKETSEARCH_INDEX_LISTING_READER_H_
#define MARKETSEARCH_INDEX_LISTING_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "features/feature_store.h"
#include "features/listing_tokens.h"
#include "index/index_snapshot.h"
#include "index/live_index.h"
#include "proto/catalog.pb.h"

namespace marketsearch {

// One stored listing, shared and immutable: a request holds its candidates' records without
// copying them (a Listing with its description is ~1 KB; a filtered request reads ~1,800).
using ListingRecord = std::shared_ptr<const Listing>;

// What ranking needs of the candidates it scores, besides their records; index i of each
// vector is ids[i] of the read.
struct RankingInputs {
  std::vector<ListingCounters> counters;  // zeros for a listing without counters
  // Each listing's token sets when the reader keeps them (null entries, or empty: the ranking
  // features prepare them).
  std::vector<std::shared_ptr<const ListingTokens>> tokens;
  int dim = 0;                            // embedding width (the index's)
  std::vector<float> embeddings;          // [ids.size(), dim], row-major; zero rows where missing
  std::vector<uint8_t> has_embedding;     // 1 when the row is a stored embedding
  int64_t not_in_index = 0;               // rows without one (written after the build, no delta)
  std::optional<User> user;               // the request's user, when asked for and stored
};

class ListingReader {
 public:
  virtual ~ListingReader() = default;

  // The stored record of each id (null: not in the store, e.g. sold since indexing).
  virtual absl::StatusOr<std::vector<ListingRecord>> ReadListings(
      absl::Span<const uint64_t> ids) const = 0;

  // Counters and embeddings of `ids`, and the user `user_id` (0 = none). Embeddings come from
  // `index` (the version the request pinned: its listing tower is the one the ranker was
  // trained with) unless the live delta holds a fresher vector of the same width.
  virtual absl::StatusOr<RankingInputs> ReadRankingInputs(absl::Span<const uint64_t> ids,
                                                          uint64_t user_id,
                                                          const IndexSnapshot& index) const = 0;
};

// Fills in->dim, embeddings, has_embedding and not_in_index for `ids`: from `ann`'s live delta
// when it holds a vector of the index's width, else from `index`'s stored vectors. `ann` may
// be null (offline tools: no delta). Both readers below read embeddings this way.
absl::Status ReadStoredEmbeddings(absl::Span<const uint64_t> ids, const IndexSnapshot& index,
                                  const LiveAnnIndex* ann, RankingInputs* in);

// Reads the RocksDB feature store (one MultiGet per call) and the FAISS index's stored
// vectors. `store` is borrowed; `ann` (the live side of the ANN leg, borrowed) may be null:
// then embeddings come from `index` alone (offline tools, which have no delta).
class StoreListingReader : public ListingReader {
 public:
  StoreListingReader(const FeatureStore* store, const LiveAnnIndex* ann)
      : store_(store), ann_(ann) {}

  absl::StatusOr<std::vector<ListingRecord>> ReadListings(
      absl::Span<const uint64_t> ids) const override;
  absl::StatusOr<RankingInputs> ReadRankingInputs(absl::Span<const uint64_t> ids, uint64_t user_id,
                                                  const IndexSnapshot& index) const override;

 private:
  const FeatureStore* const store_;
  const LiveAnnIndex* const ann_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_LISTING_READER_H_
