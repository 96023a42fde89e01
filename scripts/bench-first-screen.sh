#!/usr/bin/env bash
# The first screen, measured side by side in one run with interleaved
# rounds: honban (`honban status`, process start → every read of the
# environment answered and judged), the floor (the same calls, pages one
# after the other, batches and chains at once, clients already made), a
# sequential boto3 script and an AWS CLI script as a user would write them
# (scripts/bench/first_screen.py has all three), optionally another honban
# binary (--baseline, e.g. one built from main).
#
#   scripts/bench-first-screen.sh [--rounds 7] [--latency-ms 25]
#                                 [--baseline /path/to/old/honban] [--large]
#
# Against tests/moto/proxy.py in front of moto on 127.0.0.1, with a delay
# of --latency-ms on every AWS request (a region's round trip) and the
# APIs' real page sizes and batch limits, on an environment like seed 001
# (105 services, 108 tasks, 3 databases, 120 alarms; --large: 300 services,
# 3 000 tasks, 20 databases, 500 alarms). Builds honban in release mode
# (CARGO_TARGET_DIR is honoured) and makes what it needs: moto in .venv
# (as scripts/test.sh does) and awscli + boto3 in a virtualenv of its own
# ($HONBAN_BENCH_VENV, default <target>/bench-venv; awscli pins a botocore
# that moto's must not be swapped for). Prints a Markdown table.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

rounds=7
latency=25
baseline=""
large=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --latency-ms) latency="$2"; shift 2 ;;
        --baseline) baseline="$2"; shift 2 ;;
        --large) large=1; shift ;;
        -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-first-screen: unknown argument: $1" >&2; exit 64 ;;
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
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5' 'cbor2>=5.6'
fi
bench_venv="${HONBAN_BENCH_VENV:-$target/bench-venv}"
if ! [[ -x "$bench_venv/bin/aws" ]] || ! "$bench_venv/bin/python" -c 'import boto3' 2>/dev/null; then
    echo "==> awscli and boto3 into $bench_venv" >&2
    python3 -m venv "$bench_venv"
    "$bench_venv/bin/pip" install --quiet --disable-pip-version-check awscli boto3
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/honban-bench.XXXXXX")"
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
"$venv/bin/python" tests/moto/proxy.py --listen 127.0.0.1:0 --moto "http://127.0.0.1:$moto_port" \
    --latency-ms "$latency" >"$work/proxy.out" 2>"$work/proxy.log" &
pids+=($!)
for _ in $(seq 100); do
    grep -q '^READY' "$work/proxy.out" 2>/dev/null && break
    sleep 0.1
done
proxy="http://127.0.0.1:$(awk '/^READY/ {print $2}' "$work/proxy.out")"

# seed 001: 3 + 102 services, 6 + 102 tasks, 2 + 1 databases, 14 + 4 + 102
# alarms. --large (300 services, 3 000 tasks, 20 databases, 500 alarms):
# three clusters of 3 + 97 services and 6 + 994 tasks, 2 + 4 databases
# (+ 2 in the first) and 18 + 148 alarms (+ 2 in the first).
names=(bench-001)
seeds=("--extra-services 102 --extra-tasks 102 --extra-dbs 1 --extra-alarms 102")
if [[ "$large" == 1 ]]; then
    names=(large-a large-b large-c)
    seeds=("--extra-services 97 --extra-tasks 994 --extra-dbs 6 --extra-alarms 150"
           "--extra-services 97 --extra-tasks 994 --extra-dbs 4 --extra-alarms 148"
           "--extra-services 97 --extra-tasks 994 --extra-dbs 4 --extra-alarms 148")
fi
clusters=""
{
    echo '[[environment]]'
    echo 'name = "bench"'
    echo 'region = "ap-northeast-1"'
    echo "endpoint_url = \"$proxy\""
} >"$work/config.toml"
for i in "${!names[@]}"; do
    echo "==> seeding ${names[$i]} (${seeds[$i]})" >&2
    # shellcheck disable=SC2086 # the seed arguments are words
    "$venv/bin/python" scripts/seed-moto.py --endpoint "http://127.0.0.1:$moto_port" \
        --name "${names[$i]}" ${seeds[$i]} >"$work/seed-$i.json"
    printf '[[environment.clusters]]\nname = "%s"\n' "${names[$i]}" >>"$work/config.toml"
    clusters="${clusters:+$clusters,}${names[$i]}"
done

echo "==> $rounds interleaved rounds, ${latency} ms a request" >&2
args=(bench --endpoint "$proxy" --cluster "$clusters" --config "$work/config.toml" --honban "$honban"
      --aws-venv "$bench_venv" --workdir "$work" --rounds "$rounds")
if [[ -n "$baseline" ]]; then
    args+=(--baseline "$baseline")
fi
"$bench_venv/bin/python" scripts/bench/first_screen.py "${args[@]}"
echo "" >&2

