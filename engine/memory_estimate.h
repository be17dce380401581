// How much device memory one style-transfer run needs, from the layer table
// and the run's settings alone (torch-free), so that `stylesweep plan` and
// `stylesweep sweep` can refuse a job before it runs out of memory.
//
// The model (float32 everywhere; the largest stage decides):
//   weights       every layer the weights file provides: the engine loads
//                 them all (backbone.cc), not only those up to the deepest.
//   activations   what autograd keeps from the forward pass until backward:
//                 the pixels and the network input; every ReLU output (ReLU
//                 saves its result, the next conv or pool saves it as input);
//                 every pool output and, for max pooling, its int64 indices;
//                 for fire modules the squeeze ReLU, both expand ReLUs and
//                 their concatenation; a conv's own output only when a loss
//                 reads it (otherwise ReLU replaces it and it is freed).
//   gradients     during backward the output gradient, the input gradient and
//                 one accumulation buffer of the largest layer: 3x it.
//   losses        content targets and (F - P) per content layer; per style
//                 layer the target Gram, the Gram and (G/M - A): 3 N^2.
//   optimizer     L-BFGS: 2 x history x 3HW (s and y), plus about twelve
//                 3HW working vectors (x, gradient, direction, step
//                 bookkeeping, the content image in two forms). Adam: six.
//   style pass    computing a style target (no autograd) holds two
//                 consecutive activations at the style size; it runs
//                 before the optimisation, so the peak is the larger of the
//                 two phases (weights and targets count in both).
//   batch         K jobs run as one batch: every term but the weights and
//                 the transient style pass K times.
//   peak_allocated = the sum above: comparable with CUDA's peak allocated
//                 bytes (torch.cuda.max_memory_allocated).
//   device_required = peak_allocated x kCudaHeadroom + kCudaContextBytes on
//                 CUDA: caching-allocator rounding and fragmentation, cuDNN
//                 workspaces and the CUDA context, which the allocator's
//                 statistics do not see (not yet calibrated on a GPU).
//                 CPU: peak_allocated x kCpuHeadroom, calibrated against the
//                 growth of the process's peak RSS from 32 px to 256/512 px,
//                 which was 1.25-1.8x the model's growth under glibc's
//                 default malloc and 1.25-1.43x with tcmalloc, the engine's
//                 allocator (the allocator keeps freed blocks; oneDNN
//                 reorders and scratch buffers; docs/BENCHMARKS.md,
//                 "Memory estimates").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/backbone_spec.h"
#include "engine/style_options.h"

namespace stylesweep {

inline constexpr double kCudaHeadroom = 1.25;                            // x peak_allocated on CUDA
inline constexpr double kCpuHeadroom = 2.0;                              // x peak_allocated on the CPU
inline constexpr std::int64_t kCudaContextBytes = 640LL * 1024 * 1024;  // CUDA context + cuDNN/cuBLAS handles

struct MemoryEstimateInput {
  int height = 0;               // px, the largest stage's image
  int width = 0;                // px
  int style_height = 0;         // px, the largest style image at that stage (0: as the content)
  int style_width = 0;          // px
  int loaded_layers = 0;        // layers whose weights the engine loads (the file's); 0: up to the deepest used
  std::vector<std::string> content_layers;  // resolved names
  std::vector<std::string> style_layers;    // resolved names
  std::string optimizer = "lbfgs";          // "lbfgs" or "adam"
  int lbfgs_history = 100;      // correction pairs
  bool cuda = false;            // add the CUDA context to device_required
  int bands = 1;                // the image split into this many horizontal bands, one per device
                                // (PlanBands in engine/band_split.h): activations for the tallest
                                // band with its halos; weights, Grams and the optimiser's vectors
                                // whole (replicated on every device)
  int batch = 1;                // jobs run together as one batch (StyleTransfer::RunBatch, --batch-jobs):
                                // the weights once; activations, gradients, losses, targets and the
                                // optimiser's vectors once per job. Not combined with bands.
};

struct MemoryEstimate {
  std::int64_t weights = 0;         // bytes
  std::int64_t activations = 0;     // saved for backward
  std::int64_t gradients = 0;       // backward working set
  std::int64_t losses = 0;          // targets, Grams, differences
  std::int64_t optimizer = 0;       // history and working vectors
  std::int64_t style_pass = 0;      // transient peak of a style-target forward pass
  std::int64_t peak_allocated = 0;  // max(optimisation phase, style phase)
  std::int64_t device_required = 0; // what must be free on the device
};

// The estimate for one run. Unknown layer names are kInvalidArgument.
Result<MemoryEstimate> EstimateMemory(const BackboneSpec& spec, const MemoryEstimateInput& input);

// The estimate for `options` (layers already resolved, or empty for the
// backbone's defaults) on a content image of content_width x content_height
// px: the largest stage's size comes from EffectiveStages, the style image
// is taken as square with side style_scale x stage size (an upper bound for
// any aspect), the weights file is inspected (its header only) in
// `models_dir` when options.weights is empty. `device` "cpu" or "cuda[:N]"
// decides the CUDA context term; empty: options.device. `bands` and `batch`
// as in MemoryEstimateInput (the per-device share of a band split; a batch
// of that many jobs like this one).
Result<MemoryEstimate> EstimateRunMemory(const StyleOptions& options, int content_width, int content_height,
                                         const std::string& models_dir, const std::string& device = "",
                                         int bands = 1, int batch = 1);

// EstimateRunMemory with the backbone, weights header and layers already
// resolved (ResolveBackbone for options' backbone, pooling, weights and
// layers): for callers that estimate many runs sharing one weights file.
Result<MemoryEstimate> EstimateRunMemory(const ResolvedBackbone& resolved, const StyleOptions& options,
                                         int content_width, int content_height, const std::string& device = "",
                                         int bands = 1, int batch = 1);

// "1.9 GiB", "640 MiB", "12 KiB", "512 B" (binary units, 2-3 significant digits).
std::string FormatBytes(std::int64_t bytes);

// Parses "80GiB", "80 GiB", "80G", "80GB" (GB = 1e9), "1.5TiB", "512MiB",
// "4096" (bytes). Case-insensitive units B, K/KB/KiB, M/MB/MiB, G/GB/GiB,
// T/TB/TiB; a bare K/M/G/T is binary. Zero, negative or malformed text is
// kInvalidArgument quoting it.
Result<std::int64_t> ParseByteSize(const std::string& text);

}  // namespace stylesweep
