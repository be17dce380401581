// device_memory.h for a LibTorch built without CUDA: nothing to measure.
#include "engine/device_memory.h"

namespace stylesweep {
namespace {

Status NoCuda() { return Status::Unavailable("this stylesweep was built with a CPU-only LibTorch"); }

}  // namespace

Status ResetPeakDeviceMemory(const std::string& device) {
  if (device == "cpu") return Status::Ok();
  if (device.rfind("cuda", 0) != 0) return Status::InvalidArgument("device '" + device + "' is not cpu or cuda[:N]");
  return NoCuda();
}

Result<std::int64_t> PeakDeviceMemory(const std::string& device) {
  if (device == "cpu") return Status::Unavailable("no allocator statistics for the CPU");
  return NoCuda();
}

Result<std::int64_t> SmallestCudaDeviceMemory() { return NoCuda(); }

}  // namespace stylesweep
