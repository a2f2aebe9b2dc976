// What the ESCI and WANDS fuzz targets check after a load that succeeded: the catalog it wrote
// is one the rest of the pipeline reads (public_loaders.h promises titles, brands and
// categories within the listing limits): every listings.tsv row passes the listings.tsv reader
// (which validates it as ingest and UpsertListings do), and queries.tsv and judgments.tsv read
// back with every judgment's query among the queries.
#ifndef MARKETSEARCH_FUZZ_LOADER_CHECK_H_
#define MARKETSEARCH_FUZZ_LOADER_CHECK_H_

#include <string>

namespace marketsearch {

// Part `index` (0-based) of `input` cut at each "\n====\n": one file's contents ("" when
// the input has fewer parts).
std::string SplitPart(const std::string& input, int index);

// REQUIRES: a loader wrote `out_dir` and returned OK. Aborts (FUZZ_CHECK) on a violation.
void CheckLoadedCatalog(const std::string& out_dir);

}  // namespace marketsearch

#endif  // MARKETSEARCH_FUZZ_LOADER_CHECK_H_
