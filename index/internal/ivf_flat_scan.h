// The inner-product search of a FAISS IndexIVFFlat (coarse quantizer IndexFlatIP), done here
// instead of by faiss::IndexIVF::search. Why by hand: Debian's FAISS 1.7.3 is a generic x86-64
// build whose fvec_inner_product is one scalar dependent chain, and an IVF search is nothing
// but inner products (the query against every centroid, then against every vector of the
// probed lists: ~9,000 64-d products per query at 1M listings, IVF4096 nprobe 21); here they
// are internal/vector_scores.h's, compiled for AVX2 + FMA where the CPU has them. Everything else is FAISS's:
// its centroids, its inverted lists (read through InvertedLists, released after use) and its
// IDSelector. Same results as FAISS up to the order of float additions (scores differ in the
// last bits; an exact tie may order differently). Not part of the index/ API.
#ifndef MARKETSEARCH_INDEX_INTERNAL_IVF_FLAT_SCAN_H_
#define MARKETSEARCH_INDEX_INTERNAL_IVF_FLAT_SCAN_H_

#include <faiss/Index.h>
#include <faiss/impl/IDSelector.h>

#include <cstdint>

namespace faiss {
struct IndexIVFFlat;
}

namespace marketsearch {
namespace internal {

// The IndexIVFFlat this scan can search (inner product, flat inner-product quantizer), or
// null when `index` is anything else (then call FAISS).
const faiss::IndexIVFFlat* AsScannableIvfFlat(const faiss::Index* index);

// Top `k` of one query over the `nprobe` lists whose centroids score highest, visiting at most
// `max_codes` vectors (0 = no bound; checked between lists, as FAISS does), skipping ids `sel`
// rejects (may be null). Writes k scores, best first, and their FAISS ids (-1 past the end),
// as faiss::Index::search does for one query.
void IvfFlatSearch(const faiss::IndexIVFFlat& ivf, const float* query, int64_t k, size_t nprobe,
                   size_t max_codes, const faiss::IDSelector* sel, float* distances,
                   faiss::Index::idx_t* labels);

}  // namespace internal
}  // namespace marketsearch

#endif  // MARKETSEARCH_INDEX_INTERNAL_IVF_FLAT_SCAN_H_
