"""PHOLD (ROSS defaults) on SimPy 4, a peer benchmark for the storetwin kernel.

Usage::

    python phold_simpy.py --lps N --events E [--seed S] [--remote P]

(defaults: seed 1, remote 0.25). Prints one JSON line::

    {"peer": "simpy", "lps": N, "events": E, "wall_s": ..., "events_per_sec": ...}

The model. N logical processes (LPs). At start every LP schedules one event
to itself at Exp(1) + 1. An LP processing an event at time t draws
U ~ U[0, 1); if U < remote the destination is uniform over all N LPs (itself
included), else itself; it sends one event to the destination at
t + Exp(1) + 1 (lookahead 1). The run stops once E events have been processed.

How it maps onto SimPy. A PHOLD event in flight is one SimPy ``Timeout``
(``env.timeout(delay, value=destination)``) with a callback appended; when
SimPy pops the timeout at t + delay it calls the callback, which *is* the
destination LP processing the event: it counts it, draws the next destination
and delay, and schedules the next ``Timeout``. The simulation time is SimPy's
own float clock and its event heap orders the events, so SimPy does all the
scheduling, as in the other peers.

Why callbacks rather than processes. The other idiomatic shape, one generator
process per LP blocking on a ``Store`` of incoming messages, needs for every
PHOLD event a ``Timeout`` for the delay *and* a ``Store.put`` / ``Store.get``
pair plus a generator resume, i.e. three or four SimPy events where the
callback form needs one; a process per message (``env.process(deliver(...))``)
needs an ``Initialize`` event, a generator and a ``Process`` event on top of
the ``Timeout``. All three model PHOLD the same way (an LP's state here is
only its id, so nothing is lost by not having a process hold it); on this
project's 2-core machine the callback form ran about 4-5x faster than the
``Store`` form and 3-4x faster than the process-per-message form (SimPy 4.1,
CPython 3.11, 1,024 and 65,536 LPs), so SimPy is measured at its best.

Stopping. When the E-th event is processed the callback succeeds a ``stop``
event and ``env.run(until=stop)`` returns as soon as SimPy processes it. A
timeout that happens to share the last time stamp and is popped before
``stop`` sees the count past E and does nothing, so exactly E events are
processed.

Random numbers. One ``random.Random(seed)`` (Mersenne Twister) for the whole
run: per-LP generators would cost ~2.5 KB of state each (160 MB at 65,536 LPs)
and PHOLD's statistics do not depend on it. Exp(1) is ``-log(1 - U)`` (what
``random.expovariate`` computes, without the call overhead), the uniform
destination is ``int(U * N)``.

Only ``env.run`` is timed (``time.perf_counter``, monotonic), not the
construction of the environment or the N start events.
"""

import argparse
import json
import random
import sys
import time
from math import log

import simpy


def run_phold(lps: int, events: int, seed: int, remote: float) -> tuple[int, float]:
    """Runs PHOLD; returns (events processed, wall seconds of the event loop)."""
    env = simpy.Environment()
    rng = random.Random(seed)
    rnd = rng.random
    timeout = env.timeout
    stop = env.event()
    processed = 0

    def process(event: simpy.events.Timeout) -> None:
        """The destination LP (``event.value``) processes one PHOLD event."""
        nonlocal processed
        processed += 1
        if processed > events:
            return  # past the budget: shares the last time stamp with `stop`
        if processed == events:
            stop.succeed()
        lp = event.value
        dest = int(rnd() * lps) if rnd() < remote else lp
        timeout(1.0 - log(1.0 - rnd()), dest).callbacks.append(process)

    # One start event per LP, to itself, at Exp(1) + 1.
    for lp in range(lps):
        timeout(1.0 - log(1.0 - rnd()), lp).callbacks.append(process)

    started = time.perf_counter()
    if events > 0:
        env.run(until=stop)
    wall = time.perf_counter() - started
    return min(processed, events), wall


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="PHOLD (ROSS defaults) on SimPy")
    parser.add_argument("--lps", type=int, required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--remote", type=float, default=0.25)
    args = parser.parse_args(argv)
    if args.lps < 1 or args.events < 0 or not 0.0 <= args.remote <= 1.0:
        parser.error("need --lps >= 1, --events >= 0 and 0 <= --remote <= 1")

    processed, wall = run_phold(args.lps, args.events, args.seed, args.remote)
    print(
        json.dumps(
            {
                "peer": "simpy",
                "lps": args.lps,
                "events": processed,
                "wall_s": wall,
                "events_per_sec": processed / max(wall, 1e-9),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
