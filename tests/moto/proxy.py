#!/usr/bin/env python3
"""A thin, AWS-faithful layer in front of a moto server, for honban's tests.

    python tests/moto/proxy.py --listen 127.0.0.1:0 --moto http://127.0.0.1:5000 [--latency-ms 25]

Prints ``READY <port>`` on stdout once it listens. Every request is forwarded
to moto unchanged (method, path, query, headers including
``x-moto-account-id``, body) and moto's answer is returned, except:

* CloudWatch smithy-rpc-v2-cbor (``POST /service/GraniteServiceVersion20100801
  /operation/<Op>``, what aws-sdk-cloudwatch >= 1.100 speaks) is translated
  to awsJson1_0 for moto and the answer back to CBOR, using the operation's
  output shape from botocore's service model (botocore is installed with
  moto) so that timestamps become CBOR tag 1, doubles CBOR floats, integers
  CBOR integers: the Rust SDK's CBOR decoder accepts nothing else.
* The real API page sizes, batch limits and next-tokens, which moto ignores,
  are enforced (see PAGED_JSON, PAGED_XML and the ECS batch limits below).
  The proxy asks moto for the whole list once per request and slices it; its
  next-tokens are opaque (an offset plus a hash of the request).
* EC2 DescribeInstances: MaxResults 5 to 1000 (not with instance ids), and
  pages of at most EC2_PAGE_CAP instances with an opaque nextToken (EC2
  answers "up to" MaxResults); DescribeInstanceStatus: at most 100 instance
  ids (see ``handle_ec2``). EC2's errors in its own XML shape.
* GetMetricData: at most 500 ``MetricDataQueries`` a request (a
  ValidationError beyond, as on AWS).
* ListTasks: ``serviceName`` (ignored by moto) filters by the task's group
  ``service:<name>``; ``desiredStatus`` defaults to RUNNING, as on AWS.
* ListTaskDefinitions: sorted by family and revision, ``sort: DESC``
  reversed (moto ignores ``sort``).
* ECS Exec, which moto lacks (see ``ecs_exec_request``): enableExecuteCommand
  of RunTask / CreateService / UpdateService is remembered, DescribeTasks
  gets enableExecuteCommand, runtimeId and the ExecuteCommandAgent, and
  ExecuteCommand is answered with ECS's checks and a well-formed session.
* PromoteReadReplica and RestoreDBInstanceToPointInTime: moto 5.2.5 keeps
  (or invents) a replica link: the promoted instance still names its
  source and the source still lists it; an instance restored to a point in
  time names its source as if it were its replica. The proxy remembers
  such instances and drops that link from DescribeDBInstances, as RDS has
  none for them.
* ElastiCache DescribeReplicationGroups / DescribeCacheClusters: MaxRecords
  20 to 100 (InvalidParameterValue otherwise), pages of at most
  ELASTICACHE_PAGE_CAP with an opaque Marker (ElastiCache answers "up to"
  MaxRecords). What moto 5.2.5 lacks is answered in the shape of the API
  reference (see ``complete_cache_clusters``): CreateReplicationGroup
  creates no member cache clusters, so DescribeCacheClusters gets one per
  member the groups name (its status the group's, engine, version and node
  type as created, zone and role from the node group), and no cache
  cluster has CacheNodes, so ShowCacheNodeInfo adds each cluster's node
  (0001, its status, its endpoint); and CreateReplicationGroup's
  NumCacheClusters, which moto ignores, is passed on as the
  ReplicasPerNodeGroup moto counts; DescribeReplicationGroups gets the
  ReaderEndpoint moto leaves out. ``POST /__proxy/elasticache-status``
  sets a cache cluster's status (and its node's) as the API will report
  it: the states moto never reaches (``incompatible-network``, ``failed``).
* CodeDeploy, whose engine moto does not run (see ``codedeploy_request``):
  StopDeployment, ContinueDeployment, BatchGetDeploymentTargets and
  BatchGetDeploymentGroups are answered here in the API reference's shape;
  a deployment moto holds reads back (GetDeployment, BatchGetDeployments,
  ListDeployments' includeOnlyStatuses) with the status the proxy keeps:
  Ready when its group waits for a continue, else Succeeded; Stopped after
  StopDeployment, with a rollback deployment created in moto when
  autoRollbackEnabled; Succeeded after ContinueDeployment, the ECS service
  then on the new task definition. ECS UpdateService changing a
  CODE_DEPLOY service's task definition is refused, as ECS refuses it.
* DescribeAlarms: ``StateValue``, ``AlarmNamePrefix`` and ``AlarmNames``
  are all applied (moto applies only the first it finds), alarms come sorted
  by name, and composite alarms only when ``AlarmTypes`` asks for them.

Control endpoints (never forwarded, never counted); ``account`` defaults to
moto's default account 123456789012:

    GET    /__proxy/health                 -> "ok"
    GET    /__proxy/counts?account=ID      -> {"ecs:ListServices": 3, ...}
    POST   /__proxy/reset?account=ID       -> clears that account's counts
    POST   /__proxy/fault?account=ID       {"operation": "ecs:ListServices",
                                            "kind": "throttle", "count": 2}
    DELETE /__proxy/fault?account=ID       -> clears that account's faults
    GET    /__proxy/faults?account=ID      -> the faults still armed
    POST   /__proxy/elasticache-status?account=ID
                                           {"cluster": "rg-002", "status":
                                           "incompatible-network"}: what
                                           DescribeCacheClusters reports for
                                           that cache cluster and its node
    POST   /__proxy/latency                {"ms": 25}: every AWS request
                                           waits that long before it is
                                           handled (all accounts; 0: none)
    GET    /__proxy/requests?account=ID[&operation=ecs:UpdateService]
                                        -> [{"operation": ..., "params": {...}}]
                                           every mutating request (any
                                           operation not named Describe*,
                                           List*, Get* or BatchGet*), oldest
                                           first, with
                                           its decoded parameters (JSON and
                                           CBOR bodies as JSON, query forms
                                           as {key: value}); cleared by reset

Operations are named ``<service>:<Operation>`` with the IAM service prefix:
ecs, ecr, cloudwatch, rds, application-autoscaling, elasticloadbalancing,
sts, ec2, logs, elasticache, cloudfront, codedeploy. A fault's ``operation`` is such a name, ``<service>:*`` or ``*``;
``kind`` is ``throttle``, ``expired``, ``500``, ``hang`` (waits
``seconds``, default 30, then answers normally) or ``slow`` (forwards the
request at once, so it is applied, then holds the answer ``seconds``: a
lost or late answer); ``count`` is how many
matching requests it hits (default 1; 0 or less: every one until cleared).

Python 3.11 standard library plus cbor2 (and botocore's model files).
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import gzip
import hashlib
import http.client
import json
import re
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cbor2

DEFAULT_ACCOUNT = "123456789012"
VERBOSE = False
# Seconds every AWS request waits before it is handled, like a round trip
# to a real region (--latency-ms, or POST /__proxy/latency {"ms": 25}).
LATENCY = 0.0
MOTO: urllib.parse.SplitResult | None = None

# X-Amz-Target prefix -> service name used in counts and faults.
TARGET_PREFIXES = {
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "AmazonEC2ContainerRegistry_V20150921": "ecr",
    "AnyScaleFrontendService": "application-autoscaling",
    "GraniteServiceVersion20100801": "cloudwatch",
    "Logs_20140328": "logs",
    "AWSSecurityTokenServiceV20110615": "sts",
    "CodeDeploy_20141006": "codedeploy",
}
CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/?]+)$")
# SigV4 signing name -> service name, where they differ.
SIGNING_NAMES = {"monitoring": "cloudwatch"}
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,]*/\d{8}/([^/,]+)/([^/,]+)/aws4_request")

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",
}
# Moto's response headers we do not pass on (ours are sent instead).
DROP_RESPONSE = HOP_BY_HOP | {"server", "date"}

EXPIRED_MESSAGE = "The security token included in the request is expired"
HTML_500 = (
    b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    b"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and"
    b" was unable to complete your request. Either the server is overloaded or there"
    b" is an error in the application.</p>\n"
)


def log(message: str) -> None:
    if VERBOSE:
        print(f"[proxy] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# State: request counts and armed faults, per account.


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, dict[str, int]] = {}
        self.faults: dict[str, list[dict]] = {}
        self.requests: dict[str, list[dict]] = {}
        # Read replicas promoted, per account (moto keeps their link).
        self.promoted: dict[str, set[str]] = {}
        # ElastiCache, per account: what each replication group was created
        # with (moto does not describe it), and cache cluster statuses set
        # by a test.
        self.cache_groups: dict[str, dict[str, dict[str, str]]] = {}
        self.cache_status: dict[str, dict[str, str]] = {}

    def cache_group_created(self, account: str, group: str, params: dict[str, str]) -> None:
        with self.lock:
            self.cache_groups.setdefault(account, {})[group] = params

    def get_cache_groups(self, account: str) -> dict[str, dict[str, str]]:
        with self.lock:
            return copy.deepcopy(self.cache_groups.get(account, {}))

    def set_cache_status(self, account: str, cluster: str, status: str) -> None:
        with self.lock:
            self.cache_status.setdefault(account, {})[cluster] = status

    def get_cache_status(self, account: str) -> dict[str, str]:
        with self.lock:
            return dict(self.cache_status.get(account, {}))

    def promote(self, account: str, instance: str) -> None:
        with self.lock:
            self.promoted.setdefault(account, set()).add(instance)

    def get_promoted(self, account: str) -> set[str]:
        with self.lock:
            return set(self.promoted.get(account, set()))

    def record(self, account: str, name: str, params) -> None:
        with self.lock:
            self.requests.setdefault(account, []).append({"operation": name, "params": params})

    def get_requests(self, account: str, operation: str | None) -> list[dict]:
        with self.lock:
            return [r for r in self.requests.get(account, []) if operation in (None, r["operation"])]

    def count(self, account: str, name: str) -> None:
        with self.lock:
            per = self.counts.setdefault(account, {})
            per[name] = per.get(name, 0) + 1

    def get_counts(self, account: str) -> dict[str, int]:
        with self.lock:
            return dict(sorted(self.counts.get(account, {}).items()))

    def reset(self, account: str) -> None:
        with self.lock:
            self.counts.pop(account, None)
            self.requests.pop(account, None)

    def add_fault(self, account: str, fault: dict) -> None:
        with self.lock:
            self.faults.setdefault(account, []).append(fault)

    def clear_faults(self, account: str) -> None:
        with self.lock:
            self.faults.pop(account, None)

    def get_faults(self, account: str) -> list[dict]:
        with self.lock:
            return [dict(f) for f in self.faults.get(account, [])]

    def take_fault(self, account: str, name: str) -> dict | None:
        """The first armed fault matching `name`, used up by one."""
        service = name.split(":", 1)[0]
        with self.lock:
            faults = self.faults.get(account, [])
            for fault in faults:
                op = fault["operation"]
                if op in ("*", name, f"{service}:*"):
                    if fault["count"] > 0:
                        fault["count"] -= 1
                        if fault["count"] == 0:
                            faults.remove(fault)
                    return dict(fault)
        return None


STATE = State()


# --------------------------------------------------------------------------
# Requests and responses.


class Request:
    """One client request, classified."""

    def __init__(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes):
        self.method = method
        parts = urllib.parse.urlsplit(target)
        self.path = parts.path or "/"
        self.query = parts.query
        self.target = target
        self.headers = headers
        self.body = body
        self.account = self.header("x-moto-account-id") or DEFAULT_ACCOUNT
        self.protocol = "rest"  # json | cbor | query | rest
        self.service = "unknown"
        self.operation = f"{method} {self.path}"
        self.target_prefix = ""
        self.form: list[tuple[str, str]] = []
        self._classify()

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def signing_service(self) -> str | None:
        auth = self.header("authorization") or ""
        match = CREDENTIAL_SCOPE.search(auth)
        if not match:
            return None
        return SIGNING_NAMES.get(match.group(2), match.group(2))

    def _classify(self) -> None:
        cbor_path = CBOR_PATH.match(self.path)
        amz_target = self.header("x-amz-target")
        content_type = (self.header("content-type") or "").lower()
        if cbor_path and self.method == "POST":
            self.protocol = "cbor"
            self.target_prefix = cbor_path.group(1)
            self.service = TARGET_PREFIXES.get(self.target_prefix) or self.signing_service() or "unknown"
            self.operation = cbor_path.group(2)
        elif amz_target and "." in amz_target:
            self.protocol = "json"
            prefix, op = amz_target.rsplit(".", 1)
            self.target_prefix = prefix
            self.service = TARGET_PREFIXES.get(prefix) or self.signing_service() or prefix
            self.operation = op
        else:
            form: list[tuple[str, str]] = []
            if self.method == "POST" and "x-www-form-urlencoded" in content_type:
                form = urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            elif self.method == "GET" and self.query:
                form = urllib.parse.parse_qsl(self.query, keep_blank_values=True)
            action = next((v for k, v in form if k == "Action"), None)
            if action:
                self.protocol = "query"
                self.form = form
                self.operation = action
                self.service = self.signing_service() or "unknown"
            else:
                self.service = self.signing_service() or "unknown"
                # CloudFront speaks REST-XML: the operation is the method
                # and path, named here as the API reference names it.
                if self.service == "cloudfront":
                    for method, path, op in CLOUDFRONT_REST:
                        if self.method == method and path.match(self.path):
                            self.operation = op
                            break

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"

    def form_value(self, key: str) -> str | None:
        return next((v for k, v in self.form if k == key), None)


# CloudFront's REST operations (API version 2020-05-31) by method and path.
CLOUDFRONT_REST = [
    ("POST", re.compile(r"^/2020-05-31/distribution$"), "CreateDistribution"),
    ("GET", re.compile(r"^/2020-05-31/distribution$"), "ListDistributions"),
    ("GET", re.compile(r"^/2020-05-31/distribution/[^/]+$"), "GetDistribution"),
    ("POST", re.compile(r"^/2020-05-31/distribution/[^/]+/invalidation$"), "CreateInvalidation"),
    ("GET", re.compile(r"^/2020-05-31/distribution/[^/]+/invalidation$"), "ListInvalidations"),
    ("GET", re.compile(r"^/2020-05-31/distribution/[^/]+/invalidation/[^/]+$"), "GetInvalidation"),
]


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]] | None = None, body: bytes = b""):
        self.status = status
        self.headers = headers or []
        self.body = body

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))

    def json(self):
        return json.loads(self.body.decode("utf-8") or "{}")


def forward(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
    """Sends one request to moto and returns its answer."""
    assert MOTO is not None
    conn = http.client.HTTPConnection(MOTO.hostname, MOTO.port or 80, timeout=120)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        has_host = False
        for key, value in headers:
            if key.lower() in HOP_BY_HOP:
                continue
            if key.lower() == "host":
                has_host = True
            conn.putheader(key, value)
        if not has_host:
            conn.putheader("Host", f"{MOTO.hostname}:{MOTO.port}")
        if body or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in DROP_RESPONSE]
        return Response(resp.status, out, data)
    finally:
        conn.close()


def request_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """An error answered the way AWS answers it for the request's protocol."""

    def __init__(self, code: str, message: str, status: int = 400, sender: bool = True):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender


def error_response(req: Request, err: ApiError) -> Response:
    rid = request_id()
    kind = "Sender" if err.sender else "Receiver"
    if req.protocol == "query" and req.service == "ec2":
        # EC2's own query protocol: Response/Errors/Error, RequestID.
        body = (
            "<Response><Errors><Error>"
            f"<Code>{xml_escape(err.code)}</Code><Message>{xml_escape(err.message)}</Message>"
            f"</Error></Errors><RequestID>{rid}</RequestID></Response>"
        ).encode()
        return Response(err.status, [("Content-Type", "text/xml")], body)
    if req.protocol == "query":
        body = (
            "<ErrorResponse><Error>"
            f"<Type>{kind}</Type><Code>{xml_escape(err.code)}</Code>"
            f"<Message>{xml_escape(err.message)}</Message>"
            f"</Error><RequestId>{rid}</RequestId></ErrorResponse>"
        ).encode()
        return Response(err.status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body)
    if req.protocol == "cbor":
        body = cbor2.dumps({"__type": err.code, "message": err.message})
        return Response(
            err.status,
            [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("x-amzn-query-error", f"{err.code};{kind}"),
                ("x-amzn-RequestId", rid),
            ],
            body,
        )
    version = "1.0" if req.target_prefix == "GraniteServiceVersion20100801" else "1.1"
    body = json.dumps({"__type": err.code, "message": err.message}).encode()
    return Response(
        err.status,
        [
            ("Content-Type", f"application/x-amz-json-{version}"),
            ("X-Amzn-ErrorType", err.code),
            ("x-amzn-RequestId", rid),
        ],
        body,
    )


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fault_response(req: Request, fault: dict) -> Response | None:
    """The answer for an injected fault, or None to answer normally."""
    kind = fault["kind"]
    if kind == "hang":
        time.sleep(float(fault.get("seconds", 30)))
        return None
    if kind == "500":
        return Response(500, [("Content-Type", "text/html; charset=utf-8")], HTML_500)
    if kind == "throttle":
        if req.service == "ec2":
            return error_response(req, ApiError("RequestLimitExceeded", "Request limit exceeded."))
        if req.protocol == "query":
            return error_response(req, ApiError("Throttling", "Rate exceeded"))
        if req.protocol == "cbor":
            return error_response(req, ApiError("Throttling", "Rate exceeded"))
        return error_response(req, ApiError("ThrottlingException", "Rate exceeded"))
    if kind == "expired":
        if req.protocol == "query":
            return error_response(req, ApiError("ExpiredToken", EXPIRED_MESSAGE, status=403))
        if req.protocol == "cbor":
            return error_response(req, ApiError("ExpiredToken", EXPIRED_MESSAGE))
        return error_response(req, ApiError("ExpiredTokenException", EXPIRED_MESSAGE))
    return None


# --------------------------------------------------------------------------
# Opaque next-tokens: an offset bound to the request it continues.


def request_hash(params) -> str:
    canon = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:16]


def make_token(offset: int, digest: str) -> str:
    raw = json.dumps({"o": offset, "h": digest}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(token: str, digest: str) -> int | None:
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
        if data.get("h") != digest:
            return None
        offset = int(data["o"])
        return offset if offset >= 0 else None
    except Exception:
        return None


def page_size(value, default: int, low: int, high: int, error) -> int:
    if value is None or value == "":
        return default
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise error(value)
    if size < low or size > high:
        raise error(value)
    return size


# --------------------------------------------------------------------------
# JSON operations (awsJson1_1 for ECS and AAS, CloudWatch after CBOR→JSON).


def json_call(req: Request, op: str, params: dict) -> Response:
    """Calls a JSON-protocol operation on moto on behalf of `req`."""
    prefix = req.target_prefix
    version = "1.0" if prefix == "GraniteServiceVersion20100801" else "1.1"
    headers = [
        (k, v)
        for k, v in req.headers
        if k.lower() not in ("x-amz-target", "content-type", "content-encoding", "smithy-protocol", "accept")
    ]
    headers += [
        ("X-Amz-Target", f"{prefix}.{op}"),
        ("Content-Type", f"application/x-amz-json-{version}"),
    ]
    return forward("POST", "/", headers, json.dumps(params).encode())


class JsonPaging:
    def __init__(self, items, size_key, token_key, default, high, low=1, moto_size=None, error=None, token_error=None):
        self.items = items  # result key(s) of the list
        self.size_key = size_key
        self.token_key = token_key
        self.default = default
        self.high = high
        self.low = low
        self.moto_size = moto_size  # page size to ask moto for (None: leave unset)
        self.error = error
        self.token_error = token_error


def ecs_param_error(name):
    def err(value):
        return ApiError("InvalidParameterException", f"{name} must be between 1 and 100 (got {value}).")

    return err


def aas_param_error(value):
    return ApiError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy"
        " constraint: Member must have value less than or equal to 50",
    )


def cw_param_error(value):
    return ApiError(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at 'maxRecords' failed to satisfy"
        " constraint: Member must have value between 1 and 100",
    )


PAGED_JSON = {
    ("ecs", "ListServices"): JsonPaging(
        ["serviceArns"], "maxResults", "nextToken", 10, 100,
        error=ecs_param_error("maxResults"),
        token_error=lambda: ApiError("InvalidParameterException", "Invalid nextToken."),
    ),
    ("ecs", "ListTasks"): JsonPaging(
        ["taskArns"], "maxResults", "nextToken", 100, 100,
        error=ecs_param_error("maxResults"),
        token_error=lambda: ApiError("InvalidParameterException", "Invalid nextToken."),
    ),
    ("ecs", "ListTaskDefinitions"): JsonPaging(
        ["taskDefinitionArns"], "maxResults", "nextToken", 100, 100,
        error=ecs_param_error("maxResults"),
        token_error=lambda: ApiError("InvalidParameterException", "Invalid nextToken."),
    ),
    ("ecs", "ListClusters"): JsonPaging(
        ["clusterArns"], "maxResults", "nextToken", 100, 100,
        error=ecs_param_error("maxResults"),
        token_error=lambda: ApiError("InvalidParameterException", "Invalid nextToken."),
    ),
    ("application-autoscaling", "DescribeScalableTargets"): JsonPaging(
        ["ScalableTargets"], "MaxResults", "NextToken", 50, 50, moto_size=1_000_000,
        error=aas_param_error,
        token_error=lambda: ApiError("InvalidNextTokenException", "The NextToken value is invalid."),
    ),
    ("application-autoscaling", "DescribeScalingPolicies"): JsonPaging(
        ["ScalingPolicies"], "MaxResults", "NextToken", 50, 50, moto_size=1_000_000,
        error=aas_param_error,
        token_error=lambda: ApiError("InvalidNextTokenException", "The NextToken value is invalid."),
    ),
    ("cloudwatch", "DescribeAlarms"): JsonPaging(
        ["MetricAlarms", "CompositeAlarms"], "MaxRecords", "NextToken", 50, 100,
        error=cw_param_error,
        token_error=lambda: ApiError("InvalidNextToken", "The service returned an invalid token."),
    ),
}

ECS_BATCH_LIMITS = {
    "DescribeServices": ("services", 10),
    "DescribeTasks": ("tasks", 100),
}


def fetch_all(req: Request, op: str, params: dict, paging: JsonPaging) -> tuple[Response, dict | None]:
    """Every item moto has for this request (following moto's own tokens)."""
    ask = {k: v for k, v in params.items() if k not in (paging.size_key, paging.token_key)}
    if paging.moto_size is not None:
        ask[paging.size_key] = paging.moto_size
    merged: dict | None = None
    seen_tokens: set[str] = set()
    while True:
        resp = json_call(req, op, ask)
        if resp.status != 200:
            return resp, None
        try:
            page = resp.json()
        except ValueError:
            return resp, None
        if merged is None:
            merged = page
        else:
            for key in paging.items:
                merged.setdefault(key, [])
                merged[key] = (merged[key] or []) + (page.get(key) or [])
        token = page.get(paging.token_key)
        if not token or token in seen_tokens:
            break
        seen_tokens.add(token)
        ask[paging.token_key] = token
    assert merged is not None
    merged.pop(paging.token_key, None)
    return resp, merged


def paged_json(req: Request, op: str, params: dict, paging: JsonPaging, post=None) -> tuple[Response, dict | None]:
    """Answers a list operation with AWS's page size and an opaque token."""
    size = page_size(params.get(paging.size_key), paging.default, paging.low, paging.high, paging.error)
    digest = request_hash({k: v for k, v in params.items() if k not in (paging.size_key, paging.token_key)})
    offset = 0
    token = params.get(paging.token_key)
    if token:
        found = read_token(str(token), digest)
        if found is None:
            raise paging.token_error()
        offset = found
    resp, merged = fetch_all(req, op, params, paging)
    if merged is None:
        return resp, None
    if post is not None:
        merged = post(merged)
    # Page over the lists in order, as if they were one.
    combined = []
    for key in paging.items:
        combined += [(key, item) for item in (merged.get(key) or [])]
    window = combined[offset : offset + size]
    for key in paging.items:
        merged[key] = [item for k, item in window if k == key]
    if offset + size < len(combined):
        merged[paging.token_key] = make_token(offset + size, digest)
    return resp, merged


def json_ok(resp: Response, result: dict, version: str = "1.1") -> Response:
    headers = [(k, v) for k, v in resp.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", f"application/x-amz-json-{version}"))
    return Response(200, headers, json.dumps(result).encode())


def ecs_list_tasks_post(req: Request, params: dict):
    service = params.get("serviceName")
    if not service:
        return None
    service = str(service).rsplit("/", 1)[-1]
    cluster = params.get("cluster", "default")
    check = json_call(req, "DescribeServices", {"cluster": cluster, "services": [service]})
    if check.status == 200:
        found = check.json()
        if not any(s.get("serviceName") == service for s in found.get("services") or []):
            raise ApiError("ServiceNotFoundException", "Service not found.")

    def post(merged: dict) -> dict:
        arns = merged.get("taskArns") or []
        keep = set()
        for i in range(0, len(arns), 100):
            described = json_call(req, "DescribeTasks", {"cluster": cluster, "tasks": arns[i : i + 100]})
            if described.status != 200:
                raise ApiError("ServerException", "proxy: DescribeTasks failed in moto", status=500, sender=False)
            for task in described.json().get("tasks") or []:
                if task.get("group") == f"service:{service}":
                    keep.add(task.get("taskArn"))
        merged["taskArns"] = [a for a in arns if a in keep]
        return merged

    return post


def task_definitions_post(params: dict):
    """AWS lists by family, then revision; `sort: DESC` reverses (moto ignores it)."""
    descending = str(params.get("sort") or "ASC").upper() == "DESC"

    def key(arn: str):
        family, _, revision = arn.rsplit("/", 1)[-1].rpartition(":")
        return (family, int(revision) if revision.isdigit() else 0)

    def post(merged: dict) -> dict:
        merged["taskDefinitionArns"] = sorted(merged.get("taskDefinitionArns") or [], key=key, reverse=descending)
        return merged

    return post


def alarms_post(params: dict):
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    state = params.get("StateValue")
    prefix = params.get("AlarmNamePrefix")
    names = params.get("AlarmNames")

    def keep(alarm: dict) -> bool:
        name = alarm.get("AlarmName") or ""
        if state and alarm.get("StateValue") != state:
            return False
        if prefix and not name.startswith(prefix):
            return False
        if names and name not in names:
            return False
        return True

    def post(merged: dict) -> dict:
        metric = sorted((a for a in merged.get("MetricAlarms") or [] if keep(a)), key=lambda a: a.get("AlarmName", ""))
        composite = sorted(
            (a for a in merged.get("CompositeAlarms") or [] if keep(a)), key=lambda a: a.get("AlarmName", "")
        )
        merged["MetricAlarms"] = metric if "MetricAlarm" in types else []
        merged["CompositeAlarms"] = composite if "CompositeAlarm" in types else []
        return merged

    return post


# GetMetricData carries at most this many queries (moto takes any number).
METRIC_DATA_QUERIES_MAX = 500


def handle_json_op(req: Request, op: str, params: dict) -> tuple[Response, dict | None]:
    """Runs one JSON operation with the proxy's rules; returns moto's response
    and, when the proxy rewrote the result, the new result."""
    if req.service == "ecs" and op in ECS_BATCH_LIMITS:
        key, limit = ECS_BATCH_LIMITS[op]
        given = params.get(key) or []
        if isinstance(given, list) and len(given) > limit:
            raise ApiError("InvalidParameterException", f"{key} can have at most {limit} items.")
    if (req.service, op) == ("cloudwatch", "GetMetricData"):
        queries = params.get("MetricDataQueries") or []
        if isinstance(queries, list) and len(queries) > METRIC_DATA_QUERIES_MAX:
            raise ApiError(
                "ValidationError",
                f"The collection MetricDataQueries must not have a size greater than {METRIC_DATA_QUERIES_MAX}.",
            )
    paging = PAGED_JSON.get((req.service, op))
    if paging is None:
        return json_call(req, op, params), None
    post = None
    if (req.service, op) == ("ecs", "ListTasks"):
        params = dict(params)
        if not params.get("desiredStatus"):
            params["desiredStatus"] = "RUNNING"
        post = ecs_list_tasks_post(req, params)
    elif (req.service, op) == ("ecs", "ListTaskDefinitions"):
        post = task_definitions_post(params)
    elif (req.service, op) == ("cloudwatch", "DescribeAlarms"):
        post = alarms_post(params)
    return paged_json(req, op, params, paging, post)


# --------------------------------------------------------------------------
# ECS Exec: a test double of the AWS API where moto has none.
#
# moto 5.2.5 has no ExecuteCommand and drops enableExecuteCommand (RunTask,
# CreateService, UpdateService); its DescribeTasks has no
# enableExecuteCommand, and its containers no runtimeId or managedAgents.
# The proxy keeps what ECS would from the requests that pass through it:
# which services have exec enabled (CreateService / UpdateService) and which
# tasks were started with it (RunTask's flag, or its service's when the task
# is started in the service's group) and adds those fields to DescribeTasks
# (the ExecuteCommandAgent RUNNING on every container of a RUNNING task
# started with exec). ExecuteCommand is answered as ECS answers it: the
# same checks, in the same order, with the same error codes, and for an
# accepted call a well-formed interactive session (sessionId, streamUrl,
# tokenValue) that no agent will ever serve. It tests what the console
# sends and how it reads the answer; nothing here stands in for honban.
EXEC_LOCK = threading.Lock()
EXEC_SERVICES: dict[str, set[tuple[str, str]]] = {}  # account -> {(cluster, service)}
EXEC_TASKS: dict[str, set[str]] = {}  # account -> task ARNs started with exec


def _short(value: str | None, default: str = "default") -> str:
    return (value or default).rsplit("/", 1)[-1]


def runtime_id(task_arn: str, container: str) -> str:
    """A container's runtime id, as ECS reports it on Fargate:
    `<task id>-<10 digits>`; stable for a task and container."""
    digits = int(hashlib.sha256(f"{task_arn}/{container}".encode()).hexdigest(), 16) % 10**10
    return f"{_short(task_arn)}-{digits:010d}"


def ecs_exec_request(req: Request) -> Response | None:
    """RunTask, CreateService, UpdateService: forwarded, and what they say
    about ECS Exec remembered. ExecuteCommand: answered here. Anything else:
    None (handled as usual)."""
    if req.service != "ecs" or req.operation not in ("RunTask", "CreateService", "UpdateService", "ExecuteCommand"):
        return None
    try:
        params = json.loads(req.body.decode("utf-8") or "{}")
    except ValueError:
        return None
    if not isinstance(params, dict):
        return None
    if req.operation == "ExecuteCommand":
        return execute_command(req, params)
    resp = forward(req.method, req.target, req.headers, req.body)
    if resp.status != 200:
        return resp
    cluster = _short(params.get("cluster"))
    with EXEC_LOCK:
        services = EXEC_SERVICES.setdefault(req.account, set())
        if req.operation in ("CreateService", "UpdateService") and "enableExecuteCommand" in params:
            key = (cluster, _short(params.get("serviceName") or params.get("service"), ""))
            if params["enableExecuteCommand"]:
                services.add(key)
            else:
                services.discard(key)
        if req.operation == "RunTask":
            group = params.get("group") or ""
            service = group[len("service:"):] if group.startswith("service:") else None
            enabled = params.get("enableExecuteCommand")
            if enabled is None:
                enabled = service is not None and (cluster, service) in services
            if enabled:
                tasks = EXEC_TASKS.setdefault(req.account, set())
                for task in (resp.json() or {}).get("tasks") or []:
                    tasks.add(task.get("taskArn"))
    return resp


def decorate_tasks(req: Request, resp: Response) -> Response:
    """DescribeTasks with the ECS Exec fields moto leaves out."""
    if resp.status != 200:
        return resp
    body = resp.json()
    if not isinstance(body, dict):
        return resp
    with EXEC_LOCK:
        enabled = set(EXEC_TASKS.get(req.account, set()))
    for task in body.get("tasks") or []:
        arn = task.get("taskArn") or ""
        on = arn in enabled
        task["enableExecuteCommand"] = on
        for c in task.get("containers") or []:
            c.setdefault("runtimeId", runtime_id(arn, c.get("name") or ""))
            if on:
                running = task.get("lastStatus") == "RUNNING"
                c["managedAgents"] = [
                    {
                        "name": "ExecuteCommandAgent",
                        "lastStatus": "RUNNING" if running else "STOPPED",
                        "lastStartedAt": task.get("startedAt") or task.get("createdAt"),
                    }
                ]
    return json_ok(resp, body)


def execute_command(req: Request, params: dict) -> Response:
    cluster = _short(params.get("cluster"))
    task_ref = params.get("task") or ""
    command = params.get("command") or ""
    if not task_ref or not command:
        raise ApiError("InvalidParameterException", "task and command are required.")
    if params.get("interactive") is not True:
        raise ApiError(
            "InvalidParameterException",
            "Interactive is the only mode supported currently.",
        )
    described = json_call(req, "DescribeTasks", {"cluster": cluster, "tasks": [task_ref]})
    if described.status != 200:
        return described
    tasks = (decorate_tasks(req, described).json() or {}).get("tasks") or []
    if not tasks:
        raise ApiError("InvalidParameterException", "The specified task is not found.")
    task = tasks[0]
    containers = task.get("containers") or []
    name = params.get("container")
    if name is None:
        if len(containers) != 1:
            raise ApiError(
                "InvalidParameterException",
                "The container name must be specified when the task has more than one container.",
            )
        name = containers[0].get("name")
    container = next((c for c in containers if c.get("name") == name), None)
    if container is None:
        raise ApiError("InvalidParameterException", f"The container {name} does not exist in the task.")
    agent = next((a for a in container.get("managedAgents") or [] if a.get("name") == "ExecuteCommandAgent"), None)
    if not task.get("enableExecuteCommand") or task.get("lastStatus") != "RUNNING" or agent is None or agent.get("lastStatus") != "RUNNING":
        raise ApiError(
            "InvalidParameterException",
            "The execute command failed because execute command was not enabled when the task was run "
            "or the execute command agent isn’t running. Wait and try again or run a new task with "
            "execute command enabled and try again.",
        )
    scope = CREDENTIAL_SCOPE.search(req.header("authorization") or "")
    region = scope.group(1) if scope else "us-east-1"
    session_id = f"ecs-execute-command-{uuid.uuid4().hex[:17]}"
    result = {
        "clusterArn": task.get("clusterArn"),
        "containerArn": container.get("containerArn"),
        "containerName": name,
        "interactive": True,
        "session": {
            "sessionId": session_id,
            "streamUrl": f"wss://ssmmessages.{region}.amazonaws.com/v1/data-channel/{session_id}?role=publish_subscribe&cell-number=AAEAAQ",
            "tokenValue": base64.b64encode(hashlib.sha256(session_id.encode()).digest() * 4).decode(),
        },
        "taskArn": task.get("taskArn"),
    }
    return Response(
        200,
        [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id())],
        json.dumps(result).encode(),
    )


# --------------------------------------------------------------------------
# CodeDeploy: a test double of the engine moto does not run.
#
# moto 5.2.5 stores CodeDeploy applications, deployment groups and
# deployments (CreateDeployment, GetDeployment, BatchGetDeployments,
# ListDeployments, GetDeploymentGroup, ListDeploymentGroups) but never moves
# a deployment past `Created`, and has no StopDeployment, ContinueDeployment,
# BatchGetDeploymentTargets or BatchGetDeploymentGroups. The proxy stands in
# for CodeDeploy's engine, from what moto holds: a deployment it first sees
# has run its install hooks at once (as moto completes things at once) and
# is `Ready` when its group waits for a continue (deploymentReadyOption
# STOP_DEPLOYMENT), else `Succeeded`; ContinueDeployment (READY_WAIT) of a
# Ready one makes it `Succeeded` and moves the ECS service to its task
# definition (an ECS UpdateService sent to moto by the proxy itself, as
# CodeDeploy would); StopDeployment makes an active one `Stopped` and, with
# autoRollbackEnabled, creates its rollback deployment in moto (an AppSpec
# of the original task definition, creator codeDeployRollback, `Succeeded`),
# both linked by rollbackInfo. Every read of a deployment (GetDeployment,
# BatchGetDeployments, ListDeployments' includeOnlyStatuses) then shows the
# status the proxy keeps, so what the console sends reads back. The errors
# are CodeDeploy's (DeploymentAlreadyCompletedException,
# DeploymentIsNotInReadyStateException, …). ECS's UpdateService of a
# CODE_DEPLOY service with a taskDefinition or forceNewDeployment is refused
# as ECS refuses it (moto accepts it).
CD_LOCK = threading.Lock()
# account -> deployment id -> {"status", "creator", "rollbackInfo",
# "messages", "completeTime", "original", "replacement", "errorInformation"}
CD_STATE: dict[str, dict[str, dict]] = {}
CD_ACTIVE = ("Created", "Queued", "InProgress", "Baking", "Ready")
ECS_LIFECYCLE = [
    "BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
    "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic",
]


def call_as(req: Request, service: str, prefix: str, op: str, params: dict) -> Response:
    """A JSON call to moto for `service` on behalf of `req` (signed for
    another service: the credential scope is rewritten, moto routes by it)."""
    headers = []
    for k, v in req.headers:
        if k.lower() in ("x-amz-target", "content-type", "content-encoding", "smithy-protocol", "accept"):
            continue
        if k.lower() == "authorization":
            v = re.sub(r"/[^/,]+/aws4_request", f"/{service}/aws4_request", v)
        headers.append((k, v))
    headers += [("X-Amz-Target", f"{prefix}.{op}"), ("Content-Type", "application/x-amz-json-1.1")]
    return forward("POST", "/", headers, json.dumps(params).encode())


def cd_call(req: Request, op: str, params: dict) -> dict:
    resp = call_as(req, "codedeploy", "CodeDeploy_20141006", op, params)
    if resp.status != 200:
        body = resp.json() or {}
        raise ApiError(body.get("__type", "InvalidInput"), body.get("message", "moto refused"), resp.status)
    return resp.json() or {}


def ecs_call(req: Request, op: str, params: dict) -> dict:
    resp = call_as(req, "ecs", "AmazonEC2ContainerServiceV20141113", op, params)
    return resp.json() or {} if resp.status == 200 else {}


def appspec_task_definition(content: str | None) -> str | None:
    if not content:
        return None
    try:
        spec = json.loads(content)
        for res in spec.get("Resources") or []:
            for target in res.values():
                td = (target.get("Properties") or {}).get("TaskDefinition")
                if td:
                    return td
    except (ValueError, AttributeError):
        match = re.search(r"TaskDefinition:\s*[\"']?([^\"'\s]+)", content)
        return match.group(1) if match else None
    return None


def revision_content(info: dict) -> str | None:
    rev = info.get("revision") or {}
    return ((rev.get("appSpecContent") or {}).get("content")) or ((rev.get("string") or {}).get("content"))


def cd_group(req: Request, app: str, group: str) -> dict:
    return cd_call(req, "GetDeploymentGroup", {"applicationName": app, "deploymentGroupName": group}).get(
        "deploymentGroupInfo"
    ) or {}


def cd_service(req: Request, group: dict) -> dict:
    svc = (group.get("ecsServices") or [{}])[0]
    out = ecs_call(req, "DescribeServices", {"cluster": svc.get("clusterName"), "services": [svc.get("serviceName")]})
    return (out.get("services") or [{}])[0]


def cd_state(req: Request, info: dict) -> dict:
    """The proxy's state of a deployment moto holds, made on first sight."""
    did = info.get("deploymentId")
    with CD_LOCK:
        known = CD_STATE.setdefault(req.account, {}).get(did)
    if known is not None:
        return known
    group = cd_group(req, info.get("applicationName"), info.get("deploymentGroupName"))
    ready = ((group.get("blueGreenDeploymentConfiguration") or {}).get("deploymentReadyOption") or {})
    waits = ready.get("actionOnTimeout") == "STOP_DEPLOYMENT"
    service = cd_service(req, group)
    state = {
        "status": "Ready" if waits else "Succeeded",
        "creator": "user",
        "rollbackInfo": None,
        "messages": [],
        "completeTime": None if waits else time.time(),
        "original": service.get("taskDefinition"),
        "replacement": appspec_task_definition(revision_content(info)),
        "errorInformation": None,
        "group": group,
    }
    if not waits and state["replacement"]:
        svc = (group.get("ecsServices") or [{}])[0]
        ecs_call(req, "UpdateService", {
            "cluster": svc.get("clusterName"), "service": svc.get("serviceName"),
            "taskDefinition": state["replacement"],
        })
    with CD_LOCK:
        return CD_STATE.setdefault(req.account, {}).setdefault(did, state)


def cd_decorate(req: Request, info: dict) -> dict:
    st = cd_state(req, info)
    info["status"] = st["status"]
    info["creator"] = st["creator"]
    info["deploymentStatusMessages"] = list(st["messages"])
    if st["completeTime"]:
        info["completeTime"] = st["completeTime"]
    if st["rollbackInfo"]:
        info["rollbackInfo"] = st["rollbackInfo"]
    else:
        info.pop("rollbackInfo", None)
    if st["errorInformation"]:
        info["errorInformation"] = st["errorInformation"]
    else:
        info.pop("errorInformation", None)
    return info


def cd_json(result: dict) -> Response:
    return Response(
        200,
        [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id())],
        json.dumps(result, default=str).encode(),
    )


def cd_target(req: Request, did: str, target_id: str) -> dict:
    info = cd_call(req, "GetDeployment", {"deploymentId": did}).get("deploymentInfo") or {}
    st = cd_state(req, info)
    status = st["status"]
    rolled_back = bool((st["rollbackInfo"] or {}).get("rollbackDeploymentId"))
    is_rollback = bool((st["rollbackInfo"] or {}).get("rollbackTriggeringDeploymentId"))
    weight = 100.0 if status == "Succeeded" else 0.0
    events = []
    done = {"Ready": 5, "Succeeded": 8, "Stopped": 5, "Failed": 5}.get(status, 1)
    now = time.time()
    for i, name in enumerate(ECS_LIFECYCLE):
        if is_rollback and i < 6:
            ev_status = "Skipped"
        elif i < done:
            ev_status = "Succeeded"
        elif status in ("Stopped", "Failed"):
            ev_status = "Skipped"
        else:
            ev_status = "Pending"
        ev = {"lifecycleEventName": name, "status": ev_status}
        if ev_status == "Succeeded":
            ev["startTime"] = now - 60 + i
            ev["endTime"] = now - 59 + i
        events.append(ev)
    group = st.get("group") or {}
    tgs = []
    for pair in ((group.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []):
        tgs = [t.get("name") for t in pair.get("targetGroups") or []]
    if is_rollback:
        # A rollback moves the traffic back to the original's target group.
        tgs = list(reversed(tgs))
    svc = (group.get("ecsServices") or [{}])[0]
    desired = cd_service(req, group).get("desiredCount", 1)
    digest = hashlib.sha256(did.encode()).hexdigest()
    blue = {
        "identifer": f"ecs-svc/{int(digest[:12], 16)}", "desiredCount": desired,
        "pendingCount": 0, "runningCount": 0 if status == "Succeeded" else desired,
        "status": "ACTIVE" if status == "Succeeded" else "PRIMARY", "trafficWeight": 100.0 - weight,
        "targetGroup": {"name": tgs[0] if tgs else None}, "taskSetLabel": "Blue",
    }
    green = {
        "identifer": f"ecs-svc/{int(digest[12:24], 16)}", "desiredCount": desired,
        "pendingCount": 0, "runningCount": desired,
        "status": "PRIMARY" if status == "Succeeded" else "ACTIVE", "trafficWeight": weight,
        "targetGroup": {"name": tgs[1] if len(tgs) > 1 else None}, "taskSetLabel": "Green",
    }
    sets = [blue] if rolled_back else [blue, green]
    return {
        "deploymentTargetType": "ECSTarget",
        "ecsTarget": {
            "deploymentId": did,
            "targetId": target_id,
            "targetArn": f"arn:aws:ecs:ap-northeast-1:{req.account}:service/{svc.get('clusterName')}/{svc.get('serviceName')}",
            "lastUpdatedAt": now,
            "lifecycleEvents": events,
            "status": {"Ready": "Ready", "Succeeded": "Succeeded", "Stopped": "Failed", "Failed": "Failed"}.get(status, "InProgress"),
            "taskSetsInfo": sets,
        },
    }


def codedeploy_request(req: Request) -> Response | None:
    """CodeDeploy operations moto lacks, and the reads of what the proxy
    keeps; None for anything else (forwarded as usual)."""
    if req.service == "ecs" and req.operation == "UpdateService":
        try:
            params = json.loads(req.body.decode("utf-8") or "{}")
        except ValueError:
            return None
        if params.get("taskDefinition") or params.get("forceNewDeployment"):
            out = ecs_call(req, "DescribeServices", {"cluster": params.get("cluster"), "services": [params.get("service")]})
            svc = (out.get("services") or [{}])[0]
            if (svc.get("deploymentController") or {}).get("type") == "CODE_DEPLOY":
                raise ApiError(
                    "InvalidParameterException",
                    "Unable to update task definition on services with a CODE_DEPLOY deployment "
                    "controller. Use AWS CodeDeploy to trigger a new deployment.",
                )
        return None
    if req.service != "codedeploy":
        return None
    try:
        params = json.loads(req.body.decode("utf-8") or "{}")
    except ValueError:
        return None
    op = req.operation
    if op == "BatchGetDeploymentGroups":
        names = params.get("deploymentGroupNames") or []
        if len(names) > 100:
            raise ApiError("BatchLimitExceededException", "The maximum number of names or IDs allowed for this request (100) was exceeded.")
        infos = [cd_group(req, params.get("applicationName"), n) for n in names]
        return cd_json({"deploymentGroupsInfo": infos, "errorMessage": ""})
    if op == "BatchGetDeploymentTargets":
        ids = params.get("targetIds") or []
        if len(ids) > 25:
            raise ApiError("BatchLimitExceededException", "The maximum number of names or IDs allowed for this request (25) was exceeded.")
        did = params.get("deploymentId")
        return cd_json({"deploymentTargets": [cd_target(req, did, t) for t in ids]})
    if op == "BatchGetDeployments":
        ids = params.get("deploymentIds") or []
        if len(ids) > 25:
            raise ApiError("BatchLimitExceededException", "The maximum number of names or IDs allowed for this request (25) was exceeded.")
        out = cd_call(req, op, params)
        out["deploymentsInfo"] = [cd_decorate(req, i) for i in out.get("deploymentsInfo") or []]
        return cd_json(out)
    if op == "GetDeployment":
        out = cd_call(req, op, params)
        out["deploymentInfo"] = cd_decorate(req, out.get("deploymentInfo") or {})
        return cd_json(out)
    if op == "ListDeployments":
        wanted = params.pop("includeOnlyStatuses", None)
        out = cd_call(req, op, params)
        if wanted:
            keep = []
            for did in out.get("deployments") or []:
                info = cd_call(req, "GetDeployment", {"deploymentId": did}).get("deploymentInfo") or {}
                if cd_state(req, info)["status"] in wanted:
                    keep.append(did)
            out["deployments"] = keep
        out.pop("nextToken", None)
        return cd_json(out)
    if op == "StopDeployment":
        did = params.get("deploymentId")
        info = cd_call(req, "GetDeployment", {"deploymentId": did}).get("deploymentInfo") or {}
        st = cd_state(req, info)
        if st["status"] not in CD_ACTIVE:
            raise ApiError("DeploymentAlreadyCompletedException", f"The deployment {did} has already completed.")
        with CD_LOCK:
            st["status"] = "Stopped"
            st["completeTime"] = time.time()
            st["messages"].append("The deployment was stopped by the user.")
        if params.get("autoRollbackEnabled") and st["original"]:
            container, port = "app", 80
            try:
                spec = json.loads(revision_content(info) or "{}")
                lb = spec["Resources"][0]["TargetService"]["Properties"]["LoadBalancerInfo"]
                container, port = lb["ContainerName"], lb["ContainerPort"]
            except (ValueError, KeyError, IndexError, TypeError):
                pass
            appspec = json.dumps({"version": 0.0, "Resources": [{"TargetService": {
                "Type": "AWS::ECS::Service",
                "Properties": {"TaskDefinition": st["original"],
                               "LoadBalancerInfo": {"ContainerName": container, "ContainerPort": port}},
            }}]})
            rb = cd_call(req, "CreateDeployment", {
                "applicationName": info.get("applicationName"),
                "deploymentGroupName": info.get("deploymentGroupName"),
                "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}},
            }).get("deploymentId")
            with CD_LOCK:
                CD_STATE[req.account][rb] = {
                    "status": "Succeeded", "creator": "codeDeployRollback",
                    "rollbackInfo": {"rollbackTriggeringDeploymentId": did,
                                     "rollbackMessage": f"Rollback of deployment {did}"},
                    "messages": [], "completeTime": time.time() + 1, "original": st["replacement"],
                    "replacement": st["original"], "errorInformation": None, "group": st.get("group"),
                }
                st["rollbackInfo"] = {"rollbackDeploymentId": rb,
                                      "rollbackMessage": f"Deployment {did} was rolled back by {rb}."}
        return cd_json({"status": "Succeeded", "statusMessage": "Deployment was stopped"})
    if op == "ContinueDeployment":
        did = params.get("deploymentId")
        if params.get("deploymentWaitType", "READY_WAIT") != "READY_WAIT":
            raise ApiError("InvalidDeploymentWaitTypeException", "Only READY_WAIT is modelled here.")
        info = cd_call(req, "GetDeployment", {"deploymentId": did}).get("deploymentInfo") or {}
        st = cd_state(req, info)
        if st["status"] != "Ready":
            raise ApiError("DeploymentIsNotInReadyStateException", f"The deployment {did} is not in the Ready state.")
        with CD_LOCK:
            st["status"] = "Succeeded"
            st["completeTime"] = time.time()
            st["messages"].append("Traffic was rerouted to the replacement task set.")
        svc = ((st.get("group") or {}).get("ecsServices") or [{}])[0]
        if st["replacement"]:
            ecs_call(req, "UpdateService", {
                "cluster": svc.get("clusterName"), "service": svc.get("serviceName"),
                "taskDefinition": st["replacement"],
            })
        return cd_json({})
    return None


# --------------------------------------------------------------------------
# ECS-native blue/green: moto 5.2.5 drops a service's deploymentConfiguration
# and has no ListServiceDeployments / DescribeServiceDeployments. The proxy
# keeps the deploymentConfiguration CreateService / UpdateService send (and
# adds it to DescribeServices) and, for a BLUE_GREEN service, one service
# deployment per CreateService and per UpdateService that starts one (a
# task definition, forceNewDeployment): the newest IN_PROGRESS in its
# BAKE_TIME stage (production traffic all on the new revision; nothing
# moves on: moto runs no deployment), the ones before it SUCCESSFUL.
ECS_BG: dict[str, dict[tuple[str, str], dict]] = {}  # account -> (cluster, service) -> state


def ecs_bg_note(req: Request, resp: Response) -> None:
    """After an accepted CreateService / UpdateService: what it said of the
    deployment configuration, and a new service deployment."""
    if req.service != "ecs" or req.operation not in ("CreateService", "UpdateService") or resp.status != 200:
        return
    try:
        params = json.loads(req.body.decode("utf-8") or "{}")
    except ValueError:
        return
    svc = ((resp.json() or {}).get("service")) or {}
    cluster = _short(params.get("cluster"))
    name = _short(params.get("serviceName") or params.get("service"), "")
    with EXEC_LOCK:
        per = ECS_BG.setdefault(req.account, {})
        st = per.setdefault((cluster, name), {"config": None, "deployments": []})
        if "deploymentConfiguration" in params:
            st["config"] = params["deploymentConfiguration"]
        strategy = (st["config"] or {}).get("strategy")
        starts = req.operation == "CreateService" or params.get("taskDefinition") or params.get("forceNewDeployment")
        if strategy == "BLUE_GREEN" and starts:
            for d in st["deployments"]:
                d["status"] = "SUCCESSFUL"
                d.pop("lifecycleStage", None)
            n = len(st["deployments"]) + 1
            arn = svc.get("serviceArn") or f"arn:aws:ecs:ap-northeast-1:{req.account}:service/{cluster}/{name}"
            st["deployments"].append({
                "serviceDeploymentArn": arn.replace(":service/", ":service-deployment/") + f"/bg{n:04d}",
                "serviceArn": arn,
                "clusterArn": svc.get("clusterArn"),
                "status": "IN_PROGRESS",
                "lifecycleStage": "BAKE_TIME",
                "startedAt": time.time(),
                "createdAt": time.time(),
                "targetServiceRevision": {
                    "arn": arn.replace(":service/", ":service-revision/") + f"/rev{n:04d}",
                    "requestedTaskCount": svc.get("desiredCount", 0),
                    "runningTaskCount": svc.get("runningCount", 0),
                    "pendingTaskCount": svc.get("pendingCount", 0),
                    "requestedProductionTrafficWeight": 100.0,
                },
            })


def ecs_bg_request(req: Request) -> Response | None:
    """ListServiceDeployments / DescribeServiceDeployments, answered from
    what the proxy keeps; None for anything else."""
    if req.service != "ecs" or req.operation not in ("ListServiceDeployments", "DescribeServiceDeployments"):
        return None
    try:
        params = json.loads(req.body.decode("utf-8") or "{}")
    except ValueError:
        return None
    with EXEC_LOCK:
        per = {k: copy.deepcopy(v) for k, v in ECS_BG.get(req.account, {}).items()}
    if req.operation == "ListServiceDeployments":
        st = per.get((_short(params.get("cluster")), _short(params.get("service"), ""))) or {"deployments": []}
        wanted = params.get("status") or []
        items = [d for d in reversed(st["deployments"]) if not wanted or d["status"] in wanted]
        size = int(params.get("maxResults") or 20)
        if not 1 <= size <= 100:
            raise ApiError("InvalidParameterException", "maxResults must be between 1 and 100.")
        brief = [{
            "serviceDeploymentArn": d["serviceDeploymentArn"], "serviceArn": d["serviceArn"],
            "clusterArn": d["clusterArn"], "startedAt": d["startedAt"], "createdAt": d["createdAt"],
            "targetServiceRevisionArn": d["targetServiceRevision"]["arn"], "status": d["status"],
        } for d in items[:size]]
        return json_ok(Response(200, [], b""), {"serviceDeployments": brief})
    arns = params.get("serviceDeploymentArns") or []
    if len(arns) > 20:
        raise ApiError("InvalidParameterException", "serviceDeploymentArns can have at most 20 items.")
    found, failures = [], []
    every = [d for st in per.values() for d in st["deployments"]]
    for arn in arns:
        d = next((x for x in every if x["serviceDeploymentArn"] == arn), None)
        if d is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(d)
    return json_ok(Response(200, [], b""), {"serviceDeployments": found, "failures": failures})


def decorate_services(req: Request, resp: Response) -> Response:
    """DescribeServices with the deploymentConfiguration moto drops."""
    if resp.status != 200:
        return resp
    body = resp.json()
    if not isinstance(body, dict):
        return resp
    with EXEC_LOCK:
        per = dict(ECS_BG.get(req.account, {}))
    for svc in body.get("services") or []:
        st = per.get((_short(svc.get("clusterArn")), svc.get("serviceName") or ""))
        if st and st.get("config"):
            svc["deploymentConfiguration"] = st["config"]
    return json_ok(resp, body)


def handle_json(req: Request) -> Response:
    cd_resp = codedeploy_request(req) or ecs_bg_request(req)
    if cd_resp is not None:
        return cd_resp
    exec_resp = ecs_exec_request(req)
    if exec_resp is not None:
        ecs_bg_note(req, exec_resp)
        return exec_resp
    if (req.service, req.operation) == ("ecs", "DescribeTasks"):
        return decorate_tasks(req, handle_json_plain(req))
    if (req.service, req.operation) == ("ecs", "DescribeServices"):
        return decorate_services(req, handle_json_plain(req))
    return handle_json_plain(req)


def handle_json_plain(req: Request) -> Response:
    special = (req.service == "ecs" and req.operation in ECS_BATCH_LIMITS) or (
        req.service,
        req.operation,
    ) in PAGED_JSON
    if not special:
        return forward(req.method, req.target, req.headers, req.body)
    try:
        params = json.loads(req.body.decode("utf-8") or "{}")
    except ValueError:
        return forward(req.method, req.target, req.headers, req.body)
    if not isinstance(params, dict):
        return forward(req.method, req.target, req.headers, req.body)
    resp, result = handle_json_op(req, req.operation, params)
    if result is None:
        return resp
    version = "1.0" if req.target_prefix == "GraniteServiceVersion20100801" else "1.1"
    return json_ok(resp, result, version)


# --------------------------------------------------------------------------
# CloudWatch smithy-rpc-v2-cbor <-> awsJson1_0.

_MODEL = None
_MODEL_LOCK = threading.Lock()


def cloudwatch_model():
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            import botocore.session  # installed with moto

            _MODEL = botocore.session.get_session().get_service_model("cloudwatch")
        return _MODEL


def cbor_to_json(value):
    """A decoded CBOR request value as JSON for moto (awsJson1_0 rules)."""
    if isinstance(value, dict):
        return {str(k): cbor_to_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [cbor_to_json(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    if isinstance(value, cbor2.CBORTag):
        if value.tag == 1:
            return float(value.value)
        return cbor_to_json(value.value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if value is cbor2.undefined:
        return None
    return value


def to_epoch(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed.timestamp()
    if isinstance(value, dt.datetime):
        return value.timestamp()
    raise ValueError(f"not a timestamp: {value!r}")


def json_to_cbor(value, shape):
    """A JSON value from moto as the CBOR value the shape calls for."""
    if value is None:
        return None
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            member = shape.members.get(key)
            if member is None:
                continue  # not in the model: AWS would not send it either
            out[key] = json_to_cbor(item, member)
        return out
    if kind == "list":
        if not isinstance(value, list):
            return value
        return [json_to_cbor(v, shape.member) for v in value if v is not None]
    if kind == "map":
        if not isinstance(value, dict):
            return value
        return {str(k): json_to_cbor(v, shape.value) for k, v in value.items() if v is not None}
    if kind == "timestamp":
        return cbor2.CBORTag(1, to_epoch(value))
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind == "boolean":
        if isinstance(value, str):
            return value.lower() == "true"
        return bool(value)
    if kind == "blob":
        if isinstance(value, str):
            return base64.b64decode(value)
        return value
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    return value


def cbor_ok(resp: Response, data: bytes) -> Response:
    headers = [(k, v) for k, v in resp.headers if k.lower() not in ("content-type",)]
    headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    return Response(200, headers, data)


def handle_cbor(req: Request) -> Response:
    body = req.body
    if (req.header("content-encoding") or "").lower() == "gzip":
        body = gzip.decompress(body)
    if req.target_prefix != "GraniteServiceVersion20100801":
        raise ApiError("UnknownOperationException", f"proxy: no CBOR translation for {req.target_prefix}")
    try:
        decoded = cbor2.loads(body) if body else {}
    except Exception as exc:
        raise ApiError("SerializationException", f"proxy: the CBOR body does not decode: {exc}")
    params = cbor_to_json(decoded) if isinstance(decoded, dict) else {}
    resp, result = handle_json_op(req, req.operation, params)
    if resp.status != 200:
        try:
            err = resp.json()
        except ValueError:
            return resp  # e.g. moto's HTML 500 for an unimplemented call
        out = {"__type": err.get("__type", "InternalFailure"), "message": err.get("message") or err.get("Message") or ""}
        headers = [(k, v) for k, v in resp.headers if k.lower() != "content-type"]
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        return Response(resp.status, headers, cbor2.dumps(out))
    if result is None:
        try:
            result = resp.json()
        except ValueError:
            return resp
    try:
        shape = cloudwatch_model().operation_model(req.operation).output_shape
    except Exception:
        shape = None
    encoded = json_to_cbor(result if isinstance(result, dict) else {}, shape)
    return cbor_ok(resp, cbor2.dumps(encoded if isinstance(encoded, dict) else {}))


# --------------------------------------------------------------------------
# Query protocol (RDS, ELBv2): XML member lists sliced, Marker added.


class XmlPaging:
    def __init__(self, list_tag, size_key, default, low, high, out_marker, error, token_error, cap=None):
        self.list_tag = list_tag
        self.size_key = size_key
        self.default = default
        self.low = low
        self.high = high
        self.out_marker = out_marker  # Marker (RDS) or NextMarker (ELBv2)
        self.error = error
        self.token_error = token_error
        # The most items a page holds whatever the size asked ("up to").
        self.cap = cap


def rds_size_error(value):
    return ApiError("InvalidParameterValue", f"Invalid value {value} for MaxRecords. Must be between 20 and 100")


# ElastiCache answers "up to MaxRecords" items a page; the proxy answers at
# most this many, so that a test of a few dozen cache clusters reads several
# pages.
ELASTICACHE_PAGE_CAP = 20


def elasticache_size_error(value):
    return ApiError(
        "InvalidParameterValue",
        f"The parameter MaxRecords must be between 20 and 100, inclusive (got {value}).",
    )


def elb_size_error(value):
    return ApiError(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at 'pageSize' failed to satisfy"
        " constraint: Member must have value less than or equal to 400",
    )


PAGED_XML = {
    ("rds", "DescribeDBInstances"): XmlPaging(
        "DBInstances", "MaxRecords", 100, 20, 100, "Marker", rds_size_error,
        lambda: ApiError("InvalidParameterValue", "Invalid marker."),
    ),
    ("rds", "DescribeDBSnapshots"): XmlPaging(
        "DBSnapshots", "MaxRecords", 100, 20, 100, "Marker", rds_size_error,
        lambda: ApiError("InvalidParameterValue", "Invalid marker."),
    ),
    ("elasticache", "DescribeReplicationGroups"): XmlPaging(
        "ReplicationGroups", "MaxRecords", 100, 20, 100, "Marker", elasticache_size_error,
        lambda: ApiError("InvalidParameterValue", "Invalid marker."), cap=ELASTICACHE_PAGE_CAP,
    ),
    ("elasticache", "DescribeCacheClusters"): XmlPaging(
        "CacheClusters", "MaxRecords", 100, 20, 100, "Marker", elasticache_size_error,
        lambda: ApiError("InvalidParameterValue", "Invalid marker."), cap=ELASTICACHE_PAGE_CAP,
    ),
    ("elasticloadbalancing", "DescribeTargetGroups"): XmlPaging(
        "TargetGroups", "PageSize", 400, 1, 400, "NextMarker", elb_size_error,
        lambda: ApiError("ValidationError", "Invalid Marker."),
    ),
}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def unlink_promoted(req: Request, items: list) -> None:
    """Drops the replica links of promoted instances from DescribeDBInstances
    items (moto keeps them; RDS does not)."""
    promoted = STATE.get_promoted(req.account)
    if not promoted:
        return
    for item in items:
        ident = next((c.text for c in item if local(c.tag) == "DBInstanceIdentifier"), None)
        for child in list(item):
            tag = local(child.tag)
            if tag == "ReadReplicaSourceDBInstanceIdentifier" and ident in promoted:
                item.remove(child)
            elif tag == "ReadReplicaDBInstanceIdentifiers":
                for member in list(child):
                    if (member.text or "").rsplit(":", 1)[-1] in promoted:
                        child.remove(member)


# ElastiCache: what moto lacks of the member clusters.


def child(elem: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in elem if local(c.tag) == name), None)


def children(elem: ET.Element | None, name: str) -> list[ET.Element]:
    found = child(elem, name) if elem is not None else None
    return list(found) if found is not None else []


def text_of(elem: ET.Element | None, name: str) -> str | None:
    found = child(elem, name) if elem is not None else None
    return found.text if found is not None else None


def moto_replication_groups(req: Request) -> list[ET.Element]:
    """Every replication group of the account, as moto describes them."""
    ask = [("Action", "DescribeReplicationGroups"), ("Version", req.form_value("Version") or "2015-02-02")]
    headers = [(k, v) for k, v in req.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"))
    resp = forward("POST", req.path, headers, urllib.parse.urlencode(ask).encode())
    if resp.status != 200:
        return []
    try:
        root = ET.fromstring(resp.body)
    except ET.ParseError:
        return []
    result = next((c for c in root if local(c.tag).endswith("Result")), None)
    groups = child(result, "ReplicationGroups") if result is not None else None
    return list(groups) if groups is not None else []


def add_reader_endpoints(groups: list[ET.Element], q) -> None:
    """The ReaderEndpoint of each node group without cluster mode, which
    moto computes but does not describe: `replica.` where the primary
    endpoint is `master.`, on its port."""
    for group in groups:
        for ng in children(group, "NodeGroups"):
            primary = child(ng, "PrimaryEndpoint")
            address = text_of(primary, "Address") or ""
            if child(ng, "ReaderEndpoint") is not None or not address.startswith("master."):
                continue
            reader = ET.SubElement(ng, q("ReaderEndpoint"))
            ET.SubElement(reader, q("Address")).text = "replica." + address.removeprefix("master.")
            ET.SubElement(reader, q("Port")).text = text_of(primary, "Port") or "6379"


def replication_group_nodes(req: Request) -> bytes:
    """CreateReplicationGroup as moto 5.2.5 needs it for the nodes asked:
    it ignores NumCacheClusters (a group without cluster mode gets one node)
    and counts ReplicasPerNodeGroup instead, so NumCacheClusters N is sent
    on as ReplicasPerNodeGroup N - 1 too."""
    n = req.form_value("NumCacheClusters")
    if not n or req.form_value("ReplicasPerNodeGroup"):
        return req.body
    try:
        replicas = int(n) - 1
    except ValueError:
        return req.body
    if replicas < 1:
        return req.body
    return urllib.parse.urlencode(list(req.form) + [("ReplicasPerNodeGroup", str(replicas))]).encode()


def complete_cache_clusters(req: Request, items: list[ET.Element], q) -> list[ET.Element]:
    """DescribeCacheClusters as ElastiCache answers it: a cache cluster for
    every member of a replication group (moto creates none), each with its
    node when ShowCacheNodeInfo asks (moto has none), and the statuses a test
    set."""
    only = req.form_value("CacheClusterId")
    show_nodes = (req.form_value("ShowCacheNodeInfo") or "").lower() == "true"
    created = STATE.get_cache_groups(req.account)
    statuses = STATE.get_cache_status(req.account)
    listed = {text_of(c, "CacheClusterId") for c in items}
    # Where each member cluster stands in its group: (group, member element).
    members: dict[str, tuple[ET.Element, ET.Element | None]] = {}
    for group in moto_replication_groups(req):
        for ng in children(group, "NodeGroups"):
            for m in children(ng, "NodeGroupMembers"):
                cid = text_of(m, "CacheClusterId")
                if cid:
                    members[cid] = (group, m)
        for cid_elem in children(group, "MemberClusters"):
            if cid_elem.text and cid_elem.text not in members:
                members[cid_elem.text] = (group, None)

    def add(parent: ET.Element, name: str, value) -> ET.Element:
        elem = ET.SubElement(parent, q(name))
        if value is not None:
            elem.text = str(value)
        return elem

    out = list(items)
    for cid, (group, member) in members.items():
        if cid in listed or (only and cid != only):
            continue
        gid = text_of(group, "ReplicationGroupId") or ""
        made = created.get(gid, {})
        cluster = ET.Element(q("CacheCluster"))
        add(cluster, "CacheClusterId", cid)
        add(cluster, "CacheNodeType", text_of(group, "CacheNodeType") or made.get("CacheNodeType"))
        add(cluster, "Engine", made.get("Engine") or text_of(group, "Engine") or "redis")
        if made.get("EngineVersion"):
            add(cluster, "EngineVersion", made["EngineVersion"])
        add(cluster, "CacheClusterStatus", text_of(group, "Status") or "available")
        add(cluster, "NumCacheNodes", 1)
        zone = text_of(member, "PreferredAvailabilityZone")
        if zone:
            add(cluster, "PreferredAvailabilityZone", zone)
        add(cluster, "ReplicationGroupId", gid)
        if member is not None:
            cluster.append(copy.deepcopy(member))  # kept aside for the node below
        out.append(cluster)
    for cluster in out:
        cid = text_of(cluster, "CacheClusterId") or ""
        status_elem = child(cluster, "CacheClusterStatus")
        if cid in statuses:
            if status_elem is None:
                status_elem = add(cluster, "CacheClusterStatus", None)
            status_elem.text = statuses[cid]
        member = child(cluster, "NodeGroupMember")
        if member is not None:
            cluster.remove(member)
        if not show_nodes or child(cluster, "CacheNodes") is not None:
            continue
        nodes = add(cluster, "CacheNodes", None)
        node = add(nodes, "CacheNode", None)
        add(node, "CacheNodeId", text_of(member, "CacheNodeId") or "0001")
        add(node, "CacheNodeStatus", statuses.get(cid) or text_of(cluster, "CacheClusterStatus") or "available")
        read = child(member, "ReadEndpoint") if member is not None else None
        endpoint = add(node, "Endpoint", None)
        add(endpoint, "Address", text_of(read, "Address") or f"{cid}.moto.use1.cache.amazonaws.com")
        add(endpoint, "Port", text_of(read, "Port") or "6379")
        zone = text_of(cluster, "PreferredAvailabilityZone")
        if zone:
            add(node, "CustomerAvailabilityZone", zone)
    return out


# EC2 (its own query protocol: no *Result wrapper, camelCase item sets).

# EC2 answers "up to MaxResults" instances a page; the proxy answers at most
# this many, so that a test of a few dozen instances reads several pages
# (the product must follow nextToken whatever the page holds).
EC2_PAGE_CAP = 25

# DescribeInstanceStatus names at most this many instance ids.
EC2_STATUS_IDS = 100


def ec2_invalid(message: str) -> ApiError:
    return ApiError("InvalidParameterValue", message)


def handle_ec2(req: Request) -> Response:
    if req.operation == "DescribeInstanceStatus":
        ids = [v for k, v in req.form if k.startswith("InstanceId.")]
        if len(ids) > EC2_STATUS_IDS:
            raise ec2_invalid(
                f"The maximum number of instance IDs that can be specified is {EC2_STATUS_IDS} (got {len(ids)})."
            )
        return forward(req.method, req.target, req.headers, req.body)
    if req.operation != "DescribeInstances":
        return forward(req.method, req.target, req.headers, req.body)
    size_text = req.form_value("MaxResults")
    ids = [v for k, v in req.form if k.startswith("InstanceId.")]
    if size_text and ids:
        raise ApiError(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
        )
    size = 1000
    if size_text:
        try:
            size = int(size_text)
        except ValueError:
            raise ec2_invalid(f"Value ( {size_text} ) for parameter maxResults is invalid.")
        if size < 5 or size > 1000:
            raise ec2_invalid(
                f"Value ( {size} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."
            )
    rest = [(k, v) for k, v in req.form if k not in ("MaxResults", "NextToken")]
    digest = request_hash(sorted(rest))
    offset = 0
    token = req.form_value("NextToken")
    if token:
        found = read_token(token, digest)
        if found is None:
            raise ec2_invalid("The token is invalid or expired.")
        offset = found
    body = urllib.parse.urlencode(rest).encode()
    headers = [(k, v) for k, v in req.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"))
    resp = forward("POST", req.path, headers, body)
    if resp.status != 200:
        return resp
    try:
        root = ET.fromstring(resp.body)
    except ET.ParseError:
        return resp
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    rset = next((c for c in root if local(c.tag) == "reservationSet"), None)
    for child in list(root):
        if local(child.tag) == "nextToken":
            root.remove(child)
    if rset is None:
        return resp
    # Every (reservation, instance), in moto's order; a page of instances
    # keeps each one in (a copy of) its reservation.
    flat = []
    for reservation in list(rset):
        iset = next((c for c in reservation if local(c.tag) == "instancesSet"), None)
        for inst in list(iset) if iset is not None else []:
            flat.append((reservation, inst))
        rset.remove(reservation)
    page = flat[offset : offset + min(size, EC2_PAGE_CAP)]
    last = None
    for reservation, inst in page:
        if last is None or last[0] is not reservation:
            shell = copy.deepcopy(reservation)
            iset = next(c for c in shell if local(c.tag) == "instancesSet")
            for child in list(iset):
                iset.remove(child)
            rset.append(shell)
            last = (reservation, iset)
        last[1].append(inst)
    end = offset + len(page)
    if end < len(flat):
        q = (lambda t: f"{{{ns}}}{t}") if ns else (lambda t: t)
        ET.SubElement(root, q("nextToken")).text = make_token(end, digest)
    if ns:
        data = ET.tostring(root, encoding="utf-8", default_namespace=ns)
    else:
        data = ET.tostring(root, encoding="utf-8")
    headers = [(k, v) for k, v in resp.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", "text/xml"))
    return Response(200, headers, data)


def handle_query(req: Request) -> Response:
    if req.service == "ec2":
        return handle_ec2(req)
    paging = PAGED_XML.get((req.service, req.operation))
    if paging is None:
        body = req.body
        if (req.service, req.operation) == ("elasticache", "CreateReplicationGroup"):
            body = replication_group_nodes(req)
        resp = forward(req.method, req.target, req.headers, body)
        standalone = {
            ("rds", "PromoteReadReplica"): "DBInstanceIdentifier",
            ("rds", "RestoreDBInstanceToPointInTime"): "TargetDBInstanceIdentifier",
        }.get((req.service, req.operation))
        if standalone and resp.status == 200:
            ident = req.form_value(standalone)
            if ident:
                STATE.promote(req.account, ident)
        if (req.service, req.operation) == ("elasticache", "CreateReplicationGroup") and resp.status == 200:
            group = req.form_value("ReplicationGroupId")
            if group:
                STATE.cache_group_created(
                    req.account,
                    group,
                    {k: v for k, v in req.form if k in ("Engine", "EngineVersion", "CacheNodeType")},
                )
        return resp
    size = page_size(req.form_value(paging.size_key), paging.default, paging.low, paging.high, paging.error)
    rest = [(k, v) for k, v in req.form if k not in (paging.size_key, "Marker")]
    digest = request_hash(sorted(rest))
    offset = 0
    marker = req.form_value("Marker")
    if marker:
        found = read_token(marker, digest)
        if found is None:
            raise paging.token_error()
        offset = found

    items: list[ET.Element] = []
    first_root = None
    first_resp = None
    moto_marker = None
    for _ in range(10_000):
        ask = rest + [(paging.size_key, "100000")]
        if moto_marker:
            ask.append(("Marker", moto_marker))
        body = urllib.parse.urlencode(ask).encode()
        headers = [(k, v) for k, v in req.headers if k.lower() != "content-type"]
        headers.append(("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"))
        resp = forward("POST", req.path, headers, body)
        if resp.status != 200:
            return resp
        try:
            root = ET.fromstring(resp.body)
        except ET.ParseError:
            return resp
        result = next((c for c in root if local(c.tag).endswith("Result")), None)
        if result is None:
            return resp
        lst = next((c for c in result if local(c.tag) == paging.list_tag), None)
        if lst is not None:
            items += list(lst)
        nxt = next(
            (c.text for c in result if local(c.tag) in ("Marker", "NextMarker") and c.text),
            None,
        )
        if first_root is None:
            first_root, first_resp = root, resp
        if not nxt or nxt == moto_marker:
            break
        moto_marker = nxt

    assert first_root is not None and first_resp is not None
    root = first_root
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    q = (lambda t: f"{{{ns}}}{t}") if ns else (lambda t: t)
    result = next(c for c in root if local(c.tag).endswith("Result"))
    for child in list(result):
        if local(child.tag) in ("Marker", "NextMarker"):
            result.remove(child)
    lst = next((c for c in result if local(c.tag) == paging.list_tag), None)
    if lst is None:
        lst = ET.SubElement(result, q(paging.list_tag))
    for child in list(lst):
        lst.remove(child)
    if (req.service, req.operation) == ("rds", "DescribeDBInstances"):
        unlink_promoted(req, items)
    if (req.service, req.operation) == ("elasticache", "DescribeCacheClusters"):
        items = complete_cache_clusters(req, items, q)
    if (req.service, req.operation) == ("elasticache", "DescribeReplicationGroups"):
        add_reader_endpoints(items, q)
    if paging.cap:
        size = min(size, paging.cap)
    for item in items[offset : offset + size]:
        lst.append(item)
    if offset + size < len(items):
        ET.SubElement(result, q(paging.out_marker)).text = make_token(offset + size, digest)
    if ns:
        data = ET.tostring(root, encoding="utf-8", default_namespace=ns)
    else:
        data = ET.tostring(root, encoding="utf-8")
    headers = [(k, v) for k, v in first_resp.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", "text/xml"))
    return Response(200, headers, data)


# --------------------------------------------------------------------------
# The HTTP server.


def is_mutating(operation: str) -> bool:
    """Whether an operation may change state: anything but a read."""
    return not operation.startswith(("Describe", "List", "Get", "BatchGet", "GET ", "HEAD "))


def request_params(req: Request):
    """The decoded parameters of a request, for /__proxy/requests."""
    try:
        if req.protocol == "query":
            return {k: v for k, v in req.form}
        body = req.body
        if (req.header("content-encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        if not body:
            return {}
        if req.protocol == "cbor":
            return cbor_to_json(cbor2.loads(body))
        if req.protocol == "json":
            return json.loads(body.decode("utf-8"))
        return {"body": body.decode("utf-8", "replace")}
    except Exception as exc:  # recording must never fail the request
        return {"unreadable": f"{type(exc).__name__}: {exc}"}


def control(handler: "Handler", method: str, path: str, query: str, body: bytes) -> Response:
    params = dict(urllib.parse.parse_qsl(query))
    account = params.get("account") or DEFAULT_ACCOUNT

    def as_json(obj, status=200):
        return Response(status, [("Content-Type", "application/json")], json.dumps(obj).encode())

    if path == "/__proxy/health":
        return Response(200, [("Content-Type", "text/plain")], b"ok")
    if path == "/__proxy/counts" and method == "GET":
        return as_json(STATE.get_counts(account))
    if path == "/__proxy/reset" and method == "POST":
        STATE.reset(account)
        return as_json({"reset": account})
    if path == "/__proxy/requests" and method == "GET":
        return as_json(STATE.get_requests(account, params.get("operation")))
    if path == "/__proxy/faults" and method == "GET":
        return as_json(STATE.get_faults(account))
    if path == "/__proxy/elasticache-status" and method == "POST":
        try:
            spec = json.loads(body.decode("utf-8") or "{}")
            STATE.set_cache_status(account, str(spec["cluster"]), str(spec["status"]))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return as_json({"error": f"bad status: {exc}"}, 400)
        return as_json(spec)
    if path == "/__proxy/latency" and method == "POST":
        global LATENCY
        try:
            LATENCY = max(0.0, float(json.loads(body.decode("utf-8") or "{}").get("ms", 0)) / 1000.0)
        except (ValueError, TypeError, AttributeError) as exc:
            return as_json({"error": f"bad latency: {exc}"}, 400)
        return as_json({"ms": LATENCY * 1000.0})
    if path == "/__proxy/fault" and method == "DELETE":
        STATE.clear_faults(account)
        return as_json({"cleared": account})
    if path == "/__proxy/fault" and method == "POST":
        try:
            spec = json.loads(body.decode("utf-8") or "{}")
            operation = str(spec.get("operation", "*"))
            kind = str(spec.get("kind", ""))
            count = int(spec.get("count", 1))
            seconds = float(spec.get("seconds", 30))
        except (ValueError, TypeError, AttributeError) as exc:
            return as_json({"error": f"bad fault: {exc}"}, 400)
        if kind not in ("throttle", "expired", "500", "hang", "slow"):
            return as_json({"error": f"unknown kind {kind!r}: throttle, expired, 500, hang or slow"}, 400)
        fault = {"operation": operation, "kind": kind, "count": count if count > 0 else -1, "seconds": seconds}
        STATE.add_fault(account, fault)
        return as_json(fault)
    return as_json({"error": f"unknown control endpoint {method} {path}"}, 404)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "honban-moto-proxy/1"

    def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's name)
        log(format % args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline().strip()
                size = int(line.split(b";", 1)[0] or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, resp: Response) -> None:
        self.send_response(resp.status)
        for key, value in resp.headers:
            if key.lower() in DROP_RESPONSE:
                continue
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except Exception as exc:
            self.close_connection = True
            self._send(Response(400, [("Content-Type", "text/plain")], f"proxy: bad request body: {exc}".encode()))
            return
        split = urllib.parse.urlsplit(self.path)
        if split.path.startswith("/__proxy/"):
            self._send(control(self, self.command, split.path, split.query, body))
            return
        req = None
        try:
            req = Request(self.command, self.path, list(self.headers.items()), body)
            if not split.path.startswith("/moto-api"):
                STATE.count(req.account, req.name)
                if is_mutating(req.operation):
                    STATE.record(req.account, req.name, request_params(req))
            log(f"{req.account} {req.name} ({req.protocol})")
            if LATENCY > 0 and not split.path.startswith("/moto-api"):
                time.sleep(LATENCY)
            resp = None
            fault = STATE.take_fault(req.account, req.name)
            if fault is not None:
                log(f"fault {fault['kind']} for {req.name}")
                resp = fault_response(req, fault)
            if resp is None:
                if req.protocol == "cbor":
                    resp = handle_cbor(req)
                elif req.protocol == "json":
                    resp = handle_json(req)
                elif req.protocol == "query":
                    resp = handle_query(req)
                else:
                    resp = forward(req.method, req.target, req.headers, req.body)
            if fault is not None and fault["kind"] == "slow":
                # Applied already; the answer comes late (or never, to a
                # client that gave up).
                time.sleep(float(fault.get("seconds", 30)))
        except ApiError as err:
            resp = error_response(req, err) if req else Response(400, [], err.message.encode())
        except Exception as exc:  # never crash: answer 502 with the reason
            if VERBOSE:
                traceback.print_exc()
            resp = Response(
                502,
                [("Content-Type", "text/plain")],
                f"honban moto proxy error: {type(exc).__name__}: {exc}".encode(),
            )
        try:
            self._send(resp)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if VERBOSE:
            super().handle_error(request, client_address)


def main() -> int:
    global VERBOSE, MOTO, LATENCY
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: a free one)")
    parser.add_argument("--moto", required=True, help="moto server URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay every AWS request by this much (a region's round trip)"
    )
    args = parser.parse_args()
    VERBOSE = args.verbose
    LATENCY = max(0.0, args.latency_ms / 1000.0)
    MOTO = urllib.parse.urlsplit(args.moto)
    if MOTO.scheme != "http" or not MOTO.hostname:
        parser.error("--moto must be an http:// URL")
    host, _, port = args.listen.rpartition(":")
    server = Server((host or "127.0.0.1", int(port or 0)), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
