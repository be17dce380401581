#include "scheduler/worker_groups.h"

#include <map>
#include <string>

#include "engine/mpi_status.h"

namespace stylesweep {

Result<std::vector<std::vector<int>>> PlanWorkerGroups(const std::vector<int>& node_of_rank, int coordinator_rank,
                                                       int devices_per_job) {
  if (devices_per_job < 1) return Status::InvalidArgument("devices_per_job must be >= 1");
  // Worker ranks per node, in rank order; nodes in order of their first rank.
  std::vector<int> node_order;
  std::map<int, std::vector<int>> workers;
  std::map<int, int> first_rank;
  for (int rank = 0; rank < static_cast<int>(node_of_rank.size()); ++rank) {
    const int node = node_of_rank[rank];
    if (first_rank.emplace(node, rank).second) node_order.push_back(node);
    if (rank != coordinator_rank) workers[node].push_back(rank);
  }
  std::vector<std::vector<int>> groups;
  int total_workers = 0;
  for (int node : node_order) {
    const std::vector<int>& ranks = workers[node];
    total_workers += static_cast<int>(ranks.size());
    if (ranks.size() % devices_per_job != 0) {
      const bool coordinator_here = coordinator_rank >= 0 && coordinator_rank < static_cast<int>(node_of_rank.size()) &&
                                    node_of_rank[coordinator_rank] == node;
      const int fit = static_cast<int>((ranks.size() + devices_per_job - 1) / devices_per_job) * devices_per_job;
      return Status::InvalidArgument(
          "devices_per_job " + std::to_string(devices_per_job) + " runs each job on a group of " +
          std::to_string(devices_per_job) + " worker ranks of one node, but the node of rank " +
          std::to_string(first_rank[node]) + " has " + std::to_string(ranks.size()) + " worker rank(s)" +
          (coordinator_here ? " besides the coordinator (rank " + std::to_string(coordinator_rank) + ")" : "") +
          "; give each node a multiple of " + std::to_string(devices_per_job) + " worker ranks (here: " +
          std::to_string(fit) + (coordinator_here ? ", so mpiexec -n " + std::to_string(fit + 1) + " on one node" : "") +
          ")");
    }
    for (size_t start = 0; start < ranks.size(); start += devices_per_job) {
      groups.emplace_back(ranks.begin() + static_cast<std::ptrdiff_t>(start),
                          ranks.begin() + static_cast<std::ptrdiff_t>(start + devices_per_job));
    }
  }
  if (total_workers == 0) {
    return Status::InvalidArgument("devices_per_job " + std::to_string(devices_per_job) +
                                   " needs worker ranks besides the coordinator: mpiexec -n " +
                                   std::to_string(devices_per_job + 1) + " or more");
  }
  return groups;
}

Result<WorkerGroups> FormWorkerGroups(MPI_Comm world, int devices_per_job) {
  int rank = 0, size = 1;
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Comm_rank(world, &rank), "MPI_Comm_rank"));
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Comm_size(world, &size), "MPI_Comm_size"));
  // A node's id: the world rank of its first rank.
  MPI_Comm node = MPI_COMM_NULL;
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node),
                               "MPI_Comm_split_type"));
  int node_id = rank;
  const Status told = MpiStatus(MPI_Bcast(&node_id, 1, MPI_INT, 0, node), "MPI_Bcast of the node id");
  const Status freed = MpiStatus(MPI_Comm_free(&node), "MPI_Comm_free");
  SS_RETURN_IF_ERROR(told);
  SS_RETURN_IF_ERROR(freed);
  std::vector<int> node_of_rank(static_cast<size_t>(size));
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Allgather(&node_id, 1, MPI_INT, node_of_rank.data(), 1, MPI_INT, world),
                               "MPI_Allgather of the node ids"));

  // Every rank plans from the same table, so all agree on success or error.
  SS_ASSIGN_OR_RETURN(std::vector<std::vector<int>> groups, PlanWorkerGroups(node_of_rank, 0, devices_per_job));
  WorkerGroups result;
  int color = MPI_UNDEFINED, key = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    result.leaders.push_back(groups[g].front());
    for (size_t m = 0; m < groups[g].size(); ++m) {
      if (groups[g][m] == rank) {
        color = static_cast<int>(g);
        key = static_cast<int>(m);
      }
    }
  }
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Comm_split(world, color, key, &result.group), "MPI_Comm_split"));
  if (result.group != MPI_COMM_NULL) {
    SS_RETURN_IF_ERROR(MpiStatus(MPI_Comm_rank(result.group, &result.group_rank), "MPI_Comm_rank"));
  }
  return result;
}

}  // namespace stylesweep
