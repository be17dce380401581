#include "scheduler/worker_groups.h"

#include <map>
#include <string>

#include "engine/mpi_status.h"

namespace stylesweep {

namespace {

// The worker ranks of each node, in rank order; nodes in order of their first rank.
struct NodeWorkers {
  int first_rank = 0;        // the node's first world rank, which names it in messages
  bool coordinator = false;  // the coordinator runs here
  std::vector<int> ranks;    // its worker ranks
};

std::vector<NodeWorkers> WorkersByNode(const std::vector<int>& node_of_rank, int coordinator_rank) {
  std::vector<NodeWorkers> nodes;
  std::map<int, size_t> index_of_node;
  for (int rank = 0; rank < static_cast<int>(node_of_rank.size()); ++rank) {
    auto [it, added] = index_of_node.emplace(node_of_rank[rank], nodes.size());
    if (added) nodes.push_back(NodeWorkers{rank, false, {}});
    NodeWorkers& node = nodes[it->second];
    if (rank == coordinator_rank) node.coordinator = true;
    else node.ranks.push_back(rank);
  }
  return nodes;
}

// Cuts the first `count` of `ranks` (a multiple of n) into groups of n, in order.
void AppendGroups(const std::vector<int>& ranks, size_t count, int n, std::vector<std::vector<int>>& groups) {
  for (size_t start = 0; start < count; start += n) {
    groups.emplace_back(ranks.begin() + static_cast<std::ptrdiff_t>(start),
                        ranks.begin() + static_cast<std::ptrdiff_t>(start + n));
  }
}

// The fewest worker ranks at or above `count` that fill whole groups of n.
size_t RoundUpToGroups(size_t count, int n) { return (count + n - 1) / n * n; }

// "a", "a and b", "a, b and c".
std::string JoinAnd(const std::vector<std::string>& items) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) text += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return text;
}

// Without bands_across_nodes: every node whose worker count is not a
// multiple of n, with the counts that would fit and the ranks they add up to.
Status NodesDoNotFit(const std::vector<NodeWorkers>& nodes, int n, int coordinator_rank) {
  const std::string count = std::to_string(n);
  std::vector<std::string> found, fits;
  size_t total_ranks = 0;  // every node's fitting worker count, plus the coordinator
  for (const NodeWorkers& node : nodes) {
    const size_t fit = RoundUpToGroups(node.ranks.size(), n);
    total_ranks += fit + (node.coordinator ? 1 : 0);
    if (fit == node.ranks.size()) continue;
    found.push_back("the node of rank " + std::to_string(node.first_rank) + " has " + std::to_string(node.ranks.size()) +
                    " worker rank(s)" +
                    (node.coordinator ? " besides the coordinator (rank " + std::to_string(coordinator_rank) + ")" : ""));
    fits.push_back(std::to_string(fit) + (nodes.size() > 1 ? " on the node of rank " + std::to_string(node.first_rank) : ""));
  }
  const std::string launch =
      nodes.size() == 1 ? "so mpiexec -n " + std::to_string(total_ranks) + " on one node"
                        : "so " + std::to_string(total_ranks) + " ranks in all on the " + std::to_string(nodes.size()) +
                              " nodes, the coordinator included";
  return Status::InvalidArgument("devices_per_job " + count + " runs each job on a group of " + count +
                                 " worker ranks of one node, but " + JoinAnd(found) + "; give each node a multiple of " +
                                 count + " worker ranks (here: " + JoinAnd(fits) + ", " + launch +
                                 "), or set bands_across_nodes: true (CPU sweeps) to let a group span nodes");
}

}  // namespace

Result<std::vector<std::vector<int>>> PlanWorkerGroups(const std::vector<int>& node_of_rank, int coordinator_rank,
                                                       int devices_per_job, bool across_nodes) {
  const int n = devices_per_job;
  if (n < 1) return Status::InvalidArgument("devices_per_job must be >= 1");
  std::vector<std::vector<int>> groups;
  std::vector<int> left_over;  // with across_nodes: the ranks no whole one-node group took, in node order
  size_t total_workers = 0;
  const std::vector<NodeWorkers> nodes = WorkersByNode(node_of_rank, coordinator_rank);
  for (const NodeWorkers& node : nodes) {
    total_workers += node.ranks.size();
    const size_t whole = node.ranks.size() / n * n;
    if (whole != node.ranks.size() && !across_nodes) return NodesDoNotFit(nodes, n, coordinator_rank);
    AppendGroups(node.ranks, whole, n, groups);
    left_over.insert(left_over.end(), node.ranks.begin() + static_cast<std::ptrdiff_t>(whole), node.ranks.end());
  }
  if (total_workers == 0) {
    return Status::InvalidArgument("devices_per_job " + std::to_string(n) +
                                   " needs worker ranks besides the coordinator: mpiexec -n " +
                                   std::to_string(n + 1) + " or more");
  }
  if (left_over.size() % n != 0) {
    const size_t fit = RoundUpToGroups(total_workers, n);
    return Status::InvalidArgument(
        "devices_per_job " + std::to_string(n) + " with bands_across_nodes runs each job on a group of " +
        std::to_string(n) + " worker ranks, but there are " + std::to_string(total_workers) +
        " worker rank(s) besides the coordinator; give them a multiple of " + std::to_string(n) + " (here: " +
        std::to_string(fit) + ", so mpiexec -n " + std::to_string(fit + 1) + ")");
  }
  AppendGroups(left_over, left_over.size(), n, groups);
  return groups;
}

Result<WorkerGroups> FormWorkerGroups(MPI_Comm world, int devices_per_job, bool across_nodes) {
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
  SS_ASSIGN_OR_RETURN(std::vector<std::vector<int>> groups, PlanWorkerGroups(node_of_rank, 0, devices_per_job, across_nodes));
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
