// Query shaping for the lexical (BM25, Xapian) index: how LexicalIndex turns a raw query into
// Xapian queries. The raw text is cut into the tokens documents are made of
// (index/lexical_document.h); brand phrases, condition words ("brand new", "used", ...),
// stopwords and duplicates are handled; each word becomes the all-fields term or the OR of its
// weighted field terms, unknown words are spell-corrected against the index's dictionary or
// dropped; and the words are combined into tiers (AND, then relaxations) that LexicalIndex
// searches in turn. LexicalSearchOptions (LexicalIndex::Options) holds the knobs.
//
// Numbers in this header: lexical_eval, test split (450 judged queries), k = 100, "demo" = the
// 20k-listing demo catalogue, "1M" = make_marketplace --listings 1000000; latencies on a shared
// 2-core machine under load, each query's fastest of 5 runs.
//
// Thread safety: the functions are pure given their inputs; Shape reads the database it is
// given (a Xapian::Database handle, which the caller must not share between threads). The
// lexical_internal namespace is shared by the index/lexical_* targets, not an API for other
// folders.
#ifndef MARKETSEARCH_INDEX_LEXICAL_QUERY_H_
#define MARKETSEARCH_INDEX_LEXICAL_QUERY_H_

#include <xapian.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "index/lexical_document.h"

namespace marketsearch {

// LexicalIndex::Options: how a LexicalIndex searches (handles, fields, relaxation, condition
// words, BM25, spelling). Defined here because query shaping reads most of it.
struct LexicalSearchOptions {
  // How the query is widened when the strict AND query returns fewer than k listings.
  enum class Relax {
    kOr,               // AND, then OR of the terms
    kDropOneThenOr,    // AND, then listings matching all terms but one, then OR
    kNone,             // AND only
    kOrOnly,           // no AND at all: one plain OR query (the baseline; slow on big indexes)
  };
  // What to do with condition words in the query ("new", "brand new", "sealed", "used",
  // "second hand", "pre owned", ...).
  enum class ConditionWords {
    kFilter,    // recognise them as a condition: tier 0 keeps only listings in that condition,
                // tier 1 drops the requirement. They are not text terms.
    kStopword,  // drop them
    kText,      // keep them as ordinary text terms
  };

  // Database handles kept open, i.e. searches that can run at the same time; more callers
  // wait. A handle costs a few file descriptors and the B-tree block caches.
  int max_handles = 4;
  // Search the unprefixed all-fields term (one posting list per query word) when the index
  // has it. Otherwise each query word is the OR of its field-prefixed terms, weighted below:
  // five posting lists per word, 1M p50 0.61 -> 1.27 ms for NDCG@10 +0.005.
  bool use_combined_field = true;
  // Query-time field weights (OP_SCALE_WEIGHT on each field's term); per-field mode only.
  double title_weight = 2.0;
  double brand_weight = 1.0;
  double category_weight = 1.0;
  double attribute_weight = 1.0;
  double description_weight = 0.3;
  // kOr. AND first matters: plain OR (kOrOnly) is NDCG@10 -0.019 on 1M (-0.012 demo) and
  // slower (mean 0.91 vs 0.76 ms). The drop-one tier: NDCG@10 +0.004 on 1M (+0.000 demo) for
  // ~3% more mean latency; a wash, kept as an option.
  Relax relax = Relax::kOr;
  // kFilter: 1M NDCG@10 0.780 (dropped) / 0.783 (as text) -> 0.798; demo 0.723 -> 0.727.
  ConditionWords condition_words = ConditionWords::kFilter;
  // BM25 parameters. b = 0 (no document length normalisation; Xapian's default is 0.5): with
  // b > 0 Xapian reads every candidate's length, ~75% of a search on 1M listings (p50 2.68 ->
  // 0.61 ms) for NDCG@10 within 0.003 either way (listings are short; their length says
  // little).
  double bm25_k1 = 1.0;
  double bm25_b = 0.0;
  // A query word the index does not know (3+ letters, no digits) is replaced by the most
  // frequent word of the index's spelling dictionary within spelling_max_edits edits (or one
  // swap of adjacent letters) that at least spelling_min_listings listings contain, instead of
  // being dropped (lexical_internal::CorrectedWord). Demo NDCG@10 0.692 -> 0.727, queries
  // without result 2.2% -> 0.7%; 1M 0.768 -> 0.798. Two edits scored lower (demo 0.724, 1M
  // 0.792: "reading" -> "wedding"); no minimum the same, but it turns "earphones" into one
  // seller's "hearphones". Swaps and 3-letter words (bench/quality_bench, demo): NDCG@10 of
  // test queries with a swapped pair 0.770 -> 0.818; misspelled test queries 0.854 -> 0.902.
  bool correct_spelling = true;
  int spelling_max_edits = 1;
  int spelling_min_listings = 3;
  // Query words beyond this many (after stopwords) are ignored: bounds the cost of a query.
  int max_query_terms = 12;
  // > 0: the OR tier (after AND found fewer than k) searches only this many of the query's
  // words, the rarest (Xapian's OP_ELITE_SET: the highest possible BM25 weight), so a query of
  // several common words does not walk all their posting lists. 0 = every word. Measured on
  // 1M at k = 200 (jobs/lexical_eval, test split, 3 reps): 4 words p99 3.61 -> 2.97 ms but mean
  // only 0.835 -> 0.794 ms for NDCG@10 0.7784 -> 0.7747, Recall@100 -0.007; 3 words p99 2.35 ms
  // for NDCG@10 -0.012. The mean is what a loaded server pays, so the default stays 0.
  int or_tier_max_terms = 0;
};

namespace lexical_internal {

// One field of the index (term prefix) and its query-time weight.
using FieldVariant = std::pair<std::string, double>;

enum class WantedCondition { kAny, kNew, kUsed };

// A query after shaping: its searchable words, each as a Xapian query (the all-fields term, or
// the OR of its weighted field terms), and the condition it asked for.
struct ShapedQuery {
  std::vector<std::string> words;    // for Explain
  std::vector<Xapian::Query> terms;  // one per word
  WantedCondition condition = WantedCondition::kAny;
};

// One tier of the search (LexicalHit::tier).
struct Tier {
  int tier;
  Xapian::Query query;
  uint8_t condition_mask = 0;  // when set, only listings whose condition bit is in the mask
};

// What Shape reads besides the query. Pointers are borrowed for the call.
struct ShapeContext {
  const Xapian::Database* db;
  const Xapian::Stem* stem;  // null: not stemmed
  // Field prefixes and weights; a single ("", 1.0) when searching the all-fields term.
  const std::vector<FieldVariant>* fields;
  bool brand_phrases;
  bool spelling;  // the index has a spelling dictionary and Options::correct_spelling
  const LexicalSearchOptions* options;
};

// The searchable words of `raw_query` (any UTF-8 text) and the condition it asks for.
ShapedQuery Shape(const std::string& raw_query, const ShapeContext& ctx);
// The same from the query's normalised tokens (ParsedQuery::terms.tokens: the request path
// normalises its query once, features/featurizer.h).
ShapedQuery ShapeTokens(const std::vector<std::string>& tokens, const ShapeContext& ctx);

// True for a word the shaper drops: a stopword, or a condition word unless those are text.
bool IsDroppableWord(const std::string& token, const ShapeContext& ctx);
// The spelling correction of `token` when it is a word no field of the index holds (a typo):
// among the dictionary's suggestion within Options::spelling_max_edits edits and the words made
// by swapping two adjacent letters after the first (Xapian counts a swap as two edits), the one
// most listings hold, if at least spelling_min_listings do and the shaper would not drop it.
// Empty when `token` is known, not 3+ ASCII letters, the index has no dictionary (ctx.spelling
// false) or nothing qualifies.
std::string CorrectedWord(const std::string& token, const ShapeContext& ctx);

// The tiers to search in turn, each containing the ones before it; none for a query without
// words.
// `or_max_terms` > 0: the OR tier searches only that many of the words, those with the highest
// possible BM25 weight (the rarest; Xapian's OP_ELITE_SET), bounding its posting-list work.
std::vector<Tier> Tiers(const ShapedQuery& q, LexicalSearchOptions::Relax relax, int or_max_terms = 0);

// The fields a query word may match in an index holding `fs`, with their weights from `o`.
std::vector<FieldVariant> FieldsOf(const FieldSet& fs, const LexicalSearchOptions& o);

}  // namespace lexical_internal
}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_LEXICAL_QUERY_H_
