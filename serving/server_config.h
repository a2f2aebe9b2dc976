// The server's configuration file: a text-proto ServerConfig (proto/server_config.proto) whose
// fields are the server's flags by name. ApplyConfigToFlags sets, for every field the file
// sets, the flag of that name, unless the command line gave that flag (flags override the
// file). Generic over the message, so the schema stays one list of flag names.
#ifndef MARKETSEARCH_SERVING_SERVER_CONFIG_H_
#define MARKETSEARCH_SERVING_SERVER_CONFIG_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace marketsearch {

// Reads `path` into `config` (its type's text format). InvalidArgument naming the line and the
// problem (an unknown field, a wrong type); NotFound when the file is missing.
absl::Status ReadTextConfig(const std::string& path, google::protobuf::Message* config);

// The flag names an argv gives ("--name=v", "--name v", "-name", "--noname" for a bool), for
// ApplyConfigToFlags to leave alone (this abseil keeps its own record of that private).
absl::flat_hash_set<std::string> FlagsGivenOnCommandLine(int argc, char** argv);

// Sets each flag named by a field set in `config` from its value, except the flags in
// `command_line` (FlagsGivenOnCommandLine); `applied` (optional) receives "name=value" of each
// flag set, `overridden` the names the command line kept. FailedPrecondition when a field
// names no flag (a schema and binary out of step); InvalidArgument when a flag refuses the
// value (naming both).
absl::Status ApplyConfigToFlags(const google::protobuf::Message& config,
                                const absl::flat_hash_set<std::string>& command_line,
                                std::vector<std::string>* applied = nullptr,
                                std::vector<std::string>* overridden = nullptr);

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_SERVER_CONFIG_H_
