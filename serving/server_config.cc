#include "serving/server_config.h"

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/text_proto.h"
#include "google/protobuf/descriptor.h"

namespace marketsearch {
namespace {

// The value of a set scalar field, as a flag parses it.
std::string FieldValue(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* f) {
  const google::protobuf::Reflection* r = m.GetReflection();
  switch (f->cpp_type()) {
    case google::protobuf::FieldDescriptor::CPPTYPE_INT32: return absl::StrCat(r->GetInt32(m, f));
    case google::protobuf::FieldDescriptor::CPPTYPE_INT64: return absl::StrCat(r->GetInt64(m, f));
    case google::protobuf::FieldDescriptor::CPPTYPE_UINT32: return absl::StrCat(r->GetUInt32(m, f));
    case google::protobuf::FieldDescriptor::CPPTYPE_UINT64: return absl::StrCat(r->GetUInt64(m, f));
    case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE: return absl::StrCat(r->GetDouble(m, f));
    case google::protobuf::FieldDescriptor::CPPTYPE_FLOAT: return absl::StrCat(r->GetFloat(m, f));
    case google::protobuf::FieldDescriptor::CPPTYPE_BOOL: return r->GetBool(m, f) ? "true" : "false";
    case google::protobuf::FieldDescriptor::CPPTYPE_STRING: return r->GetString(m, f);
    default: return "";
  }
}

}  // namespace

absl::Status ReadTextConfig(const std::string& path, google::protobuf::Message* config) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("config ", path, ": cannot read it"));
  return ParseTextProto(*text, absl::StrCat("config ", path), config);
}

absl::flat_hash_set<std::string> FlagsGivenOnCommandLine(int argc, char** argv) {
  absl::flat_hash_set<std::string> out;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (a == "--") break;  // the rest are positional
    if (!absl::ConsumePrefix(&a, "--") && !absl::ConsumePrefix(&a, "-")) continue;
    a = a.substr(0, a.find('='));
    out.insert(std::string(a));
    if (absl::ConsumePrefix(&a, "no")) out.insert(std::string(a));  // --noflag for a bool
  }
  return out;
}

absl::Status ApplyConfigToFlags(const google::protobuf::Message& config,
                                const absl::flat_hash_set<std::string>& command_line,
                                std::vector<std::string>* applied, std::vector<std::string>* overridden) {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  config.GetReflection()->ListFields(config, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(f->name());
    if (flag == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("config field ", f->name(), " names no flag of this binary"));
    }
    if (command_line.contains(f->name())) {
      if (overridden != nullptr) overridden->push_back(f->name());
      continue;
    }
    const std::string value = FieldValue(config, f);
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat("config field ", f->name(), ": ", error));
    }
    if (applied != nullptr) applied->push_back(absl::StrCat(f->name(), "=", value));
  }
  return absl::OkStatus();
}

}  // namespace marketsearch
