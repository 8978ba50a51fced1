// The released PSG code's defaults that are facts of PSG and of the
// compression it trains for, defined once: the authors' PSG-pytorch
// (github.com/Jangho-Kim/PSG-pytorch), each constant with the file and line
// of code it comes from. Flag defaults, option structs and the paper recipe
// use these names; the training schedule (epochs, learning rates, batch size)
// is the recipe's own (experiments/budget.h).
//
//   ABSL_FLAG(double, psg_lambda, psg::compression::kReleasedPsgLambda, "PSGD lambda_s");
//   float momentum = static_cast<float>(compression::kReleasedRangeMomentum);
#ifndef PSG_COMPRESSION_RELEASED_DEFAULTS_H_
#define PSG_COMPRESSION_RELEASED_DEFAULTS_H_

namespace psg::compression {

// train.py: parser.add_argument('--w_bit', default='4'). The bit-width PSG
// trains the weights towards.
inline constexpr int kReleasedWeightBits = 4;

// train.py: parser.add_argument('--lambda_s', default='150'), and the README's
// command for --w_bit 4. The released code gives no other value, so the
// toolkit uses it at every bit-width (hyperparmeter_search.py tunes it per
// bit-width on held-out data).
inline constexpr double kReleasedPsgLambda = 150;

// train.py and hyperparmeter_search.py: "if w_bits == 2: W_DECAY = 0", the
// bit-width at which PSGD trains without weight decay.
inline constexpr int kReleasedNoWeightDecayBits = 2;

// train.py, the Adam branch: "base_lr *= 1e-2 * lambda_s", so PSG-Adam's
// learning rate is lr * kReleasedPsgAdamLrFactor * lambda_s.
inline constexpr double kReleasedPsgAdamLrFactor = 1e-2;

// quant_module.py: post_training_weight(..., momentum=0.1), the moving average
// r <- momentum * observed + (1 - momentum) * r of a quantizer's range, the
// first observation taken as is; the weights' (PSG's grid) and the
// activations' (ReLU_quant) alike.
inline constexpr double kReleasedRangeMomentum = 0.1;

// eval.py: parser.add_argument('--clipping_range', default=6), the n of
// quant_utils.py save_bn_param: an activation's range after a batch norm is
// x_max = max(beta + n * gamma).
inline constexpr double kReleasedBnRangeN = 6;

// our_network.py: "fl_bits = 8 if w_bits < 4 else w_bits" (VGG: 8 unless
// w_bits > 3): the first and the last layer use kReleasedFirstLastBits when
// the target is below kReleasedFirstLastWidenBelowBits.
inline constexpr int kReleasedFirstLastBits = 8;
inline constexpr int kReleasedFirstLastWidenBelowBits = 4;

}  // namespace psg::compression

#endif  // PSG_COMPRESSION_RELEASED_DEFAULTS_H_
