// The request-side glue between retrieval and the ranker, shared by the training-data export,
// the parity check, the benchmark and (for the server to call) the request pipeline:
//   retrieved candidates → ListingReader (records, counters, stored embeddings, user)
//   → AssembleRankingFeatures (ranking/ranking_features.h)
// plus a loader of the retrieval artifacts published under a data directory.
//
// Thread safety: FetchRankingBatch and MakeRankingBatch are stateless and may run
// concurrently (readers and indexes are thread-safe for reads). Ownership: arguments are
// borrowed for the call.
#ifndef MARKETSEARCH_RANKING_RANKING_PIPELINE_H_
#define MARKETSEARCH_RANKING_RANKING_PIPELINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/float_matrix.h"
#include "index/index_snapshot.h"
#include "index/listing_reader.h"
#include "proto/catalog.pb.h"
#include "ranking/ranking_features.h"
#include "retrieval/candidate_generator.h"

namespace marketsearch {

// The candidates of one request that the ranker scores, with their features.
struct RankingBatch {
  std::vector<Candidate> candidates;  // fused order, only those found in the feature store
  std::vector<ListingRecord> listings;  // listings[i] is the record of candidates[i] (not null)
  FloatMatrix features;               // [candidates.size(), kRankingFeatureDim]
  int64_t not_in_store = 0;           // dropped candidates (sold/deleted since indexing)
  int64_t not_in_index = 0;           // kept candidates without a stored embedding
  double fetch_ms = 0;                // FetchRankingBatch: the reader's two reads
  double assemble_ms = 0;             // AssembleRankingFeatures
};

// Reads the listings, counters and stored embeddings of `retrieved.candidates` (the first
// `max_candidates` of them; <= 0 means all) through `reader` and assembles the ranker's
// feature matrix (offline tools: the export, the parity check, the benchmark).
// `retrieved` is GenerateCandidates' result for `raw_query`: its query embedding (empty in
// lexical-only mode) and its spelling-corrected tokens are features too.
// `user_id` 0 = none; `token_cache` (optional, shared across requests) saves re-tokenising
// listings and never changes the result. Errors come from the reader or the feature assembly
// (InvalidArgument, e.g. an index whose dim is not kRankingEmbeddingDim).
absl::StatusOr<RankingBatch> FetchRankingBatch(const ListingReader& reader, const IndexSnapshot& index,
                                               const CatalogStats& stats, const std::string& raw_query,
                                               const RetrievalResult& retrieved,
                                               uint64_t user_id, int max_candidates = 0,
                                               ListingTokenCache* token_cache = nullptr);

// The request path's call, after its Hydrate stage read the listings (listings[i] is the
// record of candidates[i]) and the ranking inputs of the same ids (ListingReader): assembles
// the features and reads nothing. `query` is the request's parsed query (ParsedQuery::terms),
// `corrected_query` the same for its spelling-corrected tokens (null: nothing corrected).
// InvalidArgument when the sizes differ or the embeddings are not kRankingEmbeddingDim wide.
absl::StatusOr<RankingBatch> MakeRankingBatch(const CatalogStats& stats, const QueryTerms& query,
                                              absl::Span<const float> query_embedding,
                                              std::vector<Candidate> candidates,
                                              std::vector<ListingRecord> listings,
                                              const RankingInputs& inputs,
                                              ListingTokenCache* token_cache = nullptr,
                                              const QueryTerms* corrected_query = nullptr);

// PrepareQuery of a retrieval's corrected tokens; nullopt when there are none.
std::optional<QueryTerms> CorrectedQueryTerms(const std::vector<std::string>& corrected_tokens);

// The listing ids of `batch`'s candidates ordered by `scores` (the ranker's, one per
// candidate), best first; equal scores keep the fused order.
std::vector<uint64_t> RankedOrder(const RankingBatch& batch, const std::vector<float>& scores);

// Loads what GenerateCandidates needs from <data_dir>: the index named by index/CURRENT, the
// query tower it was built with (models/query_tower/<index listing_tower_version>) and, when
// `with_lexical`, the Xapian index named by lexical/CURRENT. The query tower is warmed up.
absl::StatusOr<RetrievalArtifacts> LoadRetrievalArtifacts(const std::string& data_dir,
                                                          bool with_lexical = true);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RANKING_RANKING_PIPELINE_H_
