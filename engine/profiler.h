// Where the time of a training step goes: wall time per layer and direction
// (forward / backward), the part of it spent inside oneDNN primitives, and the
// primitives' time by kind (convolution, reorder, ...). Everything outside
// primitives (loss, optimizer, data, glue) is the overhead to drive down.
//
//   Profiler profiler;
//   {
//     Profiler::Recording recording(&profiler);     // active until destroyed
//     { ProfileScope s("data", Phase::kOther); batch = loader.Next(); }
//     net.Forward(x, Mode::kTrain);                  // Sequential and blocks open
//     ...                                            // a scope per child layer
//   }
//   std::printf("%s", profiler.Table().c_str());
//
// Scopes nest; a scope's time includes its children's. Primitive time goes to
// the innermost open scope. When no Recording is active a scope costs one
// pointer test, so layers keep their scopes in production runs. Single thread
// of control only (the one driving the network).
#ifndef PSG_ENGINE_PROFILER_H_
#define PSG_ENGINE_PROFILER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace psg::engine {

enum class Phase { kForward, kBackward, kOther };

class Profiler {
 public:
  using Clock = std::chrono::steady_clock;

  // One (scope name, phase) pair; times are sums over all its openings.
  struct Entry {
    std::string name;
    Phase phase = Phase::kOther;
    int depth = 0;          // nesting depth of its first opening
    int64_t calls = 0;
    double seconds = 0;            // inclusive wall time
    double primitive_seconds = 0;  // primitives run while it was the innermost scope
    double child_seconds = 0;      // wall time of scopes nested directly inside it
  };

  // Makes `profiler` the active one for its lifetime (then restores the previous).
  class Recording {
   public:
    explicit Recording(Profiler* profiler);
    ~Recording();
    Recording(const Recording&) = delete;
    Recording& operator=(const Recording&) = delete;

   private:
    Profiler* previous_;
    Clock::time_point start_;
    Profiler* profiler_;
  };

  // The active profiler, or null.
  static Profiler* Active();

  // Called by engine::Execute after every primitive; `kind` names it.
  void AddPrimitive(const std::string& kind, double seconds);
  void OpenScope(const std::string& name, Phase phase);
  void CloseScope(double seconds);

  // Entries in order of first opening.
  const std::vector<Entry>& entries() const { return entries_; }
  // Primitive time by kind ("convolution", "reorder", ...).
  const std::map<std::string, double>& primitive_seconds_by_kind() const { return by_kind_; }
  double recorded_seconds() const { return recorded_seconds_; }
  double primitive_seconds() const;

  // A readable per-layer table and summary; `steps` divides all times (the
  // number of steps recorded) so the figures are per step.
  std::string Table(int64_t steps = 1) const;
  // The same as one JSON object: {"steps", "step_ms", "primitive_ms",
  // "primitive_ms_by_kind": {kind: ms}, "scopes": [{"name", "phase", "depth",
  // "ms", "primitive_ms", "outside_primitives_ms"}]}.
  nlohmann::ordered_json Json(int64_t steps = 1) const;

 private:
  std::vector<Entry> entries_;
  std::map<std::pair<std::string, Phase>, size_t> index_;
  std::vector<size_t> open_;  // indices into entries_ of the open scopes
  std::map<std::string, double> by_kind_;
  double recorded_seconds_ = 0;
};

// Times the enclosing block as scope `name` of the active profiler, if any.
class ProfileScope {
 public:
  ProfileScope(const std::string& name, Phase phase) : profiler_(Profiler::Active()) {
    if (profiler_ != nullptr) {
      profiler_->OpenScope(name, phase);
      start_ = Profiler::Clock::now();
    }
  }
  ~ProfileScope() {
    if (profiler_ != nullptr) {
      profiler_->CloseScope(
          std::chrono::duration<double>(Profiler::Clock::now() - start_).count());
    }
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  Profiler* profiler_;
  Profiler::Clock::time_point start_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_PROFILER_H_
