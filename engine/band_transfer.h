// One style transfer of one image split into horizontal bands across ranks
// (one device per rank): for images too large for one device's memory.
// engine/band_objective.h describes the objective, engine/band_split.h the
// geometry, docs/BAND_SPLIT.md the correctness argument and tolerance.
//
// Torch-free header. RunBandSplit uses MPI_COMM_WORLD, BandSplitGroup a
// given communicator: the caller initialises MPI (MPI_THREAD_FUNNELED
// suffices) and finalises it afterwards; every rank calls with the same job.
// CPU devices talk through MPI, CUDA devices through NCCL (when built with it).
//
// Supported: optimizer lbfgs; init content, noise or style; coarse-to-fine
// scales; several style images with style_blend; preserve_colors; tv_weight.
// Other settings are refused with kInvalidArgument naming them.
//
// Failure: never throws, and every rank returns an error when any rank
// fails: failures all ranks see alike (bad settings, missing files, an image
// too short for the bands) directly; a file only some ranks cannot read, and
// a LibTorch failure in one rank's forward or backward pass (out of memory
// in its band), through an agreement on the ranks' status codes
// (band_objective.h AgreeOnStatus): the failed rank returns its own error,
// the others the same code naming it. Only a rank that dies or hangs
// outside LibTorch leaves the others waiting; MPI then ends the job.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <mpi.h>

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

// The ranks of one communicator running band-split jobs one after another
// (a sweep's worker group, scheduler/band_executor.h). The collectives are
// made on first use per device kind and kept, so a NCCL communicator is set
// up once, not per job; the last job's weights are kept too, and reused when
// every rank's next job names the same weights file (path, size and time),
// deepest layer and device.
//
// Collective: every rank of `comm` constructs the object, and calls Run with
// the same job in the same order; `comm` must outlive the object. Failures
// in reading the job's files are agreed on before any collective that could
// otherwise wait on a failed rank: every rank then returns an error (the
// failed rank its own message, the others one naming that rank). Other
// failures on one rank only leave the others waiting, as RunBandSplit.
// Threading: one thread at a time.
class BandSplitGroup {
 public:
  BandSplitGroup(MPI_Comm comm, std::string models_dir, int num_threads);
  ~BandSplitGroup();
  BandSplitGroup(const BandSplitGroup&) = delete;
  BandSplitGroup& operator=(const BandSplitGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // One band-split run of `job` on this rank's `device` ("cpu", "cuda:N";
  // every rank must pass the same kind).
  Result<TransferResult> Run(const StyleJob& job, const std::string& device, const RunCallbacks& callbacks = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace stylesweep
