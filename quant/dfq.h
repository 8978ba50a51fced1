// Data-free quantization (DFQ; Nagel et al. 2019, "Data-Free Quantization
// Through Weight Equalization and Bias Correction"), a post-training baseline
// of the PSG paper, as an in-place reparametrization of a model's parameters
// that weight PTQ (quant/weight_ptq.h) then quantizes like any other model:
//
//  1. Batch-norm folding. A convolution read only by a BatchNorm takes the
//     BN's scale, W[o] *= gamma[o] / sqrt(var[o] + eps). The BN stays, as the
//     carrier of the folded bias and of the distribution its output is
//     assumed to have, N(beta, |gamma|): its gamma becomes that standard
//     deviation (kept positive), and its running mean and variance are set so
//     that it adds the folded bias (mean = beta - bias, var = gamma^2 - eps).
//     The activation BN rule (--act_range=bn) and steps 3-4 read them.
//  2. Cross-layer equalization of each conv1 -> BN (+ReLU) -> conv2 chain
//     whose conv2 is the BN's only reader: output channel i of conv1 and its
//     BN are divided by s_i = sqrt(r1_i / r2_i) and input channel i of conv2
//     multiplied by it, r1_i = max |W1[i]|, r2_i = max |W2[:, i]|, so that
//     both ranges become sqrt(r1_i * r2_i); exact, as ReLU(x / s) = ReLU(x) / s
//     for s > 0. Sweeps repeat until every scale is 1 within 1e-6 (chains
//     that share no convolution, as in ResNets, converge in one sweep).
//  3. Bias absorption in those chains: c_i = max(0, beta_i - n * gamma_i)
//     leaves the BN before the ReLU and enters conv2's bias as
//     sum_{i,k} W2[o, i, k] * c_i; exact where the pre-activation is >= c_i
//     and away from conv2's zero padding (the method's approximation).
//  4. Bias correction, after the weights are quantized (CorrectBias): the
//     expected error of each convolution that reads a ReLU'd BN carrier and
//     has a carrier of its own, sum_{i,k} (Wq - W)[o, i, k] * E[x_i], with
//     E[x_i] the mean of ReLU(N(beta_i, gamma_i)) in closed form, is
//     subtracted from its bias. Other convolutions (the first, those reading
//     a residual sum) have no data-free input statistics and stay uncorrected.
//
//   DataFreeQuantization dfq(*model, params, {});   // steps 1-3, in place
//   engine::WeightSnapshot fp(params);
//   QuantizeWeights(params, {.spec = {.bits = 4}});
//   dfq.CorrectBias();                               // step 4
//   ... evaluate ...
//   fp.Restore();                                    // undoes 4 and the rounding
#ifndef PSG_QUANT_DFQ_H_
#define PSG_QUANT_DFQ_H_

#include <vector>

#include "engine/layer.h"
#include "engine/parameter.h"

namespace psg::quant {

struct DfqOptions {
  bool equalize = true;
  bool absorb_bias = true;
  // Bias absorption keeps n standard deviations of each pre-activation above
  // the ReLU's threshold (the paper's 3).
  float absorb_stddevs = 3.0f;
};

// What the transform did, for reports.
struct DfqSummary {
  int folded = 0;           // batch norms folded into their convolutions
  int equalized_pairs = 0;  // conv1 -> BN (+ReLU) -> conv2 chains equalized
  int sweeps = 0;           // equalization sweeps until convergence
  int absorbed_pairs = 0;   // chains whose conv2 took an absorbed bias
  int corrected = 0;        // convolutions CorrectBias adjusts
};

class DataFreeQuantization {
 public:
  // Applies steps 1-3 to `model`, whose parameters are `params` (as its
  // CollectParameters lists them). Throws std::invalid_argument naming the
  // layer when a graph tensor is not among `params`.
  DataFreeQuantization(const engine::Layer& model, const engine::ParameterList& params,
                       const DfqOptions& options);
  ~DataFreeQuantization();
  DataFreeQuantization(const DataFreeQuantization&) = delete;
  DataFreeQuantization& operator=(const DataFreeQuantization&) = delete;

  // Step 4: subtracts the expected output error of the weights' current
  // values against those the transform left (the floating-point ones) from
  // each corrected convolution's bias. Call once after each quantization.
  void CorrectBias() const;

  const DfqSummary& summary() const { return summary_; }

 private:
  struct Carrier;
  struct Corrected;
  std::vector<Carrier> carriers_;
  std::vector<Corrected> corrected_;
  DfqSummary summary_;
};

// E[max(z, 0)] for z ~ N(mean, stddev^2): mean * Phi(mean / stddev) + stddev *
// phi(mean / stddev); max(mean, 0) when stddev is 0.
double ReluMean(double mean, double stddev);

}  // namespace psg::quant

#endif  // PSG_QUANT_DFQ_H_
