// How a listing becomes a document of the lexical (BM25, Xapian) index: the options that shape
// it, the terms and their prefixes, the term length limit and the stopwords that the query side
// (index/lexical_query.h) drops as well. LexicalIndexWriter (the build job, incremental
// upserts/deletes) and LexicalDelta (fresh listings in the server) both build documents with
// ListingDocument, so fresh listings are searched exactly like indexed ones. Both sides
// tokenise with features/text_normalizer (NormalizeText + Tokenize), so a query and a listing
// are cut into the same tokens.
//
// Layout of one document (a listing):
//   Q<listing_id>        unique boolean term: upsert/delete by listing id. Xapian's docid is
//                        32-bit and listing ids are uint64, so the docid is Xapian's own.
//   value slot 0         listing_id as 8 big-endian bytes (loaded into memory at Open).
//   <token>              unprefixed, all fields in one term (Options::combined_field): wdf_inc
//                        title 3, brand 2, category/attributes/description 1. What queries use.
//   XT<token>            title tokens
//   XB<token>            brand tokens; XBF<whole normalised brand> (boolean) for brand phrases
//   XC<token>            category tokens
//   XA<token>            attribute value tokens ("128gb", "red")
//   XD<token>            description tokens (only without the combined term)
//   XK<condition>        boolean: new | like_new | used | for_parts
// Why one all-fields term: a query word costs one posting list instead of the OR of five
// field variants; on 1M listings p50 1.27 -> 0.61 ms, p99 15.8 -> 4.7 ms for NDCG@10 0.803 ->
// 0.798 (jobs/lexical_eval). The prefixed field terms stay for field-restricted queries
// (and LexicalIndex::Options::use_combined_field = false, which weights fields at query time).
// Which fields were indexed (and whether tokens were stemmed) is stored in the database's
// metadata (the keys below); LexicalIndex reads it, so a reader always shapes queries the way
// the index was built.
//
// Numbers in this header: lexical_eval, test split (450 judged queries), k = 100, "demo" = the
// 20k-listing demo catalogue, "1M" = make_marketplace --listings 1000000.
//
// Thread safety: everything here is stateless or immutable after first use (the stopword
// lists are built once, thread-safely); ListingDocument writes only to the database it is given.
// The lexical_internal namespace is shared by the index/lexical_* targets, not an API for other
// folders.
#ifndef MARKETSEARCH_INDEX_LEXICAL_DOCUMENT_H_
#define MARKETSEARCH_INDEX_LEXICAL_DOCUMENT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "proto/catalog.pb.h"

namespace Xapian {
class Document;
class Query;
class Stem;
class WritableDatabase;
}  // namespace Xapian

namespace marketsearch {

// How listings are shaped into documents: LexicalIndexWriter::Options (the writer's database
// directory and overwrite flag included), and the shape of a LexicalDelta (which ignores those
// two). LexicalIndex::document_options() reads it back from an index's metadata.
struct LexicalDocumentOptions {
  std::string path;  // database directory (created if missing)
  // Index brand, category and attribute values besides the title. Default true: demo NDCG@10
  // 0.584 -> 0.645, Recall@100 0.527 -> 0.619 (1M: 0.701 -> 0.696, 0.650 -> 0.681).
  bool index_brand_category_attributes = true;
  // Index description tokens (in the all-fields term with wdf 1; as XD terms without it).
  // Default true: demo NDCG@10 0.645 -> 0.727, Recall@100 0.619 -> 0.720, queries without
  // result 5.8% -> 0.7% (buyers' words that sellers only put in the text); 1M NDCG@10 0.696 ->
  // 0.798. Costs 1.5x the index size (1M: 422 -> 643 MB) and nothing measurable in latency.
  bool index_description = true;
  // Stem tokens with Xapian's English (Snowball) stemmer, on both sides. Default false: demo
  // NDCG@10 +0.002, Recall@100 +0.011; 1M +0.000, +0.003: not worth a second vocabulary that
  // every reader of the index (and its spelling dictionary) has to agree on.
  bool stem = false;
  // Also index every token unprefixed, in one all-fields term whose wdf counts a title
  // occurrence 3, brand 2, category/attribute/description 1 (BM25F-like, one shared length
  // normalisation). With it the description has no XD terms. See LexicalIndex::Options::
  // use_combined_field for why this is the default.
  bool combined_field = true;
  // Build Xapian's spelling dictionary from the words of every field (title, brand, category,
  // attributes, description), so that the reader can correct typos in query words the index
  // does not know (LexicalIndex::Options::correct_spelling). Title and brand words alone left
  // "outfit", "overcoat", "trainers" out; all fields: demo NDCG@10 of typo'd test queries
  // 0.8144 -> 0.8288 (bench/quality_bench, mean of five typo kinds).
  bool spelling = true;
  // Start from an empty database even when `path` holds one.
  bool overwrite = false;
};

// Xapian refuses terms (field prefix + word) longer than this. Documents skip such terms, as
// Lucene skips tokens over its maximum token length: a listing may legally hold a 300-letter
// word (a URL), and that must never make it unindexable.
inline constexpr size_t kMaxLexicalTermBytes = 245;

// The words the query shaper drops (English function words and marketplace noise such as
// "cheap", "near me", "for sale"); exposed for tests and docs.
const std::vector<std::string>& LexicalStopwords();

namespace lexical_internal {

// Value slot of the listing id (a Xapian::valueno).
inline constexpr unsigned kIdSlot = 0;

// Term prefixes of the fields (see the layout above).
inline constexpr char kTitle[] = "XT";
inline constexpr char kBrand[] = "XB";
inline constexpr char kBrandPhrase[] = "XBF";
inline constexpr char kCategory[] = "XC";
inline constexpr char kAttribute[] = "XA";
inline constexpr char kDescription[] = "XD";
inline constexpr char kCondition[] = "XK";

// Metadata written by the writer and read back by the reader.
inline constexpr char kMetaFormat[] = "marketsearch.lexical.format";
inline constexpr char kMetaFields[] = "marketsearch.lexical.fields";
inline constexpr char kMetaStem[] = "marketsearch.lexical.stem";
inline constexpr char kMetaSpelling[] = "marketsearch.lexical.spelling";
inline constexpr char kMetaSnapshot[] = "marketsearch.lexical.snapshot_unix_ms";
inline constexpr char kFormat[] = "1";

// Listing conditions as bits, for the in-memory condition check of the first tier.
inline constexpr uint8_t kCondNewBit = 1;
inline constexpr uint8_t kCondLikeNewBit = 2;
inline constexpr uint8_t kCondUsedBit = 4;
inline constexpr uint8_t kCondForPartsBit = 8;

// The listing id of a document's value slot kIdSlot; false when it holds no id.
bool DecodeId(const std::string& s, uint64_t* id);
// The unique boolean term of a listing id.
std::string IdTerm(uint64_t id);

// Which fields an index holds, as stored in its metadata.
struct FieldSet {
  bool brand_category_attributes = false;
  bool description = false;
  bool combined = false;  // the unprefixed all-fields term

  std::string Serialize() const;
  static bool Parse(const std::string& s, FieldSet* out);
};

// LexicalStopwords() as a set.
const absl::flat_hash_set<std::string>& StopwordSet();

// Words the spelling dictionary holds: at least 4 bytes, ASCII letters only (model numbers and
// sizes such as "128gb" or "10" must match exactly or not at all). A query word of 3+ letters
// may be corrected towards them (lexical_internal::CorrectedWord).
bool IsSpellingWord(const std::string& t);

// The document of one listing, shaped by `o` (see the layout above); with o.spelling its title
// and brand words also go into `db`'s spelling dictionary. `stem`: null when not stemmed.
// Terms longer than Xapian's limit are skipped (kMaxLexicalTermBytes): a listing may legally
// hold such a word (a long URL) and must stay indexable. Throws Xapian::Error only for
// failures of the database (e.g. I/O), never for the listing's content.
Xapian::Document ListingDocument(const Listing& listing, const LexicalDocumentOptions& o,
                                 const Xapian::Stem* stem, Xapian::WritableDatabase* db);

// The request filters a lexical search can apply inside Xapian, from a SearchFilters' category
// and condition any-ofs: the documents whose category holds every word of one of the
// categories (kCategory terms: a superset of the exact category, which the caller still
// checks) and whose condition is one of the conditions (kCondition terms: exact). Price and geo
// are not indexed. `has_category_terms`: the index holds kCategory terms (without them the
// categories are not applied). `*applies_all` (may be null) is set to whether every filter of
// `categories`, `conditions`, `has_price_or_geo` is applied. Returns an empty query when none
// is applied.
Xapian::Query FilterQuery(const std::vector<std::string>& categories,
                          const std::vector<int32_t>& conditions, bool has_price_or_geo,
                          bool has_category_terms, const Xapian::Stem* stem, bool* applies_all);

}  // namespace lexical_internal
}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_LEXICAL_DOCUMENT_H_
