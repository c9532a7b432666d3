#!/usr/bin/env bash
# Bring up a throw-away one-node SLURM cluster on this machine, run one command inside it, tear it down.
#
#   bash scripts/slurm_local.sh srun -N1 hostname
#   bash scripts/slurm_local.sh .venv/bin/python scripts/slurm_dask_hello.py
#
# Opt-in, needs root (apt-get, and slurmd launches jobs as their owner). What it does, one progress line each:
#   1. installs Debian's slurmctld, slurmd, munge and slurm-client, only when one of them is missing
#      (`apt-get update` first only when the package lists do not know them; output goes to a log file);
#   2. makes a private temp dir (mktemp -d, mode 0700) with a fresh munge key, slurm.conf and state dirs;
#   3. starts munged (own key and socket), slurmctld and slurmd as root, daemonized, each with the config
#      in the temp dir and its own pid file; ports are free ones picked at start;
#   4. waits until `sinfo` shows the node idle (error with the daemons' log tails on timeout);
#   5. exports SLURM_CONF (sbatch/srun/squeue/scancel then talk to this cluster) and runs "$@";
#   6. on exit - normal, failure or Ctrl-C - cancels every job of this cluster, stops the three daemons by
#      their own PIDs (TERM, then KILL after a grace period), and deletes the temp dir.
# The exit status is the command's (130 on Ctrl-C). The installed packages stay; nothing else does,
# except what the jobs themselves write (`sbatch` without -o leaves slurm-<jobid>.out in its cwd).
# Debian's packages start no service here: the container's /usr/sbin/policy-rc.d forbids it (step 1 warns
# if a system munged/slurm daemon appears anyway).
#
# Environment (all optional):
#   SLURM_LOCAL_TIMEOUT  seconds to wait for the node to become idle (default 60)
#   SLURM_LOCAL_KEEP=1   keep the temp dir (configs, logs) for debugging instead of deleting it
#
# Container notes (see slurm.conf below): no cgroups, so proctrack/linuxproc and task/none; no accounting;
# the node and controller are addressed as 127.0.0.1 so the cluster needs no working DNS or network.
set -euo pipefail

TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}
KEEP=${SLURM_LOCAL_KEEP:-0}
PACKAGES=(slurmctld slurmd munge slurm-client)
NODE=$(hostname -s)
TMP=""
PIDS=()  # "name:pid" of every daemon this script started, in start order

say() { printf '[slurm_local] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$#" -gt 0 ] || die "usage: bash scripts/slurm_local.sh COMMAND [ARGS...]"
[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get, and slurmd runs the jobs)"

# --- cleanup: cancel jobs, stop our daemons by PID, remove the temp dir --------------------------------
log_tails() {  # the last lines of each daemon's log, for error messages
    local f
    for f in "$TMP"/log/*.log; do
        [ -f "$f" ] || continue
        say "---- tail of $f"
        tail -n 20 "$f" >&2 || true
    done
}

# shellcheck disable=SC2317  # reached only from the EXIT trap
stop_pid() {  # stop_pid NAME PID: TERM, wait up to 15 s, then KILL
    local name=$1 pid=$2 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || { say "stopped $name (pid $pid)"; return 0; }
        sleep 0.1
    done
    say "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # reached only from the EXIT trap
cancel_jobs() {  # cancel every job of this cluster and wait (up to 30 s) until none is left
    local jobs i
    jobs=$(squeue -h -o %A 2>/dev/null) || return 0
    [ -n "$jobs" ] || return 0
    say "cancelling leftover jobs: $(echo "$jobs" | tr '\n' ' ')"
    # shellcheck disable=SC2086  # one job id per word
    scancel $jobs 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        [ -z "$(squeue -h -o %A 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    say "warning: jobs still listed after 30 s: $(squeue -h 2>/dev/null | tr '\n' ' ')"
}

# shellcheck disable=SC2317  # reached only from the EXIT trap
cleanup() {
    local rc=$? i entry
    trap - EXIT INT TERM
    set +e
    if [ "${#PIDS[@]}" -gt 0 ]; then
        say "stopping the cluster"
        cancel_jobs
        for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do  # reverse start order: slurmd, slurmctld, munged
            entry=${PIDS[i]}
            stop_pid "${entry%%:*}" "${entry#*:}"
        done
    fi
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        if [ "$KEEP" = 1 ]; then say "kept $TMP"; else rm -rf -- "$TMP"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. packages ------------------------------------------------------------------------------------
# munged wants every directory above its socket searchable by all (0755) and none writable by others;
# the key itself is 0400.
TMP=$(mktemp -d /tmp/slurm-local.XXXXXX)
chmod 0755 "$TMP"
mkdir -m 0755 "$TMP"/{log,run,ctld,spool}
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} (log: $TMP/log/apt.txt)"
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
        apt-get update >>"$TMP/log/apt.txt" 2>&1 || { tail -n 20 "$TMP/log/apt.txt" >&2; die "apt-get update failed"; }
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}" \
        >>"$TMP/log/apt.txt" 2>&1 || { tail -n 20 "$TMP/log/apt.txt" >&2; die "apt-get install failed"; }
    if pgrep -x munged >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
        say "warning: the package install started system daemons (no policy-rc.d?); they are not ours to stop"
    fi
else
    say "packages present: ${PACKAGES[*]}"
fi

# --- 2. configuration ---------------------------------------------------------------------------------
port_free() {  # port_free PORT: nothing listens on it (ss if present, else a /dev/tcp connect attempt)
    if command -v ss >/dev/null; then
        [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
    else
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 1; fi
    fi
}
free_port() {  # free_port EXCLUDE: a free TCP port in 20000-39999, different from EXCLUDE
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 20000))
        [ "$p" != "$1" ] && port_free "$p" && { echo "$p"; return 0; }
    done
    die "no free TCP port found"
}
CTLD_PORT=$(free_port 0)
SLURMD_PORT=$(free_port "$CTLD_PORT")
CPUS=$(nproc)
mem_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
margin=$((mem_mb / 20 > 512 ? mem_mb / 20 : 512))  # 5 %, at least 512 MB: slurmd drains a node that
REAL_MEM=$((mem_mb - margin))                       # reports less memory than RealMemory
MUNGE_SOCKET=$TMP/run/munge.socket
CONF=$TMP/slurm.conf

say "writing $CONF (node $NODE: CPUs=$CPUS RealMemory=${REAL_MEM}M, ports $CTLD_PORT/$SLURMD_PORT)"
if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$TMP/munge.key" --force
else
    dd if=/dev/urandom of="$TMP/munge.key" bs=1024 count=1 status=none
fi
chmod 0400 "$TMP/munge.key"

cat >"$CONF" <<EOF
# Written by scripts/slurm_local.sh; deleted when it exits.
ClusterName=local
# Controller and node both on this machine, addressed by loopback (no DNS needed).
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
# Daemons run as root; munge with a private key and socket (clients read AuthInfo too).
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
# State, spool, pid and log files all live in the temp dir.
StateSaveLocation=$TMP/ctld
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/run/slurmctld.pid
SlurmdPidFile=$TMP/run/slurmd.pid
SlurmctldLogFile=$TMP/log/slurmctld.log
SlurmdLogFile=$TMP/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# A container has no usable cgroups: track processes through /proc, bind no tasks.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
# Cores and memory are the consumable resources; a job without --mem gets its CPUs' share of the memory
# (without DefMemPerCPU it would take the whole node and every other job would wait).
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((REAL_MEM / CPUS))
# No accounting daemon, no job accounting.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# A node that comes back is usable at once; no mail.
ReturnToService=2
MailProg=/bin/true
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$CPUS RealMemory=$REAL_MEM State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$CONF

# --- 3. daemons -------------------------------------------------------------------------------------
wait_pidfile() {  # wait_pidfile NAME FILE: record the daemon's PID from its pid file (up to 15 s)
    local name=$1 file=$2 i pid
    for ((i = 0; i < 150; i++)); do
        pid=$(cat "$file" 2>/dev/null || true)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            PIDS+=("$name:$pid")
            say "started $name (pid $pid)"
            return 0
        fi
        sleep 0.1
    done
    log_tails
    die "$name did not start (no live pid in $file)"
}

munged --socket="$MUNGE_SOCKET" --key-file="$TMP/munge.key" --pid-file="$TMP/run/munged.pid" \
    --log-file="$TMP/log/munged.log" --seed-file="$TMP/run/munged.seed" \
    || { log_tails; die "munged failed to start"; }
wait_pidfile munged "$TMP/run/munged.pid"
slurmctld -f "$CONF" || { log_tails; die "slurmctld failed to start"; }
wait_pidfile slurmctld "$TMP/run/slurmctld.pid"
slurmd -f "$CONF" || { log_tails; die "slurmd failed to start"; }
wait_pidfile slurmd "$TMP/run/slurmd.pid"

# --- 4. wait for the node -----------------------------------------------------------------------------
state=""
for ((i = 0; i < TIMEOUT * 2; i++)); do
    state=$(sinfo -h -n "$NODE" -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
if [ "$state" != idle ]; then
    log_tails
    die "node $NODE is not idle after ${TIMEOUT}s (state: '${state:-unknown}')"
fi
say "node $NODE idle; running: $*"

# --- 5. the command -----------------------------------------------------------------------------------
rc=0
"$@" || rc=$?
exit "$rc"
