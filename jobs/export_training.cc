// export_training: writes the tensors the Python trainers read (NumPy .npy files), computed
// by the C++ featurizer from the feature store and the query/judgment files.
//
// <out_dir>/listing_{ids,tok,off,cat,dense}.npy   every listing in the store, in id order
// <out_dir>/q_<split>_{ids,tok,off}.npy           queries of each split
// <out_dir>/q_train_typo_{tok,off}.npy            per train query (same rows), the query with
//                                                 one typo (datasets/query_typos: swaps,
//                                                 deletions and doublings in turn; keyboard
//                                                 substitutions and insertions are kept for
//                                                 evaluation); the query itself when the
//                                                 typo cannot apply
// <out_dir>/pairs_<split>.npy                     int64 [M, 3]: query row, listing row, ESCI grade 0..3
// <out_dir>/clicks_train.npy                      int64 [C, 4]: query row, listing row, position, clicked
// <out_dir>/meta.txt                              featurizer version and tensor sizes
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/progress.h"
#include "common/status_macros.h"
#include "datasets/catalog_reader.h"
#include "datasets/query_typos.h"
#include "features/feature_store.h"
#include "features/featurizer.h"
#include "features/npy_io.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (store/ and catalog/ in)");
ABSL_FLAG(std::string, out_dir, "", "output directory (default <data_dir>/training)");
ABSL_FLAG(uint64_t, typo_seed, 7, "seed of the train queries' typo'd copies (q_train_typo_*)");

namespace marketsearch {
namespace {

struct Ragged {
  std::vector<int64_t> tok;
  std::vector<int64_t> off{0};
  void Add(const std::vector<int64_t>& ids) {
    tok.insert(tok.end(), ids.begin(), ids.end());
    off.push_back(static_cast<int64_t>(tok.size()));
  }
  absl::Status Write(const std::string& prefix) const {
    MS_RETURN_IF_ERROR(WriteNpy(prefix + "_tok.npy", tok, {static_cast<int64_t>(tok.size())}));
    return WriteNpy(prefix + "_off.npy", off, {static_cast<int64_t>(off.size())});
  }
};

absl::Status Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  std::string out = absl::GetFlag(FLAGS_out_dir);
  if (out.empty()) out = data_dir + "/training";
  MS_RETURN_IF_ERROR(MakeDirs(out));

  FeatureStore::Options so;
  so.path = data_dir + "/store";
  so.read_only = true;
  MS_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(so));

  MS_ASSIGN_OR_RETURN(const CatalogStats stats, store->GetCatalogStats());
  Progress progress("featurize listings", store->EstimateListingCount());
  std::vector<uint64_t> ids;
  std::vector<int64_t> cats;
  std::vector<float> dense;
  Ragged text;
  absl::flat_hash_map<uint64_t, int64_t> row_of;
  MS_RETURN_IF_ERROR(store->ScanListings([&](const Listing& l) {
    row_of[l.listing_id()] = static_cast<int64_t>(ids.size());
    ids.push_back(l.listing_id());
    text.Add(ListingFeatureIds(l));
    cats.push_back(CategoryId(l.category()));
    auto d = ListingDenseFeatures(l, stats);
    dense.insert(dense.end(), d.begin(), d.end());
    progress.Update(static_cast<int64_t>(ids.size()));
    return true;
  }));
  progress.Finish();
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) return absl::FailedPreconditionError("feature store has no listings; run ingest first");
  MS_RETURN_IF_ERROR(WriteNpy(out + "/listing_ids.npy", ids, {n}));
  MS_RETURN_IF_ERROR(text.Write(out + "/listing"));
  MS_RETURN_IF_ERROR(WriteNpy(out + "/listing_cat.npy", cats, {n}));
  MS_RETURN_IF_ERROR(WriteNpy(out + "/listing_dense.npy", dense, {n, kListingDenseDim}));

  MS_ASSIGN_OR_RETURN(auto queries, ReadQueries(data_dir + "/catalog/queries.tsv"));
  MS_ASSIGN_OR_RETURN(auto judgments, ReadJudgments(data_dir + "/catalog/judgments.tsv"));
  const JudgmentMap by_query = GroupJudgments(judgments);

  std::string meta = absl::StrCat("featurizer_version=", kFeaturizerVersion, "\ntext_vocab=",
                                  kTextVocabSize, "\ncategory_buckets=", kCategoryBuckets,
                                  "\ndense_dim=", kListingDenseDim, "\nlistings=", n, "\n");
  std::printf("export_training summary\n  listings          %lld\n", static_cast<long long>(n));
  for (const std::string split : {"train", "valid", "test"}) {
    const bool train = split == "train";
    std::vector<uint64_t> qids;
    Ragged qtext, typo_text;
    std::vector<int64_t> pairs;
    int64_t typos = 0;
    int64_t missing = 0;
    for (const QueryRecord& q : queries) {
      if (q.split != split) continue;
      const int64_t qrow = static_cast<int64_t>(qids.size());
      qids.push_back(q.query_id);
      qtext.Add(QueryFeatureIds(q.text));
      if (train) {
        // The kinds training sees; quality_bench's keyboard and insertion typos stay unseen.
        static constexpr TypoKind kTrainKinds[] = {TypoKind::kSwap, TypoKind::kDeletion,
                                                   TypoKind::kDoubling};
        bool changed = false;
        const std::string typo =
            WithTypo(q.text, kTrainKinds[qrow % 3], absl::GetFlag(FLAGS_typo_seed), &changed);
        typo_text.Add(QueryFeatureIds(changed ? typo : q.text));
        typos += changed;
      }
      auto it = by_query.find(q.query_id);
      if (it == by_query.end()) continue;
      for (const auto& [lid, label] : it->second) {
        auto r = row_of.find(lid);
        if (r == row_of.end()) {
          ++missing;  // judged listing no longer in the store (sold / bad row)
          continue;
        }
        pairs.insert(pairs.end(), {qrow, r->second, static_cast<int64_t>(label)});
      }
    }
    const int64_t nq = static_cast<int64_t>(qids.size());
    const int64_t np = static_cast<int64_t>(pairs.size() / 3);
    MS_RETURN_IF_ERROR(WriteNpy(out + "/q_" + split + "_ids.npy", qids, {nq}));
    MS_RETURN_IF_ERROR(qtext.Write(out + "/q_" + split));
    if (train) {
      MS_RETURN_IF_ERROR(typo_text.Write(out + "/q_train_typo"));
      absl::StrAppend(&meta, "train_typo_queries=", typos, "\n");
      std::printf("  train queries with a typo'd copy (swap / deletion / doubling): %lld\n",
                  static_cast<long long>(typos));
    }
    MS_RETURN_IF_ERROR(WriteNpy(out + "/pairs_" + split + ".npy", pairs, {np, 3}));
    absl::StrAppend(&meta, "queries_", split, "=", nq, "\npairs_", split, "=", np, "\n");
    std::printf("  %-6s queries    %lld  judged pairs %lld  (judged listings not in store: %lld)\n",
                split.c_str(), static_cast<long long>(nq), static_cast<long long>(np),
                static_cast<long long>(missing));
  }
  // The position-biased click log (train split only), when the catalog has one.
  const std::string clicks_path = data_dir + "/catalog/clicks.tsv";
  if (PathExists(clicks_path)) {
    MS_ASSIGN_OR_RETURN(auto rows, ReadTsv(clicks_path, {"query_id", "listing_id", "position", "clicked"}));
    absl::flat_hash_map<uint64_t, int64_t> train_row;
    int64_t r = 0;
    for (const QueryRecord& q : queries) {
      if (q.split == "train") train_row[q.query_id] = r++;
    }
    std::vector<int64_t> clicks;
    for (const TsvRow& row : rows) {
      uint64_t qid, lid;
      int64_t pos, clicked;
      if (!absl::SimpleAtoi(row[0], &qid) || !absl::SimpleAtoi(row[1], &lid) ||
          !absl::SimpleAtoi(row[2], &pos) || !absl::SimpleAtoi(row[3], &clicked)) {
        return absl::InvalidArgumentError(absl::StrCat(clicks_path, ": malformed row"));
      }
      auto q = train_row.find(qid);
      auto l = row_of.find(lid);
      if (q == train_row.end() || l == row_of.end()) continue;
      clicks.insert(clicks.end(), {q->second, l->second, pos, clicked});
    }
    const int64_t nc = static_cast<int64_t>(clicks.size() / 4);
    MS_RETURN_IF_ERROR(WriteNpy(out + "/clicks_train.npy", clicks, {nc, 4}));
    absl::StrAppend(&meta, "clicks_train=", nc, "\n");
    std::printf("  click log         %lld impressions (train queries)\n", static_cast<long long>(nc));
  }
  MS_RETURN_IF_ERROR(WriteFileAtomically(out + "/meta.txt", meta));
  std::printf("  written to        %s\n", out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes training tensors (.npy) for the Python trainers from the feature store and "
      "the query/judgment files.\nUsage: export_training [--data_dir=var] [--out_dir=...]");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "export_training: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
