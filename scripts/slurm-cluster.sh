#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for testing the slurm profile
# (workflows/profiles/slurm) end to end: munge, MariaDB, slurmdbd, slurmctld, slurmd.
#
#   scripts/slurm-cluster.sh up       install what is missing, configure, start, wait
#   scripts/slurm-cluster.sh status   what runs; exit 0 when the cluster answers
#   scripts/slurm-cluster.sh down     stop every daemon by its pid file
#
# Needs root and Debian (apt-get; slurm-wlm 22.05 on Debian 12). Idempotent: `up` on a
# running cluster only checks it, `down` on a stopped one does nothing. Daemons are
# stopped by the pids in their pid files, never by name, so nothing else on the machine
# is touched. MariaDB listens on its Unix socket only (no TCP port). The node offers
# every CPU of the machine (`slurmd -C`) and 90% of its memory; no GPUs.
#
# The lock that serialises up/down is fd 9; daemons are started with it closed, or
# they would hold it for as long as they run.
#
# Environment (all optional):
#   SLURM_CLUSTER_TIMEOUT  seconds to wait for each daemon to answer (default 120)
#   SLURM_CLUSTER_MEM_FRACTION  share of the machine's memory the node offers (default 0.9)
#
# See docs/CLUSTER.md.
set -euo pipefail

TIMEOUT=${SLURM_CLUSTER_TIMEOUT:-120}
MEM_FRACTION=${SLURM_CLUSTER_MEM_FRACTION:-0.9}
CLUSTER=localcluster
PARTITION=debug

SLURM_ETC=/etc/slurm
LOG_DIR=/var/log/slurm
MUNGE_PID=/run/munge/munged.pid
MARIADB_PID=/run/mysqld/mysqld.pid
MARIADB_SOCKET=/run/mysqld/mysqld.sock
SLURMDBD_PID=/run/slurmdbd.pid
SLURMCTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
LOCK=/run/tlbench-slurm-cluster.lock
PACKAGES=(slurm-wlm munge slurmdbd mariadb-server)

STARTED=$(date +%s.%N)
CONF_CHANGED=0

say() { printf '[slurm-cluster] %s\n' "$*"; }
die() { printf '[slurm-cluster] error: %s\n' "$*" >&2; exit 1; }

elapsed() {
    awk -v a="$STARTED" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# pid in a pid file, if that process is alive and is the daemon the file belongs to
# (the check guards against a stale file whose pid now belongs to someone else).
live_pid() {
    local file=$1 exe=$2 pid
    [ -r "$file" ] || return 1
    pid=$(tr -dc '0-9' <"$file")
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$exe")" ] || return 1
    echo "$pid"
}

# wait_for SECONDS DESCRIPTION LOG COMMAND...: run COMMAND until it succeeds.
wait_for() {
    local seconds=$1 what=$2 log=$3
    shift 3
    local deadline=$(($(date +%s) + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            printf '[slurm-cluster] error: %s did not answer within %s s (`%s`)\n' \
                "$what" "$seconds" "$*" >&2
            if [ -n "$log" ] && [ -r "$log" ]; then
                echo "--- last lines of $log:" >&2
                tail -n 20 "$log" >&2
            fi
            exit 1
        fi
        sleep 0.5
    done
    say "$what answers ($(elapsed) s)"
}

# stop NAME PIDFILE EXE: SIGTERM the pid in the file, wait, SIGKILL if it lingers.
stop() {
    local name=$1 file=$2 exe=$3 pid
    if ! pid=$(live_pid "$file" "$exe"); then
        say "$name: not running"
        rm -f "$file"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
        [ -d "/proc/$pid" ] || break
        sleep 0.5
    done
    if [ -d "/proc/$pid" ]; then
        say "$name (pid $pid) ignored SIGTERM for 30 s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$file"
    say "$name (pid $pid) stopped"
}

install_packages() {
    local missing=()
    for exe in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/slurmdbd /usr/sbin/munged \
               /usr/sbin/mariadbd /usr/bin/sbatch; do
        [ -x "$exe" ] || missing+=("$exe")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "packages already installed"
        return 0
    fi
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    say "installing ${PACKAGES[*]} (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian's policy-rc.d (containers) keeps the packages from starting their services;
    # this script starts the daemons itself.
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
    say "packages installed ($(elapsed) s)"
}

start_munge() {
    if pid=$(live_pid "$MUNGE_PID" /usr/sbin/munged); then
        say "munged already running (pid $pid)"
    else
        if [ ! -s /etc/munge/munge.key ]; then
            mkdir -p /etc/munge
            dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
        fi
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
        mkdir -p /run/munge /var/lib/munge /var/log/munge
        chown munge:munge /run/munge /var/lib/munge /var/log/munge
        chmod 755 /run/munge
        runuser -u munge -- /usr/sbin/munged --pid-file="$MUNGE_PID" 9>&-
    fi
    wait_for "$TIMEOUT" munged /var/log/munge/munged.log bash -c 'munge -n | unmunge'
}

mysql_root() { mariadb --protocol=socket -S "$MARIADB_SOCKET" -uroot "$@"; }

start_mariadb() {
    if pid=$(live_pid "$MARIADB_PID" /usr/sbin/mariadbd); then
        say "mariadbd already running (pid $pid)"
    else
        mkdir -p /run/mysqld
        chown mysql:mysql /run/mysqld
        if [ ! -d /var/lib/mysql/mysql ]; then
            mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
        fi
        # Socket only: no TCP port is opened, so nothing else on the machine can clash.
        setsid nohup /usr/sbin/mariadbd --user=mysql --skip-networking \
            --pid-file="$MARIADB_PID" --socket="$MARIADB_SOCKET" \
            --innodb-buffer-pool-size=64M \
            >"$LOG_DIR/mariadb.log" 2>&1 </dev/null 9>&- &
    fi
    wait_for "$TIMEOUT" mariadbd "$LOG_DIR/mariadb.log" mysql_root -e 'SELECT 1'
}

# The database password lives only in slurmdbd.conf (root-readable); reused on later ups.
dbd_password() {
    local file=$SLURM_ETC/slurmdbd.conf
    if [ -r "$file" ] && grep -q '^StoragePass=' "$file"; then
        sed -n 's/^StoragePass=//p' "$file"
    else
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'
    fi
}

configure() {
    local host cpus real_mem mem password
    host=$(hostname -s)
    # What slurmd sees: the node line must not promise more than the machine has, or
    # the node is marked invalid.
    cpus=$(/usr/sbin/slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -n1)
    real_mem=$(/usr/sbin/slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)
    [ -n "$cpus" ] || cpus=$(nproc)
    [ -n "$real_mem" ] || real_mem=$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)
    mem=$(awk -v m="$real_mem" -v f="$MEM_FRACTION" 'BEGIN { print int(m * f) }')
    password=$(dbd_password)

    mkdir -p "$SLURM_ETC" /var/spool/slurmctld /var/spool/slurmd "$LOG_DIR"
    chown slurm:slurm /var/spool/slurmctld "$LOG_DIR"

    mysql_root -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'localhost';
        ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$password';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"

    umask 077
    cat >"$SLURM_ETC/slurmdbd.conf.new" <<EOF
# written by scripts/slurm-cluster.sh
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
LogFile=$LOG_DIR/slurmdbd.log
PidFile=$SLURMDBD_PID
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=$password
EOF
    chown slurm:slurm "$SLURM_ETC/slurmdbd.conf.new"
    chmod 600 "$SLURM_ETC/slurmdbd.conf.new"
    mv "$SLURM_ETC/slurmdbd.conf.new" "$SLURM_ETC/slurmdbd.conf"
    umask 022

    cat >"$SLURM_ETC/slurm.conf.new" <<EOF
# written by scripts/slurm-cluster.sh: one node, $cpus CPUs, $mem MB, no GPUs
ClusterName=$CLUSTER
SlurmctldHost=$host
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$SLURMCTLD_PID
SlurmdPidFile=$SLURMD_PID
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/slurmdbd
# sacct shows each job's comment: the Snakemake rule and wildcards
AccountingStoreFlags=job_comment
AccountingStorageHost=localhost
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
# Faster turnaround for a test cluster
SchedulerParameters=sched_interval=2
MessageTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    if ! cmp -s "$SLURM_ETC/slurm.conf.new" "$SLURM_ETC/slurm.conf"; then
        CONF_CHANGED=1
    fi
    mv "$SLURM_ETC/slurm.conf.new" "$SLURM_ETC/slurm.conf"
    say "configured $SLURM_ETC/slurm.conf: node $host, $cpus CPUs, $mem MB, partition $PARTITION"
}

node_idle() {
    local state
    state=$(sinfo -h -N -n "$(hostname -s)" -o '%T' 2>/dev/null | head -n1)
    [ "$state" = idle ] || [ "$state" = mixed ] || [ "$state" = allocated ]
}

start_slurm() {
    if pid=$(live_pid "$SLURMDBD_PID" /usr/sbin/slurmdbd); then
        say "slurmdbd already running (pid $pid)"
    else
        /usr/sbin/slurmdbd 9>&-
    fi
    wait_for "$TIMEOUT" slurmdbd "$LOG_DIR/slurmdbd.log" sacctmgr -n list cluster
    if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
        sacctmgr -i add cluster "$CLUSTER" >/dev/null
    fi

    if pid=$(live_pid "$SLURMCTLD_PID" /usr/sbin/slurmctld); then
        say "slurmctld already running (pid $pid)"
        if [ "$CONF_CHANGED" = 1 ]; then
            say "slurm.conf changed: scontrol reconfigure"
            scontrol reconfigure
        fi
    else
        /usr/sbin/slurmctld 9>&-
    fi
    wait_for "$TIMEOUT" slurmctld "$LOG_DIR/slurmctld.log" scontrol ping

    if pid=$(live_pid "$SLURMD_PID" /usr/sbin/slurmd); then
        say "slurmd already running (pid $pid)"
    else
        /usr/sbin/slurmd 9>&-
    fi
    wait_for "$TIMEOUT" "slurmd (node $(hostname -s) idle)" "$LOG_DIR/slurmd.log" node_idle
    # The executor polls job states with sacct: it must answer before any sweep starts.
    wait_for "$TIMEOUT" sacct "$LOG_DIR/slurmdbd.log" sacct -n -X --starttime now
}

cmd_up() {
    [ "$(id -u)" -eq 0 ] || die "needs root (installs packages, starts daemons)"
    exec 9>"$LOCK"
    flock -w "$TIMEOUT" 9 || die "another slurm-cluster.sh holds $LOCK"
    install_packages
    mkdir -p "$LOG_DIR"
    start_munge
    start_mariadb
    configure
    chown slurm:slurm "$LOG_DIR"
    start_slurm
    sinfo
    say "up in $(elapsed) s"
}

cmd_down() {
    [ "$(id -u)" -eq 0 ] || die "needs root"
    exec 9>"$LOCK"
    flock -w "$TIMEOUT" 9 || die "another slurm-cluster.sh holds $LOCK"
    # Jobs first, so their steps end with the cluster rather than linger after it.
    if live_pid "$SLURMCTLD_PID" /usr/sbin/slurmctld >/dev/null \
            && [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
        say "cancelling jobs: $(squeue -h -o %i | tr '\n' ' ')"
        squeue -h -o %i | xargs -r scancel
        for _ in $(seq 1 20); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    stop slurmd "$SLURMD_PID" /usr/sbin/slurmd
    stop slurmctld "$SLURMCTLD_PID" /usr/sbin/slurmctld
    stop slurmdbd "$SLURMDBD_PID" /usr/sbin/slurmdbd
    stop mariadbd "$MARIADB_PID" /usr/sbin/mariadbd
    stop munged "$MUNGE_PID" /usr/sbin/munged
    say "down in $(elapsed) s"
}

cmd_status() {
    local all=0 pid
    for entry in "munged:$MUNGE_PID:/usr/sbin/munged" "mariadbd:$MARIADB_PID:/usr/sbin/mariadbd" \
                 "slurmdbd:$SLURMDBD_PID:/usr/sbin/slurmdbd" \
                 "slurmctld:$SLURMCTLD_PID:/usr/sbin/slurmctld" \
                 "slurmd:$SLURMD_PID:/usr/sbin/slurmd"; do
        IFS=: read -r name file exe <<<"$entry"
        if pid=$(live_pid "$file" "$exe"); then
            say "$name: running (pid $pid)"
        else
            say "$name: not running"
            all=1
        fi
    done
    if [ $all -eq 0 ] && sinfo >/dev/null 2>&1 && sacct -n -X --starttime now >/dev/null 2>&1; then
        sinfo
        say "cluster is up"
        return 0
    fi
    say "cluster is down (or partly up)"
    return 3
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
