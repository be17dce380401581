// The arithmetic of one Gatys objective evaluation, from the backbone's layer
// table alone (torch-free): every layer's output shape at an H x W input, the
// floating-point operations of the forward pass, of the backward pass to the
// pixels, and of the Gram matrices, and the bytes those passes must move.
// The benchmarks compare measured times against this floor; the memory
// estimate (memory_estimate.h) reuses the shapes.
//
// The model, per loss evaluation (one L-BFGS "iteration"):
//   conv      forward 2*K*K*Cin*Cout*Ho*Wo (one multiply-add = 2 operations;
//             the bias add is left out). Backward computes the gradient with
//             respect to the input only (the weights are frozen, so no
//             weight gradients): the same 2*K*K*Cin*Cout*Ho*Wo. The first
//             convolution's input gradient is computed too: the pixels are
//             the variable being optimised.
//   fire      its three convolutions (squeeze 1x1, expand 1x1, expand 3x3)
//             counted as above.
//   ReLU, pooling, losses: elementwise, left out of the operation count
//             (well under 1% for both backbones) but counted in bytes.
//   Gram      G = F^T F with F [M, N] (N channels, M = Ho*Wo positions),
//             as SymmetricGram (symmetric_gram.h) computes it: forward a
//             symmetric rank-k update, N(N+1)/2 * M multiply-adds, so
//             N(N+1)*M (half a general product's 2*N^2*M); backward one
//             product (dG + dG^T) F, 2*N^2*M (autograd of mm(F, F^T) would
//             form two). On CUDA, and on the CPU with more than one
//             LibTorch thread or few positions (symmetric_gram.h), the
//             forward is a general product: the count is then a lower bound
//             by N^2*M per layer.
//   bytes     float32 tensors as DRAM traffic a perfect cache would still
//             need: forward reads each layer's input and weights and writes
//             its output; backward reads the output gradient, the saved
//             input (or mask) and the weights and writes the input gradient.
//             Activations larger than any cache make this a lower bound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/backbone_spec.h"

namespace stylesweep {

// One layer of the network at a given input size.
struct LayerTrace {
  std::string name;              // "conv1_1", "fire2", ...
  LayerOp op = LayerOp::kConv;
  int in_channels = 0, in_height = 0, in_width = 0;
  int out_channels = 0, out_height = 0, out_width = 0;
  std::int64_t parameters = 0;        // weights + biases (floats)
  double forward_flops = 0;           // see the file comment
  double backward_flops = 0;          // input gradient only
  double forward_bytes = 0;           // float32 traffic of the forward pass
  double backward_bytes = 0;          // float32 traffic of the backward pass
  std::int64_t OutputElements() const {
    return static_cast<std::int64_t>(out_channels) * out_height * out_width;
  }
  std::int64_t InputElements() const {
    return static_cast<std::int64_t>(in_channels) * in_height * in_width;
  }
};

// Output size of a convolution or pooling window along one axis, with
// PyTorch's rules (ceil_mode drops a last window that starts in the padding).
// 0 when the input is smaller than the window.
int WindowOutputSize(int input, int kernel, int stride, int padding, bool ceil_mode);

// The layers spec.layers[0..last_layer] applied to a [1, 3, height, width]
// input, in forward order. last_layer out of range is clamped to the table.
std::vector<LayerTrace> TraceLayers(const BackboneSpec& spec, int last_layer, int height, int width);

// Work of one objective evaluation.
struct IterationWork {
  double forward_flops = 0;    // convolutions up to the deepest layer used
  double backward_flops = 0;   // input gradients of those convolutions
  double gram_flops = 0;       // Gram matrices of the style layers, forward + backward
  double network_bytes = 0;    // forward + backward traffic of the layers
  double lbfgs_bytes = 0;      // the L-BFGS two-loop recursion over its history (per step)
  double TotalFlops() const { return forward_flops + backward_flops + gram_flops; }
  double TotalBytes() const { return network_bytes + lbfgs_bytes; }
  std::vector<LayerTrace> layers;            // up to the deepest layer used
  std::vector<double> style_layer_gram_flops;  // per style layer, in the order given
};

// The work of one evaluation of a run at height x width using `content_layers`
// and `style_layers` (names from spec; an unknown name is kInvalidArgument)
// with an L-BFGS history of `lbfgs_history` correction pairs (0: Adam, no
// recursion). lbfgs_bytes assumes a full history: 2 loops x history x (read
// s or y, read and write the direction) plus the dot products' reads.
Result<IterationWork> CountIterationWork(const BackboneSpec& spec, const std::vector<std::string>& content_layers,
                                         const std::vector<std::string>& style_layers, int height, int width,
                                         int lbfgs_history);

// Index in spec.layers of the deepest of `names`, or kInvalidArgument naming
// an unknown layer.
Result<int> DeepestLayerIndex(const BackboneSpec& spec, const std::vector<std::string>& names);

}  // namespace stylesweep
