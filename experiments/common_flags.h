// The flags every entry point of experiments/ shares (model, data, threads),
// defined once here, and the small pieces of a main() built on them.
//
//   --model=resnet20 --shortcut=projection --dataset=cifar10 --data_dir=...
//   --batch_size=128 --threads=0 --workers=1
//
//   absl::ParseCommandLine(argc, argv);
//   SetUpThreads();
//   auto data = LoadDataFromFlags();
//   if (!data.ok()) return Fail(data.status().message());
//   auto options = ModelOptionsFromFlags((*data)->num_classes);
#ifndef PSG_EXPERIMENTS_COMMON_FLAGS_H_
#define PSG_EXPERIMENTS_COMMON_FLAGS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/zoo.h"
#include "train/datasets.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, shortcut);
ABSL_DECLARE_FLAG(std::string, dataset);
ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(int, batch_size);
ABSL_DECLARE_FLAG(int, threads);
ABSL_DECLARE_FLAG(int, workers);

namespace psg::experiments {

// Prints "error: <message>" to stderr; returns main's exit code 1.
int Fail(absl::string_view message);

// A path as the user meant it: `bazel run` starts in the runfiles tree, so a
// relative path is resolved against the directory the user ran it from.
std::string UserPath(std::string path);

// The checkpoint a command reads (UserPath of `flag_value`): an error for an
// empty value or a missing file.
absl::StatusOr<std::string> ExistingCheckpoint(const std::string& flag_value);

// UserPath(flag_value), or <checkpoint's directory>/<default_name> when empty.
std::string OutputDirFor(const std::string& flag_value, const std::string& checkpoint,
                         const std::string& default_name);

// Writes each {file name, contents} into `dir` (created if needed).
absl::Status WriteResultFiles(const std::string& dir,
                              const std::vector<std::pair<std::string, std::string>>& files);

// main() of a command: parses the flags, then returns run(), turning an
// escaped exception (e.g. a rejected argument) into Fail(what).
int RunCommand(int argc, char** argv, const char* usage, int (*run)());

// omp_set_num_threads(--threads) unless it is 0 (all cores), then
// flush-to-zero on every thread (engine/denormals.h).
void SetUpThreads();

// --dataset from --data_dir (default train::DefaultDataDir()); a missing data
// set's error says how to get it.
absl::StatusOr<std::unique_ptr<train::TrainingData>> LoadDataFromFlags();

// --model and --shortcut for a data set of `num_classes` classes.
absl::StatusOr<models::ModelOptions> ModelOptionsFromFlags(int64_t num_classes);

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_COMMON_FLAGS_H_
