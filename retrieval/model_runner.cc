#include "retrieval/model_runner.h"

#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "features/featurizer.h"
#include "features/npy_io.h"
#include "google/protobuf/text_format.h"
#include "retrieval/aoti_runner.h"
#include "retrieval/torchscript_runner.h"

namespace marketsearch {
namespace {

// The x86 features each supported AOTI target needs (gcc's -march levels). An artifact for a
// target this table does not know is refused rather than risking SIGILL on the first request.
absl::Status CheckCpuSupports(const ModelManifest& m, const std::string& what) {
  const std::string& march = m.aoti_march();
  std::vector<std::pair<const char*, bool>> need;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (march == "x86-64" || march == "x86-64-v2" || march == "x86-64-v3" || march == "x86-64-v4") {
    need.push_back({"sse4.2", march == "x86-64" || __builtin_cpu_supports("sse4.2")});
  }
  if (march == "x86-64-v3" || march == "x86-64-v4") {
    need.push_back({"avx2", __builtin_cpu_supports("avx2")});
    need.push_back({"fma", __builtin_cpu_supports("fma")});
    need.push_back({"bmi2", __builtin_cpu_supports("bmi2")});
  }
  if (march == "x86-64-v4") need.push_back({"avx512f", __builtin_cpu_supports("avx512f")});
#endif
  if (need.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": AOTInductor package compiled for CPU target '", march,
        "', which this server cannot check on this CPU (re-export it for x86-64-v3)"));
  }
  for (const auto& [flag, ok] : need) {
    if (!ok) {
      return absl::FailedPreconditionError(absl::StrCat(what, ": compiled for ", march,
                                                        ", but this CPU lacks ", flag));
    }
  }
  return absl::OkStatus();
}

// Runs the load-check fixture (exact inputs and the eager model's output, written by
// common/model_artifact.py) and compares: a package that loads but computes something else
// (a miscompiled kernel, a wrong export) is refused before it serves.
// `verified`: the artifact's checksummed files (name -> path); only they are read.
absl::Status RunLoadCheck(const ModelRunner& runner, const std::string& what,
                          const absl::flat_hash_map<std::string, std::string>& verified) {
  std::vector<NpyArray> arrays;
  for (int i = 0;; ++i) {
    auto input = verified.find(absl::StrCat("load_check_input_", i, ".npy"));
    if (input == verified.end()) break;
    absl::StatusOr<NpyArray> a = ReadNpy(input->second);
    if (!a.ok()) return a.status();
    arrays.push_back(*std::move(a));
  }
  std::vector<InputTensor> inputs;
  for (const NpyArray& a : arrays) {
    if (a.dtype != "<i8" && a.dtype != "<f4") {
      return absl::DataLossError(absl::StrCat(what, ": load-check input of dtype ", a.dtype));
    }
    inputs.push_back({a.dtype == "<i8" ? InputTensor::Dtype::kInt64 : InputTensor::Dtype::kFloat32,
                      a.shape, a.bytes.data()});
  }
  absl::StatusOr<NpyArray> want = ReadNpy(verified.at("load_check_output.npy"));
  if (!want.ok()) return want.status();
  absl::StatusOr<FloatMatrix> got = runner.Run(inputs);
  if (!got.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": load check failed to run: ", got.status().message()));
  }
  const std::vector<float> expected = want->AsFloat32();
  if (got->data.size() != expected.size()) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": load check returned ",
                                                      got->data.size(), " values, expected ",
                                                      expected.size()));
  }
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double d = std::abs(static_cast<double>(got->data[i]) - expected[i]) /
                     std::max(1.0, std::abs(static_cast<double>(expected[i])));
    if (!(d <= worst)) worst = d;  // NaN counts as the worst
  }
  if (!(worst <= ModelRunner::kLoadCheckTolerance)) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": load check differs from the exporting PyTorch by ", worst, " (tolerance ",
        ModelRunner::kLoadCheckTolerance, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelManifest> ReadModelManifest(const std::string& dir) {
  auto text = ReadFile(dir + "/MANIFEST");
  if (absl::IsNotFound(text.status())) {
    return absl::NotFoundError(absl::StrCat("no MANIFEST in ", dir));
  }
  if (!text.ok()) return text.status();  // an I/O error, naming the operation and the file
  ModelManifest m;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &m)) {
    return absl::DataLossError(absl::StrCat("unparsable MANIFEST in ", dir));
  }
  return m;
}

absl::StatusOr<std::unique_ptr<ModelRunner>> ModelRunner::Load(const Options& options) {
  auto manifest = ReadModelManifest(options.dir);
  if (!manifest.ok()) return manifest.status();
  const std::string what = absl::StrCat("model ", manifest->model_name(), " v", manifest->version());
  if (!options.expected_name.empty() && manifest->model_name() != options.expected_name) {
    return absl::FailedPreconditionError(absl::StrCat(options.dir, " holds model '",
                                                      manifest->model_name(), "', expected '",
                                                      options.expected_name, "'"));
  }
  if (auto s = CheckFeaturizerVersion(manifest->featurizer_version(), what); !s.ok()) return s;
  std::string format = manifest->format().empty() ? "torchscript" : manifest->format();
  if (!options.format.empty()) format = options.format;
  if (format != "torchscript" && format != "aoti") {
    return absl::FailedPreconditionError(absl::StrCat(what, ": unsupported format ", format));
  }
  const std::string model_name = format == "aoti" ? "model.pt2" : "model.pt";
  // Every listed file is verified, whichever format serves.
  absl::flat_hash_map<std::string, std::string> verified;
  for (const FileChecksum& f : manifest->files()) {
    const std::string path = options.dir + "/" + f.name();
    auto sum = Sha256File(path);
    if (!sum.ok()) return sum.status();
    if (*sum != f.sha256()) {
      return absl::DataLossError(absl::StrCat(what, ": checksum mismatch for ", f.name(),
                                              " (manifest ", f.sha256(), ", file ", *sum, ")"));
    }
    verified[f.name()] = path;
  }
  auto model_file = verified.find(model_name);
  if (model_file == verified.end()) {
    return absl::DataLossError(
        absl::StrCat(what, ": manifest lists no checksummed ", model_name, " (format ", format, ")"));
  }
  absl::StatusOr<std::unique_ptr<ModelRunner>> runner;
  if (format == "aoti") {
    if (absl::Status s = CheckCpuSupports(*manifest, what); !s.ok()) return s;
    runner = LoadAotiRunner(options, *std::move(manifest), model_file->second);
  } else {
    runner = LoadTorchScriptRunner(options, *std::move(manifest), model_file->second);
  }
  if (!runner.ok()) return runner.status();
  if (verified.contains("load_check_output.npy")) {
    if (absl::Status s = RunLoadCheck(**runner, what, verified); !s.ok()) return s;
  }
  return runner;
}

}  // namespace marketsearch
