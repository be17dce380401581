// A program that prints one line and exits: built twice by bench/CMakeLists.txt,
// plain and linked with Open MPI (never initialised), so cli_startup_bench
// shows what mapping libmpi alone costs a process at start-up.
#include <cstdio>

#ifdef STARTUP_PROBE_WITH_MPI
#include <mpi.h>
#endif

int main(int argc, char** argv) {
#ifdef STARTUP_PROBE_WITH_MPI
  // Referenced so the linker keeps libmpi; never reached by the benchmark.
  if (argc > 1000) MPI_Init(&argc, &argv);
#else
  (void)argc;
  (void)argv;
#endif
  std::puts("ready");
  return 0;
}
