#!/usr/bin/env bash
# Sharding on a real Slurm: starts a single-node cluster on this host (loopback only, in
# a temporary folder, on ports of its own), submits run-array.sbatch and
# sweep-array.sbatch (array jobs chained to merge jobs with --dependency=afterok), waits
# for the merges, runs plan-array.sbatch (one array per stage of a plan), checks that
# the merged and published folders are byte-identical to the same commands on one
# machine, and stops every daemon it started.
#
#   ROLLOUT_SIM=target/release/rollout-sim bash examples/slurm/test-slurm.sh
#
# Needs slurm-wlm and munge installed (.ci/run installs them; this script installs
# nothing) and root, as the daemons run as root like on a real cluster. The opt-in
# system test tests/it/slurm.rs runs this script. Exit 0 when identical; otherwise the reason and the daemons' logs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${ROLLOUT_SIM:-$repo/target/release/rollout-sim}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
timeout_s=${SLURM_TEST_TIMEOUT:-150}

fail() {
    echo "test-slurm: $*" >&2
    exit 1
}

[[ -x $bin ]] || fail "no rollout-sim binary at $bin; build it or set ROLLOUT_SIM"
[[ $(id -u) -eq 0 ]] || fail "needs root: slurmd starts jobs as their users, and the daemons' files are root's"

for tool in slurmctld slurmd sbatch munged; do
    command -v "$tool" >/dev/null || fail "$tool is not installed: install slurm-wlm and munge first (.ci/run does); this script installs nothing"
done

work=$(mktemp -d /tmp/rollout-slurm.XXXXXX)
pids=()
stop_daemons() {
    local status=$?
    # The daemons this script started, by the PIDs they had at start.
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for _ in $(seq 100); do
        alive=0
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [[ $alive -eq 0 ]] && break
        sleep 0.1
    done
    if [[ $status -ne 0 ]]; then
        for log in "$work"/*.log "$work"/jobs/*.log; do
            [[ -f $log ]] || continue
            echo "----- $log" >&2
            tail -n 40 "$log" >&2
        done
    fi
    rm -rf "$work"
    exit "$status"
}
trap stop_daemons EXIT
daemon_pid() {
    for _ in $(seq 50); do
        [[ -s $work/$1.pid ]] && pids+=("$(cat "$work/$1.pid")") && return
        sleep 0.1
    done
    fail "$1 did not start"
}

host=$(hostname -s)
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/state" "$work/spool" "$work/jobs"

# munge: a key of our own and a socket in the work folder.
head -c 1024 /dev/urandom >"$work/munge.key"
chmod 400 "$work/munge.key"
munged --key-file="$work/munge.key" --socket="$work/munge.sock" \
    --pid-file="$work/munged.pid" --log-file="$work/munged.log" \
    --seed-file="$work/munge.seed" --force
daemon_pid munged

cat >"$work/slurm.conf" <<EOF
ClusterName=rollout-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$work/munge.sock
CredType=cred/munge
SlurmUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
PlugStackConfig=$work/plugstack.conf
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
: >"$work/plugstack.conf"
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF"
daemon_pid slurmctld
slurmd -f "$SLURM_CONF" -N "$host"
daemon_pid slurmd

# The node is up when sinfo shows it idle.
for i in $(seq 100); do
    sinfo -h -o %t 2>/dev/null | grep -q idle && break
    [[ $i -eq 100 ]] && fail "the node did not come up within 10 s"
    sleep 0.1
done

scenario=$repo/scenarios/connect-release-train.json
run_args=(--replications 12 --instances 300)
sweep_args=(--replications 4 --instances 200 --set admins.office.approve=0.5,0.9 --set timing.upm_poll=12h,24h)
plan_scenario=$repo/scenarios/connect-micro.json
plan_args=(--instances 300 --vary timing.upm_poll=12h..36h/12h --minimize coexistence@0 --delta 1h
    --subject-to 'coexistence@0 p95 <= 40h' --first-stage 10 --stage 30)

# The same commands on one machine.
"$bin" run "$scenario" "${run_args[@]}" --out "$work/single-run" --quiet
"$bin" sweep "$scenario" "${sweep_args[@]}" --out "$work/single-sweep" --quiet
"$bin" plan "$plan_scenario" "${plan_args[@]}" --out "$work/single-plan" --quiet

# On the cluster: array jobs plus merge jobs, submitted by the example scripts.
cd "$work/jobs"
merge_job() { sed -n 's/.*merge job \([0-9]*\).*/\1/p'; }
run_merge=$(SHARDS=4 OUT=$work/slurm-run ROLLOUT_SIM=$bin \
    bash "$repo/examples/slurm/run-array.sbatch" "$scenario" "${run_args[@]}" | merge_job)
sweep_merge=$(SHARDS=3 OUT=$work/slurm-sweep ROLLOUT_SIM=$bin \
    bash "$repo/examples/slurm/sweep-array.sbatch" "$scenario" "${sweep_args[@]}" | merge_job)
[[ -n $run_merge && -n $sweep_merge ]] || fail "the example scripts did not submit their merge jobs"

state_of() { scontrol show job "$1" -o 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
reason_of() { scontrol show job "$1" -o 2>/dev/null | sed -n 's/.*Reason=\([^ ]*\).*/\1/p'; }
deadline=$((SECONDS + timeout_s))
for job in "$run_merge" "$sweep_merge"; do
    while true; do
        state=$(state_of "$job")
        [[ $state == COMPLETED ]] && break
        case $state in
            FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
                fail "merge job $job ended $state" ;;
        esac
        [[ $(reason_of "$job") == DependencyNeverSatisfied ]] &&
            fail "merge job $job can never run: an array task failed"
        ((SECONDS < deadline)) || fail "merge job $job still $state after ${timeout_s}s"
        sleep 0.5
    done
done

# A plan: one array per stage, in the foreground, until it is published.
SHARDS=3 OUT=$work/slurm-plan ROLLOUT_SIM=$bin timeout "$timeout_s" \
    bash "$repo/examples/slurm/plan-array.sbatch" "$plan_scenario" "${plan_args[@]}" >"$work/plan-driver.log" ||
    fail "the plan driver failed: $(cat "$work/plan-driver.log")"
stages=$(ls "$work/slurm-plan-parts" | wc -l)
((stages >= 2)) || fail "the plan ran $stages stages; the test needs a plan of several"

diff -r "$work/single-run" "$work/slurm-run" || fail "the merged run differs from the single-machine run"
diff -r "$work/single-sweep" "$work/slurm-sweep" || fail "the merged sweep differs from the single-machine sweep"
diff -r "$work/single-plan" "$work/slurm-plan" || fail "the plan published from the stages' parts differs from the single-machine plan"
[[ $(ls "$work/slurm-run-parts") == $'part-0-of-4.jsonl\npart-1-of-4.jsonl\npart-2-of-4.jsonl\npart-3-of-4.jsonl' ]] ||
    fail "the array did not write one part per task"
echo "test-slurm: the merged run (4 tasks) and sweep (3 tasks), and the plan ($stages stages of 3 tasks), are byte-identical to one machine's"
