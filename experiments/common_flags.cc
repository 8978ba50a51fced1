#include "experiments/common_flags.h"

#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "engine/denormals.h"
#include "experiments/model_loading.h"

ABSL_FLAG(std::string, model, "resnet20", "model name (see models/zoo.h)");
ABSL_FLAG(std::string, shortcut, "projection", "CIFAR ResNet shortcut: projection or zeropad");
ABSL_FLAG(std::string, dataset, "cifar10", "cifar10, cifar100 or fashion_mnist");
ABSL_FLAG(std::string, data_dir, "",
          "directory holding the dataset (default $PSG_DATA_DIR, else ~/.cache/psg-toolkit/data)");
ABSL_FLAG(int, batch_size, 128, "batch size");
ABSL_FLAG(int, threads, 0, "OpenMP threads for oneDNN (0: all cores)");
ABSL_FLAG(int, workers, 1, "data loader threads");

namespace psg::experiments {

int Fail(absl::string_view message) {
  std::fprintf(stderr, "error: %.*s\n", static_cast<int>(message.size()), message.data());
  return 1;
}

std::string UserPath(std::string path) {
  namespace fs = std::filesystem;
  if (const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
      cwd && !path.empty() && fs::path(path).is_relative()) {
    path = (fs::path(cwd) / path).string();
  }
  return path;
}

absl::StatusOr<std::string> ExistingCheckpoint(const std::string& flag_value) {
  const std::string path = UserPath(flag_value);
  if (path.empty()) return absl::InvalidArgumentError("--checkpoint is required");
  if (!std::filesystem::is_regular_file(path)) {
    return absl::NotFoundError(absl::StrCat("--checkpoint: no such file '", path, "'"));
  }
  return path;
}

std::string OutputDirFor(const std::string& flag_value, const std::string& checkpoint,
                         const std::string& default_name) {
  if (!flag_value.empty()) return UserPath(flag_value);
  return (std::filesystem::path(checkpoint).parent_path() / default_name).string();
}

absl::Status WriteResultFiles(const std::string& dir,
                              const std::vector<std::pair<std::string, std::string>>& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create '", dir, "': ", ec.message()));
  for (const auto& [name, text] : files) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream out(path);
    out << text;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write '", path, "'"));
  }
  return absl::OkStatus();
}

int RunCommand(int argc, char** argv, const char* usage, int (*run)()) {
  absl::SetProgramUsageMessage(usage);
  absl::ParseCommandLine(argc, argv);
  try {
    return run();
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
}

void SetUpThreads() {
  if (absl::GetFlag(FLAGS_threads) > 0) omp_set_num_threads(absl::GetFlag(FLAGS_threads));
  engine::FlushDenormalsToZero();
}

absl::StatusOr<std::unique_ptr<train::TrainingData>> LoadDataFromFlags() {
  std::string dir = UserPath(absl::GetFlag(FLAGS_data_dir));
  if (dir.empty()) dir = train::DefaultDataDir();
  auto data = train::LoadTrainingData(absl::GetFlag(FLAGS_dataset), dir);
  if (!data.ok()) {
    return absl::Status(data.status().code(),
                        absl::StrCat(data.status().message(),
                                     "\n(put the data in place with tools/get_cifar10.sh, or pass --data_dir)"));
  }
  return data;
}

absl::StatusOr<models::ModelOptions> ModelOptionsFromFlags(int64_t num_classes) {
  absl::StatusOr<models::ShortcutKind> shortcut = ParseShortcut(absl::GetFlag(FLAGS_shortcut));
  if (!shortcut.ok()) return shortcut.status();
  models::ModelOptions options;
  options.name = absl::GetFlag(FLAGS_model);
  options.num_classes = num_classes;
  options.shortcut = *shortcut;
  return options;
}

}  // namespace psg::experiments
