#include "index/internal/xapian_status.h"

#include <xapian.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace marketsearch {
namespace lexical_internal {

// Xapian::Error is not polymorphic (no dynamic_cast); get_type() names the most derived class.
absl::Status FromXapian(const Xapian::Error& e, const std::string& what) {
  const std::string type = e.get_type();
  std::string msg = absl::StrCat(what, ": ", type, ": ", e.get_msg());
  // The errno text behind an I/O failure ("No space left on device"), which get_msg() leaves
  // out: without it a full disk reads as "Error writing block 0".
  const char* sys = e.get_error_string();
  if (sys != nullptr && *sys != '\0') {
    absl::StrAppend(&msg, " (", sys, ")");
    if (e.get_error_string() == std::string(std::strerror(ENOSPC)) ||
        e.get_error_string() == std::string(std::strerror(EDQUOT))) {
      return absl::ResourceExhaustedError(msg);  // a full disk, not damaged files
    }
  }
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

}  // namespace lexical_internal
}  // namespace marketsearch
