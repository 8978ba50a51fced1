#include "dist/communicator.h"

#include <unistd.h>

#include <cstdlib>

#include <chrono>
#include <cstdio>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace psg::dist {
namespace {

using Clock = std::chrono::steady_clock;

// Polls this often after the first quick tests: a collective waits at most
// this much longer than it must, and a waiting rank costs its core little.
constexpr auto kPollInterval = std::chrono::microseconds(50);
constexpr int kQuickTests = 200;

int Count(size_t n, absl::string_view what) {
  if (n > static_cast<size_t>(std::numeric_limits<int>::max())) {
    std::fprintf(stderr, "error: %.*s: %zu values exceed one MPI message\n",
                 static_cast<int>(what.size()), what.data(), n);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return static_cast<int>(n);
}

}  // namespace

Communicator::Communicator(MPI_Comm comm, double timeout_seconds)
    : comm_(comm), timeout_seconds_(timeout_seconds) {
  // Errors come back as codes (Check turns them into a message and an abort)
  // instead of Open MPI's default of aborting without saying where.
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

Communicator::~Communicator() {
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

Communicator::Communicator(Communicator&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)),
      rank_(other.rank_),
      size_(other.size_),
      timeout_seconds_(other.timeout_seconds_) {}

Communicator Communicator::Duplicate() const {
  MPI_Comm copy = MPI_COMM_NULL;
  Check(MPI_Comm_dup(comm_, &copy), "MPI_Comm_dup", "a communicator");
  return Communicator(copy, timeout_seconds_);
}

void Communicator::Abort(absl::string_view message) const {
  std::fprintf(stderr, "error: rank %d of %d: %.*s\n", rank_, size_,
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);  // MPI_Abort does not return; this is for the compiler
}

void Communicator::Check(int code, absl::string_view operation, absl::string_view what) const {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  Abort(absl::StrCat(operation, " of ", what, " failed: ", absl::string_view(text, length),
                     " (another rank may have died)"));
}

void Communicator::Wait(MPI_Request& request, absl::string_view operation,
                        absl::string_view what) const {
  const Clock::time_point start = Clock::now();
  const auto timeout = std::chrono::duration<double>(timeout_seconds_);
  for (int tests = 0;; ++tests) {
    int done = 0;
    Check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), operation, what);
    if (done) return;
    if (tests < kQuickTests) continue;
    if (Clock::now() - start > timeout) {
      Abort(absl::StrFormat(
          "%s of %s got no answer from the other ranks in %.0f s: a rank has died, hangs or "
          "runs far behind (--dist_timeout); ending the job",
          operation, what, timeout_seconds_));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

void Communicator::SumInPlace(void* values, size_t count, MPI_Datatype type,
                              absl::string_view what) {
  MPI_Request request;
  Check(MPI_Iallreduce(MPI_IN_PLACE, values, Count(count, what), type, MPI_SUM, comm_, &request),
        "allreduce", what);
  Wait(request, "allreduce", what);
}

void Communicator::SumInPlace(absl::Span<float> values, absl::string_view what) {
  SumInPlace(values.data(), values.size(), MPI_FLOAT, what);
}

void Communicator::SumInPlace(absl::Span<double> values, absl::string_view what) {
  SumInPlace(values.data(), values.size(), MPI_DOUBLE, what);
}

void Communicator::BlockingSumInPlace(absl::Span<float> values, absl::string_view what) {
  Check(MPI_Allreduce(MPI_IN_PLACE, values.data(), Count(values.size(), what), MPI_FLOAT, MPI_SUM,
                      comm_),
        "allreduce", what);
}

void Communicator::Broadcast(void* values, size_t count, MPI_Datatype type,
                             absl::string_view what) {
  MPI_Request request;
  Check(MPI_Ibcast(values, Count(count, what), type, 0, comm_, &request), "broadcast", what);
  Wait(request, "broadcast", what);
}

void Communicator::Broadcast(absl::Span<float> values, absl::string_view what) {
  Broadcast(values.data(), values.size(), MPI_FLOAT, what);
}

void Communicator::Broadcast(absl::Span<int64_t> values, absl::string_view what) {
  Broadcast(values.data(), values.size(), MPI_INT64_T, what);
}

std::vector<uint64_t> Communicator::AllGather(absl::Span<const uint64_t> mine,
                                              absl::string_view what) {
  std::vector<uint64_t> all(mine.size() * size_);
  MPI_Request request;
  const int count = Count(mine.size(), what);
  Check(MPI_Iallgather(mine.data(), count, MPI_UINT64_T, all.data(), count, MPI_UINT64_T, comm_,
                       &request),
        "allgather", what);
  Wait(request, "allgather", what);
  return all;
}

absl::StatusOr<std::unique_ptr<MpiProcess>> MpiProcess::Init(int* argc, char*** argv,
                                                             double timeout_seconds) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return absl::FailedPreconditionError("MPI is already initialized");
  setenv("OMPI_MCA_mpi_yield_when_idle", "1", /*overwrite=*/0);
  int provided = MPI_THREAD_SINGLE;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
    return absl::InternalError("MPI_Init_thread failed");
  }
  if (provided < MPI_THREAD_MULTIPLE) {
    MPI_Finalize();
    return absl::FailedPreconditionError(
        "this MPI library does not provide MPI_THREAD_MULTIPLE, which overlapping the gradient "
        "reduction with backward needs");
  }
  auto process = std::unique_ptr<MpiProcess>(new MpiProcess);
  MPI_Comm world = MPI_COMM_NULL;
  MPI_Comm_dup(MPI_COMM_WORLD, &world);
  process->world_ = std::make_unique<Communicator>(world, timeout_seconds);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  process->host_ = host;
  return process;
}

MpiProcess::~MpiProcess() {
  world_.reset();  // frees its communicator, which must precede MPI_Finalize
  MPI_Finalize();
}

}  // namespace psg::dist
