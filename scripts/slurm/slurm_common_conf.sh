# The slurm.conf lines the project's test clusters share (sourced by
# scripts/slurm/one_node_cluster.sh and tests/cluster/netns_slurm.sh): no
# cgroups, no accounting, one CPU per task, requeue on, and a scheduler that
# looks at pending jobs every 2 s (default 60 s): a requeued job is eligible
# again after cred_expire, and nothing else wakes the scheduler then.
slurm_common_conf() {
  cat <<'CONF'
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
SwitchType=switch/none
MpiDefault=none
JobRequeue=1
ReturnToService=2
KillWait=30
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
CONF
}
