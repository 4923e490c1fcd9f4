"""The checkout line of benches/peers/checkout.toml on SimPy 4: a peer for storetwin.

Usage::

    python checkout_simpy.py [--scenario checkout.toml] [--replications R] [--seed S]
                             [--balk-at K] [--patience-s P] [--hours H]

Prints one JSON line::

    {"peer": "simpy", "model": {...}, "replications": R,
     "per_replication": [{"arrivals", "served", "balked", "reneged", "wait_mean_s",
                          "balk_rate", "renege_rate"}, ...],
     "wait_mean_s": {"mean", "ci95", "low", "high", "n"}, "balk_rate": {...},
     "renege_rate": {...}, "wall_s": ...}

The model (read from the scenario file, so the two peers cannot drift apart): Poisson
arrivals at a constant rate per hour for the scenario's hours; one line feeding c
servers (the scenario's lanes, all on one shared line); exponential service (the lanes'
``base_s``); an arriving customer who finds ``balk_at`` or more waiting balks; a waiting
customer whose patience (exponential, the segment's ``patience_s``) runs out reneges.
Customers still waiting or in service at the end count as neither.

How it maps onto SimPy, the textbook way: the lanes are one ``simpy.Resource`` with
capacity c, whose ``queue`` is the line; a customer is a process that balks if
``len(lanes.queue) >= balk_at``, else requests a lane and waits for whichever comes
first, the grant or its patience timeout (``request | timeout``); leaving the ``with``
block cancels a request that was not granted (reneging) or releases the lane.

Two details copy storetwin exactly. A shopper enters the store at the arrival time and
reaches the line a constant ``walk`` later (2 s on checkout.toml's floor); arrivals are
counted at the door (storetwin's ``footfall``), so one arriving in the last 2 s of the
day is counted but never reaches the line. Rates are per arrival: balked / arrivals,
reneged / arrivals.

Random numbers: replication r uses its own ``random.Random`` seeded from (seed, r);
the arrival stream, the patience and the service times all draw from it.

Wall time covers the R replications (``time.perf_counter``), not the Python start-up or
reading the scenario.
"""

import argparse
import json
import math
import random
import sys
import time
import tomllib
from pathlib import Path

import simpy


def t975(df: int) -> float:
    """Two-sided 97.5% quantile of Student's t (the table of storetwin's cli/src/stats.rs)."""
    table = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ]
    if df <= 0:
        return math.inf
    if df <= 30:
        return table[df - 1]
    if df <= 60:
        return 2.042 - (df - 30) * (2.042 - 2.000) / 30
    if df <= 120:
        return 2.000 - (df - 60) * (2.000 - 1.980) / 60
    return 1.960


def estimate(values: list[float]) -> dict:
    """Mean and 95% confidence interval across replications, as storetwin reports them."""
    n = len(values)
    mean = sum(values) / n if n else 0.0
    ci95 = 0.0
    if n >= 2:
        var = sum((v - mean) ** 2 for v in values) / (n - 1)
        ci95 = t975(n - 1) * math.sqrt(var / n)
    return {"mean": mean, "ci95": ci95, "low": mean - ci95, "high": mean + ci95, "n": n}


def exponential_mean(d, what: str) -> float:
    if isinstance(d, dict) and d.get("dist") == "exponential":
        return float(d["mean"])
    sys.exit(f"checkout_simpy: {what} must be {{ dist = \"exponential\", mean = ... }}, found {d!r}")


def zero(d) -> bool:
    return isinstance(d, (int, float)) and d == 0


def model_from_scenario(path: Path) -> dict:
    """The queueing parameters of the scenario, after checking it reduces to the model."""
    with open(path, "rb") as f:
        s = tomllib.load(f)
    if "extends" in s:
        sys.exit("checkout_simpy: the scenario must not use `extends`")
    per_hour = s["arrivals"]["per_hour"]
    if len(set(per_hour)) != 1:
        sys.exit("checkout_simpy: arrivals.per_hour must be one constant rate")
    lanes = s["lane"]
    if len({lane.get("line") for lane in lanes}) != 1 or lanes[0].get("line") is None:
        sys.exit("checkout_simpy: every lane must be on the same shared line")
    services = {exponential_mean(lane["base_s"], f"lane {lane['name']} base_s") for lane in lanes}
    if len(services) != 1:
        sys.exit("checkout_simpy: every lane must have the same service time")
    for lane in lanes:
        if not (zero(lane["per_item_s"]) and all(zero(v) for v in lane["pay_s"].values())):
            sys.exit(f"checkout_simpy: lane {lane['name']} must take no time per item or to pay")
    (segment,) = s["segment"]
    if segment["basket"] != 1 or not zero(segment["dwell_s"]):
        sys.exit("checkout_simpy: the segment must buy one item with no dwell")
    if s.get("lane_policy") or s.get("disruption"):
        sys.exit("checkout_simpy: no lane policy and no disruptions")
    h0, m0 = map(int, s["run"]["open"].split(":"))
    h1, m1 = map(int, s["run"]["close"].split(":"))
    duration_s = (h1 * 60 + m1 - h0 * 60 - m0) * 60
    if duration_s != 3600 * len(per_hour):
        sys.exit("checkout_simpy: the day must be as long as arrivals.per_hour")
    # The walk from the door to the line: 2 cells at a constant speed (the floor of
    # checkout.toml: entrance [1, 1] next to the shelf, lane L1 at [1, 3]).
    walk_s = 2 * float(s["store"]["cell_m"]) / float(segment["speed_mps"])
    return {
        "servers": len(lanes),
        "per_hour": float(per_hour[0]),
        "service_s": services.pop(),
        "balk_at": int(segment["balk_at"]),
        "patience_s": exponential_mean(segment["patience_s"], "segment patience_s"),
        "hours": len(per_hour),
        "walk_s": walk_s,
    }


class Tally:
    def __init__(self) -> None:
        self.arrivals = 0
        self.balked = 0
        self.reneged = 0
        self.served = 0  # service started
        self.wait_sum = 0.0


def customer(env: simpy.Environment, lanes: simpy.Resource, m: dict, rng: random.Random, tally: Tally):
    yield env.timeout(m["walk_s"])
    if len(lanes.queue) >= m["balk_at"]:
        tally.balked += 1
        return
    joined = env.now
    patience = rng.expovariate(1.0 / m["patience_s"])
    with lanes.request() as request:
        granted = yield request | env.timeout(patience)
        if request not in granted:
            tally.reneged += 1
            return
        tally.served += 1
        tally.wait_sum += env.now - joined
        yield env.timeout(rng.expovariate(1.0 / m["service_s"]))


def arrivals(env: simpy.Environment, lanes: simpy.Resource, m: dict, rng: random.Random, tally: Tally, end: float):
    rate_per_s = m["per_hour"] / 3600.0
    while True:
        yield env.timeout(rng.expovariate(rate_per_s))
        if env.now >= end:
            return
        tally.arrivals += 1
        env.process(customer(env, lanes, m, rng, tally))


def replication(m: dict, seed: int, r: int) -> dict:
    rng = random.Random(f"checkout:{seed}:{r}")
    env = simpy.Environment()
    lanes = simpy.Resource(env, capacity=m["servers"])
    tally = Tally()
    end = m["hours"] * 3600.0
    env.process(arrivals(env, lanes, m, rng, tally, end))
    env.run(until=end)
    n = max(tally.arrivals, 1)
    return {
        "arrivals": tally.arrivals,
        "served": tally.served,
        "balked": tally.balked,
        "reneged": tally.reneged,
        "wait_mean_s": tally.wait_sum / tally.served if tally.served else 0.0,
        "balk_rate": tally.balked / n,
        "renege_rate": tally.reneged / n,
    }


def main() -> None:
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", type=Path, default=here / "checkout.toml")
    p.add_argument("--replications", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--balk-at", type=int, help="override the scenario's balk_at")
    p.add_argument("--patience-s", type=float, help="override the scenario's mean patience")
    p.add_argument("--hours", type=int, help="override the scenario's hours")
    args = p.parse_args()
    m = model_from_scenario(args.scenario)
    for key in ("balk_at", "patience_s", "hours"):
        if getattr(args, key) is not None:
            m[key] = getattr(args, key)

    started = time.perf_counter()
    runs = [replication(m, args.seed, r) for r in range(args.replications)]
    wall = time.perf_counter() - started

    out = {
        "peer": "simpy",
        "simpy": simpy.__version__,
        "model": m,
        "replications": args.replications,
        "seed": args.seed,
        "per_replication": runs,
        "wait_mean_s": estimate([r["wait_mean_s"] for r in runs if r["served"]]),
        "balk_rate": estimate([r["balk_rate"] for r in runs]),
        "renege_rate": estimate([r["renege_rate"] for r in runs]),
        "wall_s": wall,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
