#include "engine/job_setup.h"

#include <filesystem>

#include <torch/torch.h>

#include "common/text.h"
#include "engine/image_io.h"
#include "engine/tensor_image.h"

namespace stylesweep {

Status LoadJobImages(const StyleJob& job, Image& content, std::vector<Image>& styles) {
  auto content_image = LoadImage(job.content_path);
  if (!content_image.ok()) return content_image.status().WithContext("content image");
  content = std::move(content_image).value();
  styles.clear();
  for (const auto& path : job.style_paths) {
    auto style = LoadImage(path);
    if (!style.ok()) return style.status().WithContext("style image");
    styles.push_back(std::move(style).value());
  }
  return Status::Ok();
}

torch::Tensor StartingPixels(const std::string& init, size_t stage_index, const torch::Tensor& content_pixels,
                             const torch::Tensor& first_style_pixels, const torch::Tensor& previous,
                             torch::Device device) {
  const int height = static_cast<int>(content_pixels.size(2)), width = static_cast<int>(content_pixels.size(3));
  if (stage_index > 0) return ResizePixels(previous, height, width);
  if (init == "noise") {
    return torch::rand({1, 3, height, width}, torch::TensorOptions().dtype(torch::kFloat32)).mul(kPixelScale).to(device);
  }
  if (init == "style") return ResizePixels(first_style_pixels, height, width).clamp(0, kPixelScale);
  return content_pixels.clone();
}

std::string FileIdentity(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  const auto time = std::filesystem::last_write_time(path, error).time_since_epoch().count();
  return path + "@" + std::to_string(size) + "@" + std::to_string(time);
}

Result<torch::Device> ParseDevice(const std::string& text, const std::string& no_cuda_hint) {
  if (text == "cpu") return torch::Device(torch::kCPU);
  const bool digits_follow = text.size() > 5 && text.rfind("cuda:", 0) == 0 &&
                             text.find_first_not_of("0123456789", 5) == std::string::npos;
  if (text != "cuda" && !digits_follow) {
    return Status::InvalidArgument("device '" + text + "' is not cpu, cuda or cuda:N");
  }
  std::string reason;
  if (!CudaAvailable(&reason)) {
    return Status::Unavailable("device " + text + " was asked for, but " + reason + no_cuda_hint);
  }
  const int index = text == "cuda" ? 0 : std::atoi(text.c_str() + 5);
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    return Status::Unavailable("device " + text + " does not exist: " + std::to_string(count) + " CUDA device(s)");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

Result<PreparedJob> PrepareJob(const StyleJob& job, const std::string& models_dir) {
  const StyleOptions& o = job.options;
  SS_RETURN_IF_ERROR(ValidateStyleOptions(o));
  if (job.style_paths.empty()) return Status::InvalidArgument("no style image given");
  if (!o.style_blend.empty() && o.style_blend.size() != job.style_paths.size()) {
    return Status::InvalidArgument("style_blend has " + std::to_string(o.style_blend.size()) + " weights for " +
                                   std::to_string(job.style_paths.size()) + " style images");
  }
  PreparedJob prepared;
  SS_ASSIGN_OR_RETURN(ResolvedBackbone resolved, ResolveBackbone(o.backbone, o.pooling, o.weights, models_dir,
                                                                 o.content_layers, o.style_layers));
  prepared.spec = std::move(resolved.spec);
  prepared.weights = std::move(resolved.weights);
  prepared.layers = std::move(resolved.layers);
  const size_t num_style_layers = prepared.layers.style_layers.size();
  if (!o.style_layer_weights.empty() && o.style_layer_weights.size() != num_style_layers) {
    return Status::InvalidArgument("style_layer_weights has " + std::to_string(o.style_layer_weights.size()) +
                                   " values for " + std::to_string(num_style_layers) + " style layers (" +
                                   JoinStrings(prepared.layers.style_layers) + ")");
  }
  prepared.layer_weights = o.style_layer_weights;
  if (prepared.layer_weights.empty()) prepared.layer_weights.assign(num_style_layers, 1.0 / num_style_layers);
  prepared.blend = o.style_blend;
  if (prepared.blend.empty()) prepared.blend.assign(job.style_paths.size(), 1.0);
  double blend_sum = 0;
  for (double b : prepared.blend) blend_sum += b;
  if (!(blend_sum > 0)) return Status::InvalidArgument("style_blend weights sum to zero");
  for (double& b : prepared.blend) b /= blend_sum;
  return prepared;
}

Status StatusFromException(const std::exception& error, const std::string& context, const std::string& oom_hint) {
  std::string message = error.what();
  const auto newline = message.find('\n');
  if (newline != std::string::npos) message = message.substr(0, newline);
  if (message.find("out of memory") != std::string::npos || message.find("OutOfMemory") != std::string::npos ||
      message.find("not enough memory") != std::string::npos) {
    return Status::OutOfMemory(context + ": " + message + " " + oom_hint);
  }
  return Status::Internal(context + ": " + message);
}

}  // namespace stylesweep
