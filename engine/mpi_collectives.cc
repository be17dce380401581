#include "engine/mpi_collectives.h"

#include <climits>

#include <torch/torch.h>

namespace stylesweep {

namespace {

Result<MPI_Datatype> MpiTypeOf(const torch::Tensor& tensor, const std::string& operation) {
  SS_RETURN_IF_ERROR(CheckDenseTensor(tensor, operation));
  if (!tensor.device().is_cpu()) {
    return Status::InvalidArgument(operation + ": MPI collectives carry CPU tensors; got one on " +
                                   tensor.device().str() + " (use the NCCL collectives for CUDA)");
  }
  if (tensor.numel() > INT_MAX) {
    return Status::InvalidArgument(operation + ": " + std::to_string(tensor.numel()) +
                                   " elements is more than one MPI call carries");
  }
  switch (tensor.scalar_type()) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    default:
      return Status::InvalidArgument(operation + ": MPI collectives carry float32 or float64 tensors, not " +
                                     std::string(c10::toString(tensor.scalar_type())));
  }
}

}  // namespace

Result<std::unique_ptr<MpiCollectives>> MpiCollectives::Create(MPI_Comm comm) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) return Status::Unavailable("MPI is not initialised (start the program under mpiexec)");
  MPI_Comm own = MPI_COMM_NULL;
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Comm_dup(comm, &own), "MPI_Comm_dup"));
  MPI_Comm_set_errhandler(own, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(own, &rank);
  MPI_Comm_size(own, &size);
  return std::unique_ptr<MpiCollectives>(new MpiCollectives(own, rank, size));
}

MpiCollectives::~MpiCollectives() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

Status MpiCollectives::AllReduceSum(torch::Tensor& tensor) {
  SS_ASSIGN_OR_RETURN(MPI_Datatype type, MpiTypeOf(tensor, "MPI_Reduce"));
  const int count = static_cast<int>(tensor.numel());
  // Reduce to rank 0, then broadcast: the MPI standard does not promise that
  // MPI_Allreduce rounds alike on every rank, and ranks whose sums differ in
  // the last bit would let their L-BFGS states drift apart.
  void* sendbuf = rank_ == 0 ? MPI_IN_PLACE : tensor.data_ptr();
  void* recvbuf = rank_ == 0 ? tensor.data_ptr() : nullptr;
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Reduce(sendbuf, recvbuf, count, type, MPI_SUM, 0, comm_), "MPI_Reduce"));
  return MpiStatus(MPI_Bcast(tensor.data_ptr(), count, type, 0, comm_), "MPI_Bcast");
}

Status MpiCollectives::Broadcast(torch::Tensor& tensor, int root) {
  SS_ASSIGN_OR_RETURN(MPI_Datatype type, MpiTypeOf(tensor, "MPI_Bcast"));
  return MpiStatus(MPI_Bcast(tensor.data_ptr(), static_cast<int>(tensor.numel()), type, root, comm_), "MPI_Bcast");
}

Status MpiCollectives::Barrier() { return MpiStatus(MPI_Barrier(comm_), "MPI_Barrier"); }

}  // namespace stylesweep
