// tune_fusion: chooses how this deployment fuses its two retrieval legs, on its own valid
// split, and writes <data_dir>/fusion.textproto (proto FusionConfig), which the server, the
// ranking-data export and the benches read (retrieval/fusion_config.h).
//
// Every judged query of the split is retrieved once (ANN depth 200 + BM25 depth 200, as the
// server), then its candidates are fused again for each candidate fusion (FuseAgain):
// reciprocal-rank fusion and the score blend, each with the ANN leg's weight 0, 0.1, ..., 1.
// Weight 0 orders the top by BM25 and weight 1 by the two-tower leg, so the chosen fusion is
// never worse on these queries than either leg alone. The winner is the highest mean NDCG@10
// of the fused order (ties: higher capped Recall@100, then the earlier tried; the built-in
// default is tried first). Run it after build_index and build_lexical and before the ranker's
// data export: the ranker's features include the fused score and ranks.
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "experiments/metrics.h"
#include "google/protobuf/text_format.h"
#include "ranking/ranking_pipeline.h"
#include "retrieval/candidate_generator.h"
#include "retrieval/fusion_config.h"

ABSL_FLAG(std::string, data_dir, "var", "data directory (catalog/, index/, lexical/, models/)");
ABSL_FLAG(std::string, split, "valid", "judged queries to choose on (never the test split)");
ABSL_FLAG(std::string, out, "", "where to write the choice (default <data_dir>/fusion.textproto)");
ABSL_FLAG(int, min_queries, 20,
          "fewer judged queries in the split than this: nothing is written and the deployment "
          "keeps what it has (a choice on a handful of queries is noise)");
ABSL_FLAG(bool, dry_run, false, "print the table and the choice, write nothing");

namespace marketsearch {
namespace {

struct Arm {
  FusionOptions options;
  MeanMetric ndcg, recall;
};

absl::Status Run() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  const std::string split = absl::GetFlag(FLAGS_split);
  if (split == "test") return absl::InvalidArgumentError("--split: the test split only measures");
  MS_ASSIGN_OR_RETURN(RetrievalArtifacts art, LoadRetrievalArtifacts(dir));
  MS_ASSIGN_OR_RETURN(int64_t index_version, ReadCurrent(dir + "/index"));
  MS_ASSIGN_OR_RETURN(int64_t lexical_version, ReadCurrent(dir + "/lexical"));
  MS_ASSIGN_OR_RETURN(auto queries, ReadQueries(dir + "/catalog/queries.tsv"));
  MS_ASSIGN_OR_RETURN(auto judgments, ReadJudgments(dir + "/catalog/judgments.tsv"));
  const JudgmentMap by_query = GroupJudgments(judgments);

  std::vector<Arm> arms;
  arms.push_back({FusionOptions()});  // the built-in default first: it wins ties
  for (FusionMethod m : {FusionMethod::kReciprocalRank, FusionMethod::kScoreBlend}) {
    for (int w = 0; w <= 10; ++w) {
      Arm a;
      a.options.method = m;
      a.options.ann_weight = w / 10.0;
      arms.push_back(a);
    }
  }
  RetrievalOptions ro;  // the server's depths; the fusion is redone per arm below
  int n = 0;
  for (const QueryRecord& q : queries) {
    if (q.split != split) continue;
    auto it = by_query.find(q.query_id);
    if (it == by_query.end()) continue;
    ++n;
    MS_ASSIGN_OR_RETURN(RetrievalResult r, GenerateCandidates(art, q.text, ro));
    for (Arm& a : arms) {
      std::vector<uint64_t> ranked;
      for (const Candidate& c : FuseAgain(r.candidates, a.options)) ranked.push_back(c.listing_id);
      a.ndcg.Add(NdcgAtK(ranked, it->second, 10));
      const double rec = ExactRecallAtK(ranked, it->second, 100);
      if (rec >= 0) a.recall.Add(rec);
    }
  }
  std::printf("tune_fusion: %d judged %s queries (index v%lld, lexical v%lld)\n", n, split.c_str(),
              static_cast<long long>(index_version), static_cast<long long>(lexical_version));
  std::printf("  %-28s %9s %13s\n", "fusion", "NDCG@10", "R@100 capped");
  size_t best = 0;
  for (size_t i = 0; i < arms.size(); ++i) {
    const Arm& a = arms[i];
    std::printf("  %-28s %9.4f %13.4f%s\n", DescribeFusion(a.options).c_str(), a.ndcg.mean(),
                a.recall.mean(), i == 0 ? "  (built-in default)" : "");
    const Arm& b = arms[best];
    if (a.ndcg.mean() > b.ndcg.mean() + 1e-12 ||
        (a.ndcg.mean() > b.ndcg.mean() - 1e-12 && a.recall.mean() > b.recall.mean() + 1e-12)) {
      best = i;
    }
  }
  if (n < absl::GetFlag(FLAGS_min_queries)) {
    std::printf("tune_fusion: only %d judged %s queries (< --min_queries=%d): nothing written, "
                "the deployment keeps its fusion\n", n, split.c_str(), absl::GetFlag(FLAGS_min_queries));
    return absl::OkStatus();
  }
  const Arm& chosen = arms[best];
  FusionConfig config;
  config.set_method(FusionMethodName(chosen.options.method));
  config.set_ann_weight(chosen.options.ann_weight);
  config.set_rrf_k(chosen.options.rrf_k);
  config.set_split(split);
  config.set_queries(n);
  config.set_ndcg10(chosen.ndcg.mean());
  config.set_recall100(chosen.recall.mean());
  config.set_default_ndcg10(arms[0].ndcg.mean());
  config.set_index_version(index_version);
  config.set_lexical_version(lexical_version);
  config.set_created_unix(static_cast<int64_t>(std::time(nullptr)));
  for (const Arm& a : arms) {
    FusionConfig::Tried* t = config.add_tried();
    t->set_method(FusionMethodName(a.options.method));
    t->set_ann_weight(a.options.ann_weight);
    t->set_ndcg10(a.ndcg.mean());
    t->set_recall100(a.recall.mean());
  }
  std::printf("tune_fusion: chose %s: NDCG@10 %.4f on %s (built-in default %.4f, %+.4f)\n",
              DescribeFusion(chosen.options).c_str(), chosen.ndcg.mean(), split.c_str(),
              arms[0].ndcg.mean(), chosen.ndcg.mean() - arms[0].ndcg.mean());
  if (absl::GetFlag(FLAGS_dry_run)) return absl::OkStatus();
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  const std::string out = absl::GetFlag(FLAGS_out).empty() ? FusionConfigPath(dir) : absl::GetFlag(FLAGS_out);
  MS_RETURN_IF_ERROR(WriteFileAtomically(out, text));
  std::printf("tune_fusion: wrote %s\n", out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Chooses the deployment's fusion of the ANN and BM25 legs on its valid split and writes "
      "<data_dir>/fusion.textproto.\nUsage: tune_fusion --data_dir=var");
  absl::ParseCommandLine(argc, argv);
  absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "tune_fusion: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
