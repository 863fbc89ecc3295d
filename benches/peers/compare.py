#!/usr/bin/env python3
"""Runs rollout-sim and the SimPy peer model on the same scenario and prints both wall
times, their ratio, and whether the headline figures agree within sampling error.

Usage (from the repository root):
    python3 benches/peers/compare.py [SCENARIO] [--instances N] [--replications R]
Defaults: scenarios/bench-replications.json, 10,000 instances, 50 replications.
Needs `pip install simpy`. Exit status 0 when every figure agrees, 1 otherwise.

Agreement: for each release and figure (time to 50%, time to 99%, coexistence), either
both models censor it in every replication, or both observe it in every replication and
their means differ by less than 4 standard errors of the difference (the two models use
independent random numbers, so their difference is pure sampling error plus any model
discrepancy).
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run_rollout_sim(scenario, instances, reps):
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "rollout-sim")
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        proc = subprocess.run([binary, "run", scenario, "--instances", str(instances), "--replications", str(reps),
                               "--threads", "1", "--format", "json", "--out", out], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
    return wall, json.loads(proc.stdout)


def run_simpy(scenario, instances, reps):
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.join(HERE, "simpy_model.py"), scenario, "--instances", str(instances),
                           "--replications", str(reps)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    return wall, json.loads(proc.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default=os.path.join(ROOT, "scenarios", "bench-replications.json"))
    ap.add_argument("--instances", type=int, default=10_000)
    ap.add_argument("--replications", type=int, default=50)
    args = ap.parse_args()

    rs_wall, report = run_rollout_sim(args.scenario, args.instances, args.replications)
    py_wall, peer = run_simpy(args.scenario, args.instances, args.replications)

    print(f"scenario {os.path.basename(args.scenario)}: {args.instances} instances x {args.replications} replications")
    print(f"rollout-sim: {rs_wall:8.2f} s wall (whole process, --threads 1)")
    print(f"SimPy:       {py_wall:8.2f} s wall (whole process, one core)")
    print(f"ratio SimPy / rollout-sim: {py_wall / rs_wall:.0f}x\n")

    figures = [("time to 50%", "0.5", "time_to_50"), ("time to 99%", "0.99", "time_to_99"), ("coexistence", None, "coexistence")]
    agree = True
    print(f"{'release':>7}  {'figure':<12} {'rollout-sim mean (se)':>24} {'SimPy mean (se)':>22} {'z':>6}  verdict")
    for k, rel in enumerate(report["releases"]):
        for name, key, peer_key in figures:
            stat = rel["time_to_share_hours"][key] if key else rel["coexistence_hours"]
            values = [rep[peer_key] for rep in peer["releases"][k]]
            observed = [v for v in values if v is not None]
            if stat["n"] == 0 and not observed:
                print(f"{k:>7}  {name:<12} {'censored in all':>24} {'censored in all':>22} {'':>6}  agree")
                continue
            if stat["censored"] or len(observed) < len(values) or stat["n"] < 2:
                print(f"{k:>7}  {name:<12} censored in {stat['censored']} vs {len(values) - len(observed)}: not comparable")
                agree = False
                continue
            se_rs = stat["std"] / math.sqrt(stat["n"])
            mean_py, se_py = statistics.fmean(observed), statistics.stdev(observed) / math.sqrt(len(observed))
            z = abs(stat["mean"] - mean_py) / math.sqrt(se_rs ** 2 + se_py ** 2)
            ok = z < 4.0
            agree &= ok
            print(f"{k:>7}  {name:<12} {stat['mean']:>15.2f} ({se_rs:.2f}) {mean_py:>13.2f} ({se_py:.2f}) {z:>6.2f}  {'agree' if ok else 'DISAGREE'}")
    print("\nall headline figures agree within sampling error" if agree else "\nsome figures disagree")
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()
