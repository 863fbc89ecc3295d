#!/usr/bin/env python3
"""The rollout-sim bench model written with SimPy, for a like-for-like peer comparison.

Implements the subset of the model that the benchmark scenarios use: Connect, one
descriptor-poll process per replication, segments with time-zone mixes, the default
maintenance window (daily 01:00-03:00 site time) with its slip, 24 h UPM polls with a
per-instance phase, admin profiles (approve / reject / ignore, lognormal, exponential,
fixed, uniform delays), the permission gate with several releases, and approval applying
the newest published version. Each instance is a SimPy process.

Prints one JSON object: per release, per replication, time to 50% and 99% share and the
coexistence window, in hours (null when censored), plus the simulation wall time.

Usage: simpy_model.py SCENARIO.json [--instances N] [--replications R]
"""

import argparse
import json
import math
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import simpy

H = 3600.0  # the SimPy clock counts seconds
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

BUILTIN_ADMINS = {
    "default": {"approve": 0.75, "reject": 0.05, "delay": {"lognormal": {"median": "2d", "sigma": 1.2}}},
    "prompt": {"approve": 0.95, "reject": 0.02, "delay": {"lognormal": {"median": "4h", "sigma": 1.0}}},
    "casual": {"approve": 0.70, "reject": 0.05, "delay": {"lognormal": {"median": "3d", "sigma": 1.2}}},
    "careful": {"approve": 0.90, "reject": 0.05, "delay": {"lognormal": {"median": "7d", "sigma": 0.8}}},
}


def seconds(text):
    total, num = 0.0, ""
    i = 0
    while i < len(text):
        c = text[i]
        if c.isdigit() or c == ".":
            num += c
            i += 1
            continue
        unit = ""
        while i < len(text) and text[i].isalpha():
            unit += text[i]
            i += 1
        total += float(num) * UNITS[unit]
        num = ""
    return total


def sample_delay(spec, rng):
    kind, value = next(iter(spec.items()))
    if kind == "fixed":
        return seconds(value)
    if kind == "uniform":
        return rng.uniform(seconds(value[0]), seconds(value[1]))
    if kind == "exponential":
        return rng.expovariate(1.0 / seconds(value["mean"]))
    if kind == "lognormal":
        return seconds(value["median"]) * math.exp(value["sigma"] * rng.gauss(0.0, 1.0))
    raise SystemExit(f"delay {kind} not implemented in the peer model")


def in_window(instant_utc, zone):
    local = instant_utc.astimezone(ZoneInfo(zone))
    return 1 <= local.hour < 3


def simulate(scenario, instances, replication):
    rng = random.Random(scenario.get("seed", 0) * 1_000_003 + replication)
    start = datetime.fromisoformat(scenario["start"].replace("Z", "+00:00"))
    horizon = seconds(scenario["horizon"])
    timing = scenario.get("timing", {})
    descriptor_poll = seconds(timing.get("descriptor_poll", "5h"))
    upm_poll = seconds(timing.get("upm_poll", "24h"))
    slip = seconds(timing.get("maintenance_slip", "4h"))
    admins = dict(BUILTIN_ADMINS, **scenario.get("admins", {}))
    segments = scenario["population"].get("segments") or [{"name": "all", "share": 1.0}]
    releases = scenario["releases"]
    deployed = [seconds(r["at"]) for r in releases]

    # Versions as permission levels: version k+1 needs every scope change up to k.
    scope_level = [0]
    for r in releases:
        scope_level.append(scope_level[-1] + (1 if ("scopes" in r["changes"] or "licensing" in r["changes"]) else 0))
    n_versions = len(releases) + 1

    # Publication: one descriptor-poll process with a uniform phase.
    phase = rng.uniform(0, descriptor_poll)
    published = [phase + math.ceil(max(0.0, d - phase) / descriptor_poll) * descriptor_poll for d in deployed]
    window_open = {}

    env = simpy.Environment()
    reach = [[math.inf] * len(releases) for _ in range(instances)]

    def newest_published(t):
        return max([k + 1 for k in range(len(releases)) if published[k] <= t], default=0)

    def instance(i):
        seg = rng.choices(segments, weights=[s["share"] for s in segments])[0]
        zones = seg.get("timezones") or {"UTC": 1.0}
        zone = rng.choices(list(zones), weights=list(zones.values()))[0]
        admin = admins[seg.get("admin", "default")]
        poll_phase = rng.uniform(0, upm_poll)
        earliest = []
        for k, d in enumerate(deployed):
            key = (k, zone)
            if key not in window_open:
                window_open[key] = in_window(start + timedelta(seconds=d), zone)
            earliest.append(published[k] + (slip if window_open[key] and seg.get("maintenance", "default") != "none" else 0.0))
        polls = sorted({poll_phase + math.ceil(max(0.0, e - poll_phase) / upm_poll) * upm_poll for e in earliest})
        state = {"version": 0, "episode": False, "declined": False, "gone": False}

        def install(t, v):
            state["version"] = v
            for k in range(len(releases)):
                if v >= k + 1 and reach[i][k] == math.inf:
                    reach[i][k] = t

        def respond(delay, approve):
            yield env.timeout(delay)
            state["episode"] = False
            if approve:
                v = newest_published(env.now)
                if v > state["version"]:
                    install(env.now, v)
            else:
                state["declined"] = True

        for p in polls:
            if p > horizon:
                break
            yield env.timeout(p - env.now)
            visible = max(k + 1 for k in range(len(releases)) if earliest[k] <= env.now)
            if visible <= state["version"]:
                continue
            if scope_level[visible] <= scope_level[state["version"]]:
                install(env.now, visible)
                state["episode"] = False
            elif not state["episode"] and not state["declined"]:
                state["episode"] = True
                u = rng.random()
                if u < admin["approve"] + admin["reject"]:
                    env.process(respond(sample_delay(admin["delay"], rng), u < admin["approve"]))

    for i in range(instances):
        env.process(instance(i))
    env.run(until=horizon)

    out = []
    for k, d in enumerate(deployed):
        times = sorted(r[k] for r in reach)
        def first_share(p):
            need = math.ceil(p * instances - 1e-9)
            t = times[need - 1]
            return None if t > horizon else max(0.0, t - d) / H
        out.append({"time_to_50": first_share(0.5), "time_to_99": first_share(0.99), "coexistence": first_share(1.0)})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--instances", type=int)
    ap.add_argument("--replications", type=int)
    args = ap.parse_args()
    scenario = json.load(open(args.scenario))
    instances = args.instances or scenario["population"]["instances"]
    reps = args.replications or scenario.get("replications", 100)
    started = time.perf_counter()
    per_rep = [simulate(scenario, instances, r) for r in range(reps)]
    wall = time.perf_counter() - started
    json.dump({"wall_seconds": wall, "instances": instances, "replications": reps,
               "releases": [[rep[k] for rep in per_rep] for k in range(len(scenario["releases"]))]}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
