#include "features/rocksdb_fault_fs.h"

#include <string>
#include <utility>

#include "rocksdb/file_system.h"

namespace marketsearch {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

IOStatus ToIOStatus(const absl::Status& s) {
  if (s.ok()) return IOStatus::OK();
  if (absl::IsResourceExhausted(s)) return IOStatus::NoSpace(std::string(s.message()));
  return IOStatus::IOError(std::string(s.message()));
}

class FaultWritable : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultWritable(std::unique_ptr<rocksdb::FSWritableFile>&& t, FaultInjectionEnv* f,
                std::string path)
      : FSWritableFileOwnerWrapper(std::move(t)), f_(f), path_(std::move(path)) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Check(FaultOp::kWrite, "write"); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(data, o, dbg);
  }
  IOStatus Append(const Slice& data, const IOOptions& o, const rocksdb::DataVerificationInfo& v,
                  IODebugContext* dbg) override {
    if (IOStatus s = Check(FaultOp::kWrite, "write"); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(data, o, v, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t off, const IOOptions& o,
                            IODebugContext* dbg) override {
    if (IOStatus s = Check(FaultOp::kWrite, "write"); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::PositionedAppend(data, off, o, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t off, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& v, IODebugContext* dbg) override {
    if (IOStatus s = Check(FaultOp::kWrite, "write"); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::PositionedAppend(data, off, o, v, dbg);
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Check(FaultOp::kSync, "fsync"); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Sync(o, dbg);
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Check(FaultOp::kSync, "fsync"); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Fsync(o, dbg);
  }

 private:
  IOStatus Check(FaultOp op, const char* what) {
    return ToIOStatus(f_->Check(op, {path_}, what, path_));
  }
  FaultInjectionEnv* const f_;
  const std::string path_;
};

class FaultSequential : public rocksdb::FSSequentialFileOwnerWrapper {
 public:
  FaultSequential(std::unique_ptr<rocksdb::FSSequentialFile>&& t, FaultInjectionEnv* f,
                  std::string path)
      : FSSequentialFileOwnerWrapper(std::move(t)), f_(f), path_(std::move(path)) {}
  IOStatus Read(size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) override {
    if (IOStatus s = ToIOStatus(f_->Check(FaultOp::kRead, {path_}, "read", path_)); !s.ok()) {
      return s;
    }
    return FSSequentialFileOwnerWrapper::Read(n, o, result, scratch, dbg);
  }

 private:
  FaultInjectionEnv* const f_;
  const std::string path_;
};

class FaultRandomAccess : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FaultRandomAccess(std::unique_ptr<rocksdb::FSRandomAccessFile>&& t, FaultInjectionEnv* f,
                    std::string path)
      : FSRandomAccessFileOwnerWrapper(std::move(t)), f_(f), path_(std::move(path)) {}
  IOStatus Read(uint64_t offset, size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    if (IOStatus s = ToIOStatus(f_->Check(FaultOp::kRead, {path_}, "read", path_)); !s.ok()) {
      return s;
    }
    return FSRandomAccessFileOwnerWrapper::Read(offset, n, o, result, scratch, dbg);
  }
  IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num, const IOOptions& o,
                     IODebugContext* dbg) override {
    if (IOStatus s = ToIOStatus(f_->Check(FaultOp::kRead, {path_}, "read", path_)); !s.ok()) {
      for (size_t i = 0; i < num; ++i) reqs[i].status = s;
      return s;
    }
    return FSRandomAccessFileOwnerWrapper::MultiRead(reqs, num, o, dbg);
  }

 private:
  FaultInjectionEnv* const f_;
  const std::string path_;
};

class FaultDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDirectory(std::unique_ptr<rocksdb::FSDirectory>&& t, FaultInjectionEnv* f, std::string path)
      : FSDirectoryWrapper(std::move(t)), f_(f), path_(std::move(path)) {}
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = Check(); !s.ok()) return s;
    return FSDirectoryWrapper::Fsync(o, dbg);
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& d) override {
    if (IOStatus s = Check(); !s.ok()) return s;
    return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d);
  }

 private:
  IOStatus Check() { return ToIOStatus(f_->Check(FaultOp::kSyncDir, {path_}, "fsync dir", path_)); }
  FaultInjectionEnv* const f_;
  const std::string path_;
};

class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FaultFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, FaultInjectionEnv* f)
      : FileSystemWrapper(base), f_(f) {}
  static const char* kClassName() { return "MarketsearchFaultFileSystem"; }
  const char* Name() const override { return kClassName(); }

  IOStatus NewSequentialFile(const std::string& f, const rocksdb::FileOptions& o,
                             std::unique_ptr<rocksdb::FSSequentialFile>* r,
                             IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSSequentialFile> base;
    IOStatus s = target()->NewSequentialFile(f, o, &base, dbg);
    if (s.ok()) r->reset(new FaultSequential(std::move(base), f_, f));
    return s;
  }
  IOStatus NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions& o,
                               std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                               IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSRandomAccessFile> base;
    IOStatus s = target()->NewRandomAccessFile(f, o, &base, dbg);
    if (s.ok()) r->reset(new FaultRandomAccess(std::move(base), f_, f));
    return s;
  }
  IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                           std::unique_ptr<rocksdb::FSWritableFile>* r,
                           IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> base;
    IOStatus s = target()->NewWritableFile(f, o, &base, dbg);
    if (s.ok()) r->reset(new FaultWritable(std::move(base), f_, f));
    return s;
  }
  IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                              std::unique_ptr<rocksdb::FSWritableFile>* r,
                              IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> base;
    IOStatus s = target()->ReopenWritableFile(f, o, &base, dbg);
    if (s.ok()) r->reset(new FaultWritable(std::move(base), f_, f));
    return s;
  }
  IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                             const rocksdb::FileOptions& o,
                             std::unique_ptr<rocksdb::FSWritableFile>* r,
                             IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> base;
    IOStatus s = target()->ReuseWritableFile(f, old, o, &base, dbg);
    if (s.ok()) r->reset(new FaultWritable(std::move(base), f_, f));
    return s;
  }
  IOStatus NewDirectory(const std::string& name, const IOOptions& o,
                        std::unique_ptr<rocksdb::FSDirectory>* r, IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSDirectory> base;
    IOStatus s = target()->NewDirectory(name, o, &base, dbg);
    if (s.ok()) r->reset(new FaultDirectory(std::move(base), f_, name));
    return s;
  }
  IOStatus RenameFile(const std::string& src, const std::string& dst, const IOOptions& o,
                      IODebugContext* dbg) override {
    const std::string shown = src + " -> " + dst;
    IOStatus s = ToIOStatus(f_->Check(FaultOp::kRename, {src, dst}, "rename", shown));
    if (!s.ok()) return s;
    return target()->RenameFile(src, dst, o, dbg);
  }
  IOStatus CreateDir(const std::string& d, const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = ToIOStatus(f_->Check(FaultOp::kMkdir, {d}, "mkdir", d)); !s.ok()) return s;
    return target()->CreateDir(d, o, dbg);
  }
  IOStatus CreateDirIfMissing(const std::string& d, const IOOptions& o,
                              IODebugContext* dbg) override {
    if (IOStatus s = ToIOStatus(f_->Check(FaultOp::kMkdir, {d}, "mkdir", d)); !s.ok()) return s;
    return target()->CreateDirIfMissing(d, o, dbg);
  }
  IOStatus DeleteFile(const std::string& f, const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = ToIOStatus(f_->Check(FaultOp::kRemove, {f}, "remove", f)); !s.ok()) return s;
    return target()->DeleteFile(f, o, dbg);
  }

 private:
  FaultInjectionEnv* const f_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewFaultInjectingRocksEnv(FaultInjectionEnv* faults) {
  auto fs = std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default(), faults);
  return rocksdb::NewCompositeEnv(fs);
}

rocksdb::Env* DefaultRocksEnvWithFaults() {
  static rocksdb::Env* const env = [] {
    FaultInjectionEnv* faults = DefaultFaultInjectionEnv();
    return faults == nullptr ? nullptr : NewFaultInjectingRocksEnv(faults).release();
  }();  // never destroyed: databases may be closed during static teardown
  return env;
}

}  // namespace marketsearch
