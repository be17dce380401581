// Collectives over NCCL for CUDA tensors, bootstrapped over MPI the way
// nccl-tests does it. Engine-internal; compiled only when LibTorch has CUDA
// and NCCL is found (STYLESWEEP_HAVE_NCCL), and syntax-checked against the
// CUDA and c10/cuda headers otherwise (the nccl_collectives_syntax test).
//
// The ranks of one node form the NCCL communicator: MPI_Comm_split_type
// (MPI_COMM_TYPE_SHARED) finds them, the node's rank 0 calls
// ncclGetUniqueId, MPI_Bcast hands the id out, every rank calls
// ncclCommInitRank. Operations run on LibTorch's current CUDA stream of the
// rank's device, so they order with the kernels that made the tensors;
// Barrier additionally waits for that stream.
#pragma once

#include <memory>

#include <mpi.h>

#include "engine/collectives.h"

namespace stylesweep {

class NcclCollectives final : public Collectives {
 public:
  // Collective over `comm`, whose ranks must all be on one node (a band
  // split across nodes is kInvalidArgument). `device_index` is this rank's
  // CUDA device. Errors: kUnavailable (no such device, NCCL or MPI failure).
  static Result<std::unique_ptr<NcclCollectives>> Create(MPI_Comm comm, int device_index);
  ~NcclCollectives() override;
  NcclCollectives(const NcclCollectives&) = delete;
  NcclCollectives& operator=(const NcclCollectives&) = delete;

  int rank() const override;
  int size() const override;
  std::string name() const override { return "nccl"; }

  // float32, float64 and float16 tensors on this rank's CUDA device.
  Status AllReduceSum(torch::Tensor& tensor) override;
  Status Broadcast(torch::Tensor& tensor, int root) override;
  Status Barrier() override;

 private:
  struct State;
  explicit NcclCollectives(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace stylesweep
