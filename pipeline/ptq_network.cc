#include "pipeline/ptq_network.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "pipeline/model_loading.h"
#include "quant/activation_quant.h"
#include "quant/observer.h"

namespace psg::pipeline {
namespace {

// The range of the activation layer `act` by the batch-norm rule, from the
// parameters of the batch norm before it.
absl::StatusOr<float> BatchNormRuleRange(const std::string& act, const engine::ParameterList& params,
                                         float n) {
  const std::string bn = models::BatchNormBefore(act);
  if (bn.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--act_range=bn: no batch norm before activation '", act, "'; use --act_range=ema or max"));
  }
  std::vector<float> gamma, beta;
  for (const engine::Parameter* p : params) {
    if (p->name == bn + ".weight") gamma = p->value.ToPlain();
    if (p->name == bn + ".bias") beta = p->value.ToPlain();
  }
  if (gamma.empty() || beta.empty()) {
    return absl::NotFoundError(absl::StrCat("--act_range=bn: the model has no batch norm '", bn,
                                            "' (before activation '", act, "')"));
  }
  const float high = quant::BatchNormRange(gamma, beta, /*unsigned_activation=*/true, n,
                                    quant::GammaSign::kSigned).high[0];
  if (!(high > 0.0f)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--act_range=bn: batch norm '", bn, "' gives activation '", act, "' the range [0, ", high,
        "] (every beta + n gamma <= 0); use --act_range=ema or max"));
  }
  return high;
}

}  // namespace

absl::StatusOr<PtqNetwork> LoadPtqNetwork(models::ModelOptions options, const std::string& checkpoint,
                                          const train::LoadOptions& checks,
                                          int act_bits, const ActRange& rule, const data::Dataset& calibration,
                                          const train::BatchPass& pass, const quant::DfqOptions* dfq) {
  std::vector<quant::FakeQuantActivation*> activations;
  if (act_bits > 0) {
    options.activation_layer = [&](const std::string& name) {
      auto layer = std::make_unique<quant::FakeQuantActivation>(name, act_bits);
      activations.push_back(layer.get());
      return layer;
    };
  }
  auto model = LoadModel(options, checkpoint, checks);
  if (!model.ok()) return model.status();
  PtqNetwork network{std::move(*model), {}, activations, nullptr};
  network.model->CollectParameters(&network.params);
  if (dfq != nullptr) {
    // DFQ reads the graph's topology, whose export asks every activation
    // quantizer for its grid: a placeholder range until calibration.
    for (auto* a : activations) a->set_range(1.0f);
    try {
      network.dfq = std::make_unique<quant::DataFreeQuantization>(*network.model, network.params, *dfq);
    } catch (const std::invalid_argument& e) {
      return absl::InvalidArgumentError(e.what());
    }
  }
  if (activations.empty()) return network;
  if (rule.kind != ActRange::kBatchNorm || rule.samples_per_batch > 0) {
    for (auto* a : activations) {
      a->StartCalibration(rule.kind == ActRange::kRunningMax ? rule.momentum : 0.0f, rule.samples_per_batch);
    }
    absl::Status s = train::ForEachBatch(calibration, pass, [&](const engine::Tensor& x, const data::Batch&) {
      network.model->Forward(x, engine::Mode::kEval);
    });
    if (!s.ok()) return s;
    for (auto* a : activations) a->FinishCalibration();
  }
  if (rule.kind == ActRange::kBatchNorm) {
    for (auto* a : activations) {
      absl::StatusOr<float> range = BatchNormRuleRange(a->name(), network.params, rule.n);
      if (!range.ok()) return range.status();
      a->set_range(*range);
    }
  }
  return network;
}

}  // namespace psg::pipeline
