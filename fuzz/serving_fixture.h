// A small in-memory deployment for the Search and UpsertListings fuzz targets, built once per
// process: 48 listings in a RocksDB feature store (temporary directory, unsynced writes), the
// server's in-memory listing records (MemoryListingReader) over it, a fake serving state
// (serving/fake_serving_state.h: fake towers, exact FAISS index, a Xapian lexical index) with a
// fake ranker whose forward checks that every feature it is given is finite, a hybrid Searcher
// and a ListingWriter, wired as serving/server_main.cc wires them.
//
// Thread safety: as the Searcher's and the ListingWriter's; the fuzz targets call it from one
// thread. Never destroyed (the process ends with it).
#ifndef MARKETSEARCH_FUZZ_SERVING_FIXTURE_H_
#define MARKETSEARCH_FUZZ_SERVING_FIXTURE_H_

#include <map>
#include <memory>

#include "features/feature_store.h"
#include "index/live_index.h"
#include "index/memory_listing_reader.h"
#include "serving/listing_writer.h"
#include "serving/searcher.h"

namespace marketsearch {

struct FuzzDeployment {
  std::unique_ptr<FeatureStore> store;
  LiveAnnIndex ann;
  std::unique_ptr<LiveLexicalIndex> lexical;
  std::unique_ptr<MemoryListingReader> reader;
  std::unique_ptr<Searcher> searcher;
  std::unique_ptr<ListingWriter> writer;
  std::map<uint64_t, Listing> catalog;  // the indexed listings by id
};

// The process's deployment (built at the first call; aborts if it cannot be).
FuzzDeployment& Deployment();

}  // namespace marketsearch

#endif  // MARKETSEARCH_FUZZ_SERVING_FIXTURE_H_
