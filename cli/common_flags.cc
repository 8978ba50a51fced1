#include "cli/common_flags.h"

#include <omp.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/model_loading.h"
#include "engine/denormals.h"
#include "flags/ranges.h"
#include "io/files.h"
#include "pipeline/model_loading.h"

ABSL_FLAG(std::string, model, "resnet20", "model name (see models/zoo.h)");
ABSL_FLAG(psg::models::ShortcutKind, shortcut, psg::models::ShortcutKind::kProjection,
          "CIFAR ResNet shortcut: projection or zeropad");
ABSL_FLAG(std::string, dataset, "cifar10",
          "cifar10, cifar100, fashion_mnist or imagenet (--data_dir=DIR: DIR/train/<wnid>/*.JPEG, "
          "DIR/val/<wnid>/*.JPEG)");
ABSL_FLAG(std::string, data_dir, "",
          "directory holding the dataset (default $PSG_DATA_DIR, else ~/.cache/psg-toolkit/data)");
ABSL_FLAG(int64_t, holdout_images, 0,
          "evaluate on this many training images, held out from training by a seeded shuffle "
          "(seed 0), instead of the test set: the validation split of a hyper-parameter search "
          "(0: none)");
PSG_FLAG_RANGE(holdout_images, psg::flags::AtLeast(0));
ABSL_FLAG(int, batch_size, 128, "batch size");
PSG_FLAG_RANGE(batch_size, psg::flags::Between(1, 1 << 20));
ABSL_FLAG(int, threads, 0, "OpenMP threads for oneDNN (0: all cores)");
PSG_FLAG_RANGE(threads, psg::flags::Between(0, 4096));
ABSL_FLAG(int, workers, 1, "data loader threads");
PSG_FLAG_RANGE(workers, psg::flags::Between(1, 256));

namespace psg::cli {
namespace {

// Where `dataset` is read from in `dir` and how to put it there.
std::string HowToGet(const std::string& dataset, const std::string& dir) {
  if (dataset == "cifar10") {
    return absl::StrCat("CIFAR-10 is read from ", dir,
                        "/cifar-10-batches-bin; tools/get_cifar10.sh puts it there. Or pass --data_dir");
  }
  if (dataset == "cifar100") {
    return absl::StrCat("CIFAR-100 is read from ", dir,
                        "/cifar-100-binary (train.bin, test.bin), as the official "
                        "cifar-100-binary.tar.gz extracts. Or pass --data_dir");
  }
  if (dataset == "fashion_mnist") {
    return absl::StrCat("Fashion-MNIST is read from ", dir,
                        ": the four IDX files of the official download, "
                        "{train,t10k}-{images-idx3,labels-idx1}-ubyte, plain or .gz. Or pass --data_dir");
  }
  if (dataset == "imagenet") {
    return absl::StrCat("ImageNet is read from ", dir,
                        "/train/<wnid>/*.JPEG and ", dir,
                        "/val/<wnid>/*.JPEG (torchvision's ImageFolder layout). Or pass --data_dir");
  }
  return absl::StrCat("known data sets: ", absl::StrJoin(data::DatasetNames(), ", "));
}

}  // namespace

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
  absl::StatusOr<io::RegularFile> file = io::RegularFile::Open(path, "--checkpoint");
  if (!file.ok()) return file.status();
  return path;
}

absl::Status CheckOutputFile(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (absl::Status s = io::CheckWritableDirectory(parent.empty() ? "." : parent.string()); !s.ok()) return s;
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "output '", path, "' exists and is ", io::FileKindName(st.st_mode), ", not a regular file"));
  }
  return absl::OkStatus();
}

std::string OutputDirFor(const std::string& flag_value, const std::string& checkpoint,
                         const std::string& default_name) {
  if (!flag_value.empty()) return UserPath(flag_value);
  return (std::filesystem::path(checkpoint).parent_path() / default_name).string();
}

absl::Status WriteResultFiles(const std::string& dir,
                              const std::vector<std::pair<std::string, std::string>>& files) {
  if (absl::Status s = io::CheckWritableDirectory(dir); !s.ok()) return s;
  for (const auto& [name, text] : files) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    if (absl::Status s = io::WriteFileAtomically(path, text); !s.ok()) return s;
  }
  return absl::OkStatus();
}

int RunCommand(int argc, char** argv, const char* usage, int (*run)()) {
  absl::SetProgramUsageMessage(usage);
  absl::ParseCommandLine(argc, argv);
  if (absl::Status s = flags::CheckFlagRanges(); !s.ok()) return Fail(s.message());
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

absl::StatusOr<std::unique_ptr<data::TrainingData>> LoadDataFromFlags() {
  std::string dir = UserPath(absl::GetFlag(FLAGS_data_dir));
  if (dir.empty()) dir = data::DefaultDataDir();
  const std::string dataset = absl::GetFlag(FLAGS_dataset);
  auto data = data::LoadTrainingData(dataset, dir);
  if (!data.ok()) {
    return absl::Status(data.status().code(),
                        absl::StrCat(data.status().message(), "\n(", HowToGet(dataset, dir), ")"));
  }
  if (const int64_t n = absl::GetFlag(FLAGS_holdout_images); n > 0) {
    // Seed 0, as the released search (np.random.seed(0)).
    if (absl::Status s = data::HoldOut(**data, n, /*seed=*/0); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--holdout_images=", n, ": ", s.message()));
    }
  }
  return data;
}

absl::StatusOr<models::ModelOptions> ModelOptionsFromFlags(const data::TrainingData& data) {
  models::ModelOptions options;
  options.name = absl::GetFlag(FLAGS_model);
  options.num_classes = data.num_classes;
  options.shortcut = absl::GetFlag(FLAGS_shortcut);
  if (absl::Status s = pipeline::CheckModelFitsData(options, *data.test); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dataset=", absl::GetFlag(FLAGS_dataset), ": ", s.message()));
  }
  return options;
}

}  // namespace psg::cli
