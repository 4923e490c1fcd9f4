#!/usr/bin/env bash
# PHOLD side by side: storetwin, the bare BinaryHeap loop (plain and with a packed u128
# key), NeXosim 1.0 (crates.io) and SimPy (PyPI), on the same model (ROSS defaults:
# remote 0.25, delay Exp(1) + 1, one start event per LP), in one run, on this machine.
# Prints a table of events/s and ratios, and checks the kernel budgets.
#
# Usage: benches/peers/compare.sh            (about 3 minutes after the builds)
# Settings (environment): LPS="1024 65536" EVENTS=10000000 NEXOSIM_EVENTS=2000000
#   NEXOSIM_MT_EVENTS=200000 (NeXosim on more than one thread is ~20x slower on PHOLD:
#   it runs only same-time events in parallel, and PHOLD has almost none)
#   SIMPY_EVENTS=300000 REPEAT=3 SEED=1 NEXOSIM_THREADS="1 2"
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/storetwin-target}"
peers_target="${PEERS_TARGET_DIR:-$HOME/.cache/storetwin-peers-target}"
venv="${PEERS_VENV:-$HOME/.cache/storetwin-peers-venv}"
LPS="${LPS:-1024 65536}"
EVENTS="${EVENTS:-10000000}"
NEXOSIM_EVENTS="${NEXOSIM_EVENTS:-2000000}"
NEXOSIM_MT_EVENTS="${NEXOSIM_MT_EVENTS:-200000}"
SIMPY_EVENTS="${SIMPY_EVENTS:-300000}"
REPEAT="${REPEAT:-3}"
SEED="${SEED:-1}"
NEXOSIM_THREADS="${NEXOSIM_THREADS:-1 2}"

say() { printf '%s\n' "$*" >&2; }

say "== building storetwin and the bare loop (release)"
(cd "$root" && cargo build --release --quiet -p storetwin-cli -p storetwin-benches)
storetwin="$CARGO_TARGET_DIR/release/storetwin"
bare="$CARGO_TARGET_DIR/release/phold-bare"

say "== building the NeXosim peer (release; first time a few minutes)"
(cd "$here/nexosim" && CARGO_TARGET_DIR="$peers_target" cargo build --release --quiet)
nexosim="$peers_target/release/phold-nexosim"

say "== SimPy in a virtualenv at $venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import simpy' 2>/dev/null || "$venv/bin/pip" install --quiet 'simpy==4.1.1'

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for lps in $LPS; do
  for ((rep = 1; rep <= REPEAT; rep++)); do
    say "== $lps LPs, round $rep of $REPEAT"
    # Round-robin, so that machine noise falls on every peer alike.
    "$storetwin" bench phold --lps "$lps" --events "$EVENTS" --seed "$SEED" --json >>"$results"
    "$bare" --lps "$lps" --events "$EVENTS" --seed "$SEED" --key tuple >>"$results"
    "$bare" --lps "$lps" --events "$EVENTS" --seed "$SEED" --key packed >>"$results"
    for t in $NEXOSIM_THREADS; do
      events=$NEXOSIM_EVENTS
      [ "$t" -gt 1 ] && events=$NEXOSIM_MT_EVENTS
      "$nexosim" --lps "$lps" --events "$events" --seed "$SEED" --threads "$t" >>"$results"
    done
  done
  # SimPy is ~50x slower than the Rust loops; one run of fewer events is enough.
  "$venv/bin/python" "$here/phold_simpy.py" --lps "$lps" --events "$SIMPY_EVENTS" --seed "$SEED" >>"$results"
done

python3 "$here/table.py" "$results"
