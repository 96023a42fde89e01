#!/usr/bin/env python3
"""Seeds a moto account with an environment modelled on the production design.

    .venv/bin/python scripts/seed-moto.py --endpoint http://127.0.0.1:5000 \\
        [--account 123456789012] [--region ap-northeast-1] [--name works-logue-prod] \\
        [--minimal | --activity | --feed | --hosts] [--cloudfront ALIAS] [--redis] \\
        [--codedeploy] [--proxy URL] [--exec-through URL] [--extra-services N] [--extra-tasks N] \\
        [--extra-alarms N] [--extra-dbs N] [--extra-snapshots N] [--extra-clusters N]

Works Logue as in assets/sim/world.toml: Next.js on ECS Fargate behind an ALB
whose target groups check /api/health, auto scaling on CPU 70 %, RDS
PostgreSQL Multi-AZ with a read replica and a manual snapshot, and the alarm
thresholds of the こえポン design (CPU > 80 %, memory > 85 %, 5XX > 10,
response time > 3 s) plus the database alarms (connections, free storage
< 5 GB). Every name starts with --name.

Seeded (NAME = --name):
  ECS cluster NAME; task definitions NAME-web (3 revisions), NAME-api (3),
  NAME-worker (2), as rich as production's (secrets references, awslogs,
  environment, health check and port mappings for web and api, a bind and
  an EFS volume, mount points, ulimits, docker labels, ARM64 runtime
  platform, 30 GiB ephemeral storage, roles, tags); services web, api (behind the ALB) and worker, FARGATE,
  awsvpc in moto's default VPC, desired 2, each with 2 RUNNING tasks
  (RunTask group "service:<svc>", startedBy = the deployment id);
  ALB NAME-alb with target groups NAME-web (:3000) and NAME-api (:8080);
  scalable targets web 2-10 and api 2-8, policies NAME-web-cpu70 and
  NAME-api-cpu70 (ECSServiceAverageCPUUtilization 70);
  RDS NAME-db (postgres 16.4, db.r6g.large, Multi-AZ, 100 GiB gp3, backups
  7 days), read replica NAME-db-replica, snapshot NAME-db-before-pg16-upgrade;
  14 alarms NAME-<...> (see ALARMS), NAME-api-5xx set to ALARM; the target
  tracking policies add 4 alarms TargetTracking-service/NAME/... of their own
  (summary: autoscaling_alarms; they are not in alarm_names or alarms).
--minimal: only the cluster, task definition NAME-web (1 revision), service
  web (no tasks, no load balancer) and the alarm NAME-web-cpu-high.
--activity (not with --minimal): the last three hours of a production that
  has just started failing, as the console reads it (summary: activity):
  two IP targets (in the default VPC's subnets) registered in each target
  group; one-minute datapoints up to the last whole minute of the ECS CPU
  and memory of web, api and worker, the ALB 5XX count, response time and
  request count of both target groups (the alarms' dimensions), the RDS
  CPU, connections and free storage of NAME-db and NAME-db-replica and the
  ReplicaLag of the replica; web's 5XX count over the threshold of
  NAME-web-5xx for the last 8 minutes (the database pool runs dry:
  connections, response time and CPU rise with it, no other alarm's
  threshold is crossed), and NAME-web-5xx set to ALARM (instead of
  NAME-api-5xx) with the reason CloudWatch gives for the first breaching
  datapoint (moto dates the change now); the log group /ecs/NAME-web with
  one stream ecs/web/<task id> per web task started above, INFO access
  lines every 10 s per task for three hours and one ERROR line per 5XX
  counted (in the same minutes), oldest first.
--feed (after --activity, instead of seeding): keeps that environment live
  until killed: at the start of every minute the previous minute's
  datapoints of the same series (quiet: the spike is over) and web's log
  lines for it; ten quiet minutes after it starts NAME-web-5xx goes back to
  OK, as CloudWatch would have it. moto evaluates no alarm itself.
--cloudfront ALIAS (added to either): a CloudFront distribution whose alias
  is ALIAS, in front of the ALB (summary: distribution_id), as seeds 000
  and 001 invalidate after each release.
--hosts (instead of the ECS seed; seed 004's first phase): EC2 hosts running
  the app with PM2, no ECS: NAME-app-1 and NAME-app-2 (t4g.medium, two
  zones, tags Name and Role=app, Environment=NAME), the bastion NAME-bastion
  (Role=bastion), the ALB NAME-alb forwarding to the instance target group
  NAME-app (:3000, both hosts registered), RDS NAME-db, the alarms
  NAME-app-<n>-cpu-high (CPUUtilization > 80 %) and NAME-app-<n>-status-check
  (StatusCheckFailed >= 1) of each host, and their last hour of CPU and
  status-check datapoints (summary: instances, bastion, target_groups.app).
--redis (added to the full seed; seed 003's cache): the ElastiCache Redis
  replication group NAME-redis (cache.t3.medium, 2 nodes, Multi-AZ,
  automatic failover; summary: replication_group), created through
  --proxy URL when given (the test proxy keeps the member clusters moto
  lacks), its alarm NAME-redis-memory-high and, with --activity, three
  quiet hours of its nodes' metrics (--feed adds a minute a minute).
--codedeploy (added to the full seed; seed 003's blue/green release): the
  service backend (deployment controller CODE_DEPLOY) behind two target
  groups, its CodeDeploy application and deployment group (waits 60
  minutes for a continue) and a deployment of its newer revision
  (summary: codedeploy); the test proxy plays CodeDeploy's part.
Scale, for pagination tests (added to either):
  --extra-services N  services svc-000... (desired 1, no load balancer)
  --extra-tasks N     RUNNING tasks in group service:svc-000 (or, without
                      extra services, the standalone group family:NAME-web)
  --extra-alarms N    alarms NAME-extra-000... (state OK)
  --extra-dbs N       instances NAME-extra-db-000... (db.t4g.micro)
  --extra-snapshots N manual snapshots NAME-snap-000... of NAME-db (created
                      first when --minimal)
  --extra-clusters N  empty clusters NAME-extra-000...

Prints a JSON summary on stdout. Sets moto's ecs::task state transition to
manual (a billion describes) so that tasks stay RUNNING; that setting is
server-wide. Needs boto3 (installed with moto[server]).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

REGISTRY = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"

# family suffix -> revisions' image tags (oldest first), as in world.toml.
REVISIONS = {
    "web": ["2026.11.10-0c5e2ab", "2026.11.17-d82f6c4", "2026.11.21-7c1e9a2"],
    "api": ["2026.11.06-5a2d8e1", "2026.11.14-b47c3f0", "2026.11.20-3f8a6d5"],
    "worker": ["2026.11.14-b47c3f0", "2026.11.20-3f8a6d5"],
}
# Seed 003's backend (--codedeploy): the revision running, the one its
# CodeDeploy deployment brings.
CODEDEPLOY_REVISIONS = ["2026.11.21-b83d0f4", "2026.11.23-e4b7a91"]
SIZES = {"web": ("512", "1024"), "api": ("512", "1024"), "worker": ("256", "512")}
PORTS = {"web": 3000, "api": 8080}
SECRETS = {
    "web": [
        ("DATABASE_URL", "secretsmanager:secret:prod/works-logue/database-url-Q2m9Xa"),
        ("NEXTAUTH_SECRET", "secretsmanager:secret:prod/works-logue/nextauth-secret-7HkP1c"),
        ("REDIS_URL", "ssm:parameter/works-logue/prod/redis-url"),
    ],
    "api": [
        ("DATABASE_URL", "secretsmanager:secret:prod/works-logue/database-url-Q2m9Xa"),
        ("DATABASE_READ_URL", "secretsmanager:secret:prod/works-logue/database-read-url-v8NwKe"),
        ("REDIS_URL", "ssm:parameter/works-logue/prod/redis-url"),
    ],
    "worker": [
        ("DATABASE_URL", "secretsmanager:secret:prod/works-logue/database-url-Q2m9Xa"),
        ("REDIS_URL", "ssm:parameter/works-logue/prod/redis-url"),
    ],
}
AUTOSCALING = {"web": (2, 10), "api": (2, 8)}

# (suffix, description, namespace, metric, dimension kind, statistic,
#  comparison, threshold, period, evaluation periods)
ALARMS = [
    ("web-cpu-high", "web: average CPU above 80 % for 2 minutes", "AWS/ECS", "CPUUtilization", "svc:web", "Average", "GreaterThanThreshold", 80.0, 60, 2),
    ("api-cpu-high", "api: average CPU above 80 % for 2 minutes", "AWS/ECS", "CPUUtilization", "svc:api", "Average", "GreaterThanThreshold", 80.0, 60, 2),
    ("worker-cpu-high", "worker: average CPU above 80 % for 3 minutes", "AWS/ECS", "CPUUtilization", "svc:worker", "Average", "GreaterThanThreshold", 80.0, 60, 3),
    ("web-memory-high", "web: average memory above 85 % for 3 minutes", "AWS/ECS", "MemoryUtilization", "svc:web", "Average", "GreaterThanThreshold", 85.0, 60, 3),
    ("api-memory-high", "api: average memory above 85 % for 3 minutes", "AWS/ECS", "MemoryUtilization", "svc:api", "Average", "GreaterThanThreshold", 85.0, 60, 3),
    ("worker-memory-high", "worker: average memory above 85 % for 3 minutes", "AWS/ECS", "MemoryUtilization", "svc:worker", "Average", "GreaterThanThreshold", 85.0, 60, 3),
    ("web-5xx", "web: more than 10 target 5XX responses in a minute (pages on-call)", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "tg:web", "Sum", "GreaterThanThreshold", 10.0, 60, 1),
    ("api-5xx", "api: more than 10 target 5XX responses in a minute (pages on-call)", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "tg:api", "Sum", "GreaterThanThreshold", 10.0, 60, 1),
    ("web-response-time", "web: average target response time above 3 s (3000 ms)", "AWS/ApplicationELB", "TargetResponseTime", "tg:web", "Average", "GreaterThanThreshold", 3.0, 60, 2),
    ("api-response-time", "api: average target response time above 3 s (3000 ms)", "AWS/ApplicationELB", "TargetResponseTime", "tg:api", "Average", "GreaterThanThreshold", 3.0, 60, 2),
    ("db-cpu-high", "RDS primary: CPU above 80 % for 3 minutes", "AWS/RDS", "CPUUtilization", "db:primary", "Average", "GreaterThanThreshold", 80.0, 60, 3),
    ("db-connections-high", "RDS primary: connections above 80 % of max_connections (160 of 200)", "AWS/RDS", "DatabaseConnections", "db:primary", "Maximum", "GreaterThanThreshold", 160.0, 60, 2),
    ("db-free-storage-low", "RDS primary: free storage below 5 GB", "AWS/RDS", "FreeStorageSpace", "db:primary", "Minimum", "LessThanThreshold", 5368709120.0, 300, 1),
    ("db-replica-lag", "RDS replica: replication lag above 30 s for 2 minutes", "AWS/RDS", "ReplicaLag", "db:replica", "Maximum", "GreaterThanThreshold", 30.0, 60, 2),
]
IN_ALARM = ["api-5xx"]
# With --activity: the alarm the seeded 5XX spike breaches, instead of IN_ALARM.
IN_ALARM_ACTIVITY = ["web-5xx"]

# --activity: how many minutes of datapoints (up to the last whole minute),
# web's 5XX count in the last minutes (oldest first; the alarm's threshold is
# 10), and how often each web task logs an access line.
ACTIVITY_MINUTES = 180
WEB_5XX_SPIKE = [14, 23, 31, 37, 34, 28, 22, 18]
ACCESS_LINE_EVERY_S = 10
# Per service: a quiet CPU % and memory % (the spike adds to web's and api's).
ECS_BASELINE = {"web": (34.0, 58.0), "api": (27.0, 49.0), "worker": (12.0, 36.0)}
# Per target group: requests a minute, response time in seconds.
ALB_BASELINE = {"web": (420.0, 0.18), "api": (260.0, 0.09)}
# Requests of the access lines (the ALB's health checks are not logged).
PATHS = ["/", "/articles", "/articles/{n}", "/api/articles/{n}/comments", "/users/{n}", "/api/search?q=ecs"]
# The odd 5XX of a quiet day, and those of the spike (the pool runs dry).
QUIET_ERRORS = [
    "TypeError: Cannot read properties of undefined (reading 'slug')",
    "Error: upstream image optimizer returned 502",
]
ERRORS = [
    "PrismaClientKnownRequestError: Timed out fetching a new connection from the connection pool (connection limit: 20)",
    "Error: connect ETIMEDOUT 172.31.40.12:5432",
    "PrismaClientKnownRequestError: Timed out fetching a new connection from the connection pool (connection limit: 20)",
    "Error: Connection terminated due to connection timeout",
]


def main() -> int:
    parser = argparse.ArgumentParser(description="Seed a moto account for honban's tests and demo.")
    parser.add_argument("--endpoint", required=True, help="moto server URL (not the proxy)")
    parser.add_argument("--account", help="12-digit account id (sent as x-moto-account-id)")
    parser.add_argument("--region", default="ap-northeast-1")
    parser.add_argument("--name", default="works-logue-prod", help="prefix of every name")
    parser.add_argument("--minimal", action="store_true", help="cluster, one service, one alarm")
    parser.add_argument(
        "--activity", action="store_true", help="targets, three hours of metrics and web logs, web-5xx firing"
    )
    parser.add_argument(
        "--feed", action="store_true", help="after --activity: a new minute of metrics and logs every minute"
    )
    parser.add_argument(
        "--exec-through",
        metavar="URL",
        help="ECS Exec: enable it on web and start one web task with it, sent through URL (the test "
        "proxy, which keeps the ECS Exec state moto lacks); summary: exec_tasks",
    )
    parser.add_argument("--cloudfront", metavar="ALIAS", help="a CloudFront distribution with this alias")
    parser.add_argument("--hosts", action="store_true", help="seed 004 phase 1: EC2 hosts, ALB, RDS (no ECS)")
    parser.add_argument("--redis", action="store_true", help="seed 003's ElastiCache Redis replication group")
    parser.add_argument(
        "--proxy",
        metavar="URL",
        help="the test proxy in front of moto: --redis creates its group through it (the proxy keeps the "
        "member clusters moto lacks)",
    )
    parser.add_argument(
        "--codedeploy",
        action="store_true",
        help="seed 003's backend, deployed blue/green by CodeDeploy: a CODE_DEPLOY service behind two "
        "target groups, its CodeDeploy application and deployment group (waits 60 minutes for a "
        "continue) and a deployment of its newer revision (the test proxy shows it Ready); "
        "summary: codedeploy",
    )
    for opt in ("services", "tasks", "alarms", "dbs", "snapshots", "clusters"):
        parser.add_argument(f"--extra-{opt}", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if args.account is not None and (len(args.account) != 12 or not args.account.isdigit()):
        parser.error("--account must be 12 digits")
    if args.minimal and args.activity:
        parser.error("--activity needs the full seed (not --minimal)")
    if args.hosts and (args.minimal or args.activity or args.feed or args.redis or args.codedeploy):
        parser.error("--hosts is a seed of its own (not with --minimal, --activity, --feed, --redis or --codedeploy)")
    if args.minimal and (args.redis or args.codedeploy):
        parser.error("--redis and --codedeploy need the full seed (not --minimal)")
    if args.feed:
        if args.minimal or args.activity:
            parser.error("--feed runs alone, after a seed with --activity")
        Feeder(Seeder(args)).run()
        return 0
    started = time.monotonic()
    summary = Seeder(args).run()
    summary["seconds"] = round(time.monotonic() - started, 2)
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


class Seeder:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.name = args.name
        self.account = args.account or "123456789012"
        self.region = args.region
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=120)

        def client(service: str, endpoint: str | None = None):
            c = boto3.client(service, endpoint_url=endpoint or args.endpoint, region_name=args.region, config=config)
            if args.account:
                c.meta.events.register("before-sign.*.*", self._add_header)
            return c

        self.client = client

        self.ec2 = client("ec2")
        self.ecs = client("ecs")
        self.elb = client("elbv2")
        self.aas = client("application-autoscaling")
        self.rds = client("rds")
        self.cw = client("cloudwatch")
        self.logs = client("logs")
        self.cloudfront = client("cloudfront")
        # Through the test proxy when given: it keeps what moto lacks of a
        # replication group's member clusters.
        self.elasticache = client("elasticache", args.proxy or args.endpoint)
        self.summary: dict = {
            "account": self.account,
            "region": self.region,
            "name": self.name,
            "cluster": self.name,
            "extra_clusters": [],
            "services": [],
            "task_definitions": {},
            "tasks": 0,
            "tasks_by_group": {},
            "load_balancer": None,
            "target_groups": {},
            "scalable_targets": [],
            "scaling_policies": [],
            "db_instances": [],
            "db_snapshots": [],
            "alarms": 0,
            "alarm_names": [],
            "alarms_in_alarm": [],
            "autoscaling_alarms": [],
        }
        self.task_arns: dict[str, list[str]] = {}
        self.first_breach: tuple[float, datetime] = (0.0, datetime.now(timezone.utc))

    def _add_header(self, request, **_kwargs) -> None:
        request.headers["x-moto-account-id"] = self.args.account

    # ------------------------------------------------------------------

    def run(self) -> dict:
        a = self.args
        if a.hosts:
            self.network()
            self.hosts()
            if a.cloudfront:
                self.distribution(a.cloudfront)
            self.summary["alarm_names"].sort()
            self.summary["alarms"] = len(self.summary["alarm_names"])
            return self.summary
        self.keep_tasks_running()
        self.network()
        self.ecs.create_cluster(clusterName=self.name)
        self.summary["cluster_arn"] = f"arn:aws:ecs:{self.region}:{self.account}:cluster/{self.name}"
        dbs: dict[str, str] = {}
        tgs: dict[str, str] = {}
        if a.minimal:
            self.task_definitions({"web": REVISIONS["web"][-1:]})
            self.service("web", desired=2, tg=None)
            self.alarms([ALARMS[0]], tgs, dbs, lb_dim=None)
        else:
            self.task_definitions(REVISIONS)
            lb_dim = self.load_balancer(tgs)
            for svc in ("web", "api", "worker"):
                self.service(svc, desired=2, tg=tgs.get(svc))
            self.service_tasks(["web", "api", "worker"], per_service=2)
            self.autoscaling()
            dbs = self.databases()
            if a.codedeploy:
                self.codedeploy()
            if a.activity:
                self.activity(tgs, lb_dim, dbs)
            self.alarms(ALARMS, tgs, dbs, lb_dim)
        self.extras()
        if a.cloudfront:
            self.distribution(a.cloudfront)
        if a.redis:
            self.redis()
        if a.exec_through:
            self.exec_task(a.exec_through)
        if not a.minimal:
            # Target tracking creates its own alarms (moto does, as AWS does).
            prefix = f"TargetTracking-service/{self.name}/"
            found = self.cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
            self.summary["autoscaling_alarms"] = sorted(x["AlarmName"] for x in found)
        self.summary["alarm_names"].sort()
        self.summary["alarms"] = len(self.summary["alarm_names"])
        return self.summary

    def keep_tasks_running(self) -> None:
        body = json.dumps(
            {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000_000}}
        ).encode()
        req = urllib.request.Request(
            self.args.endpoint.rstrip("/") + "/moto-api/state-manager/set-transition",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()

    def network(self) -> None:
        vpcs = self.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise SystemExit("moto has no default VPC in this region")
        self.vpc = vpcs[0]["VpcId"]
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])["Subnets"]
        subnets.sort(key=lambda s: s["AvailabilityZone"])
        self.subnets = [s["SubnetId"] for s in subnets][:3]
        groups = self.ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [self.vpc]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"]
        self.security_groups = [groups[0]["GroupId"]]
        self.awsvpc = {
            "awsvpcConfiguration": {
                "subnets": self.subnets[:2],
                "securityGroups": self.security_groups,
                "assignPublicIp": "DISABLED",
            }
        }

    # ------------------------------------------------------------------ ECS

    def task_definitions(self, revisions: dict[str, list[str]]) -> None:
        self.latest: dict[str, str] = {}
        for svc, tags in revisions.items():
            family = f"{self.name}-{svc}"
            arns = []
            for tag in tags:
                arn = self.ecs.register_task_definition(**self.task_definition(svc, family, tag))[
                    "taskDefinition"
                ]["taskDefinitionArn"]
                arns.append(arn)
            self.latest[svc] = arns[-1]
            self.summary["task_definitions"][family] = arns

    def task_definition(self, svc: str, family: str, tag: str) -> dict:
        cpu, memory = SIZES[svc]
        arn = f"arn:aws:{{}}:{self.region}:{self.account}:{{}}"
        container = {
            "name": svc,
            "image": f"{REGISTRY}/works-logue/{svc}:{tag}",
            "cpu": int(cpu),
            "memory": int(memory),
            "essential": True,
            "environment": [{"name": "NODE_ENV", "value": "production"}, {"name": "TZ", "value": "Asia/Tokyo"}],
            "secrets": [{"name": n, "valueFrom": arn.format(*ref.split(":", 1))} for n, ref in SECRETS[svc]],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": f"/ecs/{family}",
                    "awslogs-region": self.region,
                    "awslogs-stream-prefix": "ecs",
                },
            },
        }
        # Scratch space and the rest of what a production definition carries,
        # so that a copy (a new image revision) has every field to keep.
        container["mountPoints"] = [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
        container["readonlyRootFilesystem"] = True
        container["ulimits"] = [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}]
        container["dockerLabels"] = {"app": "works-logue", "component": svc}
        container["stopTimeout"] = 30
        container["user"] = "1000:1000"
        container["workingDirectory"] = "/app"
        if svc in PORTS:
            container["portMappings"] = [{"containerPort": PORTS[svc], "hostPort": PORTS[svc], "protocol": "tcp"}]
            container["healthCheck"] = {
                "command": ["CMD-SHELL", f"curl -fsS http://localhost:{PORTS[svc]}/api/health || exit 1"],
                "interval": 30,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 60,
            }
        return {
            "family": family,
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": cpu,
            "memory": memory,
            "executionRoleArn": f"arn:aws:iam::{self.account}:role/ecsTaskExecutionRole",
            "taskRoleArn": f"arn:aws:iam::{self.account}:role/{family}-task",
            "containerDefinitions": [container],
            "volumes": [
                {"name": "tmp"},
                {
                    "name": "uploads",
                    "efsVolumeConfiguration": {
                        "fileSystemId": "fs-0a1b2c3d4e5f60718",
                        "rootDirectory": f"/{svc}",
                        "transitEncryption": "ENABLED",
                        "authorizationConfig": {"iam": "ENABLED"},
                    },
                },
            ],
            "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
            "ephemeralStorage": {"sizeInGiB": 30},
            "tags": [
                {"key": "Environment", "value": self.name},
                {"key": "Service", "value": svc},
            ],
        }

    def service(self, svc: str, desired: int, tg: str | None, task_definition: str | None = None) -> None:
        kwargs = {
            "cluster": self.name,
            "serviceName": svc,
            "taskDefinition": task_definition or self.latest[svc],
            "desiredCount": desired,
            "launchType": "FARGATE",
            "platformVersion": "LATEST",
            "networkConfiguration": self.awsvpc,
            "deploymentConfiguration": {
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            },
        }
        if tg:
            kwargs["loadBalancers"] = [{"targetGroupArn": tg, "containerName": svc, "containerPort": PORTS[svc]}]
            kwargs["healthCheckGracePeriodSeconds"] = 60
        self.ecs.create_service(**kwargs)
        # moto leaves runningCount at 0; an UpdateService of desiredCount sets it.
        self.ecs.update_service(cluster=self.name, service=svc, desiredCount=desired)
        self.summary["services"].append(svc)

    def codedeploy(self) -> None:
        """Seed 003's backend, released blue/green through CodeDeploy."""
        cd = self.client("codedeploy")
        family = f"{self.name}-backend"
        arns = []
        for tag in CODEDEPLOY_REVISIONS:
            arns.append(
                self.ecs.register_task_definition(
                    family=family,
                    networkMode="awsvpc",
                    requiresCompatibilities=["FARGATE"],
                    cpu="1024",
                    memory="2048",
                    executionRoleArn=f"arn:aws:iam::{self.account}:role/ecsTaskExecutionRole",
                    containerDefinitions=[{
                        "name": "backend", "image": f"{REGISTRY}/works-logue/backend:{tag}",
                        "cpu": 1024, "memory": 2048, "essential": True,
                        "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
                    }],
                )["taskDefinition"]["taskDefinitionArn"]
            )
        self.summary["task_definitions"][family] = arns
        tg_names = [f"{self.name}-backend-1"[:32], f"{self.name}-backend-2"[:32]]
        tgs = [
            self.elb.create_target_group(
                Name=n, Protocol="HTTP", Port=8000, VpcId=self.vpc, TargetType="ip",
                HealthCheckProtocol="HTTP", HealthCheckPath="/api/health",
            )["TargetGroups"][0]["TargetGroupArn"]
            for n in tg_names
        ]
        self.ecs.create_service(
            cluster=self.name, serviceName="backend", taskDefinition=arns[0], desiredCount=2,
            launchType="FARGATE", networkConfiguration=self.awsvpc,
            deploymentController={"type": "CODE_DEPLOY"},
            loadBalancers=[{"targetGroupArn": tgs[0], "containerName": "backend", "containerPort": 8000}],
        )
        self.ecs.update_service(cluster=self.name, service="backend", desiredCount=2)
        self.summary["services"].append("backend")
        app = f"AppECS-{self.name}-backend"
        group = f"DgpECS-{self.name}-backend"
        cd.create_application(applicationName=app, computePlatform="ECS")
        cd.create_deployment_group(
            applicationName=app,
            deploymentGroupName=group,
            serviceRoleArn=f"arn:aws:iam::{self.account}:role/CodeDeployServiceRoleForECS",
            deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes",
            ecsServices=[{"serviceName": "backend", "clusterName": self.name}],
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            blueGreenDeploymentConfiguration={
                "deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 60},
                "terminateBlueInstancesOnDeploymentSuccess": {
                    "action": "TERMINATE", "terminationWaitTimeInMinutes": 5,
                },
            },
            autoRollbackConfiguration={
                "enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"],
            },
            loadBalancerInfo={"targetGroupPairInfoList": [{
                "targetGroups": [{"name": n} for n in tg_names],
                "prodTrafficRoute": {"listenerArns": [
                    f"arn:aws:elasticloadbalancing:{self.region}:{self.account}:listener/app/{self.name}-alb/1/2"
                ]},
            }]},
        )
        appspec = json.dumps({"version": 0.0, "Resources": [{"TargetService": {
            "Type": "AWS::ECS::Service",
            "Properties": {"TaskDefinition": arns[1],
                           "LoadBalancerInfo": {"ContainerName": "backend", "ContainerPort": 8000}},
        }}]})
        deployment = cd.create_deployment(
            applicationName=app, deploymentGroupName=group,
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}},
            description="release 2026.11.23-e4b7a91 (CodePipeline)",
        )["deploymentId"]
        self.summary["codedeploy"] = {"application": app, "deployment_group": group, "deployment": deployment}

    def run_tasks(self, task_definition: str, group: str, count: int, started_by: str | None = None) -> None:
        left = count
        while left > 0:
            batch = min(10, left)  # RunTask's limit on AWS
            kwargs = {
                "cluster": self.name,
                "taskDefinition": task_definition,
                "count": batch,
                "launchType": "FARGATE",
                "group": group,
                "networkConfiguration": self.awsvpc,
            }
            if started_by:
                kwargs["startedBy"] = started_by
            resp = self.ecs.run_task(**kwargs)
            if resp.get("failures"):
                raise SystemExit(f"RunTask failed: {resp['failures']}")
            self.task_arns.setdefault(group, []).extend(t["taskArn"] for t in resp["tasks"])
            left -= batch
        self.summary["tasks"] += count
        by_group = self.summary["tasks_by_group"]
        by_group[group] = by_group.get(group, 0) + count

    def exec_task(self, through: str) -> None:
        """ECS Exec enabled on web (as `update-service --enable-execute-command`
        does) and one more web task started with it; web's earlier tasks
        started without it, as on AWS. Sent through the proxy: moto itself
        keeps no ECS Exec state."""
        config = Config(retries={"max_attempts": 1, "mode": "standard"})
        ecs = boto3.client("ecs", endpoint_url=through, region_name=self.region, config=config)
        if self.args.account:
            ecs.meta.events.register("before-sign.*.*", self._add_header)
        ecs.update_service(cluster=self.name, service="web", enableExecuteCommand=True)
        s = ecs.describe_services(cluster=self.name, services=["web"])["services"][0]
        deployment = (s.get("deployments") or [{}])[0].get("id")
        kwargs = {
            "cluster": self.name,
            "taskDefinition": s["taskDefinition"],
            "count": 1,
            "launchType": "FARGATE",
            "group": "service:web",
            "networkConfiguration": self.awsvpc,
            "enableExecuteCommand": True,
        }
        if deployment:
            kwargs["startedBy"] = deployment
        resp = ecs.run_task(**kwargs)
        if resp.get("failures"):
            raise SystemExit(f"RunTask failed: {resp['failures']}")
        self.summary["exec_tasks"] = [t["taskArn"] for t in resp["tasks"]]
        self.summary["tasks"] += 1
        by_group = self.summary["tasks_by_group"]
        by_group["service:web"] = by_group.get("service:web", 0) + 1

    def service_tasks(self, services: list[str], per_service: int) -> None:
        described = self.ecs.describe_services(cluster=self.name, services=services)["services"]
        for s in described:
            deployment = (s.get("deployments") or [{}])[0].get("id")
            self.run_tasks(s["taskDefinition"], f"service:{s['serviceName']}", per_service, deployment)

    # ------------------------------------------------------------------ ELB, AAS

    def load_balancer(self, tgs: dict[str, str]) -> dict[str, str]:
        lb = self.elb.create_load_balancer(
            Name=f"{self.name}-alb"[:32],
            Subnets=self.subnets[:2],
            SecurityGroups=self.security_groups,
            Scheme="internet-facing",
            Type="application",
            IpAddressType="ipv4",
        )["LoadBalancers"][0]
        lb_arn = lb["LoadBalancerArn"]
        self.summary["load_balancer"] = lb_arn
        for svc in ("web", "api"):
            tg = self.elb.create_target_group(
                Name=f"{self.name}-{svc}"[:32],
                Protocol="HTTP",
                Port=PORTS[svc],
                VpcId=self.vpc,
                TargetType="ip",
                HealthCheckProtocol="HTTP",
                HealthCheckPath="/api/health",
                HealthCheckIntervalSeconds=30,
                HealthyThresholdCount=2,
                UnhealthyThresholdCount=3,
                Matcher={"HttpCode": "200"},
            )["TargetGroups"][0]
            tgs[svc] = tg["TargetGroupArn"]
            self.summary["target_groups"][svc] = tg["TargetGroupArn"]
        listener = self.elb.create_listener(
            LoadBalancerArn=lb_arn,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tgs["web"]}],
        )["Listeners"][0]
        self.elb.create_rule(
            ListenerArn=listener["ListenerArn"],
            Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/v1/*"]}],
            Actions=[{"Type": "forward", "TargetGroupArn": tgs["api"]}],
        )
        # CloudWatch dimension values: "app/NAME/ID" and "targetgroup/NAME/ID".
        dims = {"lb": lb_arn.split(":loadbalancer/", 1)[1]}
        for svc, arn in tgs.items():
            dims[svc] = arn.split(":", 5)[5]
        return dims

    def autoscaling(self) -> None:
        for svc, (low, high) in AUTOSCALING.items():
            resource = f"service/{self.name}/{svc}"
            self.aas.register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=resource,
                ScalableDimension="ecs:service:DesiredCount",
                MinCapacity=low,
                MaxCapacity=high,
            )
            policy = f"{self.name}-{svc}-cpu70"
            self.aas.put_scaling_policy(
                PolicyName=policy,
                ServiceNamespace="ecs",
                ResourceId=resource,
                ScalableDimension="ecs:service:DesiredCount",
                PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": 70.0,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                },
            )
            self.summary["scalable_targets"].append(resource)
            self.summary["scaling_policies"].append(policy)

    # ------------------------------------------------------------------ CloudFront

    def distribution(self, alias: str) -> None:
        origin = f"{self.name}-alb.{self.region}.elb.amazonaws.com"
        out = self.cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": f"{self.name}-seed",
                "Comment": f"{self.name} web",
                "Enabled": True,
                "Aliases": {"Quantity": 1, "Items": [alias]},
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "alb",
                            "DomainName": origin,
                            "CustomOriginConfig": {
                                "HTTPPort": 80,
                                "HTTPSPort": 443,
                                "OriginProtocolPolicy": "https-only",
                            },
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "alb",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                    "MinTTL": 0,
                },
            }
        )
        self.summary["distribution_id"] = out["Distribution"]["Id"]

    # ------------------------------------------------------------------ EC2 (seed 004, phase 1)

    def hosts(self) -> None:
        azs = sorted(
            z["ZoneName"] for z in self.ec2.describe_availability_zones()["AvailabilityZones"]
        )
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])["Subnets"]
        by_az = {s["AvailabilityZone"]: s["SubnetId"] for s in subnets}

        def launch(name: str, role: str, instance_type: str, az: str) -> str:
            tags = [
                {"Key": "Name", "Value": name},
                {"Key": "Role", "Value": role},
                {"Key": "Environment", "Value": self.name},
            ]
            kwargs = {
                "ImageId": "ami-12345678",
                "MinCount": 1,
                "MaxCount": 1,
                "InstanceType": instance_type,
                "Placement": {"AvailabilityZone": az},
                "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}],
            }
            if az in by_az:
                kwargs["SubnetId"] = by_az[az]
            return self.ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"]

        app = [
            launch(f"{self.name}-app-{n}", "app", "t4g.medium", azs[(n - 1) % len(azs)]) for n in (1, 2)
        ]
        self.summary["instances"] = app
        self.summary["bastion"] = launch(f"{self.name}-bastion", "bastion", "t4g.nano", azs[0])
        lb = self.elb.create_load_balancer(
            Name=f"{self.name}-alb"[:32],
            Subnets=self.subnets[:2],
            SecurityGroups=self.security_groups,
            Scheme="internet-facing",
            Type="application",
            IpAddressType="ipv4",
        )["LoadBalancers"][0]
        self.summary["load_balancer"] = lb["LoadBalancerArn"]
        tg = self.elb.create_target_group(
            Name=f"{self.name}-app"[:32],
            Protocol="HTTP",
            Port=3000,
            VpcId=self.vpc,
            TargetType="instance",
            HealthCheckProtocol="HTTP",
            HealthCheckPath="/api/health",
            Matcher={"HttpCode": "200"},
        )["TargetGroups"][0]["TargetGroupArn"]
        self.summary["target_groups"]["app"] = tg
        self.elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
        )
        self.elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": i, "Port": 3000} for i in app])
        self.primary_db()
        topic = f"arn:aws:sns:{self.region}:{self.account}:{self.name}-oncall"
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        for n, instance in enumerate(app, start=1):
            dims = [{"Name": "InstanceId", "Value": instance}]
            for suffix, metric, comparison, threshold, description in (
                ("cpu-high", "CPUUtilization", "GreaterThanThreshold", 80.0, "CPU > 80 % for 5 minutes"),
                (
                    "status-check",
                    "StatusCheckFailed",
                    "GreaterThanOrEqualToThreshold",
                    1.0,
                    "a status check failed",
                ),
            ):
                name = f"{self.name}-app-{n}-{suffix}"
                self.cw.put_metric_alarm(
                    AlarmName=name,
                    AlarmDescription=description,
                    Namespace="AWS/EC2",
                    MetricName=metric,
                    Dimensions=dims,
                    Statistic="Maximum" if metric == "StatusCheckFailed" else "Average",
                    ComparisonOperator=comparison,
                    Threshold=threshold,
                    Period=60 if metric == "StatusCheckFailed" else 300,
                    EvaluationPeriods=2 if metric == "StatusCheckFailed" else 1,
                    TreatMissingData="missing",
                    AlarmActions=[topic],
                    OKActions=[topic],
                )
                self.summary["alarm_names"].append(name)
            # The last hour: CPU around 20-40 %, status checks passing.
            for chunk in range(0, 60, 20):
                data = []
                for m in range(chunk, chunk + 20):
                    at = now - timedelta(minutes=60 - m)
                    cpu = 25.0 + 10.0 * ((m * 7 + n * 3) % 10) / 10.0
                    data.append({"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": at,
                                 "Value": round(cpu, 1), "Unit": "Percent"})
                    data.append({"MetricName": "StatusCheckFailed", "Dimensions": dims, "Timestamp": at,
                                 "Value": 0.0, "Unit": "Count"})
                self.cw.put_metric_data(Namespace="AWS/EC2", MetricData=data)

    # ------------------------------------------------------------------ ElastiCache (seed 003)

    def redis(self) -> None:
        group = f"{self.name}-redis"[:40]
        self.elasticache.create_replication_group(
            ReplicationGroupId=group,
            ReplicationGroupDescription=f"{self.name} sessions and cache",
            Engine="redis",
            EngineVersion="7.1",
            CacheNodeType="cache.t3.medium",
            NumCacheClusters=2,
            AutomaticFailoverEnabled=True,
            MultiAZEnabled=True,
            PreferredCacheClusterAZs=[f"{self.region}a", f"{self.region}c"],
            Tags=[{"Key": "Environment", "Value": self.name}],
        )
        self.summary["replication_group"] = group
        if self.args.activity:
            now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
            rng = random.Random(f"{self.name}-redis")
            for start in range(180, 0, -30):
                data = []
                for m in range(start, start - 30, -1):
                    data += redis_datums(group, now - timedelta(minutes=m), rng)
                self.cw.put_metric_data(Namespace="AWS/ElastiCache", MetricData=data)
        name = f"{self.name}-redis-memory-high"
        self.cw.put_metric_alarm(
            AlarmName=name,
            AlarmDescription="Redis memory > 80 %",
            Namespace="AWS/ElastiCache",
            MetricName="DatabaseMemoryUsagePercentage",
            Dimensions=[{"Name": "CacheClusterId", "Value": f"{group}-001"}],
            Statistic="Average",
            ComparisonOperator="GreaterThanThreshold",
            Threshold=80.0,
            Period=300,
            EvaluationPeriods=1,
            TreatMissingData="missing",
        )
        self.summary["alarm_names"].append(name)

    # ------------------------------------------------------------------ RDS

    def primary_db(self) -> str:
        primary = f"{self.name}-db"
        self.rds.create_db_instance(
            DBInstanceIdentifier=primary,
            DBInstanceClass="db.r6g.large",
            Engine="postgres",
            EngineVersion="16.4",
            DBName="works_logue",
            MasterUsername="works_logue",
            MasterUserPassword="not-a-real-password",
            AllocatedStorage=100,
            StorageType="gp3",
            MultiAZ=True,
            BackupRetentionPeriod=7,
            PreferredBackupWindow="18:00-18:30",
            PreferredMaintenanceWindow="sun:19:00-sun:19:30",
            StorageEncrypted=True,
            DeletionProtection=True,
            VpcSecurityGroupIds=self.security_groups,
            Tags=[{"Key": "Environment", "Value": self.name}],
        )
        self.summary["db_instances"].append(primary)
        return primary

    def databases(self) -> dict[str, str]:
        primary = self.primary_db()
        replica = f"{self.name}-db-replica"
        self.rds.create_db_instance_read_replica(
            DBInstanceIdentifier=replica,
            SourceDBInstanceIdentifier=primary,
            DBInstanceClass="db.r6g.large",
        )
        self.summary["db_instances"].append(replica)
        snapshot = f"{self.name}-db-before-pg16-upgrade"
        self.rds.create_db_snapshot(DBSnapshotIdentifier=snapshot, DBInstanceIdentifier=primary)
        self.summary["db_snapshots"].append(snapshot)
        return {"primary": primary, "replica": replica}

    # ------------------------------------------------------------------ CloudWatch

    def alarms(self, specs, tgs, dbs, lb_dim) -> None:
        for suffix, description, namespace, metric, dim, stat, comparison, threshold, period, periods in specs:
            kind, which = dim.split(":")
            if kind == "svc":
                dimensions = [{"Name": "ClusterName", "Value": self.name}, {"Name": "ServiceName", "Value": which}]
            elif kind == "tg":
                dimensions = [
                    {"Name": "LoadBalancer", "Value": lb_dim["lb"]},
                    {"Name": "TargetGroup", "Value": lb_dim[which]},
                ]
            else:
                dimensions = [{"Name": "DBInstanceIdentifier", "Value": dbs[which]}]
            name = f"{self.name}-{suffix}"
            self.cw.put_metric_alarm(
                AlarmName=name,
                AlarmDescription=description,
                Namespace=namespace,
                MetricName=metric,
                Dimensions=dimensions,
                Statistic=stat,
                ComparisonOperator=comparison,
                Threshold=threshold,
                Period=period,
                EvaluationPeriods=periods,
                DatapointsToAlarm=periods,
                TreatMissingData="missing",
                ActionsEnabled=True,
                AlarmActions=[f"arn:aws:sns:{self.region}:{self.account}:{self.name}-oncall"],
                OKActions=[f"arn:aws:sns:{self.region}:{self.account}:{self.name}-oncall"],
            )
            self.summary["alarm_names"].append(name)
            if self.args.activity and suffix in IN_ALARM_ACTIVITY:
                self.cw.set_alarm_state(AlarmName=name, StateValue="ALARM", **self.breach_reason(threshold))
                self.summary["alarms_in_alarm"].append(name)
            elif not self.args.activity and suffix in IN_ALARM:
                self.cw.set_alarm_state(
                    AlarmName=name,
                    StateValue="ALARM",
                    StateReason=(
                        "Threshold Crossed: 1 datapoint [37.0] was greater than the threshold (10.0)."
                    ),
                    StateReasonData=json.dumps({"version": "1.0", "queryDate": "2026-11-23T03:12:00.000+0000"}),
                )
                self.summary["alarms_in_alarm"].append(name)

    def breach_reason(self, threshold: float) -> dict:
        """StateReason and StateReasonData as CloudWatch writes them, for the
        first datapoint of the seeded spike."""
        value, when = self.first_breach
        stamp = when.strftime("%d/%m/%y %H:%M:%S")
        iso = when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        return {
            "StateReason": (
                f"Threshold Crossed: 1 out of the last 1 datapoints [{value} ({stamp})] was greater than "
                f"the threshold ({threshold}) (minimum 1 datapoint for OK -> ALARM transition)."
            ),
            "StateReasonData": json.dumps(
                {
                    "version": "1.0",
                    "queryDate": (when + timedelta(minutes=1, seconds=8)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                    "startDate": iso,
                    "statistic": "Sum",
                    "period": 60,
                    "recentDatapoints": [value],
                    "threshold": threshold,
                    "evaluatedDatapoints": [{"timestamp": iso, "sampleCount": 1.0, "value": value}],
                }
            ),
        }

    # ------------------------------------------------------------------ activity

    def activity(self, tgs: dict[str, str], lb_dim: dict[str, str], dbs: dict[str, str]) -> None:
        now = datetime.now(timezone.utc)
        # The last whole minute is the newest datapoint (the console's window
        # ends at the current minute).
        last = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
        minutes = [last - timedelta(minutes=ACTIVITY_MINUTES - 1 - i) for i in range(ACTIVITY_MINUTES)]
        rng = random.Random(self.name)
        spike_from = len(minutes) - len(WEB_5XX_SPIKE)
        # How bad each minute is, 0 (quiet) to 1 (the worst of the spike).
        worst = max(WEB_5XX_SPIKE)
        load = [0.0] * spike_from + [v / worst for v in WEB_5XX_SPIKE]
        web_5xx = [float(rng.choice([0, 0, 0, 0, 1, 1, 2])) for _ in range(spike_from)]
        web_5xx += [float(v) for v in WEB_5XX_SPIKE]
        self.summary["activity"] = {
            "first_minute": minutes[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last_minute": last.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "web_5xx_spike": [float(v) for v in WEB_5XX_SPIKE],
        }
        first = next(i for i, v in enumerate(web_5xx) if v > 10.0)
        self.first_breach = (web_5xx[first], minutes[first])
        self.targets(tgs)
        self.metrics(minutes, load, web_5xx, rng, lb_dim, dbs)
        self.web_logs(minutes, load, web_5xx, rng)

    def targets(self, tgs: dict[str, str]) -> None:
        """Two IP targets a group, one per subnet (AZ), as ECS registers
        awsvpc tasks. moto reports every registered target healthy."""
        subnets = self.ec2.describe_subnets(SubnetIds=self.subnets[:2])["Subnets"]
        subnets.sort(key=lambda s: s["AvailabilityZone"])
        registered = {}
        for n, (svc, arn) in enumerate(sorted(tgs.items(), key=lambda kv: kv[0] != "web")):
            targets = []
            for i, subnet in enumerate(subnets):
                net = ipaddress.ip_network(subnet["CidrBlock"])
                ip = str(net.network_address + 100 + 10 * n + i * 7)
                targets.append({"Id": ip, "Port": PORTS[svc], "AvailabilityZone": subnet["AvailabilityZone"]})
            self.elb.register_targets(TargetGroupArn=arn, Targets=targets)
            registered[svc] = [t["Id"] for t in targets]
        self.summary["activity"]["targets"] = registered

    def metrics(self, minutes, load, web_5xx, rng, lb_dim, dbs) -> None:
        by_namespace: dict[str, list[dict]] = {}

        def put(namespace: str, name: str, dims: list[tuple[str, str]], unit: str, values: list[float]) -> None:
            dimensions = [{"Name": k, "Value": v} for k, v in dims]
            by_namespace.setdefault(namespace, []).extend(
                {"MetricName": name, "Dimensions": dimensions, "Timestamp": t, "Value": v, "Unit": unit}
                for t, v in zip(minutes, values)
            )

        def wobble(base: float, spread: float, spike: float = 0.0, digits: int = 1) -> list[float]:
            # A slow drift (the day's traffic), noise, and the spike on top.
            out = []
            for i, x in enumerate(load):
                drift = 1.0 + 0.12 * ((i / len(load)) - 0.5)
                out.append(round(max(0.0, base * drift + rng.uniform(-spread, spread) + spike * x), digits))
            return out

        for svc, (cpu, memory) in ECS_BASELINE.items():
            dims = [("ClusterName", self.name), ("ServiceName", svc)]
            extra = {"web": 36.0, "api": 12.0}.get(svc, 0.0)
            put("AWS/ECS", "CPUUtilization", dims, "Percent", wobble(cpu, 4.0, extra))
            put("AWS/ECS", "MemoryUtilization", dims, "Percent", wobble(memory, 1.5, extra / 3))
        for svc, (requests, latency) in ALB_BASELINE.items():
            dims = [("LoadBalancer", lb_dim["lb"]), ("TargetGroup", lb_dim[svc])]
            if svc == "web":
                errors = web_5xx
                slow = 2.1
            else:
                errors = [float(rng.choice([0, 0, 0, 0, 0, 1])) for _ in minutes]
                slow = 0.3
            put("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dims, "Count", errors)
            put("AWS/ApplicationELB", "RequestCount", dims, "Count", wobble(requests, requests * 0.08, 0.0, 0))
            put("AWS/ApplicationELB", "TargetResponseTime", dims, "Seconds", wobble(latency, latency * 0.15, slow, 3))
        primary = [("DBInstanceIdentifier", dbs["primary"])]
        put("AWS/RDS", "CPUUtilization", primary, "Percent", wobble(24.0, 3.0, 47.0))
        put("AWS/RDS", "DatabaseConnections", primary, "Count", wobble(48.0, 5.0, 96.0, 0))
        # 100 GiB allocated, about 62 GiB free, a little less every minute.
        free = [round(62.4e9 - i * 2.1e6 + rng.uniform(-1e6, 1e6)) for i in range(len(minutes))]
        put("AWS/RDS", "FreeStorageSpace", primary, "Bytes", [float(v) for v in free])
        replica = [("DBInstanceIdentifier", dbs["replica"])]
        put("AWS/RDS", "CPUUtilization", replica, "Percent", wobble(15.0, 2.0, 9.0))
        put("AWS/RDS", "DatabaseConnections", replica, "Count", wobble(22.0, 3.0, 6.0, 0))
        put("AWS/RDS", "FreeStorageSpace", replica, "Bytes", [float(v + 3.1e8) for v in free])
        put("AWS/RDS", "ReplicaLag", replica, "Seconds", wobble(0.4, 0.3, 2.5, 1))
        count = 0
        calls = 0
        for namespace, data in by_namespace.items():
            for i in range(0, len(data), 1000):  # PutMetricData's limit on AWS
                self.cw.put_metric_data(Namespace=namespace, MetricData=data[i : i + 1000])
                count += len(data[i : i + 1000])
                calls += 1
        self.summary["activity"]["metric_datums"] = count
        self.summary["activity"]["put_metric_data_calls"] = calls

    def web_logs(self, minutes, load, web_5xx, rng) -> None:
        """web's awslogs: /ecs/NAME-web, a stream ecs/web/<task id> per
        running task; access lines and, in the same minutes as the 5XX
        count, one ERROR line per 5XX."""
        group = f"/ecs/{self.name}-web"
        tasks = [arn.rsplit("/", 1)[1] for arn in self.task_arns.get("service:web", [])]
        if not tasks:
            raise SystemExit("--activity: the web service has no tasks to log")
        self.logs.create_log_group(logGroupName=group)
        self.logs.put_retention_policy(logGroupName=group, retentionInDays=30)
        streams = [f"ecs/web/{task}" for task in tasks]
        events: list[list[tuple[int, str]]] = [[] for _ in tasks]

        def path() -> str:
            return rng.choice(PATHS).replace("{n}", str(rng.randint(1, 4800)))

        errors = 0
        for minute, bad, fives in zip(minutes, load, web_5xx):
            start = int(minute.timestamp() * 1000)
            for k in range(len(tasks)):
                for s in range(0, 60, ACCESS_LINE_EVERY_S):
                    t = start + s * 1000 + rng.randint(0, ACCESS_LINE_EVERY_S * 1000 - 1)
                    ms = rng.randint(12, 240)
                    status = rng.choice([200, 200, 200, 200, 200, 304, 200, 404])
                    events[k].append((t, f"INFO GET {path()} {status} {ms}ms"))
            for e in range(int(fives)):
                k = e % len(tasks)
                t = start + rng.randint(0, 59_999)
                ms = rng.randint(5000, 10000) if bad else rng.randint(40, 900)
                msg = rng.choice(ERRORS if bad else QUIET_ERRORS)
                events[k].append((t, f"ERROR GET {path()} 500 {ms}ms {msg}"))
                errors += 1
        count = 0
        for stream, evs in zip(streams, events):
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
            evs.sort(key=lambda e: e[0])
            for i in range(0, len(evs), 10000):  # PutLogEvents' limit on AWS
                batch = evs[i : i + 10000]
                self.logs.put_log_events(
                    logGroupName=group,
                    logStreamName=stream,
                    logEvents=[{"timestamp": t, "message": m} for t, m in batch],
                )
            count += len(evs)
        self.summary["activity"].update(
            {"log_group": group, "log_streams": streams, "log_events": count, "error_lines": errors}
        )

    # ------------------------------------------------------------------ scale

    def extras(self) -> None:
        a = self.args
        # Empty clusters (NAME-extra-000, ...): ListClusters takes more than one page.
        for i in range(a.extra_clusters):
            cluster = f"{self.name}-extra-{i:03d}"
            self.ecs.create_cluster(clusterName=cluster)
            self.summary["extra_clusters"].append(cluster)
        family_web = self.latest.get("web")
        for i in range(a.extra_services):
            self.service(f"svc-{i:03d}", desired=1, tg=None, task_definition=family_web)
        if a.extra_tasks:
            if a.extra_services:
                desc = self.ecs.describe_services(cluster=self.name, services=["svc-000"])["services"][0]
                started_by = (desc.get("deployments") or [{}])[0].get("id")
                self.run_tasks(family_web, "service:svc-000", a.extra_tasks, started_by)
            else:
                self.run_tasks(family_web, f"family:{self.name}-web", a.extra_tasks)
        for i in range(a.extra_alarms):
            name = f"{self.name}-extra-{i:03d}"
            self.cw.put_metric_alarm(
                AlarmName=name,
                AlarmDescription=f"extra alarm {i} for pagination tests",
                Namespace="AWS/ECS",
                MetricName="CPUUtilization",
                Dimensions=[{"Name": "ClusterName", "Value": self.name}, {"Name": "ServiceName", "Value": "web"}],
                Statistic="Average",
                ComparisonOperator="GreaterThanThreshold",
                Threshold=90.0,
                Period=60,
                EvaluationPeriods=1,
            )
            self.summary["alarm_names"].append(name)
        for i in range(a.extra_dbs):
            ident = f"{self.name}-extra-db-{i:03d}"
            self.rds.create_db_instance(
                DBInstanceIdentifier=ident,
                DBInstanceClass="db.t4g.micro",
                Engine="postgres",
                EngineVersion="16.4",
                MasterUsername="works_logue",
                MasterUserPassword="not-a-real-password",
                AllocatedStorage=20,
                StorageType="gp3",
            )
            self.summary["db_instances"].append(ident)
        if a.extra_snapshots:
            primary = f"{self.name}-db"
            if primary not in self.summary["db_instances"]:
                self.primary_db()
            for i in range(a.extra_snapshots):
                ident = f"{self.name}-snap-{i:03d}"
                self.rds.create_db_snapshot(DBSnapshotIdentifier=ident, DBInstanceIdentifier=primary)
                self.summary["db_snapshots"].append(ident)


def redis_datums(group: str, minute: datetime, rng: random.Random) -> list[dict]:
    """One quiet minute of a two-node Redis group's metrics (seed 003's
    cache: the primary NAME-redis-001 and its replica NAME-redis-002)."""

    def wobble(base: float, spread: float, digits: int = 1) -> float:
        return round(max(0.0, base + rng.uniform(-spread, spread)), digits)

    out = []
    for node, role in ((f"{group}-001", "primary"), (f"{group}-002", "replica")):
        values = [
            ("CPUUtilization", "Percent", wobble(4.0 if role == "primary" else 2.5, 1.0)),
            ("EngineCPUUtilization", "Percent", wobble(7.0 if role == "primary" else 2.0, 1.5)),
            ("DatabaseMemoryUsagePercentage", "Percent", wobble(41.0, 0.6)),
            ("CurrConnections", "Count", wobble(64.0 if role == "primary" else 12.0, 4.0, 0)),
            ("Evictions", "Count", 0.0),
        ]
        if role == "replica":
            values.append(("ReplicationLag", "Seconds", wobble(0.012, 0.006, 3)))
        for metric, unit, value in values:
            out.append(
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "CacheClusterId", "Value": node}],
                    "Timestamp": minute,
                    "Value": value,
                    "Unit": unit,
                }
            )
    return out


class Feeder:
    """--feed: one quiet minute of the --activity series and web's log lines
    a minute, for as long as it runs (moto-demo.sh runs one per
    environment)."""

    # Quiet minutes after which the web 5XX alarm is set back to OK.
    OK_AFTER_MINUTES = 10

    def __init__(self, seeder: "Seeder"):
        self.s = seeder
        self.name = seeder.name
        self.rng = random.Random(f"{self.name}-feed")
        groups = seeder.elb.describe_target_groups(Names=[f"{self.name}-web"[:32], f"{self.name}-api"[:32]])
        self.lb_dim: dict[str, str] = {}
        for tg in groups["TargetGroups"]:
            svc = "web" if tg["TargetGroupName"].endswith("-web") else "api"
            self.lb_dim[svc] = tg["TargetGroupArn"].split(":", 5)[5]
            if tg.get("LoadBalancerArns"):
                self.lb_dim["lb"] = tg["LoadBalancerArns"][0].split(":loadbalancer/", 1)[1]
        if "lb" not in self.lb_dim:
            raise SystemExit(f"--feed: {self.name} has no load balancer (seed it with --activity first)")
        self.group = f"/ecs/{self.name}-web"
        streams = seeder.logs.describe_log_streams(logGroupName=self.group, logStreamNamePrefix="ecs/web/")
        self.streams = [x["logStreamName"] for x in streams["logStreams"]]
        if not self.streams:
            raise SystemExit(f"--feed: {self.group} has no streams (seed it with --activity first)")
        self.dbs = {"primary": f"{self.name}-db", "replica": f"{self.name}-db-replica"}
        self.free = 62.4e9
        # The Redis group, where the seed made one (--redis).
        self.redis = f"{self.name}-redis"[:40]
        try:
            seeder.elasticache.describe_replication_groups(ReplicationGroupId=self.redis)
        except seeder.elasticache.exceptions.ReplicationGroupNotFoundFault:
            self.redis = None

    def run(self) -> None:
        started = datetime.now(timezone.utc)
        fed = 0
        while True:
            # Just after the next minute starts (the seed wrote the minutes
            # before this one), the minute that has just ended.
            nxt = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=2)
            time.sleep(max(1.0, (nxt - datetime.now(timezone.utc)).total_seconds()))
            now = datetime.now(timezone.utc)
            minute = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
            self.metrics(minute)
            self.web_logs(minute)
            fed += 1
            if fed == self.OK_AFTER_MINUTES:
                self.s.cw.set_alarm_state(
                    AlarmName=f"{self.name}-web-5xx",
                    StateValue="OK",
                    StateReason=(
                        "Threshold Crossed: 1 out of the last 1 datapoints "
                        f"[0.0 ({minute.strftime('%d/%m/%y %H:%M:%S')})] was not greater than the threshold (10.0) "
                        "(minimum 1 datapoint for ALARM -> OK transition)."
                    ),
                )
            print(f"feed {self.name}: {minute:%H:%M} UTC ({fed} since {started:%H:%M})", flush=True)

    def metrics(self, minute: datetime) -> None:
        data: dict[str, list[dict]] = {}
        rng = self.rng

        def put(namespace: str, name: str, dims: list[tuple[str, str]], unit: str, value: float) -> None:
            data.setdefault(namespace, []).append(
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                    "Timestamp": minute,
                    "Value": value,
                    "Unit": unit,
                }
            )

        def wobble(base: float, spread: float, digits: int = 1) -> float:
            return round(max(0.0, base + rng.uniform(-spread, spread)), digits)

        for svc, (cpu, memory) in ECS_BASELINE.items():
            dims = [("ClusterName", self.name), ("ServiceName", svc)]
            put("AWS/ECS", "CPUUtilization", dims, "Percent", wobble(cpu, 4.0))
            put("AWS/ECS", "MemoryUtilization", dims, "Percent", wobble(memory, 1.5))
        for svc, (requests, latency) in ALB_BASELINE.items():
            dims = [("LoadBalancer", self.lb_dim["lb"]), ("TargetGroup", self.lb_dim[svc])]
            put("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dims, "Count", float(rng.choice([0, 0, 0, 0, 1])))
            put("AWS/ApplicationELB", "RequestCount", dims, "Count", wobble(requests, requests * 0.08, 0))
            put("AWS/ApplicationELB", "TargetResponseTime", dims, "Seconds", wobble(latency, latency * 0.15, 3))
        primary = [("DBInstanceIdentifier", self.dbs["primary"])]
        replica = [("DBInstanceIdentifier", self.dbs["replica"])]
        self.free -= 2.1e6
        put("AWS/RDS", "CPUUtilization", primary, "Percent", wobble(24.0, 3.0))
        put("AWS/RDS", "DatabaseConnections", primary, "Count", wobble(48.0, 5.0, 0))
        put("AWS/RDS", "FreeStorageSpace", primary, "Bytes", float(round(self.free)))
        put("AWS/RDS", "CPUUtilization", replica, "Percent", wobble(15.0, 2.0))
        put("AWS/RDS", "DatabaseConnections", replica, "Count", wobble(22.0, 3.0, 0))
        put("AWS/RDS", "FreeStorageSpace", replica, "Bytes", float(round(self.free + 3.1e8)))
        put("AWS/RDS", "ReplicaLag", replica, "Seconds", wobble(0.4, 0.3))
        if self.redis:
            data["AWS/ElastiCache"] = redis_datums(self.redis, minute, rng)
        for namespace, items in data.items():
            self.s.cw.put_metric_data(Namespace=namespace, MetricData=items)

    def web_logs(self, minute: datetime) -> None:
        rng = self.rng
        start = int(minute.timestamp() * 1000)
        for stream in self.streams:
            events = []
            for sec in range(0, 60, ACCESS_LINE_EVERY_S):
                t = start + sec * 1000 + rng.randint(0, ACCESS_LINE_EVERY_S * 1000 - 1)
                path = rng.choice(PATHS).replace("{n}", str(rng.randint(1, 4800)))
                status = rng.choice([200, 200, 200, 200, 200, 304, 200, 404])
                events.append((t, f"INFO GET {path} {status} {rng.randint(12, 240)}ms"))
            if rng.random() < 0.1:
                t = start + rng.randint(0, 59_999)
                events.append((t, f"ERROR GET / 500 {rng.randint(40, 900)}ms {rng.choice(QUIET_ERRORS)}"))
            events.sort(key=lambda e: e[0])
            self.s.logs.put_log_events(
                logGroupName=self.group,
                logStreamName=stream,
                logEvents=[{"timestamp": t, "message": m} for t, m in events],
            )


if __name__ == "__main__":
    sys.exit(main())
