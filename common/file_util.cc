#include "common/file_util.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace marketsearch {
namespace fs = std::filesystem;

namespace {
std::string Hex(const unsigned char* d, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
  return out;
}
}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path, Env* env) {
  return env->ReadFileToString(path);
}

absl::Status WriteFileDurably(const std::string& path, const std::string& contents, Env* env) {
  absl::StatusOr<std::unique_ptr<WritableFile>> f = env->NewWritableFile(path);
  if (!f.ok()) return f.status();
  absl::Status s = (*f)->Append(contents);
  if (s.ok()) s = (*f)->Sync();
  absl::Status closed = (*f)->Close();
  return s.ok() ? closed : s;
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents, Env* env) {
  const std::string tmp = path + ".tmp";
  absl::Status s = WriteFileDurably(tmp, contents, env);
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (!s.ok()) {
    env->RemoveAll(tmp).IgnoreError();  // best effort: the error above is the one to report
    return s;
  }
  const std::string parent = fs::path(path).parent_path().string();
  return SyncDir(parent.empty() ? "." : parent, env);
}

absl::Status SyncDir(const std::string& dir, Env* env) { return env->SyncDir(dir); }

absl::Status MakeDirs(const std::string& dir, Env* env) { return env->CreateDirs(dir); }

std::string Sha256Hex(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return Hex(md, SHA256_DIGEST_LENGTH);
}

absl::StatusOr<std::string> Sha256File(const std::string& path, Env* env, int64_t* bytes) {
  absl::StatusOr<std::unique_ptr<SequentialFile>> f = env->NewSequentialFile(path);
  if (!f.ok()) return f.status();
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  std::string chunk;
  int64_t total = 0;
  for (;;) {
    if (absl::Status s = (*f)->Read(1 << 20, &chunk); !s.ok()) return s;
    if (chunk.empty()) break;
    SHA256_Update(&ctx, chunk.data(), chunk.size());
    total += static_cast<int64_t>(chunk.size());
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256_Final(md, &ctx);
  if (bytes != nullptr) *bytes = total;
  return Hex(md, SHA256_DIGEST_LENGTH);
}

bool PathExists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

}  // namespace marketsearch
