#include "io/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace psg::io {
namespace {

std::string ErrnoText(int error_number) { return std::generic_category().message(error_number); }

absl::Status ErrnoStatus(int error_number, absl::string_view message) {
  return absl::Status(absl::ErrnoToStatusCode(error_number),
                      absl::StrCat(message, ": ", ErrnoText(error_number)));
}

// write(2) until all of `data` is out; false (errno set) on an error.
bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string ParentDirectory(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// The temporary files being written, for RemoveTemporaryFilesInProgress in a
// signal handler: lock-free slots (0 free, 1 being filled, 2 holds a path).
struct PendingFile {
  std::atomic<int> state{0};
  char path[4096];
};
PendingFile pending_files[8];
static_assert(std::atomic<int>::is_always_lock_free);

// Registers `path`; returns the slot, or -1 when none is free or the path is
// too long (the file is then only removed by RemoveStaleTemporaryFiles).
int RegisterPending(const std::string& path) {
  if (path.size() >= sizeof(PendingFile::path)) return -1;
  for (int i = 0; i < static_cast<int>(std::size(pending_files)); ++i) {
    int expected = 0;
    if (pending_files[i].state.compare_exchange_strong(expected, 1)) {
      std::memcpy(pending_files[i].path, path.c_str(), path.size() + 1);
      pending_files[i].state.store(2);
      return i;
    }
  }
  return -1;
}

void ReleasePending(int slot) {
  if (slot >= 0) pending_files[slot].state.store(0);
}

absl::Status WritePieces(const std::string& path, const absl::string_view* pieces, size_t count) {
  auto error = [&](absl::string_view what, int error_number) {
    return ErrnoStatus(error_number, absl::StrCat("writing '", path, "': ", what));
  };
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("writing '", path, "': it exists and is ",
                                                      FileKindName(st.st_mode),
                                                      ", not a regular file"));
  }
  const std::string tmp = TemporaryFileName(path);
  const int slot = RegisterPending(tmp);
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    ReleasePending(slot);
    return error(absl::StrCat("cannot create temporary file '", tmp, "'"), e);
  }
  auto fail = [&](absl::string_view what) {
    const int e = errno;
    close(fd);
    unlink(tmp.c_str());
    ReleasePending(slot);
    return error(absl::StrCat(what, " temporary file '", tmp, "'"), e);
  };
  for (size_t i = 0; i < count; ++i) {
    if (!WriteAll(fd, pieces[i])) return fail("cannot write");
  }
  if (fsync(fd) != 0) return fail("cannot fsync");
  if (close(fd) != 0) {
    const int e = errno;
    unlink(tmp.c_str());
    ReleasePending(slot);
    return error(absl::StrCat("cannot close temporary file '", tmp, "'"), e);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    unlink(tmp.c_str());
    ReleasePending(slot);
    return error(absl::StrCat("cannot rename '", tmp, "' to '", path, "'"), e);
  }
  ReleasePending(slot);

  // Make the rename durable. Some file systems cannot fsync a directory
  // (EINVAL); nothing to do there.
  const std::string dir = ParentDirectory(path);
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    const int e = errno;
    return error(absl::StrCat("new file is in place but cannot open directory '", dir, "' to fsync it"), e);
  }
  if (fsync(dir_fd) != 0 && errno != EINVAL) {
    const int e = errno;
    close(dir_fd);
    return error(absl::StrCat("new file is in place but fsync of directory '", dir, "' failed"), e);
  }
  close(dir_fd);
  return absl::OkStatus();
}

}  // namespace

std::string FileKindName(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "an unknown kind of file";
}

absl::StatusOr<RegularFile> RegularFile::Open(const std::string& path, absl::string_view what) {
  std::string where = absl::StrCat(what, " '", path, "': ");
  // O_NONBLOCK: opening a FIFO without a writer would block here; the
  // descriptor is only kept for a regular file, where the flag means nothing.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return ErrnoStatus(errno, absl::StrCat(where, "cannot open"));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    close(fd);
    return ErrnoStatus(e, absl::StrCat(where, "cannot stat"));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(where, "is ", FileKindName(st.st_mode), ", not a regular file"));
  }
  return RegularFile(fd, static_cast<uint64_t>(st.st_size), std::move(where));
}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), where_(std::move(other.where_)) {}

RegularFile& RegularFile::operator=(RegularFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    where_ = std::move(other.where_);
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) close(fd_);
}

absl::Status RegularFile::ReadAt(uint64_t offset, void* out, size_t size) const {
  char* dst = static_cast<char*>(out);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd_, dst + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat(where_, "read error at byte ", offset + done));
    }
    if (n == 0) {
      return absl::DataLossError(absl::StrCat(where_, "file shrank while being read (", size_,
                                              " bytes at open, ended at byte ", offset + done,
                                              "): it is being modified or truncated"));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadRegularFile(const std::string& path, absl::string_view what,
                                            uint64_t max_bytes) {
  absl::StatusOr<RegularFile> file = RegularFile::Open(path, what);
  if (!file.ok()) return file.status();
  if (file->size() > max_bytes) {
    return absl::FailedPreconditionError(absl::StrCat(what, " '", path, "': ", file->size(),
                                                      " bytes, more than the ", max_bytes,
                                                      " this reader accepts"));
  }
  std::string contents(file->size(), '\0');
  if (absl::Status s = file->ReadAt(0, contents.data(), contents.size()); !s.ok()) return s;
  return contents;
}

absl::Status WriteFileAtomically(const std::string& path,
                                 std::initializer_list<absl::string_view> pieces) {
  return WritePieces(path, pieces.begin(), pieces.size());
}

absl::Status WriteFileAtomically(const std::string& path, const std::vector<absl::string_view>& pieces) {
  return WritePieces(path, pieces.data(), pieces.size());
}

std::string TemporaryFileName(const std::string& path) { return absl::StrCat(path, ".tmp.", getpid()); }

void RemoveTemporaryFilesInProgress() {
  for (PendingFile& file : pending_files) {
    if (file.state.load() == 2) unlink(file.path);
  }
}

std::vector<std::string> RemoveStaleTemporaryFiles(const std::string& dir) {
  std::vector<std::string> removed;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return removed;
  while (const dirent* entry = readdir(d)) {
    const absl::string_view name = entry->d_name;
    const size_t at = name.rfind(".tmp.");
    if (at == absl::string_view::npos || at == 0) continue;
    const absl::string_view digits = name.substr(at + 5);
    int64_t pid = 0;
    if (digits.empty() || !absl::c_all_of(digits, absl::ascii_isdigit) ||
        !absl::SimpleAtoi(digits, &pid) || pid <= 0) {
      continue;
    }
    const bool gone = pid == getpid() || (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
    if (!gone) continue;
    const std::string path = absl::StrCat(dir, "/", name);
    if (unlink(path.c_str()) == 0) removed.push_back(path);
  }
  closedir(d);
  return removed;
}

absl::Status CheckWritableDirectory(const std::string& dir) {
  const std::string where = absl::StrCat("output directory '", dir, "'");
  std::string partial;
  // create_directories by hand: its std::error_code does not say which part failed.
  for (size_t at = dir.find('/', 1);; at = dir.find('/', at + 1)) {
    partial = at == std::string::npos ? dir : dir.substr(0, at);
    if (!partial.empty() && mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat(where, ": cannot create '", partial, "'"));
    }
    if (at == std::string::npos) break;
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return ErrnoStatus(errno, absl::StrCat(where, ": cannot stat"));
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, " is ", FileKindName(st.st_mode), ", not a directory"));
  }
  const std::string probe = TemporaryFileName(absl::StrCat(dir, "/.write_check"));
  const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    return absl::FailedPreconditionError(
        absl::StrCat(where, " is not writable: cannot create a file there: ", ErrnoText(e)));
  }
  const bool written = WriteAll(fd, "ok\n") && fsync(fd) == 0;
  const int e = errno;
  close(fd);
  unlink(probe.c_str());
  if (!written) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, " is not writable: cannot write a file there: ", ErrnoText(e)));
  }
  return absl::OkStatus();
}

absl::StatusOr<AppendFile> AppendFile::Open(const std::string& path, bool truncate) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open '", path, "' for appending"));
  return AppendFile(fd, path);
}

AppendFile::AppendFile(AppendFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) close(fd_);
}

absl::Status AppendFile::Append(absl::string_view text) {
  // fsync: a line reported as written survives a crash of the machine too.
  // Character devices (e.g. a terminal or /dev/full) cannot fsync (EINVAL).
  if (!WriteAll(fd_, text) || (fsync(fd_) != 0 && errno != EINVAL)) {
    return ErrnoStatus(errno, absl::StrCat("cannot write '", path_, "'"));
  }
  return absl::OkStatus();
}

}  // namespace psg::io
