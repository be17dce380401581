// device_memory.h for a LibTorch built with CUDA: the caching allocator's
// statistics (the same counters torch.cuda.max_memory_allocated reads) and
// the devices' properties. The calls used exist in LibTorch 1.13 and 2.x
// with compatible signatures (an int device in 1.13, c10::DeviceIndex in
// 2.x); the statistics' types moved in later 2.x releases (to
// c10::CachingDeviceAllocator, then c10::CachingAllocator), so this file
// names none of them.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <torch/cuda.h>

#include <algorithm>
#include <exception>

#include "engine/device_memory.h"

namespace stylesweep {
namespace {

// The CUDA device index of "cuda" (the current device) or "cuda:N".
Result<int> CudaIndex(const std::string& device) {
  if (device.rfind("cuda", 0) != 0) return Status::InvalidArgument("device '" + device + "' is not cpu or cuda[:N]");
  if (!torch::cuda::is_available()) return Status::Unavailable("no CUDA device is visible");
  int index = 0;
  if (device.size() > 5 && device[4] == ':') {
    try {
      index = std::stoi(device.substr(5));
    } catch (const std::exception&) {
      return Status::InvalidArgument("device '" + device + "' is not cuda:N");
    }
  } else if (device != "cuda") {
    return Status::InvalidArgument("device '" + device + "' is not cuda:N");
  } else {
    index = static_cast<int>(c10::cuda::current_device());
  }
  if (index < 0 || index >= static_cast<int>(c10::cuda::device_count())) {
    return Status::Unavailable("device " + device + " does not exist: " + std::to_string(c10::cuda::device_count()) +
                               " CUDA device(s)");
  }
  return index;
}

}  // namespace

Status ResetPeakDeviceMemory(const std::string& device) {
  if (device == "cpu") return Status::Ok();
  SS_ASSIGN_OR_RETURN(int index, CudaIndex(device));
  try {
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(index));
  } catch (const std::exception& error) {
    return Status::Internal(std::string("resetting CUDA memory statistics: ") + error.what());
  }
  return Status::Ok();
}

Result<std::int64_t> PeakDeviceMemory(const std::string& device) {
  if (device == "cpu") return Status::Unavailable("no allocator statistics for the CPU");
  SS_ASSIGN_OR_RETURN(int index, CudaIndex(device));
  try {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
    // [0] is StatType::AGGREGATE (all pools) in every version; the enum's
    // namespace differs between 1.13 and 2.x.
    return static_cast<std::int64_t>(stats.allocated_bytes[0].peak);
  } catch (const std::exception& error) {
    return Status::Internal(std::string("reading CUDA memory statistics: ") + error.what());
  }
}

Result<std::int64_t> SmallestCudaDeviceMemory() {
  if (!torch::cuda::is_available()) return Status::Unavailable("no CUDA device is visible");
  std::int64_t smallest = -1;
  try {
    const int count = static_cast<int>(c10::cuda::device_count());
    for (int i = 0; i < count; ++i) {
      const auto total = static_cast<std::int64_t>(at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(i))->totalGlobalMem);
      smallest = smallest < 0 ? total : std::min(smallest, total);
    }
  } catch (const std::exception& error) {
    return Status::Internal(std::string("reading CUDA device properties: ") + error.what());
  }
  if (smallest < 0) return Status::Unavailable("no CUDA device is visible");
  return smallest;
}

}  // namespace stylesweep
