// Device memory as LibTorch's CUDA caching allocator sees it, behind a
// torch-free interface. Built from device_memory_cuda.cc when LibTorch has
// CUDA and from device_memory.cc otherwise (then every call says CUDA is
// unavailable), so no caller needs a build flag.
//
// Threading: the calls read or reset per-device counters of the process-wide
// allocator; callers serialise runs on one device (one StyleTransfer per
// device and thread).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace stylesweep {

// Resets the peak of allocated bytes on `device` ("cuda" or "cuda:N"; "cpu"
// is a no-op returning Ok). kUnavailable when CUDA is not available,
// kInvalidArgument for another device name.
Status ResetPeakDeviceMemory(const std::string& device);

// The most bytes allocated at once on `device` ("cuda[:N]") since the last
// reset (torch.cuda.max_memory_allocated). kUnavailable without CUDA or for
// "cpu" (LibTorch 1.13's CPU allocator keeps no statistics).
Result<std::int64_t> PeakDeviceMemory(const std::string& device);

// The total memory of the smallest visible CUDA device, in bytes.
// kUnavailable (saying why) without a CUDA device.
Result<std::int64_t> SmallestCudaDeviceMemory();

}  // namespace stylesweep
