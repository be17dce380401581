#include "engine/collectives.h"

#include <torch/torch.h>

namespace stylesweep {

Status CheckDenseTensor(const torch::Tensor& tensor, const std::string& what) {
  if (!tensor.defined()) return Status::InvalidArgument(what + ": the tensor is undefined");
  if (!tensor.is_contiguous() && !tensor.is_contiguous(torch::MemoryFormat::ChannelsLast)) {
    return Status::InvalidArgument(what + ": the tensor is not dense (make it contiguous first)");
  }
  return Status::Ok();
}

}  // namespace stylesweep
