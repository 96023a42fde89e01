#!/usr/bin/env python3
"""The contenders of scripts/bench-first-screen.sh, one run each.

    python first_screen.py boto3-sequential --endpoint URL --cluster NAME
    python first_screen.py floor --endpoint URL --cluster NAME
    python first_screen.py cli-script --cluster NAME > script.sh
    python first_screen.py bench --endpoint URL --cluster NAME --config TOML \
        --honban BIN [--baseline BIN] [--aws-venv DIR] [--rounds N]

Each gathers the facts `honban status` judges an environment from: the
caller identity, every service of the cluster (ListServices, every page;
DescribeServices in batches of 10), the target groups the services name
(DescribeTargetGroups in batches of 20, DescribeTargetHealth per group),
every DB instance (DescribeDBInstances, every page) and every alarm
(DescribeAlarms, metric and composite, every page), and prints one JSON
line: how many of each it found and how long the calls took (seconds,
clients already made).

- boto3-sequential: one call after the other, as a plain script is written.
- floor: the same calls with the least waiting the APIs allow: pages one
  after the other (each needs the token of the one before), batches and
  independent chains at once (a thread each).
- cli-script: prints the AWS CLI script a user would write for the same
  facts (one `aws` process per call; the CLI reads every page itself).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

REGION = "ap-northeast-1"


def clients(endpoint: str):
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=50)
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return {
        name: session.client(name, endpoint_url=endpoint, config=cfg)
        for name in ("sts", "ecs", "rds", "cloudwatch", "elbv2")
    }


def chunks(items, n):
    return [items[i : i + n] for i in range(0, len(items), n)]


def pages(call, list_key, token_in, token_out, **kwargs):
    """Every page of a listing, one request after the other."""
    out, token = [], None
    while True:
        args = dict(kwargs)
        if token:
            args[token_in] = token
        page = call(**args)
        for key in list_key:
            out += page.get(key, [])
        token = page.get(token_out)
        if not token:
            return out


def gather(c, cluster: str, parallel: bool) -> dict:
    pool = ThreadPoolExecutor(max_workers=32) if parallel else None

    def each(fn, items):
        if pool is None:
            return [fn(x) for x in items]
        return list(pool.map(fn, items))

    def cluster_services(name):
        arns = pages(
            c["ecs"].list_services, ["serviceArns"], "nextToken", "nextToken",
            cluster=name, maxResults=100,
        )
        described = each(
            lambda batch: c["ecs"].describe_services(cluster=name, services=batch)["services"],
            chunks(arns, 10),
        )
        return [s for batch in described for s in batch]

    def services_chain():
        # Every cluster at once (each its own chain).
        services = [s for part in each(cluster_services, cluster.split(",")) for s in part]
        tg_arns = sorted(
            {lb["targetGroupArn"] for s in services for lb in s.get("loadBalancers", []) if lb.get("targetGroupArn")}
        )
        groups = [
            g
            for batch in each(
                lambda b: c["elbv2"].describe_target_groups(TargetGroupArns=b)["TargetGroups"],
                chunks(tg_arns, 20),
            )
            for g in batch
        ]
        health = each(
            lambda g: c["elbv2"].describe_target_health(TargetGroupArn=g["TargetGroupArn"])[
                "TargetHealthDescriptions"
            ],
            groups,
        )
        return {"services": len(services), "target_groups": len(groups), "targets": sum(map(len, health))}

    def identity():
        return {"account": c["sts"].get_caller_identity()["Account"]}

    def databases():
        dbs = pages(c["rds"].describe_db_instances, ["DBInstances"], "Marker", "Marker", MaxRecords=100)
        return {"databases": len(dbs)}

    def alarms():
        found = pages(
            c["cloudwatch"].describe_alarms,
            ["MetricAlarms", "CompositeAlarms"],
            "NextToken",
            "NextToken",
            AlarmTypes=["MetricAlarm", "CompositeAlarm"],
            MaxRecords=100,
        )
        return {"alarms": len(found)}

    chains = [identity, services_chain, databases, alarms]
    started = time.perf_counter()
    if pool is None:
        parts = [f() for f in chains]
    else:
        with ThreadPoolExecutor(max_workers=len(chains)) as outer:
            parts = list(outer.map(lambda f: f(), chains))
    took = time.perf_counter() - started
    if pool is not None:
        pool.shutdown()
    result = {"seconds": round(took, 4)}
    for p in parts:
        result.update(p)
    return result


CLI_SCRIPT = r"""#!/usr/bin/env bash
# What an operator would write to see the same facts with the AWS CLI.
set -euo pipefail
export AWS_DEFAULT_REGION=ap-northeast-1
clusters="$1"
aws sts get-caller-identity --query Account --output text
tgs=""
for cluster in ${clusters//,/ }; do
# The CLI reads every page itself.
services=$(aws ecs list-services --cluster "$cluster" --query 'serviceArns[]' --output text)
set -- $services
while [ $# -gt 0 ]; do
    batch=("${@:1:10}")
    shift $(( $# < 10 ? $# : 10 ))
    out=$(aws ecs describe-services --cluster "$cluster" --services "${batch[@]}" \
        --query 'services[].[serviceName,status,desiredCount,runningCount,join(`,`,loadBalancers[].targetGroupArn)]' \
        --output text)
    echo "$out"
    tgs="$tgs $(echo "$out" | grep -o 'arn:aws:elasticloadbalancing[^[:space:],]*' || true)"
done
done
for tg in $(echo $tgs | tr ' ' '\n' | sort -u); do
    aws elbv2 describe-target-health --target-group-arn "$tg" \
        --query 'TargetHealthDescriptions[].[Target.Id,TargetHealth.State]' --output text
done
aws rds describe-db-instances --query 'DBInstances[].[DBInstanceIdentifier,DBInstanceStatus,MultiAZ]' --output text
aws cloudwatch describe-alarms --alarm-types MetricAlarm CompositeAlarm \
    --query '[MetricAlarms[].[AlarmName,StateValue],CompositeAlarms[].[AlarmName,StateValue]]' --output text
"""


def run_timed(argv, env, expect_ok=True):
    """Runs argv; its wall time from process start to exit, and its stdout."""
    import subprocess

    started = time.perf_counter()
    out = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    took = time.perf_counter() - started
    if expect_ok and out.returncode not in (0, 1, 2):
        raise SystemExit(f"{argv[0]} failed ({out.returncode}):\n{out.stderr.decode(errors='replace')[-2000:]}")
    return took, out.stdout.decode(errors="replace")


def honban_complete(stdout: str) -> str:
    """What `honban status --output json` read, or why it is not complete."""
    report = json.loads(stdout)
    env = report["environments"][0]
    kinds = {}
    for check in env["checks"]:
        kinds[check.get("kind", "?")] = kinds.get(check.get("kind", "?"), 0) + 1
    if env["partial"] or env["errors"] or not env["account"]:
        raise SystemExit(f"honban's read was not complete: {env['errors']}")
    return " ".join(f"{k} {v}" for k, v in sorted(kinds.items()))


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def bench(args) -> int:
    import os

    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("HONBAN_LOG",)
    }
    base_env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    cli_script = os.path.join(args.workdir, "cli-script.sh")
    with open(cli_script, "w") as f:
        f.write(CLI_SCRIPT)
    cli_env = dict(base_env)
    cli_env["PATH"] = os.path.join(args.aws_venv, "bin") + os.pathsep + base_env.get("PATH", "")
    cli_env["AWS_ENDPOINT_URL"] = args.endpoint
    honban_env = dict(base_env, HOME=args.workdir, XDG_STATE_HOME=os.path.join(args.workdir, "state"))
    me = os.path.abspath(__file__)
    contenders = [("honban", args.honban)]
    if args.baseline:
        contenders.append(("honban (baseline)", args.baseline))
    times = {name: [] for name, _ in contenders}
    times.update({"floor (calls only)": [], "boto3 sequential (process)": [], "boto3 sequential (calls only)": [], "AWS CLI script": []})
    seen = {}
    requests = {}

    def counted(name, r):
        """The proxy's counts of the run just made (first round only)."""
        import urllib.request

        if r == 0:
            with urllib.request.urlopen(f"{args.endpoint}/__proxy/counts") as f:
                requests[name] = json.load(f)
        urllib.request.urlopen(urllib.request.Request(f"{args.endpoint}/__proxy/reset", data=b"", method="POST")).read()

    counted("-", 1)

    def run_honban(name, binary, r):
        took, out = run_timed([binary, "--config", args.config, "status", "--output", "json"], honban_env)
        seen[name] = honban_complete(out)
        times[name].append(took)
        counted(name, r)

    def run_floor(r):
        took, out = run_timed([sys.executable, me, "floor", "--endpoint", args.endpoint, "--cluster", args.cluster], base_env)
        floor = json.loads(out)
        times["floor (calls only)"].append(floor.pop("seconds"))
        seen["floor"] = floor
        counted("floor", r)

    def run_boto3(r):
        took, out = run_timed(
            [sys.executable, me, "boto3-sequential", "--endpoint", args.endpoint, "--cluster", args.cluster], base_env
        )
        seq = json.loads(out)
        times["boto3 sequential (process)"].append(took)
        times["boto3 sequential (calls only)"].append(seq.pop("seconds"))
        seen["boto3"] = seq
        counted("boto3", r)

    def run_cli(r):
        if r < args.cli_rounds:
            took, out = run_timed(["bash", cli_script, args.cluster], cli_env)
            times["AWS CLI script"].append(took)
            counted("AWS CLI", r)

    steps = [lambda r, n=name, b=binary: run_honban(n, b, r) for name, binary in contenders]
    steps += [run_floor, run_boto3, run_cli]
    for r in range(args.rounds):
        # The order rotates from round to round, so that no contender always
        # runs first (or always right after the Python ones).
        k = r % len(steps)
        for step in steps[k:] + steps[:k]:
            step(r)
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{k} {v[-1]:.3f}s" for k, v in times.items() if len(v) == r + 1), file=sys.stderr, flush=True)
    for k, v in seen.items():
        print(f"read by {k}: {v}", file=sys.stderr)
    floor_m = median(times["floor (calls only)"])
    cli_m = median(times["AWS CLI script"]) if times["AWS CLI script"] else None
    print(f"\n| contender | median | min | max | runs | × floor | CLI ÷ it |")
    print("|---|---|---|---|---|---|---|")
    for k, v in times.items():
        if not v:
            continue
        m = median(v)
        vs_cli = f"{cli_m / m:.1f}×" if cli_m else "-"
        print(f"| {k} | {m * 1000:.0f} ms | {min(v) * 1000:.0f} ms | {max(v) * 1000:.0f} ms | {len(v)} | {m / floor_m:.2f} | {vs_cli} |")
    # Peak resident memory of one more (untimed) read by each honban.
    import subprocess

    for name, binary in contenders:
        probe = (
            "import resource, subprocess, sys; "
            "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        out = subprocess.run(
            [sys.executable, "-c", probe, binary, "--config", args.config, "status", "--output", "json"],
            env=honban_env, stdout=subprocess.PIPE, check=True,
        )
        print(f"peak RSS of {name} status: {int(out.stdout) / 1024:.1f} MB")
    # The console itself: the requests of its first refresh (everything,
    # tasks, task definitions, scaling, snapshots and metrics included).
    refresh = console_refresh(args, honban_env)
    print("\n| requests of the console's first refresh | honban | fewest the APIs allow |")
    print("|---|---|---|")
    for op, n in sorted(refresh.items()):
        print(f"| {op} | {n} | {floor_of(op, args, n)} |")
    print(f"| total | {sum(refresh.values())} | |")
    names = [n for n in requests if n != "-"]
    ops = sorted({op for n in names for op in requests[n]})
    print(f"\n| requests of one read | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for op in ops:
        print(f"| {op} | " + " | ".join(str(requests[n].get(op, 0)) for n in names) + " |")
    print("| total | " + " | ".join(str(sum(requests[n].values())) for n in names) + " |")
    return 0


def console_refresh(args, env) -> dict:
    """Runs the console in a pseudo-terminal (intervals of 10 minutes, so
    one refresh), waits until its requests stop for 3 s, quits with `q`,
    and returns the proxy's counts of that refresh."""
    import os
    import pty
    import select
    import urllib.request

    def counts():
        with urllib.request.urlopen(f"{args.endpoint}/__proxy/counts") as f:
            return json.load(f)

    urllib.request.urlopen(urllib.request.Request(f"{args.endpoint}/__proxy/reset", data=b"", method="POST")).read()
    config = os.path.join(args.workdir, "console.toml")
    with open(args.config) as f:
        text = f.read()
    with open(config, "w") as f:
        f.write(
            "[refresh]\nservices_secs = 600\ntasks_secs = 600\ndatabases_secs = 600\n"
            "alarms_secs = 600\nmetrics_secs = 600\n\n" + text
        )
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update(env, TERM="xterm-256color", COLUMNS="160", LINES="48")
        os.execv(args.honban, [args.honban, "--config", config])
    last, quiet_since, started = None, time.monotonic(), time.monotonic()
    while True:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                break
        now = counts()
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif now and time.monotonic() - quiet_since > 3.0:
            break
        if time.monotonic() - started > 120:
            break
    os.write(fd, b"q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        try:
            if select.select([fd], [], [], 0.2)[0]:
                os.read(fd, 65536)
        except OSError:
            pass
    else:
        os.kill(pid, 9)
    return last or {}


def floor_of(op: str, args, n: int) -> str:
    """The fewest requests of `op` a refresh of the seeded clusters needs,
    from the seed summaries (pages of 100; 10 services / 100 tasks a
    describe; ListTasks for RUNNING and STOPPED); "-" where the seed does
    not say."""
    import glob
    import math

    seeds = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(args.workdir, "seed-*.json")))]
    clusters = [(len(s.get("services", [])), int(s.get("tasks", 0))) for s in seeds]
    if op == "ecs:ListServices":
        return str(sum(max(1, math.ceil(sv / 100)) for sv, _ in clusters))
    if op == "ecs:DescribeServices":
        return str(sum(math.ceil(sv / 10) for sv, _ in clusters))
    if op == "ecs:ListTasks":
        return str(sum(max(1, math.ceil(t / 100)) + 1 for _, t in clusters))
    if op == "ecs:DescribeTasks":
        return str(sum(math.ceil(t / 100) for _, t in clusters))
    return "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mode", choices=["boto3-sequential", "floor", "cli-script", "bench"])
    parser.add_argument("--endpoint")
    parser.add_argument("--cluster", required=True, help="a cluster, or several separated by commas")
    parser.add_argument("--config", help="bench: the honban config of the environment")
    parser.add_argument("--honban", help="bench: the honban binary")
    parser.add_argument("--baseline", help="bench: another honban binary to compare")
    parser.add_argument("--aws-venv", help="bench: the virtualenv with awscli")
    parser.add_argument("--workdir", help="bench: a scratch directory")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cli-rounds", type=int, default=3, help="bench: rounds that also run the (slow) CLI script")
    args = parser.parse_args()
    if args.mode == "bench":
        return bench(args)
    if args.mode == "cli-script":
        sys.stdout.write(CLI_SCRIPT)
        return 0
    c = clients(args.endpoint)
    result = gather(c, args.cluster, parallel=args.mode == "floor")
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
