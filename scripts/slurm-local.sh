#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, to try `safetune grid submit` without a cluster (and
# what CI tests the grid against). Debian's slurm-wlm and munge (installed with apt when missing),
# slurmctld + slurmd on this host, no systemd, no accounting. Needs root.
#
#   scripts/slurm-local.sh start    install if needed, write the config, start munged, slurmctld, slurmd
#   scripts/slurm-local.sh stop     stop the three daemons
#   scripts/slurm-local.sh status   sinfo and squeue
#
# The node offers this machine's CPUs (one task a CPU) and its memory; jobs run as the submitting user
# with the submitter's environment, in the folders they name, so every path is "shared" by construction.
set -euo pipefail
state=/var/lib/safetune-slurm          # slurmctld's state, slurmd's spool, the daemons' logs
conf=/etc/slurm/slurm.conf
node="$(hostname -s)"

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "slurm-local.sh: needs root (it installs packages and starts daemons)" >&2
    exit 1
  fi
}

install() {
  if command -v sbatch >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
      && command -v munged >/dev/null && command -v pgrep >/dev/null; then
    return
  fi
  echo "slurm-local.sh: installing slurm-wlm, munge and procps (apt)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge procps >/dev/null
}

write_config() {
  local cpus mem
  if [ -f "$conf" ] && ! grep -q "written by safetune's scripts/slurm-local.sh" "$conf"; then
    echo "slurm-local.sh: $conf is another cluster's configuration; not touching it" >&2
    exit 1
  fi
  cpus="$(nproc)"
  mem="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
  mkdir -p "$state/ctld" "$state/d" /etc/slurm
  cat > "$conf" <<EOF
# written by safetune's scripts/slurm-local.sh: one node, this host
ClusterName=safetune-local
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=300
KillWait=10
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
  if pgrep -x munged >/dev/null; then
    return                              # someone else's munged: used, and left running by stop
  fi
  touch "$state/munged.ours"
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  chmod 0400 /etc/munge/munge.key
  chmod 0700 /etc/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  if id munge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
  else
    /usr/sbin/munged --force
  fi
}

wait_idle() {
  for _ in $(seq 1 60); do
    case "$(sinfo -h -n "$node" -o '%t' 2>/dev/null)" in
      idle*|mix*|alloc*) return 0 ;;
      down*|drain*) scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 1
  done
  echo "slurm-local.sh: the node did not come up; logs in $state" >&2
  sinfo >&2 || true
  tail -n 20 "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
  return 1
}

start() {
  need_root
  install
  write_config
  start_munge
  if ! pgrep -x slurmctld >/dev/null; then
    /usr/sbin/slurmctld -c  # -c: start clean, without the jobs of an earlier run of this cluster
  fi
  if ! pgrep -x slurmd >/dev/null; then
    /usr/sbin/slurmd
  fi
  wait_idle
  echo "slurm-local.sh: cluster up (node $node, $(nproc) CPUs, partition local)"
}

stop_pid() {
  if [ -s "$1" ]; then
    kill "$(cat "$1")" 2>/dev/null || true
  fi
}

stop() {
  stop_pid "$state/slurmd.pid"
  stop_pid "$state/slurmctld.pid"
  if [ -f "$state/munged.ours" ]; then
    stop_pid /run/munge/munged.pid
    rm -f "$state/munged.ours"
  fi
  echo "slurm-local.sh: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo; squeue ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
