// Collectives over MPI for CPU tensors. Engine-internal: includes mpi.h and
// LibTorch, so only the band-split sources and their tests include it.
//
// The object works on its own duplicate of the communicator it is given, with
// MPI_ERRORS_RETURN set, so an MPI failure comes back as a kUnavailable
// Status naming the operation instead of aborting the job.
// MPI must be initialised before Create and finalised after destruction.
#pragma once

#include <memory>
#include <string>

#include <mpi.h>

#include "engine/collectives.h"
#include "engine/mpi_status.h"

namespace stylesweep {

class MpiCollectives final : public Collectives {
 public:
  // Collective over `comm`. Errors: kUnavailable when MPI is not initialised
  // or the duplicate cannot be made.
  static Result<std::unique_ptr<MpiCollectives>> Create(MPI_Comm comm);
  ~MpiCollectives() override;
  MpiCollectives(const MpiCollectives&) = delete;
  MpiCollectives& operator=(const MpiCollectives&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }

  // float32 and float64 CPU tensors (MPI_FLOAT / MPI_DOUBLE); other dtypes
  // and CUDA tensors are kInvalidArgument. AllReduceSum is MPI_Reduce to
  // rank 0 then MPI_Bcast, so every rank holds bitwise the same sum (the MPI
  // standard does not promise that of MPI_Allreduce).
  Status AllReduceSum(torch::Tensor& tensor) override;
  Status Broadcast(torch::Tensor& tensor, int root) override;
  Status Barrier() override;

 private:
  MpiCollectives(MPI_Comm comm, int rank, int size) : comm_(comm), rank_(rank), size_(size) {}
  MPI_Comm comm_;
  int rank_;
  int size_;
};

}  // namespace stylesweep
