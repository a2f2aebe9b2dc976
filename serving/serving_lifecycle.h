// ServingLifecycle: the server's version lifecycle, wired. It owns the Source (what the data
// directory asks to serve) and the Manager (load N+1 beside N, switch, release N; failed
// versions remembered), and on each change publishes a new ServingState to the Searcher and
// brings the ListingWriter's deltas in step (replay of the write log after the first load,
// pruning of the log after every switch). server_main calls Poll() on its reload interval.
//
// A version the legs' live sides could not take (another embedding size, a lexical index
// that shapes documents differently from the running lexical delta: LiveAnnIndex/
// LiveLexicalIndex::Accepts) is refused by the manager's compatibility check, so the manager
// never reports a version the searcher does not serve.
//
// Thread safety: Poll() from one thread (the reload loop); Health() and Serving() from any.
// Ownership: searcher, writer (may be null: a read-only server), store and the live indexes
// are not owned and must outlive the lifecycle.
#ifndef MARKETSEARCH_SERVING_SERVING_LIFECYCLE_H_
#define MARKETSEARCH_SERVING_SERVING_LIFECYCLE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "features/feature_store.h"
#include "index/live_index.h"
#include "serving/listing_writer.h"
#include "serving/searcher.h"
#include "serving/server_metrics.h"
#include "serving/servable_manager.h"
#include "serving/servable_source.h"

namespace marketsearch {

class ServingLifecycle {
 public:
  struct Options {
    std::string data_dir = "./var";
    Env* env = Env::Default();  // not owned
    // Every model version is loaded with these (ModelRunner::Options): "" = each manifest's
    // format, "torchscript" = the fallback; concurrency = the serving threads.
    std::string model_format;
    int model_concurrency = 1;
    // LexicalSearchOptions::correct_spelling of every lexical version served. Off, the query
    // tower's speller (the lexical index) corrects nothing either.
    bool spelling_correction = true;
    // Lifecycle events and the serving versions are also counted here (null = only logged).
    ServerMetrics* metrics = nullptr;  // not owned
  };
  // `ann` and `lexical` are the legs' live sides the searcher publishes to: the lifecycle
  // asks them whether a version fits before switching.
  static absl::StatusOr<std::unique_ptr<ServingLifecycle>> Create(
      Options options, const FeatureStore* store, Searcher* searcher, ListingWriter* writer,
      const LiveAnnIndex* ann, const LiveLexicalIndex* lexical);

  // One round: loads what the data directory asks for, switches the searcher when a serving
  // version changed, logs every event on stderr. Returns true when the searcher serves.
  bool Poll();

  // The data directory's source: the experiment layer pins versions through it.
  DataDirSource* source() { return source_.get(); }
  HealthReport Health() const { return manager_->Health(); }

 private:
  ServingLifecycle(Options options, Searcher* searcher, ListingWriter* writer,
                   const LiveAnnIndex* ann, const LiveLexicalIndex* lexical)
      : options_(std::move(options)), searcher_(searcher), writer_(writer), ann_(ann),
        lexical_(lexical) {}
  // The manager's compatibility rule: ServingCompatible plus what Searcher::SetState requires.
  bool Compatible(ServableKind kind, const Servable& candidate, const ServingSet& chosen) const;
  // After a switch: the first time, replays the write log into the deltas; every time, drops
  // the log entries the served indexes hold.
  void SyncWriteLog();

  const Options options_;
  Searcher* const searcher_;
  ListingWriter* const writer_;
  const LiveAnnIndex* const ann_;
  const LiveLexicalIndex* const lexical_;
  std::unique_ptr<DataDirSource> source_;
  std::unique_ptr<ServableManager> manager_;
  bool replayed_ = false;     // Poll thread only
  bool reported_idle_ = false;  // "nothing to serve yet" said once
};

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_SERVING_LIFECYCLE_H_
