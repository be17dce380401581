// What every way of running a job shares before its optimisation starts:
// the device it names, its backbone, layers and weights resolved and
// checked, and LibTorch exceptions turned into a Status. Engine-internal
// (LibTorch); used by StyleTransfer (style_transfer.cc) and the band split
// (band_transfer.cc), so both accept and refuse the same jobs with the same
// messages.
#pragma once

#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/status.h"
#include "common/clock.h"
#include "engine/backbone_spec.h"
#include "engine/style_transfer.h"

namespace stylesweep {

// Reads the job's content image and its style images, in order. Errors name
// the file and whether it is the content or a style image.
Status LoadJobImages(const StyleJob& job, Image& content, std::vector<Image>& styles);

// The pixels a stage's optimisation starts from, at content_pixels' size
// ([1, 3, H, W], 0..255): in the first stage (stage_index 0) by `init` --
// "noise" uniform from LibTorch's current seed (drawn on the CPU, then moved
// to `device`, so every device starts alike), "style" the first style image
// resized, else a copy of the content; in later stages the previous stage's
// result resized.
torch::Tensor StartingPixels(const std::string& init, size_t stage_index, const torch::Tensor& content_pixels,
                             const torch::Tensor& first_style_pixels, const torch::Tensor& previous,
                             torch::Device device);

// A file's identity for caches: path, size and modification time.
std::string FileIdentity(const std::string& path);

// "cpu", "cuda" or "cuda:N" -> a device. kInvalidArgument for other text;
// kUnavailable when N is not a device, or when CUDA is asked for and absent
// (the message then ends with `no_cuda_hint`, e.g. "; use --device cpu").
Result<torch::Device> ParseDevice(const std::string& text, const std::string& no_cuda_hint = "");

// A job's backbone and layers resolved against its weights file, with the
// per-layer and per-style weights filled in (defaults: equal layer weights;
// blend weights normalised to sum to 1).
struct PreparedJob {
  BackboneSpec spec;
  WeightsInfo weights;
  ResolvedLayers layers;
  std::vector<double> layer_weights;  // one per style layer
  std::vector<double> blend;          // one per style image, summing to 1
};

// Checks the job's settings (ValidateStyleOptions), its style images and
// weights, and resolves its layers against the weights file (default files
// in `models_dir`). Errors name the setting or file.
Result<PreparedJob> PrepareJob(const StyleJob& job, const std::string& models_dir);

// A LibTorch (or std) exception as a Status: its first line (LibTorch adds a
// stack trace after it) behind `context`; out-of-memory becomes
// kOutOfMemory with `oom_hint` appended, anything else kInternal.
Status StatusFromException(const std::exception& error, const std::string& context, const std::string& oom_hint);

}  // namespace stylesweep
