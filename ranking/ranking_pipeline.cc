#include "ranking/ranking_pipeline.h"

#include <algorithm>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "common/versions.h"
#include "features/featurizer.h"
#include "ranking/ranking_features.h"

namespace marketsearch {
namespace {

absl::Status CheckIndexDim(const IndexSnapshot& index) {
  if (index.dim() != kRankingEmbeddingDim) {
    return absl::InvalidArgumentError(absl::StrCat("index v", index.version(), " has dim ",
                                                   index.dim(), "; the ranker's features need ",
                                                   kRankingEmbeddingDim));
  }
  return absl::OkStatus();
}

// The feature matrix of b->candidates/b->listings from what the reader returned for them.
absl::Status AssembleBatch(const CatalogStats& stats, const QueryTerms& terms,
                           const QueryTerms* corrected, absl::Span<const float> query_embedding,
                           const RankingInputs& inputs, ListingTokenCache* token_cache,
                           RankingBatch* b) {
  const size_t m = b->listings.size();
  if (inputs.counters.size() != m || inputs.has_embedding.size() != m ||
      (!inputs.tokens.empty() && inputs.tokens.size() != m) ||
      inputs.embeddings.size() != m * static_cast<size_t>(kRankingEmbeddingDim)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ranking batch: ", m, " listings but ranking inputs for ", inputs.counters.size(),
                     " (", inputs.embeddings.size(), " embedding values of dim ", inputs.dim, ")"));
  }
  b->not_in_index = inputs.not_in_index;
  auto t = std::chrono::steady_clock::now();
  std::vector<const Listing*> listings(m);
  for (size_t i = 0; i < m; ++i) listings[i] = b->listings[i].get();
  RankingFeatureInputs in;
  in.query = &terms;
  in.corrected_query = corrected;
  in.query_embedding = query_embedding;
  in.candidates = b->candidates;
  in.listings = listings;
  in.listing_embeddings = inputs.embeddings;
  in.has_embedding = inputs.has_embedding;
  in.counters = inputs.counters;
  in.user = inputs.user ? &*inputs.user : nullptr;
  in.stats = &stats;
  in.tokens = inputs.tokens;
  in.token_cache = token_cache;
  in.records = b->listings;
  MS_ASSIGN_OR_RETURN(b->features, AssembleRankingFeatures(in));
  b->assemble_ms = MsSince(t);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RankingBatch> FetchRankingBatch(const ListingReader& reader, const IndexSnapshot& index,
                                               const CatalogStats& stats, const std::string& raw_query,
                                               const RetrievalResult& retrieved,
                                               uint64_t user_id, int max_candidates,
                                               ListingTokenCache* token_cache) {
  MS_RETURN_IF_ERROR(CheckIndexDim(index));
  const std::vector<Candidate>& candidates = retrieved.candidates;
  RankingBatch b;
  auto t = std::chrono::steady_clock::now();
  size_t n = candidates.size();
  if (max_candidates > 0) n = std::min(n, static_cast<size_t>(max_candidates));
  std::vector<uint64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = candidates[i].listing_id;
  MS_ASSIGN_OR_RETURN(std::vector<ListingRecord> got, reader.ReadListings(ids));
  b.candidates.reserve(n);
  b.listings.reserve(n);
  ids.clear();
  for (size_t i = 0; i < n; ++i) {
    if (got[i] == nullptr) {
      ++b.not_in_store;
      continue;
    }
    b.candidates.push_back(candidates[i]);
    ids.push_back(candidates[i].listing_id);
    b.listings.push_back(std::move(got[i]));
  }
  MS_ASSIGN_OR_RETURN(RankingInputs inputs, reader.ReadRankingInputs(ids, user_id, index));
  b.fetch_ms = MsSince(t);
  const std::optional<QueryTerms> corrected = CorrectedQueryTerms(retrieved.corrected_tokens);
  MS_RETURN_IF_ERROR(AssembleBatch(stats, PrepareQuery(raw_query), corrected ? &*corrected : nullptr,
                                   retrieved.query_embedding, inputs, token_cache, &b));
  return b;
}

absl::StatusOr<RankingBatch> MakeRankingBatch(const CatalogStats& stats, const QueryTerms& query,
                                              absl::Span<const float> query_embedding,
                                              std::vector<Candidate> candidates,
                                              std::vector<ListingRecord> listings,
                                              const RankingInputs& inputs,
                                              ListingTokenCache* token_cache,
                                              const QueryTerms* corrected_query) {
  if (inputs.dim != kRankingEmbeddingDim) {
    return absl::InvalidArgumentError(absl::StrCat("ranking inputs have embeddings of dim ", inputs.dim,
                                                   "; the ranker's features need ",
                                                   kRankingEmbeddingDim));
  }
  if (candidates.size() != listings.size()) {
    return absl::InvalidArgumentError(absl::StrCat("MakeRankingBatch: ", candidates.size(),
                                                   " candidates but ", listings.size(), " listings"));
  }
  RankingBatch b;
  b.candidates = std::move(candidates);
  b.listings = std::move(listings);
  MS_RETURN_IF_ERROR(AssembleBatch(stats, query, corrected_query, query_embedding, inputs, token_cache, &b));
  return b;
}

std::optional<QueryTerms> CorrectedQueryTerms(const std::vector<std::string>& corrected_tokens) {
  if (corrected_tokens.empty()) return std::nullopt;
  return PrepareQuery(absl::StrJoin(corrected_tokens, " "));
}

std::vector<uint64_t> RankedOrder(const RankingBatch& batch, const std::vector<float>& scores) {
  std::vector<size_t> order(std::min(scores.size(), batch.candidates.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<uint64_t> ids;
  ids.reserve(order.size());
  for (size_t i : order) ids.push_back(batch.candidates[i].listing_id);
  return ids;
}

absl::StatusOr<RetrievalArtifacts> LoadRetrievalArtifacts(const std::string& data_dir,
                                                          bool with_lexical) {
  RetrievalArtifacts a;
  const std::string index_root = data_dir + "/index";
  MS_ASSIGN_OR_RETURN(int64_t index_version, ReadCurrent(index_root));
  MS_ASSIGN_OR_RETURN(a.index, IndexSnapshot::Load(VersionDir(index_root, index_version)));
  const std::string qdir = absl::StrCat(data_dir, "/models/query_tower/",
                                        a.index->manifest().listing_tower_version());
  MS_ASSIGN_OR_RETURN(QueryEncoder qe, QueryEncoder::Load(qdir));
  if (qe.dim() != a.index->dim()) {
    return absl::FailedPreconditionError(
        absl::StrCat("query tower dim ", qe.dim(), " != index dim ", a.index->dim()));
  }
  // TorchScript's profiling executor optimises during the first calls; keep that out of
  // measurements.
  for (int i = 0; i < 3; ++i) {
    for (const std::string q : {"warm up", "used iphone 12 128gb", "grey sofa near me"}) {
      MS_ASSIGN_OR_RETURN(FloatMatrix ignored, qe.Encode(absl::MakeConstSpan(&q, 1)));
      (void)ignored;
    }
  }
  a.query_encoder = std::make_shared<const QueryEncoder>(std::move(qe));
  if (with_lexical) {
    const std::string lex_root = data_dir + "/lexical";
    MS_ASSIGN_OR_RETURN(int64_t lex_version, ReadCurrent(lex_root));
    MS_ASSIGN_OR_RETURN(std::unique_ptr<LexicalIndex> lex,
                        LexicalIndex::Open(VersionDir(lex_root, lex_version)));
    a.lexical = std::move(lex);
  }
  return a;
}

}  // namespace marketsearch
