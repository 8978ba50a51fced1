#include "cli/qat_flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "flags/ranges.h"
#include "quant/activation_quant.h"

ABSL_FLAG(psg::cli::QatMethod, qat, psg::cli::QatMethod::kNone,
          "quantization-aware training: none, dorefa (DoReFa weights and activations), "
          "pact (DoReFa weights, PACT activations) or lsq (LSQ weights and activations)");
ABSL_FLAG(int, qat_bits, 4, "QAT weight bit-width, 2..8 (first/last layers 8 bits below 4)");
PSG_FLAG_RANGE(qat_bits, psg::flags::Between(2, 8));
ABSL_FLAG(int, qat_act_bits, 4, "QAT activation bit-width, 2..8 (0: quantize weights only)");
PSG_FLAG_RANGE(qat_act_bits, psg::flags::Between(0, 8));

namespace psg::cli {

absl::StatusOr<QatFromFlags> ReadQatFlags() {
  QatFromFlags q;
  q.method = absl::GetFlag(FLAGS_qat);
  q.bits = absl::GetFlag(FLAGS_qat_bits);
  q.act_bits = absl::GetFlag(FLAGS_qat_act_bits);
  q.json = {{"qat", AbslUnparseFlag(q.method)}, {"qat_bits", q.bits}, {"qat_act_bits", q.act_bits}};
  if (q.method == QatMethod::kNone) {
    q.description = "no quantization-aware training";
    return q;
  }
  if (q.bits < 2 || q.bits > 8) {
    return absl::InvalidArgumentError(absl::StrCat("--qat_bits must be in [2, 8], got ", q.bits));
  }
  if (q.act_bits != 0 && (q.act_bits < 2 || q.act_bits > 8)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--qat_act_bits must be 0 (weights only) or in [2, 8], got ", q.act_bits));
  }
  const int act_bits = q.act_bits;
  if (q.method == QatMethod::kDoReFa && act_bits > 0) {
    q.activation_layer = [act_bits](const std::string& name) {
      return std::make_unique<quant::FakeQuantActivation>(name, act_bits, /*range=*/1.0f);
    };
  } else if (q.method == QatMethod::kPact && act_bits > 0) {
    q.activation_layer = [act_bits](const std::string& name) {
      return std::make_unique<quant::PactActivation>(name, act_bits);
    };
  } else if (q.method == QatMethod::kLsq && act_bits > 0) {
    q.activation_layer = [act_bits](const std::string& name) {
      return std::make_unique<quant::LsqActivation>(name, act_bits);
    };
  }
  q.description = absl::StrCat(
      AbslUnparseFlag(q.method), " QAT: ", q.method == QatMethod::kLsq ? "LSQ" : "DoReFa", " weights at ",
      q.bits, " bits, ",
      act_bits == 0 ? std::string("floating-point activations") : absl::StrCat(act_bits, "-bit activations"));
  return q;
}

std::unique_ptr<quant::WeightFakeQuantizer> MakeWeightQuantizer(const QatFromFlags& qat,
                                                                const engine::ParameterList& params) {
  if (qat.method == QatMethod::kNone) return nullptr;
  quant::WeightQatOptions o;
  o.kind = qat.method == QatMethod::kLsq ? quant::WeightQatKind::kLsq : quant::WeightQatKind::kDoReFa;
  o.coverage.bits = qat.bits;
  return std::make_unique<quant::WeightFakeQuantizer>(params, o);
}

void AttachWeightQuantizer(quant::WeightFakeQuantizer* weights, train::Trainer* trainer) {
  if (weights == nullptr) return;
  trainer->AddParameters(weights->parameters());
  trainer->AddStepHooks([weights](engine::Mode) { weights->BeforeForward(); },
                        [weights](engine::Mode mode) {
                          if (mode == engine::Mode::kTrain) {
                            weights->AfterBackward();
                          } else {
                            weights->Restore();
                          }
                        });
}

engine::ParameterList WithoutQuantizerParameters(const engine::ParameterList& params) {
  engine::ParameterList out;
  for (engine::Parameter* p : params) {
    if (p->kind != engine::ParamKind::kActivationClip && p->kind != engine::ParamKind::kQuantStep) {
      out.push_back(p);
    }
  }
  return out;
}

}  // namespace psg::cli
