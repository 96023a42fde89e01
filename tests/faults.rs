//! The fault suite: the real binary in a pseudo-terminal, against moto
//! behind a proxy of each test's own (tests/moto/proxy.py) that the test
//! stops, starts again, throttles or slows down, or against a server that
//! never answers. Each test waits for what it expects with a deadline;
//! the only sleeps are the windows request rates are measured over and the
//! time a fault is kept up. These run in CI with the rest
//! (moto is required there: `tests/support/moto.rs` panics without it).
//!
//! Faults covered elsewhere: server errors, throttles and expired
//! credentials as typed errors, a hang that times out, SDK retries counted,
//! unanswered changes sent once and read back, an intent without a result
//! read back at the next start (tests/aws/); a panicking backend contained
//! (tests/app.rs); 1 000 keys, a 5 000-character paste, signals
//! (tests/trust.rs); a trace log without secrets, a credential_process
//! handing out expired keys (tests/e2e.rs); fuzzed configs (tests/config.rs).

mod support;

use std::time::{Duration, Instant};

use support::honban;
use support::moto::{DEFAULT_ACCOUNT, Moto, OwnProxy};
use support::pty::Pty;

/// From start to the first data on screen (a cold, busy CI machine).
const START: Duration = Duration::from_mins(1);
/// A key → its effect on screen.
const KEY: Duration = Duration::from_secs(3);
const EXIT: Duration = Duration::from_secs(10);

#[track_caller]
fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

#[track_caller]
fn quit_cleanly(pty: &mut Pty) {
    pty.send_str("q");
    let code = ok(pty.wait_exit(EXIT));
    assert_eq!(code, 0, "honban exited with {code}\n{}", pty.dump());
    ok(pty.check_restored());
}

/// The environment variables of a console against moto with static keys.
const KEYS: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// A config of one environment `name` on `endpoint`, cluster `cluster`,
/// every panel polled every `secs` seconds.
fn config(dir: &std::path::Path, name: &str, endpoint: &str, cluster: &str, secs: u64) -> String {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[refresh]
services_secs = {secs}
tasks_secs = {secs}
databases_secs = {secs}
alarms_secs = {secs}
metrics_secs = 60

[[environment]]
name = "{name}"
region = "ap-northeast-1"
endpoint_url = "{endpoint}"
alarm_prefixes = ["{cluster}-"]
rds_instances = ["{cluster}-db"]
[[environment.clusters]]
name = "{cluster}"
"#
        ),
    )
    .expect("write the config");
    path.to_string_lossy().to_string()
}

/// `?` opens the help and `esc` closes it, each on screen within [`KEY`]:
/// the console answers keys.
#[track_caller]
fn answers_keys(pty: &mut Pty) {
    let started = Instant::now();
    pty.send_str("?");
    ok(pty.wait_for_all(&["Help", "Refresh"], KEY));
    pty.key_esc();
    ok(pty.wait_until("the help to close", KEY, |s| !s.contains("Refresh")));
    assert!(started.elapsed() < KEY * 2);
}

/// Waits until `f` holds for the proxy's counts, or panics after `timeout`.
#[track_caller]
fn wait_counts(
    proxy: &OwnProxy,
    what: &str,
    timeout: Duration,
    f: impl Fn(&std::collections::BTreeMap<String, u64>) -> bool,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let counts = proxy.counts(DEFAULT_ACCOUNT);
        if f(&counts) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited {timeout:?} for {what}: {counts:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The server goes away mid-session and comes back: the console keeps
/// running with the data it had, marked stale with the cause, answers keys
/// throughout, is whole again within one interval of the server's return,
/// and sends no burst after it (no more requests than in the same time
/// before the outage).
#[test]
fn a_server_that_goes_away_and_comes_back() {
    let moto = Moto::shared();
    moto.seed(DEFAULT_ACCOUNT, &["--name", "fault-outage", "--minimal"]);
    let mut proxy = moto.own_proxy(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    const INTERVAL: u64 = 2;
    let cfg = config(
        dir.path(),
        "prod",
        &proxy.endpoint,
        "fault-outage",
        INTERVAL,
    );
    let mut pty = Pty::spawn(honban(), &["--config", &cfg], 120, 32, KEYS);
    ok(pty.wait_for_all(&[DEFAULT_ACCOUNT, "web", "updated"], START));

    // The steady rate: requests in a window of the polls' rhythm.
    const WINDOW: Duration = Duration::from_secs(6);
    let before = proxy.total(DEFAULT_ACCOUNT);
    std::thread::sleep(WINDOW);
    let steady = proxy.total(DEFAULT_ACCOUNT) - before;
    assert!(steady > 0, "the console polls");

    proxy.stop();
    ok(pty.wait_for_all(&["stale data", "unavailable", "refused"], START));
    assert!(pty.screen_text().contains("web"), "the data it had is kept");
    // Keys are answered while the server is away.
    answers_keys(&mut pty);
    // Deliberately lets the outage last (nothing to wait for): still answering.
    std::thread::sleep(Duration::from_secs(3));
    answers_keys(&mut pty);
    assert!(pty.is_running());

    let back = Instant::now();
    proxy.start();
    ok(pty.wait_until(
        "the stale mark and the error to go",
        Duration::from_secs(INTERVAL) + Duration::from_secs(8),
        |s| !s.contains("stale data") && !s.contains("refused") && s.contains("updated"),
    ));
    let recovered = back.elapsed();
    // Within one interval of the server's return (and the time it takes a
    // busy machine to answer the first reads).
    assert!(
        recovered <= Duration::from_secs(INTERVAL + 5),
        "recovered {recovered:?} after the server came back"
    );
    // No burst: the requests since the return, at most what the same time
    // took before the outage (plus one poll of each panel).
    let since_back = back.elapsed().max(WINDOW);
    // Deliberately lets a whole window pass since the return: the count over it.
    std::thread::sleep(since_back.saturating_sub(back.elapsed()));
    let after = proxy.total(DEFAULT_ACCOUNT);
    let allowed = steady * since_back.as_secs().div_ceil(WINDOW.as_secs()) + 8;
    assert!(
        after <= allowed,
        "{after} requests in {since_back:?} after the return, {steady} in {WINDOW:?} before: {:?}",
        proxy.counts(DEFAULT_ACCOUNT)
    );
    answers_keys(&mut pty);
    quit_cleanly(&mut pty);
}

/// How long the throttling test throttles (`HONBAN_FAULT_THROTTLE_SECS`;
/// the issue's minute shortened, the behaviour is the same).
fn throttle_for() -> Duration {
    Duration::from_secs(
        std::env::var("HONBAN_FAULT_THROTTLE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(12),
    )
}

/// Every request throttled for a while: no crash, keys answered, the
/// backoff visible in the diagnostics view (throttles counted, the allowed
/// rate below the published one, the panels' retry timers), far fewer
/// requests than the pollers would send, and normal again afterwards.
#[test]
fn throttling_for_a_while_backs_off_visibly_and_recovers() {
    let moto = Moto::shared();
    moto.seed(DEFAULT_ACCOUNT, &["--name", "fault-throttle", "--minimal"]);
    let proxy = moto.own_proxy(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    const INTERVAL: u64 = 1;
    let cfg = config(
        dir.path(),
        "prod",
        &proxy.endpoint,
        "fault-throttle",
        INTERVAL,
    );
    let mut pty = Pty::spawn(honban(), &["--config", &cfg], 140, 40, KEYS);
    ok(pty.wait_for_all(&[DEFAULT_ACCOUNT, "web", "updated"], START));
    // The diagnostics view: requests and panels.
    pty.type_str(":diag");
    pty.key_enter();
    ok(pty.wait_for_all(&["Requests of prod", "ecs:ListServices", "RATE"], KEY));

    // The steady rate, every panel polled every second.
    const WINDOW: Duration = Duration::from_secs(4);
    let before = proxy.total(DEFAULT_ACCOUNT);
    std::thread::sleep(WINDOW);
    let steady = (proxy.total(DEFAULT_ACCOUNT) - before) as f64 / WINDOW.as_secs_f64();

    let throttled_at = proxy.total(DEFAULT_ACCOUNT);
    proxy.inject_fault(DEFAULT_ACCOUNT, "*", "throttle", 0);
    let started = Instant::now();
    ok(pty.wait_for("ThrottlingException: Rate exceeded", START));
    // Throttles counted, and the rate of ListServices lowered from 20/s.
    ok(pty.wait_until("the ECS rate lowered", START, |s| {
        s.lines()
            .find(|l| l.trim_start_matches('│').starts_with("ecs:ListServices"))
            .is_some_and(|l| !l.contains("20.0/s") && l.contains("/s"))
    }));
    // The services panel: failures in a row and the time to its next try.
    ok(
        pty.wait_until("the services panel backing off", START, |s| {
            s.lines().any(|l| {
                let words: Vec<&str> = l.trim_matches('│').split_whitespace().collect();
                let before: Vec<&str> = words
                    .iter()
                    .take_while(|w| !w.starts_with("throttled"))
                    .copied()
                    .collect();
                words.first() == Some(&"services")
                    && words.len() > before.len()
                    && before
                        .iter()
                        .any(|w| w.parse::<u32>().is_ok_and(|n| n >= 1))
                    && before.last().is_some_and(|w| w.ends_with('s'))
            })
        }),
    );
    while started.elapsed() < throttle_for() {
        answers_keys(&mut pty);
        assert!(pty.is_running());
        std::thread::sleep(Duration::from_millis(500));
    }
    // Backing off, throttled requests (the SDK's retries of them included)
    // stay within the steady rate, beyond the first answer of each panel
    // (nine panels, three attempts each): no retry storm. Without backoff
    // every poll would be three attempts.
    let during = proxy.total(DEFAULT_ACCOUNT) - throttled_at;
    let secs = started.elapsed().as_secs_f64();
    assert!(
        (during as f64) <= steady * secs + 27.0,
        "{during} requests in {secs:.0} s of throttling, {steady:.1}/s before: {:?}",
        proxy.counts(DEFAULT_ACCOUNT)
    );

    proxy.clear_faults(DEFAULT_ACCOUNT);
    // ctrl-r refreshes the view at once, whatever the backoff (it is the
    // pollers that back off); the rest follow within their backoff.
    pty.key_esc();
    ok(pty.wait_until("the overview", KEY, |s| !s.contains("Requests of")));
    pty.ctrl('r');
    ok(
        pty.wait_until("the throttling error to go", Duration::from_mins(2), |s| {
            !s.contains("throttled") && !s.contains("stale data")
        }),
    );
    answers_keys(&mut pty);
    quit_cleanly(&mut pty);
}

/// A server that accepts connections and never answers: every call times
/// out (the header says so), the console answers keys all along.
#[test]
fn a_server_that_never_answers_times_out_and_keys_still_work() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    // Accept every connection and hold it open, reading nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "hang", &endpoint, "c", 5);
    let started = Instant::now();
    let mut pty = Pty::spawn(honban(), &["--config", &cfg], 120, 32, KEYS);
    ok(pty.wait_for("loading", START));
    // Keys while every call hangs.
    answers_keys(&mut pty);
    ok(
        pty.wait_until("the timeout said in the header", START, |s| {
            s.contains("no data") && (s.contains("timed out") || s.contains("no answer"))
        }),
    );
    // The SDK gives up after its operation timeout, well within a minute.
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "{:?}",
        started.elapsed()
    );
    answers_keys(&mut pty);
    quit_cleanly(&mut pty);
}

/// Resize storms from 1×1 to 300×100 and back: no crash, the console
/// draws the size it ends at and answers keys.
#[test]
fn a_resize_storm_from_1x1_to_300x100() {
    let mut pty = Pty::spawn(honban(), &["--demo", "--seed", "7"], 100, 30, &[]);
    ok(pty.wait_for_all(&["Overview", "web"], START));
    let sizes = [
        (1, 1),
        (300, 100),
        (2, 1),
        (1, 100),
        (300, 1),
        (59, 14),
        (60, 15),
        (80, 24),
        (300, 100),
        (1, 1),
    ];
    for _ in 0..20 {
        for (cols, rows) in sizes {
            pty.resize(cols, rows);
        }
    }
    // Every step of the way in one burst, 1×1 up to 300×100.
    for n in 1..=100u16 {
        pty.resize(n * 3, n);
    }
    pty.resize(120, 40);
    ok(pty.wait_for_all(&["Overview", "web", "PRODUCTION"], KEY * 3));
    assert!(pty.is_running());
    answers_keys(&mut pty);
    // Small again: the "too small" notice, and `q` still quits.
    pty.resize(20, 5);
    ok(pty.wait_until("a `too small` notice", KEY, |s| {
        s.to_lowercase().contains("too small")
    }));
    quit_cleanly(&mut pty);
}

/// A panic in the event loop (injected by a switch only debug builds have)
/// gives the terminal back before the report is printed.
#[test]
fn a_panic_in_the_event_loop_restores_the_terminal() {
    let mut pty = Pty::spawn(
        honban(),
        &["--demo", "--seed", "7"],
        100,
        30,
        &[("HONBAN_TEST_PANIC", "after-draw")],
    );
    let code = ok(pty.wait_exit(START));
    assert_ne!(code, 0, "a panic is a failure\n{}", pty.dump());
    ok(pty.check_restored());
    let out = pty.raw_output();
    assert!(
        out.contains("injected by HONBAN_TEST_PANIC"),
        "the report is printed\n{}",
        pty.dump()
    );
}

/// `kill -9` while a change is in flight: the audit log already holds its
/// intent (synced before the request went out), and the next start shows
/// it in the Activity view, read back from the resource.
#[test]
fn kill_9_during_an_operation_keeps_the_intent_and_the_next_start_reads_it_back() {
    let moto = Moto::shared();
    moto.seed(DEFAULT_ACCOUNT, &["--name", "fault-kill9"]);
    let proxy = moto.own_proxy(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "staging", &proxy.endpoint, "fault-kill9", 5);
    let mut pty = Pty::spawn(honban(), &["--config", &cfg], 120, 40, KEYS);
    ok(pty.wait_for_all(&[DEFAULT_ACCOUNT, "web", "updated"], START));
    // The change reaches moto at once; its answer is held a minute.
    proxy.inject_slow(DEFAULT_ACCOUNT, "ecs:UpdateService", 60.0, 1);
    pty.type_str(":svc");
    pty.key_enter();
    ok(pty.wait_for("Services (", KEY));
    // The rows are sorted by health then name: find web and select it.
    pty.send_str("/web");
    pty.key_enter();
    ok(pty.wait_for("Services (1", KEY));
    pty.send_str("s");
    ok(pty.wait_for("Scale", KEY));
    for _ in 0..4 {
        pty.key_backspace();
    }
    pty.send_str("3");
    pty.key_enter();
    ok(pty.wait_until("the confirmation", KEY, |s| {
        s.contains("UpdateService") && s.contains("y send")
    }));
    pty.send_str("y");
    let audit = pty.state_home().join("honban/audit.jsonl");
    let read = |path: &std::path::Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    let deadline = Instant::now() + START;
    loop {
        let records = read(&audit);
        if records.iter().any(|r| r["phase"] == "intent") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no intent in {}",
            audit.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_counts(&proxy, "UpdateService sent", KEY * 3, |c| {
        c.get("ecs:UpdateService") == Some(&1)
    });
    pty.kill("KILL");
    let deadline = Instant::now() + EXIT;
    while pty.is_running() {
        assert!(Instant::now() < deadline, "kill -9 did not end it");
        std::thread::sleep(Duration::from_millis(50));
    }
    let records = read(&audit);
    assert_eq!(records.len(), 1, "only the intent: {records:?}");
    assert_eq!(records[0]["operation"], "scale");
    assert_eq!(records[0]["phase"], "intent");

    // The next start, same state directory: the intent is read back.
    let state = pty.state_home().to_string_lossy().to_string();
    let mut env: Vec<(&str, &str)> = KEYS.to_vec();
    env.push(("XDG_STATE_HOME", &state));
    let mut next = Pty::spawn(honban(), &["--config", &cfg], 120, 40, &env);
    ok(next.wait_for_all(&[DEFAULT_ACCOUNT, "web"], START));
    next.send_str("6");
    ok(next.wait_until("the earlier change read back", START, |s| {
        s.contains("Activity (") && s.contains("applied") && s.contains("web")
    }));
    let records = read(&audit);
    let result = records
        .iter()
        .find(|r| r["phase"] == "result")
        .unwrap_or_else(|| panic!("no result recorded: {records:?}"));
    assert_eq!(result["read_back"]["verdict"], "applied", "{result}");
    assert_eq!(
        proxy.counts(DEFAULT_ACCOUNT).get("ecs:UpdateService"),
        Some(&1),
        "never sent again"
    );
    quit_cleanly(&mut next);
}

/// A `credential_process` that works, then fails mid-session, then works
/// again: the environment it serves says so with the fix, the other
/// environment keeps working all along, and the first recovers by itself.
#[test]
fn credentials_that_fail_mid_session_show_the_fix_and_recover() {
    let moto = Moto::shared();
    moto.seed(DEFAULT_ACCOUNT, &["--name", "fault-creds-a", "--minimal"]);
    moto.seed(DEFAULT_ACCOUNT, &["--name", "fault-creds-b", "--minimal"]);
    let proxy = moto.own_proxy(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken");
    let script = dir.path().join("creds.sh");
    // Good keys valid for 15 s (asked again 10 s before they expire), or a
    // failure while the file `broken` exists.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ -e '{broken}' ]; then echo 'the SSO session has expired' >&2; exit 1; fi\n\
             exp=$(date -u -d '+15 seconds' +%Y-%m-%dT%H:%M:%SZ)\n\
             echo \"{{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"testing\\\", \\\"SecretAccessKey\\\": \\\"testing\\\", \\\"Expiration\\\": \\\"$exp\\\"}}\"\n",
            broken = broken.display()
        ),
    )
    .expect("script");
    let aws_config = dir.path().join("aws-config");
    std::fs::write(
        &aws_config,
        format!(
            "[profile sso]\ncredential_process = /bin/sh {}\n[profile keys]\n",
            script.display()
        ),
    )
    .expect("aws config");
    let creds = dir.path().join("aws-credentials");
    std::fs::write(
        &creds,
        "[keys]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .expect("credentials");
    let cfg = dir.path().join("config.toml");
    let env = |name: &str, profile: &str, cluster: &str| {
        format!(
            "[[environment]]\nname = \"{name}\"\nprofile = \"{profile}\"\nregion = \"ap-northeast-1\"\n\
             endpoint_url = \"{}\"\nalarm_prefixes = [\"{cluster}-\"]\nrds_instances = [\"{cluster}-db\"]\n\
             [[environment.clusters]]\nname = \"{cluster}\"\n",
            proxy.endpoint
        )
    };
    std::fs::write(
        &cfg,
        format!(
            "[refresh]\nservices_secs = 2\ntasks_secs = 2\ndatabases_secs = 2\nalarms_secs = 2\n\n{}\n{}",
            env("a", "sso", "fault-creds-a"),
            env("b", "keys", "fault-creds-b")
        ),
    )
    .expect("config");
    let mut pty = Pty::spawn(
        honban(),
        &["--config", &cfg.to_string_lossy()],
        220,
        40,
        &[
            ("AWS_CONFIG_FILE", &aws_config.to_string_lossy()),
            ("AWS_SHARED_CREDENTIALS_FILE", &creds.to_string_lossy()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    // The fleet view: both environments.
    ok(pty.wait_for_all(&[DEFAULT_ACCOUNT, "web"], START));
    pty.send_str("0");
    ok(pty.wait_until("both environments loaded", START, |s| {
        s.contains("Fleet (2") && !s.contains("loading") && s.matches(" ago").count() >= 2
    }));

    std::fs::write(&broken, "").expect("break the credentials");
    pty.send_str("1");
    ok(
        pty.wait_until("the banner with the fix", Duration::from_mins(1), |s| {
            s.contains("unauthorized") && s.contains("aws sso login --profile sso")
        }),
    );
    // The other environment keeps working: its reads still reach the server.
    let b_before = proxy.counts(DEFAULT_ACCOUNT);
    answers_keys(&mut pty);
    pty.key_tab();
    ok(pty.wait_until("environment b, fresh", KEY * 2, |s| {
        !s.contains("unauthorized") && s.contains("updated") && s.contains("web")
    }));
    wait_counts(&proxy, "b's polls go on", Duration::from_secs(10), |c| {
        c.get("ecs:ListServices").copied().unwrap_or(0)
            > b_before.get("ecs:ListServices").copied().unwrap_or(0) + 2
    });
    pty.key_tab();

    std::fs::remove_file(&broken).expect("fix the credentials");
    // A failed source is asked again after 20 s, the panels after their
    // backoff; the first answer releases the rest.
    ok(
        pty.wait_until("the banner to go", Duration::from_secs(100), |s| {
            !s.contains("unauthorized") && s.contains("updated")
        }),
    );
    quit_cleanly(&mut pty);
}
