#!/usr/bin/env bash
# A throwaway one-node Slurm cluster on this machine, for tests and trials:
# munged, slurmctld and slurmd run as plain daemons (no systemd, no cgroups)
# with every file under one folder.
#
#   scripts/slurm/one_node_cluster.sh start DIR   # prints `export SLURM_CONF=...`
#   scripts/slurm/one_node_cluster.sh stop DIR
#   scripts/slurm/one_node_cluster.sh status DIR
#
# start writes DIR/slurm.conf (one node named after this host with nproc CPUs,
# partition "debug", proctrack/linuxproc, task/none, select/cons_tres), a
# munge key, starts the daemons and waits until the node is idle. It needs
# root (slurmd starts jobs as their users) and Debian's slurm-wlm and munge
# (scripts/setup.sh installs them). Exit codes: 0 ready, 1 it could not start
# (the daemons' logs are printed), 2 usage, 3 Slurm or munge not installed.
#
# Environment: SLURMCTLD_PORT (default 6817), SLURMD_PORT (default 6818).
# A requeued job may start again after cred_expire (10 s here; Slurm's
# default is 120 s).
set -uo pipefail
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/slurm_common_conf.sh"

usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd) || { echo "cannot create $2" >&2; exit 1; }
conf=$dir/slurm.conf
host=$(hostname -s)

stop_pidfile() {  # stop_pidfile NAME PIDFILE: SIGTERM, then SIGKILL after 10 s
  local name=$1 pidfile=$2 pid
  [[ -s $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name (pid $pid) did not stop in 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$pidfile"
}

do_stop() {
  if [[ -f $conf ]]; then
    SLURM_CONF=$conf timeout 10 scancel --full --quiet --state=RUNNING,PENDING --user="$(id -un)" 2>/dev/null
  fi
  stop_pidfile slurmd "$dir/slurmd.pid"
  stop_pidfile slurmctld "$dir/slurmctld.pid"
  stop_pidfile munged "$dir/munge/munged.pid"
}

show_logs() {
  for log in "$dir"/munge/munged.log "$dir"/slurmctld.log "$dir"/slurmd.log; do
    [[ -f $log ]] && { echo "---- $log (last 20 lines)" >&2; tail -n 20 "$log" >&2; }
  done
}

do_start() {
  for tool in munged mungekey slurmctld slurmd sinfo; do
    if ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$tool ]]; then
      echo "$tool not found: install slurm-wlm and munge (scripts/setup.sh)" >&2
      exit 3
    fi
  done
  if [[ $(id -u) -ne 0 ]]; then echo "a one-node cluster needs root (slurmd runs jobs as their users)" >&2; exit 1; fi
  do_stop
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
  chmod 700 "$dir/munge"
  [[ -s $dir/munge/munge.key ]] || /usr/sbin/mungekey --create --keyfile="$dir/munge/munge.key" --force || exit 1
  chmod 600 "$dir/munge/munge.key"
  /usr/sbin/munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    || { show_logs; exit 1; }

  local memory_mb
  memory_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
  cat > "$conf" <<CONF
# Written by scripts/slurm/one_node_cluster.sh: a one-node test cluster.
ClusterName=stylesweep
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
$(slurm_common_conf)
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

  export SLURM_CONF=$conf
  /usr/sbin/slurmctld -f "$conf" -c || { show_logs; do_stop; exit 1; }
  /usr/sbin/slurmd -f "$conf" -N "$host" || { show_logs; do_stop; exit 1; }
  local state=""
  for _ in $(seq 60); do
    state=$(sinfo --noheader --nodes="$host" --format=%t 2>/dev/null | head -n 1)
    [[ $state == idle ]] && break
    if [[ $state == down* || $state == drain* ]]; then scontrol update nodename="$host" state=resume >/dev/null 2>&1; fi
    sleep 0.5
  done
  if [[ $state != idle ]]; then
    echo "the node did not become idle within 30 s (state: '${state:-no answer}')" >&2
    show_logs; do_stop; exit 1
  fi
  echo "export SLURM_CONF=$conf"
}

case $action in
  start) do_start ;;
  stop) do_stop ;;
  status) SLURM_CONF=$conf sinfo && SLURM_CONF=$conf squeue ;;
  *) usage ;;
esac
