# NCCL is used only when LibTorch was built with CUDA. Debian's LibTorch is
# CPU-only, so there the NCCL collectives are left out and the MPI ones serve.
set(STYLESWEEP_HAVE_CUDA OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES OR CUDA_FOUND)
  set(STYLESWEEP_HAVE_CUDA ON)
endif()
set(STYLESWEEP_HAVE_NCCL OFF)
if(STYLESWEEP_HAVE_CUDA)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS $ENV{NCCL_HOME}/include ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  # libnccl.so.2: the pip package nvidia-nccl-cu* ships no unversioned link.
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2
               HINTS $ENV{NCCL_HOME}/lib ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(STYLESWEEP_HAVE_NCCL ON)
    add_library(stylesweep_nccl INTERFACE)
    target_include_directories(stylesweep_nccl INTERFACE ${NCCL_INCLUDE_DIR})
    target_link_libraries(stylesweep_nccl INTERFACE ${NCCL_LIBRARY})
  endif()
endif()
message(STATUS "stylesweep: CUDA ${STYLESWEEP_HAVE_CUDA}, NCCL ${STYLESWEEP_HAVE_NCCL}")
