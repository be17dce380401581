# The C allocator of the programs that run the engine: tcmalloc (Debian's
# libtcmalloc-minimal4) when it is installed. glibc's malloc maps every
# block above 32 MiB afresh and unmaps it on free, so each L-BFGS evaluation
# at 512 px faulted its activations in again; tcmalloc keeps and reuses them
# (3x faster VGG19 runs at 512 px, with a smaller resident set;
# docs/BENCHMARKS.md). Without it, engine/host_allocator.cc tunes glibc
# instead at start-up.
# The run-time package's versioned name first: the unversioned link belongs
# to libgoogle-perftools-dev, which scripts/setup.sh does not install.
find_library(STYLESWEEP_TCMALLOC_LIBRARY NAMES libtcmalloc_minimal.so.4 tcmalloc_minimal)
option(STYLESWEEP_USE_TCMALLOC "Link the engine's programs with tcmalloc when it is found" ON)
if(STYLESWEEP_USE_TCMALLOC AND STYLESWEEP_TCMALLOC_LIBRARY)
  message(STATUS "stylesweep: host allocator tcmalloc (${STYLESWEEP_TCMALLOC_LIBRARY})")
else()
  message(STATUS "stylesweep: host allocator glibc malloc, tuned at start-up (install libtcmalloc-minimal4 for tcmalloc)")
endif()

# Links `target` with tcmalloc. No symbol of it is called by name, so the
# link must not be dropped as unneeded: malloc and free resolve to it
# because it comes before libc in the load order.
function(stylesweep_use_host_allocator target)
  if(STYLESWEEP_USE_TCMALLOC AND STYLESWEEP_TCMALLOC_LIBRARY)
    target_link_libraries(${target} PRIVATE
      "-Wl,--push-state,--no-as-needed" ${STYLESWEEP_TCMALLOC_LIBRARY} "-Wl,--pop-state")
  endif()
endfunction()
