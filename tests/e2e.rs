//! End-to-end tests: the real `honban` binary in a pseudo-terminal, driven
//! by keystrokes, its screen read back through a terminal emulator.
//!
//! Everything runs against the built-in simulated environment (`--demo`)
//! in a sandboxed `HOME`, so no AWS account and no user config is involved.

mod support;

use std::time::Duration;

use support::pty::Pty;
use support::{honban, run};

/// Start-up, including the first frame. Generous: CI is a 2-core machine
/// running other test binaries at the same time.
const START: Duration = Duration::from_secs(20);
/// One keystroke's effect on the screen.
const STEP: Duration = Duration::from_secs(10);
/// From `q` to the process being gone.
const EXIT: Duration = Duration::from_secs(5);

/// The services of the simulated environment, as the services table lists
/// them.
const SERVICES: &[&str] = &["web", "api", "worker"];

fn start_demo(cols: u16, rows: u16) -> Pty {
    Pty::spawn(honban(), &["--demo", "--seed", "7"], cols, rows, &[])
}

/// Panics with the message (which carries the screen) on `Err`.
#[track_caller]
fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// Presses `q` and checks the program exits with 0 and restores the
/// terminal.
#[track_caller]
fn quit_cleanly(pty: &mut Pty) {
    pty.send_str("q");
    let code = ok(pty.wait_exit(EXIT));
    assert_eq!(code, 0, "honban exited with {code}\n{}", pty.dump());
    ok(pty.check_restored());
}

/// The simulated service listed first on `screen` (top to bottom, then
/// left to right): in the services table, the selected row.
fn first_service_listed(screen: &str) -> Option<&'static str> {
    screen.lines().find_map(|line| {
        line.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .find_map(|word| SERVICES.iter().copied().find(|name| *name == word))
    })
}

#[test]
fn walkthrough_overview_services_detail_help_quit() {
    let mut pty = start_demo(100, 30);

    // 1. The overview of the production environment.
    ok(pty.wait_for_all(&["Overview", "production", "PRODUCTION", "web"], START));

    // 2. `:svc` opens the services table. The overview has a services panel
    //    too, so also require that its other panels (databases) are gone.
    pty.type_str(":svc");
    pty.key_enter();
    ok(pty.wait_until(
        "the services table (`Services`, every service, no `Databases` panel)",
        STEP,
        |s| {
            s.contains("Services")
                && SERVICES.iter().all(|name| s.contains(name))
                && !s.contains("Databases")
        },
    ));
    let selected = first_service_listed(&pty.screen_text())
        .unwrap_or_else(|| panic!("no service row found\n{}", pty.dump()));

    // 3. Enter drills into the selected (first) service.
    pty.key_enter();
    let title = format!("Service {selected}");
    ok(pty.wait_for_all(&[&title, "Deployments"], STEP));

    // 4. `?` shows the key bindings; Esc closes them again.
    pty.send_str("?");
    ok(pty.wait_for_all(&["Help", "Refresh"], STEP));
    pty.key_esc();
    ok(pty.wait_until("the help overlay to close", STEP, |s| {
        !s.contains("Refresh") && s.contains(&title) && s.contains("Deployments")
    }));

    // 5. `q` quits with 0 and gives the terminal back.
    quit_cleanly(&mut pty);
}

#[test]
fn overview_fits_a_standard_80x24_terminal() {
    let mut pty = start_demo(80, 24);
    ok(pty.wait_for_all(&["Overview", "PRODUCTION", "web"], START));
    quit_cleanly(&mut pty);
}

#[test]
fn too_small_terminal_says_so_and_still_quits() {
    let mut pty = start_demo(30, 8);
    ok(pty.wait_until("a `too small` notice", START, |s| {
        s.to_lowercase().contains("too small")
    }));
    quit_cleanly(&mut pty);
}

#[test]
fn bad_config_exits_78_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("broken-config.toml");
    std::fs::write(&path, "theme = \"default\"\n[envs\nname = 1\n").expect("write the config");
    let path_str = path.to_str().expect("utf-8 temp path");

    let out = run(honban(), &["--config", path_str], &[], STEP);
    assert_eq!(
        out.code,
        Some(78),
        "expected exit code 78 (EX_CONFIG)\n{out}"
    );
    let text = out.all();
    assert!(
        text.contains("broken-config.toml"),
        "the message should name the file\n{out}"
    );
    // The broken line is line 2: `file:2:col`, or spelled out.
    let lower = text.to_lowercase();
    assert!(
        text.contains("broken-config.toml:2") || lower.contains("line 2"),
        "the message should say which line (2)\n{out}"
    );
}

#[test]
fn without_a_terminal_it_says_so_and_does_not_panic() {
    let out = support::run_detached(honban(), &["--demo"], &[], STEP);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains("cannot open the terminal")
            && out.stderr.contains("run it in a terminal"),
        "{out}"
    );
    assert!(!out.stderr.contains("panicked"), "{out}");
}

#[test]
fn version_prints_version_and_paths() {
    let out = run(honban(), &["--version"], &[], STEP);
    assert_eq!(out.code, Some(0), "{out}");
    let first = out.stdout.lines().next().unwrap_or_default();
    assert_eq!(first, "honban 0.1.0", "{out}");
    for prefix in ["config:", "logs:"] {
        assert!(
            out.stdout.lines().any(|l| l.starts_with(prefix)),
            "no line starting with `{prefix}`\n{out}"
        );
    }
    // The paths come from the sandbox, not the real home directory.
    let home = out.home.path().to_str().expect("utf-8 temp path");
    assert!(
        out.stdout.contains(home),
        "paths should be under the sandbox {home}\n{out}"
    );
}

// ---- honban status ------------------------------------------------------

/// `honban status` never needs a terminal: every run here is in a session
/// of its own, without a controlling terminal, as under cron.
fn status(args: &[&str], env: &[(&str, &str)]) -> support::Output {
    support::run_detached(honban(), args, env, Duration::from_mins(1))
}

#[test]
fn status_on_the_demo_prints_each_format_and_exits_with_the_verdict() {
    let demo = ["--demo", "--seed", "7", "status"];
    let json_out = status(&[&demo[..], &["--output", "json"]].concat(), &[]);
    let doc: serde_json::Value = serde_json::from_str(&json_out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e})\n{json_out}"));
    support::schema::assert_valid_status(&doc);
    let code = doc["exit_code"].as_i64().expect("exit_code");
    assert_eq!(json_out.code, Some(code as i32), "{json_out}");
    assert_eq!(doc["schema"], "honban.status/v1");
    assert_eq!(doc["partial"], false, "the simulation reads completely");
    let names: Vec<&str> = doc["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "every demo environment: {names:?}");
    for name in ["production", "staging"] {
        assert!(names.contains(&name), "{name}: {names:?}");
    }
    let production = doc["environments"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["name"] == "production"))
        .expect("production");
    let kinds: Vec<&str> = production["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    for kind in ["service", "database", "alarm", "target_group", "http"] {
        assert!(kinds.contains(&kind), "a {kind} check: {kinds:?}");
    }
    // The demo's staging has an alarm without data: a WARNING.
    assert_eq!(
        (doc["overall"].as_str(), code),
        (Some("WARNING"), 1),
        "{doc:#}"
    );

    // The same verdict as text: 80 columns, the worst environment first.
    let text = status(&demo, &[]);
    assert_eq!(text.code, Some(1), "{text}");
    assert!(
        text.stdout
            .starts_with("honban WARNING — staging: 1 alarm INSUFFICIENT_DATA\n"),
        "{text}"
    );
    for line in text.stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
    let first_env = text
        .stdout
        .lines()
        .find(|l| l.starts_with("WARNING ") || l.starts_with("OK "))
        .unwrap_or_default();
    assert!(first_env.contains("staging"), "{text}");

    // And as a monitoring-plugin line with performance data.
    let nagios = status(
        &[&demo[..], &["--output", "nagios", "--env", "production"]].concat(),
        &[],
    );
    assert_eq!(nagios.code, Some(0), "{nagios}");
    let line = nagios.stdout.lines().next().unwrap_or_default();
    assert!(
        line.starts_with("HONBAN OK - production: 3 services"),
        "{nagios}"
    );
    assert!(line.contains(" | services_ok=3;;;0;3 "), "{nagios}");
    assert!(line.contains(" http_ok=2;;;0;2 "), "{nagios}");

    // Nothing but the output: no terminal control, nothing on stderr.
    for out in [&json_out, &text, &nagios] {
        assert!(out.stderr.is_empty(), "{out}");
        assert!(!out.stdout.contains('\x1b'), "{out}");
    }
}

#[test]
fn status_usage_mistakes_exit_64_and_config_mistakes_78() {
    for args in [
        &["status", "--bogus"][..],
        &["--demo", "status", "--output", "xml"],
        &["--demo", "status", "--env", "production", "--all"],
        &["--demo", "status", "--timeout", "0"],
        &["--demo", "status", "--env", "nowhere"],
        &["--no-such-flag"],
        &["stauts"],
    ] {
        let out = status(args, &[]);
        assert_eq!(out.code, Some(64), "{args:?}\n{out}");
        assert!(out.stdout.is_empty(), "{args:?}\n{out}");
        assert!(!out.stderr.is_empty(), "{args:?} says why\n{out}");
    }
    let unknown = status(&["--demo", "status", "--env", "nowhere"], &[]);
    assert!(
        unknown.stderr.contains("unknown environment \"nowhere\""),
        "{unknown}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "[[environment]]\nname = \"p\"\nregoin = \"x\"\n").expect("write");
    let path = path.to_str().expect("utf-8 temp path");
    let out = status(&["--config", path, "status"], &[]);
    assert_eq!(out.code, Some(78), "{out}");
    assert!(out.stderr.contains("broken.toml:3"), "{out}");
    // No config file at all (and no --demo): a configuration mistake too.
    let out = status(&["status"], &[]);
    assert_eq!(out.code, Some(78), "{out}");
    assert!(out.stderr.contains("no config file"), "{out}");
}

/// The hidden `--sim-speed` speeds up a simulated world only: without one
/// (no `--demo`, a replay, a drill's list), or out of 1..=100, it is a
/// usage mistake (64) that says why; with `status --demo` it is accepted.
#[test]
fn sim_speed_is_for_the_simulation_only() {
    for args in [
        &["--sim-speed", "10"][..],
        &["--sim-speed", "10", "status"],
        &["--demo", "--sim-speed", "10", "replay"],
        &["--demo", "--sim-speed", "10", "timeline", "export"],
        &["--sim-speed", "10", "drill"],
        &["--demo", "--sim-speed", "0"],
        &["--demo", "--sim-speed", "101"],
        &["--demo", "--sim-speed", "fast"],
    ] {
        let out = status(args, &[]);
        assert_eq!(out.code, Some(64), "{args:?}\n{out}");
        assert!(out.stdout.is_empty(), "{args:?}\n{out}");
        assert!(out.stderr.contains("sim-speed"), "{args:?} says why\n{out}");
    }
    let out = status(&["--demo", "--sim-speed", "100", "status"], &[]);
    assert!(matches!(out.code, Some(0..=3)), "{out}");
    assert!(out.stdout.contains("production"), "{out}");
    let help = status(&["--help"], &[]);
    assert!(!help.stdout.contains("sim-speed"), "hidden\n{help}");
}

/// Neither reachable nor with credentials: UNKNOWN (3), never an empty OK,
/// with what failed in the JSON.
#[test]
fn status_that_cannot_read_is_unknown_with_the_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[[environment]]\nname = \"production\"\nregion = \"ap-northeast-1\"\n\
         endpoint_url = \"http://127.0.0.1:9\"\n\
         [[environment.clusters]]\nname = \"prod\"\n",
    )
    .expect("write the config");
    let path = path.to_str().expect("utf-8 temp path");
    let args = [
        "--config",
        path,
        "status",
        "--output",
        "json",
        "--timeout",
        "40",
    ];
    // No credentials anywhere in the sandbox (and no instance role).
    let no_credentials = status(&args, &[("AWS_EC2_METADATA_DISABLED", "true")]);
    // Credentials, but nothing listens at the endpoint.
    let unreachable = status(
        &args,
        &[
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
    );
    for (out, kind) in [
        (&no_credentials, "unauthorized"),
        (&unreachable, "unavailable"),
    ] {
        assert_eq!(out.code, Some(3), "{out}");
        let doc: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e})\n{out}"));
        support::schema::assert_valid_status(&doc);
        assert_eq!(doc["overall"], "UNKNOWN");
        assert_eq!(doc["partial"], true);
        let env = &doc["environments"][0];
        let errors = env["errors"].as_array().expect("errors");
        let resources: Vec<&str> = errors
            .iter()
            .filter_map(|e| e["resource"].as_str())
            .collect();
        assert_eq!(
            resources,
            ["identity", "services", "databases", "alarms"],
            "{doc:#}"
        );
        assert!(errors.iter().all(|e| e["kind"] == kind), "{doc:#}");
        assert_eq!(env["checks"].as_array().map(Vec::len), Some(0));
    }
    assert!(
        no_credentials
            .stdout
            .contains("aws sts get-caller-identity"),
        "says how to check the credentials\n{no_credentials}"
    );
}

/// The real binary against a seeded moto: OK (0), then CRITICAL (2) once an
/// alarm is in ALARM, in the nagios format a monitoring system reads.
#[test]
fn status_of_a_seeded_aws_environment_ok_then_critical() {
    use support::moto::{DEFAULT_ACCOUNT, Moto};
    let moto = Moto::shared();
    let name = "e2e-status";
    let seeded = moto.seed(DEFAULT_ACCOUNT, &["--name", name]);
    // moto starts no service task; UpdateService makes running = desired.
    for service in &seeded.services {
        moto.aws(
            DEFAULT_ACCOUNT,
            "ecs",
            "update_service",
            &format!(r#"{{"cluster": "{name}", "service": "{service}", "desiredCount": 2}}"#),
        );
    }
    let set_alarm = |alarm: &str, state: &str| {
        moto.aws(
            DEFAULT_ACCOUNT,
            "cloudwatch",
            "set_alarm_state",
            &format!(
                r#"{{"AlarmName": "{alarm}", "StateValue": "{state}", "StateReason": "e2e"}}"#
            ),
        );
    };
    for alarm in seeded.alarms_in_alarm.clone() {
        set_alarm(&alarm, "OK");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[environment]]
name = "production"
region = "ap-northeast-1"
endpoint_url = "{endpoint}"
alarm_prefixes = ["{name}-"]
rds_instances = ["{name}-db", "{name}-db-replica"]
[[environment.clusters]]
name = "{name}"
"#,
            endpoint = moto.endpoint
        ),
    )
    .expect("write the config");
    let path = path.to_str().expect("utf-8 temp path");
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let args = ["--config", path, "status", "--output", "nagios"];
    let out = status(&args, &env);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout
            .starts_with("HONBAN OK - production: 3 services, 2 databases, "),
        "{out}"
    );
    // moto's rollouts stay IN_PROGRESS: deploying, which is not a fault.
    assert!(out.stdout.contains(" services_failing=0;;;0;3 "), "{out}");
    assert!(out.stdout.contains(" services_deploying=3;;;0;3 "), "{out}");
    assert!(
        out.stdout.contains(" databases_available=2;;;0;2 "),
        "{out}"
    );

    set_alarm(&format!("{name}-api-5xx"), "ALARM");
    let out = status(&args, &env);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stdout
            .starts_with("HONBAN CRITICAL - production: 1 alarm in ALARM"),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "\nproduction: CRITICAL alarm {name}-api-5xx: ALARM"
        )),
        "the alarm on a line of its own\n{out}"
    );
    assert!(out.stdout.contains(" alarms_alarm=1;;;0;"), "{out}");
}

/// The shipped example is a valid document of the shipped schema, and the
/// schema's checker catches what is missing or wrong.
#[test]
fn the_status_example_follows_the_schema() {
    let example = support::schema::shipped("status.example.json");
    support::schema::assert_valid_status(&example);
    let schema = support::schema::shipped("status.schema.json");
    let mut broken = example.clone();
    if let Some(o) = broken.as_object_mut() {
        o.remove("overall");
        o.insert("exit_code".into(), serde_json::json!(5));
    }
    broken["environments"][0]["checks"][0]["state"] = serde_json::json!("BAD");
    let v = support::schema::violations(&schema, &broken);
    assert!(
        v.iter().any(|x| x.contains("`overall` is required")),
        "{v:?}"
    );
    assert!(v.iter().any(|x| x.starts_with("$.exit_code")), "{v:?}");
    assert!(
        v.iter()
            .any(|x| x.starts_with("$.environments[0].checks[0].state")),
        "{v:?}"
    );
}

/// The restoration check must be able to fail: a program that leaves the
/// alternate screen on and the cursor hidden is caught.
#[cfg(unix)]
#[test]
fn harness_catches_an_unrestored_terminal() {
    let script =
        r"printf 'ready\033[?1049h\033[?25lon the alternate screen'; stty raw -echo; sleep 0.2";
    let mut pty = Pty::spawn(std::path::Path::new("/bin/sh"), &["-c", script], 40, 5, &[]);
    ok(pty.wait_for("on the alternate screen", START));
    assert_eq!(ok(pty.wait_exit(EXIT)), 0);
    let err = pty
        .check_restored()
        .expect_err("an unrestored terminal passed the check");
    assert!(err.contains("alternate screen"), "{err}");
    assert!(err.contains("cursor"), "{err}");
    if cfg!(target_os = "linux") {
        assert!(err.contains("raw mode"), "{err}");
    }
}

/// The real binary against a seeded moto (through the AWS-faithful proxy),
/// with two environments configured: every view shows what was seeded and
/// the fleet view shows both environments at once.
#[test]
fn the_real_binary_shows_a_seeded_aws_environment_and_the_fleet() {
    use support::moto::{DEFAULT_ACCOUNT, Moto};
    let moto = Moto::shared();
    // honban sends no account header: both environments live in moto's
    // default account, under different names.
    let prod = moto.seed(DEFAULT_ACCOUNT, &["--name", "e2e-prod"]);
    moto.seed(DEFAULT_ACCOUNT, &["--name", "e2e-stg", "--minimal"]);
    let config = tempfile::NamedTempFile::new().expect("temp file");
    let text = format!(
        r#"
[[environment]]
name = "production"
source = "aws"
region = "ap-northeast-1"
endpoint_url = "{endpoint}"
protected = true
alarm_prefixes = ["e2e-prod-"]
rds_instances = ["e2e-prod-db", "e2e-prod-db-replica"]
[[environment.clusters]]
name = "e2e-prod"

[[environment]]
name = "staging"
source = "aws"
region = "ap-northeast-1"
endpoint_url = "{endpoint}"
alarm_prefixes = ["e2e-stg-"]
[[environment.clusters]]
name = "e2e-stg"
"#,
        endpoint = moto.endpoint
    );
    std::fs::write(config.path(), text).expect("write config");
    let path = config.path().to_string_lossy().to_string();
    let mut pty = Pty::spawn(
        honban(),
        &["--config", &path],
        120,
        40,
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    // Overview: account, services, databases, the alarm in ALARM.
    let firing = prod.alarms_in_alarm.clone();
    let mut wanted: Vec<&str> = vec![
        DEFAULT_ACCOUNT,
        "PRODUCTION",
        "web",
        "api",
        "worker",
        "e2e-prod-db-replica",
        "ALARM",
    ];
    wanted.extend(firing.iter().map(String::as_str));
    ok(pty.wait_for_all(&wanted, START));

    // Tasks: six seeded service tasks, listed with their services.
    pty.type_str(":tasks");
    pty.key_enter();
    ok(pty.wait_for(&format!("Tasks ({})", prod.tasks), STEP));

    // Databases with the snapshots of the primary.
    pty.type_str(":db");
    pty.key_enter();
    ok(pty.wait_for_all(&["Databases (2)", "replica", "Snapshots"], STEP));

    // Alarms, all of them, ALARM first.
    pty.type_str(":alarms");
    pty.key_enter();
    ok(pty.wait_for(&format!("Alarms ({})", prod.alarms), STEP));

    // The fleet: both environments side by side, both loaded.
    pty.send_str("0");
    ok(pty.wait_for_all(&["Fleet (2 environments)", "production", "staging"], STEP));
    ok(pty.wait_until("both environments loaded", STEP, |screen| {
        !screen.contains("loading") && screen.matches(" ago").count() >= 2
    }));
    quit_cleanly(&mut pty);
}

// ---- operations ---------------------------------------------------------
//
// The simulation rolls deployments out task by task: a good image reaches
// 2/2 in production in about 75 simulated seconds (1/1 in staging in about
// 40), a "bad" tag fails to pull in about 15 per task. Production services
// have the circuit breaker with rollback; staging `api` has none, so a bad
// deploy there keeps failing until the operator rolls it back. The tests
// that wait for a rollout run the simulation ten times as fast (the hidden
// `--sim-speed`): a rollout takes seconds, and each wait is for the screen
// to show its end, never a fixed time.

/// How much faster than the wall clock the simulation runs in the tests
/// that wait for rollouts (fast enough for seconds, slow enough that a
/// rollout is still under way when the test presses `q` during it).
const SIM_SPEED: &str = "10";

/// From confirming a deployment to the bar saying how it ended (a few
/// seconds at [`SIM_SPEED`]; the bound is for a busy machine).
const ROLLOUT: Duration = Duration::from_mins(1);

fn start_demo_with(args: &[&str], cols: u16, rows: u16) -> Pty {
    let mut all = vec!["--demo", "--seed", "7"];
    all.extend_from_slice(args);
    Pty::spawn(honban(), &all, cols, rows, &[])
}

/// The demo with its simulation at [`SIM_SPEED`].
fn start_fast_demo(args: &[&str], cols: u16, rows: u16) -> Pty {
    let mut all = vec!["--sim-speed", SIM_SPEED];
    all.extend_from_slice(args);
    start_demo_with(&all, cols, rows)
}

/// The one-line operations bar just above the footer (empty if hidden).
fn ops_bar(screen: &str) -> &str {
    screen.lines().rev().nth(1).unwrap_or_default()
}

/// The footer line: the flash message or the key hints.
fn footer(screen: &str) -> &str {
    screen.lines().last().unwrap_or_default()
}

/// `:svc`, then Enter on the first row, which must be `service`; waits for
/// the detail to show `ready` (e.g. the image: the task definition loaded,
/// which an image deploy needs).
#[track_caller]
fn open_service(pty: &mut Pty, service: &str, ready: &[&str]) {
    pty.type_str(":svc");
    pty.key_enter();
    ok(pty.wait_until("the services table", STEP, |s| {
        s.contains("Services") && s.contains(service) && !s.contains("Databases")
    }));
    let first = first_service_listed(&pty.screen_text());
    assert_eq!(first, Some(service), "first service row\n{}", pty.dump());
    pty.key_enter();
    let title = format!("Service {service}");
    let mut wanted = vec![title.as_str(), "Deployments"];
    wanted.extend_from_slice(ready);
    ok(pty.wait_for_all(&wanted, START));
}

/// The records of the audit log in the program's state directory.
#[track_caller]
fn audit_records(pty: &Pty) -> Vec<serde_json::Value> {
    let path = pty.state_home().join("honban").join("audit.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}\n{}", path.display(), pty.dump()));
    text.lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {line}"))
        })
        .collect()
}

/// The audit records once one of `operation` on `resource` says how it
/// ended (written as its watch ends, beside what the screen shows).
fn audit_records_with_final(pty: &Pty, operation: &str, resource: &str) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let records = audit_records(pty);
        if !audit_phase(&records, operation, resource, "final").is_empty()
            || std::time::Instant::now() > deadline
        {
            return records;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `phase` records of `operation` on `resource`.
fn audit_phase<'a>(
    records: &'a [serde_json::Value],
    operation: &str,
    resource: &str,
    phase: &str,
) -> Vec<&'a serde_json::Value> {
    records
        .iter()
        .filter(|r| r["operation"] == operation && r["resource"] == resource && r["phase"] == phase)
        .collect()
}

/// A deploy of a good image in protected production, `production/api` typed
/// and all, followed by the bar to "completed" (`q` meanwhile asks once
/// more instead of quitting); the service then runs the new revision, the
/// Activity view lists it, and the audit log holds its intent, its result
/// and how it ended, each marked simulated.
#[test]
fn deploy_in_production_is_watched_to_completion_and_audited() {
    let mut pty = start_fast_demo(&[], 100, 30);
    ok(pty.wait_for_all(&["Overview", "PRODUCTION", "api"], START));
    open_service(
        &mut pty,
        "api",
        &[
            "works-logue-prod-api:27",
            "image api works-logue/api:2026.11.20-3f8a6d5",
        ],
    );

    pty.send_str("i");
    ok(pty.wait_for_all(&["Deploy a new image to api", "tag or image:"], STEP));
    pty.type_str("v2");
    pty.key_enter();
    ok(pty.wait_for_all(
        &[
            "works-logue/api:v2",
            "type production/api to confirm",
            "then enter send",
        ],
        STEP,
    ));
    pty.type_str("production/api");
    pty.key_enter();

    // Under way: the bar follows the new revision task by task…
    ok(pty.wait_until("the bar to show the rollout", STEP, |s| {
        let bar = ops_bar(s);
        bar.contains("deploy-image api") && bar.contains("works-logue-prod-api:28")
    }));
    // …and q does not leave it unseen: it asks once more.
    pty.send_str("q");
    ok(pty.wait_until("q to ask again", STEP, |s| {
        footer(s).contains("a change is being followed")
    }));
    assert!(pty.is_running(), "one q did not quit\n{}", pty.dump());
    // …to its end.
    ok(
        pty.wait_until("the bar to say the deploy completed", ROLLOUT, |s| {
            let bar = ops_bar(s);
            bar.contains("deploy-image api") && bar.contains("completed")
        }),
    );
    let screen = pty.screen_text();
    assert!(
        ops_bar(&screen).contains("works-logue-prod-api:28 rolled out: 2/2 running"),
        "{}",
        pty.dump()
    );
    ok(pty.wait_for_all(
        &[
            "task def works-logue-prod-api:28",
            "image api works-logue/api:v2",
        ],
        STEP,
    ));

    pty.send_str("6");
    ok(
        pty.wait_until("the deploy completed in Activity", STEP, |s| {
            s.contains("Activity (1 this session")
                && s.lines().any(|l| {
                    l.contains("production")
                        && l.contains("deploy-image")
                        && l.contains("completed")
                })
        }),
    );

    let records = audit_records_with_final(&pty, "deploy-image", "api");
    let intents = audit_phase(&records, "deploy-image", "api", "intent");
    let results = audit_phase(&records, "deploy-image", "api", "result");
    assert_eq!(intents.len(), 1, "one intent: {records:#?}");
    assert_eq!(results.len(), 1, "one result: {records:#?}");
    let finals = audit_phase(&records, "deploy-image", "api", "final");
    assert_eq!(finals.len(), 1, "how it ended: {records:#?}");
    let (intent, result, end) = (intents[0], results[0], finals[0]);
    assert_eq!(intent["id"], result["id"], "intent and result pair up");
    assert_eq!(intent["id"], end["id"], "and the final record");
    assert!(intent["outcome"].is_null(), "{intent:#}");
    assert_eq!(result["outcome"], "success", "{result:#}");
    assert_eq!(end["ended"], "completed", "{end:#}");
    for r in [intent, result, end] {
        assert_eq!(r["environment"], "production", "{r:#}");
        assert_eq!(r["simulated"], true, "{r:#}");
        assert_eq!(r["dry_run"], false, "{r:#}");
        let after = r["after"].as_str().unwrap_or_default();
        assert!(after.ends_with("works-logue/api:v2"), "{r:#}");
    }
    let registered = result["result"]["registered"].as_str().unwrap_or_default();
    assert!(
        registered.ends_with("task-definition/works-logue-prod-api:28"),
        "{result:#}"
    );

    quit_cleanly(&mut pty);
}

/// Staging `api` has no circuit breaker: a "bad" image fails to pull again
/// and again, the screen says so, and `b` (the previous revision is
/// preselected, `y` confirms in an unprotected environment; enter only
/// says so) rolls it back; the bar follows the rollback to "completed".
#[test]
fn failed_deploy_is_shown_and_rolled_back_with_b() {
    let mut pty = start_fast_demo(&["--env", "staging"], 100, 30);
    ok(pty.wait_for_all(&["Overview", "staging", "api"], START));
    open_service(
        &mut pty,
        "api",
        &[
            "works-logue-stg-api:31",
            "image api works-logue/api:2026.11.22-c51e6f2",
            "circuit breaker off",
        ],
    );

    pty.send_str("i");
    ok(pty.wait_for("tag or image:", STEP));
    pty.type_str("bad1");
    pty.key_enter();
    ok(pty.wait_for_all(&["works-logue/api:bad1", "y send · n/esc cancel"], STEP));
    pty.send_str("y");

    // The failure: tasks of the new revision fail to pull their image.
    ok(
        pty.wait_until("the bar to count failed tasks", ROLLOUT, |s| {
            let bar = ops_bar(s);
            bar.contains("deploy-image api")
                && bar.contains("works-logue-stg-api:32")
                && bar.contains(" failed")
        }),
    );
    ok(pty.wait_for("CannotPullContainerError", STEP));
    ok(pty.wait_for("task def works-logue-stg-api:32", STEP));

    // b: the revision before the bad one is preselected.
    pty.send_str("b");
    ok(pty.wait_for_all(
        &[
            "Roll back api",
            "> works-logue-stg-api:31",
            "taskDefinition=works-logue-stg-api:31",
            "y send",
        ],
        STEP,
    ));
    pty.key_enter();
    ok(pty.wait_for("enter does not send: press y", STEP));
    pty.send_str("y");
    ok(pty.wait_until("the bar to follow the rollback", STEP, |s| {
        ops_bar(s).contains("rollback api")
    }));
    ok(
        pty.wait_until("the bar to say the rollback completed", ROLLOUT, |s| {
            let bar = ops_bar(s);
            bar.contains("rollback api") && bar.contains("completed")
        }),
    );
    assert!(
        ops_bar(&pty.screen_text()).contains("works-logue-stg-api:31 rolled out: 1/1 running"),
        "{}",
        pty.dump()
    );
    ok(pty.wait_for_all(
        &[
            "task def works-logue-stg-api:31",
            "image api works-logue/api:2026.11.22-c51e6f2",
        ],
        STEP,
    ));

    // Activity: the rollback completed; the bad deploy ended superseded by
    // it (the operator's own change, not a failure of its own).
    pty.send_str("6");
    ok(pty.wait_until("both operations in Activity", STEP, |s| {
        s.contains("Activity (2 this session")
            && s.lines()
                .any(|l| l.contains("rollback") && l.contains("completed"))
            && s.lines()
                .any(|l| l.contains("deploy-image") && l.contains("superseded"))
    }));
    pty.key_down();
    ok(pty.wait_for(
        "works-logue-stg-api:32 did not finish: a newer deployment replaced it",
        STEP,
    ));

    let records = audit_records_with_final(&pty, "rollback", "api");
    let rollback = audit_phase(&records, "rollback", "api", "result");
    assert_eq!(rollback.len(), 1, "{records:#?}");
    assert_eq!(rollback[0]["outcome"], "success", "{:#}", rollback[0]);
    let ends: Vec<(&str, &str)> = ["deploy-image", "rollback"]
        .iter()
        .flat_map(|op| audit_phase(&records, op, "api", "final"))
        .map(|r| {
            (
                r["operation"].as_str().unwrap_or_default(),
                r["ended"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        ends,
        vec![("deploy-image", "superseded"), ("rollback", "completed")],
        "{records:#?}"
    );

    quit_cleanly(&mut pty);
}

/// In protected production Enter alone does not send: the dialog stays and
/// says, in the dialog, to type `production/api`; the name alone is a wrong
/// entry and the dialog says so; Esc cancels, and nothing reached Activity
/// or the audit log.
#[test]
fn protected_confirmation_wants_the_name_typed() {
    let mut pty = start_demo(100, 30);
    ok(pty.wait_for_all(&["Overview", "PRODUCTION", "api"], START));
    open_service(&mut pty, "api", &["2 desired"]);

    pty.send_str("s");
    ok(pty.wait_for_all(&["Scale service api", "new desired count: 2"], STEP));
    pty.key_backspace();
    pty.type_str("3");
    pty.key_enter();
    let ask = "type production/api to confirm";
    ok(pty.wait_for_all(&["desired count 3", ask, "then enter send"], STEP));

    // Enter without the name.
    pty.key_enter();
    ok(pty.wait_for("type production/api (environment/name) to send", STEP));
    let screen = pty.screen_text();
    assert!(screen.contains(ask), "the dialog stays\n{}", pty.dump());
    assert!(
        !ops_bar(&screen).contains("scale api"),
        "nothing sent\n{}",
        pty.dump()
    );

    // The name alone, as before: a wrong entry, said in the dialog.
    pty.type_str("api");
    ok(pty.wait_for(&format!("{ask}: api"), STEP));
    pty.key_enter();
    ok(pty.wait_for("\"api\" is not production/api: nothing was sent", STEP));
    assert!(pty.screen_text().contains(ask), "{}", pty.dump());

    // Esc cancels.
    pty.key_esc();
    ok(pty.wait_until("the dialog to close, cancelled", STEP, |s| {
        footer(s).contains("cancelled: nothing was sent") && !s.contains(ask)
    }));
    ok(pty.wait_for("2 running / 2 desired", STEP));

    pty.send_str("6");
    ok(pty.wait_for_all(&["Activity (0 this session", "no operations yet"], STEP));
    let audit = pty.state_home().join("honban").join("audit.jsonl");
    let written = std::fs::read_to_string(&audit).unwrap_or_default();
    assert!(written.is_empty(), "nothing audited, got:\n{written}");

    quit_cleanly(&mut pty);
}

/// `--dry-run`: the operation is previewed and recorded, never sent: the
/// desired count stays and the audit records say dry-run.
#[test]
fn dry_run_records_without_changing_anything() {
    let mut pty = start_demo_with(&["--env", "staging", "--dry-run"], 100, 30);
    ok(pty.wait_for_all(&["Overview", "staging", "api"], START));
    open_service(&mut pty, "api", &["1 running / 1 desired"]);

    pty.send_str("s");
    ok(pty.wait_for_all(
        &["Scale service api", "DRY RUN", "new desired count: 1"],
        STEP,
    ));
    pty.key_backspace();
    pty.type_str("3");
    pty.key_enter();
    ok(pty.wait_for_all(&["desired count 3", "y record (dry run)"], STEP));
    pty.send_str("y");
    ok(pty.wait_until("the bar to say dry run", STEP, |s| {
        let bar = ops_bar(s);
        bar.contains("scale api") && bar.contains("dry run") && bar.contains("nothing was sent")
    }));

    // Fresh data (every panel read again: the header's age starts over)
    // still wants one task.
    pty.ctrl('r');
    ok(pty.wait_until("the data read again", STEP, |s| {
        let header = s.lines().next().unwrap_or_default();
        (header.contains("updated 0s ago") || header.contains("updated 1s ago"))
            && s.contains("1 running / 1 desired")
    }));
    assert!(!pty.screen_text().contains("/ 3 desired"), "{}", pty.dump());

    let records = audit_records(&pty);
    let intents = audit_phase(&records, "scale", "api", "intent");
    let results = audit_phase(&records, "scale", "api", "result");
    assert_eq!((intents.len(), results.len()), (1, 1), "{records:#?}");
    for r in [intents[0], results[0]] {
        assert_eq!(r["dry_run"], true, "{r:#}");
        assert_eq!(r["environment"], "staging", "{r:#}");
        assert_eq!(r["after"], "desired count 3", "{r:#}");
    }
    assert_eq!(results[0]["outcome"], "dry-run", "{:#}", results[0]);

    pty.send_str("6");
    ok(pty.wait_until("the dry run in Activity", STEP, |s| {
        s.lines()
            .any(|l| l.contains("scale") && l.contains("dry run"))
    }));
    quit_cleanly(&mut pty);
}

/// `--read-only`: an operation key says why it is unavailable, on a
/// standard 80x24 terminal, and opens no dialog.
#[test]
fn read_only_refuses_operations_without_a_dialog() {
    let mut pty = start_demo_with(&["--read-only"], 80, 24);
    ok(pty.wait_for_all(&["Overview", "PRODUCTION", "api"], START));
    pty.send_str("s");
    ok(pty.wait_until("the read-only message", STEP, |s| {
        let f = footer(s);
        f.contains("\"scale a service\" is not available") && f.contains("read-only")
    }));
    let screen = pty.screen_text();
    assert!(
        !screen.contains("Scale service") && !screen.contains("new desired count"),
        "no dialog\n{}",
        pty.dump()
    );
    pty.send_str("i");
    ok(
        pty.wait_until("the read-only message for deploy", STEP, |s| {
            footer(s).contains("\"deploy new image\" is not available")
        }),
    );
    assert!(
        !pty.screen_text().contains("tag or image"),
        "{}",
        pty.dump()
    );
    quit_cleanly(&mut pty);
}

/// Production `api` has the circuit breaker with rollback: a "bad" image
/// trips it and the bar ends "rolled back", saying why and what runs now.
/// `b` then offers the revisions around the one running again (the bad one
/// marked newer); Esc sends nothing.
#[test]
fn circuit_breaker_rolls_a_bad_production_deploy_back() {
    let mut pty = start_fast_demo(&[], 100, 30);
    ok(pty.wait_for_all(&["Overview", "PRODUCTION", "api"], START));
    open_service(
        &mut pty,
        "api",
        &["works-logue-prod-api:27", "circuit breaker on, rolls back"],
    );

    pty.send_str("i");
    ok(pty.wait_for("tag or image:", STEP));
    pty.type_str("bad-build");
    pty.key_enter();
    ok(pty.wait_for_all(
        &[
            "works-logue/api:bad-build",
            "type production/api to confirm",
            "then enter send",
        ],
        STEP,
    ));
    pty.type_str("production/api");
    pty.key_enter();

    ok(
        pty.wait_until("the bar to say the deploy was rolled back", ROLLOUT, |s| {
            let bar = ops_bar(s);
            bar.contains("deploy-image api") && bar.contains("rolled back")
        }),
    );
    let screen = pty.screen_text();
    let bar = ops_bar(&screen);
    assert!(
        bar.contains("works-logue-prod-api:28 did not finish: ECS deployment circuit breaker"),
        "{}",
        pty.dump()
    );
    ok(pty.wait_for("task def works-logue-prod-api:27", STEP));
    // The audit log says so too: accepted ("success"), then rolled back.
    let records = audit_records_with_final(&pty, "deploy-image", "api");
    let result = audit_phase(&records, "deploy-image", "api", "result");
    let end = audit_phase(&records, "deploy-image", "api", "final");
    assert_eq!((result.len(), end.len()), (1, 1), "{records:#?}");
    assert_eq!(result[0]["outcome"], "success", "{:#}", result[0]);
    assert_eq!(end[0]["ended"], "rolled back", "{:#}", end[0]);
    assert_eq!(end[0]["outcome"], "error", "{:#}", end[0]);
    assert_eq!(end[0]["simulated"], true, "{:#}", end[0]);

    pty.send_str("b");
    ok(pty.wait_until("the rollback dialog around :27", STEP, |s| {
        s.contains("Roll back api")
            && s.contains("now          works-logue-prod-api:27")
            && s.contains("> works-logue-prod-api:26")
            && s.lines()
                .any(|l| l.contains("works-logue-prod-api:28") && l.contains("(newer)"))
    }));
    pty.key_esc();
    ok(pty.wait_until("the dialog to close, cancelled", STEP, |s| {
        footer(s).contains("cancelled: nothing was sent") && !s.contains("Roll back api")
    }));
    quit_cleanly(&mut pty);
}

/// A note typed in the console survives the session: `honban timeline
/// export` prints it in the postmortem and as a CloudEvent.
#[test]
fn a_note_is_recorded_and_exported_after_the_session() {
    let mut pty = start_demo(100, 30);
    ok(pty.wait_for_all(&["Overview", "PRODUCTION", "worker"], START));
    pty.send_str("2");
    ok(pty.wait_for("Services (", STEP));
    pty.send_str("N");
    ok(pty.wait_for(":note", STEP));
    pty.type_str("checked the api, all good");
    pty.key_enter();
    ok(pty.wait_for("note added to the timeline", STEP));
    pty.send_str("7");
    ok(pty.wait_for_all(
        &["Timeline of production", "checked the api, all good"],
        STEP,
    ));
    pty.ctrl('c');
    ok(pty.wait_exit(EXIT));
    ok(pty.check_restored());

    let state = pty.state_home();
    let state = state.to_str().expect("UTF-8 path");
    let out = run(
        honban(),
        &["timeline", "export"],
        &[("XDG_STATE_HOME", state)],
        STEP,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let md = &out.stdout;
    assert!(md.contains("# Postmortem: production"), "{md}");
    assert!(
        md.contains("| note | api | checked the api, all good |"),
        "{md}"
    );
    let out = run(
        honban(),
        &["timeline", "export", "--format", "json"],
        &[("XDG_STATE_HOME", state)],
        STEP,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let json = &out.stdout;
    let note = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .find(|v| v["type"] == "honban.note")
        .unwrap_or_else(|| panic!("no note in {json}"));
    assert_eq!(note["data"]["text"], "checked the api, all good");
    // Nothing recorded: a clear error, not an empty postmortem.
    let out = run(honban(), &["timeline", "export"], &[], STEP);
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(out.stderr.contains("no recorded event"), "{out:?}");
}

/// With `HONBAN_LOG=trace` against a seeded moto, nothing secret reaches
/// the log: not the session token, the secret key or the access key id the
/// requests are signed with, nor the environment values of the task
/// definitions read. The log directory is 0700 and its files 0600.
#[test]
fn a_trace_log_holds_no_secret_and_is_private() {
    use std::os::unix::fs::PermissionsExt;
    use support::moto::{DEFAULT_ACCOUNT, Moto};
    const KEY_ID: &str = "AKIAHONBANKEYMARKER7";
    const SECRET: &str = "honbanSecretKeyMarker";
    const TOKEN: &str = "honbanSessionTokenMarker";
    let moto = Moto::shared();
    moto.seed(DEFAULT_ACCOUNT, &["--name", "e2e-secrets", "--minimal"]);
    let config = tempfile::NamedTempFile::new().expect("temp file");
    let text = format!(
        r#"
[[environment]]
name = "secrets"
region = "ap-northeast-1"
endpoint_url = "{endpoint}"
alarm_prefixes = ["e2e-secrets-"]
[[environment.clusters]]
name = "e2e-secrets"
"#,
        endpoint = moto.endpoint
    );
    std::fs::write(config.path(), text).expect("write config");
    let path = config.path().to_string_lossy().to_string();
    let mut pty = Pty::spawn(
        honban(),
        &["--config", &path],
        120,
        40,
        &[
            ("AWS_ACCESS_KEY_ID", KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_SESSION_TOKEN", TOKEN),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("HONBAN_LOG", "trace"),
        ],
    );
    ok(pty.wait_for_all(&[DEFAULT_ACCOUNT, "web"], START));
    // The task definitions (with their environment) are read too.
    pty.type_str(":svc");
    pty.key_enter();
    ok(pty.wait_for("Services (", STEP));
    // The IMAGE column shows web's tag once its task definition is read.
    ok(pty.wait_for("7c1e9a2", STEP));
    quit_cleanly(&mut pty);

    let dir = pty.state_home().join("honban/logs");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "log directory");
    assert_eq!(
        mode(&pty.state_home().join("honban")),
        0o700,
        "state directory"
    );
    let mut log = String::new();
    for entry in std::fs::read_dir(&dir).expect("log dir").flatten() {
        assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
        log.push_str(&std::fs::read_to_string(entry.path()).expect("read log"));
    }
    // Trace was on: our own debug lines are there, requests were made.
    assert!(
        log.contains("DEBUG") && log.contains("request done"),
        "{log}"
    );
    for secret in [KEY_ID, SECRET, TOKEN, "Asia/Tokyo"] {
        assert!(
            !log.contains(secret),
            "{secret} is in the log ({} times), e.g.\n{}",
            log.matches(secret).count(),
            log.lines()
                .filter(|l| l.contains(secret))
                .take(3)
                .map(|l| l.chars().take(600).collect::<String>())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// A `credential_process` that hands out expired credentials: the banner
/// says they expired from the first requests on, they are never sent (the
/// endpoint would answer "connection refused"), and the process is spawned
/// a couple of times in 25 s, not once per request.
#[test]
fn expired_credentials_are_said_at_once_and_not_asked_for_again_and_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spawns = dir.path().join("spawns");
    let script = dir.path().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho spawn >> '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"AKIAEXPIREDEXAMPLE01\", \"SecretAccessKey\": \"s\", \"SessionToken\": \"t\", \"Expiration\": \"2020-01-01T00:00:00Z\"}}'\n",
            spawns.display()
        ),
    )
    .expect("script");
    let aws_config = dir.path().join("aws-config");
    std::fs::write(
        &aws_config,
        format!(
            "[profile expired]\ncredential_process = /bin/sh {}\n",
            script.display()
        ),
    )
    .expect("aws config");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[[environment]]\nname = \"expired\"\nprofile = \"expired\"\nregion = \"ap-northeast-1\"\nendpoint_url = \"http://127.0.0.1:1\"\n[[environment.clusters]]\nname = \"c\"\n",
    )
    .expect("config");
    let started = std::time::Instant::now();
    let mut pty = Pty::spawn(
        honban(),
        &["--config", &config.to_string_lossy()],
        300,
        30,
        &[
            ("AWS_CONFIG_FILE", &aws_config.to_string_lossy()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    ok(pty.wait_for("expired at 2020-01-01 00:00:00 UTC", START));
    assert!(
        !pty.screen_text().contains("refused"),
        "the expired keys were sent\n{}",
        pty.dump()
    );
    std::thread::sleep(Duration::from_secs(25).saturating_sub(started.elapsed()));
    let count = std::fs::read_to_string(&spawns)
        .unwrap_or_default()
        .lines()
        .count();
    assert!(
        (1..=3).contains(&count),
        "credential_process spawned {count} times in 25 s"
    );
    quit_cleanly(&mut pty);
}

/// `status --wait`: an environment already stable answers at once (0); one
/// that stays WARNING is read again until the timeout, then exits with
/// the status then (1), having waited.
#[test]
fn status_wait_returns_when_reached_or_with_the_status_at_the_timeout() {
    let started = std::time::Instant::now();
    let out = run(
        honban(),
        &[
            "--demo",
            "--env",
            "production",
            "status",
            "--wait",
            "stable",
            "--timeout",
            "30s",
        ],
        &[],
        STEP,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{out:?}");

    let started = std::time::Instant::now();
    let out = run(
        honban(),
        &[
            "--demo",
            "--env",
            "staging",
            "status",
            "--wait",
            "healthy",
            "--timeout",
            "6s",
        ],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "waited: {out:?}"
    );
    assert!(out.stdout.contains("WARNING"), "{out:?}");

    // One service: staging's api is healthy and steady though the
    // environment stays WARNING: 0 at once.
    let out = run(
        honban(),
        &[
            "--demo",
            "--env",
            "staging",
            "status",
            "--wait",
            "stable",
            "--service",
            "api",
        ],
        &[],
        STEP,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    // A service that is not there: said, 64, no waiting.
    let out = run(
        honban(),
        &[
            "--demo",
            "--env",
            "staging",
            "status",
            "--wait",
            "stable",
            "--service",
            "nope",
        ],
        &[],
        STEP,
    );
    assert_eq!(out.code, Some(64), "{out:?}");
    assert!(out.stderr.contains("no service \"nope\""), "{out:?}");

    let out = run(
        honban(),
        &["--demo", "status", "--timeout", "10x"],
        &[],
        STEP,
    );
    assert_eq!(out.code, Some(64), "{out:?}");
}

/// Completions and the man page come from the clap definition; `config
/// check` says ok (0) or the positioned mistake (78).
#[test]
fn completions_man_page_and_config_check() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(honban(), &["completions", shell], &[], STEP);
        assert_eq!(out.code, Some(0), "{shell}: {out:?}");
        assert!(out.stdout.contains("status"), "{shell}: {out:?}");
    }
    let out = run(honban(), &["config", "schema"], &[], STEP);
    assert_eq!(out.code, Some(0), "{out:?}");
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let out = run(honban(), &["man"], &[], STEP);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains(".TH honban 1"), "{out:?}");

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    let out = run(honban(), &["config", "check", example], &[], STEP);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("ok (2 environments)"), "{out:?}");
    let bad = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/invalid_configs/endpoint_url_empty.toml"
    );
    let out = run(honban(), &["config", "check", bad], &[], STEP);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert!(out.stderr.contains("endpoint_url_empty.toml:"), "{out:?}");
    // No file at all: said, 78.
    let out = run(honban(), &["config", "check"], &[], STEP);
    assert_eq!(out.code, Some(78), "{out:?}");
    assert!(out.stderr.contains("no config file"), "{out:?}");
}

// ---- ECS Exec: the terminal handed to the session-manager-plugin ---------

/// The real binary against a seeded moto (ECS Exec on web, ExecuteCommand
/// answered by the test proxy) with a stand-in `session-manager-plugin`
/// first on PATH: `x` in a task's detail opens a session, the plugin gets
/// the terminal (and the keys typed: the console's input thread stops
/// reading), and when it exits the console is back, redrawn, in raw mode
/// on the alternate screen, and answers keys. The audit log has the
/// session. A second run without the plugin says how to install it.
#[test]
fn exec_hands_the_terminal_to_the_plugin_and_takes_it_back() {
    use std::os::unix::fs::PermissionsExt;
    use support::moto::{DEFAULT_ACCOUNT, Moto};
    let moto = Moto::shared();
    let seeded = moto.seed(
        DEFAULT_ACCOUNT,
        &["--name", "e2e-exec", "--exec-through", &moto.endpoint],
    );
    let task = seeded.exec_tasks[0].clone();
    let task_id = task.rsplit('/').next().expect("an id").to_string();
    let config = tempfile::NamedTempFile::new().expect("temp file");
    let text = format!(
        r#"
[[environment]]
name = "staging"
source = "aws"
region = "ap-northeast-1"
endpoint_url = "{endpoint}"
[[environment.clusters]]
name = "e2e-exec"
"#,
        endpoint = moto.endpoint
    );
    std::fs::write(config.path(), text).expect("write config");
    let config_path = config.path().to_string_lossy().to_string();

    // The stand-in: records its arguments, shows a prompt, reads one line
    // from the terminal, and exits 0.
    let bin = tempfile::tempdir().expect("dir");
    let log = bin.path().join("calls.log");
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = \"--version\" ]; then echo 1.2.707.0; exit 0; fi\n\
         for a in \"$@\"; do printf 'ARG %s\\n' \"$a\" >> {log}; done\n\
         printf 'ENV %s\\n' \"$AWS_SSM_START_SESSION_RESPONSE\" >> {log}\n\
         printf 'STAND-IN SHELL> '\n\
         read line\n\
         printf 'READ %s\\n' \"$line\" >> {log}\n\
         exit 0\n",
        log = log.display()
    );
    let plugin = bin.path().join("session-manager-plugin");
    std::fs::write(&plugin, script).expect("write the stand-in");
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let aws_env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let mut env = aws_env.to_vec();
    env.push(("PATH", &path));

    let mut pty = Pty::spawn(honban(), &["--config", &config_path], 100, 30, &env);
    ok(pty.wait_for_all(&["staging", "web"], START));
    pty.type_str(":tasks");
    pty.key_enter();
    ok(pty.wait_for("Tasks (", STEP));
    pty.send_str("/");
    pty.type_str(&task_id[..12]);
    pty.key_enter();
    ok(pty.wait_for("Tasks (1/", STEP));
    pty.key_enter();
    ok(pty.wait_for_all(
        &["exec agent RUNNING", "ready — x opens a shell in web"],
        STEP,
    ));
    pty.send_str("x");
    ok(pty.wait_for("command: /bin/sh", STEP));
    pty.key_enter();
    ok(pty.wait_for_all(&["ecs:ExecuteCommand", "y send"], STEP));
    pty.send_str("y");
    // The plugin has the terminal: off the alternate screen, cooked mode.
    ok(pty.wait_for("STAND-IN SHELL>", STEP));
    assert!(
        !pty.with_screen(vt100::Screen::alternate_screen),
        "the plugin runs on the normal screen\n{}",
        pty.dump()
    );
    assert_eq!(pty.cooked_mode(), Some(true), "{}", pty.dump());
    pty.type_str("typed-into-the-plugin");
    pty.key_enter();
    // The console is back: redrawn, raw, on the alternate screen.
    ok(pty.wait_for("session ended (exit status 0", STEP));
    assert!(
        pty.with_screen(vt100::Screen::alternate_screen),
        "{}",
        pty.dump()
    );
    assert_eq!(pty.cooked_mode(), Some(false), "{}", pty.dump());
    ok(pty.wait_for("exec agent RUNNING", STEP));
    // Keys are answered again.
    pty.send_str("?");
    ok(pty.wait_for("Shell (ECS Exec)", STEP));
    pty.key_esc();

    let calls = std::fs::read_to_string(&log).expect("the plugin ran");
    assert!(
        calls.contains("READ typed-into-the-plugin"),
        "the plugin got the keys: {calls}"
    );
    assert!(
        calls.contains("ARG AWS_SSM_START_SESSION_RESPONSE\n"),
        "{calls}"
    );
    assert!(calls.contains("ARG StartSession\n"), "{calls}");
    assert!(
        calls.contains(&format!("\"Target\":\"ecs:e2e-exec_{task_id}_")),
        "{calls}"
    );
    // The session's token went to the plugin only: no file honban wrote
    // (audit log, logs, recording) holds it.
    let token = calls
        .lines()
        .find_map(|l| l.strip_prefix("ENV "))
        .and_then(|json| json.split("\"tokenValue\":\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .expect("the session in the plugin's environment")
        .to_string();
    assert!(token.len() > 20, "{token}");
    let mut stack = vec![pty.state_home()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text =
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
                assert!(!text.contains(&token), "the token is in {}", path.display());
            }
        }
    }
    let audit = std::fs::read_to_string(pty.state_home().join("honban").join("audit.jsonl"))
        .unwrap_or_default();
    let exec_lines: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"operation\":\"exec\""))
        .collect();
    assert_eq!(exec_lines.len(), 3, "intent, result, end: {audit}");
    assert!(exec_lines[2].contains("session ended"), "{audit}");
    assert!(exec_lines[2].contains("exit status 0"), "{audit}");
    quit_cleanly(&mut pty);

    // Without the plugin: nothing is sent, and the message says how to
    // install it.
    let mut env = aws_env.to_vec();
    env.push(("PATH", "/usr/bin:/bin"));
    let mut pty = Pty::spawn(honban(), &["--config", &config_path], 100, 30, &env);
    ok(pty.wait_for_all(&["staging", "web"], START));
    pty.type_str(":tasks");
    pty.key_enter();
    ok(pty.wait_for("Tasks (", STEP));
    pty.send_str("/");
    pty.type_str(&task_id[..12]);
    pty.key_enter();
    ok(pty.wait_for("Tasks (1/", STEP));
    pty.send_str("x");
    ok(pty.wait_for("command: /bin/sh", STEP));
    pty.key_enter();
    ok(pty.wait_for_all(&["ecs:ExecuteCommand", "y send"], STEP));
    pty.send_str("y");
    ok(pty.wait_for("session-manager-plugin is not on PATH", STEP));
    assert!(
        pty.with_screen(vt100::Screen::alternate_screen),
        "{}",
        pty.dump()
    );
    quit_cleanly(&mut pty);
}

/// `honban drill NAME` on the real binary: the briefing, enter, the
/// console with its DRILL banner at 80×24, `q`, the terminal restored, and
/// the report printed and saved in `drills/` of the state directory.
#[test]
fn a_drill_shows_its_briefing_runs_and_saves_its_report() {
    let mut pty = Pty::spawn(honban(), &["drill", "bad-deploy"], 80, 24, &[]);
    ok(pty.wait_for_all(
        &["A deploy that crash-loops", "Press enter to start"],
        START,
    ));
    pty.key_enter();
    ok(pty.wait_for_all(&["DRILL", "drill-bad-deploy", "PRODUCTION"], START));
    pty.send_str("q");
    let code = ok(pty.wait_exit(EXIT));
    assert_eq!(code, 0, "honban exited with {code}\n{}", pty.dump());
    ok(pty.check_restored());
    let out = pty.raw_output();
    assert!(out.contains("ended by the operator"), "{}", pty.dump());
    assert!(out.contains("Report saved to"), "{}", pty.dump());
    let dir = pty.state_home().join("honban/drills");
    let reports: Vec<_> = std::fs::read_dir(&dir)
        .expect("the drills directory")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(reports.len(), 1, "{dir:?}");
    let md = std::fs::read_to_string(reports[0].path()).expect("the report");
    assert!(md.starts_with("# Drill report: bad-deploy"), "{md}");
}
