#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine (Debian 12, as root, no
# systemd, no cgroups), for tests/integration/cluster.rs and for trying the
# templates of docs/cluster/ by hand. What works here and why is written up
# in docs/CLUSTER.md ("A throw-away Slurm cluster on one machine").
#
#   .ci/start-slurm.sh           install if missing, start what is not running
#   .ci/start-slurm.sh --fresh   stop the daemons, wipe Slurm's state, start again
#   .ci/start-slurm.sh --stop    stop slurmd, slurmctld and munged
#
# Idempotent: running daemons are left alone unless the configuration it
# writes has changed, in which case the Slurm daemons are restarted.
set -euo pipefail

MODE="${1:-start}"
case "$MODE" in
  start | --fresh | --stop) ;;
  *) echo "usage: $0 [--fresh | --stop]" >&2; exit 2 ;;
esac

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

CONF=/etc/slurm/slurm.conf
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGS=/var/log/slurm
# How long to wait for the node to come up, in seconds.
UP_TIMEOUT="${SLURM_UP_TIMEOUT:-30}"

say() { echo "start-slurm: $*"; }

# The pid in $1 if that process is alive and is $2 (pid files can be stale).
running() {
  local pid
  [ -r "$1" ] || return 1
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}

# Stops the daemon of pid file $1 (named $2): TERM, up to 10 s, then KILL.
stop() {
  running "$1" "$2" || { $SUDO rm -f "$1"; return 0; }
  local pid; pid="$(cat "$1")"
  $SUDO kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  if [ -d "/proc/$pid" ]; then
    say "$2 ($pid) ignored TERM, killing it"
    $SUDO kill -9 "$pid" 2>/dev/null || true
  fi
  $SUDO rm -f "$1"
}

if [ "$MODE" = "--stop" ]; then
  stop "$SLURMD_PID" slurmd
  stop "$CTLD_PID" slurmctld
  stop "$MUNGE_PID" munged
  say "stopped"
  exit 0
fi

# --- packages (about 15 s when missing) -------------------------------------
if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null \
  || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  $SUDO apt-get update -qq
  # policy-rc.d 101: the packages' scripts must not start daemons; we start
  # them below, with our configuration.
  made_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    made_policy=yes
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
  if [ "$made_policy" = yes ]; then
    $SUDO rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
fi

# --- slurm.conf ------------------------------------------------------------
# CPUs as nproc says; RealMemory a little below what slurmd will detect (a
# node that reports less memory than configured is drained).
cpus="$(nproc)"
mem_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
real_memory=$((mem_mib * 95 / 100))
conf="$(cat <<EOF
# Written by sancsim's .ci/start-slurm.sh: one node, no cgroups, no accounting.
ClusterName=sancsim
SlurmctldHost=localhost
AuthType=auth/munge
SlurmUser=slurm
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Without it a job that depends (afterok) on a failed one stays pending forever.
DependencyParameters=kill_invalid_depend
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
NodeName=localhost CPUs=$cpus RealMemory=$real_memory State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
)"
changed=no
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$conf" ]; then
  $SUDO mkdir -p "$(dirname "$CONF")"
  printf '%s\n' "$conf" | $SUDO tee "$CONF" >/dev/null
  changed=yes
fi

if [ "$MODE" = "--fresh" ] || [ "$changed" = yes ]; then
  stop "$SLURMD_PID" slurmd
  stop "$CTLD_PID" slurmctld
fi
if [ "$MODE" = "--fresh" ]; then
  say "wiping $STATE and $SPOOL"
  $SUDO rm -rf "$STATE" "$SPOOL"
fi

# --- folders ---------------------------------------------------------------
$SUDO mkdir -p "$STATE" "$SPOOL" "$LOGS" /run/munge
$SUDO chown slurm:slurm "$STATE" "$LOGS"
$SUDO chown munge:munge /run/munge
$SUDO chmod 0755 /run/munge

# --- munge -----------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  $SUDO runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
fi
# Also leave alone a munged that answers but was started without our pid
# file (by the package's init script, say).
if ! running "$MUNGE_PID" munged && ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "starting munged"
  $SUDO runuser -u munge -- munged
fi

# --- slurmctld and slurmd --------------------------------------------------
if ! running "$CTLD_PID" slurmctld; then
  say "starting slurmctld"
  $SUDO slurmctld
fi
if ! running "$SLURMD_PID" slurmd; then
  say "starting slurmd"
  $SUDO slurmd -N localhost
fi

# --- wait for the node ------------------------------------------------------
# Up means the controller answers and the node takes jobs: idle, or busy with
# jobs (mixed, allocated, completing) when the cluster was already running.
deadline=$((SECONDS + UP_TIMEOUT))
state=""
while [ "$SECONDS" -lt "$deadline" ]; do
  state="$(sinfo -h -n localhost -o '%T' 2>/dev/null | head -n1 || true)"
  case "$state" in
    idle | mixed | allocated | completing) break ;;
    down* | drain* | fail*)
      # A node left down by an earlier, unclean stop: put it back.
      $SUDO scontrol update NodeName=localhost State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.5
done
case "$state" in
  idle | mixed | allocated | completing) ;;
  *)
    echo "start-slurm: the node did not come up within ${UP_TIMEOUT}s (state: '${state:-no answer}')" >&2
    echo "start-slurm: last lines of $LOGS/slurmctld.log and $LOGS/slurmd.log:" >&2
    $SUDO tail -n 20 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2 || true
    exit 1 ;;
esac
say "node localhost is $state ($cpus CPUs, RealMemory=$real_memory MiB)"
