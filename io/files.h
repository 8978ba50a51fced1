// File access whose failures name the file and never go unnoticed or hang:
// reading checks first that the path is a regular file (a FIFO, device or
// directory is reported, never read: opening a FIFO for reading would block);
// replacing a file is atomic (temporary file, fsync, rename, fsync of the
// directory); appends check every write and fsync; and the temporary files a
// killed process left behind are found and removed.
//
//   absl::StatusOr<std::string> text = ReadRegularFile(path, "result file");
//   absl::Status s = WriteFileAtomically("runs/r20/result.json", json_text);
//   absl::StatusOr<AppendFile> log = AppendFile::Open("runs/r20/metrics.jsonl");
//   if (log.ok()) s = log->Append("{\"epoch\": 1}\n");
//   s = CheckWritableDirectory("runs/r20");   // before hours of work, not after
//
// Every message starts with "<what> '<path>': " (readers) or names the path
// and the system error (writers).
#ifndef PSG_IO_FILES_H_
#define PSG_IO_FILES_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace psg::io {

// What a stat mode describes: "a directory", "a FIFO", "a character device",
// "a block device", "a socket", "a symbolic link", "a regular file".
std::string FileKindName(mode_t mode);

// A regular file open for reading; closed on destruction. Move-only.
class RegularFile {
 public:
  // Opens `path` without blocking and checks that it is a regular file.
  // NotFound for a missing path ("cannot open: No such file or directory"),
  // FailedPrecondition naming what the path is instead (e.g. "is a directory, not a regular file"), the system error
  // otherwise. `what` ("checkpoint", "CIFAR file") starts every message.
  static absl::StatusOr<RegularFile> Open(const std::string& path, absl::string_view what);

  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&& other) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  uint64_t size() const { return size_; }  // at open
  // Reads exactly `size` bytes from byte `offset`; DataLoss if the file ends
  // first (it shrank since it was opened).
  absl::Status ReadAt(uint64_t offset, void* out, size_t size) const;

 private:
  RegularFile(int fd, uint64_t size, std::string where) : fd_(fd), size_(size), where_(std::move(where)) {}
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string where_;  // "<what> '<path>': "
};

// The whole file at `path` (RegularFile::Open's checks); FailedPrecondition
// if it holds more than `max_bytes`.
absl::StatusOr<std::string> ReadRegularFile(const std::string& path, absl::string_view what,
                                            uint64_t max_bytes = uint64_t{1} << 32);

// Replaces `path` by the concatenated `pieces` atomically: writes
// TemporaryFileName(path), fsyncs it, renames it over `path` and fsyncs the
// directory. After a crash at any moment `path` holds its old contents or
// the new ones, never a part. On failure the temporary file is removed and
// the error names the path and the system error (ENOSPC, EROFS, EFBIG, ...).
// Refuses a `path` that exists and is not a regular file (renaming over
// /dev/null would replace the device).
absl::Status WriteFileAtomically(const std::string& path,
                                 std::initializer_list<absl::string_view> pieces);
absl::Status WriteFileAtomically(const std::string& path, const std::vector<absl::string_view>& pieces);
inline absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  return WriteFileAtomically(path, {contents});
}

// `path` + ".tmp.<pid of this process>".
std::string TemporaryFileName(const std::string& path);

// Removes the temporary files of the WriteFileAtomically calls in progress,
// if any. Async-signal-safe: for a signal handler that ends the process.
void RemoveTemporaryFilesInProgress();

// Removes every "<name>.tmp.<pid>" in `dir` whose process no longer runs (or
// has this process's pid, then reused); returns the paths removed. A missing
// `dir` has none.
std::vector<std::string> RemoveStaleTemporaryFiles(const std::string& dir);

// Creates `dir` (and its parents) if needed and checks that a file can be
// created, written and removed in it; FailedPrecondition naming the
// directory and the system error otherwise (read-only file system, no space,
// a file in the way, no permission).
absl::Status CheckWritableDirectory(const std::string& dir);

// A file open for appending whose every write is checked and fsynced: a full
// disk or a file-size limit is an error naming the file, never a silently
// short file. Move-only.
class AppendFile {
 public:
  // Opens (creating) `path`; with `truncate` its old contents are dropped.
  static absl::StatusOr<AppendFile> Open(const std::string& path, bool truncate = false);

  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();

  const std::string& path() const { return path_; }
  absl::Status Append(absl::string_view text);

 private:
  AppendFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace psg::io

#endif  // PSG_IO_FILES_H_
