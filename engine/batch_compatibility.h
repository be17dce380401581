// Which jobs may share one batch (StyleTransfer::RunBatch): plain string work
// on StyleOptions, torch-free, in engine_core (batch_compatibility.cc), so
// the sweep's coordinator and `stylesweep plan` group jobs without LibTorch.
#pragma once

#include <string>

#include "engine/style_options.h"

namespace stylesweep {

// The settings two jobs must share to run in one batch: backbone, weights,
// pooling, layers, size and stages, style scale, resize filter, optimiser
// (L-BFGS, with its history, tolerance and normalisation), device, tf32 and
// memory format. Jobs of one batch may differ in content and style images,
// style blend, content/style/tv weights, style layer weights, seed, init,
// colour preservation and snapshots. Adam jobs never batch.
std::string BatchCompatibilityKey(const StyleOptions& options);

}  // namespace stylesweep
