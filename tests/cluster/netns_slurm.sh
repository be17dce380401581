# A Slurm cluster on the namespace nodes of netns_nodes.sh (source that
# first, then this): munged and slurmctld on nodeA, one slurmd per node with
# NodeName nodeA, nodeB, ... and NodeAddr its 10.77.0.x address. Every daemon
# runs inside a node's namespaces, so nodes_down ends them all; each node has
# its own /tmp (netns_nodes.sh), so srun's PMIx plugin, which keeps a folder
# per job step there, works across the nodes.
#
#   slurm_nodes_up DIR     # after nodes_up; exports SLURM_CONF
#   on_node nodeA sbatch ... / squeue ...   # the controller answers only there
#
# Needs Debian's slurm-wlm and munge (scripts/setup.sh). Returns non-zero
# with the daemons' logs on stderr when the cluster does not come up.

source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../scripts/slurm/slurm_common_conf.sh"

slurm_nodes_logs() {
  local f
  for f in "$1"/munge/munged.log "$1"/slurmctld.log "$1"/slurmd-*.log; do
    [[ -f $f ]] && { echo "---- $f (last 20 lines)" >&2; tail -n 20 "$f" >&2; }
  done
}

slurm_nodes_up() {
  local dir=$1 i
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
  chmod 700 "$dir/munge"
  /usr/sbin/mungekey --create --keyfile="$dir/munge/munge.key" --force || return 1
  chmod 600 "$dir/munge/munge.key"
  on_node nodeA /usr/sbin/munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" ||
    { slurm_nodes_logs "$dir"; return 1; }
  local cpus; cpus=$(nproc)
  {
    cat <<CONF
ClusterName=stylesweep-nodes
SlurmctldHost=nodeA($nodes_subnet.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd-%n.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd-%n.log
$(slurm_common_conf)
CONF
    for i in "${!nodes_names[@]}"; do
      echo "NodeName=${nodes_names[i]} NodeAddr=$nodes_subnet.$((i + 1)) CPUs=$cpus RealMemory=1000 State=UNKNOWN"
    done
    echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
  } >"$dir/slurm.conf"
  export SLURM_CONF=$dir/slurm.conf
  on_node nodeA /usr/sbin/slurmctld -f "$SLURM_CONF" -c || { slurm_nodes_logs "$dir"; return 1; }
  for i in "${!nodes_names[@]}"; do
    mkdir -p "$dir/spool/${nodes_names[i]}"
    on_node "${nodes_names[i]}" /usr/sbin/slurmd -f "$SLURM_CONF" -N "${nodes_names[i]}" ||
      { slurm_nodes_logs "$dir"; return 1; }
  done
  local idle=0
  for _ in $(seq 60); do
    idle=$(on_node nodeA sinfo --noheader --format='%t %D' 2>/dev/null | awk '$1 == "idle" {print $2}')
    [[ ${idle:-0} -eq ${#nodes_names[@]} ]] && return 0
    sleep 0.5
  done
  echo "netns_slurm: ${idle:-0} of ${#nodes_names[@]} nodes idle after 30 s" >&2
  slurm_nodes_logs "$dir"
  return 1
}
