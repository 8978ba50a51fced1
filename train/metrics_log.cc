#include "train/metrics_log.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace psg::train {
namespace {

io::Json ParseLine(absl::string_view line) {
  return io::Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace

absl::StatusOr<MetricsLog> MetricsLog::Open(const std::string& path,
                                            std::optional<int64_t> resumed_epoch) {
  if (resumed_epoch.has_value()) {
    absl::StatusOr<std::string> text = io::ReadRegularFile(path, "metrics log");
    if (!text.ok() && !absl::IsNotFound(text.status())) return text.status();
    if (text.ok()) {
      std::string kept;
      bool dropped = false;
      for (absl::string_view line : absl::StrSplit(*text, absl::ByChar('\n'), absl::SkipEmpty())) {
        const bool whole = line.data() + line.size() < text->data() + text->size();  // ends in '\n'
        const io::Json json = ParseLine(line);
        const bool later = json.is_object() && json.contains("epoch") && json["epoch"].is_number() &&
                           json["epoch"].get<double>() > static_cast<double>(*resumed_epoch);
        if (!whole || later) {
          dropped = true;
          continue;
        }
        absl::StrAppend(&kept, line, "\n");
      }
      if (dropped) {
        if (absl::Status s = io::WriteFileAtomically(path, kept); !s.ok()) return s;
      }
    }
  }
  absl::StatusOr<io::AppendFile> file = io::AppendFile::Open(path, /*truncate=*/!resumed_epoch);
  if (!file.ok()) return file.status();
  return MetricsLog(*std::move(file));
}

absl::StatusOr<std::vector<io::Json>> MetricsLog::Read(const std::string& path) {
  absl::StatusOr<std::string> text = io::ReadRegularFile(path, "metrics log");
  if (!text.ok()) return text.status();
  std::vector<io::Json> lines;
  for (absl::string_view line : absl::StrSplit(*text, absl::ByChar('\n'), absl::SkipEmpty())) {
    io::Json json = ParseLine(line);
    if (json.is_object()) lines.push_back(std::move(json));
  }
  return lines;
}

}  // namespace psg::train
