// <output_dir>/metrics.jsonl: one JSON object per line, one line per finished
// epoch ("epoch": 1, 2, ...; runs from a checkpoint also log their starting
// point as "epoch": 0). Every append is checked and fsynced (io/files.h). A
// resumed run first drops the lines of epochs after its checkpoint (written
// before a crash, redone now) and a line torn by a crash, so the file never
// holds an epoch twice.
//
//   absl::StatusOr<MetricsLog> log = MetricsLog::Open(dir + "/metrics.jsonl", /*resumed_epoch=*/3);
//   absl::Status s = log->Append({{"epoch", 4}, {"test_accuracy", 0.91}});
//   absl::StatusOr<std::vector<io::Json>> lines = MetricsLog::Read(dir + "/metrics.jsonl");
#ifndef PSG_TRAIN_METRICS_LOG_H_
#define PSG_TRAIN_METRICS_LOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/files.h"
#include "io/json_writer.h"

namespace psg::train {

class MetricsLog {
 public:
  // A fresh run (no `resumed_epoch`) starts the file empty; a run resumed
  // with epochs 1..resumed_epoch done keeps the lines up to that epoch.
  static absl::StatusOr<MetricsLog> Open(const std::string& path,
                                         std::optional<int64_t> resumed_epoch);

  absl::Status Append(const io::Json& line) { return file_.Append(io::JsonLine(line)); }

  // The lines of the file that parse as JSON objects, in order (a torn last
  // line is left out); NotFound if there is no file.
  static absl::StatusOr<std::vector<io::Json>> Read(const std::string& path);

 private:
  explicit MetricsLog(io::AppendFile file) : file_(std::move(file)) {}
  io::AppendFile file_;
};

}  // namespace psg::train

#endif  // PSG_TRAIN_METRICS_LOG_H_
