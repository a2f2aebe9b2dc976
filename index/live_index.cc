#include "index/live_index.h"

#include "absl/strings/str_cat.h"

namespace marketsearch {

bool LiveAnnIndex::Accepts(const IndexSnapshot& snapshot) const {
  absl::MutexLock lock(&mu_);
  return delta_ == nullptr || delta_->dim() == snapshot.dim();
}

absl::Status LiveAnnIndex::Publish(const IndexSnapshot& snapshot) {
  absl::MutexLock lock(&mu_);
  if (delta_ == nullptr) {
    delta_ = std::make_unique<DeltaIndex>(snapshot.dim());
  } else if (delta_->dim() != snapshot.dim()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "index v", snapshot.version(), " has embedding size ", snapshot.dim(), ", the server runs ",
        delta_->dim(), "; restart the server to change it"));
  }
  delta_->DropBefore(snapshot.manifest().snapshot_unix_ms());
  return absl::OkStatus();
}

DeltaIndex* LiveAnnIndex::delta() const {
  absl::MutexLock lock(&mu_);
  return delta_.get();
}

bool LiveLexicalIndex::Accepts(const LexicalIndex& lexical) const {
  absl::MutexLock lock(&mu_);
  return delta_ == nullptr || delta_->SameShape(lexical);
}

absl::Status LiveLexicalIndex::Publish(const LexicalIndex* lexical, int64_t snapshot_unix_ms) {
  absl::MutexLock lock(&mu_);
  if (delta_ == nullptr) {
    LexicalDocumentOptions shape;  // build_lexical's defaults
    if (lexical != nullptr) shape = lexical->document_options();
    absl::StatusOr<std::unique_ptr<LexicalDelta>> created = LexicalDelta::Create(shape, parent_dir_);
    if (!created.ok()) return created.status();
    delta_ = std::move(*created);
  } else if (lexical != nullptr && !delta_->SameShape(*lexical)) {
    return absl::FailedPreconditionError(
        "a lexical version shapes documents differently (fields, stemming or spelling) from the "
        "server's lexical delta; restart the server to change it");
  }
  return delta_->DropBefore(snapshot_unix_ms).status();
}

LexicalDelta* LiveLexicalIndex::delta() const {
  absl::MutexLock lock(&mu_);
  return delta_.get();
}

}  // namespace marketsearch
