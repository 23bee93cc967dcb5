#!/usr/bin/env bash
# Single-node Slurm on this Debian machine, from Debian's packages, for running the
# workflow through `snakemake --executor slurm` and its `cluster` test.
#
#   sudo tools/slurm_local.sh up       # install (once), configure, start; idempotent
#   sudo tools/slurm_local.sh status   # daemons, node, partition, accounting
#   sudo tools/slurm_local.sh down     # stop the daemons started by `up`
#
# What `up` sets up (all on localhost, no systemd needed):
#   munge       authentication (Debian's generated /etc/munge/munge.key)
#   mariadb     local database for the accounting daemon (socket only, no network port)
#   slurmdbd    accounting daemon -> `sacct` works (the executor plugin polls it)
#   slurmctld   controller; slurmd: the one compute node (this host, all its CPUs)
#   partition   `local` (default), accounts: `trainfree` with the invoking user in it
# Cgroups are not used (proctrack/linuxproc, task/none): containers rarely let slurmd
# create cgroups. Resource limits are therefore advisory on this test cluster.
# Files: /etc/slurm/{slurm,slurmdbd,cgroup}.conf, state under /var/spool/slurm*,
# logs under /var/log/slurm/. Variables: SLURM_PARTITION (default: local),
# SLURM_ACCOUNT (default: trainfree), SLURM_USERS (default: root and $SUDO_USER).
set -euo pipefail

PARTITION=${SLURM_PARTITION:-local}
ACCOUNT=${SLURM_ACCOUNT:-trainfree}
CLUSTER=trainfree
DBPASS=slurmdb-local
LOGDIR=/var/log/slurm
ETC=/etc/slurm

die() { echo "slurm_local.sh: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "run as root (sudo tools/slurm_local.sh $1)"; }

install_packages() {
    local missing=()
    for p in slurm-wlm slurmdbd munge mariadb-server; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    fi
}

running() { pgrep -x "$1" >/dev/null 2>&1; }

wait_for() {  # wait_for <seconds> <command...>
    local n=$1; shift
    for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
    return 1
}

start_munge() {
    install -d -o munge -g munge -m 0755 /run/munge
    [ -s /etc/munge/munge.key ] || { mungekey --create --force; chown munge:munge /etc/munge/munge.key; }
    chmod 0400 /etc/munge/munge.key
    running munged || runuser -u munge -- /usr/sbin/munged
    wait_for 10 sh -c 'munge -n | unmunge' || die "munge does not work (see /var/log/munge/munged.log)"
}

start_mariadb() {
    install -d -o mysql -g mysql -m 0755 /run/mysqld
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    if ! running mariadbd; then
        # socket only: no TCP port is opened
        setsid mariadbd --user=mysql --skip-networking --datadir=/var/lib/mysql \
            --socket=/run/mysqld/mysqld.sock --log-error=/var/log/mysql/error.log \
            </dev/null >/dev/null 2>&1 &
    fi
    wait_for 30 mariadb -e 'select 1' || die "mariadb did not start (see /var/log/mysql/error.log)"
    mariadb <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '${DBPASS}';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL
}

write_configs() {
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    # RealMemory a little below what slurmd detects, so the node never drains on it
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    mem=$(( mem * 9 / 10 ))
    install -d -m 0755 "$ETC" "$LOGDIR" /var/spool/slurmd
    install -d -o slurm -g slurm -m 0755 /var/spool/slurmctld /run/slurm
    chown slurm:slurm "$LOGDIR"
    cat >"$ETC/slurm.conf" <<EOF
# Written by tools/slurm_local.sh: single-node test cluster on ${host}.
ClusterName=${CLUSTER}
SlurmctldHost=${host}
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=${LOGDIR}/slurmctld.log
SlurmdLogFile=${LOGDIR}/slurmd.log
ReturnToService=2
MpiDefault=none
# no cgroups: containers rarely allow slurmd to create them
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# accounting through slurmdbd, so that sacct reports finished jobs
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
# keep the job comment (Snakemake writes the rule and wildcards there) for `sacct -o Comment`
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
# keep finished jobs visible to squeue for 5 minutes as well
MinJobAge=300
KillWait=10
InactiveLimit=0
NodeName=${host} CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${host} Default=YES MaxTime=INFINITE State=UP
EOF
    cat >"$ETC/cgroup.conf" <<EOF
# Written by tools/slurm_local.sh: cgroups are not used on this test cluster.
CgroupPlugin=cgroup/v1
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
EOF
    cat >"$ETC/slurmdbd.conf" <<EOF
# Written by tools/slurm_local.sh.
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=/run/slurm/slurmdbd.pid
LogFile=${LOGDIR}/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=${DBPASS}
EOF
    chown slurm:slurm "$ETC/slurmdbd.conf"
    chmod 0600 "$ETC/slurmdbd.conf"
}

start_slurm() {
    running slurmdbd || /usr/sbin/slurmdbd
    wait_for 30 sacctmgr -i show cluster || die "slurmdbd did not start (see $LOGDIR/slurmdbd.log)"
    sacctmgr -i show cluster -n format=cluster | grep -qw "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
    running slurmctld || /usr/sbin/slurmctld
    wait_for 30 scontrol ping || die "slurmctld did not start (see $LOGDIR/slurmctld.log)"
    running slurmd || /usr/sbin/slurmd
    wait_for 30 sh -c "sinfo -h -N -o %t | grep -Eq '^(idle|mix|alloc)'" || {
        scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true
        wait_for 15 sh -c "sinfo -h -N -o %t | grep -Eq '^(idle|mix|alloc)'" \
            || die "node not idle (see $LOGDIR/slurmd.log): $(sinfo -N)"
    }
    sacctmgr -i show account -n format=account | grep -qw "$ACCOUNT" \
        || sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" description="trainfree runs" >/dev/null
    local users=${SLURM_USERS:-root ${SUDO_USER:-}}
    for u in $users; do
        sacctmgr -i show assoc -n format=user,account where user="$u" | grep -qw "$ACCOUNT" \
            || sacctmgr -i add user "$u" account="$ACCOUNT" defaultaccount="$ACCOUNT" >/dev/null
    done
}

status() {
    for d in munged mariadbd slurmdbd slurmctld slurmd; do
        printf '%-10s %s\n' "$d" "$(running "$d" && echo running || echo stopped)"
    done
    sinfo 2>&1 || true
    sacctmgr -n show assoc format=cluster,account,user 2>&1 || true
}

stop_pidfile() {  # stop_pidfile <pidfile>: the daemon `up` started, by its process id
    [ -s "$1" ] || return 0
    local pid; pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
}

down() {
    stop_pidfile /run/slurm/slurmd.pid
    stop_pidfile /run/slurm/slurmctld.pid
    stop_pidfile /run/slurm/slurmdbd.pid
    mariadb-admin shutdown 2>/dev/null || true
    stop_pidfile /run/munge/munged.pid
    echo "stopped"
}

case "${1:-}" in
    up)
        need_root up
        install_packages
        start_munge
        start_mariadb
        write_configs
        start_slurm
        echo "Slurm is up: partition '${PARTITION}', account '${ACCOUNT}'"
        status
        ;;
    status) status ;;
    down) need_root down; down ;;
    *) die "usage: tools/slurm_local.sh up|status|down" ;;
esac
