#include "engine/tensor_image.h"

#include <torch/torch.h>

namespace stylesweep {

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
  const auto options = torch::TensorOptions().dtype(pixels.dtype()).device(pixels.device());
  torch::Tensor x = input.bgr ? pixels.flip({1}) : pixels;
  // x * (scale / 255) - mean, then / std: folded into one multiply-add per channel.
  std::vector<double> mul(3), add(3);
  for (int c = 0; c < 3; ++c) {
    mul[c] = input.scale / kPixelScale / input.std[c];
    add[c] = -input.mean[c] / input.std[c];
  }
  auto mul_t = torch::tensor(mul, options).view({1, 3, 1, 1});
  auto add_t = torch::tensor(add, options).view({1, 3, 1, 1});
  return torch::addcmul(add_t, x, mul_t);
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
