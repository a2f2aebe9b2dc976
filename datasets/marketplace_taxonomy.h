// The hidden world of the synthetic marketplace, as text: categories, attribute schemas,
// product types with seller/buyer vocabulary, brands, models and complement relations.
// Parsed by marketplace_generator.cc; the grammar is described at the top of the .cc file.
#ifndef MARKETSEARCH_DATASETS_MARKETPLACE_TAXONOMY_H_
#define MARKETSEARCH_DATASETS_MARKETPLACE_TAXONOMY_H_

namespace marketsearch {

extern const char kMarketplaceTaxonomy[];

}  // namespace marketsearch

#endif  // MARKETSEARCH_DATASETS_MARKETPLACE_TAXONOMY_H_
