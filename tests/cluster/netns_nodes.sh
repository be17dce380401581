# A test cluster of several "nodes" on one machine, for bash test scripts to
# source. Each node is a network namespace of its own with one address on a
# private bridge-less link (10.77.0.0/24, which exists only inside these
# namespaces) and, for every process started on it, its own UTS namespace
# whose host name is the node's name (nodeA, nodeB, nodeC) and its own mount
# namespace whose /tmp is the node's own folder (WORK_DIR/tmp-nodeA ...), as
# on real nodes: srun's PMIx plugin and Open MPI keep per-node files there.
# WORK_DIR, the folders named after the count (the build and source trees,
# the shared assets) and $STYLESWEEP_SHARED_DIR stay visible at their paths on
# every node, also where they lie under /tmp (a checkout in /tmp/fresh).
#
#   source tests/cluster/netns_nodes.sh
#   nodes_check || skip "$nodes_missing"   # root, iproute2, unshare
#   nodes_up WORK_DIR 2 [DIR...]           # nodeA 10.77.0.1, nodeB 10.77.0.2
#   on_node nodeA mpiexec --mca plm_rsh_agent "$nodes_agent" ...
#   node_link nodeB down; node_kill nodeB
#   nodes_down                              # also run by the caller's trap
#
# Processes enter a node's network namespace with nsenter, not `ip netns
# exec`, so that /sys (cgroups, which slurmd reads) stays the machine's.
#
# The nodes' links meet at a bridge in a hub namespace of the harness's own,
# so taking one node's link down (node_link) cuts that node off and nothing
# else, and every node reaches every other one directly.
#
# Namespace names carry the harness's process id, so two test runs at once
# do not meet. nodes_down removes every namespace, link and process it made;
# the caller must call it from an EXIT trap so that a failing test cleans up
# too.

nodes_subnet=10.77.0
nodes_names=()      # node names, nodeA first
nodes_ns=()         # their namespace names, same order
nodes_hub=""        # the namespace that holds the bridge
nodes_agent=""      # rsh agent for Open MPI (plm_rsh_agent)
nodes_enter=""      # NODE CMD...: runs CMD on NODE (what on_node and the agent use)
nodes_missing=""    # why nodes_check failed

# Returns 0 when nodes can be made here; else sets nodes_missing.
nodes_check() {
  if [[ $(id -u) -ne 0 ]]; then nodes_missing="network namespaces need root"; return 1; fi
  local tool
  for tool in ip unshare nsenter; do
    command -v "$tool" >/dev/null || { nodes_missing="$tool is not installed (scripts/setup.sh installs iproute2 and util-linux)"; return 1; }
  done
  local probe=ssprobe$$
  if ! ip netns add "$probe" 2>/dev/null; then nodes_missing="cannot create a network namespace (ip netns add failed)"; return 1; fi
  ip netns del "$probe"
  if ! unshare --uts true 2>/dev/null; then nodes_missing="cannot create a UTS namespace (unshare --uts failed)"; return 1; fi
  return 0
}

# nodes_up WORK_DIR COUNT: makes COUNT (2 or 3) nodes, nodeA .. nodeC with
# addresses 10.77.0.1 .. 10.77.0.3, and the rsh agent $nodes_agent.
nodes_up() {
  local work=$1 count=$2 i letters=(A B C)
  local keep=("${@:3}")
  nodes_hub=ss$$hub
  ip netns add "$nodes_hub" || return 1
  ip -n "$nodes_hub" link add br0 type bridge || return 1
  ip -n "$nodes_hub" link set br0 up || return 1
  for ((i = 0; i < count; i++)); do
    local name=node${letters[i]} ns=ss$$node${letters[i]}
    ip netns add "$ns" || return 1
    nodes_names+=("$name"); nodes_ns+=("$ns")
    ip -n "$ns" link set lo up || return 1
    ip link add "v$name" netns "$ns" type veth peer name "p$name" netns "$nodes_hub" || return 1
    ip -n "$nodes_hub" link set "p$name" master br0 up || return 1
    ip -n "$ns" addr add "$nodes_subnet.$((i + 1))/24" dev "v$name" || return 1
    ip -n "$ns" link set "v$name" up || return 1
  done
  nodes_write_enter "$work" "$count" "${keep[@]}" ${STYLESWEEP_SHARED_DIR:+"$STYLESWEEP_SHARED_DIR"} || return 1
  # The agent: AGENT HOST CMD... runs CMD on HOST (a node name or address)
  # in that node's namespaces, as Open MPI's rsh/ssh launcher would: CMD
  # arrives as words for a shell to parse.
  nodes_agent=$work/netns_rsh_agent
  printf '#!/bin/bash\nhost=$1; shift\nexec %q "$host" /bin/sh -c "$*"\n' "$nodes_enter" >"$nodes_agent"
  chmod +x "$nodes_agent"
}

# nodes_write_enter WORK_DIR COUNT [DIR...]: writes $nodes_enter, which runs
# CMD... on NODE (a name or an address): nsenter into the node's network
# namespace, then unshare a UTS namespace (the node's host name) and a
# private mount namespace in which WORK_DIR/tmp-NODE is bind-mounted on /tmp,
# with WORK_DIR and each DIR that lies under /tmp bind-mounted back at its own
# path inside it (outside /tmp they are visible anyway).
nodes_write_enter() {
  local work=$1 count=$2 i dir real
  local keep=()  # pairs: the folder (symbolic links resolved), its path below /tmp
  for dir in "$work" "${@:3}"; do
    [[ $dir == /tmp/* ]] || continue
    real=$(readlink -f "$dir") || continue
    keep+=("$real" "${dir#/tmp/}")
  done
  nodes_enter=$work/netns_enter
  {
    echo '#!/bin/bash'
    echo 'host=$1; shift'
    echo 'case $host in'
    for ((i = 0; i < count; i++)); do
      echo "  ${nodes_names[i]}|$nodes_subnet.$((i + 1))) ns=${nodes_ns[i]} name=${nodes_names[i]} ;;"
    done
    echo '  *) echo "netns_enter: no node $host" >&2; exit 255 ;;'
    echo 'esac'
    printf 'work=%q\n' "$work"
    echo 'tmp=$work/tmp-$name'
    printf 'keep=(%s)\n' "$(printf '%q ' "${keep[@]}")"
    echo 'mkdir -p "$tmp" || exit 255'
    echo 'for ((k = 1; k < ${#keep[@]}; k += 2)); do mkdir -p "$tmp/${keep[k]}" || exit 255; done'
    echo 'enter=(nsenter --net=/run/netns/"$ns" unshare --uts --mount --propagation private /bin/sh -c)'
    # In the node: NAME TMP [FOLDER PATH-BELOW-TMP]... -- CMD...
    echo 'exec "${enter[@]}" '"'"'hostname "$1" && t=$2 && shift 2 && while [ "$1" != -- ]; do mount --bind "$1" "$t/$2" || exit 255; shift 2; done && shift && mount --rbind "$t" /tmp && exec "$@"'"'"' \'
    echo '  enter "$name" "$tmp" "${keep[@]}" -- "$@"'
  } >"$nodes_enter"
  chmod +x "$nodes_enter"
}

# The namespace of node $1.
node_ns() {
  local i
  for i in "${!nodes_names[@]}"; do [[ ${nodes_names[i]} == "$1" ]] && { echo "${nodes_ns[i]}"; return 0; }; done
  echo "netns_nodes: no node $1" >&2; return 1
}

# on_node NAME CMD...: runs CMD on node NAME (its network namespace, its host
# name, its /tmp).
on_node() {
  node_ns "$1" >/dev/null || return 1
  "$nodes_enter" "$@"
}

# node_link NAME up|down: connects or cuts node NAME's only link.
node_link() { ip -n "$nodes_hub" link set "p$1" "$2"; }

# The process ids of everything running on node NAME.
node_pids() { local ns; ns=$(node_ns "$1") || return 1; ip netns pids "$ns"; }

# node_kill NAME: SIGKILLs every process on node NAME (a node that dies).
node_kill() { local pids; pids=$(node_pids "$1"); [[ -z $pids ]] || kill -9 $pids 2>/dev/null; return 0; }

# Removes every process, namespace and link nodes_up made. Idempotent.
nodes_down() {
  local ns
  for ns in "${nodes_ns[@]}" $nodes_hub; do
    local pids; pids=$(ip netns pids "$ns" 2>/dev/null)
    [[ -z $pids ]] || kill -9 $pids 2>/dev/null
  done
  for ns in "${nodes_ns[@]}" $nodes_hub; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
      sleep 0.2
    done
    ip netns del "$ns" 2>/dev/null
  done
  nodes_names=(); nodes_ns=(); nodes_hub=""
}

# nodes_work_dir PREFIX: a fresh folder /tmp/PREFIX_XXXXXX in $work, and an
# EXIT trap that ends every node (nodes_down) and removes the folder
# (KEEP_WORK=1 keeps it, for a look after a failure); INT and TERM exit
# through the same trap.
nodes_work_dir() {
  work=$(mktemp -d "/tmp/${1}_XXXXXX")
  trap nodes_work_cleanup EXIT
  trap "exit 1" INT TERM
}
nodes_work_cleanup() {
  nodes_down
  if [[ -n ${KEEP_WORK:-} ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
