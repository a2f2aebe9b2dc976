// CandidateSource: one retrieval leg behind one call — given the request's parsed query, its
// best `depth` listings with that leg's score. GenerateCandidates (candidate_generator.h) runs
// the legs and fuses them; the two legs of today implement it here:
//   AnnSource      query tower → FAISS (published version + live delta), filters applied inside
//   LexicalSource  Xapian BM25 (published version + live delta), categories and conditions
//                  applied inside (LexicalIndex::AppliesInside); the caller checks every hit
// A new leg is a new implementation; what it means for fusion and the ranker's features is a
// choice about Candidate (candidate_merge.h), which names legs by role.
//
// Thread safety: Retrieve() is const and may run concurrently; sources borrow their artifacts.
#ifndef MARKETSEARCH_RETRIEVAL_CANDIDATE_SOURCE_H_
#define MARKETSEARCH_RETRIEVAL_CANDIDATE_SOURCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "features/featurizer.h"
#include "index/delta_index.h"
#include "index/index_snapshot.h"
#include "index/lexical_index.h"
#include "index/listing_filter.h"
#include "retrieval/candidate_merge.h"
#include "retrieval/encoders.h"

namespace marketsearch {

struct SourceQuery {
  const ParsedQuery& query;
  int depth = 200;                       // hits wanted
  const ListingFilter* filter = nullptr;  // sources that can filter inside their search do
  int nprobe = 0;                         // IVF indexes only; 0 = index default
};

struct SourceResult {
  std::vector<ScoredId> hits;          // best first
  std::vector<float> query_embedding;  // a dense leg's query vector (the ranker reuses it)
  // The query's tokens with its misspelt words corrected, when the leg corrected any (the ANN
  // leg with a speller); empty otherwise. The ranker reads them too (ranking_features.h).
  std::vector<std::string> corrected_tokens;
  double encode_ms = 0;                // turning the query into what the leg searches with
  double search_ms = 0;
};

class CandidateSource {
 public:
  virtual ~CandidateSource() = default;
  virtual absl::StatusOr<SourceResult> Retrieve(const SourceQuery& query) const = 0;
};

class AnnSource final : public CandidateSource {
 public:
  // `delta` may be null (offline tools search the published version alone). `speller` (may be
  // null): a lexical index whose spelling dictionary corrects the query's unknown words
  // (LexicalIndex::CorrectSpelling) for the query tower, which then reads the raw and the
  // corrected words. Without it a typo (a swap) in the longest word cost the two-tower leg
  // alone NDCG@10 0.73 -> 0.45 on the demo (bench/quality_bench): the tower's character
  // trigrams do not carry a misspelt word to the listings of the right one.
  AnnSource(const QueryEncoder& encoder, const IndexSnapshot& index, const DeltaIndex* delta,
            const LexicalIndex* speller = nullptr)
      : encoder_(encoder), index_(index), delta_(delta), speller_(speller) {}
  absl::StatusOr<SourceResult> Retrieve(const SourceQuery& query) const override;

 private:
  const QueryEncoder& encoder_;
  const IndexSnapshot& index_;
  const DeltaIndex* const delta_;
  const LexicalIndex* const speller_;
};

class LexicalSource final : public CandidateSource {
 public:
  // `delta` may be null.
  LexicalSource(const LexicalIndex& index, const LexicalDelta* delta) : index_(index), delta_(delta) {}
  absl::StatusOr<SourceResult> Retrieve(const SourceQuery& query) const override;

 private:
  const LexicalIndex& index_;
  const LexicalDelta* const delta_;
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_RETRIEVAL_CANDIDATE_SOURCE_H_
