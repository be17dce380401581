// Precompiled header for the LibTorch translation units of engine/ (and the
// engine tests and benchmarks, which reuse it). Parsing torch/torch.h costs
// most of a LibTorch file's compile time; doing it once saves minutes on CI.
#pragma once
#include <torch/torch.h>
