// Candidate generation for one query: the two-tower ANN leg and the Xapian BM25 leg (each a
// CandidateSource: retrieval/candidate_source.h), merged into one de-duplicated list with
// per-source scores (retrieval/candidate_merge.h). Used by
// the server's request pipeline, the ranking-data export and the retrieval benchmark, so all
// three see exactly the same candidates.
//
// Thread safety: Generate() is const and may run concurrently on shared artifacts.
#ifndef MARKETSEARCH_RETRIEVAL_CANDIDATE_GENERATOR_H_
#define MARKETSEARCH_RETRIEVAL_CANDIDATE_GENERATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "features/featurizer.h"
#include "index/delta_index.h"
#include "index/index_snapshot.h"
#include "index/lexical_index.h"
#include "index/listing_filter.h"
#include "retrieval/candidate_merge.h"
#include "retrieval/candidate_source.h"
#include "retrieval/encoders.h"

namespace marketsearch {

// The loaded artifacts retrieval needs. `lexical` may be null (ANN only).
struct RetrievalArtifacts {
  std::shared_ptr<const QueryEncoder> query_encoder;
  std::shared_ptr<const IndexSnapshot> index;
  std::shared_ptr<const LexicalIndex> lexical;
  // Fresh listings and tombstones since the index was built (not owned; may be null).
  const DeltaIndex* delta = nullptr;
  // The same for the lexical index: searched together with `lexical` (not owned; may be null).
  const LexicalDelta* lexical_delta = nullptr;
};

enum class RetrievalMode { kHybrid, kAnnOnly, kLexicalOnly };

struct RetrievalOptions {
  RetrievalMode mode = RetrievalMode::kHybrid;
  int ann_depth = 200;      // neighbours asked from FAISS
  int lexical_depth = 200;  // hits asked from Xapian
  int nprobe = 0;           // IVF indexes only; 0 = index default
  // Applied inside the ANN search (not owned; null = none); the lexical leg applies its
  // categories and conditions (LexicalIndex::SearchTokens), so callers check the lexical
  // candidates against the stored listing.
  const ListingFilter* filter = nullptr;
  FusionOptions fusion;
  // Run the lexical leg on a thread of its own while this thread encodes the query and searches
  // FAISS (hybrid mode). Measured on 2 cores before it became a default: see the README.
  bool concurrent_legs = false;
  // The ANN leg encodes the query with the words the lexical index does not know replaced by
  // their spelling corrections (AnnSource's speller), when a lexical index is loaded.
  bool correct_ann_query = true;
};

struct RetrievalResult {
  std::vector<Candidate> candidates;   // best first (fused score)
  std::vector<float> query_embedding;  // empty in kLexicalOnly mode
  // The query's tokens with misspelt words corrected (the ANN leg's speller: correct_ann_query
  // and a lexical index loaded); empty when nothing was corrected or no ANN leg ran.
  std::vector<std::string> corrected_tokens;
  double encode_ms = 0, ann_ms = 0, lexical_ms = 0, merge_ms = 0;
  bool concurrent = false;  // the two legs ran at the same time
};

// The request path's call: `query` parsed once per request (features/featurizer.h).
absl::StatusOr<RetrievalResult> GenerateCandidates(const RetrievalArtifacts& artifacts,
                                                   const ParsedQuery& query,
                                                   const RetrievalOptions& options);
// The legs as sources (null = that leg does not run; RetrievalOptions::mode is the caller's
// choice of which to pass): runs them, concurrently when options.concurrent_legs and both are
// set, and fuses their hits. The ANN leg gets ann_depth, the filter and nprobe; the lexical
// leg lexical_depth and the filter. Returns the first failing leg's error.
absl::StatusOr<RetrievalResult> GenerateFromSources(const CandidateSource* ann,
                                                    const CandidateSource* lexical,
                                                    const ParsedQuery& query,
                                                    const RetrievalOptions& options);
// Offline tools: parses `raw_query`, then the above.
absl::StatusOr<RetrievalResult> GenerateCandidates(const RetrievalArtifacts& artifacts,
                                                   const std::string& raw_query,
                                                   const RetrievalOptions& options);

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_CANDIDATE_GENERATOR_H_
