#include "engine/flop_count.h"

#include <algorithm>

namespace stylesweep {
namespace {

constexpr double kFloatBytes = 4.0;

double ConvFlops(int kernel, int in_channels, int out_channels, int out_height, int out_width) {
  return 2.0 * kernel * kernel * in_channels * out_channels * static_cast<double>(out_height) * out_width;
}

}  // namespace

int WindowOutputSize(int input, int kernel, int stride, int padding, bool ceil_mode) {
  const int span = input + 2 * padding - kernel;
  if (span < 0 || stride <= 0) return 0;
  int out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // PyTorch: with ceil_mode the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= input + padding) --out;
  return out;
}

std::vector<LayerTrace> TraceLayers(const BackboneSpec& spec, int last_layer, int height, int width) {
  std::vector<LayerTrace> traces;
  last_layer = std::min(last_layer, static_cast<int>(spec.layers.size()) - 1);
  int channels = 3;
  for (int i = 0; i <= last_layer; ++i) {
    const LayerSpec& layer = spec.layers[i];
    LayerTrace t;
    t.name = layer.name;
    t.op = layer.op;
    t.in_channels = channels;
    t.in_height = height;
    t.in_width = width;
    t.out_channels = layer.out_channels;
    const double in_elements = static_cast<double>(channels) * height * width;
    switch (layer.op) {
      case LayerOp::kConv: {
        t.out_height = WindowOutputSize(height, layer.kernel, layer.stride, layer.padding, false);
        t.out_width = WindowOutputSize(width, layer.kernel, layer.stride, layer.padding, false);
        t.parameters = static_cast<std::int64_t>(layer.out_channels) * layer.in_channels * layer.kernel * layer.kernel +
                       layer.out_channels;
        t.forward_flops = ConvFlops(layer.kernel, layer.in_channels, layer.out_channels, t.out_height, t.out_width);
        t.backward_flops = t.forward_flops;
        const double out_elements = static_cast<double>(t.OutputElements());
        t.forward_bytes = kFloatBytes * (in_elements + out_elements + t.parameters);
        t.backward_bytes = kFloatBytes * (out_elements + in_elements + t.parameters);
        break;
      }
      case LayerOp::kRelu: {
        t.out_height = height;
        t.out_width = width;
        // Forward reads x, writes y; backward reads dy and y, writes dx.
        t.forward_bytes = kFloatBytes * 2 * in_elements;
        t.backward_bytes = kFloatBytes * 3 * in_elements;
        break;
      }
      case LayerOp::kMaxPool:
      case LayerOp::kAvgPool: {
        t.out_height = WindowOutputSize(height, layer.kernel, layer.stride, layer.padding, layer.ceil_mode);
        t.out_width = WindowOutputSize(width, layer.kernel, layer.stride, layer.padding, layer.ceil_mode);
        const double out_elements = static_cast<double>(t.OutputElements());
        // Max pooling also writes and reads back int64 indices (two floats' worth each).
        const double index_floats = layer.op == LayerOp::kMaxPool ? 2 * out_elements : 0;
        t.forward_bytes = kFloatBytes * (in_elements + out_elements + index_floats);
        t.backward_bytes = kFloatBytes * (out_elements + in_elements + index_floats);
        break;
      }
      case LayerOp::kFire: {
        t.out_height = height;
        t.out_width = width;
        const double positions = static_cast<double>(height) * width;
        t.parameters = static_cast<std::int64_t>(layer.squeeze) * (layer.in_channels + 1) +
                       static_cast<std::int64_t>(layer.expand) * (layer.squeeze + 1) +
                       static_cast<std::int64_t>(layer.expand) * (9 * layer.squeeze + 1);
        t.forward_flops = ConvFlops(1, layer.in_channels, layer.squeeze, height, width) +
                          ConvFlops(1, layer.squeeze, layer.expand, height, width) +
                          ConvFlops(3, layer.squeeze, layer.expand, height, width);
        t.backward_flops = t.forward_flops;
        // Squeeze: read input, write S; ReLU on S; two expands read S (twice),
        // write 2E; ReLU on 2E; concatenation reads 2E, writes 2E.
        const double s = layer.squeeze * positions, e2 = 2.0 * layer.expand * positions;
        t.forward_bytes = kFloatBytes * (in_elements + s + 2 * s + 2 * s + e2 + 2 * e2 + 2 * e2 + t.parameters);
        t.backward_bytes = kFloatBytes * (2 * e2 + 3 * e2 + e2 + 2 * s + 3 * s + s + in_elements + t.parameters);
        break;
      }
    }
    channels = t.out_channels;
    height = t.out_height;
    width = t.out_width;
    traces.push_back(std::move(t));
  }
  return traces;
}

Result<int> DeepestLayerIndex(const BackboneSpec& spec, const std::vector<std::string>& names) {
  int deepest = -1;
  for (const auto& name : names) {
    const int index = FindLayer(spec, name);
    if (index < 0) return Status::InvalidArgument("unknown layer '" + name + "' for " + spec.name);
    deepest = std::max(deepest, index);
  }
  if (deepest < 0) return Status::InvalidArgument("no content or style layer given for " + spec.name);
  return deepest;
}

Result<IterationWork> CountIterationWork(const BackboneSpec& spec, const std::vector<std::string>& content_layers,
                                         const std::vector<std::string>& style_layers, int height, int width,
                                         int lbfgs_history) {
  std::vector<std::string> all = content_layers;
  all.insert(all.end(), style_layers.begin(), style_layers.end());
  SS_ASSIGN_OR_RETURN(int deepest, DeepestLayerIndex(spec, all));
  IterationWork work;
  work.layers = TraceLayers(spec, deepest, height, width);
  for (const LayerTrace& t : work.layers) {
    work.forward_flops += t.forward_flops;
    work.backward_flops += t.backward_flops;
    work.network_bytes += t.forward_bytes + t.backward_bytes;
  }
  for (const auto& name : style_layers) {
    const LayerTrace& t = work.layers[FindLayer(spec, name)];
    const double n = t.out_channels;
    const double m = static_cast<double>(t.out_height) * t.out_width;
    const double flops = n * (n + 1) * m + 2.0 * n * n * m;  // rank-k update forward + one product backward
    work.style_layer_gram_flops.push_back(flops);
    work.gram_flops += flops;
    // Forward reads F once (one operand) and writes G; backward reads dG
    // and F once and writes dF (accumulated into the layer's gradient).
    work.network_bytes += kFloatBytes * (n * m + n * n + n * n + n * m + n * m);
  }
  for (const auto& name : content_layers) {
    work.network_bytes += kFloatBytes * 4.0 * static_cast<double>(work.layers[FindLayer(spec, name)].OutputElements());
  }
  const double pixels = 3.0 * height * width;
  // Two loops x history x (dot: read 2 vectors; axpy: read 2, write 1), plus
  // about ten vector passes of bookkeeping per step.
  if (lbfgs_history > 0) work.lbfgs_bytes = kFloatBytes * pixels * (10.0 * lbfgs_history + 10.0);
  return work;
}

}  // namespace stylesweep
