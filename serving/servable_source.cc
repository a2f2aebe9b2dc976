#include "serving/servable_source.h"

#include <algorithm>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace marketsearch {

const char* ServableKindName(ServableKind kind) {
  switch (kind) {
    case ServableKind::kIndex:
      return "index";
    case ServableKind::kLexical:
      return "lexical";
    case ServableKind::kRanker:
      return "ranker";
  }
  return "unknown";
}

std::string ServableId::DebugString() const {
  return absl::StrCat(ServableKindName(kind), " v", version);
}

std::string ServableRoot(const std::string& data_dir, ServableKind kind) {
  switch (kind) {
    case ServableKind::kIndex:
      return data_dir + "/index";
    case ServableKind::kLexical:
      return data_dir + "/lexical";
    case ServableKind::kRanker:
      return data_dir + "/models/ranker";
  }
  return data_dir;
}

std::string ServableVersionDir(const std::string& data_dir, ServableKind kind, int64_t version) {
  return VersionDir(ServableRoot(data_dir, kind), version);
}

DataDirSource::DataDirSource(Options options) : options_(std::move(options)) {}

void DataDirSource::AddPinned(ServableKind kind, int64_t version) {
  absl::MutexLock lock(&mu_);
  ++pins_[static_cast<int>(kind)][version];
}

bool DataDirSource::RemovePinned(ServableKind kind, int64_t version) {
  absl::MutexLock lock(&mu_);
  auto& pins = pins_[static_cast<int>(kind)];
  auto it = pins.find(version);
  if (it == pins.end()) return false;
  if (--it->second == 0) pins.erase(it);
  return true;
}

AspiredVersionsMap DataDirSource::GetAspiredVersions() {
  std::array<std::vector<int64_t>, kNumServableKinds> pinned;
  {
    absl::MutexLock lock(&mu_);
    for (int k = 0; k < kNumServableKinds; ++k) {
      for (const auto& [version, count] : pins_[k]) pinned[k].push_back(version);
    }
  }
  Env* const env = options_.env;
  AspiredVersionsMap out;
  for (ServableKind kind : kAllServableKinds) {
    AspiredVersions& a = out[static_cast<int>(kind)];
    const std::string root = ServableRoot(options_.data_dir, kind);
    if (kind == ServableKind::kRanker) {
      auto names = env->ListDir(root);
      if (!names.ok() && names.status().code() != absl::StatusCode::kNotFound) {
        a.status = names.status();
        continue;
      }
      if (names.ok()) {
        for (const std::string& name : *names) {
          int64_t v = 0;
          if (ParseVersionName(name, &v) && env->IsDirectory(root + "/" + name)) {
            a.candidates.push_back(v);
          }
        }
      }
      std::sort(a.candidates.begin(), a.candidates.end(), std::greater<int64_t>());
    } else {
      const std::string path = root + "/CURRENT";
      auto text = env->ReadFileToString(path);
      if (!text.ok() && text.status().code() != absl::StatusCode::kNotFound) {
        a.status = text.status();
        continue;
      }
      if (text.ok()) {
        auto v = ParseCurrentFile(*text, path);
        if (!v.ok()) {
          a.status = v.status();
          continue;
        }
        a.candidates.push_back(*v);
      }
    }
    for (int64_t v : pinned[static_cast<int>(kind)]) {
      if (env->IsDirectory(ServableVersionDir(options_.data_dir, kind, v))) {
        a.pinned.push_back(v);
      } else {
        a.missing_pinned.push_back(v);
      }
    }
  }
  return out;
}

}  // namespace marketsearch
