#include "quant/dfq.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

#include "engine/graph.h"

namespace psg::quant {

using engine::Graph;
using engine::Node;
using engine::NodeKind;
using engine::Parameter;

// A folded batch norm: the bias it adds and the distribution of its output.
struct DataFreeQuantization::Carrier {
  Parameter* conv_weight = nullptr;  // the convolution folded into it, {O, ...}
  Parameter *gamma = nullptr, *beta = nullptr, *mean = nullptr, *var = nullptr;
  float epsilon = 0;
  std::vector<double> bias, out_mean, out_stddev;

  int64_t channels() const { return static_cast<int64_t>(bias.size()); }
  int64_t row_size() const { return conv_weight->value.numel() / channels(); }
  // The BN parameters that add `bias` and state N(out_mean, out_stddev). The
  // stated deviation is kept >= 2 sqrt(eps) so that var + eps = gamma^2 does
  // not cancel to nothing in float.
  void Write() const {
    const float min_stddev = 2.0f * std::sqrt(epsilon);
    for (int64_t c = 0; c < channels(); ++c) {
      const float g = std::max(static_cast<float>(out_stddev[c]), min_stddev);
      gamma->value.flat()[c] = g;
      beta->value.flat()[c] = static_cast<float>(out_mean[c]);
      mean->value.flat()[c] = static_cast<float>(out_mean[c] - bias[c]);
      var->value.flat()[c] = g * g - epsilon;
    }
  }
};

// A convolution whose bias CorrectBias adjusts.
struct DataFreeQuantization::Corrected {
  Parameter* weight = nullptr;  // {O, I, K, K}
  int carrier = 0;              // its own folded BN
  std::vector<float> fp_weight;
  std::vector<double> input_mean;  // E[x_i] per input channel
};

double ReluMean(double mean, double stddev) {
  if (stddev <= 0) return std::max(mean, 0.0);
  const double t = mean / stddev;
  const double cdf = 0.5 * std::erfc(-t / std::sqrt(2.0));
  const double pdf = std::exp(-0.5 * t * t) / std::sqrt(2.0 * M_PI);
  return mean * cdf + stddev * pdf;
}

namespace {

struct Chain {
  int head = 0;  // carrier of conv1
  Parameter* tail_weight = nullptr;  // conv2, {O2, I2 = head channels, K, K}
  int tail_carrier = -1;             // conv2's own folded BN, if any
};

// max |W[o, i, :]| over o (a column of input channel i) of a {O, I, ...} tensor.
std::vector<double> ColumnRanges(const Parameter& w) {
  const engine::Dims dims = w.value.dims();
  const int64_t out = dims[0], in = dims[1], k = w.value.numel() / (out * in);
  std::vector<double> r(in, 0.0);
  const float* data = w.value.flat().data();
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t j = 0; j < k; ++j) r[i] = std::max<double>(r[i], std::abs(data[(o * in + i) * k + j]));
    }
  }
  return r;
}

}  // namespace

DataFreeQuantization::DataFreeQuantization(const engine::Layer& model, const engine::ParameterList& params,
                                           const DfqOptions& options) {
  Graph graph;
  model.Export(&graph, graph.AddInput("input"));
  std::map<const float*, Parameter*> by_buffer;
  for (Parameter* p : params) by_buffer[p->value.raw()] = p;
  auto param_of = [&](const engine::Tensor& t, const Node& node, const char* what) {
    const auto it = by_buffer.find(t.raw());
    if (it == by_buffer.end()) {
      throw std::invalid_argument(std::string("DFQ: the ") + what + " of '" + node.name +
                                  "' is not among the model's parameters");
    }
    return it->second;
  };

  // 1. Folding. carrier_after[n]: the carrier whose ReLU'd output node n is.
  std::vector<int> carrier_of_conv(graph.size(), -1), carrier_after(graph.size(), -1);
  for (int id = 0; id < graph.size(); ++id) {
    const Node& conv = graph.node(id);
    const std::vector<int> readers = graph.Consumers(id);
    if (conv.kind != NodeKind::kConv || readers.size() != 1) continue;
    const Node& bn = graph.node(readers[0]);
    if (bn.kind != NodeKind::kBatchNorm) continue;
    Carrier c;
    c.conv_weight = param_of(conv.weight, conv, "weight");
    c.gamma = param_of(bn.gamma, bn, "gamma");
    c.beta = param_of(bn.beta, bn, "beta");
    c.mean = param_of(bn.mean, bn, "running mean");
    c.var = param_of(bn.var, bn, "running variance");
    c.epsilon = bn.epsilon;
    Parameter* conv_bias = conv.bias.empty() ? nullptr : param_of(conv.bias, conv, "bias");
    const int64_t channels = conv.out_channels;
    c.bias.resize(channels);
    c.out_mean.resize(channels);
    c.out_stddev.resize(channels);
    const int64_t row = c.conv_weight->value.numel() / channels;
    float* w = c.conv_weight->value.flat().data();
    for (int64_t o = 0; o < channels; ++o) {
      const double gamma = c.gamma->value.flat()[o], beta = c.beta->value.flat()[o];
      const double scale = gamma / std::sqrt(static_cast<double>(c.var->value.flat()[o]) + c.epsilon);
      const double b = conv_bias ? conv_bias->value.flat()[o] : 0.0;
      for (int64_t j = 0; j < row; ++j) w[o * row + j] = static_cast<float>(w[o * row + j] * scale);
      c.bias[o] = beta + (b - c.mean->value.flat()[o]) * scale;
      c.out_mean[o] = beta;
      c.out_stddev[o] = std::abs(gamma);
    }
    if (conv_bias) conv_bias->value.Fill(0.0f);
    carrier_of_conv[id] = static_cast<int>(carriers_.size());
    carriers_.push_back(std::move(c));
    if (bn.relu) {
      carrier_after[readers[0]] = carrier_of_conv[id];
    } else {
      const std::vector<int> after_bn = graph.Consumers(readers[0]);
      if (after_bn.size() == 1 && graph.node(after_bn[0]).kind == NodeKind::kRelu) {
        carrier_after[after_bn[0]] = carrier_of_conv[id];
      }
    }
  }
  summary_.folded = static_cast<int>(carriers_.size());

  // The chains, and the convolutions with data-free input statistics.
  std::vector<Chain> chains;
  std::vector<int> corrected_nodes;
  for (int id = 0; id < graph.size(); ++id) {
    const Node& conv = graph.node(id);
    if (conv.kind != NodeKind::kConv || conv.groups != 1) continue;
    const int input = conv.inputs[0];
    const int head = carrier_after[input];
    if (head < 0) continue;
    if (carrier_of_conv[id] >= 0) corrected_nodes.push_back(id);
    if (graph.Consumers(input).size() == 1 && carriers_[head].channels() == conv.in_channels) {
      chains.push_back({head, param_of(conv.weight, conv, "weight"), carrier_of_conv[id]});
    }
  }

  // 2. Equalization.
  if (options.equalize) {
    summary_.equalized_pairs = static_cast<int>(chains.size());
    for (summary_.sweeps = 1; summary_.sweeps <= 100; ++summary_.sweeps) {
      double largest_change = 0;
      for (const Chain& chain : chains) {
        Carrier& head = carriers_[chain.head];
        const int64_t row = head.row_size();
        float* w1 = head.conv_weight->value.flat().data();
        float* w2 = chain.tail_weight->value.flat().data();
        const std::vector<double> r2 = ColumnRanges(*chain.tail_weight);
        const int64_t out2 = chain.tail_weight->value.dims()[0], in2 = head.channels();
        const int64_t k2 = chain.tail_weight->value.numel() / (out2 * in2);
        for (int64_t i = 0; i < in2; ++i) {
          double r1 = 0;
          for (int64_t j = 0; j < row; ++j) r1 = std::max<double>(r1, std::abs(w1[i * row + j]));
          if (r1 == 0 || r2[i] == 0) continue;
          const double s = std::sqrt(r1 / r2[i]);
          largest_change = std::max(largest_change, std::abs(s - 1));
          for (int64_t j = 0; j < row; ++j) w1[i * row + j] = static_cast<float>(w1[i * row + j] / s);
          head.bias[i] /= s;
          head.out_mean[i] /= s;
          head.out_stddev[i] /= s;
          for (int64_t o = 0; o < out2; ++o) {
            for (int64_t j = 0; j < k2; ++j) {
              float& v = w2[(o * in2 + i) * k2 + j];
              v = static_cast<float>(v * s);
            }
          }
        }
      }
      if (largest_change < 1e-6) break;
    }
    summary_.sweeps = std::min(summary_.sweeps, 100);
  }

  // 3. Absorption.
  if (options.absorb_bias) {
    for (const Chain& chain : chains) {
      if (chain.tail_carrier < 0) continue;
      Carrier& head = carriers_[chain.head];
      Carrier& tail = carriers_[chain.tail_carrier];
      const int64_t in2 = head.channels(), out2 = tail.channels();
      const int64_t k2 = chain.tail_weight->value.numel() / (out2 * in2);
      const float* w2 = chain.tail_weight->value.flat().data();
      for (int64_t i = 0; i < in2; ++i) {
        const double c = std::max(0.0, head.out_mean[i] - options.absorb_stddevs * head.out_stddev[i]);
        if (c == 0) continue;
        head.bias[i] -= c;
        head.out_mean[i] -= c;
        for (int64_t o = 0; o < out2; ++o) {
          double sum = 0;
          for (int64_t j = 0; j < k2; ++j) sum += w2[(o * in2 + i) * k2 + j];
          tail.bias[o] += sum * c;
        }
      }
      ++summary_.absorbed_pairs;
    }
  }
  for (const Carrier& c : carriers_) c.Write();

  // 4. What bias correction needs: the floating-point weights and E[x].
  for (int id : corrected_nodes) {
    const Node& conv = graph.node(id);
    const Carrier& input = carriers_[carrier_after[conv.inputs[0]]];
    Corrected c;
    c.weight = param_of(conv.weight, conv, "weight");
    c.carrier = carrier_of_conv[id];
    const absl::Span<const float> w = c.weight->value.flat();
    c.fp_weight.assign(w.begin(), w.end());
    for (int64_t i = 0; i < input.channels(); ++i) {
      c.input_mean.push_back(ReluMean(input.out_mean[i], input.out_stddev[i]));
    }
    corrected_.push_back(std::move(c));
  }
  summary_.corrected = static_cast<int>(corrected_.size());
}

DataFreeQuantization::~DataFreeQuantization() = default;

void DataFreeQuantization::CorrectBias() const {
  for (const Corrected& c : corrected_) {
    const int64_t out = c.weight->value.dims()[0], in = static_cast<int64_t>(c.input_mean.size());
    const int64_t k = c.weight->value.numel() / (out * in);
    const float* w = c.weight->value.flat().data();
    // The carrier adds beta - mean (gamma / sqrt(var + eps) = 1): raising
    // its mean by the expected error removes that error from the output.
    float* carrier_mean = carriers_[c.carrier].mean->value.flat().data();
    for (int64_t o = 0; o < out; ++o) {
      double error = 0;
      for (int64_t i = 0; i < in; ++i) {
        double row = 0;
        for (int64_t j = 0; j < k; ++j) {
          const int64_t at = (o * in + i) * k + j;
          row += static_cast<double>(w[at]) - c.fp_weight[at];
        }
        error += row * c.input_mean[i];
      }
      carrier_mean[o] = static_cast<float>(carrier_mean[o] + error);
    }
  }
}

}  // namespace psg::quant
