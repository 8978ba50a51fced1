// The flags every entry point of experiments/ shares (model, data, threads),
// defined once here, and the small pieces of a main() built on them.
//
//   --model=resnet20 --shortcut=projection --dataset=cifar10 --data_dir=...
//   --batch_size=128 --threads=0 --workers=1
//   --holdout_images=10000   # evaluate on held-out training images, not the test set
//
//   int main(int argc, char** argv) { return RunCommand(argc, argv, "usage", Run); }
//   int Run() {   // the flags are parsed and range-checked (flags/ranges.h)
//     SetUpThreads();
//     auto data = LoadDataFromFlags();
//     if (!data.ok()) return Fail(data.status().message());
//     auto options = ModelOptionsFromFlags(**data);  // checks the model fits the data
#ifndef PSG_CLI_COMMON_FLAGS_H_
#define PSG_CLI_COMMON_FLAGS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/zoo.h"
#include "data/datasets.h"

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(psg::models::ShortcutKind, shortcut);
ABSL_DECLARE_FLAG(std::string, dataset);
ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(int64_t, holdout_images);
ABSL_DECLARE_FLAG(int, batch_size);
ABSL_DECLARE_FLAG(int, threads);
ABSL_DECLARE_FLAG(int, workers);

namespace psg::cli {

// Prints "error: <message>" to stderr; returns main's exit code 1.
int Fail(absl::string_view message);

// A path as the user meant it: `bazel run` starts in the runfiles tree, so a
// relative path is resolved against the directory the user ran it from.
std::string UserPath(std::string path);

// The checkpoint a command reads (UserPath of `flag_value`): an error for an
// empty value, a missing file, or a path that is no regular file (naming
// what it is: a directory, a FIFO, a character device like /dev/null).
absl::StatusOr<std::string> ExistingCheckpoint(const std::string& flag_value);

// Before any work: `path` can be written later (its directory is writable
// and it is not a directory or a device), or an error saying why not.
absl::Status CheckOutputFile(const std::string& path);

// UserPath(flag_value), or <checkpoint's directory>/<default_name> when empty.
std::string OutputDirFor(const std::string& flag_value, const std::string& checkpoint,
                         const std::string& default_name);

// Writes each {file name, contents} into `dir` (created if needed), each
// atomically and checked (io/files.h): the error names the file and the
// system error.
absl::Status WriteResultFiles(const std::string& dir,
                              const std::vector<std::pair<std::string, std::string>>& files);

// main() of a command: parses the flags, checks every numeric flag's range
// (flags/ranges.h), then returns run(), turning an escaped exception (e.g. a
// rejected argument) into Fail(what).
int RunCommand(int argc, char** argv, const char* usage, int (*run)());

// omp_set_num_threads(--threads) unless it is 0 (all cores), then
// flush-to-zero on every thread (engine/denormals.h).
void SetUpThreads();

// --dataset from --data_dir (default data::DefaultDataDir()), with
// --holdout_images held out (data::HoldOut); a missing data set's error says
// how to get that data set.
absl::StatusOr<std::unique_ptr<data::TrainingData>> LoadDataFromFlags();

// --model and --shortcut for `data` (its number of classes); an error when
// the model does not take the data's images (CheckModelFitsData).
absl::StatusOr<models::ModelOptions> ModelOptionsFromFlags(const data::TrainingData& data);

}  // namespace psg::cli

#endif  // PSG_CLI_COMMON_FLAGS_H_
