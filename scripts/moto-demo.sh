#!/usr/bin/env bash
# Runs honban against a local moto server: a practice AWS with the Works
# Logue production and staging environments, no AWS account needed.
#
#   scripts/moto-demo.sh [--moto-port 5000] [--proxy-port 5001]
#                        [--config-out /tmp/honban-moto.toml] [--verbose]
#
# Starts moto and, in front of it, tests/moto/proxy.py (CloudWatch's CBOR
# protocol, the real AWS page sizes and limits) on 127.0.0.1, seeds
# works-logue-prod and works-logue-stg into moto's default account
# 123456789012 (honban cannot pick another moto account) with their last
# three hours of activity (seed-moto.py --activity: target health, metrics,
# web's logs, and a 5XX spike that has set off the web 5XX alarm), each
# behind a CloudFront distribution, staging with its Redis, and
# works-logue-ec2 (seed 004's first phase: EC2 hosts, ALB, RDS) in
# ap-northeast-3, writes a honban config with the environments `production`
# (protected), `staging` and `ec2-prod` (protected), prints how to start
# honban and what to try, and runs until Ctrl-C, then stops both servers.
#
# Needs the virtualenv .venv (scripts/test.sh creates it, or:
#   python3 -m venv .venv && .venv/bin/pip install 'moto[server]==5.2.5' cbor2).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

moto_port=5000
proxy_port=5001
config_out=/tmp/honban-moto.toml
verbose=()

usage() {
    sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --moto-port) moto_port="$2"; shift 2 ;;
        --proxy-port) proxy_port="$2"; shift 2 ;;
        --config-out) config_out="$2"; shift 2 ;;
        --verbose) verbose=(--verbose); shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "moto-demo: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

venv="${HONBAN_MOTO_VENV:-$root/.venv}"
if [[ ! -x "$venv/bin/moto_server" || ! -x "$venv/bin/python" ]]; then
    echo "moto-demo: moto is not installed in $venv. Install it with:" >&2
    echo "  python3 -m venv .venv && .venv/bin/pip install 'moto[server]==5.2.5' cbor2" >&2
    exit 1
fi

port_in_use() {
    "$venv/bin/python" -c 'import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}
for port in "$moto_port" "$proxy_port"; do
    if port_in_use "$port"; then
        echo "moto-demo: port $port on 127.0.0.1 is already in use (see --moto-port / --proxy-port)" >&2
        exit 1
    fi
done

logdir="$(mktemp -d "${TMPDIR:-/tmp}/honban-moto-demo.XXXXXX")"
moto_pid=""
proxy_pid=""
feed_pids=()
cleanup() {
    trap - EXIT INT TERM
    echo
    echo "moto-demo: stopping moto and the proxy"
    for pid in "${feed_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -n "$proxy_pid" ]] && kill "$proxy_pid" 2>/dev/null || true
    [[ -n "$moto_pid" ]] && kill "$moto_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$logdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Services start with as many running tasks as they want (and a completed
# deployment), as a settled production would look.
MOTO_ECS_SERVICE_RUNNING=2 "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" \
    >"$logdir/moto.log" 2>&1 &
moto_pid=$!

for _ in $(seq 1 200); do
    if port_in_use "$moto_port"; then break; fi
    if ! kill -0 "$moto_pid" 2>/dev/null; then
        echo "moto-demo: moto_server exited:" >&2
        cat "$logdir/moto.log" >&2
        exit 1
    fi
    sleep 0.1
done

proxy_err="$logdir/proxy.log"
if [[ ${#verbose[@]} -gt 0 ]]; then proxy_err=/dev/stderr; fi
"$venv/bin/python" tests/moto/proxy.py --listen "127.0.0.1:$proxy_port" \
    --moto "http://127.0.0.1:$moto_port" "${verbose[@]}" \
    >"$logdir/proxy.out" 2>"$proxy_err" &
proxy_pid=$!
for _ in $(seq 1 200); do
    if grep -q '^READY' "$logdir/proxy.out" 2>/dev/null; then break; fi
    if ! kill -0 "$proxy_pid" 2>/dev/null; then
        echo "moto-demo: the proxy exited" >&2
        cat "$logdir/proxy.log" >&2 2>/dev/null || true
        exit 1
    fi
    sleep 0.1
done

moto_url="http://127.0.0.1:$moto_port"
endpoint="http://127.0.0.1:$proxy_port"
echo "moto-demo: moto on $moto_url, the proxy on $endpoint"
for env in works-logue-prod works-logue-stg; do
    printf 'moto-demo: seeding %s … ' "$env"
    # ECS Exec on web (one task started with it), sent through the proxy:
    # moto keeps no ECS Exec state, the proxy does (and answers ExecuteCommand).
    # Each behind a CloudFront distribution (seeds 000/001). Staging has
    # seed 003's Redis and its backend, released blue/green by CodeDeploy (a
    # deployment waiting for a continue: the proxy runs CodeDeploy's part).
    extra=(--cloudfront works-logue.com)
    if [[ "$env" == works-logue-stg ]]; then
        extra=(--cloudfront stg.works-logue.com --redis --codedeploy)
    fi
    "$venv/bin/python" scripts/seed-moto.py --endpoint "$moto_url" --name "$env" --activity \
        --exec-through "$endpoint" --proxy "$endpoint" "${extra[@]}" >"$logdir/seed-$env.json"
    "$venv/bin/python" - "$logdir/seed-$env.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
a = s["activity"]
print(f"{len(s['services'])} services, {s['tasks']} tasks, {len(s['db_instances'])} DB instances, "
      f"{s['alarms']} alarms ({len(s['alarms_in_alarm'])} in ALARM), "
      f"{a['metric_datums']} datapoints, {a['log_events']} log lines, {s['seconds']} s")
PY
    # Keeps it live: a new minute of metrics and web's logs every minute.
    "$venv/bin/python" scripts/seed-moto.py --endpoint "$moto_url" --name "$env" --feed \
        >"$logdir/feed-$env.log" 2>&1 &
    feed_pids+=("$!")
done
# Seed 004's first phase: the app on two EC2 hosts behind an ALB, no ECS.
# In ap-northeast-3, so that its environment (which names no ECS cluster)
# discovers none of the other two's.
printf 'moto-demo: seeding works-logue-ec2 (ap-northeast-3) … '
"$venv/bin/python" scripts/seed-moto.py --endpoint "$moto_url" --name works-logue-ec2 \
    --region ap-northeast-3 --hosts --cloudfront ec2.works-logue.com >"$logdir/seed-ec2.json"
"$venv/bin/python" - "$logdir/seed-ec2.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{len(s['instances'])} app hosts and a bastion, {len(s['db_instances'])} DB instance, "
      f"{s['alarms']} alarms, {s['seconds']} s")
PY
dist() {
    "$venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["distribution_id"])' "$1"
}
dist_prod="$(dist "$logdir/seed-works-logue-prod.json")"
dist_stg="$(dist "$logdir/seed-works-logue-stg.json")"
dist_ec2="$(dist "$logdir/seed-ec2.json")"
tg_ec2="$("$venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["target_groups"]["app"])' "$logdir/seed-ec2.json")"

cat >"$config_out" <<EOF
# honban configuration for the local moto demo, written by scripts/moto-demo.sh.
# Everything lives in moto's default account 123456789012 behind the proxy
# $endpoint; use the dummy credentials AWS_ACCESS_KEY_ID=testing
# AWS_SECRET_ACCESS_KEY=testing.

default_environment = "production"

[[environment]]
name = "production"
source = "aws"
region = "ap-northeast-1"
endpoint_url = "$endpoint"
rds_instances = ["works-logue-prod-db", "works-logue-prod-db-replica"]
alarm_prefixes = ["works-logue-prod-"]
protected = true
rto_minutes = 60

[[environment.clusters]]
name = "works-logue-prod"

[[environment.cloudfront_distributions]]
id = "$dist_prod"
services = ["web"]

[[environment]]
name = "staging"
source = "aws"
region = "ap-northeast-1"
endpoint_url = "$endpoint"
rds_instances = ["works-logue-stg-db", "works-logue-stg-db-replica"]
elasticache_replication_groups = ["works-logue-stg-redis"]
alarm_prefixes = ["works-logue-stg-"]
protected = false

[[environment.clusters]]
name = "works-logue-stg"

[[environment.cloudfront_distributions]]
id = "$dist_stg"
services = ["web"]

# Seed 004's first phase: EC2 hosts (the bastion is left out by its tags).
[[environment]]
name = "ec2-prod"
source = "aws"
region = "ap-northeast-3"
endpoint_url = "$endpoint"
ec2_tags = { Role = "app", Environment = "works-logue-ec2" }
ec2_target_groups = ["$tg_ec2"]
rds_instances = ["works-logue-ec2-db"]
alarm_prefixes = ["works-logue-ec2-"]
protected = true

[[environment.cloudfront_distributions]]
id = "$dist_ec2"
EOF

cat <<EOF

moto-demo: wrote $config_out
Run honban against it (in another terminal, from $root):

    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing cargo run -- --config $config_out

Follow the firing alarm: 5 (alarms; works-logue-prod-web-5xx is first),
enter (its chart: the 5XX spike of the last minutes), enter (the web
service and its target health), l (its last 15 minutes of logs), e (only
the ERROR lines). The environments stay live: every minute a quiet minute
of metrics and web's log lines is added (the spike is over), and ten
minutes from now the 5XX alarm goes back to OK. The spike's error lines
leave the logs view's 15 minutes after a few minutes: press t and type 1h
(enter) there to read from an hour back.

CloudFront (8): each environment's distribution; V sends an invalidation
(a deploy of web offers one when it completes). Redis (tab to staging, E):
the replication group, its two nodes (enter). EC2 hosts (tab to ec2-prod,
9): the two app hosts with their status checks, CPU and target health; F
reboots, S stops, T starts the highlighted one.

Blue/green: staging's backend is released by CodeDeploy (tab to staging,
2, backend, enter): its deployment waits for a continue. C reroutes the
traffic, b stops it and rolls back, i deploys another image through
CreateDeployment. The proxy plays CodeDeploy's part, which moto lacks
(a continue succeeds at once; a stop creates the rollback deployment).

ECS Exec: web has one task started with exec enabled (3, the task whose
detail says "exec agent RUNNING", x). The proxy answers ExecuteCommand with
a well-formed session that no agent serves: put a stand-in
session-manager-plugin first on PATH to see the hand-over (a real plugin
would fail to connect), e.g. one that prints its arguments and reads a line.

Request counts so far:  curl -s '$endpoint/__proxy/counts'
Throttle the next 3 ListServices:
    curl -s -X POST '$endpoint/__proxy/fault' -d '{"operation": "ecs:ListServices", "kind": "throttle", "count": 3}'
Press Ctrl-C to stop moto and the proxy.
EOF

wait "$proxy_pid" "$moto_pid"
