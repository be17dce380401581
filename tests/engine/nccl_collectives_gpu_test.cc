// The CUDA path of the band split on a GPU machine (label gpu): NCCL
// collectives on one device, and a one-rank band-split run on cuda:0
// against StyleTransfer::Run on the CPU. Skipped with a message when CUDA or
// NCCL is absent (Debian's CPU-only LibTorch). Started by CTest under
// `mpiexec -n 1`.
#include <mpi.h>

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "common/shared_dir.h"
#include "engine/band_transfer.h"
#include "engine/image_io.h"
#if STYLESWEEP_HAVE_NCCL
#include "engine/nccl_collectives.h"
#endif

namespace stylesweep {
namespace {

void SkipWithoutNccl() {
  std::string reason;
  if (!CudaAvailable(&reason)) GTEST_SKIP() << "no CUDA: " << reason;
#if !STYLESWEEP_HAVE_NCCL
  GTEST_SKIP() << "built without NCCL";
#endif
}

TEST(NcclCollectives, AllReduceAndBroadcastOnOneRank) {
  SkipWithoutNccl();
  if (::testing::Test::IsSkipped()) return;
#if STYLESWEEP_HAVE_NCCL
  auto nccl = NcclCollectives::Create(MPI_COMM_WORLD, 0);
  ASSERT_TRUE(nccl.ok()) << nccl.status().ToString();
  int world = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  torch::Tensor ones = torch::ones({1000}, torch::TensorOptions().device(torch::kCUDA, 0));
  ASSERT_TRUE((*nccl)->AllReduceSum(ones).ok());
  ASSERT_TRUE((*nccl)->Barrier().ok());
  EXPECT_EQ(ones.sum().item<double>(), 1000.0 * world);
  torch::Tensor value = torch::full({7}, static_cast<double>((*nccl)->rank() + 5), torch::TensorOptions().device(torch::kCUDA, 0));
  ASSERT_TRUE((*nccl)->Broadcast(value, 0).ok());
  ASSERT_TRUE((*nccl)->Barrier().ok());
  EXPECT_EQ(value.min().item<double>(), 5.0);
  torch::Tensor on_cpu = torch::ones({3});
  EXPECT_EQ((*nccl)->AllReduceSum(on_cpu).code(), StatusCode::kInvalidArgument);
#endif
}

// GPU results within a stated tolerance of CPU ones: the loss of the first
// evaluation within 1e-4 relative (cuDNN's convolutions sum in other orders;
// TF32 is off by default).
TEST(BandSplitGpu, OneRankOnCudaMatchesTheCpuRun) {
  SkipWithoutNccl();
  if (::testing::Test::IsSkipped()) return;
  int world = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (world != 1) GTEST_SKIP() << "run with mpiexec -n 1";
  const std::string dir = std::filesystem::temp_directory_path() / "band_split_gpu_test";
  std::filesystem::create_directories(dir);
  Image content;
  content.width = 48;
  content.height = 128;
  content.pixels.resize(content.num_samples());
  for (size_t i = 0; i < content.pixels.size(); ++i) content.pixels[i] = 0.5f + 0.4f * std::sin(0.37f * i);
  Image style = content;
  for (size_t i = 0; i < style.pixels.size(); ++i) style.pixels[i] = 0.5f + 0.4f * std::cos(0.11f * i);
  ASSERT_TRUE(SavePng(content, dir + "/c.png").ok());
  ASSERT_TRUE(SavePng(style, dir + "/s.png").ok());
  StyleJob job;
  job.content_path = dir + "/c.png";
  job.style_paths = {dir + "/s.png"};
  job.options.backbone = "vgg19";
  job.options.size = 128;
  job.options.num_iterations = 3;
  BandSplitConfig config;
  config.devices = {"cuda:0"};
  config.models_dir = SharedModelsDir("");
  auto gpu = RunBandSplit(job, config);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  EngineConfig engine_config;
  engine_config.models_dir = config.models_dir;
  StyleTransfer engine(engine_config);
  auto cpu = engine.Run(job);
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  EXPECT_NEAR(gpu->history.front().total_loss / cpu->history.front().total_loss, 1.0, 1e-4);
}

}  // namespace
}  // namespace stylesweep
