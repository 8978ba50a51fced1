#include "io/json_writer.h"

#include "io/files.h"

namespace psg::io {
namespace {

std::string Dump(const Json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

}  // namespace

std::string JsonText(const Json& value) { return Dump(value, 2) + "\n"; }

std::string JsonLine(const Json& value) { return Dump(value, -1) + "\n"; }

std::string JsonCompact(const Json& value) { return Dump(value, -1); }

absl::Status WriteJsonFile(const std::string& path, const Json& value) {
  return WriteFileAtomically(path, JsonText(value));
}

}  // namespace psg::io
