#include "index/lexical_query.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "features/text_normalizer.h"

namespace marketsearch {
namespace lexical_internal {
namespace {

// Brand phrases are looked up over at most this many query tokens.
constexpr int kMaxBrandPhraseTokens = 4;

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

// Condition bits wanted by a query.
uint8_t ConditionMask(WantedCondition c) {
  switch (c) {
    case WantedCondition::kNew: return kCondNewBit;
    case WantedCondition::kUsed: return kCondUsedBit | kCondLikeNewBit;  // "used" accepts both
    default: return 0;
  }
}

}  // namespace

bool IsDroppableWord(const std::string& token, const ShapeContext& ctx) {
  return StopwordSet().contains(token) ||
         (ctx.options->condition_words != LexicalSearchOptions::ConditionWords::kText &&
          IsConditionWord(token));
}

std::string CorrectedWord(const std::string& token, const ShapeContext& ctx) {
  // A misspelt word may be a letter short of a dictionary word ("nke" for "nike").
  const bool letters = !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
    return c >= 'a' && c <= 'z';
  });
  if (!ctx.spelling || !letters || token.size() < 3) return "";
  const auto in_index = [&](const std::string& t) {
    const std::string word = ctx.stem != nullptr ? (*ctx.stem)(t) : t;
    int64_t listings = 0;  // in the field that has it most often
    for (const FieldVariant& f : *ctx.fields) {
      listings = std::max<int64_t>(listings, ctx.db->get_termfreq(f.first + word));
    }
    return listings;
  };
  // A word many listings hold is taken as written. A rare one may be a typo sellers made too
  // (on 1M listings "balck" and "rnuning" are in a few dozen listings each): it is corrected
  // when the correction is held by kRareWordRatio times as many listings. Rare: fewer than
  // one listing in kRareWordShare (100 of 1M), and never fewer than spelling_min_listings.
  constexpr int64_t kRareWordRatio = 20;
  constexpr int64_t kRareWordShare = 10000;
  const int64_t own = in_index(token);
  const int64_t rare_below = std::max<int64_t>(ctx.options->spelling_min_listings,
                                               ctx.db->get_doccount() / kRareWordShare);
  if (own >= rare_below) return "";
  // An unknown word is most often a typo ("nkie"): the most frequent dictionary word within
  // Options::spelling_max_edits, unless that word is itself rare: sellers make typos too,
  // and "earphones" must not become one listing's "hearphones". Xapian counts two swapped
  // letters as two edits, so each swap of adjacent letters is also tried as a word of the
  // index ("wamrers" -> "warmers"); the candidate most listings hold wins.
  const LexicalSearchOptions& o = *ctx.options;
  std::string best;
  int64_t best_listings = std::max<int64_t>(o.spelling_min_listings, own * kRareWordRatio) - 1;
  const auto consider = [&](const std::string& candidate) {
    // Never towards a word the shaper would drop ("male" -> "sale").
    if (candidate.empty() || candidate == token || IsDroppableWord(candidate, ctx)) return;
    const int64_t listings = in_index(candidate);
    if (listings > best_listings) best = candidate, best_listings = listings;
  };
  consider(ctx.db->get_spelling_suggestion(token, static_cast<unsigned>(o.spelling_max_edits)));
  std::string swapped = token;
  for (size_t i = 1; i + 1 < swapped.size(); ++i) {  // the first letter is rarely the typo
    if (swapped[i] == swapped[i + 1]) continue;
    std::swap(swapped[i], swapped[i + 1]);
    consider(swapped);
    std::swap(swapped[i], swapped[i + 1]);
  }
  return best;
}

ShapedQuery Shape(const std::string& raw_query, const ShapeContext& ctx) {
  return ShapeTokens(Tokenize(NormalizeText(raw_query)), ctx);
}

ShapedQuery ShapeTokens(const std::vector<std::string>& tokens, const ShapeContext& ctx) {
  ShapedQuery out;
  const size_t n = tokens.size();
  if (n == 0) return out;
  const auto& stop = StopwordSet();
  const auto droppable = [&](const std::string& t) { return IsDroppableWord(t, ctx); };

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
  if (ctx.options->condition_words != LexicalSearchOptions::ConditionWords::kText) {
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
    if (ctx.options->condition_words == LexicalSearchOptions::ConditionWords::kFilter &&
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
    // A typo: a word no listing holds, or one so rare next to its correction that sellers
    // made the same typo (CorrectedWord).
    const std::string fixed = CorrectedWord(tokens[i], ctx);
    if (!fixed.empty()) std::tie(word, variants) = variants_of(fixed);
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

std::vector<Tier> Tiers(const ShapedQuery& q, LexicalSearchOptions::Relax relax, int or_max_terms) {
  std::vector<Tier> tiers;
  if (q.terms.empty()) return tiers;
  const size_t n = q.terms.size();
  const Xapian::Query any =
      or_max_terms > 0 && n > static_cast<size_t>(or_max_terms)
          ? Xapian::Query(Xapian::Query::OP_ELITE_SET, q.terms.begin(), q.terms.end(),
                          static_cast<Xapian::termcount>(or_max_terms))
          : Xapian::Query(Xapian::Query::OP_OR, q.terms.begin(), q.terms.end());
  if (relax == LexicalSearchOptions::Relax::kOrOnly) {
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
  if (relax == LexicalSearchOptions::Relax::kNone || n == 1) return tiers;
  if (relax == LexicalSearchOptions::Relax::kDropOneThenOr && n >= 3) {
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

std::vector<FieldVariant> FieldsOf(const FieldSet& fs, const LexicalSearchOptions& o) {
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

}  // namespace lexical_internal
}  // namespace marketsearch
