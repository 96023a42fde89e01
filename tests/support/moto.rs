//! A moto server with the AWS-faithful proxy of `tests/moto/proxy.py` in
//! front of it, shared by every test of one test binary.
//!
//! ```ignore
//! let moto = support::moto::Moto::shared();
//! let account = support::moto::fresh_account();
//! let seeded = moto.seed(&account, &["--extra-services", "25"]);
//! // point the SDK clients at `moto.endpoint` and send the header
//! // `x-moto-account-id: <account>` with every request (an interceptor)
//! assert_eq!(moto.counts(&account)["ecs:ListServices"], 3);
//! assert!(seeded.services.contains(&"web".to_string()));
//! ```
//!
//! The servers come from the virtualenv `.venv` at the crate root (or
//! `$HONBAN_MOTO_VENV`), which `scripts/test.sh` creates with
//! `python3 -m venv .venv && .venv/bin/pip install 'moto[server]==5.2.5' cbor2`.
//! Without it every test that needs moto panics: such tests never skip.
//!
//! Both servers run under a small `sh` watchdog that kills them (and removes
//! their logs) within a second of the test process ending, however it ends.
//! Set `HONBAN_MOTO_VERBOSE=1` to have the proxy log every request; see
//! [`Moto::logs`].

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

/// A JSON value: what boto3 answers and what the proxy recorded.
pub use serde_json::Value as Json;

/// The account moto uses when a request names none.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The request header that selects a moto account.
pub const ACCOUNT_HEADER: &str = "x-moto-account-id";

/// The pip line that installs what this module needs into `.venv`.
const INSTALL: &str = "python3 -m venv .venv && .venv/bin/pip install 'moto[server]==5.2.5' cbor2";
/// How long moto or the proxy may take to start (a busy 2-core CI machine).
const START_TIMEOUT: Duration = Duration::from_mins(1);

/// A running moto server and the proxy in front of it.
#[allow(
    clippy::struct_field_names,
    reason = "moto's own address and log, beside the proxy's"
)]
pub struct Moto {
    /// The proxy's URL (`http://127.0.0.1:PORT`): what the SDK clients use.
    pub endpoint: String,
    /// moto's own URL, bypassing the proxy (no limits, no counting): for
    /// seeding and for checking state behind the product's back.
    pub moto_endpoint: String,
    control: Control,
    moto_addr: SocketAddr,
    python: PathBuf,
    moto_log: PathBuf,
    proxy_log: PathBuf,
    // Kept so the pipes stay open for the life of the process; the watchdogs
    // end the servers when the process goes.
    _children: Mutex<Vec<Child>>,
    _proxy_stdout: Mutex<Option<BufReader<ChildStdout>>>,
}

impl Moto {
    /// The servers of this test binary, started on first use.
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(Moto::start)
    }

    fn start() -> Moto {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let venv =
            std::env::var_os("HONBAN_MOTO_VENV").map_or_else(|| root.join(".venv"), PathBuf::from);
        let moto_server = venv.join("bin/moto_server");
        let python = venv.join("bin/python");
        for tool in [&moto_server, &python] {
            if !tool.exists() {
                let ci = if std::env::var_os("CI").is_some() {
                    "CI is set: tests that need moto must run, never skip. "
                } else {
                    ""
                };
                panic!(
                    "moto is not installed: {} is missing. {ci}Run scripts/test.sh, \
                     or install it by hand in {}: {INSTALL}",
                    tool.display(),
                    root.display()
                );
            }
        }
        let proxy_script = root.join("tests/moto/proxy.py");
        let logs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("moto");
        std::fs::create_dir_all(&logs).unwrap_or_else(|e| panic!("create {}: {e}", logs.display()));
        let pid = std::process::id();
        let moto_log = logs.join(format!("moto-{pid}.log"));
        let proxy_log = logs.join(format!("proxy-{pid}.log"));

        let mut children = Vec::new();

        // moto: a free port, then wait until it answers (retry on a port race).
        let mut moto = None;
        for _ in 0..3 {
            let port = free_port();
            let child = watched(
                &moto_server,
                &["-H", "127.0.0.1", "-p", &port.to_string()],
                &moto_log,
                false,
            );
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            match wait_for_moto(addr, &moto_log) {
                Ok(()) => {
                    children.push(child);
                    moto = Some(addr);
                    break;
                }
                Err(e) => {
                    eprintln!("moto did not start on port {port}: {e}");
                    drop(child); // its watchdog ends it when the server exits
                }
            }
        }
        let moto_addr = moto.unwrap_or_else(|| {
            panic!(
                "moto_server did not start; its log:\n{}",
                tail(&moto_log, 4000)
            )
        });
        let moto_endpoint = format!("http://{moto_addr}");

        // Tasks stay RUNNING however often they are described (moto's default
        // walks them to STOPPED one step per DescribeTasks).
        let (status, body) = http(
            moto_addr,
            "POST",
            "/moto-api/state-manager/set-transition",
            Some(r#"{"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000000}}"#),
        )
        .unwrap_or_else(|e| panic!("moto state manager: {e}"));
        assert!(
            (200..300).contains(&status),
            "moto state manager: {status} {body}"
        );

        // The proxy prints `READY <port>` once it listens.
        let mut args = vec![
            proxy_script.to_str().expect("a UTF-8 path").to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--moto".into(),
            moto_endpoint.clone(),
        ];
        if std::env::var_os("HONBAN_MOTO_VERBOSE").is_some() {
            args.push("--verbose".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut proxy = watched(&python, &args, &proxy_log, true);
        let stdout = proxy.stdout.take().expect("the proxy's stdout is piped");
        let (port, stdout) = read_ready(stdout, &proxy_log);
        children.push(proxy);
        let proxy_addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match http(proxy_addr, "GET", "/__proxy/health", None) {
                Ok((200, _)) => break,
                other if Instant::now() > deadline => panic!(
                    "the moto proxy does not answer: {other:?}; its log:\n{}",
                    tail(&proxy_log, 4000)
                ),
                _ => thread::sleep(Duration::from_millis(50)),
            }
        }

        Moto {
            endpoint: format!("http://{proxy_addr}"),
            moto_endpoint,
            control: Control {
                addr: proxy_addr,
                log: proxy_log.clone(),
            },
            moto_addr,
            python,
            moto_log,
            proxy_log,
            _children: Mutex::new(children),
            _proxy_stdout: Mutex::new(Some(stdout)),
        }
    }

    /// Requests the proxy has seen for `account`, by `service:Operation`
    /// (`ecs:ListServices`, `cloudwatch:DescribeAlarms`, `rds:DescribeDBInstances`,
    /// `application-autoscaling:…`, `elasticloadbalancing:…`, `sts:…`).
    /// Operations never called are absent.
    /// Requests the proxy has seen for `account`, by `service:Operation`
    /// (`ecs:ListServices`, `cloudwatch:DescribeAlarms`, `rds:DescribeDBInstances`,
    /// `application-autoscaling:…`, `elasticloadbalancing:…`, `sts:…`).
    /// Operations never called are absent.
    pub fn counts(&self, account: &str) -> BTreeMap<String, u64> {
        self.control.counts(account)
    }

    /// How many `operation` requests (`ecs:ListServices`) `account` made.
    pub fn count(&self, account: &str, operation: &str) -> u64 {
        self.counts(account).get(operation).copied().unwrap_or(0)
    }

    /// Forgets the request counts of `account`.
    pub fn reset_counts(&self, account: &str) {
        self.control
            .call("POST", &format!("/__proxy/reset?account={account}"), None);
    }

    /// The next `count` requests of `account` matching `operation`
    /// (`ecs:ListServices`, `ecs:*` or `*`) fail with `kind`:
    /// `throttle` (ThrottlingException / Throttling), `expired`
    /// (ExpiredTokenException / ExpiredToken), `500` (moto's HTML 500) or
    /// `hang` (30 s, then the normal answer; see [`Moto::inject_hang`]).
    /// `count` 0 means every matching request until [`Moto::clear_faults`].
    pub fn inject_fault(&self, account: &str, operation: &str, kind: &str, count: u32) {
        self.control.fault(
            account,
            &json!({"operation": operation, "kind": kind, "count": count}),
        );
    }

    /// What DescribeCacheClusters reports as the status of `cluster` (and
    /// of its node) in `account` from now on: the states moto never
    /// reaches (`incompatible-network`, `failed`).
    pub fn set_cache_status(&self, account: &str, cluster: &str, status: &str) {
        self.control.call(
            "POST",
            &format!("/__proxy/elasticache-status?account={account}"),
            Some(&json!({"cluster": cluster, "status": status})),
        );
    }

    /// Like [`Moto::inject_fault`] with `hang`, for `seconds` instead of 30.
    pub fn inject_hang(&self, account: &str, operation: &str, seconds: f64, count: u32) {
        self.control.fault(
            account,
            &json!({"operation": operation, "kind": "hang", "count": count, "seconds": seconds}),
        );
    }

    /// Makes `count` requests of `operation` slow to answer: each is
    /// forwarded to moto at once (so it is applied), and its answer held
    /// for `seconds` (a client that gives up first never sees it).
    pub fn inject_slow(&self, account: &str, operation: &str, seconds: f64, count: u32) {
        self.control.slow(account, operation, seconds, count);
    }

    /// Disarms every fault of `account`.
    pub fn clear_faults(&self, account: &str) {
        self.control.clear_faults(account);
    }

    /// Seeds `account` with `scripts/seed-moto.py --endpoint <moto, not the
    /// proxy> --account <account> <args>` and returns its summary.
    /// Panics with the script's stderr when it fails.
    pub fn seed(&self, account: &str, args: &[&str]) -> Seeded {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/seed-moto.py");
        let output = Command::new(&self.python)
            .arg(&script)
            .args(["--endpoint", &self.moto_endpoint, "--account", account])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "seed-moto.py {} failed ({}):\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("seed-moto.py printed no summary ({e}):\n{stdout}"))
    }

    /// The decoded parameters of every mutating request (any operation not
    /// named `Describe*`, `List*` or `Get*`) `account` sent as `operation`
    /// (`ecs:UpdateService`), oldest first, since the last
    /// [`Moto::reset_counts`]: JSON and CBOR bodies as JSON objects, query
    /// forms (RDS) as `{"Key": "value"}`.
    pub fn requests(&self, account: &str, operation: &str) -> Vec<Json> {
        #[derive(Deserialize)]
        struct Sent {
            params: Json,
        }
        let body = self.control.call(
            "GET",
            &format!("/__proxy/requests?account={account}&operation={operation}"),
            None,
        );
        let sent: Vec<Sent> = serde_json::from_str(&body).unwrap_or_else(|e| {
            panic!("the proxy's requests are not a list of requests ({e}): {body}")
        });
        sent.into_iter().map(|s| s.params).collect()
    }

    /// Calls boto3 `<service>.<method>(**params)` against moto itself (not
    /// the proxy: nothing is counted or limited) as `account` in
    /// ap-northeast-1, and returns the answer without its
    /// `ResponseMetadata` (timestamps as strings). For setting up state the
    /// seed does not make and for reading state back raw, behind the
    /// product's back: `moto.aws(&account, "ecs", "describe_task_definition",
    /// r#"{"taskDefinition": "web:1"}"#)`. Panics with boto3's error.
    pub fn aws(&self, account: &str, service: &str, method: &str, params: &str) -> Json {
        self.aws_at(&self.moto_endpoint, account, service, method, params)
    }

    /// [`Moto::aws`] through the proxy (counted, and seen by the proxy's
    /// test doubles: what moto drops, the proxy keeps).
    pub fn aws_via_proxy(&self, account: &str, service: &str, method: &str, params: &str) -> Json {
        self.aws_at(&self.endpoint, account, service, method, params)
    }

    fn aws_at(
        &self,
        endpoint: &str,
        account: &str,
        service: &str,
        method: &str,
        params: &str,
    ) -> Json {
        const SCRIPT: &str = r#"
import json, sys
import boto3
from botocore.config import Config
endpoint, account, service, method, params = sys.argv[1:6]
client = boto3.client(
    service,
    endpoint_url=endpoint,
    region_name="ap-northeast-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
    config=Config(retries={"max_attempts": 1, "mode": "standard"}),
)
def add_account(request, **_):
    request.headers["x-moto-account-id"] = account
client.meta.events.register("before-sign.*.*", add_account)
out = getattr(client, method)(**json.loads(params))
out.pop("ResponseMetadata", None)
json.dump(out, sys.stdout, default=str, sort_keys=True)
"#;
        let output = Command::new(&self.python)
            .args(["-c", SCRIPT, endpoint, account, service, method, params])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run boto3 {service}.{method}: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "boto3 {service}.{method}({params}) failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("boto3 {service}.{method} printed no JSON ({e}):\n{stdout}"))
    }

    /// The last lines of moto's and the proxy's logs, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "--- moto ({}) ---\n{}\n--- proxy ({}) ---\n{}",
            self.moto_log.display(),
            tail(&self.moto_log, 4000),
            self.proxy_log.display(),
            tail(&self.proxy_log, 4000)
        )
    }
}

/// What `scripts/seed-moto.py` made, from its JSON summary.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Seeded {
    /// The cluster (the seed's `--name`).
    pub cluster: String,
    /// The service names.
    pub services: Vec<String>,
    /// Revision ARNs by family, oldest first.
    pub task_definitions: BTreeMap<String, Vec<String>>,
    /// How many tasks were started.
    pub tasks: u64,
    /// Target group ARNs by service.
    pub target_groups: BTreeMap<String, String>,
    /// Auto scaling resource ids (`service/CLUSTER/SERVICE`).
    pub scalable_targets: Vec<String>,
    pub db_instances: Vec<String>,
    pub db_snapshots: Vec<String>,
    /// How many alarms the seed made (`alarm_names.len()`).
    pub alarms: u64,
    /// Sorted.
    pub alarm_names: Vec<String>,
    pub alarms_in_alarm: Vec<String>,
    /// `--extra-clusters`.
    #[serde(default)]
    pub extra_clusters: Vec<String>,
    /// `--exec-through`: the tasks started with ECS Exec.
    #[serde(default)]
    pub exec_tasks: Vec<String>,
    /// `--activity`.
    #[serde(default)]
    pub activity: Option<Activity>,
    /// `--cloudfront ALIAS`: the distribution's id.
    #[serde(default)]
    pub distribution_id: Option<String>,
    /// `--hosts`: the app hosts' instance ids (the bastion apart).
    #[serde(default)]
    pub instances: Vec<String>,
    #[serde(default)]
    pub bastion: Option<String>,
    /// `--redis`: the replication group's id.
    #[serde(default)]
    pub replication_group: Option<String>,
}

/// The seeded activity (`seed-moto.py --activity`).
#[derive(Debug, Clone, Deserialize)]
pub struct Activity {
    /// The last whole minute with datapoints.
    pub last_minute: chrono::DateTime<chrono::Utc>,
    /// The web service's 5XX counts of the spike's minutes, ending at `last_minute`.
    pub web_5xx_spike: Vec<f64>,
    /// The IP targets registered, by service.
    pub targets: BTreeMap<String, Vec<String>>,
    /// The log streams written to.
    pub log_streams: Vec<String>,
}

impl Seeded {
    /// The seeded activity (panics unless seeded with `--activity`).
    pub fn activity(&self) -> &Activity {
        self.activity
            .as_ref()
            .expect("seeded with --activity (there is no activity)")
    }
}

/// The control endpoints (`/__proxy/…`) of one proxy.
struct Control {
    addr: SocketAddr,
    /// The proxy's log, for failure messages.
    log: PathBuf,
}

impl Control {
    fn counts(&self, account: &str) -> BTreeMap<String, u64> {
        let body = self.call("GET", &format!("/__proxy/counts?account={account}"), None);
        serde_json::from_str(&body).unwrap_or_else(|e| {
            panic!("the proxy's counts are not counts by operation ({e}): {body}")
        })
    }

    fn fault(&self, account: &str, fault: &Json) {
        self.call(
            "POST",
            &format!("/__proxy/fault?account={account}"),
            Some(fault),
        );
    }

    fn slow(&self, account: &str, operation: &str, seconds: f64, count: u32) {
        self.fault(
            account,
            &json!({"operation": operation, "kind": "slow", "count": count, "seconds": seconds}),
        );
    }

    fn clear_faults(&self, account: &str) {
        self.call("DELETE", &format!("/__proxy/fault?account={account}"), None);
    }

    /// Sends one request; panics unless the answer is a 200.
    fn call(&self, method: &str, path: &str, body: Option<&Json>) -> String {
        let body = body.map(Json::to_string);
        match http(self.addr, method, path, body.as_deref()) {
            Ok((200, body)) => body,
            Ok((status, body)) => panic!("proxy {method} {path}: {status} {body}"),
            Err(e) => panic!(
                "proxy {method} {path}: {e}\n--- proxy log ({}) ---\n{}",
                self.log.display(),
                tail(&self.log, 4000)
            ),
        }
    }
}

/// A proxy of one test's own in front of the shared moto, that the test
/// may stop and start again on the same port (an outage) and whose request
/// counts and faults are the test's alone (the real binary can only use
/// moto's default account, which every such test shares).
pub struct OwnProxy {
    /// What the console is pointed at: the same URL across restarts.
    pub endpoint: String,
    control: Control,
    python: PathBuf,
    moto_endpoint: String,
    args: Vec<String>,
    child: Option<Child>,
    stdout: Option<BufReader<ChildStdout>>,
}
impl Moto {
    /// Starts a proxy of the calling test's own (see [`OwnProxy`]), with
    /// `extra` arguments (`--latency-ms 25`).
    pub fn own_proxy(&self, extra: &[&str]) -> OwnProxy {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let logs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("moto");
        let _ = std::fs::create_dir_all(&logs);
        let port = free_port();
        let mut proxy = OwnProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            control: Control {
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                log: logs.join(format!("own-proxy-{}-{n}.log", std::process::id())),
            },
            python: self.python.clone(),
            moto_endpoint: self.moto_endpoint.clone(),
            args: extra.iter().map(ToString::to_string).collect(),
            child: None,
            stdout: None,
        };
        proxy.start();
        proxy
    }
}

impl OwnProxy {
    /// Starts the proxy (again) on its port and waits until it answers.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "the proxy is running already");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto/proxy.py");
        let listen = self.control.addr.to_string();
        let mut args = vec![
            script.to_str().expect("a UTF-8 path").to_string(),
            "--listen".into(),
            listen,
            "--moto".into(),
            self.moto_endpoint.clone(),
        ];
        args.extend(self.args.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let mut child = watched(&self.python, &args, &self.control.log, true);
            let stdout = child.stdout.take().expect("the proxy's stdout is piped");
            let (port, stdout) = read_ready(stdout, &self.control.log);
            assert_eq!(port, self.control.addr.port());
            if matches!(
                http(self.control.addr, "GET", "/__proxy/health", None),
                Ok((200, _))
            ) {
                self.child = Some(child);
                self.stdout = Some(stdout);
                return;
            }
            stop_watched(&mut child);
            assert!(
                Instant::now() < deadline,
                "the proxy does not start again on {}:\n{}",
                self.control.addr,
                tail(&self.control.log, 4000)
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the proxy: from now on connections to it are refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_watched(&mut child);
        }
        self.stdout = None;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&self.control.addr, Duration::from_millis(200)).is_ok() {
            assert!(Instant::now() < deadline, "the proxy does not stop");
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Requests this proxy has seen (since it last started) for `account`.
    /// Requests this proxy has seen (since it last started) for `account`.
    pub fn counts(&self, account: &str) -> BTreeMap<String, u64> {
        self.control.counts(account)
    }

    /// Every request this proxy has seen for `account`.
    pub fn total(&self, account: &str) -> u64 {
        self.counts(account).values().sum()
    }

    /// Like [`Moto::inject_fault`], on this proxy.
    pub fn inject_fault(&self, account: &str, operation: &str, kind: &str, count: u32) {
        self.control.fault(
            account,
            &json!({"operation": operation, "kind": kind, "count": count}),
        );
    }

    /// Like [`Moto::inject_slow`], on this proxy.
    pub fn inject_slow(&self, account: &str, operation: &str, seconds: f64, count: u32) {
        self.control.slow(account, operation, seconds, count);
    }

    /// Disarms every fault of `account` on this proxy.
    pub fn clear_faults(&self, account: &str) {
        self.control.clear_faults(account);
    }
}

impl Drop for OwnProxy {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_watched(&mut child);
        }
    }
}

/// Ends a program started by [`watched`]: its watchdog kills it on TERM.
fn stop_watched(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

/// A new 12-digit account id, unique within this process (and, through the
/// process id, across test binaries sharing a machine): a fresh, empty moto
/// account for one test.
pub fn fresh_account() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed) % 100_000;
        let id = format!("{:07}{n:05}", std::process::id() % 10_000_000);
        if id != DEFAULT_ACCOUNT && n != 0 {
            return id;
        }
    }
}

// --------------------------------------------------------------------------
// Processes.

/// Starts `program args…` under an `sh` watchdog that kills it when this
/// process ends (polling once a second) and then removes `log`. The
/// program's stderr (and stdout unless `stdout` is piped) goes to `log`.
fn watched(program: &Path, args: &[&str], log: &Path, pipe_stdout: bool) -> Child {
    const WATCHDOG: &str = r#"
log="$1"; shift
if [ "$HONBAN_MOTO_STDOUT" = log ]; then "$@" >>"$log" 2>&1 & else "$@" 2>>"$log" & fi
child=$!
trap 'kill $child 2>/dev/null; wait $child 2>/dev/null; exit 0' TERM INT HUP
while kill -0 "$HONBAN_MOTO_PARENT" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
    sleep 1
done
kill "$child" 2>/dev/null
sleep 1
kill -9 "$child" 2>/dev/null
wait "$child" 2>/dev/null
if ! kill -0 "$HONBAN_MOTO_PARENT" 2>/dev/null; then rm -f "$log"; fi
"#;
    // A fresh log for each start (a retry must not read the last one).
    let _ = std::fs::remove_file(log);
    Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("honban-moto-watchdog")
        .arg(log)
        .arg(program)
        .args(args)
        .env("HONBAN_MOTO_PARENT", std::process::id().to_string())
        .env(
            "HONBAN_MOTO_STDOUT",
            if pipe_stdout { "pipe" } else { "log" },
        )
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(if pipe_stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port on 127.0.0.1")
}

/// Waits until moto accepts connections and answers a request.
fn wait_for_moto(addr: SocketAddr, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok((status, _)) = http(
            addr,
            "GET",
            "/moto-api/state-manager/get-transition?model_name=ecs::task",
            None,
        ) && status < 500
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("no answer within {START_TIMEOUT:?}"));
        }
        if let Ok(text) = std::fs::read_to_string(log)
            && text.contains("Address already in use")
        {
            return Err("port taken".into());
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Reads the proxy's `READY <port>` line.
fn read_ready(stdout: ChildStdout, log: &Path) -> (u16, BufReader<ChildStdout>) {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let result = reader.read_line(&mut line).map(|_| line);
        let _ = tx.send((result, reader));
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok((Ok(line), reader)) => {
            let port = line
                .trim()
                .strip_prefix("READY ")
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| {
                    panic!(
                        "the moto proxy did not start (said {line:?}); its log:\n{}",
                        tail(log, 4000)
                    )
                });
            (port, reader)
        }
        Ok((Err(e), _)) => panic!("read the moto proxy's stdout: {e}"),
        Err(e) => panic!(
            "the moto proxy did not start within {START_TIMEOUT:?} ({e}); its log:\n{}",
            tail(log, 4000)
        ),
    }
}

fn tail(path: &Path, max: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    let start = (start..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_string()
}

// --------------------------------------------------------------------------
// HTTP, for the control endpoints of the proxy and moto: hyper's client (the
// one the AWS SDK and the probes use) on a small runtime of its own, so that
// synchronous tests and asynchronous ones (whose runtime must not be blocked
// on itself) call it alike.

/// One request to `http://ADDR/PATH`, answered within 30 s: the status and
/// the body. A connection of its own (no pool: a restarted proxy on the same
/// port must not be reached through a connection to the last one).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("moto-control")
            .enable_all()
            .build()
            .expect("a runtime for the moto control requests")
    });
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if body.is_some() || method == "POST" {
        request = request.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))
        .map_err(|e| e.to_string())?;
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        let exchange = async {
            let response = client
                .request(request)
                .await
                .map_err(|e| format!("{e:?}"))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok((status, String::from_utf8_lossy(&body).into_owned()))
        };
        let answer = tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .unwrap_or_else(|_| Err("no answer within 30s".to_string()));
        let _ = tx.send(answer);
    });
    rx.recv()
        .map_err(|_| "the request was dropped unanswered".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_summary_reads_into_seeded() {
        let seeded: Seeded = serde_json::from_str(
            r#"{"account": "123456789012", "cluster": "c", "services": ["web", "api"],
                "task_definitions": {"c-web": ["arn:1", "arn:2"]}, "tasks": 6,
                "tasks_by_group": {}, "load_balancer": null,
                "target_groups": {"web": "arn:tg"}, "scalable_targets": [],
                "scaling_policies": [], "db_instances": ["c-db"], "db_snapshots": [],
                "alarms": 1, "alarm_names": ["c-web-5xx"], "alarms_in_alarm": [],
                "autoscaling_alarms": [], "extra_clusters": [],
                "activity": {"first_minute": "2026-11-24T00:00:00Z",
                             "last_minute": "2026-11-24T03:00:00Z",
                             "web_5xx_spike": [12.0, 30.5], "targets": {"web": ["10.0.0.1"]},
                             "log_group": "/ecs/c", "log_streams": ["s"]},
                "seconds": 1.5}"#,
        )
        .expect("the summary's shape");
        assert_eq!(seeded.services, ["web", "api"]);
        assert_eq!(seeded.tasks, 6);
        assert_eq!(seeded.task_definitions["c-web"], ["arn:1", "arn:2"]);
        assert!(
            seeded.exec_tasks.is_empty(),
            "absent without --exec-through"
        );
        let activity = seeded.activity();
        assert_eq!(activity.web_5xx_spike, [12.0, 30.5]);
        assert_eq!(
            activity.last_minute.to_rfc3339(),
            "2026-11-24T03:00:00+00:00"
        );
        assert!(serde_json::from_str::<Seeded>(r#"{"cluster": "c"}"#).is_err());
    }

    #[test]
    fn fresh_accounts_are_twelve_digits_and_unique() {
        let a = fresh_account();
        let b = fresh_account();
        assert_eq!(a.len(), 12);
        assert!(a.bytes().all(|c| c.is_ascii_digit()));
        assert_ne!(a, b);
    }
}
