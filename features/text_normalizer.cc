#include "features/text_normalizer.h"


#include <utf8proc.h>

#include <cstdlib>

#include "absl/strings/str_split.h"
#include "features/utf8.h"

namespace marketsearch {

namespace {
// Per thread: a shared atomic would be a contended cache line on the request path.
thread_local int64_t normalize_calls = 0;
}  // namespace

int64_t NormalizeTextCalls() { return normalize_calls; }

std::string NormalizeText(std::string_view text) {
  ++normalize_calls;
  if (text.empty() || !IsValidUtf8(text)) return "";
  utf8proc_uint8_t* mapped = nullptr;
  const int options = UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
                      UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE;
  utf8proc_ssize_t len = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                      static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                                      static_cast<utf8proc_option_t>(options));
  if (len < 0) return "";
  std::string out;
  out.reserve(static_cast<size_t>(len));
  bool pending_space = false;
  const utf8proc_uint8_t* p = mapped;
  utf8proc_ssize_t left = len;
  while (left > 0) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) break;
    const utf8proc_category_t cat = utf8proc_category(cp);
    const bool keep = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
                      (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
    if (keep) {
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      out.append(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    } else {
      pending_space = true;
    }
    p += n;
    left -= n;
  }
  std::free(mapped);
  return out;
}

std::vector<std::string> Tokenize(std::string_view normalized) {
  return absl::StrSplit(absl::string_view(normalized.data(), normalized.size()), ' ', absl::SkipEmpty());
}

std::vector<std::string> SplitCodepoints(std::string_view utf8) {
  std::vector<std::string> out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(utf8.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(utf8.size());
  while (left > 0) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) break;
    out.emplace_back(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    p += n;
    left -= n;
  }
  return out;
}

}  // namespace marketsearch
