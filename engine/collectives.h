// Collectives: the few operations the band-split run needs across ranks,
// behind one interface. Engine-internal (LibTorch tensors).
//
// Implementations: LocalCollectives (one process: every operation is the
// identity), MpiCollectives (engine/mpi_collectives.h, CPU tensors) and
// NcclCollectives (engine/nccl_collectives.h, CUDA tensors, built only when
// LibTorch has CUDA and NCCL is found).
//
// Every method is collective: all ranks call it in the same order with
// tensors of the same shape, dtype and device kind. Tensors must be dense
// (contiguous or channels-last contiguous). Failures (an MPI or NCCL error, a
// tensor the implementation cannot carry) come back as a Status; a rank that
// stops calling leaves the others waiting, so callers agree on failures
// before the next collective (AgreeOnStatus in band_objective.h).
// Threading: one thread at a time per object.
#pragma once

#include <string>

#include <torch/types.h>

#include "common/status.h"

namespace stylesweep {

class Collectives {
 public:
  virtual ~Collectives() = default;

  // This process's rank in [0, size()).
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "mpi", "nccl" or "local", for messages and results.
  virtual std::string name() const = 0;

  // tensor <- the element-wise sum of every rank's tensor, in place, bitwise
  // the same on every rank (the band split's L-BFGS relies on it).
  virtual Status AllReduceSum(torch::Tensor& tensor) = 0;
  // tensor <- root's tensor, in place, on every rank.
  virtual Status Broadcast(torch::Tensor& tensor, int root) = 0;
  // Returns once every rank has called it.
  virtual Status Barrier() = 0;
};

// One rank: sums and broadcasts leave tensors as they are.
class LocalCollectives final : public Collectives {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "local"; }
  Status AllReduceSum(torch::Tensor&) override { return Status::Ok(); }
  Status Broadcast(torch::Tensor&, int) override { return Status::Ok(); }
  Status Barrier() override { return Status::Ok(); }
};

// A tensor the collectives can carry as one buffer: defined and dense.
// kInvalidArgument naming `what` otherwise.
Status CheckDenseTensor(const torch::Tensor& tensor, const std::string& what);

}  // namespace stylesweep
