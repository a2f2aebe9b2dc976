#include "serving/serving_loaders.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/status_macros.h"
#include "index/lexical_manifest.h"

namespace marketsearch {

absl::Status WarmUpQueryEncoder(const QueryEncoder& encoder) {
  const std::string warm[] = {"warm up", "used iphone 12 128gb", "grey sofa near me"};
  for (int i = 0; i < 3; ++i) {
    for (const std::string& q : warm) {
      MS_ASSIGN_OR_RETURN(FloatMatrix ignored, encoder.Encode(absl::MakeConstSpan(&q, 1)));
      (void)ignored;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Servable>> IndexLoader::Load() {
  if (options_.store == nullptr) return absl::InvalidArgumentError("IndexLoader: no store");
  auto s = std::make_shared<IndexServable>();
  MS_ASSIGN_OR_RETURN(
      s->index, IndexSnapshot::Load(ServableVersionDir(options_.data_dir, ServableKind::kIndex,
                                                       version_)));
  const int64_t tower = s->index->manifest().listing_tower_version();
  MS_ASSIGN_OR_RETURN(QueryEncoder qe,
                      QueryEncoder::Load(absl::StrCat(options_.data_dir, "/models/query_tower/", tower),
                                         options_.towers));
  if (qe.dim() != s->index->dim()) {
    return absl::FailedPreconditionError(
        absl::StrCat("query tower dim ", qe.dim(), " != index dim ", s->index->dim()));
  }
  MS_RETURN_IF_ERROR(WarmUpQueryEncoder(qe));
  MS_ASSIGN_OR_RETURN(ListingEncoder le,
                      ListingEncoder::Load(absl::StrCat(options_.data_dir, "/models/listing_tower/", tower),
                                           options_.towers));
  MS_ASSIGN_OR_RETURN(s->stats, options_.store->GetCatalogStats());
  s->query_encoder = std::make_shared<const QueryEncoder>(std::move(qe));
  s->listing_encoder = std::make_shared<const ListingEncoder>(std::move(le));
  return std::shared_ptr<const Servable>(std::move(s));
}

absl::StatusOr<std::shared_ptr<const Servable>> LexicalLoader::Load() {
  auto s = std::make_shared<LexicalServable>();
  const std::string dir = ServableVersionDir(options_.data_dir, ServableKind::kLexical, version_);
  // The checksums first: Xapian would open a bit-flipped database and fail (or answer wrongly)
  // only at the queries that touch the damaged block.
  bool verified = false;
  MS_RETURN_IF_ERROR(VerifyLexicalVersion(dir, &verified));
  if (!verified) {
    std::fprintf(stderr, "server: lexical %s has no checksums (built before they existed); "
                 "loading it unverified\n", dir.c_str());
  }
  MS_ASSIGN_OR_RETURN(s->lexical, LexicalIndex::Open(dir, options_.lexical));
  return std::shared_ptr<const Servable>(std::move(s));
}

absl::StatusOr<std::shared_ptr<const Servable>> RankerLoader::Load() {
  Ranker::Options o = options_.ranker;
  o.dir = ServableVersionDir(options_.data_dir, ServableKind::kRanker, version_);
  auto s = std::make_shared<RankerServable>();
  MS_ASSIGN_OR_RETURN(s->ranker, Ranker::Load(o));
  return std::shared_ptr<const Servable>(std::move(s));
}

LoaderFactory MakeServingLoaderFactory(ServingLoaderOptions options) {
  return [options = std::move(options)](ServableKind kind,
                                        int64_t version) -> std::unique_ptr<Loader> {
    switch (kind) {
      case ServableKind::kIndex:
        return std::make_unique<IndexLoader>(options, version);
      case ServableKind::kLexical:
        return std::make_unique<LexicalLoader>(options, version);
      case ServableKind::kRanker:
        return std::make_unique<RankerLoader>(options, version);
    }
    return nullptr;
  };
}

bool ServingCompatible(ServableKind kind, const Servable& candidate, const ServingSet& chosen) {
  if (kind != ServableKind::kRanker) return true;
  const auto* ranker = dynamic_cast<const RankerServable*>(&candidate);
  const auto index = chosen[ServableKind::kIndex].As<IndexServable>();
  return ranker != nullptr && ranker->ranker != nullptr && index != nullptr &&
         ranker->ranker->listing_tower_version() == index->listing_tower_version();
}

absl::StatusOr<ServedArtifacts> GetServedArtifacts(const ServingSet& serving) {
  const ServableHandle& ih = serving[ServableKind::kIndex];
  if (!ih) return absl::UnavailableError("no index is serving");
  const auto index = ih.As<IndexServable>();
  if (index == nullptr) return absl::InternalError("the index handle holds no IndexServable");
  ServedArtifacts a;
  a.index = ih.Share(index->index.get());
  a.query_encoder = ih.Share(index->query_encoder.get());
  a.listing_encoder = ih.Share(index->listing_encoder.get());
  a.stats = index->stats;
  a.index_version = index->index->version();  // the manifest's, as ServedVersions always had
  a.listing_tower_version = index->listing_tower_version();
  if (const ServableHandle& lh = serving[ServableKind::kLexical]; lh) {
    const auto lexical = lh.As<LexicalServable>();
    if (lexical == nullptr) return absl::InternalError("the lexical handle holds no LexicalServable");
    a.lexical = lh.Share(lexical->lexical.get());
    a.lexical_version = lh.version();
  }
  if (const ServableHandle& rh = serving[ServableKind::kRanker]; rh) {
    const auto ranker = rh.As<RankerServable>();
    if (ranker == nullptr) return absl::InternalError("the ranker handle holds no RankerServable");
    a.ranker = rh.Share(ranker->ranker.get());
    a.ranker_version = ranker->ranker->version();
  }
  return a;
}

}  // namespace marketsearch
