#!/usr/bin/env python3
"""The real console on a large environment, measured (scripts/measure-large.sh).

    python measure_large.py --honban BIN [--baseline BIN] --proxy URL \
        [--proxy-baseline URL] --env-config TOML --seeds 'DIR/seed-*.json' \
        --workdir DIR [--rounds 5] [--minutes 5] [--interval 10] [--keys 60] \
        [--key-latency-ms 2000]

Every console runs in a pseudo-terminal of its own (python's `pty`, 160×48,
TERM=xterm-256color) whose output is read by this process and fed to a
terminal emulator (`pyte`), which also answers the terminal queries a real
terminal answers (cursor position, device attributes). Nothing else is
needed: no tmux. `--env-config` holds the `[[environment]]` of the seeded
clusters with `endpoint_url = "@PROXY@"`; each binary gets its own proxy
(the same moto behind both), so the proxies' counts are each binary's own.

1. Start-up (--rounds, binaries interleaved A B A B; refresh intervals of
   10 minutes, so one refresh): process start → the first frame (the
   header drawn) and → the complete overview (every service, database and
   alarm of the seeds counted on screen, and the proxy's requests stopped
   for 2 s: the overview reads no more), and the requests of that refresh
   per API against the floor the seeds imply.
2. Idle (--minutes, both binaries at once, every poller at --interval
   seconds, no key pressed): RSS sampled from /proc/PID/status every 5 s,
   CPU (utime+stime from /proc/PID/stat) per refresh, bytes the console
   wrote to its terminal per minute, and requests per refresh per API.
3. Keys while fetching (the same consoles, then every AWS request held
   --key-latency-ms by the proxies, so fetches are always in flight):
   --keys keys for each binary, alternately, `2` (services) and `1`
   (overview); each timed from the write to the terminal until the screen
   shows the view asked for.

Prints Markdown tables on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import pty
import select
import signal
import statistics
import sys
import time
import urllib.request

import pyte

COLS, ROWS = 160, 48
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# The proxy


def counts(proxy: str) -> dict:
    with urllib.request.urlopen(f"{proxy}/__proxy/counts") as f:
        return json.load(f)


def reset(proxy: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{proxy}/__proxy/reset", data=b"", method="POST")).read()


def set_latency(proxy: str, ms: int) -> None:
    body = json.dumps({"ms": ms}).encode()
    req = urllib.request.Request(
        f"{proxy}/__proxy/latency", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(req).read()


# --------------------------------------------------------------------------
# A console in a pseudo-terminal


class Answering(pyte.Screen):
    """A screen that answers the program's queries on the terminal."""

    def __init__(self, cols, rows, fd):
        super().__init__(cols, rows)
        self.fd = fd

    def write_process_input(self, data: str) -> None:
        try:
            os.write(self.fd, data.encode())
        except OSError:
            pass


class Console:
    def __init__(self, name: str, binary: str, config: str, env: dict):
        self.name = name
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.clear()
            os.environ.update(env, TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS))
            os.execv(binary, [binary, "--config", config])
        # The child's window size (pty.fork leaves it 0×0).
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.pid, self.fd = pid, fd
        self.screen = Answering(COLS, ROWS, fd)
        self.stream = pyte.ByteStream(self.screen)
        self.bytes = 0
        self.alive = True
        # When the last chunk was read, before the emulator parsed it (the
        # emulator is slow; its time is not the console's).
        self.read_at = self.started

    def pump(self, timeout: float) -> bool:
        """Reads what the console wrote within `timeout`; True if anything."""
        if not self.alive:
            return False
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            data = b""
        if not data:
            self.alive = False
            return False
        self.read_at = time.perf_counter()
        self.bytes += len(data)
        self.stream.feed(data)
        return True

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait(self, cond, limit: float) -> float | None:
        """When (perf_counter) the console's output that made `cond(text)`
        hold was read, or None. The screen is looked at after each chunk."""
        deadline = time.perf_counter() + limit
        if cond(self.text()):
            return time.perf_counter()
        while True:
            left = deadline - time.perf_counter()
            if left <= 0 or not self.alive:
                return None
            if self.pump(min(left, 0.05)) and cond(self.text()):
                return self.read_at

    def cpu_ticks(self) -> int:
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def send(self, data: bytes) -> float:
        t = time.perf_counter()
        os.write(self.fd, data)
        return t

    def quit(self) -> None:
        try:
            os.write(self.fd, b"q")
        except OSError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            self.pump(0.1)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


# --------------------------------------------------------------------------
# What the seeds imply


def seeded(pattern: str) -> dict:
    seeds = [json.load(open(p)) for p in sorted(glob.glob(pattern))]
    return {
        "clusters": [(len(s.get("services", [])), int(s.get("tasks", 0))) for s in seeds],
        "services": sum(len(s.get("services", [])) for s in seeds),
        "tasks": sum(int(s.get("tasks", 0)) for s in seeds),
        "databases": sum(len(s.get("db_instances", [])) for s in seeds),
        "alarms": sum(len(s.get("alarm_names", [])) + len(s.get("autoscaling_alarms", [])) for s in seeds),
        "raw": seeds,
    }


def floor_of(op: str, seed: dict) -> int | None:
    """The fewest requests of `op` one refresh of the seeded clusters needs
    (ListServices and ListTasks pages of 100, DescribeServices by 10,
    DescribeTasks by 100, RUNNING and STOPPED listed apart, DescribeAlarms
    and DescribeDBInstances pages of 100); None where the seeds do not say."""
    cl = seed["clusters"]
    if op == "ecs:ListServices":
        return sum(max(1, math.ceil(sv / 100)) for sv, _ in cl)
    if op == "ecs:DescribeServices":
        return sum(math.ceil(sv / 10) for sv, _ in cl)
    if op == "ecs:ListTasks":
        return sum(max(1, math.ceil(t / 100)) + 1 for _, t in cl)
    if op == "ecs:DescribeTasks":
        return sum(math.ceil(t / 100) for _, t in cl)
    if op == "cloudwatch:DescribeAlarms" and seed["alarms"]:
        return max(1, math.ceil(seed["alarms"] / 100))
    if op == "rds:DescribeDBInstances" and seed["databases"]:
        return max(1, math.ceil(seed["databases"] / 100))
    return None


# --------------------------------------------------------------------------


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def p95(xs):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, math.ceil(0.95 * len(xs)) - 1)]


def config_for(args, name: str, proxy: str, interval: int) -> str:
    with open(args.env_config) as f:
        env_text = f.read().replace("@PROXY@", proxy)
    path = os.path.join(args.workdir, f"{name}-{interval}.toml")
    with open(path, "w") as f:
        f.write(
            f"[refresh]\nservices_secs = {interval}\ntasks_secs = {interval}\ndatabases_secs = {interval}\n"
            f"alarms_secs = {interval}\nmetrics_secs = {interval}\n\n" + env_text
        )
    return path


def complete(seed: dict):
    """The overview's summary line counts every service, database and alarm
    of the seeds (`svc 297/300 ok … db 20/20 available  alarms 3 ALARM of
    500`)."""
    import re

    wants = [
        re.compile(rf"\bsvc \d+/{seed['services']}\b"),
        re.compile(rf"\bdb \d+/{seed['databases']}\b"),
        re.compile(rf"\bof {seed['alarms']}\b"),
    ]

    def check(text: str) -> bool:
        return all(w.search(text) for w in wants)

    check.parts = wants
    return check


def startup(args, contenders, seed, env) -> tuple[dict, dict]:
    times = {name: {"first": [], "complete": [], "quiet": []} for name, _, _ in contenders}
    refresh = {}
    for r in range(args.rounds):
        for name, binary, proxy in contenders:
            reset(proxy)
            config = config_for(args, f"startup-{name.replace(' ', '_')}", proxy, 600)
            c = Console(name, binary, config, env)
            first = c.wait(lambda t: "updated" in t or "ago" in t or t.strip() != "", 30)
            # Complete: the summary line counts everything seeded; the
            # refresh's last request: the proxy's counts stop changing (2 s
            # quiet ends the wait).
            shown = complete(seed)
            shown_at, last, last_change = None, None, time.perf_counter()
            parts = {}
            deadline = time.perf_counter() + 120
            next_count = 0.0
            while time.perf_counter() < deadline:
                if c.pump(0.01) and shown_at is None:
                    text = c.text()
                    for w in shown.parts:
                        if w.pattern not in parts and w.search(text):
                            parts[w.pattern] = c.read_at - c.started
                    if shown(text):
                        shown_at = c.read_at
                if time.perf_counter() >= next_count:
                    now = counts(proxy)
                    if now != last:
                        last, last_change = now, time.perf_counter()
                    next_count = time.perf_counter() + 0.1
                    if shown_at is not None and time.perf_counter() - last_change > 2.0:
                        break
            if first is None or shown_at is None:
                log(c.text())
                raise SystemExit(f"{name}: no complete overview within 120 s (round {r + 1})")
            times[name]["quiet"].append(last_change - c.started)
            done_at = shown_at
            times[name]["first"].append(first - c.started)
            times[name]["complete"].append(done_at - c.started)
            if r == 0:
                refresh[name] = last
                with open(os.path.join(args.workdir, f"overview-{name.replace(' ', '_')}.txt"), "w") as f:
                    f.write(c.text())
            c.quit()
            log(
                f"start-up round {r + 1}/{args.rounds}: {name} first frame {times[name]['first'][-1] * 1000:.0f} ms, "
                f"complete overview {times[name]['complete'][-1] * 1000:.0f} ms, last request {times[name]['quiet'][-1] * 1000:.0f} ms "
                "(" + ", ".join(f"{k}: {v * 1000:.0f} ms" for k, v in parts.items()) + ")"
            )
    return times, refresh


def idle(args, contenders, env) -> tuple[list, dict]:
    consoles = []
    for name, binary, proxy in contenders:
        reset(proxy)
        consoles.append((Console(name, binary, config_for(args, f"idle-{name.replace(' ', '_')}", proxy, args.interval), env), proxy))
    # The first refresh (start-up) is not part of the idle window.
    warm = time.perf_counter() + 2 * args.interval
    while time.perf_counter() < warm:
        for c, _ in consoles:
            c.pump(0.02)
    start = time.perf_counter()
    base = {c.name: (c.cpu_ticks(), c.bytes, counts(p)) for c, p in consoles}
    rss = {c.name: [] for c, _ in consoles}
    per_minute = {c.name: [] for c, _ in consoles}
    minute_mark = {c.name: c.bytes for c, _ in consoles}
    next_sample = start
    next_minute = start + 60
    end = start + args.minutes * 60
    log(f"idle: {args.minutes} min, every poller at {args.interval} s, both consoles at once")
    while True:
        now = time.perf_counter()
        if now >= next_sample:
            for c, _ in consoles:
                rss[c.name].append((round(now - start), c.rss_kb()))
            next_sample += 5
        if now >= next_minute:
            for c, _ in consoles:
                per_minute[c.name].append(c.bytes - minute_mark[c.name])
                minute_mark[c.name] = c.bytes
            log("  minute: " + ", ".join(f"{c.name} {per_minute[c.name][-1]} B, RSS {rss[c.name][-1][1] / 1024:.1f} MB" for c, _ in consoles))
            next_minute += 60
        if now >= end:
            break
        for c, _ in consoles:
            c.pump(0.01)
    took = time.perf_counter() - start
    refreshes = took / args.interval
    result = {}
    for c, p in consoles:
        cpu0, bytes0, counts0 = base[c.name]
        counts1 = counts(p)
        per_api = {op: (n - counts0.get(op, 0)) / refreshes for op, n in counts1.items()}
        result[c.name] = {
            "seconds": took,
            "refreshes": refreshes,
            "cpu_ms_per_refresh": (c.cpu_ticks() - cpu0) * 1000 / CLK_TCK / refreshes,
            "bytes_per_minute": (c.bytes - bytes0) * 60 / took,
            "bytes_minutes": per_minute[c.name],
            "rss": rss[c.name],
            "requests_per_refresh": per_api,
        }
    return consoles, result


def keys(args, consoles) -> dict:
    for _, p in consoles:
        set_latency(p, args.key_latency_ms)
    # Let the fetches under way at 25 ms finish, so every later one is slow.
    settle = time.perf_counter() + args.interval + 2
    while time.perf_counter() < settle:
        for c, _ in consoles:
            c.pump(0.02)
    before = {c.name: counts(p) for c, p in consoles}
    took = {c.name: [] for c, _ in consoles}
    targets = [(b"2", lambda t: "Services (" in t), (b"1", lambda t: "Services (" not in t)]
    log(f"keys: {args.keys} per console, every AWS request held {args.key_latency_ms} ms")
    for i in range(args.keys):
        key, shown = targets[i % 2]
        for c, _ in consoles:
            # Whatever the console drew before the key is read first.
            while c.pump(0):
                pass
            sent = c.send(key)
            at = c.wait(shown, 10)
            if at is None:
                log(c.text())
                raise SystemExit(f"{c.name}: key {key!r} not answered within 10 s")
            took[c.name].append(at - sent)
            time.perf_counter()
        # Keys a person types, not a flood: 100 ms apart.
        pause = time.perf_counter() + 0.1
        while time.perf_counter() < pause:
            for c, _ in consoles:
                c.pump(0.01)
    after = {c.name: counts(p) for c, p in consoles}
    for _, p in consoles:
        set_latency(p, 25)
    return {
        name: {"ms": [t * 1000 for t in v], "requests_meanwhile": sum(after[name].values()) - sum(before[name].values())}
        for name, v in took.items()
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--honban", required=True)
    ap.add_argument("--baseline")
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--proxy-baseline")
    ap.add_argument("--env-config", required=True)
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--interval", type=int, default=10)
    ap.add_argument("--keys", type=int, default=60)
    ap.add_argument("--key-latency-ms", type=int, default=2000)
    ap.add_argument("--skip", default="", help="phases to skip, e.g. startup,idle")
    args = ap.parse_args()

    seed = seeded(args.seeds)
    log(f"seeded: {seed['services']} services, {seed['tasks']} tasks, {seed['databases']} databases, {seed['alarms']} alarms")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "HONBAN_LOG"}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        HOME=args.workdir,
        XDG_CONFIG_HOME=os.path.join(args.workdir, "config"),
        XDG_STATE_HOME=os.path.join(args.workdir, "state"),
        XDG_DATA_HOME=os.path.join(args.workdir, "data"),
        XDG_CACHE_HOME=os.path.join(args.workdir, "cache"),
    )
    contenders = [("honban", args.honban, args.proxy)]
    if args.baseline:
        contenders.append(("baseline", args.baseline, args.proxy_baseline or args.proxy))
    names = [n for n, _, _ in contenders]
    skip = set(filter(None, args.skip.split(",")))

    def header(cols):
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))

    def fmt(xs, unit="ms", scale=1000):
        return f"{median(xs) * scale:.0f} {unit} ({min(xs) * scale:.0f}–{max(xs) * scale:.0f})"

    if "startup" not in skip:
        times, refresh = startup(args, contenders, seed, env)
        print(f"\n### Start-up ({args.rounds} rounds, interleaved; median (min–max))\n")
        header(["measure"] + names)
        print("| start → first frame | " + " | ".join(fmt(times[n]["first"]) for n in names) + " |")
        print("| start → complete overview (every service, database and alarm counted on screen) | " + " | ".join(fmt(times[n]["complete"]) for n in names) + " |")
        print("| start → the first refresh's last request (proxy, ±0.1 s) | " + " | ".join(fmt(times[n]["quiet"]) for n in names) + " |")
        print("\n### Requests of the first refresh (round 1)\n")
        header(["API"] + names + ["floor"])
        for op in sorted({op for n in names for op in refresh[n]}):
            fl = floor_of(op, seed)
            print(f"| {op} | " + " | ".join(str(refresh[n].get(op, 0)) for n in names) + f" | {'-' if fl is None else fl} |")
        print("| total | " + " | ".join(str(sum(refresh[n].values())) for n in names) + " | |")
        sys.stdout.flush()

    if "idle" in skip:
        return 0
    consoles, result = idle(args, contenders, env)
    print(f"\n### Idle: {args.minutes:g} minutes, every poller at {args.interval} s, both consoles at once\n")
    header(["measure"] + names)
    row = lambda label, f: print(f"| {label} | " + " | ".join(f(result[n]) for n in names) + " |")  # noqa: E731
    row("refreshes in the window", lambda r: f"{r['refreshes']:.1f}")
    row("RSS at 5 s / median / max / at the end", lambda r: " / ".join(
        f"{x / 1024:.1f}" for x in (r["rss"][1][1], median([v for _, v in r["rss"]]), max(v for _, v in r["rss"]), r["rss"][-1][1])
    ) + " MB")
    row("CPU (utime+stime) per refresh", lambda r: f"{r['cpu_ms_per_refresh']:.0f} ms")
    row("CPU per AWS request sent (the same CPU over the requests)", lambda r: f"{r['cpu_ms_per_refresh'] / max(1e-9, sum(r['requests_per_refresh'].values())):.2f} ms")
    row("bytes written to the terminal per idle minute (per minute: min–max)", lambda r: f"{r['bytes_per_minute'] / 1024:.1f} KB ({min(r['bytes_minutes']) / 1024:.1f}–{max(r['bytes_minutes']) / 1024:.1f})" if r["bytes_minutes"] else f"{r['bytes_per_minute'] / 1024:.1f} KB")
    print("\nRSS samples (s: MB): " + "; ".join(n + ": " + ", ".join(f"{t}: {v / 1024:.1f}" for t, v in result[n]["rss"][::6]) for n in names))
    print(f"\n### Requests per refresh in the idle window (every poller at {args.interval} s)\n")
    header(["API"] + names + ["floor"])
    for op in sorted({op for n in names for op in result[n]["requests_per_refresh"]}):
        fl = floor_of(op, seed)
        print(f"| {op} | " + " | ".join(f"{result[n]['requests_per_refresh'].get(op, 0):.1f}" for n in names) + f" | {'-' if fl is None else fl} |")
    print("| total | " + " | ".join(f"{sum(result[n]['requests_per_refresh'].values()):.1f}" for n in names) + " | |")
    sys.stdout.flush()

    if "keys" not in skip:
        k = keys(args, consoles)
        print(f"\n### Keypress → frame while fetches are in flight (every AWS request held {args.key_latency_ms} ms; `2`/`1` alternately)\n")
        header(["measure"] + names)
        print("| keys | " + " | ".join(str(len(k[n]["ms"])) for n in names) + " |")
        print("| median | " + " | ".join(f"{median(k[n]['ms']):.1f} ms" for n in names) + " |")
        print("| p95 | " + " | ".join(f"{p95(k[n]['ms']):.1f} ms" for n in names) + " |")
        print("| min–max | " + " | ".join(f"{min(k[n]['ms']):.1f}–{max(k[n]['ms']):.1f} ms" for n in names) + " |")
        print("| AWS requests sent meanwhile (proxy) | " + " | ".join(str(k[n]["requests_meanwhile"]) for n in names) + " |")
    for c, _ in consoles:
        c.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
