#include "serving/serving_lifecycle.h"

#include <cstdio>
#include <utility>

#include "serving/serving_loaders.h"

namespace marketsearch {

absl::StatusOr<std::unique_ptr<ServingLifecycle>> ServingLifecycle::Create(
    Options options, const FeatureStore* store, Searcher* searcher, ListingWriter* writer,
    const LiveAnnIndex* ann, const LiveLexicalIndex* lexical) {
  if (store == nullptr || searcher == nullptr || ann == nullptr || lexical == nullptr) {
    return absl::InvalidArgumentError("ServingLifecycle needs a store, a searcher and both live indexes");
  }
  std::unique_ptr<ServingLifecycle> l(
      new ServingLifecycle(std::move(options), searcher, writer, ann, lexical));
  l->source_ = std::make_unique<DataDirSource>(
      DataDirSource::Options{l->options_.data_dir, l->options_.env});
  ServingLoaderOptions lo;
  lo.data_dir = l->options_.data_dir;
  lo.store = store;
  lo.towers.format = l->options_.model_format;
  lo.towers.concurrency = l->options_.model_concurrency;
  lo.lexical.correct_spelling = l->options_.spelling_correction;
  lo.ranker.format = l->options_.model_format;
  lo.ranker.concurrency = l->options_.model_concurrency;
  ServableManager::Options mo;
  mo.source = l->source_.get();
  mo.loader_factory = MakeServingLoaderFactory(lo);
  mo.env = l->options_.env;
  ServingLifecycle* self = l.get();
  mo.compatible = [self](ServableKind kind, const Servable& candidate, const ServingSet& chosen) {
    return self->Compatible(kind, candidate, chosen);
  };
  auto manager = ServableManager::Create(std::move(mo));
  if (!manager.ok()) return manager.status();
  l->manager_ = std::move(*manager);
  return l;
}

bool ServingLifecycle::Compatible(ServableKind kind, const Servable& candidate,
                                  const ServingSet& chosen) const {
  if (!ServingCompatible(kind, candidate, chosen)) return false;
  // The legs' live sides fix the embedding size and the lexical document shape at the first
  // load: a later version must match them (what Searcher::SetState would refuse).
  if (kind == ServableKind::kIndex) {
    const auto* index = dynamic_cast<const IndexServable*>(&candidate);
    if (index != nullptr && !ann_->Accepts(*index->index)) {
      std::fprintf(stderr, "server: index v%lld has another embedding size (%d) than the one the "
                   "server runs; restart the server to change it\n",
                   static_cast<long long>(index->index->version()), index->index->dim());
      return false;
    }
  } else if (kind == ServableKind::kLexical) {
    const auto* lexical = dynamic_cast<const LexicalServable*>(&candidate);
    if (lexical != nullptr && !lexical_->Accepts(*lexical->lexical)) {
      std::fprintf(stderr, "server: a lexical version shapes documents differently (fields, stemming "
                   "or spelling) from the server's lexical delta; restart the server to change it\n");
      return false;
    }
  }
  return true;
}

bool ServingLifecycle::Poll() {
  PollResult r = manager_->Poll();
  for (const ServableEvent& e : r.events) {
    if (e.type == ServableEvent::Type::kDestroyed) continue;  // not news to an operator
    std::fprintf(stderr, "server: %s\n", e.DebugString().c_str());
    if (ServerMetrics* m = options_.metrics) {
      const char* kind = ServableKindName(e.id.kind);
      if (e.type == ServableEvent::Type::kLoaded) m->ServableLoaded(kind, e.load_ms / 1000.0);
      if (e.type == ServableEvent::Type::kLoadFailed) m->ServableEvent(kind, "failed");
      if (e.type == ServableEvent::Type::kServing) {
        m->ServableEvent(kind, "swapped");
        m->ServableServing(kind, e.id.version);
      }
    }
  }
  if (!r.serving_changed) return searcher_->state() != nullptr;
  absl::StatusOr<ServedArtifacts> a = GetServedArtifacts(r.serving);
  if (!a.ok()) {
    if (!reported_idle_) {
      reported_idle_ = true;
      std::fprintf(stderr, "server: nothing to serve yet (%s); answering UNAVAILABLE until an index "
                   "is published\n", std::string(a.status().message()).c_str());
    }
    return searcher_->state() != nullptr;
  }
  auto state = std::make_shared<ServingState>();
  state->retrieval.index = a->index;
  state->retrieval.query_encoder = a->query_encoder;
  state->retrieval.lexical = a->lexical;
  state->listing_encoder = a->listing_encoder;
  state->stats = a->stats;
  state->ranker = a->ranker;
  state->versions.set_index(a->index_version);
  state->versions.set_listing_tower(a->listing_tower_version);
  state->versions.set_query_tower(a->query_encoder->version());
  state->versions.set_lexical(a->lexical_version);
  state->versions.set_ranker(a->ranker_version);
  if (absl::Status s = searcher_->SetState(state); !s.ok()) {
    // Compatible() checks what SetState requires, so this is a failure of the delta itself.
    std::fprintf(stderr, "server: cannot switch to %s: %s\n", r.serving.DebugString().c_str(),
                 std::string(s.message()).c_str());
    return searcher_->state() != nullptr;
  }
  SyncWriteLog();
  std::fprintf(stderr, "server: serving index v%lld (%lld listings), query tower v%lld, lexical v%lld%s, "
               "ranker v%lld%s\n",
               static_cast<long long>(state->versions.index()),
               static_cast<long long>(state->retrieval.index->size()),
               static_cast<long long>(state->versions.query_tower()),
               static_cast<long long>(state->versions.lexical()),
               state->retrieval.lexical ? "" : " (no lexical index: ANN only)",
               static_cast<long long>(state->versions.ranker()),
               state->ranker ? "" : " (no ranker: fused order)");
  return true;
}

void ServingLifecycle::SyncWriteLog() {
  if (writer_ == nullptr) return;
  // Nothing stored may stop a start: a record the replay cannot index is skipped inside it,
  // and a replay that fails as a whole (the store cannot be read) is logged and the server
  // serves its indexes without those fresh writes rather than not at all.
  if (!replayed_) {
    replayed_ = true;
    auto r = writer_->ReplayWriteLog();
    if (!r.ok()) {
      std::fprintf(stderr, "server: delta replay failed, serving without the writes since the index "
                   "snapshot: %s\n", std::string(r.status().message()).c_str());
    } else {
      std::fprintf(stderr, "server: delta replay: %lld fresh listings, %lld tombstones since index "
                   "snapshot %lld; lexical delta: %lld fresh listings since lexical snapshot %lld; "
                   "%lld skipped (not indexable)\n",
                   static_cast<long long>(r->fresh), static_cast<long long>(r->tombstones),
                   static_cast<long long>(r->snapshot_unix_ms), static_cast<long long>(r->lexical_fresh),
                   static_cast<long long>(r->lexical_snapshot_unix_ms), static_cast<long long>(r->skipped));
    }
  }
  if (absl::Status s = writer_->PruneWriteLog(); !s.ok()) {
    std::fprintf(stderr, "server: write log prune: %s\n", std::string(s.message()).c_str());
  }
}

}  // namespace marketsearch
