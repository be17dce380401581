// Worker groups: how a sweep with devices_per_job N > 1 arranges its MPI
// ranks. Rank 0 coordinates; the other ranks of each node form groups of N
// consecutive ranks. A group's first rank (its leader) is one worker to the
// coordinator; the other members follow the leader and run each of its jobs
// with it as one band split (scheduler/band_executor.h), one device per rank.
// Groups stay on one node, so NCCL can join a group's GPUs, unless the sweep
// sets bands_across_nodes (CPU bands only: their MPI collectives reach other
// hosts); then the ranks a node has left over after its whole groups are
// grouped with those of the next nodes.
#pragma once

#include <vector>

#include <mpi.h>

#include "common/status.h"

namespace stylesweep {

// The groups, from where each rank runs. `node_of_rank[r]` identifies rank
// r's node (equal values: the same node); `coordinator_rank` joins no group.
// Each node's worker ranks are grouped in rank order, nodes in order of their
// first rank. With `across_nodes` false every node needs a multiple of
// `devices_per_job` worker ranks; with it true each node first fills whole
// groups of its own and the ranks left over (fewer than devices_per_job per
// node) form groups across nodes, in node order, so only the total must be a
// multiple. Returns the groups' world ranks, leaders first: the one-node
// groups in order of their leaders, then the spanning ones. kInvalidArgument
// when the counts do not fit (naming every node that does not by its first
// rank, or the total, and what would fit, on all nodes together) or when
// there are no workers at all.
Result<std::vector<std::vector<int>>> PlanWorkerGroups(const std::vector<int>& node_of_rank, int coordinator_rank,
                                                       int devices_per_job, bool across_nodes);

// This rank's place in the groups.
struct WorkerGroups {
  std::vector<int> leaders;        // world ranks of the group leaders: the coordinator's workers, in order
  MPI_Comm group = MPI_COMM_NULL;  // this rank's group, rank 0 its leader; MPI_COMM_NULL on the coordinator.
                                   // The caller frees it (MPI_Comm_free) before MPI_Finalize.
  int group_rank = -1;             // rank within `group`; -1 on the coordinator
};

// Collective over `world` (rank 0 is the coordinator): finds each rank's node
// (MPI_Comm_split_type, MPI_COMM_TYPE_SHARED), plans the groups and splits
// `world` into them. Every rank returns the same PlanWorkerGroups error when
// the ranks cannot be grouped. `across_nodes`: the sweep's bands_across_nodes.
Result<WorkerGroups> FormWorkerGroups(MPI_Comm world, int devices_per_job, bool across_nodes);

}  // namespace stylesweep
