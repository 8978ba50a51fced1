// Per-layer cache of execution plans (primitives + buffers) keyed by the
// input's memory descriptor: a plan is built the first time a shape/layout is
// seen (e.g. the training batch, the last partial evaluation batch) and reused
// afterwards. Lookup is a short linear scan, no allocation.
//
//   struct Plan { explicit Plan(const dnnl::memory::desc& in); ... };
//   PlanCache<Plan> plans_;
//   Plan& plan = plans_.Get(x.desc(), [&] { return std::make_unique<Plan>(...); });
#ifndef PSG_ENGINE_PLAN_CACHE_H_
#define PSG_ENGINE_PLAN_CACHE_H_

#include <memory>
#include <utility>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace psg::engine {

template <typename Plan>
class PlanCache {
 public:
  template <typename MakePlan>
  Plan& Get(const dnnl::memory::desc& key, MakePlan make) {
    for (auto& entry : entries_) {
      if (entry.first == key) return *entry.second;
    }
    entries_.emplace_back(key, make());
    return *entries_.back().second;
  }

 private:
  std::vector<std::pair<dnnl::memory::desc, std::unique_ptr<Plan>>> entries_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_PLAN_CACHE_H_
