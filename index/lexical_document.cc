#include "index/lexical_document.h"

#include <xapian.h>

#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "features/text_normalizer.h"

namespace marketsearch {
namespace lexical_internal {
namespace {

static_assert(std::is_same_v<Xapian::valueno, std::remove_const_t<decltype(kIdSlot)>>,
              "kIdSlot is a Xapian::valueno");

// Longer words are not added to the spelling dictionary: no buyer types them.
constexpr size_t kMaxSpellingWordBytes = 64;

// wdf added per occurrence to the unprefixed all-fields term: a word in the title counts three
// times a word in the description, a brand word twice.
constexpr int kTitleWdf = 3;
constexpr int kBrandWdf = 2;
constexpr int kCategoryWdf = 1;
constexpr int kAttributeWdf = 1;
constexpr int kDescriptionWdf = 1;

std::string EncodeId(uint64_t id) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[i] = static_cast<char>(id & 0xff);
    id >>= 8;
  }
  return s;
}

const char* ConditionName(Condition c) {
  switch (c) {
    case CONDITION_NEW: return "new";
    case CONDITION_LIKE_NEW: return "like_new";
    case CONDITION_USED: return "used";
    case CONDITION_FOR_PARTS: return "for_parts";
    default: return "";
  }
}

// Normalised (and optionally stemmed) tokens of `text`.
std::vector<std::string> Tokens(const std::string& text, const Xapian::Stem* stem) {
  std::vector<std::string> tokens = Tokenize(NormalizeText(text));
  if (stem != nullptr) {
    for (std::string& t : tokens) t = (*stem)(t);
  }
  return tokens;
}

// Marketplace queries carry words that say nothing about the listing text: English function
// words and shopping noise ("cheap", "near me", "for sale", "deals", "in <city>" keeps the city
// name, which simply finds nothing). Dropping them matters twice: they would make the AND tier
// miss good listings, and they are the frequent terms that make OR queries slow.
// "new"/"used" are NOT here: they carry condition intent (an Exact listing for "used iphone 12"
// must be used or like new, and most used listings never say "used"), so they are matched
// against the listing's condition field instead of its text; see
// LexicalIndex::ConditionWords (index/lexical_query.h).
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

}  // namespace

bool DecodeId(const std::string& s, uint64_t* id) {
  if (s.size() != 8) return false;
  uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  *id = v;
  return true;
}

std::string IdTerm(uint64_t id) { return absl::StrCat("Q", id); }

std::string FieldSet::Serialize() const {
  std::string s = "title";
  if (brand_category_attributes) s += ",brand,category,attributes";
  if (description) s += ",description";
  if (combined) s += ",combined";
  return s;
}

bool FieldSet::Parse(const std::string& s, FieldSet* out) {
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

const absl::flat_hash_set<std::string>& StopwordSet() {
  static const auto* set =
      new absl::flat_hash_set<std::string>(StopwordList().begin(), StopwordList().end());
  return *set;
}

bool IsSpellingWord(const std::string& t) {
  if (t.size() < 4) return false;
  for (unsigned char c : t) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

Xapian::Document ListingDocument(const Listing& listing, const LexicalDocumentOptions& o,
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
    // The dictionary typos are corrected towards: title, brand, category and attribute words
    // (what buyers type; the category's "overcoat" or "bedspread" need not be in a title),
    // unstemmed, letters only and long enough that an edit or two still leaves a word (and
    // short enough to be a word at all).
    std::vector<const std::string*> texts = {&listing.title(), &listing.brand(), &listing.category(), &listing.description()};
    for (const Attribute& a : listing.attributes()) texts.push_back(&a.value());
    for (const std::string* text : texts) {
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

Xapian::Query FilterQuery(const std::vector<std::string>& categories,
                          const std::vector<int32_t>& conditions, bool has_price_or_geo,
                          bool has_category_terms, const Xapian::Stem* stem, bool* applies_all) {
  bool all = !has_price_or_geo;
  std::vector<Xapian::Query> parts;
  if (!categories.empty()) {
    // One AND of category words per category, OR-ed; a category without an indexable word
    // cannot be told apart, so then no category is applied.
    std::vector<Xapian::Query> any_category;
    bool every_category = has_category_terms;
    for (const std::string& c : categories) {
      if (!every_category) break;
      std::vector<Xapian::Query> words;
      for (const std::string& t : Tokens(c, stem)) {
        const std::string term = kCategory + t;
        if (term.size() <= kMaxLexicalTermBytes) words.emplace_back(term);  // as indexed
      }
      if (words.empty()) {
        every_category = false;
        break;
      }
      any_category.emplace_back(Xapian::Query::OP_AND, words.begin(), words.end());
    }
    if (every_category) {
      parts.emplace_back(Xapian::Query::OP_OR, any_category.begin(), any_category.end());
    } else {
      all = false;
    }
  }
  if (!conditions.empty()) {
    // A condition without a term (unspecified: its listings have no kCondition term) cannot
    // be applied, so then no condition is.
    std::vector<Xapian::Query> any_condition;
    bool every_condition = true;
    for (const int32_t c : conditions) {
      const char* name = ConditionName(static_cast<Condition>(c));
      if (*name == '\0') every_condition = false;
      any_condition.emplace_back(absl::StrCat(kCondition, name));
    }
    if (every_condition) {
      parts.emplace_back(Xapian::Query::OP_OR, any_condition.begin(), any_condition.end());
    } else {
      all = false;
    }
  }
  if (applies_all != nullptr) *applies_all = all;
  if (parts.empty()) return Xapian::Query();
  return Xapian::Query(Xapian::Query::OP_AND, parts.begin(), parts.end());
}

}  // namespace lexical_internal

const std::vector<std::string>& LexicalStopwords() { return lexical_internal::StopwordList(); }

}  // namespace marketsearch
