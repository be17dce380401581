// StyleTransfer on CUDA against the CPU. Without a CUDA device (this
// project's CI machine) the test skips and says why.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/shared_dir.h"
#include "engine/style_transfer.h"

namespace stylesweep {
namespace {

// GPU: a 10-iteration run on CUDA matches the CPU run's loss (float32, TF32
// off) within relative 1e-4. Skips, saying why, without a CUDA device.
TEST(StyleTransferGpu, CudaMatchesCpu) {
  std::string reason;
  if (!CudaAvailable(&reason)) GTEST_SKIP() << "no CUDA: " << reason;
  StyleJob job;
  job.content_path = SharedImagesDir() + "/content/tubingen.jpg";
  job.style_paths = {SharedImagesDir() + "/style/starry_night.jpg"};
  job.options.backbone = "squeezenet1_0";
  job.options.size = 48;
  job.options.num_iterations = 10;
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

}  // namespace
}  // namespace stylesweep
