// A two-layer backbone, conv (3 -> 2 channels, 3x3, pad 1) + ReLU, small
// enough that its work and memory can be counted by hand in tests.
#pragma once

#include "engine/backbone_spec.h"

namespace stylesweep::testing {

inline BackboneSpec TinyNet() {
  BackboneSpec spec;
  spec.name = "tiny";
  LayerSpec conv;
  conv.name = "conv1";
  conv.op = LayerOp::kConv;
  conv.in_channels = 3;
  conv.out_channels = 2;
  conv.kernel = 3;
  conv.padding = 1;
  LayerSpec relu;
  relu.name = "relu1";
  relu.op = LayerOp::kRelu;
  relu.in_channels = relu.out_channels = 2;
  spec.layers = {conv, relu};
  return spec;
}

}  // namespace stylesweep::testing
