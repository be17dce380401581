// Where a process sits in an MPI launch, from the launcher's environment
// (common/mpi_launch.h): what the front executable decides `sweep` by before
// MPI_Init (rank 0 of several ranks stays in the front, every other process
// becomes the engine).
#include "common/mpi_launch.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace stylesweep {
namespace {

// The environment the fake lookup reads.
std::map<std::string, std::string>& FakeEnvironment() {
  static std::map<std::string, std::string> environment;
  return environment;
}

const char* FakeLookup(const char* name) {
  auto found = FakeEnvironment().find(name);
  return found == FakeEnvironment().end() ? nullptr : found->second.c_str();
}

MpiLaunch LaunchWith(const std::map<std::string, std::string>& environment) {
  FakeEnvironment() = environment;
  return MpiLaunchFromEnvironment(FakeLookup);
}

TEST(MpiLaunch, OpenMpiMpiexecSaysRankAndSize) {
  const MpiLaunch rank0 = LaunchWith({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "3"}, {"PMIX_RANK", "0"}});
  EXPECT_TRUE(rank0.under_mpi);
  EXPECT_EQ(rank0.rank, 0);
  EXPECT_EQ(rank0.size, 3);
  EXPECT_TRUE(IsCoordinatorOfSeveralRanks(rank0));
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(
      LaunchWith({{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "3"}, {"PMIX_RANK", "2"}})))
      << "a worker rank runs jobs";
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(LaunchWith({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "1"}})))
      << "mpiexec -n 1: the one rank runs every job";
}

TEST(MpiLaunch, SrunSaysTheRankThroughPmixOrPmiAndTheSizeThroughSlurm) {
  // srun --mpi=pmix: PMIX_RANK, and the step's task count from Slurm.
  const MpiLaunch pmix = LaunchWith(
      {{"PMIX_RANK", "0"}, {"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "5"}, {"SLURM_NTASKS", "5"}});
  EXPECT_EQ(pmix.rank, 0);
  EXPECT_EQ(pmix.size, 5);
  EXPECT_TRUE(IsCoordinatorOfSeveralRanks(pmix));
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(
      LaunchWith({{"PMIX_RANK", "4"}, {"SLURM_PROCID", "4"}, {"SLURM_STEP_NUM_TASKS", "5"}})));
  // srun --mpi=pmi2 (and MPICH's mpiexec): PMI_RANK and PMI_SIZE.
  EXPECT_TRUE(IsCoordinatorOfSeveralRanks(LaunchWith({{"PMI_RANK", "0"}, {"PMI_SIZE", "2"}})));
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(LaunchWith({{"PMI_RANK", "1"}, {"PMI_SIZE", "2"}})));
  // A step of one task inside a larger allocation: the step's count wins.
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(
      LaunchWith({{"PMIX_RANK", "0"}, {"SLURM_STEP_NUM_TASKS", "1"}, {"SLURM_NTASKS", "5"}})));
}

TEST(MpiLaunch, TheMpiLaunchersOwnVariablesComeBeforeSlurms) {
  // mpiexec inside a batch script: every rank inherits the script's SLURM_PROCID 0.
  const MpiLaunch launch = LaunchWith({{"OMPI_COMM_WORLD_RANK", "2"},
                                       {"OMPI_COMM_WORLD_SIZE", "3"},
                                       {"SLURM_PROCID", "0"},
                                       {"SLURM_NTASKS", "8"}});
  EXPECT_EQ(launch.rank, 2);
  EXPECT_EQ(launch.size, 3);
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(launch));
}

TEST(MpiLaunch, WithoutAnMpiLauncherOrWhenItDoesNotSayThereIsNoCoordinatorRank) {
  // A batch script that runs the program itself, without srun: Slurm's
  // variables alone do not make an MPI launch.
  const MpiLaunch script = LaunchWith({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}});
  EXPECT_FALSE(script.under_mpi);
  EXPECT_EQ(script.rank, -1);
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(script));
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(LaunchWith({})));
  // A PMIx launcher that says no size: the process may have to run jobs.
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(LaunchWith({{"PMIX_RANK", "0"}})));
  // Values that are not whole numbers are not believed.
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(LaunchWith({{"PMI_RANK", "0"}, {"PMI_SIZE", "two"}})));
  EXPECT_FALSE(IsCoordinatorOfSeveralRanks(LaunchWith({{"PMI_RANK", "-0x"}, {"PMI_SIZE", "2"}})));
}

}  // namespace
}  // namespace stylesweep
