// main() of the engine's Google Benchmark programs: the host allocator is set
// up as the stylesweep binary sets it (engine/host_allocator.h) and named in
// the output's context.
#pragma once

#include <benchmark/benchmark.h>

#include "engine/host_allocator.h"

namespace stylesweep {

inline int RunEngineBenchmarks(int argc, char** argv) {
  benchmark::AddCustomContext("host_allocator", ConfigureHostAllocator().description);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace stylesweep
