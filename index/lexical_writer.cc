#include "index/lexical_writer.h"

#include <xapian.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "index/internal/xapian_status.h"

namespace marketsearch {

using lexical_internal::FieldSet;
using lexical_internal::FromStd;
using lexical_internal::FromXapian;
using lexical_internal::IdTerm;
using lexical_internal::kFormat;
using lexical_internal::kMetaFields;
using lexical_internal::kMetaFormat;
using lexical_internal::kMetaSnapshot;
using lexical_internal::kMetaSpelling;
using lexical_internal::kMetaStem;
using lexical_internal::ListingDocument;

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

}  // namespace marketsearch
