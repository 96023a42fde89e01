#!/usr/bin/env bash
# Measures the real binary: time from start to the first full frame of the
# demo, and resident memory after a minute of polling (sampled every 10 s).
# Needs tmux. Usage: scripts/measure.sh [path/to/honban]   (default: release build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${1:-target/release/honban}"
[[ -x "$bin" ]] || cargo build --release --quiet
command -v tmux >/dev/null || { echo "measure.sh needs tmux" >&2; exit 1; }

session="honban-measure-$$"
home="$(mktemp -d)"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$home"' EXIT

start=$(date +%s%N)
tmux new-session -d -s "$session" -x 120 -y 40 \
    "env HOME=$home XDG_CONFIG_HOME=$home/config XDG_STATE_HOME=$home/state $bin --demo --seed 1"
until tmux capture-pane -p -t "$session" 2>/dev/null | grep -q "updated .* ago"; do
    sleep 0.01
    if (( ($(date +%s%N) - start) / 1000000 > 20000 )); then echo "no frame within 20 s" >&2; exit 1; fi
done
first_frame_ms=$(( ($(date +%s%N) - start) / 1000000 ))
pid=$(pgrep -n -f "$bin --demo --seed 1")
echo "first full frame (data loaded): ${first_frame_ms} ms"
for i in 1 2 3 4 5 6; do
    sleep 10
    echo "rss after $((i * 10)) s: $(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status")"
done
