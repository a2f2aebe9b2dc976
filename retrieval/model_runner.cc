#include "retrieval/model_runner.h"

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "features/featurizer.h"
#include "google/protobuf/text_format.h"
#include "retrieval/torchscript_runner.h"

namespace marketsearch {

absl::StatusOr<ModelManifest> ReadModelManifest(const std::string& dir) {
  auto text = ReadFile(dir + "/MANIFEST");
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no MANIFEST in ", dir));
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
  if (!manifest->format().empty() && manifest->format() != "torchscript") {
    return absl::FailedPreconditionError(absl::StrCat(what, ": unsupported format ", manifest->format()));
  }
  std::string model_file;
  for (const FileChecksum& f : manifest->files()) {
    const std::string path = options.dir + "/" + f.name();
    auto sum = Sha256File(path);
    if (!sum.ok()) return sum.status();
    if (*sum != f.sha256()) {
      return absl::DataLossError(absl::StrCat(what, ": checksum mismatch for ", f.name(),
                                              " (manifest ", f.sha256(), ", file ", *sum, ")"));
    }
    if (f.name() == "model.pt") model_file = path;
  }
  if (model_file.empty()) {
    return absl::DataLossError(absl::StrCat(what, ": manifest lists no checksummed model.pt"));
  }
  return LoadTorchScriptRunner(options, *std::move(manifest), model_file);
}

}  // namespace marketsearch
