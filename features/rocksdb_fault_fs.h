// RocksDB does its own file I/O, outside our Env. Under MARKETSEARCH_FAULTS (the test hook of
// common/fault_injection_env.h) the feature store opens RocksDB on this wrapper of its file
// system, which asks the same rules before each operation — so `ingest` and the server meet
// an injected write, fsync, rename, read, mkdir or remove error inside RocksDB exactly where a
// real disk would put it (WAL append, MANIFEST sync, the CURRENT rename, SST reads).
// RocksDB then reports the error (ENOSPC as NoSpace) and, for a failed write, stops
// accepting writes (background error), as it does on a real failing disk.
#ifndef MARKETSEARCH_FEATURES_ROCKSDB_FAULT_FS_H_
#define MARKETSEARCH_FEATURES_ROCKSDB_FAULT_FS_H_

#include <memory>

#include "common/fault_injection_env.h"
#include "rocksdb/env.h"

namespace marketsearch {

// A rocksdb::Env over Default()'s file system with `faults`' rules applied (not owned; must
// outlive the Env).
std::unique_ptr<rocksdb::Env> NewFaultInjectingRocksEnv(FaultInjectionEnv* faults);

// The process-wide one for Env::Default()'s rules, or null when MARKETSEARCH_FAULTS is unset.
rocksdb::Env* DefaultRocksEnvWithFaults();

}  // namespace marketsearch

#endif  // MARKETSEARCH_FEATURES_ROCKSDB_FAULT_FS_H_
