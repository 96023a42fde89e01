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
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The account moto uses when a request names none.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The request header that selects a moto account.
pub const ACCOUNT_HEADER: &str = "x-moto-account-id";

/// The pip line that installs what this module needs into `.venv`.
const INSTALL: &str = "python3 -m venv .venv && .venv/bin/pip install 'moto[server]==5.2.5' cbor2";
/// How long moto or the proxy may take to start (a busy 2-core CI machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server and the proxy in front of it.
pub struct Moto {
    /// The proxy's URL (`http://127.0.0.1:PORT`): what the SDK clients use.
    pub endpoint: String,
    /// moto's own URL, bypassing the proxy (no limits, no counting): for
    /// seeding and for checking state behind the product's back.
    pub moto_endpoint: String,
    proxy_addr: SocketAddr,
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
        let venv = std::env::var_os("HONBAN_MOTO_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv"));
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
            proxy_addr,
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
    pub fn counts(&self, account: &str) -> BTreeMap<String, u64> {
        let body = self.control("GET", &format!("/__proxy/counts?account={account}"), None);
        match Json::parse(&body) {
            Ok(Json::Object(map)) => map
                .into_iter()
                .map(|(k, v)| {
                    let n = v
                        .as_u64()
                        .unwrap_or_else(|| panic!("count of {k} is not a number: {body}"));
                    (k, n)
                })
                .collect(),
            other => panic!("the proxy's counts are not a JSON object: {other:?}: {body}"),
        }
    }

    /// How many `operation` requests (`ecs:ListServices`) `account` made.
    pub fn count(&self, account: &str, operation: &str) -> u64 {
        self.counts(account).get(operation).copied().unwrap_or(0)
    }

    /// Forgets the request counts of `account`.
    pub fn reset_counts(&self, account: &str) {
        self.control(
            "POST",
            &format!("/__proxy/reset?account={account}"),
            Some(""),
        );
    }

    /// The next `count` requests of `account` matching `operation`
    /// (`ecs:ListServices`, `ecs:*` or `*`) fail with `kind`:
    /// `throttle` (ThrottlingException / Throttling), `expired`
    /// (ExpiredTokenException / ExpiredToken), `500` (moto's HTML 500) or
    /// `hang` (30 s, then the normal answer; see [`Moto::inject_hang`]).
    /// `count` 0 means every matching request until [`Moto::clear_faults`].
    pub fn inject_fault(&self, account: &str, operation: &str, kind: &str, count: u32) {
        let body = format!(
            r#"{{"operation": {}, "kind": {}, "count": {count}}}"#,
            json_string(operation),
            json_string(kind)
        );
        self.control(
            "POST",
            &format!("/__proxy/fault?account={account}"),
            Some(&body),
        );
    }

    /// Like [`Moto::inject_fault`] with `hang`, for `seconds` instead of 30.
    pub fn inject_hang(&self, account: &str, operation: &str, seconds: f64, count: u32) {
        let body = format!(
            r#"{{"operation": {}, "kind": "hang", "count": {count}, "seconds": {seconds}}}"#,
            json_string(operation),
        );
        self.control(
            "POST",
            &format!("/__proxy/fault?account={account}"),
            Some(&body),
        );
    }

    /// Makes `count` requests of `operation` slow to answer: each is
    /// forwarded to moto at once (so it is applied), and its answer held
    /// for `seconds` (a client that gives up first never sees it).
    pub fn inject_slow(&self, account: &str, operation: &str, seconds: f64, count: u32) {
        let body = format!(
            r#"{{"operation": {}, "kind": "slow", "count": {count}, "seconds": {seconds}}}"#,
            json_string(operation),
        );
        self.control(
            "POST",
            &format!("/__proxy/fault?account={account}"),
            Some(&body),
        );
    }

    /// Disarms every fault of `account`.
    pub fn clear_faults(&self, account: &str) {
        self.control("DELETE", &format!("/__proxy/fault?account={account}"), None);
    }

    /// Seeds `account` with `scripts/seed-moto.py --endpoint <moto, not the
    /// proxy> --account <account> <args>` and returns its JSON summary
    /// (`cluster`, `services`, `tasks`, `alarm_names`, `db_instances`, …).
    /// Panics with the script's stderr when it fails.
    pub fn seed(&self, account: &str, args: &[&str]) -> Json {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/seed-moto.py");
        let output = Command::new(&self.python)
            .arg(&script)
            .args(["--endpoint", &self.moto_endpoint, "--account", account])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            panic!(
                "seed-moto.py {} failed ({}):\n{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Json::parse(&stdout)
            .unwrap_or_else(|e| panic!("seed-moto.py printed no JSON summary ({e}):\n{stdout}"))
    }

    /// The decoded parameters of every mutating request (any operation not
    /// named `Describe*`, `List*` or `Get*`) `account` sent as `operation`
    /// (`ecs:UpdateService`), oldest first, since the last
    /// [`Moto::reset_counts`]: JSON and CBOR bodies as JSON objects, query
    /// forms (RDS) as `{"Key": "value"}`.
    pub fn requests(&self, account: &str, operation: &str) -> Vec<Json> {
        let body = self.control(
            "GET",
            &format!("/__proxy/requests?account={account}&operation={operation}"),
            None,
        );
        match Json::parse(&body) {
            Ok(Json::Array(items)) => items.iter().map(|r| r.get("params").clone()).collect(),
            other => panic!("the proxy's requests are not a JSON array: {other:?}: {body}"),
        }
    }

    /// Calls boto3 `<service>.<method>(**params)` against moto itself (not
    /// the proxy: nothing is counted or limited) as `account` in
    /// ap-northeast-1, and returns the answer without its
    /// `ResponseMetadata` (timestamps as strings). For setting up state the
    /// seed does not make and for reading state back raw, behind the
    /// product's back: `moto.aws(&account, "ecs", "describe_task_definition",
    /// r#"{"taskDefinition": "web:1"}"#)`. Panics with boto3's error.
    pub fn aws(&self, account: &str, service: &str, method: &str, params: &str) -> Json {
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
            .args([
                "-c",
                SCRIPT,
                &self.moto_endpoint,
                account,
                service,
                method,
                params,
            ])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run boto3 {service}.{method}: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            panic!(
                "boto3 {service}.{method}({params}) failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Json::parse(&stdout)
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

    fn control(&self, method: &str, path: &str, body: Option<&str>) -> String {
        match http(self.proxy_addr, method, path, body) {
            Ok((200, body)) => body,
            Ok((status, body)) => panic!("proxy {method} {path}: {status} {body}"),
            Err(e) => panic!("proxy {method} {path}: {e}\n{}", self.logs()),
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
    addr: SocketAddr,
    python: PathBuf,
    moto_endpoint: String,
    log: PathBuf,
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
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            python: self.python.clone(),
            moto_endpoint: self.moto_endpoint.clone(),
            log: logs.join(format!("own-proxy-{}-{n}.log", std::process::id())),
            args: extra.iter().map(|s| s.to_string()).collect(),
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
        let listen = self.addr.to_string();
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
            let mut child = watched(&self.python, &args, &self.log, true);
            let stdout = child.stdout.take().expect("the proxy's stdout is piped");
            let (port, stdout) = read_ready(stdout, &self.log);
            assert_eq!(port, self.addr.port());
            if matches!(
                http(self.addr, "GET", "/__proxy/health", None),
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
                self.addr,
                tail(&self.log, 4000)
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
        while TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
            assert!(Instant::now() < deadline, "the proxy does not stop");
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Requests this proxy has seen (since it last started) for `account`.
    pub fn counts(&self, account: &str) -> BTreeMap<String, u64> {
        let body = self.control("GET", &format!("/__proxy/counts?account={account}"), None);
        match Json::parse(&body) {
            Ok(Json::Object(map)) => map
                .into_iter()
                .map(|(k, v)| (k, v.as_u64().unwrap_or(0)))
                .collect(),
            other => panic!("the proxy's counts are not a JSON object: {other:?}: {body}"),
        }
    }

    /// Every request this proxy has seen for `account`.
    pub fn total(&self, account: &str) -> u64 {
        self.counts(account).values().sum()
    }

    /// Like [`Moto::inject_fault`], on this proxy.
    pub fn inject_fault(&self, account: &str, operation: &str, kind: &str, count: u32) {
        let body = format!(
            r#"{{"operation": {}, "kind": {}, "count": {count}}}"#,
            json_string(operation),
            json_string(kind)
        );
        self.control(
            "POST",
            &format!("/__proxy/fault?account={account}"),
            Some(&body),
        );
    }

    /// Like [`Moto::inject_slow`], on this proxy.
    pub fn inject_slow(&self, account: &str, operation: &str, seconds: f64, count: u32) {
        let body = format!(
            r#"{{"operation": {}, "kind": "slow", "count": {count}, "seconds": {seconds}}}"#,
            json_string(operation),
        );
        self.control(
            "POST",
            &format!("/__proxy/fault?account={account}"),
            Some(&body),
        );
    }

    /// Disarms every fault of `account` on this proxy.
    pub fn clear_faults(&self, account: &str) {
        self.control("DELETE", &format!("/__proxy/fault?account={account}"), None);
    }

    fn control(&self, method: &str, path: &str, body: Option<&str>) -> String {
        match http(self.addr, method, path, body) {
            Ok((200, body)) => body,
            Ok((status, body)) => panic!("proxy {method} {path}: {status} {body}"),
            Err(e) => panic!("proxy {method} {path}: {e}\n{}", tail(&self.log, 4000)),
        }
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
        Err(_) => panic!(
            "the moto proxy did not start within {START_TIMEOUT:?}; its log:\n{}",
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
// A tiny HTTP/1.1 client, for the proxy's control endpoints.

fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let timeout = Duration::from_secs(30);
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    let body = body.unwrap_or("");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n");
    if !body.is_empty() || method == "POST" {
        request.push_str("Content-Type: application/json\r\n");
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP response: {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
    });
    let body = match length {
        Some(n) if n <= rest.len() => rest[..n].to_string(),
        _ => rest.to_string(),
    };
    Ok((status, body))
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// --------------------------------------------------------------------------
// A small JSON reader, for the proxy's answers and the seed summary (no
// serde_json among the dependencies).

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let value = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing characters at byte {}", p.i));
        }
        Ok(value)
    }

    /// The member `key` of an object (panics if absent or not an object).
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(map) => map
                .get(key)
                .unwrap_or_else(|| panic!("no {key:?} in {self:?}")),
            _ => panic!("not a JSON object (looking for {key:?}): {self:?}"),
        }
    }

    /// The member `key` of an object, mutable (panics if absent or not an object).
    pub fn get_mut(&mut self, key: &str) -> &mut Json {
        match self {
            Json::Object(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                map.get_mut(key)
                    .unwrap_or_else(|| panic!("no {key:?} among {keys:?}"))
            }
            other => panic!("not a JSON object (looking for {key:?}): {other:?}"),
        }
    }

    /// The member `key` of an object, if it is an object and has one.
    pub fn field(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// Removes and returns the member `key` of an object (panics if not an object).
    pub fn remove(&mut self, key: &str) -> Option<Json> {
        match self {
            Json::Object(map) => map.remove(key),
            other => panic!("not a JSON object (removing {key:?}): {other:?}"),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Json>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) if *n >= 0.0 && n.fract() == 0.0 => Some(*n as u64),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// An array of strings (panics otherwise): `seeded.get("services").strings()`.
    pub fn strings(&self) -> Vec<String> {
        self.as_array()
            .unwrap_or_else(|| panic!("not a JSON array: {self:?}"))
            .iter()
            .map(|v| {
                v.as_str()
                    .unwrap_or_else(|| panic!("not a string: {v:?}"))
                    .to_string()
            })
            .collect()
    }

    /// A non-negative integer (panics otherwise): `seeded.get("tasks").u64()`.
    pub fn u64(&self) -> u64 {
        self.as_u64()
            .unwrap_or_else(|| panic!("not a non-negative integer: {self:?}"))
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.i))
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            None => self.err("unexpected end"),
            Some(b'{') => {
                self.i += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.eat("}") {
                    return Ok(Json::Object(map));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return self.err("expected ':'");
                    }
                    let value = self.value()?;
                    map.insert(key, value);
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("}") {
                        return Ok(Json::Object(map));
                    }
                    return self.err("expected ',' or '}'");
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("]") {
                        return Ok(Json::Array(items));
                    }
                    return self.err("expected ',' or ']'");
                }
            }
            Some(b'"') => self.string().map(Json::String),
            Some(_) if self.eat("true") => Ok(Json::Bool(true)),
            Some(_) if self.eat("false") => Ok(Json::Bool(false)),
            Some(_) if self.eat("null") => Ok(Json::Null),
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                std::str::from_utf8(&self.s[start..self.i])
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .map(Json::Number)
                    .map_or_else(|| self.err("expected a value"), Ok)
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return self.err("expected a string");
        }
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return self.err("unterminated string");
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) && self.eat("\\u") {
                                let low = self.hex4()?;
                                code = 0x10000
                                    + ((code - 0xD800) << 10)
                                    + (low.wrapping_sub(0xDC00) & 0x3FF);
                            }
                            let ch = char::from_u32(code).unwrap_or('\u{FFFD}');
                            let mut buf = [0; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok());
        match digits {
            Some(n) => {
                self.i += 4;
                Ok(n)
            }
            None => self.err("bad \\u escape"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_reader_reads_the_seed_summary_shape() {
        let j = Json::parse(
            r#"{"cluster": "c", "services": ["web", "api"], "tasks": 6,
                "x": {"a": [true, false, null, -1.5e2]}, "s": "\u00e9\"\\"}"#,
        )
        .expect("valid JSON");
        assert_eq!(j.get("cluster").as_str(), Some("c"));
        assert_eq!(j.get("services").strings(), ["web", "api"]);
        assert_eq!(j.get("tasks").u64(), 6);
        assert_eq!(j.get("s").as_str(), Some("é\"\\"));
        assert!(Json::parse("{").is_err());
        assert!(Json::parse("[1,]").is_err());
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
