// Small stand-ins for the status macros abseil 20220623 does not ship.
#ifndef MARKETSEARCH_COMMON_STATUS_MACROS_H_
#define MARKETSEARCH_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MS_CONCAT_INNER_(a, b) a##b
#define MS_CONCAT_(a, b) MS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define MS_RETURN_IF_ERROR(expr)                   \
  do {                                             \
    ::absl::Status ms_status_ = (expr);            \
    if (!ms_status_.ok()) return ms_status_;       \
  } while (0)

// `lhs = value of expr` if expr (an absl::StatusOr<T>) is OK, else returns its status.
#define MS_ASSIGN_OR_RETURN(lhs, expr) \
  MS_ASSIGN_OR_RETURN_IMPL_(MS_CONCAT_(ms_statusor_, __LINE__), lhs, expr)
#define MS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // MARKETSEARCH_COMMON_STATUS_MACROS_H_
