#include "engine/optimizer.h"

#include "engine/check.h"
#include "engine/context.h"

namespace psg::engine {

Sgd::Sgd(ParameterList params, const SgdOptions& options)
    : params_(std::move(params)), options_(options) {
  PSG_CHECK(options_.momentum >= 0 && options_.weight_decay >= 0 && options_.dampening >= 0 &&
                options_.dampening <= 1,
            "SGD: need momentum >= 0, weight_decay >= 0, dampening in [0, 1]; got momentum=",
            options_.momentum, " weight_decay=", options_.weight_decay,
            " dampening=", options_.dampening);
  PSG_CHECK(!options_.nesterov || (options_.momentum > 0 && options_.dampening == 0),
            "SGD: Nesterov momentum requires momentum > 0 and zero dampening");
  for (Parameter* p : params_) {
    PSG_CHECK(p->trainable(), "SGD: parameter '", p->name, "' is not trainable");
    buffers_.push_back(Tensor::Plain(p->value.dims()));
  }
}

std::vector<std::pair<std::string, Tensor>> Sgd::State() {
  std::vector<std::pair<std::string, Tensor>> state;
  for (size_t i = 0; i < params_.size(); ++i) {
    state.emplace_back(params_[i]->name + "/momentum", buffers_[i]);
  }
  return state;
}

void Sgd::AddHook(OptimizerHook* hook) { hooks_.push_back(hook); }

void Sgd::Step(float lr) {
  PSG_CHECK(lr >= 0, "SGD: learning rate must be >= 0, got ", lr);
  Stream().wait();  // gradients come from primitives on the stream
  const SgdHyper hyper{lr, options_.momentum, options_.dampening, options_.weight_decay,
                       options_.nesterov};
  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = *params_[i];
    for (OptimizerHook* hook : hooks_) hook->TransformGradient(p, p.grad.flat());
    SgdUpdate(hyper, steps_ == 0, p.value.raw(), p.grad.raw(), buffers_[i].raw(), p.value.numel(),
              UnitScale());
    for (OptimizerHook* hook : hooks_) hook->AfterUpdate(p, buffers_[i].flat());
  }
  ++steps_;
}

}  // namespace psg::engine
