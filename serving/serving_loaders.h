// The Loaders of this server's artifact kinds for ServableManager (servable_manager.h), the
// compatibility rule between them, and the served artifacts as pinned pointers for building a
// ServingState:
//   index    IndexSnapshot + the query tower and listing tower it was built with (warmed up)
//            + the catalog statistics of the store (IndexServable)
//   lexical  the Xapian index (LexicalServable)
//   ranker   the ranking model (RankerServable); serves only with an index whose listing tower
//            it was trained on (ServingCompatible)
// The loaders do what LoadServingState did, in the same order, with the same checks and the
// same warm-up.
//
// Thread safety: servables are immutable after Load() and safe to share across threads; a
// Loader is used by one thread. Ownership: the FeatureStore is not owned and must outlive
// every loader made with it.
#ifndef MARKETSEARCH_SERVING_SERVING_LOADERS_H_
#define MARKETSEARCH_SERVING_SERVING_LOADERS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "features/feature_store.h"
#include "index/index_snapshot.h"
#include "index/lexical_index.h"
#include "proto/catalog.pb.h"
#include "ranking/ranker.h"
#include "retrieval/encoders.h"
#include "serving/servable_manager.h"

namespace marketsearch {

// Runs a few queries through the encoder before it takes traffic: TorchScript's profiling
// executor optimises the graph during the first calls (tens of ms each), which must not land
// on a buyer's request. The encoder's error, if any.
absl::Status WarmUpQueryEncoder(const QueryEncoder& encoder);

struct IndexServable : Servable {
  std::shared_ptr<const IndexSnapshot> index;
  // <data_dir>/models/query_tower/<index's listing_tower_version>, same embedding size.
  std::shared_ptr<const QueryEncoder> query_encoder;
  // The listing tower the index was built with, for embedding upserted listings.
  std::shared_ptr<const ListingEncoder> listing_encoder;
  // Read from the store when the index was loaded.
  CatalogStats stats;
  int64_t listing_tower_version() const { return index->manifest().listing_tower_version(); }
};

struct LexicalServable : Servable {
  std::shared_ptr<const LexicalIndex> lexical;
};

struct RankerServable : Servable {
  std::shared_ptr<const Ranker> ranker;
};

struct ServingLoaderOptions {
  std::string data_dir = "./var";
  // Catalog statistics for the index servable. Not owned; required.
  const FeatureStore* store = nullptr;
  // For every ranker version (`dir` is filled in per version).
  Ranker::Options ranker;
  // For the towers (dir and name filled in per version): format override and concurrency.
  ModelRunner::Options towers;
  // Every lexical version is opened with these (LexicalSearchOptions: spelling correction).
  LexicalIndex::Options lexical;
};

// Loads <data_dir>/index/<version>, then the query tower and the listing tower named by its
// manifest's listing_tower_version (models/<tower>/<that version>), checks that the query
// tower's embedding size is the index's (FailedPrecondition otherwise), warms the query tower
// up and reads the catalog statistics. Errors are those of IndexSnapshot::Load,
// QueryEncoder::Load, ListingEncoder::Load and FeatureStore::GetCatalogStats.
class IndexLoader : public Loader {
 public:
  IndexLoader(const ServingLoaderOptions& options, int64_t version)
      : options_(options), version_(version) {}
  absl::StatusOr<std::shared_ptr<const Servable>> Load() override;

 private:
  const ServingLoaderOptions options_;
  const int64_t version_;
};

// Opens <data_dir>/lexical/<version> (LexicalIndex::Open's errors).
class LexicalLoader : public Loader {
 public:
  LexicalLoader(const ServingLoaderOptions& options, int64_t version)
      : options_(options), version_(version) {}
  absl::StatusOr<std::shared_ptr<const Servable>> Load() override;

 private:
  const ServingLoaderOptions options_;
  const int64_t version_;
};

// Loads and warms up <data_dir>/models/ranker/<version> (Ranker::Load's errors).
class RankerLoader : public Loader {
 public:
  RankerLoader(const ServingLoaderOptions& options, int64_t version)
      : options_(options), version_(version) {}
  absl::StatusOr<std::shared_ptr<const Servable>> Load() override;

 private:
  const ServingLoaderOptions options_;
  const int64_t version_;
};

// The loader for each kind, for ServableManager::Options::loader_factory.
LoaderFactory MakeServingLoaderFactory(ServingLoaderOptions options);

// For ServableManager::Options::compatible: a ranker serves only with a serving index whose
// listing_tower_version equals the ranker's; index and lexical always fit.
bool ServingCompatible(ServableKind kind, const Servable& candidate, const ServingSet& chosen);

// The serving artifacts of a ServingSet as shared pointers that pin their servables
// (ServableHandle::Share), so the manager sees which released versions a serving state still
// uses; fields map one to one onto ServingState.
struct ServedArtifacts {
  std::shared_ptr<const IndexSnapshot> index;
  std::shared_ptr<const QueryEncoder> query_encoder;
  std::shared_ptr<const ListingEncoder> listing_encoder;
  CatalogStats stats;
  int64_t index_version = 0;
  int64_t listing_tower_version = 0;
  std::shared_ptr<const LexicalIndex> lexical;  // null = ANN only
  int64_t lexical_version = 0;
  std::shared_ptr<const Ranker> ranker;  // null = the fused order
  int64_t ranker_version = 0;
};
// Unavailable when no index serves; Internal when a handle holds another type than its kind's.
absl::StatusOr<ServedArtifacts> GetServedArtifacts(const ServingSet& serving);

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_SERVING_LOADERS_H_
