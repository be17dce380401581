#include "engine/backbone.h"

#include <torch/torch.h>

#include "engine/safetensors.h"

namespace stylesweep {
namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

// The shapes LayerTensorNames(layer) must have, in the same order.
std::vector<std::vector<int64_t>> ExpectedShapes(const LayerSpec& layer) {
  switch (layer.op) {
    case LayerOp::kConv:
      return {{layer.out_channels, layer.in_channels, layer.kernel, layer.kernel}, {layer.out_channels}};
    case LayerOp::kFire:
      return {{layer.squeeze, layer.in_channels, 1, 1}, {layer.squeeze},
              {layer.expand, layer.squeeze, 1, 1},      {layer.expand},
              {layer.expand, layer.squeeze, 3, 3},      {layer.expand}};
    default:
      return {};
  }
}

torch::Tensor Conv(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, int stride,
                   int padding) {
  return torch::conv2d(x, weight, bias, {stride, stride}, {padding, padding});
}

}  // namespace

Result<Backbone> Backbone::Load(const BackboneSpec& spec, const BackboneLoadOptions& options) {
  SS_ASSIGN_OR_RETURN(WeightsInfo info, InspectWeights(spec, options.weights_path, options.models_dir));
  Backbone backbone;
  backbone.spec_ = spec;
  backbone.input_ = info.input;
  backbone.available_ = info.available_layers;
  backbone.weights_path_ = info.path;

  int last = static_cast<int>(info.available_layers.size()) - 1;
  if (!options.deepest_layer.empty()) {
    auto it = std::find(info.available_layers.begin(), info.available_layers.end(), options.deepest_layer);
    if (it == info.available_layers.end()) {
      std::string list;
      for (const auto& name : info.available_layers) list += (list.empty() ? "" : ", ") + name;
      return Status::InvalidArgument("layer '" + options.deepest_layer + "' is not available in " + info.path +
                                     " (available: " + list + ")");
    }
    last = static_cast<int>(it - info.available_layers.begin());
  }

  SS_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(info.path));
  const auto tensor_options = torch::TensorOptions().dtype(torch::kFloat32);
  for (int i = 0; i <= last; ++i) {
    LoadedLayer loaded;
    loaded.spec = spec.layers[i];
    const auto names = LayerTensorNames(loaded.spec);
    const auto shapes = ExpectedShapes(loaded.spec);
    for (size_t t = 0; t < names.size(); ++t) {
      const TensorInfo* tensor_info = file.Find(names[t]);
      if (tensor_info == nullptr) return Status::Corrupt(info.path + ": tensor " + names[t] + " is missing");
      if (tensor_info->shape != shapes[t]) {
        return Status::Corrupt(info.path + ": tensor " + names[t] + " has shape " + ShapeText(tensor_info->shape) +
                               ", expected " + ShapeText(shapes[t]) + " for " + spec.name);
      }
      torch::Tensor tensor;
      if (options.read_weights) {
        SS_ASSIGN_OR_RETURN(std::vector<float> values, file.ReadFloat32(names[t]));
        for (float v : values) {
          if (!std::isfinite(v)) return Status::Corrupt(info.path + ": tensor " + names[t] + " holds NaN or Inf");
        }
        tensor = torch::from_blob(values.data(), shapes[t], tensor_options)
                     .to(options.device, options.dtype, /*non_blocking=*/false, /*copy=*/true);
      } else {
        tensor = torch::zeros(shapes[t], torch::TensorOptions().dtype(options.dtype).device(options.device));
      }
      if (options.channels_last && tensor.dim() == 4) tensor = tensor.contiguous(torch::MemoryFormat::ChannelsLast);
      loaded.params.push_back(tensor);
    }
    backbone.layers_.push_back(std::move(loaded));
  }
  return backbone;
}

std::vector<torch::Tensor> Backbone::Parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& layer : layers_) out.insert(out.end(), layer.params.begin(), layer.params.end());
  return out;
}

std::vector<torch::Tensor> Backbone::Forward(const torch::Tensor& input, const std::vector<std::string>& layers) const {
  std::multimap<std::string, size_t> wanted;  // a layer asked for twice fills both slots
  for (size_t i = 0; i < layers.size(); ++i) wanted.emplace(layers[i], i);
  std::vector<torch::Tensor> outputs(layers.size());
  size_t found = 0;
  torch::Tensor x = input;
  for (const auto& layer : layers_) {
    if (found == layers.size()) break;
    const auto& s = layer.spec;
    const auto& p = layer.params;
    switch (s.op) {
      case LayerOp::kConv:
        x = Conv(x, p[0], p[1], s.stride, s.padding);
        break;
      case LayerOp::kRelu:
        x = torch::relu(x);
        break;
      case LayerOp::kMaxPool:
        x = torch::max_pool2d(x, {s.kernel, s.kernel}, {s.stride, s.stride}, {0, 0}, {1, 1}, s.ceil_mode);
        break;
      case LayerOp::kAvgPool:
        x = torch::avg_pool2d(x, {s.kernel, s.kernel}, {s.stride, s.stride}, {0, 0}, s.ceil_mode);
        break;
      case LayerOp::kFire: {
        auto squeezed = torch::relu(Conv(x, p[0], p[1], 1, 0));
        x = torch::cat({torch::relu(Conv(squeezed, p[2], p[3], 1, 0)), torch::relu(Conv(squeezed, p[4], p[5], 1, 1))},
                       1);
        break;
      }
    }
    auto [first, last] = wanted.equal_range(s.name);
    for (auto it = first; it != last; ++it) {
      outputs[it->second] = x;
      ++found;
    }
  }
  TORCH_CHECK(found == layers.size(), "backbone ", spec_.name, " was asked for a layer it has not loaded");
  return outputs;
}

}  // namespace stylesweep
