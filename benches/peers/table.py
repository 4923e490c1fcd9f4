"""Prints the side-by-side PHOLD table from the JSON lines the peers wrote.

Each line is one run: {"peer", "lps", "events", "wall_s", "events_per_sec", ...}.
Repeated runs of a peer are summarised by their median events/s.
Exit status 0 always: the budget lines say PASS or MISS; the numbers are the point.
"""

import datetime
import json
import os
import platform
import statistics
import sys
from collections import defaultdict


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def peer_name(run: dict) -> str:
    name = run["peer"]
    threads = run.get("threads")
    if name == "nexosim" and threads is not None:
        name = f"nexosim-{threads}t"
    return name


def main(path: str) -> None:
    runs = defaultdict(list)
    extra = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            run = json.loads(line)
            key = (run["lps"], peer_name(run))
            runs[key].append(run)
            if run["peer"] == "storetwin":
                extra[run["lps"]] = run

    print(
        f"PHOLD, ROSS defaults (remote 0.25, delay Exp(1)+1, 1 event per LP); "
        f"{datetime.date.today()}, {os.cpu_count()} cores, {cpu_model()}"
    )
    print(f"{'LPs':>7}  {'peer':<16} {'runs':>4} {'events':>10} {'M events/s':>11}  {'storetwin / peer':>16}")
    order = ["storetwin", "bare-heap", "bare-heap-u128", "nexosim-1t", "nexosim-2t", "simpy"]
    medians = {}
    for lps in sorted({lps for lps, _ in runs}):
        peers = sorted({p for l, p in runs if l == lps}, key=lambda p: (order.index(p) if p in order else 99, p))
        for p in peers:
            medians[(lps, p)] = statistics.median(r["events_per_sec"] for r in runs[(lps, p)])
        ours = medians.get((lps, "storetwin"))
        for p in peers:
            rs = runs[(lps, p)]
            m = medians[(lps, p)]
            ratio = f"{ours / m:.2f}x" if ours else "-"
            print(f"{lps:>7}  {p:<16} {len(rs):>4} {rs[0]['events']:>10} {m / 1e6:>11.3f}  {ratio:>16}")
        if lps in extra:
            e = extra[lps]
            print(f"{'':>7}  storetwin engine memory {e['engine_bytes_per_lp']:.1f} bytes/LP, event_hash {e['event_hash']}")

    def check(label: str, ok: bool, detail: str) -> None:
        print(f"  {'PASS' if ok else 'MISS'}  {label}: {detail}")

    print("Budgets (issue: kernel foundation):")
    for lps, bare_min, nexo_min in [(1024, 1.0, 10.0), (65536, 0.8, None)]:
        ours = medians.get((lps, "storetwin"))
        bare = medians.get((lps, "bare-heap"))
        if ours and bare:
            check(f"{lps} LPs vs bare heap >= {bare_min}x", ours / bare >= bare_min, f"{ours / bare:.2f}x")
        nexo = medians.get((lps, "nexosim-1t"))
        if nexo_min and ours and nexo:
            check(f"{lps} LPs vs NeXosim (1 thread) >= {nexo_min}x", ours / nexo >= nexo_min, f"{ours / nexo:.1f}x")
    if 65536 in extra:
        b = extra[65536]["engine_bytes_per_lp"]
        check("65536 LPs engine memory <= 100 bytes/LP", b <= 100, f"{b:.1f} bytes/LP")


if __name__ == "__main__":
    main(sys.argv[1])
