// Xapian exceptions as absl::Status, for the lexical index targets (index/lexical_*), which let
// no exception escape. Not part of the index/ API.
#ifndef MARKETSEARCH_INDEX_INTERNAL_XAPIAN_STATUS_H_
#define MARKETSEARCH_INDEX_INTERNAL_XAPIAN_STATUS_H_

#include <exception>
#include <string>

#include "absl/status/status.h"

namespace Xapian {
class Error;
}  // namespace Xapian

namespace marketsearch {
namespace lexical_internal {

// Xapian's exception classes onto canonical codes; `what` says which operation on which path.
absl::Status FromXapian(const Xapian::Error& e, const std::string& what);
// Any other exception (std::bad_alloc, ...): Internal.
absl::Status FromStd(const std::exception& e, const std::string& what);

}  // namespace lexical_internal
}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_INTERNAL_XAPIAN_STATUS_H_
