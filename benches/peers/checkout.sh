#!/usr/bin/env bash
# The checkout line side by side: storetwin on checkout.toml and the SimPy model of the
# same queue (checkout_simpy.py), R independent replications each. Prints mean wait of
# those served, balk rate and renege rate (per arrival), each as mean ± 95% CI across
# replications, whether the two CIs overlap ("agree"), and the wall time of each.
#
# Usage: benches/peers/checkout.sh            (seconds after the build)
# Settings (environment): R=30 SEED=1 THREADS=1 (storetwin's threads; 1 = like SimPy)
#   CARGO_TARGET_DIR (default $HOME/.cache/storetwin-target)
#   PEERS_VENV (default $HOME/.cache/storetwin-peers-venv; made with simpy==4.1.1 if missing)
#
# storetwin's numbers come from summary.json's `replications`: each KPI's mean and 95% CI
# across replications (wait of the shared line, `balk_rate`, `renege_rate` per arrival).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/storetwin-target}"
venv="${PEERS_VENV:-$HOME/.cache/storetwin-peers-venv}"
R="${R:-30}"
SEED="${SEED:-1}"
THREADS="${THREADS:-1}"
scenario="$here/checkout.toml"

say() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }

say "== building storetwin (release)"
(cd "$root" && cargo build --release --quiet -p storetwin-cli)
storetwin="$CARGO_TARGET_DIR/release/storetwin"

say "== SimPy in a virtualenv at $venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import simpy' 2>/dev/null || "$venv/bin/pip" install --quiet 'simpy==4.1.1'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say "== storetwin: $R replications, seed $SEED, $THREADS thread(s)"
t0=$(now)
"$storetwin" run "$scenario" --out "$tmp/storetwin" --replications "$R" --seed "$SEED" --threads "$THREADS" >/dev/null
t1=$(now)

say "== SimPy: $R replications, seed $SEED"
"$venv/bin/python" "$here/checkout_simpy.py" --scenario "$scenario" --replications "$R" --seed "$SEED" >"$tmp/simpy.json"
t2=$(now)

python3 - "$tmp" "$R" "$t0" "$t1" "$t2" <<'PY'
import json
import sys

tmp, reps = sys.argv[1], int(sys.argv[2])
t0, t1, t2 = map(float, sys.argv[3:6])


def t975(df):
    table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
             2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
             2.045, 2.042]
    if df <= 0:
        return float("inf")
    if df <= 30:
        return table[df - 1]
    if df <= 60:
        return 2.042 - (df - 30) * (2.042 - 2.000) / 30
    if df <= 120:
        return 2.000 - (df - 60) * (2.000 - 1.980) / 60
    return 1.960


summary = json.load(open(f"{tmp}/storetwin/summary.json"))
simpy = json.load(open(f"{tmp}/simpy.json"))
line = next(q["name"] for q in summary["kpis"]["queues"] if q["kind"] == "line")
wait_key = f"queue[{line}].wait_mean_s"
across = summary["replications"]
ours = {"wait": across[wait_key], "balk": across["balk_rate"], "renege": across["renege_rate"]}
theirs = {"wait": simpy["wait_mean_s"], "balk": simpy["balk_rate"], "renege": simpy["renege_rate"]}


def steady_state(m):
    """Birth-death chain of the model in steady state: balk and renege probabilities."""
    lam, mu, theta = m["per_hour"] / 3600, 1 / m["service_s"], 1 / m["patience_s"]
    c, top = m["servers"], m["servers"] + m["balk_at"]
    p = [1.0]
    for n in range(1, top + 1):
        p.append(p[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
    total = sum(p)
    p = [x / total for x in p]
    waiting = sum(x * max(n - c, 0) for n, x in enumerate(p))
    return {"balk": p[top], "renege": theta * waiting / lam}


m = simpy["model"]
theory = steady_state(m)
print(f"Checkout line: M/M/{m['servers']}, {m['per_hour']:g} arrivals/h, mean service {m['service_s']:g} s "
      f"(rho {m['per_hour'] / 3600 * m['service_s'] / m['servers']:.2f}), balk at {m['balk_at']} waiting, "
      f"patience Exp(mean {m['patience_s']:g} s), {m['hours']} h from empty; {reps} replications each")
print(f"{'':<18}{'storetwin':>22}{'SimPy ' + simpy['simpy']:>22}  {'agree':<6}{'SimPy - storetwin':>22}")
rows = [("mean wait (s)", "wait", 1.0, 2), ("balk rate (%)", "balk", 100.0, 2), ("renege rate (%)", "renege", 100.0, 2)]
all_agree = True
for label, key, scale, digits in rows:
    a, b = ours[key], theirs[key]
    agree = a["low"] <= b["high"] and b["low"] <= a["high"]
    all_agree &= agree
    diff = b["mean"] - a["mean"]
    # Difference of two independent means, normal approximation.
    half = 1.96 * ((a["ci95"] / t975(a["n"] - 1)) ** 2 + (b["ci95"] / t975(b["n"] - 1)) ** 2) ** 0.5
    cell = lambda e: f"{e['mean'] * scale:.{digits}f} ± {e['ci95'] * scale:.{digits}f}"
    print(f"{label:<18}{cell(a):>22}{cell(b):>22}  {'yes' if agree else 'NO':<6}"
          f"{f'{diff * scale:+.{digits}f} ± {half * scale:.{digits}f}':>22}")
print(f"{'wall (s)':<18}{t1 - t0:>22.3f}{t2 - t1:>22.3f}   (whole process, start-up included)")
print(f"{'  of which run':<18}{summary['engine']['wall_s']:>22.3f}{simpy['wall_s']:>22.3f}   "
      f"(storetwin on {summary['run']['threads']} thread(s))")
print(f"steady state of the model (reference; the day starts empty, so a little lower): "
      f"balk {100 * theory['balk']:.2f} %, renege {100 * theory['renege']:.2f} %")
print("All three agree within their 95% CIs." if all_agree else "DISAGREE: see the rows marked NO.")
PY
