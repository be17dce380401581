// Backbone: a pretrained feature extractor built from a BackboneSpec layer
// table and a .safetensors weights file. Engine-internal (includes LibTorch).
//
// Weights are frozen (no autograd state); gradients flow only to the input.
// The network is cut after the deepest layer it is asked for, so a run that
// stops at relu3_1 never computes block 4 or 5.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/status.h"
#include "engine/backbone_spec.h"

namespace stylesweep {

struct BackboneLoadOptions {
  std::string weights_path;        // empty: spec.default_weights_file inside models_dir
  std::string models_dir;          // where default weights files live
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;  // kFloat64 for gradient checks
  bool channels_last = true;       // store conv weights channels-last
  std::string deepest_layer;       // load only the layers up to this one; empty: every available layer
  bool read_weights = true;        // false: check the file's header only and leave the weights zero, to be
                                   // filled through Parameters() (the band split broadcasts rank 0's)
};

class Backbone {
 public:
  // Loads the layers of `spec` up to options.deepest_layer from the weights
  // file. Errors: kNotFound (file), kCorrupt (file damaged, a tensor with the
  // wrong shape: the message names tensor, expected and actual shapes),
  // kInvalidArgument (deepest_layer unknown or not in the file; lists what is).
  static Result<Backbone> Load(const BackboneSpec& spec, const BackboneLoadOptions& options);

  // Runs the network on `input` ([N, 3, H, W], already in the input
  // convention) up to the deepest of `layers` and returns each requested
  // layer's output, in the order of `layers`. Throws c10::Error on LibTorch
  // failures (the engine boundary converts them).
  std::vector<torch::Tensor> Forward(const torch::Tensor& input, const std::vector<std::string>& layers) const;

  // Every weight and bias tensor, in layer order. The tensors share storage
  // with the network, so writing into them in place changes its weights.
  std::vector<torch::Tensor> Parameters() const;

  const BackboneSpec& spec() const { return spec_; }
  const InputConvention& input_convention() const { return input_; }
  const std::vector<std::string>& available_layers() const { return available_; }
  const std::string& weights_path() const { return weights_path_; }

 private:
  struct LoadedLayer {
    LayerSpec spec;
    std::vector<torch::Tensor> params;  // conv: weight, bias; fire: squeeze w,b, expand1x1 w,b, expand3x3 w,b
  };
  BackboneSpec spec_;
  InputConvention input_;
  std::vector<std::string> available_;
  std::vector<LoadedLayer> layers_;
  std::string weights_path_;
};

}  // namespace stylesweep
