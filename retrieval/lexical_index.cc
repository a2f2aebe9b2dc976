#include "retrieval/lexical_index.h"

#include <xapian.h>

#include <signal.h>  // kill
#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // getpid

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "features/text_normalizer.h"

namespace marketsearch {
namespace {

constexpr Xapian::valueno kIdSlot = 0;

constexpr char kTitle[] = "XT";
constexpr char kBrand[] = "XB";
constexpr char kBrandPhrase[] = "XBF";
constexpr char kCategory[] = "XC";
constexpr char kAttribute[] = "XA";
constexpr char kDescription[] = "XD";
constexpr char kCondition[] = "XK";
// Longer words are not added to the spelling dictionary: no buyer types them.
constexpr size_t kMaxSpellingWordBytes = 64;

// wdf added per occurrence to the unprefixed all-fields term: a word in the title counts three
// times a word in the description, a brand word twice.
constexpr int kTitleWdf = 3;
constexpr int kBrandWdf = 2;
constexpr int kCategoryWdf = 1;
constexpr int kAttributeWdf = 1;
constexpr int kDescriptionWdf = 1;

// Metadata written by the writer and read back by the reader.
constexpr char kMetaFormat[] = "marketsearch.lexical.format";
constexpr char kMetaFields[] = "marketsearch.lexical.fields";
constexpr char kMetaStem[] = "marketsearch.lexical.stem";
constexpr char kMetaSpelling[] = "marketsearch.lexical.spelling";
constexpr char kMetaSnapshot[] = "marketsearch.lexical.snapshot_unix_ms";
constexpr char kFormat[] = "1";

// A LexicalDelta numbers its documents from here up (below 2^31, so that the docids of the
// two-database search, which interleave the databases' docids, stay 32-bit). A match decider
// sees each database's own docid, so this is how it tells a delta document from a main one;
// a main index must hold fewer documents (Search refuses a delta otherwise).
constexpr Xapian::docid kDeltaFirstDocid = 1u << 30;
constexpr Xapian::docid kDeltaDocidLimit = 1u << 31;

// Brand phrases are looked up over at most this many query tokens.
constexpr int kMaxBrandPhraseTokens = 4;

std::string EncodeId(uint64_t id) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[i] = static_cast<char>(id & 0xff);
    id >>= 8;
  }
  return s;
}

bool DecodeId(const std::string& s, uint64_t* id) {
  if (s.size() != 8) return false;
  uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  *id = v;
  return true;
}

std::string IdTerm(uint64_t id) { return absl::StrCat("Q", id); }

// Listing conditions as bits, for the in-memory condition check of the first tier.
constexpr uint8_t kCondNewBit = 1;
constexpr uint8_t kCondLikeNewBit = 2;
constexpr uint8_t kCondUsedBit = 4;
constexpr uint8_t kCondForPartsBit = 8;

const char* ConditionName(Condition c) {
  switch (c) {
    case CONDITION_NEW: return "new";
    case CONDITION_LIKE_NEW: return "like_new";
    case CONDITION_USED: return "used";
    case CONDITION_FOR_PARTS: return "for_parts";
    default: return "";
  }
}

// Xapian's exception classes onto canonical codes; `what` says which operation on which path.
// Xapian::Error is not polymorphic (no dynamic_cast); get_type() names the most derived class.
absl::Status FromXapian(const Xapian::Error& e, const std::string& what) {
  const std::string type = e.get_type();
  const std::string msg = absl::StrCat(what, ": ", type, ": ", e.get_msg());
  if (type == "DatabaseNotFoundError") return absl::NotFoundError(msg);
  if (type == "DatabaseCorruptError") return absl::DataLossError(msg);
  if (type == "DatabaseVersionError" || type == "DatabaseLockError") {
    return absl::FailedPreconditionError(msg);
  }
  // Any other failure to open, and the plain DatabaseError that glass raises for a block it
  // cannot read ("EOF reading block 0" from a truncated table), mean the files are damaged.
  if (type == "DatabaseOpeningError" || type == "DatabaseError") return absl::DataLossError(msg);
  if (type == "DatabaseModifiedError") return absl::AbortedError(msg);
  if (type == "InvalidArgumentError") return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

absl::Status FromStd(const std::exception& e, const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", e.what()));
}

// Which fields an index holds, as stored in its metadata.
struct FieldSet {
  bool brand_category_attributes = false;
  bool description = false;
  bool combined = false;  // the unprefixed all-fields term

  std::string Serialize() const {
    std::string s = "title";
    if (brand_category_attributes) s += ",brand,category,attributes";
    if (description) s += ",description";
    if (combined) s += ",combined";
    return s;
  }
  static bool Parse(const std::string& s, FieldSet* out) {
    FieldSet f;
    bool title = false;
    for (absl::string_view part : absl::StrSplit(s, ',')) {
      if (part == "title") {
        title = true;
      } else if (part == "brand" || part == "category" || part == "attributes") {
        f.brand_category_attributes = true;
      } else if (part == "description") {
        f.description = true;
      } else if (part == "combined") {
        f.combined = true;
      } else {
        return false;
      }
    }
    if (!title) return false;
    *out = f;
    return true;
  }
};

// Normalised (and optionally stemmed) tokens of `text`.
std::vector<std::string> Tokens(const std::string& text, const Xapian::Stem* stem) {
  std::vector<std::string> tokens = Tokenize(NormalizeText(text));
  if (stem != nullptr) {
    for (std::string& t : tokens) t = (*stem)(t);
  }
  return tokens;
}

// ---------------------------------------------------------------------------- query shaping

// Marketplace queries carry words that say nothing about the listing text: English function
// words and shopping noise ("cheap", "near me", "for sale", "deals", "in <city>" keeps the city
// name, which simply finds nothing). Dropping them matters twice: they would make the AND tier
// miss good listings, and they are the frequent terms that make OR queries slow.
// "new"/"used" are NOT here: they carry condition intent (an Exact listing for "used iphone 12"
// must be used or like new, and most used listings never say "used"), so they are matched
// against the listing's condition field instead of its text; see ConditionWords.
const std::vector<std::string>& StopwordList() {
  static const auto* words = new std::vector<std::string>{
      // English function words.
      "a", "an", "the", "and", "or", "of", "for", "with", "without", "in", "on", "at", "to",
      "from", "by", "is", "are", "be", "it", "its", "this", "that", "my", "your", "our", "i",
      "im", "me", "we", "you", "some", "any", "very",
      // Shopping noise.
      "near", "nearby", "local", "cheap", "cheapest", "affordable", "budget", "best", "top",
      "buy", "buying", "purchase", "sale", "sales", "sell", "selling", "deal", "deals", "offer",
      "offers", "discount", "discounted", "price", "prices", "bargain", "wanted", "want",
      "looking", "shop", "store", "online", "free", "shipping", "delivery",
  };
  return *words;
}

const absl::flat_hash_set<std::string>& StopwordSet() {
  static const auto* set =
      new absl::flat_hash_set<std::string>(StopwordList().begin(), StopwordList().end());
  return *set;
}

enum class WantedCondition { kAny, kNew, kUsed };

struct ConditionPhrase {
  std::vector<std::string> words;
  WantedCondition condition;
};

// Longest phrases first. "like new" asks for a used item in very good shape: the catalogue's
// "used" intent accepts both used and like_new listings.
const std::vector<ConditionPhrase>& ConditionPhrases() {
  static const auto* phrases = new std::vector<ConditionPhrase>{
      {{"new", "in", "box"}, WantedCondition::kNew},
      {{"new", "with", "tags"}, WantedCondition::kNew},
      {{"brand", "new"}, WantedCondition::kNew},
      {{"never", "used"}, WantedCondition::kNew},
      {{"second", "hand"}, WantedCondition::kUsed},
      {{"pre", "owned"}, WantedCondition::kUsed},
      {{"pre", "loved"}, WantedCondition::kUsed},
      {{"like", "new"}, WantedCondition::kUsed},
      {{"new"}, WantedCondition::kNew},
      {{"sealed"}, WantedCondition::kNew},
      {{"unopened"}, WantedCondition::kNew},
      {{"bnib"}, WantedCondition::kNew},
      {{"bnwt"}, WantedCondition::kNew},
      {{"used"}, WantedCondition::kUsed},
      {{"secondhand"}, WantedCondition::kUsed},
      {{"preowned"}, WantedCondition::kUsed},
      {{"preloved"}, WantedCondition::kUsed},
  };
  return *phrases;
}

bool IsConditionWord(const std::string& t) {
  for (const ConditionPhrase& p : ConditionPhrases()) {
    for (const std::string& w : p.words) {
      if (w == t) return true;
    }
  }
  return false;
}

// Words worth a spelling correction: at least 4 bytes, ASCII letters only (model numbers and
// sizes such as "128gb" or "10" must match exactly or not at all).
bool IsSpellingWord(const std::string& t) {
  if (t.size() < 4) return false;
  for (unsigned char c : t) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

}  // namespace

const std::vector<std::string>& LexicalStopwords() { return StopwordList(); }

// ---------------------------------------------------------------------------- writer

namespace {

// The document of one listing, shaped by `o` (see the layout in the header); with o.spelling
// its title and brand words also go into `db`'s spelling dictionary. Shared by the index
// writer and LexicalDelta, so that fresh listings are searched exactly like indexed ones.
// Terms longer than Xapian's limit are skipped (kMaxLexicalTermBytes): a listing may legally
// hold such a word (a long URL) and must stay indexable. Throws Xapian::Error only for
// failures of the database (e.g. I/O), never for the listing's content.
Xapian::Document ListingDocument(const Listing& listing, const LexicalIndexWriter::Options& o,
                                 const Xapian::Stem* stem, Xapian::WritableDatabase* db) {
  Xapian::Document doc;
  auto add_term = [&doc](const std::string& term, Xapian::termcount wdf) {
    if (term.size() <= kMaxLexicalTermBytes) doc.add_term(term, wdf);
  };
  auto add_boolean_term = [&doc](const std::string& term) {
    if (term.size() <= kMaxLexicalTermBytes) doc.add_boolean_term(term);
  };
  add_boolean_term(IdTerm(listing.listing_id()));
  doc.add_value(kIdSlot, EncodeId(listing.listing_id()));
  const bool combined = o.combined_field;
  // Each field's tokens under its prefix (wdf 1 each) and, with combined_field, once more
  // unprefixed with the field's wdf_inc.
  auto add = [&](const std::string& text, const char* prefix, int combined_wdf) {
    for (const std::string& t : Tokens(text, stem)) {
      if (prefix != nullptr) add_term(prefix + t, 1);
      if (combined) add_term(t, combined_wdf);
    }
  };
  add(listing.title(), kTitle, kTitleWdf);
  if (o.spelling) {
    // The dictionary typos are corrected towards: title and brand words (what buyers type),
    // unstemmed, letters only and long enough that an edit or two still leaves a word (and
    // short enough to be a word at all).
    for (const std::string* text : {&listing.title(), &listing.brand()}) {
      for (const std::string& t : Tokenize(NormalizeText(*text))) {
        if (IsSpellingWord(t) && t.size() <= kMaxSpellingWordBytes && !StopwordSet().contains(t)) {
          db->add_spelling(t);
        }
      }
    }
  }
  if (o.index_brand_category_attributes) {
    add(listing.brand(), kBrand, kBrandWdf);
    const std::string brand_phrase = NormalizeText(listing.brand());
    if (!brand_phrase.empty()) add_boolean_term(kBrandPhrase + brand_phrase);
    add(listing.category(), kCategory, kCategoryWdf);
    for (const Attribute& a : listing.attributes()) add(a.value(), kAttribute, kAttributeWdf);
  }
  // With the combined term the description is searched only through it: its XD terms would
  // double the largest part of the index for no query that uses them.
  if (o.index_description) {
    add(listing.description(), combined ? nullptr : kDescription, kDescriptionWdf);
  }
  const char* cond = ConditionName(listing.condition());
  if (*cond != '\0') add_boolean_term(absl::StrCat(kCondition, cond));
  return doc;
}

}  // namespace

LexicalIndexWriter::LexicalIndexWriter(const Options& options) : options_(options) {}

LexicalIndexWriter::~LexicalIndexWriter() {
  if (db_ == nullptr) return;
  try {
    db_->close();  // commits pending changes
  } catch (const Xapian::Error& e) {
    std::fprintf(stderr, "LexicalIndexWriter(%s): close: %s\n", options_.path.c_str(),
                 e.get_description().c_str());
  }
}

absl::StatusOr<std::unique_ptr<LexicalIndexWriter>> LexicalIndexWriter::Open(
    const Options& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("lexical index path is empty");
  std::unique_ptr<LexicalIndexWriter> w(new LexicalIndexWriter(options));
  FieldSet fields;
  fields.brand_category_attributes = options.index_brand_category_attributes;
  fields.description = options.index_description;
  fields.combined = options.combined_field;
  const std::string stem = options.stem ? "english" : "none";
  try {
    std::error_code ec;
    std::filesystem::create_directories(options.path, ec);
    const int flags = (options.overwrite ? Xapian::DB_CREATE_OR_OVERWRITE
                                         : Xapian::DB_CREATE_OR_OPEN) |
                      Xapian::DB_BACKEND_GLASS;
    w->db_ = std::make_unique<Xapian::WritableDatabase>(options.path, flags);
    if (options.stem) w->stem_ = std::make_unique<Xapian::Stem>("english");
    const std::string format = w->db_->get_metadata(kMetaFormat);
    if (format.empty()) {
      w->db_->set_metadata(kMetaFormat, kFormat);
      w->db_->set_metadata(kMetaFields, fields.Serialize());
      w->db_->set_metadata(kMetaStem, stem);
      w->db_->set_metadata(kMetaSpelling, options.spelling ? "1" : "0");
    } else if (format != kFormat || w->db_->get_metadata(kMetaFields) != fields.Serialize() ||
               w->db_->get_metadata(kMetaStem) != stem ||
               w->db_->get_metadata(kMetaSpelling) != (options.spelling ? "1" : "0")) {
      const std::string have = absl::StrCat(
          "format ", format, ", fields ", w->db_->get_metadata(kMetaFields), ", stem ",
          w->db_->get_metadata(kMetaStem), ", spelling ", w->db_->get_metadata(kMetaSpelling));
      w->db_.reset();
      return absl::FailedPreconditionError(absl::StrCat(
          "lexical index ", options.path, " was built with ", have, "; asked for fields ",
          fields.Serialize(), ", stem ", stem, ", spelling ", options.spelling ? "1" : "0",
          " (rebuild it, or pass overwrite)"));
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("open lexical index ", options.path, " for writing"));
  } catch (const std::exception& e) {
    return FromStd(e, absl::StrCat("open lexical index ", options.path, " for writing"));
  }
  return w;
}

absl::Status LexicalIndexWriter::Add(const Listing& listing) {
  try {
    db_->replace_document(IdTerm(listing.listing_id()),
                          ListingDocument(listing, options_, stem_.get(), db_.get()));
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("lexical index ", options_.path, ": add listing ",
                                      listing.listing_id()));
  } catch (const std::exception& e) {
    return FromStd(e, absl::StrCat("lexical index ", options_.path, ": add listing ",
                                   listing.listing_id()));
  }
  return absl::OkStatus();
}

absl::Status LexicalIndexWriter::Delete(uint64_t listing_id) {
  try {
    db_->delete_document(IdTerm(listing_id));
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("lexical index ", options_.path, ": delete listing ",
                                      listing_id));
  }
  return absl::OkStatus();
}

absl::Status LexicalIndexWriter::Commit() {
  try {
    db_->commit();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("lexical index ", options_.path, ": commit"));
  } catch (const std::exception& e) {
    return FromStd(e, absl::StrCat("lexical index ", options_.path, ": commit"));
  }
  return absl::OkStatus();
}

absl::Status LexicalIndexWriter::SetSnapshotUnixMs(int64_t snapshot_unix_ms) {
  try {
    db_->set_metadata(kMetaSnapshot, absl::StrCat(snapshot_unix_ms));
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("lexical index ", options_.path, ": set snapshot time"));
  }
  return absl::OkStatus();
}

int64_t LexicalIndexWriter::num_docs() const {
  try {
    return static_cast<int64_t>(db_->get_doccount());
  } catch (const Xapian::Error&) {
    return -1;
  }
}

// ---------------------------------------------------------------------------- reader

struct LexicalIndex::Handle {
  explicit Handle(const std::string& path) : db(path, Xapian::DB_BACKEND_GLASS), enquire(db) {}
  Xapian::Database db;
  Xapian::Enquire enquire;
  Xapian::Stem stem;  // english when the index is stemmed, else unused
  // Searches with a LexicalDelta: this handle's own reader of the delta database, `db` plus
  // that reader as one database, and its Enquire. Made on first use with a delta.
  uint64_t delta_instance = 0;  // LexicalDelta::instance_ of delta_db; 0 = none yet
  uint64_t delta_revision = 0;  // the delta's revision delta_db was (re)opened at
  Xapian::Database delta_db;
  Xapian::Database combined;
  std::unique_ptr<Xapian::Enquire> combined_enquire;
};

class LexicalIndex::Pool : public internal::HandlePool<LexicalIndex::Handle> {
 public:
  using HandlePool::HandlePool;
};

namespace {

// One field of the index (term prefix) and its query-time weight.
using FieldVariant = std::pair<std::string, double>;

// A query after shaping: its searchable words, each as a Xapian query (the all-fields term, or
// the OR of its weighted field terms), and the condition it asked for.
struct ShapedQuery {
  std::vector<std::string> words;    // for Explain
  std::vector<Xapian::Query> terms;  // one per word
  WantedCondition condition = WantedCondition::kAny;
};

struct Tier {
  int tier;
  Xapian::Query query;
  uint8_t condition_mask = 0;  // when set, only listings whose condition bit is in the mask
};

// Condition bits wanted by a query.
uint8_t ConditionMask(WantedCondition c) {
  switch (c) {
    case WantedCondition::kNew: return kCondNewBit;
    case WantedCondition::kUsed: return kCondUsedBit | kCondLikeNewBit;  // "used" accepts both
    default: return 0;
  }
}

// Decides which matching documents may enter a tier's result: the first tier's condition
// check and, with a LexicalDelta, the skipping of the main index's copies that the delta
// superseded. The condition check is not an OP_FILTER on the XK terms: "used" holds about
// half of all listings, so the filter would decode a posting list of half the index for every
// such query. Xapian calls the decider only for documents that could enter the result set,
// with the docid of the database holding the document (delta documents: kDeltaFirstDocid and
// up); condition and listing id come from arrays filled at Open (delta documents: from their
// terms and value).
class HitDecider : public Xapian::MatchDecider {
 public:
  HitDecider(const std::vector<uint64_t>* listing_by_docid,
             const std::vector<uint8_t>* condition_by_docid, uint8_t mask,
             std::function<bool(uint64_t)> superseded)
      : listing_by_docid_(listing_by_docid), condition_by_docid_(condition_by_docid),
        mask_(mask), superseded_(std::move(superseded)) {}
  bool active() const { return mask_ != 0 || superseded_ != nullptr; }

  bool operator()(const Xapian::Document& doc) const override {
    const Xapian::docid did = doc.get_docid();
    const bool main = did < kDeltaFirstDocid;
    if (superseded_ != nullptr && main) {
      uint64_t id = did < listing_by_docid_->size() ? (*listing_by_docid_)[did] : 0;
      if (id == 0) DecodeId(doc.get_value(kIdSlot), &id);
      if (superseded_(id)) return false;
    }
    if (mask_ == 0) return true;
    if (main && did < condition_by_docid_->size() && (*condition_by_docid_)[did] != 0) {
      return ((*condition_by_docid_)[did] & mask_) != 0;
    }
    auto it = doc.termlist_begin();
    it.skip_to(kCondition);
    for (; it != doc.termlist_end(); ++it) {
      const std::string term = *it;
      if (term.compare(0, 2, kCondition) != 0) break;
      const std::string name = term.substr(2);
      const uint8_t bit = name == "new" ? kCondNewBit : name == "like_new" ? kCondLikeNewBit
                        : name == "used" ? kCondUsedBit : name == "for_parts" ? kCondForPartsBit : 0;
      if ((bit & mask_) != 0) return true;
    }
    return false;
  }

 private:
  const std::vector<uint64_t>* listing_by_docid_;
  const std::vector<uint8_t>* condition_by_docid_;
  uint8_t mask_;
  std::function<bool(uint64_t)> superseded_;  // null: no delta
};

// BM25 with the configured parameters; the order of equal weights does not matter.
void ConfigureEnquire(Xapian::Enquire* enquire, const LexicalIndex::Options& options) {
  enquire->set_weighting_scheme(Xapian::BM25Weight(options.bm25_k1, 0, 1, options.bm25_b, 0.5));
  enquire->set_docid_order(Xapian::Enquire::DONT_CARE);
}

struct ShapeContext {
  const Xapian::Database* db;
  const Xapian::Stem* stem;  // null: not stemmed
  // Field prefixes and weights; a single ("", 1.0) when searching the all-fields term.
  const std::vector<FieldVariant>* fields;
  bool brand_phrases;
  bool spelling;  // the index has a spelling dictionary and Options::correct_spelling
  const LexicalIndex::Options* options;
};

using Options = LexicalIndex::Options;

ShapedQuery Shape(const std::string& raw_query, const ShapeContext& ctx) {
  ShapedQuery out;
  const std::vector<std::string> tokens = Tokenize(NormalizeText(raw_query));
  const size_t n = tokens.size();
  if (n == 0) return out;
  const auto& stop = StopwordSet();
  const auto droppable = [&](const std::string& t) {
    return stop.contains(t) ||
           (ctx.options->condition_words != LexicalIndex::ConditionWords::kText &&
            IsConditionWord(t));
  };

  // 1. Brand phrases: a run of tokens that is a whole brand of some listing keeps its words even
  //    when they look like stopwords or conditions ("new balance", "the north face"). Only runs
  //    holding such a word are looked up, so most queries cost no lookup here.
  std::vector<bool> keep(n, false);
  if (ctx.brand_phrases) {
    for (size_t i = 0; i < n;) {
      size_t matched = 0;
      for (size_t len = std::min<size_t>(kMaxBrandPhraseTokens, n - i); len >= 2; --len) {
        bool has_droppable = false;
        for (size_t j = i; j < i + len; ++j) has_droppable |= droppable(tokens[j]);
        if (!has_droppable) continue;
        std::string phrase = tokens[i];
        for (size_t j = i + 1; j < i + len; ++j) absl::StrAppend(&phrase, " ", tokens[j]);
        if (ctx.db->term_exists(kBrandPhrase + phrase)) {
          matched = len;
          break;
        }
      }
      if (matched > 0) {
        for (size_t j = i; j < i + matched; ++j) keep[j] = true;
        i += matched;
      } else {
        ++i;
      }
    }
  }

  // 2. Condition phrases (longest first) on the words not kept as a brand.
  std::vector<bool> drop(n, false);
  if (ctx.options->condition_words != LexicalIndex::ConditionWords::kText) {
    bool saw_new = false, saw_used = false;
    for (size_t i = 0; i < n; ++i) {
      if (keep[i] || drop[i]) continue;
      for (const ConditionPhrase& p : ConditionPhrases()) {
        const size_t len = p.words.size();
        if (i + len > n) continue;
        bool match = true;
        for (size_t j = 0; j < len && match; ++j) {
          match = !keep[i + j] && tokens[i + j] == p.words[j];
        }
        if (!match) continue;
        for (size_t j = 0; j < len; ++j) drop[i + j] = true;
        (p.condition == WantedCondition::kNew ? saw_new : saw_used) = true;
        break;
      }
    }
    if (ctx.options->condition_words == LexicalIndex::ConditionWords::kFilter &&
        saw_new != saw_used) {
      out.condition = saw_new ? WantedCondition::kNew : WantedCondition::kUsed;
    }
  }

  // 3. Stopwords, duplicates, the term cap; then each word becomes the combination of its
  //    field-prefixed terms that exist in the index. A word no field has ever seen (a typo, a
  //    city) is dropped rather than allowed to empty the AND tier.
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i] && (drop[i] || stop.contains(tokens[i]))) continue;
    if (static_cast<int>(out.terms.size()) >= ctx.options->max_query_terms) break;
    auto variants_of = [&](const std::string& token) {
      const std::string word = ctx.stem != nullptr ? (*ctx.stem)(token) : token;
      std::vector<Xapian::Query> variants;
      for (const FieldVariant& f : *ctx.fields) {
        std::string term = f.first + word;
        if (!ctx.db->term_exists(term)) continue;
        Xapian::Query q(term);
        if (f.second != 1.0) q = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q, f.second);
        variants.push_back(std::move(q));
      }
      return std::make_pair(word, std::move(variants));
    };
    auto [word, variants] = variants_of(tokens[i]);
    if (variants.empty() && ctx.spelling && IsSpellingWord(tokens[i])) {
      // An unknown word is most often a typo ("nkie"): the most frequent dictionary word within
      // Options::spelling_max_edits, unless that word is itself rare: sellers make typos too,
      // and "earphones" must not become one listing's "hearphones".
      const Options& o = *ctx.options;
      const std::string fixed =
          ctx.db->get_spelling_suggestion(tokens[i], static_cast<unsigned>(o.spelling_max_edits));
      // Never towards a word the shaper would drop ("male" -> "sale").
      if (!fixed.empty() && !droppable(fixed)) {
        const std::string fixed_word = ctx.stem != nullptr ? (*ctx.stem)(fixed) : fixed;
        int64_t listings = 0;  // in the field that has it most often
        for (const FieldVariant& f : *ctx.fields) {
          listings = std::max<int64_t>(listings, ctx.db->get_termfreq(f.first + fixed_word));
        }
        if (listings >= o.spelling_min_listings) std::tie(word, variants) = variants_of(fixed);
      }
    }
    if (variants.empty() || !seen.insert(word).second) continue;
    out.words.push_back(word);
    // The field variants' weights add up (OP_OR). Not OP_MAX: Xapian 1.4.22 segfaults in
    // get_mset on OP_MAX over OP_SCALE_WEIGHT subqueries inside an OR (seen here with k=100).
    if (variants.size() == 1) {
      out.terms.push_back(std::move(variants[0]));
    } else {
      out.terms.emplace_back(Xapian::Query::OP_OR, variants.begin(), variants.end());
    }
  }
  return out;
}

std::vector<Tier> Tiers(const ShapedQuery& q, LexicalIndex::Relax relax) {
  std::vector<Tier> tiers;
  if (q.terms.empty()) return tiers;
  const size_t n = q.terms.size();
  const Xapian::Query any(Xapian::Query::OP_OR, q.terms.begin(), q.terms.end());
  if (relax == LexicalIndex::Relax::kOrOnly) {
    tiers.push_back({3, any});
    return tiers;
  }
  const Xapian::Query all(Xapian::Query::OP_AND, q.terms.begin(), q.terms.end());
  if (q.condition != WantedCondition::kAny) {
    tiers.push_back({0, all, ConditionMask(q.condition)});
    tiers.push_back({1, all});
  } else {
    tiers.push_back({0, all});
  }
  if (relax == LexicalIndex::Relax::kNone || n == 1) return tiers;
  if (relax == LexicalIndex::Relax::kDropOneThenOr && n >= 3) {
    // All but one term: OR of the n AND-queries that each leave one term out. Each is an AND,
    // so this stays cheap where a plain OR over frequent terms is not.
    std::vector<Xapian::Query> drop_one;
    for (size_t skip = 0; skip < n; ++skip) {
      std::vector<Xapian::Query> rest;
      for (size_t i = 0; i < n; ++i) {
        if (i != skip) rest.push_back(q.terms[i]);
      }
      drop_one.emplace_back(Xapian::Query::OP_AND, rest.begin(), rest.end());
    }
    tiers.push_back({2, Xapian::Query(Xapian::Query::OP_OR, drop_one.begin(), drop_one.end())});
  }
  tiers.push_back({3, any});
  return tiers;
}

std::vector<FieldVariant> FieldsOf(const FieldSet& fs, const LexicalIndex::Options& o) {
  std::vector<FieldVariant> f;
  f.emplace_back(kTitle, o.title_weight);
  if (fs.brand_category_attributes) {
    f.emplace_back(kBrand, o.brand_weight);
    f.emplace_back(kCategory, o.category_weight);
    f.emplace_back(kAttribute, o.attribute_weight);
  }
  if (fs.description && !fs.combined) f.emplace_back(kDescription, o.description_weight);
  if (fs.combined && o.use_combined_field) f = {{"", 1.0}};
  // A zero weight switches a field off at query time.
  f.erase(std::remove_if(f.begin(), f.end(), [](const FieldVariant& v) { return v.second <= 0; }),
          f.end());
  return f;
}

}  // namespace

LexicalIndex::~LexicalIndex() = default;

absl::StatusOr<std::unique_ptr<LexicalIndex>> LexicalIndex::Open(const std::string& path) {
  return Open(path, Options());
}

absl::StatusOr<std::unique_ptr<LexicalIndex>> LexicalIndex::Open(const std::string& path,
                                                                 const Options& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    return absl::NotFoundError(absl::StrCat("lexical index ", path, ": no such directory"));
  }
  if (options.max_handles < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_handles must be >= 1, got ", options.max_handles));
  }
  std::unique_ptr<LexicalIndex> index(new LexicalIndex());
  index->path_ = path;
  index->options_ = options;
  std::unique_ptr<Handle> first;
  FieldSet fields;
  std::string stem;
  try {
    first = std::make_unique<Handle>(path);
    const std::string format = first->db.get_metadata(kMetaFormat);
    if (format.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "lexical index ", path, ": a Xapian database without marketsearch metadata (not built "
          "by LexicalIndexWriter)"));
    }
    if (format != kFormat) {
      return absl::FailedPreconditionError(
          absl::StrCat("lexical index ", path, ": format ", format, ", this build reads ", kFormat));
    }
    const std::string fields_text = first->db.get_metadata(kMetaFields);
    if (!FieldSet::Parse(fields_text, &fields)) {
      return absl::DataLossError(
          absl::StrCat("lexical index ", path, ": bad fields metadata '", fields_text, "'"));
    }
    index->has_spelling_ = first->db.get_metadata(kMetaSpelling) == "1";
    stem = first->db.get_metadata(kMetaStem);
    if (stem != "none" && stem != "english") {
      return absl::DataLossError(
          absl::StrCat("lexical index ", path, ": bad stem metadata '", stem, "'"));
    }
    const std::string snapshot = first->db.get_metadata(kMetaSnapshot);
    if (!snapshot.empty() && !absl::SimpleAtoi(snapshot, &index->snapshot_unix_ms_)) {
      return absl::DataLossError(
          absl::StrCat("lexical index ", path, ": bad snapshot metadata '", snapshot, "'"));
    }
    index->num_docs_ = static_cast<int64_t>(first->db.get_doccount());
    index->listing_of_docid_.assign(static_cast<size_t>(first->db.get_lastdocid()) + 1, 0);
    for (auto it = first->db.valuestream_begin(kIdSlot); it != first->db.valuestream_end(kIdSlot);
         ++it) {
      uint64_t id = 0;
      if (DecodeId(*it, &id)) index->listing_of_docid_[it.get_docid()] = id;
    }
    index->condition_of_docid_.assign(index->listing_of_docid_.size(), 0);
    for (const auto& [name, bit] : {std::pair<const char*, uint8_t>{"new", kCondNewBit},
                                    {"like_new", kCondLikeNewBit},
                                    {"used", kCondUsedBit},
                                    {"for_parts", kCondForPartsBit}}) {
      const std::string term = absl::StrCat(kCondition, name);
      for (auto it = first->db.postlist_begin(term); it != first->db.postlist_end(term); ++it) {
        if (*it < index->condition_of_docid_.size()) index->condition_of_docid_[*it] |= bit;
      }
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("open lexical index ", path));
  } catch (const std::exception& e) {
    return FromStd(e, absl::StrCat("open lexical index ", path));
  }

  const bool stemmed = stem == "english";
  // Per-handle settings live in the factory so that handles made later match the first one.
  auto setup = [options, stemmed](Handle* h) {
    ConfigureEnquire(&h->enquire, options);
    if (stemmed) h->stem = Xapian::Stem("english");
  };
  try {
    setup(first.get());
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("open lexical index ", path));
  }
  index->pool_ = std::make_unique<Pool>(
      [path, setup]() -> absl::StatusOr<std::unique_ptr<Handle>> {
        try {
          auto h = std::make_unique<Handle>(path);
          setup(h.get());
          return h;
        } catch (const Xapian::Error& e) {
          return FromXapian(e, absl::StrCat("open lexical index ", path));
        } catch (const std::exception& e) {
          return FromStd(e, absl::StrCat("open lexical index ", path));
        }
      },
      options.max_handles);
  index->pool_->Add(std::move(first));
  index->fields_ = FieldsOf(fields, options);
  LexicalIndexWriter::Options& shape = index->document_options_;
  shape.index_brand_category_attributes = fields.brand_category_attributes;
  shape.index_description = fields.description;
  shape.combined_field = fields.combined;
  shape.stem = stemmed;
  shape.spelling = index->has_spelling_;
  index->stemmed_ = stemmed;
  index->brand_phrases_ = fields.brand_category_attributes;
  return index;
}

absl::StatusOr<std::vector<LexicalHit>> LexicalIndex::Search(const std::string& raw_query,
                                                             int k,
                                                             const LexicalDelta* delta) const {
  if (k < 0) return absl::InvalidArgumentError(absl::StrCat("k must be >= 0, got ", k));
  std::vector<LexicalHit> hits;
  if (k == 0) return hits;
  if (delta != nullptr && !delta->SameShape(*this)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lexical index ", path_, ": the lexical delta shapes documents differently"));
  }
  if (delta != nullptr && listing_of_docid_.size() > kDeltaFirstDocid) {
    return absl::FailedPreconditionError(
        absl::StrCat("lexical index ", path_, ": too many documents to search with a delta"));
  }
  auto lease = pool_->Acquire();
  if (!lease.ok()) return lease.status();
  Handle& h = **lease;
  // The delta's shared lock for the whole search (see LexicalDelta); an empty delta is skipped.
  std::optional<absl::ReaderMutexLock> delta_lock;
  if (delta != nullptr) {
    delta_lock.emplace(&delta->mu_);
    if (delta->entries_.empty()) {
      delta_lock.reset();
      delta = nullptr;
    }
  }
  Xapian::Database* db = &h.db;
  Xapian::Enquire* enquire = &h.enquire;
  std::function<bool(uint64_t)> superseded;
  if (delta != nullptr) {
    try {
      if (h.delta_instance != delta->instance_) {
        h.delta_db = Xapian::Database(delta->dir_, Xapian::DB_BACKEND_GLASS);
        h.combined = h.db;  // a copy shares the open main database; add_database extends the copy
        h.combined.add_database(h.delta_db);
        h.combined_enquire = std::make_unique<Xapian::Enquire>(h.combined);
        ConfigureEnquire(h.combined_enquire.get(), options_);
        h.delta_instance = delta->instance_;
      } else if (h.delta_revision != delta->revision_) {
        h.delta_db.reopen();  // `combined` shares this reader, so it sees the new revision too
      }
      h.delta_revision = delta->revision_;
    } catch (const Xapian::Error& e) {
      lease->Discard();
      return FromXapian(e, absl::StrCat("open lexical delta ", delta->dir_));
    }
    db = &h.combined;
    enquire = h.combined_enquire.get();
    superseded = [entries = &delta->entries_](uint64_t id) { return entries->contains(id); };
  }
  // A published version never changes, but a database that a writer keeps committing to can
  // move on under a reader (DatabaseModifiedError): reopen at the new revision and retry once.
  for (int attempt = 0;; ++attempt) {
    try {
      hits.clear();
      const ShapeContext ctx{db, stemmed_ ? &h.stem : nullptr, &fields_, brand_phrases_,
                             has_spelling_ && options_.correct_spelling, &options_};
      const ShapedQuery shaped = Shape(raw_query, ctx);
      absl::flat_hash_set<uint64_t> seen;
      for (const Tier& tier : Tiers(shaped, options_.relax)) {
        enquire->set_query(tier.query);
        // Each tier contains the ones before it, so its top k holds at least
        // k - hits.size() listings not seen yet (when it has that many at all).
        const HitDecider decider(&listing_of_docid_, &condition_of_docid_, tier.condition_mask,
                                 superseded);
        const Xapian::MSet mset = enquire->get_mset(0, static_cast<Xapian::doccount>(k), 0,
                                                    nullptr, decider.active() ? &decider : nullptr);
        for (auto it = mset.begin(); it != mset.end(); ++it) {
          // With the delta the docids interleave: main docid d is 2d - 1, delta docid d is 2d.
          Xapian::docid did = *it;
          bool main = true;
          if (delta != nullptr) {
            main = (did - 1) % 2 == 0;
            did = (did - 1) / 2 + 1;
          }
          uint64_t id = main && did < listing_of_docid_.size() ? listing_of_docid_[did] : 0;
          if (id == 0 && !DecodeId(it.get_document().get_value(kIdSlot), &id)) {
            return absl::DataLossError(absl::StrCat("lexical index ", path_, ": document ", *it,
                                                    " has no listing id"));
          }
          if (!seen.insert(id).second) continue;
          hits.push_back({id, it.get_weight(), tier.tier});
          if (static_cast<int>(hits.size()) == k) break;
        }
        if (static_cast<int>(hits.size()) >= k) break;
      }
      return hits;
    } catch (const Xapian::DatabaseModifiedError& e) {
      if (attempt > 0) return FromXapian(e, absl::StrCat("search lexical index ", path_));
      try {
        db->reopen();
      } catch (const Xapian::Error& e2) {
        lease->Discard();
        return FromXapian(e2, absl::StrCat("reopen lexical index ", path_));
      }
    } catch (const Xapian::Error& e) {
      lease->Discard();  // do not hand a handle in an unknown state to the next caller
      return FromXapian(e, absl::StrCat("search lexical index ", path_));
    } catch (const std::exception& e) {
      lease->Discard();
      return FromStd(e, absl::StrCat("search lexical index ", path_));
    }
  }
}

absl::StatusOr<std::string> LexicalIndex::Explain(const std::string& raw_query) const {
  auto lease = pool_->Acquire();
  if (!lease.ok()) return lease.status();
  Handle& h = **lease;
  try {
    const ShapeContext ctx{&h.db, stemmed_ ? &h.stem : nullptr, &fields_, brand_phrases_,
                           has_spelling_ && options_.correct_spelling, &options_};
    const ShapedQuery shaped = Shape(raw_query, ctx);
    std::string out = absl::StrCat("words: [", absl::StrJoin(shaped.words, ", "), "]");
    if (shaped.condition != WantedCondition::kAny) {
      absl::StrAppend(&out, " condition: ",
                      shaped.condition == WantedCondition::kNew ? "new" : "used");
    }
    for (const Tier& t : Tiers(shaped, options_.relax)) {
      absl::StrAppend(&out, "\ntier ", t.tier, ": ", t.query.get_description(),
                      t.condition_mask != 0 ? " + condition check" : "");
    }
    return out;
  } catch (const Xapian::Error& e) {
    lease->Discard();
    return FromXapian(e, absl::StrCat("explain on lexical index ", path_));
  }
}

// ---------------------------------------------------------------------------- delta

namespace {
std::atomic<uint64_t> g_next_delta_instance{1};
}  // namespace

LexicalDelta::LexicalDelta() : instance_(g_next_delta_instance++) {}

namespace {
constexpr char kDeltaDirPrefix[] = "marketsearch-lexical-delta-";  // + <pid>-<random>
}  // namespace

int LexicalDelta::RemoveAbandoned(const std::string& parent_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> dead;
  for (const auto& e : fs::directory_iterator(parent_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!absl::StartsWith(name, kDeltaDirPrefix)) continue;
    const std::vector<std::string> parts =
        absl::StrSplit(name.substr(sizeof(kDeltaDirPrefix) - 1), '-');
    int64_t pid = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &pid) || pid <= 0) continue;
    // kill(pid, 0) fails with ESRCH only when no such process exists.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    dead.push_back(e.path());
  }
  int removed = 0;
  for (const auto& p : dead) {
    std::error_code rm;
    fs::remove_all(p, rm);
    if (!rm) ++removed;
  }
  return removed;
}

absl::StatusOr<std::unique_ptr<LexicalDelta>> LexicalDelta::Create(
    const LexicalIndexWriter::Options& shape, const std::string& parent_dir) {
  std::string parent = parent_dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  RemoveAbandoned(parent);
  std::string dir = absl::StrCat(parent, "/", kDeltaDirPrefix, ::getpid(), "-XXXXXX");
  if (::mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("lexical delta: cannot create a directory under ",
                                            parent, ": ", std::strerror(errno)));
  }
  std::unique_ptr<LexicalDelta> d(new LexicalDelta());
  d->shape_ = shape;
  d->shape_.path = dir;
  d->shape_.overwrite = false;
  d->dir_ = dir;
  absl::Status status;
  {
    absl::MutexLock lock(&d->mu_);
    d->next_docid_ = kDeltaFirstDocid;
    try {
      // No fsync: the delta is rebuilt from the store's write log after a crash.
      d->db_ = std::make_unique<Xapian::WritableDatabase>(
          dir, Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS | Xapian::DB_NO_SYNC);
      if (shape.stem) d->stem_ = std::make_unique<Xapian::Stem>("english");
      d->db_->commit();  // a first revision for read handles to open
    } catch (const Xapian::Error& e) {
      status = FromXapian(e, absl::StrCat("create lexical delta ", dir));
    }
  }
  if (!status.ok()) return status;  // the destructor removes the directory
  return d;
}

LexicalDelta::~LexicalDelta() {
  absl::MutexLock lock(&mu_);
  if (db_ != nullptr) {
    try {
      db_->close();
    } catch (const Xapian::Error& e) {
      std::fprintf(stderr, "LexicalDelta(%s): close: %s\n", dir_.c_str(),
                   e.get_description().c_str());
    }
    db_.reset();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::Status LexicalDelta::Apply(absl::Span<const Write> writes) {
  if (writes.empty()) return absl::OkStatus();
  absl::WriterMutexLock lock(&mu_);
  try {
    for (const Write& w : writes) {
      auto [it, inserted] = entries_.try_emplace(w.listing_id);
      Entry& e = it->second;
      if (!inserted && e.write_unix_ms > w.write_unix_ms) continue;  // stale write
      if (w.listing != nullptr) {
        Xapian::Document doc = ListingDocument(*w.listing, shape_, stem_.get(), db_.get());
        if (e.docid == 0) {
          if (next_docid_ >= kDeltaDocidLimit) {
            if (inserted) entries_.erase(it);
            return absl::ResourceExhaustedError("lexical delta: out of docids (restart the server)");
          }
          // The docid is recorded only once its document is written: an entry never names a
          // document the database lacks.
          db_->replace_document(next_docid_, doc);
          e.docid = next_docid_++;
          ++fresh_;
        } else {
          db_->replace_document(e.docid, doc);
        }
      } else if (e.docid != 0) {
        try {
          db_->delete_document(e.docid);
        } catch (const Xapian::DocNotFoundError&) {
          // Already gone: a delete is idempotent.
        }
        e.docid = 0;
        --fresh_;
      }
      e.write_unix_ms = w.write_unix_ms;
    }
    db_->commit();
    ++revision_;
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("lexical delta ", dir_, ": write"));
  } catch (const std::exception& e) {
    return FromStd(e, absl::StrCat("lexical delta ", dir_, ": write"));
  }
  return absl::OkStatus();
}

absl::Status LexicalDelta::Upsert(absl::Span<const Listing> listings, int64_t write_unix_ms) {
  std::vector<Write> writes;
  writes.reserve(listings.size());
  for (const Listing& l : listings) writes.push_back({l.listing_id(), &l, write_unix_ms});
  return Apply(writes);
}

absl::Status LexicalDelta::Delete(absl::Span<const uint64_t> listing_ids, int64_t write_unix_ms) {
  std::vector<Write> writes;
  writes.reserve(listing_ids.size());
  for (uint64_t id : listing_ids) writes.push_back({id, nullptr, write_unix_ms});
  return Apply(writes);
}

absl::StatusOr<int64_t> LexicalDelta::DropBefore(int64_t snapshot_unix_ms) {
  absl::WriterMutexLock lock(&mu_);
  int64_t dropped = 0;
  try {
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.write_unix_ms >= snapshot_unix_ms) {
        ++it;
        continue;
      }
      if (it->second.docid != 0) {
        db_->delete_document(it->second.docid);
        --fresh_;
      }
      entries_.erase(it++);
      ++dropped;
    }
    if (dropped > 0) {
      db_->commit();
      ++revision_;
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e, absl::StrCat("lexical delta ", dir_, ": drop"));
  }
  return dropped;
}

bool LexicalDelta::SameShape(const LexicalIndex& index) const {
  const LexicalIndexWriter::Options& o = index.document_options();
  return o.index_brand_category_attributes == shape_.index_brand_category_attributes &&
         o.index_description == shape_.index_description &&
         o.combined_field == shape_.combined_field && o.stem == shape_.stem &&
         o.spelling == shape_.spelling;
}

int64_t LexicalDelta::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return fresh_;
}

int64_t LexicalDelta::superseded_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<int64_t>(entries_.size());
}

}  // namespace marketsearch
