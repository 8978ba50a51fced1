#include "engine/adam.h"

#include "engine/adam_kernel.h"
#include "engine/check.h"
#include "engine/context.h"
#include "engine/sgd_kernel.h"

namespace psg::engine {

Adam::Adam(ParameterList params, const AdamOptions& options) : params_(std::move(params)), options_(options) {
  PSG_CHECK(options_.beta1 >= 0 && options_.beta1 < 1 && options_.beta2 >= 0 && options_.beta2 < 1 &&
                options_.eps > 0 && options_.weight_decay >= 0,
            "Adam: need betas in [0, 1), eps > 0 and weight_decay >= 0; got betas=(", options_.beta1, ", ",
            options_.beta2, ") eps=", options_.eps, " weight_decay=", options_.weight_decay);
  for (Parameter* p : params_) {
    PSG_CHECK(p->trainable(), "Adam: parameter '", p->name, "' is not trainable");
    first_moments_.push_back(Tensor::Plain(p->value.dims()));
    second_moments_.push_back(Tensor::Plain(p->value.dims()));
  }
}

void Adam::Step(float lr) {
  PSG_CHECK(lr >= 0, "Adam: learning rate must be >= 0, got ", lr);
  Stream().wait();  // gradients come from primitives on the stream
  ++steps_;
  const AdamHyper hyper{lr, options_.beta1, options_.beta2, options_.eps, options_.weight_decay};
  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = *params_[i];
    AdamUpdate(hyper, steps_, p.value.flat().data(), p.grad.flat().data(), first_moments_[i].flat().data(),
               second_moments_[i].flat().data(), p.value.numel(), UnitScale());
  }
}

std::vector<std::pair<std::string, Tensor>> Adam::State() {
  std::vector<std::pair<std::string, Tensor>> state;
  for (size_t i = 0; i < params_.size(); ++i) {
    state.emplace_back(params_[i]->name + "/adam_m", first_moments_[i]);
    state.emplace_back(params_[i]->name + "/adam_v", second_moments_[i]);
  }
  return state;
}

}  // namespace psg::engine
