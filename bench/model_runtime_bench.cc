// model_runtime_bench: the served model runtimes side by side on the same artifacts, one thread,
// interleaved call by call (so machine noise hits both alike):
//   - the ranker's forward alone on 200 real candidates (the artifact's parity features):
//     AOTInductor (model.pt2) vs the TorchScript fallback (model.pt) of the same version;
//   - the query tower on the test queries (one query per call, as a request does).
// Prints a table and BENCH forward200_p50_ms_aoti / _torchscript, the p99s, the speedup, and
// query_encode_p50/p99_ms for both formats.
//
// usage: model_runtime_bench --data_dir=DIR [--iterations=2000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/proc_stat.h"
#include "common/status_macros.h"
#include "common/timing.h"
#include "common/versions.h"
#include "datasets/catalog_reader.h"
#include "features/featurizer.h"
#include "features/npy_io.h"
#include "ranking/ranker.h"
#include "ranking/ranking_features.h"
#include "retrieval/encoders.h"

ABSL_FLAG(std::string, data_dir, "./var", "a data directory with a ranker and towers exported "
                                          "in both formats (the trainers' default)");
ABSL_FLAG(int, iterations, 2000, "forward calls per format");
ABSL_FLAG(int, candidates, 200, "rows per ranker forward");

namespace marketsearch {
namespace {

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * v.size()))];
}

absl::Status Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const int iterations = absl::GetFlag(FLAGS_iterations);
  const int n = absl::GetFlag(FLAGS_candidates);
  SetBlasThreads(1);
  std::printf("loadavg before: %s\n", LoadAverage().c_str());

  // ---- Ranker: both formats of the newest version.
  MS_ASSIGN_OR_RETURN(std::string rdir, NewestVersionDir(data_dir + "/models/ranker"));
  std::unique_ptr<Ranker> rankers[2];
  const char* formats[2] = {"aoti", "torchscript"};
  for (int f = 0; f < 2; ++f) {
    Ranker::Options o;
    o.dir = rdir;
    o.format = formats[f];
    MS_ASSIGN_OR_RETURN(rankers[f], Ranker::Load(o));
  }
  MS_ASSIGN_OR_RETURN(NpyArray px, ReadNpy(rdir + "/parity_features.npy"));
  if (px.shape.size() != 2 || px.shape[1] != kRankingFeatureDim || px.shape[0] == 0) {
    return absl::FailedPreconditionError("parity_features.npy is not [rows, features]");
  }
  const std::vector<float> rows = px.AsFloat32();
  FloatMatrix x;
  x.rows = n;
  x.cols = kRankingFeatureDim;
  for (int r = 0; r < n; ++r) {  // real candidates, repeated when the fixture has fewer
    const float* src = rows.data() + (r % px.shape[0]) * kRankingFeatureDim;
    x.data.insert(x.data.end(), src, src + kRankingFeatureDim);
  }
  std::vector<double> fwd[2];
  double max_diff = 0;
  for (int i = 0; i < iterations + 50; ++i) {
    std::vector<float> out[2];
    for (int f = 0; f < 2; ++f) {
      const auto t = std::chrono::steady_clock::now();
      MS_ASSIGN_OR_RETURN(out[f], rankers[f]->Score(x));
      if (i >= 50) fwd[f].push_back(MsSince(t));  // the first 50: warm-up
    }
    for (int r = 0; r < n; ++r) max_diff = std::max<double>(max_diff, std::abs(out[0][r] - out[1][r]));
  }

  // ---- Query tower: one query per call, the test queries.
  MS_ASSIGN_OR_RETURN(std::string qdir, NewestVersionDir(data_dir + "/models/query_tower"));
  std::unique_ptr<QueryEncoder> towers[2];
  for (int f = 0; f < 2; ++f) {
    ModelRunner::Options o;
    o.format = formats[f];
    MS_ASSIGN_OR_RETURN(QueryEncoder qe, QueryEncoder::Load(qdir, o));
    towers[f] = std::make_unique<QueryEncoder>(std::move(qe));
  }
  MS_ASSIGN_OR_RETURN(std::vector<QueryRecord> queries, ReadQueries(data_dir + "/catalog/queries.tsv"));
  std::vector<ParsedQuery> parsed;
  for (const QueryRecord& q : queries) {
    if (q.split == "test") parsed.push_back(ParseQuery(q.text));
  }
  if (parsed.empty()) return absl::NotFoundError("no test queries");
  std::vector<double> enc[2];
  for (int i = 0; i < std::max<int>(iterations, parsed.size()) + 50; ++i) {
    const ParsedQuery& q = parsed[i % parsed.size()];
    for (int f = 0; f < 2; ++f) {
      const auto t = std::chrono::steady_clock::now();
      MS_ASSIGN_OR_RETURN(FloatMatrix e, towers[f]->Encode(q));
      (void)e;
      if (i >= 50) enc[f].push_back(MsSince(t));
    }
  }
  std::printf("loadavg after: %s\n", LoadAverage().c_str());

  std::printf("ranker v%lld, %d candidates, one thread, %d calls each (interleaved); query tower "
              "v%lld, %zu test queries\n",
              static_cast<long long>(rankers[0]->version()), n, iterations,
              static_cast<long long>(towers[0]->version()), parsed.size());
  std::printf("  %-12s %16s %16s %16s %16s\n", "format", "forward p50 ms", "forward p99 ms",
              "encode p50 ms", "encode p99 ms");
  for (int f = 0; f < 2; ++f) {
    std::printf("  %-12s %16.4f %16.4f %16.4f %16.4f\n", formats[f], Pct(fwd[f], 50), Pct(fwd[f], 99),
                Pct(enc[f], 50), Pct(enc[f], 99));
  }
  std::printf("  max |aoti - torchscript| ranker score: %.2g\n", max_diff);
  for (int f = 0; f < 2; ++f) {
    std::printf("BENCH forward%d_p50_ms_%s %.4f\n", n, formats[f], Pct(fwd[f], 50));
    std::printf("BENCH forward%d_p99_ms_%s %.4f\n", n, formats[f], Pct(fwd[f], 99));
    std::printf("BENCH query_encode_p50_ms_%s %.4f\n", formats[f], Pct(enc[f], 50));
    std::printf("BENCH query_encode_p99_ms_%s %.4f\n", formats[f], Pct(enc[f], 99));
  }
  std::printf("BENCH aoti_speedup_forward%d_p50 %.3f\n", n, Pct(fwd[1], 50) / Pct(fwd[0], 50));
  std::printf("BENCH aoti_speedup_query_encode_p50 %.3f\n", Pct(enc[1], 50) / Pct(enc[0], 50));
  return absl::OkStatus();
}

}  // namespace
}  // namespace marketsearch

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status s = marketsearch::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "model_runtime_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
