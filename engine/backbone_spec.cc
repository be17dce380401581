#include "engine/backbone_spec.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "engine/safetensors.h"

namespace stylesweep {
namespace {

// How to get the layers the shared VGG19 prefix lacks, for messages.
const std::string kFullWeightsHint =
    "a full VGG19 is converted once with scripts/convert_vgg19.py (docs/CONVERTING_WEIGHTS.md)";

LayerSpec Conv(const std::string& name, int in, int out, int kernel, int stride, int padding) {
  LayerSpec layer;
  layer.name = name;
  layer.op = LayerOp::kConv;
  layer.param_prefix = name;
  layer.in_channels = in;
  layer.out_channels = out;
  layer.kernel = kernel;
  layer.stride = stride;
  layer.padding = padding;
  return layer;
}

LayerSpec Relu(const std::string& name, int channels) {
  LayerSpec layer;
  layer.name = name;
  layer.op = LayerOp::kRelu;
  layer.in_channels = layer.out_channels = channels;
  return layer;
}

LayerSpec Pool(const std::string& name, LayerOp op, int channels, int kernel, int stride, bool ceil_mode) {
  LayerSpec layer;
  layer.name = name;
  layer.op = op;
  layer.in_channels = layer.out_channels = channels;
  layer.kernel = kernel;
  layer.stride = stride;
  layer.ceil_mode = ceil_mode;
  return layer;
}

LayerSpec Fire(const std::string& name, int in, int squeeze, int expand) {
  LayerSpec layer;
  layer.name = name;
  layer.op = LayerOp::kFire;
  layer.param_prefix = name;
  layer.in_channels = in;
  layer.squeeze = squeeze;
  layer.expand = expand;
  layer.out_channels = 2 * expand;
  return layer;
}

// VGG19 "features": 16 convolutions in five blocks, ReLU after each, a 2x2
// pool after each block. Layer names follow the paper (conv1_1, relu1_1, pool1).
BackboneSpec Vgg19(const std::string& pooling) {
  BackboneSpec spec;
  spec.name = "vgg19";
  const int convs_per_block[5] = {2, 2, 4, 4, 4};
  const int channels[5] = {64, 128, 256, 512, 512};
  const LayerOp pool_op = pooling == "max" ? LayerOp::kMaxPool : LayerOp::kAvgPool;
  int in = 3;
  for (int block = 0; block < 5; ++block) {
    for (int i = 0; i < convs_per_block[block]; ++i) {
      const std::string suffix = std::to_string(block + 1) + "_" + std::to_string(i + 1);
      spec.layers.push_back(Conv("conv" + suffix, in, channels[block], 3, 1, 1));
      spec.layers.push_back(Relu("relu" + suffix, channels[block]));
      in = channels[block];
    }
    spec.layers.push_back(Pool("pool" + std::to_string(block + 1), pool_op, in, 2, 2, false));
  }
  spec.default_input = InputConvention{};  // Caffe: BGR, 0..255, minus the ImageNet mean
  spec.default_style_layers = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
  spec.default_content_layers = {"relu4_2"};
  spec.default_weights_file = "vgg19_conv1_1-conv3_4.safetensors";
  return spec;
}

// SqueezeNet v1.0 (torchvision squeezenet1_0 / the Caffe original): conv1
// 7x7/2 + ReLU, max pools 3x3/2 ceil_mode after conv1, fire4 and fire8.
// The classifier (conv10) is not part of the feature extractor.
BackboneSpec SqueezeNet10() {
  BackboneSpec spec;
  spec.name = "squeezenet1_0";
  spec.layers.push_back(Conv("conv1", 3, 96, 7, 2, 0));
  spec.layers.push_back(Relu("relu1", 96));
  spec.layers.push_back(Pool("pool1", LayerOp::kMaxPool, 96, 3, 2, true));
  spec.layers.push_back(Fire("fire2", 96, 16, 64));
  spec.layers.push_back(Fire("fire3", 128, 16, 64));
  spec.layers.push_back(Fire("fire4", 128, 32, 128));
  spec.layers.push_back(Pool("pool4", LayerOp::kMaxPool, 256, 3, 2, true));
  spec.layers.push_back(Fire("fire5", 256, 32, 128));
  spec.layers.push_back(Fire("fire6", 256, 48, 192));
  spec.layers.push_back(Fire("fire7", 384, 48, 192));
  spec.layers.push_back(Fire("fire8", 384, 64, 256));
  spec.layers.push_back(Pool("pool8", LayerOp::kMaxPool, 512, 3, 2, true));
  spec.layers.push_back(Fire("fire9", 512, 64, 256));
  spec.default_input.bgr = true;
  spec.default_input.scale = 255.0;
  spec.default_input.mean = {104.0, 117.0, 123.0};
  spec.default_style_layers = {"relu1", "fire2", "fire3", "fire5", "fire7"};
  spec.default_content_layers = {"fire5"};
  spec.default_weights_file = "squeezenet_v1.0.safetensors";
  return spec;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

bool ParseTriple(const std::string& text, std::array<double, 3>& out) {
  std::string cleaned;
  for (char c : text) cleaned += (c == ',' ? ' ' : c);
  std::istringstream stream(cleaned);
  for (double& v : out) {
    if (!(stream >> v)) return false;
  }
  return true;
}

}  // namespace

std::string InputConvention::ToString() const {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s, 0..%g, minus mean [%g,%g,%g]", bgr ? "BGR" : "RGB", scale, mean[0], mean[1],
                mean[2]);
  std::string out = buf;
  if (std[0] != 1.0 || std[1] != 1.0 || std[2] != 1.0) {
    std::snprintf(buf, sizeof(buf), ", divided by std [%g,%g,%g]", std[0], std[1], std[2]);
    out += buf;
  }
  return out;
}

std::vector<std::string> BackboneNames() { return {"vgg19", "squeezenet1_0"}; }

Result<BackboneSpec> GetBackboneSpec(const std::string& name, const std::string& pooling) {
  if (pooling != "avg" && pooling != "max") {
    return Status::InvalidArgument("pooling '" + pooling + "' is not avg or max");
  }
  if (name == "vgg19") return Vgg19(pooling);
  if (name == "squeezenet1_0") return SqueezeNet10();
  return Status::InvalidArgument("unknown backbone '" + name + "' (known: " + JoinNames(BackboneNames()) + ")");
}

int FindLayer(const BackboneSpec& spec, const std::string& name) {
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    if (spec.layers[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::string> LayerTensorNames(const LayerSpec& layer) {
  switch (layer.op) {
    case LayerOp::kConv:
      return {layer.param_prefix + ".weight", layer.param_prefix + ".bias"};
    case LayerOp::kFire: {
      std::vector<std::string> names;
      for (const char* part : {".squeeze", ".expand1x1", ".expand3x3"}) {
        names.push_back(layer.param_prefix + part + ".weight");
        names.push_back(layer.param_prefix + part + ".bias");
      }
      return names;
    }
    default:
      return {};
  }
}

std::vector<std::string> AvailableLayers(const BackboneSpec& spec, const std::vector<std::string>& tensor_names) {
  std::set<std::string> present(tensor_names.begin(), tensor_names.end());
  std::vector<std::string> out;
  for (const auto& layer : spec.layers) {
    for (const auto& tensor : LayerTensorNames(layer)) {
      if (present.count(tensor) == 0) return out;
    }
    out.push_back(layer.name);
  }
  return out;
}

Result<InputConvention> ParseInputConvention(const std::string& text, const InputConvention& fallback) {
  InputConvention out = fallback;
  if (text.find("BGR") != std::string::npos) out.bgr = true;
  else if (text.find("RGB") != std::string::npos) out.bgr = false;
  if (text.find("0..255") != std::string::npos) out.scale = 255.0;
  else if (text.find("0..1") != std::string::npos) out.scale = 1.0;
  static const std::regex mean_re(R"(mean\s*\[([^\]]*)\])");
  static const std::regex std_re(R"(std\s*\[([^\]]*)\])");
  std::smatch match;
  if (std::regex_search(text, match, mean_re) && !ParseTriple(match[1].str(), out.mean)) {
    return Status::Corrupt("input convention '" + text + "': the mean is not three numbers");
  }
  if (std::regex_search(text, match, std_re)) {
    if (!ParseTriple(match[1].str(), out.std)) {
      return Status::Corrupt("input convention '" + text + "': the std is not three numbers");
    }
    for (double s : out.std) {
      if (!(s > 0)) return Status::Corrupt("input convention '" + text + "': std must be positive");
    }
  }
  return out;
}

Result<ResolvedLayers> ResolveLayers(const BackboneSpec& spec, const std::vector<std::string>& available,
                                     const std::vector<std::string>& content_layers,
                                     const std::vector<std::string>& style_layers) {
  std::set<std::string> have(available.begin(), available.end());
  ResolvedLayers out;
  auto check = [&](const std::vector<std::string>& requested, const char* what) -> Status {
    for (const auto& name : requested) {
      if (FindLayer(spec, name) < 0) {
        std::vector<std::string> all;
        for (const auto& l : spec.layers) all.push_back(l.name);
        return Status::InvalidArgument(std::string("unknown ") + what + " layer '" + name + "' for " + spec.name +
                                       " (layers: " + JoinNames(all) + ")");
      }
      if (have.count(name) == 0) {
        return Status::InvalidArgument(std::string(what) + " layer '" + name +
                                       "' is not in the weights file, which provides " +
                                       (available.empty() ? std::string("no layers") : JoinNames(available)) +
                                       "; choose one of those, or give --weights (sweep key weights) a file "
                                       "that has it: " + kFullWeightsHint);
      }
    }
    return Status::Ok();
  };
  SS_RETURN_IF_ERROR(check(content_layers, "content"));
  SS_RETURN_IF_ERROR(check(style_layers, "style"));

  auto cut_defaults = [&](const std::vector<std::string>& defaults) {
    std::vector<std::string> kept;
    for (const auto& name : defaults) {
      if (have.count(name)) kept.push_back(name);
    }
    return kept;
  };
  out.content_layers = content_layers;
  out.style_layers = style_layers;
  std::vector<std::string> notes;
  if (out.style_layers.empty()) {
    out.style_layers = cut_defaults(spec.default_style_layers);
    if (out.style_layers.size() != spec.default_style_layers.size()) {
      notes.push_back("style layers " + JoinNames(out.style_layers) + " (the weights file stops at " +
                      (available.empty() ? std::string("nothing") : available.back()) + ")");
    }
  }
  if (out.content_layers.empty()) {
    out.content_layers = cut_defaults(spec.default_content_layers);
    if (out.content_layers.empty()) {
      // A truncated VGG19: the deepest available reluN_2 stands in for relu4_2.
      for (auto it = available.rbegin(); it != available.rend(); ++it) {
        if (it->rfind("relu", 0) == 0 && it->size() > 2 && it->substr(it->size() - 2) == "_2") {
          out.content_layers = {*it};
          break;
        }
      }
      if (out.content_layers.empty() && !out.style_layers.empty()) out.content_layers = {out.style_layers.back()};
      notes.push_back("content layer " + JoinNames(out.content_layers) + " in place of " +
                      JoinNames(spec.default_content_layers));
    }
  }
  if (out.style_layers.empty() && out.content_layers.empty()) {
    return Status::InvalidArgument("the weights file provides no usable " + spec.name + " layers");
  }
  if (!notes.empty()) out.note = "using " + JoinNames(notes);
  return out;
}

Result<WeightsInfo> InspectWeights(const BackboneSpec& spec, const std::string& weights_path,
                                   const std::string& models_dir) {
  WeightsInfo info;
  info.path = weights_path.empty() ? models_dir + "/" + spec.default_weights_file : weights_path;
  if (!std::filesystem::exists(info.path)) {
    return Status::NotFound("weights file " + info.path + " does not exist" +
                            (weights_path.empty() ? " (the default for " + spec.name +
                                                        "; pass --weights or set --shared-dir)"
                                                  : "; check the path (in a sweep, a relative path is read "
                                                    "from the sweep file's folder); " + kFullWeightsHint));
  }
  SS_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(info.path));
  std::vector<std::string> names;
  for (const auto& tensor : file.tensors()) names.push_back(tensor.name);
  info.available_layers = AvailableLayers(spec, names);
  if (info.available_layers.empty()) {
    const auto& first = spec.layers.front();
    return Status::Corrupt("weights file " + info.path + " has no " + first.param_prefix + ".weight: it is not a " +
                           spec.name + " file (tensors: " +
                           JoinNames(std::vector<std::string>(names.begin(), names.begin() + std::min<size_t>(names.size(), 6))) +
                           (names.size() > 6 ? ", ..." : "") + ")");
  }
  info.input = spec.default_input;
  auto it = file.metadata().find("input");
  if (it != file.metadata().end()) {
    auto parsed = ParseInputConvention(it->second, spec.default_input);
    if (!parsed.ok()) return parsed.status().WithContext("weights file " + info.path);
    info.input = *parsed;
  }
  return info;
}

std::vector<std::string> UnionOfLayerLists(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto* list : {&a, &b}) {
    for (const auto& name : *list) {
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

Result<ResolvedBackbone> ResolveBackbone(const std::string& backbone, const std::string& pooling,
                                         const std::string& weights_path, const std::string& models_dir,
                                         const std::vector<std::string>& content_layers,
                                         const std::vector<std::string>& style_layers) {
  ResolvedBackbone resolved;
  SS_ASSIGN_OR_RETURN(resolved.spec, GetBackboneSpec(backbone, pooling));
  SS_ASSIGN_OR_RETURN(resolved.weights, InspectWeights(resolved.spec, weights_path, models_dir));
  auto layers = ResolveLayers(resolved.spec, resolved.weights.available_layers, content_layers, style_layers);
  if (!layers.ok()) return layers.status().WithContext(backbone + " weights " + resolved.weights.path);
  resolved.layers = std::move(layers).value();
  return resolved;
}

}  // namespace stylesweep
