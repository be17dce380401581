// Backbones as declarative layer tables, without LibTorch.
//
// A backbone is a list of layers in forward order; each has a user-facing
// name (conv1_1, relu1_1, pool1, fire2, ...), an operation, and for weighted
// layers the tensor names it reads from the weights file. The engine builds
// the network from this table (backbone.cc) and cuts it after the deepest
// layer a run asks for; the sweep language checks layer names against it.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "common/status.h"

namespace stylesweep {

enum class LayerOp {
  kConv,      // 2-D convolution with bias: weight [out, in, k, k]
  kRelu,      // in-place ReLU of the previous layer's output
  kMaxPool,   // max pooling (kernel, stride, ceil_mode)
  kAvgPool,   // average pooling (VGG19 with pooling=avg)
  kFire,      // SqueezeNet fire module: squeeze 1x1 + ReLU, then
              // cat(ReLU(expand1x1), ReLU(expand3x3, pad 1))
};

struct LayerSpec {
  std::string name;          // "conv1_1", "relu1_1", "pool1", "fire2"
  LayerOp op = LayerOp::kConv;
  std::string param_prefix;  // weights file prefix: "conv1_1" -> conv1_1.weight/.bias; "fire2" -> fire2.squeeze.weight ...
  int in_channels = 0;
  int out_channels = 0;      // output channels of this layer
  int kernel = 0;            // conv or pool kernel size
  int stride = 1;
  int padding = 0;
  bool ceil_mode = false;    // pooling
  int squeeze = 0;           // fire: squeeze channels
  int expand = 0;            // fire: channels of each expand branch (output = 2 * expand)
};

// How pixels are turned into network input: x = (pixel * scale - mean) / std
// per channel, in `channel_order`. Pixels arrive as RGB in [0, 1].
struct InputConvention {
  bool bgr = true;                                       // channel order BGR (Caffe) or RGB
  double scale = 255.0;                                  // 255: Caffe 0..255; 1: torchvision 0..1
  std::array<double, 3> mean = {103.939, 116.779, 123.68};  // in channel_order
  std::array<double, 3> std = {1.0, 1.0, 1.0};           // in channel_order
  std::string ToString() const;                          // "BGR, 0..255, minus mean [...]"
};

struct BackboneSpec {
  std::string name;                          // "vgg19", "squeezenet1_0"
  std::vector<LayerSpec> layers;             // forward order
  InputConvention default_input;             // when the weights file's metadata says nothing
  std::vector<std::string> default_style_layers;
  std::vector<std::string> default_content_layers;
  std::string default_weights_file;          // file name inside the shared models folder
};

// The table for `name` ("vgg19" takes `pooling` "avg" or "max"). Unknown
// names are kInvalidArgument listing the known backbones.
Result<BackboneSpec> GetBackboneSpec(const std::string& name, const std::string& pooling = "avg");

// Names of every backbone.
std::vector<std::string> BackboneNames();

// Index of layer `name` in spec.layers, or -1.
int FindLayer(const BackboneSpec& spec, const std::string& name);

// The weight and bias tensor names layer `layer` reads (empty for ReLU/pool).
std::vector<std::string> LayerTensorNames(const LayerSpec& layer);

// The layers of `spec` whose weights (and every earlier layer's weights) are
// all among `tensor_names`: the usable prefix of the network for a file.
std::vector<std::string> AvailableLayers(const BackboneSpec& spec, const std::vector<std::string>& tensor_names);

// Parses an "input" metadata string such as
// "BGR, 0..255, minus mean [104,117,123]" or
// "RGB, 0..1, minus mean [0.485,0.456,0.406], divided by std [0.229,0.224,0.225]".
// Missing parts keep the values of `fallback`.
Result<InputConvention> ParseInputConvention(const std::string& text, const InputConvention& fallback);

// The layers a run uses, resolved against the layers a weights file provides:
// explicit lists are checked (an unknown or unavailable layer is
// kInvalidArgument naming it and listing the available layers); empty lists
// take the backbone defaults, cut to what is available (VGG19 prefix files
// without conv4_x fall back to relu3_1-and-below style and relu3_2 content).
struct ResolvedLayers {
  std::vector<std::string> content_layers;
  std::vector<std::string> style_layers;
  std::string note;  // non-empty when defaults were adapted to the file
};
Result<ResolvedLayers> ResolveLayers(const BackboneSpec& spec, const std::vector<std::string>& available,
                                     const std::vector<std::string>& content_layers,
                                     const std::vector<std::string>& style_layers);

// Opens the weights file (safetensors.h), reads its tensor names and
// metadata, and returns the available layers; `weights_path` empty means the
// backbone's default file inside `models_dir`. Used by the engine and by
// sweep validation to check layers before anything runs.
struct WeightsInfo {
  std::string path;                         // resolved path
  std::vector<std::string> available_layers;
  InputConvention input;
};
Result<WeightsInfo> InspectWeights(const BackboneSpec& spec, const std::string& weights_path,
                                   const std::string& models_dir);

// A run's backbone, its weights file and its layers resolved against that
// file, in one step: GetBackboneSpec, InspectWeights, ResolveLayers. Errors
// are theirs; a layer error names the backbone and the weights file.
struct ResolvedBackbone {
  BackboneSpec spec;
  WeightsInfo weights;
  ResolvedLayers layers;
};
Result<ResolvedBackbone> ResolveBackbone(const std::string& backbone, const std::string& pooling,
                                         const std::string& weights_path, const std::string& models_dir,
                                         const std::vector<std::string>& content_layers,
                                         const std::vector<std::string>& style_layers);

// The unique layers of `a` then `b`, in order: the layers a run computes
// from its content and style layers.
std::vector<std::string> UnionOfLayerLists(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace stylesweep
