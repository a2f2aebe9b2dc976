// Text-format protos from files the operators write (the server's config, the experiment
// configuration): parse errors come back as InvalidArgument naming the source, the line, the
// column and the parser's message (an unknown field included), not protobuf's stderr logging.
#ifndef MARKETSEARCH_COMMON_TEXT_PROTO_H_
#define MARKETSEARCH_COMMON_TEXT_PROTO_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace marketsearch {

// Parses `text` into `message` (cleared first). `source` names it in the error.
absl::Status ParseTextProto(const std::string& text, const std::string& source,
                            google::protobuf::Message* message);

}  // namespace marketsearch

#endif  // MARKETSEARCH_COMMON_TEXT_PROTO_H_
