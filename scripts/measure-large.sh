#!/usr/bin/env bash
# The real console (release build) on a large environment: 3 clusters, 300
# services, 3 000 tasks, 20 databases, 500 alarms, in moto behind the test
# proxy (tests/moto/proxy.py: the APIs' page sizes and batch limits, every
# AWS request held --latency-ms, a region's round trip). Optionally another
# binary side by side (--baseline, e.g. one built from an older commit),
# with a proxy of its own in front of the same moto, so that each proxy
# counts one binary's requests. Measures (scripts/bench/measure_large.py):
#
#   - start-up: process start → first frame, → the complete overview, and
#     the requests of that first refresh per API against the floor
#     (--rounds, interleaved A B A B);
#   - idle (--minutes, both consoles at once, every poller at --interval
#     seconds, no key): RSS from /proc every 5 s, CPU (utime+stime) per
#     refresh, bytes written to the terminal per minute, requests per
#     refresh per API against the floor;
#   - keypress → frame while fetches are in flight (every request then held
#     --key-latency-ms): --keys keys per console, median and p95.
#
#   scripts/measure-large.sh [--baseline /path/to/old/honban] [--rounds 5]
#       [--minutes 5] [--interval 10] [--keys 60] [--latency-ms 25]
#       [--key-latency-ms 2000] [--skip startup,idle,keys] (keys need idle)
#
# The consoles run in pseudo-terminals of python's `pty` module, their
# screens read by the `pyte` terminal emulator: no tmux. Builds honban
# (CARGO_TARGET_DIR is honoured) and makes what it needs: moto in .venv (as
# scripts/test.sh does), pyte in a virtualenv of its own ($HONBAN_BENCH_VENV,
# default <target>/bench-venv). Prints Markdown tables; about 10 minutes
# with the defaults.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

baseline=""
latency=25
driver_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --baseline) baseline="$2"; shift 2 ;;
        --latency-ms) latency="$2"; shift 2 ;;
        --rounds|--minutes|--interval|--keys|--key-latency-ms|--skip)
            driver_args+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "measure-large: unknown argument: $1" >&2; exit 64 ;;
    esac
done

target="${CARGO_TARGET_DIR:-$root/target}"
echo "==> cargo build --release" >&2
cargo build --release --quiet
honban="$target/release/honban"

venv="${HONBAN_MOTO_VENV:-$root/.venv}"
if ! "$venv/bin/python" -c 'import moto, cbor2, boto3' 2>/dev/null; then
    echo "==> moto into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5' 'cbor2>=5.6'
fi
bench_venv="${HONBAN_BENCH_VENV:-$target/bench-venv}"
if ! "$bench_venv/bin/python" -c 'import pyte' 2>/dev/null; then
    echo "==> pyte into $bench_venv" >&2
    python3 -m venv "$bench_venv"
    "$bench_venv/bin/python" -m pip install --quiet --disable-pip-version-check 'pyte==0.8.2'
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/honban-measure-large.XXXXXX")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
moto_port="$(free_port)"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$moto_port/moto-api/state-manager/get-transition?model_name=ecs::task', timeout=1)" 2>/dev/null; then
        break
    fi
    sleep 0.2
done
# Started here, not in a $(…) subshell, so that their pids reach the
# cleanup (a subshell's `pids+=` is lost and the proxies outlived the run).
start_proxy() {
    "$venv/bin/python" tests/moto/proxy.py --listen 127.0.0.1:0 --moto "http://127.0.0.1:$moto_port" \
        --latency-ms "$latency" >"$work/proxy-$1.out" 2>"$work/proxy-$1.log" &
    pids+=($!)
}
proxy_url() {
    for _ in $(seq 100); do
        grep -q '^READY' "$work/proxy-$1.out" 2>/dev/null && break
        sleep 0.1
    done
    echo "http://127.0.0.1:$(awk '/^READY/ {print $2}' "$work/proxy-$1.out")"
}
start_proxy honban
start_proxy baseline
proxy="$(proxy_url honban)"
proxy_baseline="$(proxy_url baseline)"

# As bench-first-screen.sh --large: three clusters of 3 + 97 services and
# 6 + 994 tasks, 2 + 4 databases (+ 2 in the first) and 18 + 148 alarms
# (+ 2 in the first): 300 services, 3 000 tasks, 20 databases, 500 alarms.
names=(large-a large-b large-c)
seeds=("--extra-services 97 --extra-tasks 994 --extra-dbs 6 --extra-alarms 150"
       "--extra-services 97 --extra-tasks 994 --extra-dbs 4 --extra-alarms 148"
       "--extra-services 97 --extra-tasks 994 --extra-dbs 4 --extra-alarms 148")
{
    echo '[[environment]]'
    echo 'name = "large"'
    echo 'region = "ap-northeast-1"'
    echo 'endpoint_url = "@PROXY@"'
} >"$work/env.toml"
for i in "${!names[@]}"; do
    echo "==> seeding ${names[$i]} (${seeds[$i]})" >&2
    # shellcheck disable=SC2086 # the seed arguments are words
    "$venv/bin/python" scripts/seed-moto.py --endpoint "http://127.0.0.1:$moto_port" \
        --name "${names[$i]}" ${seeds[$i]} >"$work/seed-$i.json"
    printf '[[environment.clusters]]\nname = "%s"\n' "${names[$i]}" >>"$work/env.toml"
done

args=(--honban "$honban" --proxy "$proxy" --proxy-baseline "$proxy_baseline"
      --env-config "$work/env.toml" --seeds "$work/seed-*.json" --workdir "$work")
if [[ -n "$baseline" ]]; then
    args+=(--baseline "$baseline")
fi
"$bench_venv/bin/python" scripts/bench/measure_large.py "${args[@]}" "${driver_args[@]}"
