#include "engine/tensor_image.h"

#include <torch/torch.h>

#include <array>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace stylesweep {
namespace {

// x * mul + add per channel, [1, 3, 1, 1] each: x * (scale / 255) - mean,
// then / std, folded into one multiply-add.
struct NormalizationConstants {
  torch::Tensor mul;
  torch::Tensor add;
};

// What the constants depend on: the convention's numbers and where they live.
using NormalizationKey = std::tuple<c10::DeviceType, c10::DeviceIndex, c10::ScalarType, double,
                                    std::array<double, 3>, std::array<double, 3>>;

// The constants for `input` as tensors of `dtype` on `device`, made once per
// key and shared afterwards, so that a loss evaluation on CUDA does not copy
// them from the host (a small copy and a stream synchronisation) every time.
// The tensors are never written to, and are made as normal tensors even
// under InferenceMode so that autograd may save them. Thread-safe. The cache
// is never destroyed (CUDA tensors must not be freed by static destructors
// after the CUDA runtime has shut down); it holds one entry per (device,
// dtype, convention) used, a handful in a process.
NormalizationConstants NormalizationFor(const InputConvention& input, const torch::Device& device,
                                        torch::ScalarType dtype) {
  static std::mutex& mutex = *new std::mutex;
  static auto& cache = *new std::map<NormalizationKey, NormalizationConstants>;
  const NormalizationKey key{device.type(), device.index(), dtype, input.scale, input.mean, input.std};
  std::lock_guard<std::mutex> lock(mutex);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  std::vector<double> mul(3), add(3);
  for (int c = 0; c < 3; ++c) {
    mul[c] = input.scale / kPixelScale / input.std[c];
    add[c] = -input.mean[c] / input.std[c];
  }
  const auto options = torch::TensorOptions().dtype(dtype).device(device);
  c10::InferenceMode normal_tensors(false);
  NormalizationConstants constants{torch::tensor(mul, options).view({1, 3, 1, 1}),
                                   torch::tensor(add, options).view({1, 3, 1, 1})};
  cache.emplace(key, constants);
  return constants;
}

}  // namespace

torch::Tensor ImageToPixels(const Image& image) {
  auto hwc = torch::from_blob(const_cast<float*>(image.pixels.data()),
                              {image.height, image.width, image.channels}, torch::kFloat32);
  return hwc.permute({2, 0, 1}).unsqueeze(0).mul(kPixelScale).contiguous();
}

Image PixelsToImage(const torch::Tensor& pixels) {
  auto hwc = pixels.detach()
                 .to(torch::kCPU, torch::kFloat32)
                 .squeeze(0)
                 .div(kPixelScale)
                 .clamp(0.0, 1.0)
                 .permute({1, 2, 0})
                 .contiguous();
  Image image;
  image.height = static_cast<int>(hwc.size(0));
  image.width = static_cast<int>(hwc.size(1));
  image.channels = static_cast<int>(hwc.size(2));
  const float* data = hwc.data_ptr<float>();
  image.pixels.assign(data, data + hwc.numel());
  return image;
}

torch::Tensor PixelsToNetworkInput(const torch::Tensor& pixels, const InputConvention& input) {
  const NormalizationConstants constants = NormalizationFor(input, pixels.device(), pixels.scalar_type());
  torch::Tensor x = input.bgr ? pixels.flip({1}) : pixels;
  return torch::addcmul(constants.add, x, constants.mul);
}

torch::Tensor ResizePixels(const torch::Tensor& pixels, int height, int width) {
  namespace F = torch::nn::functional;
  return F::interpolate(pixels, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{height, width})
                                    .mode(torch::kBicubic)
                                    .align_corners(false)
                                    .antialias(true));
}

}  // namespace stylesweep
