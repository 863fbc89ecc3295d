#!/usr/bin/env python3
"""Runs rollout-sim and its peers, the same bench model written with SimPy (Python) and
with NeXosim (Rust), on the same scenario; prints every wall time, each peer's ratio to
rollout-sim, and whether the headline figures agree within sampling error.

Usage (from the repository root):
    python3 benches/peers/compare.py [SCENARIO] [--instances N] [--replications R] [--peers simpy,nexosim]
Defaults: benches/scenarios/bench-replications.json, 10,000 instances, 50 replications, both peers.
Needs `pip install simpy` for SimPy; the NeXosim peer (benches/peers/nexosim, its own
crate, which `cargo test` never builds) is built here with cargo. Every program runs on
one core. Exit status 0 when every figure of every peer agrees, 1 otherwise.

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


def run_peer(command, scenario, instances, reps):
    started = time.perf_counter()
    proc = subprocess.run(command + [scenario, "--instances", str(instances), "--replications", str(reps)],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    return wall, json.loads(proc.stdout)


def simpy_command():
    return [sys.executable, os.path.join(HERE, "simpy_model.py")]


def nexosim_command():
    manifest = os.path.join(HERE, "nexosim", "Cargo.toml")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path", manifest], check=True)
    return [os.path.join(HERE, "nexosim", "target", "release", "rollout-nexosim-peer")]


PEERS = {"simpy": ("SimPy", simpy_command), "nexosim": ("NeXosim", nexosim_command)}


def agreement(report, peer, label):
    """Prints the figure-by-figure comparison with one peer; True when all agree."""
    figures = [("time to 50%", "0.5", "time_to_50"), ("time to 99%", "0.99", "time_to_99"), ("coexistence", None, "coexistence")]
    agree = True
    print(f"{'release':>7}  {'figure':<12} {'rollout-sim mean (se)':>24} {label + ' mean (se)':>22} {'z':>6}  verdict")
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
    return agree


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default=os.path.join(ROOT, "benches", "scenarios", "bench-replications.json"))
    ap.add_argument("--instances", type=int, default=10_000)
    ap.add_argument("--replications", type=int, default=50)
    ap.add_argument("--peers", default="simpy,nexosim", help="comma-separated: simpy, nexosim")
    args = ap.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        ap.error(f"unknown peer {unknown[0]!r}; choose from {', '.join(PEERS)}")

    rs_wall, report = run_rollout_sim(args.scenario, args.instances, args.replications)
    results = [(PEERS[p][0],) + run_peer(PEERS[p][1](), args.scenario, args.instances, args.replications) for p in peers]

    print(f"scenario {os.path.basename(args.scenario)}: {args.instances} instances x {args.replications} replications, one core each")
    print(f"{'rollout-sim':<12} {rs_wall:9.2f} s wall (whole process, --threads 1)")
    for label, wall, _ in results:
        print(f"{label:<12} {wall:9.2f} s wall (whole process)   {label} / rollout-sim: {wall / rs_wall:.1f}x")
    agree = True
    for label, _, peer in results:
        print()
        agree &= agreement(report, peer, label)
    print("\nall headline figures agree within sampling error" if agree else "\nsome figures disagree")
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()
