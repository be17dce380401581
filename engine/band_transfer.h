// One style transfer of one image split into horizontal bands across ranks
// (one device per rank): for images too large for one device's memory.
// engine/band_objective.h describes the objective, engine/band_split.h the
// geometry, docs/BAND_SPLIT.md the correctness argument and tolerance.
//
// Torch-free header. The run uses MPI_COMM_WORLD: the caller initialises MPI
// (MPI_THREAD_FUNNELED suffices) and finalises it afterwards; every rank
// calls RunBandSplit with the same job and config. CPU devices talk through
// MPI, CUDA devices through NCCL (when built with it).
//
// Supported: optimizer lbfgs; init content, noise or style; coarse-to-fine
// scales; several style images with style_blend; preserve_colors; tv_weight.
// Other settings are refused with kInvalidArgument naming them.
//
// Failure: never throws. Failures every rank sees alike (bad settings,
// missing files, an image too short for the bands) come back on every rank.
// A failure on one rank only leaves the others waiting in a collective, so
// callers should end the MPI job (MPI_Abort) when a rank returns an error
// while others may still run.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "engine/style_transfer.h"

namespace stylesweep {

class Collectives;

struct BandSplitConfig {
  std::vector<std::string> devices;  // one per rank, e.g. {"cpu", "cpu"} or {"cuda:0", "cuda:1"}; rank r uses devices[r]
  std::string models_dir;            // where default weights files are looked up
  int num_threads = 0;               // CPU intra-op threads per rank; 0: LibTorch's default
};

// Collective over MPI_COMM_WORLD (or a single process without MPI when
// config.devices has one entry). The number of ranks must equal
// config.devices.size(); otherwise kInvalidArgument with the mpiexec command
// line to use. Every rank returns the same result (the image is checked to
// be identical on every rank at the end; kInternal if not); callbacks run
// on every rank.
Result<TransferResult> RunBandSplit(const StyleJob& job, const BandSplitConfig& config,
                                    const RunCallbacks& callbacks = {});

// The same run over given collectives (tests, benchmarks); `device` is this
// rank's device ("cpu", "cuda:N"). Collective over `collectives`.
Result<TransferResult> RunBandSplitWith(const StyleJob& job, const BandSplitConfig& config,
                                        Collectives& collectives, const std::string& device,
                                        const RunCallbacks& callbacks = {});

}  // namespace stylesweep
