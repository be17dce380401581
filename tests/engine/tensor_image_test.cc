// PixelsToNetworkInput against its definition, (x * scale / 255 - mean) / std
// per channel after the channel flip, for conventions and dtypes that share
// one device: the constants it keeps per (device, dtype, convention) must
// never leak from one convention or dtype into another.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "engine/backbone_spec.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

InputConvention Caffe() { return InputConvention{}; }  // BGR, 0..255, minus the ImageNet mean

InputConvention Torchvision() {
  InputConvention input;
  input.bgr = false;
  input.scale = 1.0;
  input.mean = {0.485, 0.456, 0.406};
  input.std = {0.229, 0.224, 0.225};
  return input;
}

// The definition, in float64.
torch::Tensor Expected(const torch::Tensor& pixels, const InputConvention& input) {
  torch::Tensor x = (input.bgr ? pixels.flip({1}) : pixels).to(torch::kFloat64);
  std::vector<torch::Tensor> channels;
  for (int64_t c = 0; c < 3; ++c) {
    channels.push_back((x.select(1, c) * (input.scale / kPixelScale) - input.mean[c]) / input.std[c]);
  }
  return torch::stack(channels, 1);
}

double MaxRelativeError(const torch::Tensor& actual, const torch::Tensor& expected) {
  return ((actual.to(torch::kFloat64) - expected).abs().max() / expected.abs().max()).item<double>();
}

TEST(TensorImage, NetworkInputMatchesTheDefinitionAcrossConventionsAndDtypes) {
  torch::manual_seed(3);
  const torch::Tensor pixels = torch::rand({1, 3, 5, 4}, torch::kFloat64) * kPixelScale;
  // Alternating conventions and dtypes on the CPU: each call must use its own constants.
  for (int round = 0; round < 2; ++round) {
    for (const InputConvention& input : {Caffe(), Torchvision()}) {
      const torch::Tensor in64 = PixelsToNetworkInput(pixels, input);
      EXPECT_EQ(in64.scalar_type(), torch::kFloat64);
      EXPECT_LT(MaxRelativeError(in64, Expected(pixels, input)), 1e-14) << input.ToString();
      const torch::Tensor in32 = PixelsToNetworkInput(pixels.to(torch::kFloat32), input);
      EXPECT_EQ(in32.scalar_type(), torch::kFloat32);
      EXPECT_LT(MaxRelativeError(in32, Expected(pixels, input)), 1e-6) << input.ToString();
    }
  }
}

TEST(TensorImage, NetworkInputIsTheSameOnEveryCall) {
  const torch::Tensor pixels = torch::rand({1, 3, 6, 6}) * kPixelScale;
  const torch::Tensor first = PixelsToNetworkInput(pixels, Torchvision());
  PixelsToNetworkInput(pixels, Caffe());
  EXPECT_TRUE(torch::equal(PixelsToNetworkInput(pixels, Torchvision()), first));
}

// The gradient with respect to the pixels is scale / 255 / std per channel
// (in the network's channel order), also when the convention was first used
// under InferenceMode (the kept constants must be normal tensors that
// autograd can save).
TEST(TensorImage, NetworkInputGradientAfterFirstUseUnderInferenceMode) {
  InputConvention input = Torchvision();
  input.std = {0.25, 0.5, 0.125};  // a convention no other test uses, so this is its first use
  {
    c10::InferenceMode inference;
    PixelsToNetworkInput(torch::rand({1, 3, 2, 2}) * kPixelScale, input);
  }
  torch::Tensor leaf = (torch::rand({1, 3, 3, 3}) * kPixelScale).requires_grad_(true);
  PixelsToNetworkInput(leaf, input).sum().backward();
  for (int64_t c = 0; c < 3; ++c) {
    const double expected = input.scale / kPixelScale / input.std[c];
    EXPECT_NEAR(leaf.grad().select(1, c).min().item<double>(), expected, 1e-7 * expected);
    EXPECT_NEAR(leaf.grad().select(1, c).max().item<double>(), expected, 1e-7 * expected);
  }
}

}  // namespace
}  // namespace stylesweep
