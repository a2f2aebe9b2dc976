#include "index/lexical_index.h"

#include <xapian.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "features/text_normalizer.h"
#include "index/internal/xapian_status.h"

namespace marketsearch {

using lexical_internal::DecodeId;
using lexical_internal::FieldSet;
using lexical_internal::FieldsOf;
using lexical_internal::FromStd;
using lexical_internal::FromXapian;
using lexical_internal::kCondForPartsBit;
using lexical_internal::kCondition;
using lexical_internal::kCondLikeNewBit;
using lexical_internal::kCondNewBit;
using lexical_internal::kCondUsedBit;
using lexical_internal::kDeltaFirstDocid;
using lexical_internal::kFormat;
using lexical_internal::kIdSlot;
using lexical_internal::kMetaFields;
using lexical_internal::kMetaFormat;
using lexical_internal::kMetaSnapshot;
using lexical_internal::kMetaSpelling;
using lexical_internal::kMetaStem;
using lexical_internal::Shape;
using lexical_internal::ShapeContext;
using lexical_internal::ShapedQuery;
using lexical_internal::Tier;
using lexical_internal::Tiers;
using lexical_internal::WantedCondition;

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
  return SearchTokens(Tokenize(NormalizeText(raw_query)), k, delta);
}

bool LexicalIndex::AppliesInside(const ListingFilter& filter) const {
  bool all = false;
  lexical_internal::FilterQuery(filter.category_names(), filter.conditions(), filter.has_price_or_geo(),
                                document_options_.index_brand_category_attributes, nullptr, &all);
  return all;
}

absl::StatusOr<std::vector<LexicalHit>> LexicalIndex::SearchTokens(
    const std::vector<std::string>& tokens, int k, const LexicalDelta* delta,
    const ListingFilter* filter) const {
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
      const ShapedQuery shaped = ShapeTokens(tokens, ctx);
      const Xapian::Query filter_query =
          filter == nullptr
              ? Xapian::Query()
              : lexical_internal::FilterQuery(filter->category_names(), filter->conditions(),
                                              filter->has_price_or_geo(),
                                              document_options_.index_brand_category_attributes,
                                              stemmed_ ? &h.stem : nullptr, nullptr);
      absl::flat_hash_set<uint64_t> seen;
      for (const Tier& tier : Tiers(shaped, options_.relax, options_.or_tier_max_terms)) {
        enquire->set_query(filter_query.empty()
                               ? tier.query
                               : Xapian::Query(Xapian::Query::OP_FILTER, tier.query, filter_query));
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

absl::StatusOr<std::vector<std::string>> LexicalIndex::CorrectSpelling(
    const std::vector<std::string>& tokens, bool* corrected) const {
  if (corrected != nullptr) *corrected = false;
  std::vector<std::string> out = tokens;
  if (!has_spelling_ || !options_.correct_spelling) return out;
  auto lease = pool_->Acquire();
  if (!lease.ok()) return lease.status();
  Handle& h = **lease;
  try {
    const ShapeContext ctx{&h.db, stemmed_ ? &h.stem : nullptr, &fields_, brand_phrases_,
                           /*spelling=*/true, &options_};
    for (std::string& t : out) {
      if (lexical_internal::IsDroppableWord(t, ctx)) continue;
      std::string fixed = lexical_internal::CorrectedWord(t, ctx);
      if (fixed.empty()) continue;
      t = std::move(fixed);
      if (corrected != nullptr) *corrected = true;
    }
  } catch (const Xapian::Error& e) {
    lease->Discard();
    return FromXapian(e, absl::StrCat("spelling correction in lexical index ", path_));
  }
  return out;
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
    for (const Tier& t : Tiers(shaped, options_.relax, options_.or_tier_max_terms)) {
      absl::StrAppend(&out, "\ntier ", t.tier, ": ", t.query.get_description(),
                      t.condition_mask != 0 ? " + condition check" : "");
    }
    return out;
  } catch (const Xapian::Error& e) {
    lease->Discard();
    return FromXapian(e, absl::StrCat("explain on lexical index ", path_));
  }
}

// Declared in lexical_delta.h; defined here because it reads the index (see there).
bool LexicalDelta::SameShape(const LexicalIndex& index) const {
  const LexicalIndexWriter::Options& o = index.document_options();
  return o.index_brand_category_attributes == shape_.index_brand_category_attributes &&
         o.index_description == shape_.index_description &&
         o.combined_field == shape_.combined_field && o.stem == shape_.stem &&
         o.spelling == shape_.spelling;
}

}  // namespace marketsearch
