#!/usr/bin/env bash
# Measures how the real binary takes input in bulk: 1 000 keys written at
# once (`jk` × 500, then `j` and enter, which opens the second service), and
# a 5 000-character paste into the command line followed by esc and a view
# key. Each figure is the time until the screen shows the result. Give a
# second binary (e.g. a build of an older commit) to measure it in the same
# run as the baseline.
# Needs tmux. Usage: scripts/measure-input.sh [path/to/honban [baseline]]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${1:-target/release/honban}"
base="${2:-}"
[[ -x "$bin" ]] || cargo build --release --quiet
command -v tmux >/dev/null || { echo "measure-input.sh needs tmux" >&2; exit 1; }
LIMIT_MS=120000

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_for SESSION TEXT: milliseconds until TEXT is on screen, or "timeout".
wait_for() {
    local start; start=$(now_ms)
    until tmux capture-pane -p -t "$1" 2>/dev/null | grep -qF -- "$2"; do
        sleep 0.01
        if (( $(now_ms) - start > LIMIT_MS )); then echo "timeout"; return; fi
    done
    echo $(( $(now_ms) - start ))
}

measure() {
    local bin="$1" session="honban-input-$$" home
    home="$(mktemp -d)"
    tmux new-session -d -s "$session" -x 120 -y 40 \
        "env HOME=$home XDG_CONFIG_HOME=$home/config XDG_STATE_HOME=$home/state $bin --demo --seed 1"
    [[ "$(wait_for "$session" "updated")" != timeout ]] || { echo "no first frame" >&2; return 1; }
    tmux send-keys -t "$session" 2
    wait_for "$session" "Services (3)" >/dev/null

    local burst; burst="$(printf 'jk%.0s' $(seq 500))j"
    local start; start=$(now_ms)
    tmux send-keys -t "$session" -l "$burst"
    tmux send-keys -t "$session" Enter
    local keys; keys=$(wait_for "$session" "Service web")
    if [[ "$keys" == timeout ]]; then keys="> ${LIMIT_MS} (gave up)"; else keys=$(( $(now_ms) - start )); fi
    echo "$bin: 1 000 keys at once → their result on screen: ${keys} ms"

    tmux send-keys -t "$session" Escape
    wait_for "$session" "Services (3)" >/dev/null
    tmux send-keys -t "$session" :
    sleep 0.2
    python3 -c "print('x' * 5000, end='')" > "$home/paste"
    tmux load-buffer -b "honban-$$" "$home/paste"
    start=$(now_ms)
    tmux paste-buffer -p -b "honban-$$" -t "$session"
    tmux send-keys -t "$session" Escape
    sleep 0.06
    tmux send-keys -t "$session" 4
    local paste; paste=$(wait_for "$session" "Databases")
    if [[ "$paste" == timeout ]]; then paste="> ${LIMIT_MS} (gave up)"; else paste=$(( $(now_ms) - start )); fi
    echo "$bin: 5 000-character paste, esc, 4 → databases view: ${paste} ms"
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$home"
}

measure "$bin"
if [[ -n "$base" ]]; then
    measure "$base"
fi
