#include "engine/profiler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/check.h"

namespace psg::engine {
namespace {

Profiler* active_profiler = nullptr;

double Ms(double seconds, int64_t steps) { return 1e3 * seconds / steps; }

}  // namespace

Profiler::Recording::Recording(Profiler* profiler)
    : previous_(active_profiler), start_(Clock::now()), profiler_(profiler) {
  active_profiler = profiler;
}

Profiler::Recording::~Recording() {
  profiler_->recorded_seconds_ += std::chrono::duration<double>(Clock::now() - start_).count();
  active_profiler = previous_;
}

Profiler* Profiler::Active() { return active_profiler; }

void Profiler::AddPrimitive(const std::string& kind, double seconds) {
  by_kind_[kind] += seconds;
  if (!open_.empty()) entries_[open_.back()].primitive_seconds += seconds;
}

void Profiler::OpenScope(const std::string& name, Phase phase) {
  auto [it, inserted] = index_.try_emplace({name, phase}, entries_.size());
  if (inserted) {
    entries_.push_back(Entry{name, phase, static_cast<int>(open_.size())});
  }
  open_.push_back(it->second);
}

void Profiler::CloseScope(double seconds) {
  PSG_CHECK(!open_.empty(), "Profiler::CloseScope without an open scope");
  Entry& entry = entries_[open_.back()];
  entry.calls += 1;
  entry.seconds += seconds;
  open_.pop_back();
  if (!open_.empty()) entries_[open_.back()].child_seconds += seconds;
}

double Profiler::primitive_seconds() const {
  double total = 0;
  for (const auto& [kind, seconds] : by_kind_) total += seconds;
  return total;
}

namespace {

struct LayerRow {
  std::string name;
  int depth = 0;
  const Profiler::Entry* forward = nullptr;
  const Profiler::Entry* backward = nullptr;
};

// Forward and backward entries of each layer side by side, in forward order.
std::vector<LayerRow> LayerRows(const std::vector<Profiler::Entry>& entries) {
  std::vector<LayerRow> rows;
  std::map<std::string, size_t> row_of;
  for (const Profiler::Entry& e : entries) {
    if (e.phase == Phase::kOther) continue;
    auto [it, inserted] = row_of.try_emplace(e.name, rows.size());
    if (inserted) rows.push_back(LayerRow{e.name, e.depth});
    (e.phase == Phase::kForward ? rows[it->second].forward : rows[it->second].backward) = &e;
  }
  return rows;
}

// Time outside primitives while the entry was the innermost scope.
double SelfOutsidePrimitives(const Profiler::Entry& e) {
  return std::max(0.0, e.seconds - e.child_seconds - e.primitive_seconds);
}

}  // namespace

std::string Profiler::Table(int64_t steps) const {
  PSG_CHECK(steps >= 1, "Profiler::Table: steps must be >= 1");
  std::string out = absl::StrFormat("%-28s %12s %12s %14s\n", "layer (ms per step)", "forward",
                                    "backward", "outside prims");
  for (const LayerRow& row : LayerRows(entries_)) {
    double outside = 0;
    for (const Entry* e : {row.forward, row.backward}) {
      if (e != nullptr) outside += SelfOutsidePrimitives(*e);
    }
    absl::StrAppendFormat(&out, "%-28s %12.3f %12.3f %14.3f\n",
                          std::string(2 * row.depth, ' ') + row.name,
                          row.forward ? Ms(row.forward->seconds, steps) : 0.0,
                          row.backward ? Ms(row.backward->seconds, steps) : 0.0,
                          Ms(outside, steps));
  }
  const double total = recorded_seconds_;
  const double primitives = primitive_seconds();
  const auto reorder_it = by_kind_.find("reorder");
  const double reorders = reorder_it == by_kind_.end() ? 0.0 : reorder_it->second;
  absl::StrAppendFormat(&out, "\nstep: %.3f ms, of which\n", Ms(total, steps));
  for (const auto& [kind, seconds] : by_kind_) {
    absl::StrAppendFormat(&out, "  oneDNN %-26s %10.3f ms  %5.1f %%\n", kind, Ms(seconds, steps),
                          100 * seconds / total);
  }
  double named_outside = 0;
  for (const Entry& e : entries_) {
    if (e.phase != Phase::kOther) continue;
    const double outside = SelfOutsidePrimitives(e);
    named_outside += outside;
    absl::StrAppendFormat(&out, "  outside primitives: %-13s %10.3f ms  %5.1f %%\n", e.name,
                          Ms(outside, steps), 100 * outside / total);
  }
  const double glue = std::max(0.0, total - primitives - named_outside);
  absl::StrAppendFormat(&out, "  outside primitives: %-13s %10.3f ms  %5.1f %%\n", "layer glue",
                        Ms(glue, steps), 100 * glue / total);
  absl::StrAppendFormat(&out, "overhead (reorders + everything outside primitives): %.1f %%\n",
                        100 * (total - primitives + reorders) / total);
  return out;
}

nlohmann::ordered_json Profiler::Json(int64_t steps) const {
  PSG_CHECK(steps >= 1, "Profiler::Json: steps must be >= 1");
  nlohmann::ordered_json out = {{"steps", steps},
                                {"step_ms", Ms(recorded_seconds_, steps)},
                                {"primitive_ms", Ms(primitive_seconds(), steps)},
                                {"primitive_ms_by_kind", nlohmann::ordered_json::object()},
                                {"scopes", nlohmann::ordered_json::array()}};
  for (const auto& [kind, seconds] : by_kind_) out["primitive_ms_by_kind"][kind] = Ms(seconds, steps);
  for (const Entry& e : entries_) {
    const char* phase =
        e.phase == Phase::kForward ? "forward" : e.phase == Phase::kBackward ? "backward" : "other";
    out["scopes"].push_back({{"name", e.name},
                             {"phase", phase},
                             {"depth", e.depth},
                             {"ms", Ms(e.seconds, steps)},
                             {"primitive_ms", Ms(e.primitive_seconds, steps)},
                             {"outside_primitives_ms", Ms(SelfOutsidePrimitives(e), steps)}});
  }
  return out;
}

}  // namespace psg::engine
