#include "ranking/business_rules.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace marketsearch {

absl::Status ValidateBusinessRules(const BusinessRulesOptions& o) {
  if (o.fresh_boost < 0) {
    return absl::InvalidArgumentError(absl::StrCat("fresh_boost: must be >= 0, got ", o.fresh_boost));
  }
  if (o.fresh_days < 0) {
    return absl::InvalidArgumentError(absl::StrCat("fresh_days: must be >= 0, got ", o.fresh_days));
  }
  if (o.diversity_top_n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("diversity_top_n: must be >= 0, got ", o.diversity_top_n));
  }
  if (o.max_per_seller < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_per_seller: must be >= 1, got ", o.max_per_seller));
  }
  return absl::OkStatus();
}

std::vector<RankedListing> ApplyBusinessRules(std::vector<RankedListing> items,
                                              const BusinessRulesOptions& o, int64_t now_unix) {
  if (o.fresh_boost > 0 && o.fresh_days > 0) {
    for (RankedListing& it : items) {
      if (it.listed_at_unix <= 0) continue;
      const double age_days = std::max<double>(0.0, (now_unix - it.listed_at_unix) / 86400.0);
      if (age_days >= o.fresh_days) continue;
      const double b = o.fresh_linear_decay ? o.fresh_boost * (1.0 - age_days / o.fresh_days)
                                            : o.fresh_boost;
      it.score += static_cast<float>(b);
    }
  }
  std::sort(items.begin(), items.end(), [](const RankedListing& a, const RankedListing& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.listing_id < b.listing_id;
  });
  if (o.diversity_top_n <= 0 || items.empty()) return items;

  // Fill the top N greedily in score order, skipping a listing whose seller is at the cap;
  // skipped listings follow the top N in their score order. When too few listings respect
  // the cap to fill N slots, the best skipped ones fill the rest (the page is never short).
  const size_t top_n = std::min<size_t>(static_cast<size_t>(o.diversity_top_n), items.size());
  std::vector<RankedListing> top, deferred, rest;
  top.reserve(top_n);
  absl::flat_hash_map<uint64_t, int> per_seller;
  size_t i = 0;
  for (; i < items.size() && top.size() < top_n; ++i) {
    const RankedListing& it = items[i];
    if (it.seller_id != 0 && per_seller[it.seller_id] >= o.max_per_seller) {
      deferred.push_back(it);
      continue;
    }
    if (it.seller_id != 0) ++per_seller[it.seller_id];
    top.push_back(it);
  }
  size_t d = 0;
  while (top.size() < top_n && d < deferred.size()) top.push_back(deferred[d++]);
  std::vector<RankedListing> out;
  out.reserve(items.size());
  out.insert(out.end(), top.begin(), top.end());
  // Deferred listings and the untouched tail are both in score order: merge them.
  std::merge(deferred.begin() + d, deferred.end(), items.begin() + i, items.end(),
             std::back_inserter(out), [](const RankedListing& a, const RankedListing& b) {
               if (a.score != b.score) return a.score > b.score;
               return a.listing_id < b.listing_id;
             });
  return out;
}

}  // namespace marketsearch
