#include "serving/message_parser.h"

#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "features/utf8.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/unknown_field_set.h"

namespace marketsearch {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

constexpr int kMaxDepth = 16;  // our messages nest 3 deep; the bound keeps hostile input cheap

bool ParseUnknown(std::string_view bytes, UnknownFieldSet* fields) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  return fields->MergeFromCodedStream(&in) && in.ConsumedEntireMessage();
}

// Walks the wire form of a message of type `type` (parsed without any UTF-8 check) and
// returns the path of the first string field whose bytes are not UTF-8. `seen` counts, per
// repeated field path, the elements met so far: a singular message field may occur several
// times on the wire (protobuf merges the occurrences), and a repeated field inside it goes on
// counting across them, so "filters.categories[1]" names the element the parsed request
// holds at index 1 (counting per occurrence named a valid element instead).
std::string Walk(const Descriptor& type, const UnknownFieldSet& fields, const std::string& prefix,
                 int depth, std::map<std::string, int>* seen) {
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    const FieldDescriptor* fd = type.FindFieldByNumber(f.number());
    if (fd == nullptr || f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    std::string path = prefix + fd->name();
    if (fd->is_repeated()) path = absl::StrCat(path, "[", (*seen)[path]++, "]");
    if (fd->type() == FieldDescriptor::TYPE_STRING) {
      if (!IsValidUtf8(f.length_delimited())) return path;
    } else if (fd->type() == FieldDescriptor::TYPE_MESSAGE && depth < kMaxDepth) {
      UnknownFieldSet sub;
      if (!ParseUnknown(f.length_delimited(), &sub)) continue;
      std::string found = Walk(*fd->message_type(), sub, path + ".", depth + 1, seen);
      if (!found.empty()) return found;
    }
  }
  return "";
}

void FilteringLogHandler(google::protobuf::LogLevel level, const char* filename, int line,
                         const std::string& message) {
  if (message.find("invalid UTF-8") != std::string::npos) return;  // answered as INVALID_ARGUMENT
  static const char* const kLevels[] = {"INFO", "WARNING", "ERROR", "FATAL"};
  const int l = static_cast<int>(level);
  std::fprintf(stderr, "[libprotobuf %s %s:%d] %s\n", l >= 0 && l < 4 ? kLevels[l] : "?", filename,
               line, message.c_str());
}

}  // namespace

std::string FindInvalidUtf8Field(std::string_view bytes, const Descriptor& type) {
  UnknownFieldSet fields;
  if (!ParseUnknown(bytes, &fields)) return "";
  std::map<std::string, int> seen;
  return Walk(type, fields, "", 0, &seen);
}

absl::Status ParseRequestMessage(std::string_view bytes, google::protobuf::Message* message) {
  if (message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return absl::OkStatus();
  const std::string field = FindInvalidUtf8Field(bytes, *message->GetDescriptor());
  if (!field.empty()) return absl::InvalidArgumentError(field + ": not valid UTF-8");
  // Not the message's type name: a client is shown no internal name (the bad-input corpus in
  // tests/takedown_e2e_test.cc), and the method already says what was expected.
  return absl::InvalidArgumentError("request: not a valid protobuf encoding of this method's request");
}

void InstallProtobufLogFilter() { google::protobuf::SetLogHandler(&FilteringLogHandler); }

}  // namespace marketsearch
