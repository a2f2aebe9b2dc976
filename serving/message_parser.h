// Parsing of API requests by the server itself rather than by gRPC's generated handlers.
// protobuf refuses a proto3 `string` field holding invalid UTF-8 while parsing, before any
// handler runs: the client used to get INTERNAL with an empty message, and the server log a
// `libprotobuf ERROR` line per request. Parsed here, such a request gets INVALID_ARGUMENT
// naming the field ("listings[3].title: not valid UTF-8").
//
// Thread-safe (pure functions; InstallProtobufLogFilter is process-wide, call it once at start).
#ifndef MARKETSEARCH_SERVING_MESSAGE_PARSER_H_
#define MARKETSEARCH_SERVING_MESSAGE_PARSER_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace marketsearch {

// Parses `bytes` into `message`. INVALID_ARGUMENT "<field path>: not valid UTF-8" when a
// string field (at any depth) holds invalid UTF-8, "request: not a valid protobuf encoding of
// this method's request" when the bytes are not that message at all (no type name: messages
// are for clients).
absl::Status ParseRequestMessage(std::string_view bytes, google::protobuf::Message* message);

// The path of the first string field in `bytes` (a serialized `type`) that holds invalid
// UTF-8, e.g. "filters.categories[2]", indexed as in the parsed message (a message field sent
// twice is merged); empty when there is none or the bytes do not parse.
std::string FindInvalidUtf8Field(std::string_view bytes, const google::protobuf::Descriptor& type);

// Routes protobuf's log through a filter that drops its "invalid UTF-8" parse errors (the
// server answers those requests itself) and passes every other message on to stderr.
void InstallProtobufLogFilter();

}  // namespace marketsearch

#endif  // MARKETSEARCH_SERVING_MESSAGE_PARSER_H_
