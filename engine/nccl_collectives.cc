#include "engine/nccl_collectives.h"

#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <torch/torch.h>

#include "engine/mpi_collectives.h"

namespace stylesweep {
namespace {

Status NcclStatus(ncclResult_t code, const std::string& operation) {
  if (code == ncclSuccess) return Status::Ok();
  return Status::Unavailable(operation + " failed: " + ncclGetErrorString(code));
}

Status CudaStatus(cudaError_t code, const std::string& operation) {
  if (code == cudaSuccess) return Status::Ok();
  return Status::Unavailable(operation + " failed: " + cudaGetErrorString(code));
}

}  // namespace

struct NcclCollectives::State {
  MPI_Comm node_comm = MPI_COMM_NULL;
  ncclComm_t comm = nullptr;
  int rank = 0;
  int size = 1;
  c10::DeviceIndex device = 0;

  ~State() {
    if (comm != nullptr) ncclCommDestroy(comm);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && node_comm != MPI_COMM_NULL) MPI_Comm_free(&node_comm);
  }

  // The tensor's NCCL type; checks device and density first.
  Result<ncclDataType_t> TypeOf(const torch::Tensor& tensor, const std::string& operation) const {
    SS_RETURN_IF_ERROR(CheckDenseTensor(tensor, operation));
    if (!tensor.is_cuda() || tensor.get_device() != device) {
      return Status::InvalidArgument(operation + ": NCCL collectives carry tensors on cuda:" +
                                     std::to_string(device) + "; got one on " + tensor.device().str());
    }
    switch (tensor.scalar_type()) {
      case torch::kFloat32: return ncclFloat32;
      case torch::kFloat64: return ncclFloat64;
      case torch::kFloat16: return ncclFloat16;
      default:
        return Status::InvalidArgument(operation + ": NCCL collectives carry float32, float64 or float16 tensors, not " +
                                       std::string(c10::toString(tensor.scalar_type())));
    }
  }

  cudaStream_t Stream() const { return c10::cuda::getCurrentCUDAStream(device).stream(); }
};

Result<std::unique_ptr<NcclCollectives>> NcclCollectives::Create(MPI_Comm comm, int device_index) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) return Status::Unavailable("MPI is not initialised (start the program under mpiexec)");
  const int devices = static_cast<int>(c10::cuda::device_count());
  if (device_index < 0 || device_index >= devices) {
    return Status::Unavailable("cuda:" + std::to_string(device_index) + " does not exist: " +
                               std::to_string(devices) + " CUDA device(s) visible");
  }
  auto state = std::make_unique<State>();
  state->device = static_cast<c10::DeviceIndex>(device_index);
  int world_size = 1;
  MPI_Comm_size(comm, &world_size);
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &state->node_comm),
                               "MPI_Comm_split_type"));
  MPI_Comm_set_errhandler(state->node_comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(state->node_comm, &state->rank);
  MPI_Comm_size(state->node_comm, &state->size);
  // Every rank learns whether all ranks share one node before any NCCL call,
  // so a refusal is the same everywhere.
  int all_on_node = state->size == world_size ? 1 : 0;
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Allreduce(MPI_IN_PLACE, &all_on_node, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce"));
  if (!all_on_node) {
    return Status::InvalidArgument("an NCCL band split runs on the GPUs of one node; these " +
                                   std::to_string(world_size) + " ranks span several nodes");
  }

  ncclUniqueId id;
  if (state->rank == 0) SS_RETURN_IF_ERROR(NcclStatus(ncclGetUniqueId(&id), "ncclGetUniqueId"));
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, state->node_comm), "MPI_Bcast of the NCCL id"));
  c10::cuda::set_device(state->device);
  SS_RETURN_IF_ERROR(
      NcclStatus(ncclCommInitRank(&state->comm, state->size, id, state->rank), "ncclCommInitRank"));
  return std::unique_ptr<NcclCollectives>(new NcclCollectives(std::move(state)));
}

NcclCollectives::NcclCollectives(std::unique_ptr<State> state) : state_(std::move(state)) {}
NcclCollectives::~NcclCollectives() = default;

int NcclCollectives::rank() const { return state_->rank; }
int NcclCollectives::size() const { return state_->size; }

Status NcclCollectives::AllReduceSum(torch::Tensor& tensor) {
  SS_ASSIGN_OR_RETURN(ncclDataType_t type, state_->TypeOf(tensor, "ncclAllReduce"));
  return NcclStatus(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()), type,
                                  ncclSum, state_->comm, state_->Stream()),
                    "ncclAllReduce");
}

Status NcclCollectives::Broadcast(torch::Tensor& tensor, int root) {
  SS_ASSIGN_OR_RETURN(ncclDataType_t type, state_->TypeOf(tensor, "ncclBroadcast"));
  return NcclStatus(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()), type,
                                  root, state_->comm, state_->Stream()),
                    "ncclBroadcast");
}

Status NcclCollectives::Barrier() {
  SS_RETURN_IF_ERROR(CudaStatus(cudaStreamSynchronize(state_->Stream()), "cudaStreamSynchronize"));
  return MpiStatus(MPI_Barrier(state_->node_comm), "MPI_Barrier");
}

}  // namespace stylesweep
