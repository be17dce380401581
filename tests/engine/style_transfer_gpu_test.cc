// StyleTransfer on CUDA against the CPU, and the CUDA peak memory against the
// memory model. Without a CUDA device (this project's CI machine) every test
// skips and says why.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/shared_dir.h"
#include "engine/device_memory.h"
#include "engine/memory_estimate.h"
#include "engine/style_transfer.h"

namespace stylesweep {
namespace {

// Tubingen in the style of The Starry Night, from the shared images.
StyleJob TubingenStarryNight(const std::string& backbone, int size, int iterations) {
  StyleJob job;
  job.content_path = SharedImagesDir() + "/content/tubingen.jpg";
  job.style_paths = {SharedImagesDir() + "/style/starry_night.jpg"};
  job.options.backbone = backbone;
  job.options.size = size;
  job.options.num_iterations = iterations;
  return job;
}

// GPU: a 10-iteration run on CUDA matches the CPU run's loss (float32, TF32
// off) within relative 1e-4. Skips, saying why, without a CUDA device.
TEST(StyleTransferGpu, CudaMatchesCpu) {
  std::string reason;
  if (!CudaAvailable(&reason)) GTEST_SKIP() << "no CUDA: " << reason;
  StyleJob job = TubingenStarryNight("squeezenet1_0", 48, 10);
  job.options.tf32 = false;
  EngineConfig config;
  config.models_dir = SharedModelsDir();
  StyleTransfer engine(config);
  auto cpu_result = engine.Run(job);
  ASSERT_TRUE(cpu_result.ok()) << cpu_result.status().ToString();
  const TransferResult& cpu = *cpu_result;
  job.options.device = "cuda";
  auto gpu_result = engine.Run(job);
  ASSERT_TRUE(gpu_result.ok()) << gpu_result.status().ToString();
  const TransferResult& gpu = *gpu_result;
  ASSERT_EQ(cpu.history.size(), gpu.history.size());
  ASSERT_FALSE(cpu.history.empty());
  EXPECT_EQ(gpu.device.rfind("cuda", 0), 0u);
  for (size_t i = 0; i < cpu.history.size(); ++i) {
    EXPECT_NEAR(gpu.history[i].total_loss, cpu.history[i].total_loss, 1e-4 * std::fabs(cpu.history[i].total_loss))
        << "iteration " << i + 1;
  }
}

// GPU with TF32: matrix products and convolutions round their inputs to a
// 10-bit mantissa, so the losses drift further from the CPU's. Stated
// separately from the float32 check: within relative 1e-2 over 10 iterations.
TEST(StyleTransferGpu, Tf32StaysWithinOnePercentOfCpu) {
  std::string reason;
  if (!CudaAvailable(&reason)) GTEST_SKIP() << "no CUDA: " << reason;
  StyleJob job = TubingenStarryNight("squeezenet1_0", 64, 10);
  EngineConfig config;
  config.models_dir = SharedModelsDir();
  StyleTransfer engine(config);
  auto cpu = engine.Run(job);
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  job.options.device = "cuda";
  job.options.tf32 = true;
  auto gpu = engine.Run(job);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  ASSERT_EQ(cpu->history.size(), gpu->history.size());
  for (size_t i = 0; i < cpu->history.size(); ++i) {
    EXPECT_NEAR(gpu->history[i].total_loss, cpu->history[i].total_loss, 1e-2 * std::fabs(cpu->history[i].total_loss))
        << "iteration " << i + 1;
  }
}

// GPU: the caching allocator's peak for a real run lies between half the
// model's peak allocation and the model's device requirement (the peak plus
// its allocator headroom and CUDA-context allowance, which also covers cuDNN
// workspaces). VGG19 prefix and SqueezeNet at 256 and 512 px.
TEST(StyleTransferGpu, PeakMemoryAgreesWithTheEstimate) {
  std::string reason;
  if (!CudaAvailable(&reason)) GTEST_SKIP() << "no CUDA: " << reason;
  EngineConfig config;
  config.models_dir = SharedModelsDir();
  for (const char* backbone : {"squeezenet1_0", "vgg19"}) {
    for (int size : {256, 512}) {
      StyleTransfer engine(config);  // fresh: no cached targets from another size
      StyleJob job = TubingenStarryNight(backbone, size, 8);
      job.options.lbfgs_history = 4;  // full within the run, as the model assumes
      job.options.device = "cuda:0";
      ASSERT_TRUE(ResetPeakDeviceMemory("cuda:0").ok());
      auto result = engine.Run(job);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      auto peak = PeakDeviceMemory("cuda:0");
      ASSERT_TRUE(peak.ok()) << peak.status().ToString();
      auto estimate = EstimateRunMemory(job.options, 1024, 768, SharedModelsDir());  // tubingen.jpg is 1024 x 768
      ASSERT_TRUE(estimate.ok()) << estimate.status().ToString();
      SCOPED_TRACE(std::string(backbone) + " at " + std::to_string(size) + " px: measured " + FormatBytes(*peak) +
                   ", estimated peak " + FormatBytes(estimate->peak_allocated) + ", required " +
                   FormatBytes(estimate->device_required));
      EXPECT_GE(*peak, estimate->peak_allocated / 2);
      EXPECT_LE(*peak, estimate->device_required);
    }
  }
}

}  // namespace
}  // namespace stylesweep
