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
fn bad_config_exits_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("broken-config.toml");
    std::fs::write(&path, "theme = \"default\"\n[envs\nname = 1\n").expect("write the config");
    let path_str = path.to_str().expect("utf-8 temp path");

    let out = run(honban(), &["--config", path_str], &[], STEP);
    assert_eq!(out.code, Some(2), "expected exit code 2\n{out}");
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
    let firing = prod.get("alarms_in_alarm").strings();
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
    ok(pty.wait_for(&format!("Tasks ({})", prod.get("tasks").u64()), STEP));

    // Databases with the snapshots of the primary.
    pty.type_str(":db");
    pty.key_enter();
    ok(pty.wait_for_all(&["Databases (2)", "replica", "Snapshots"], STEP));

    // Alarms, all of them, ALARM first.
    pty.type_str(":alarms");
    pty.key_enter();
    ok(pty.wait_for(&format!("Alarms ({})", prod.get("alarms").u64()), STEP));

    // The fleet: both environments side by side, both loaded.
    pty.send_str("0");
    ok(pty.wait_for_all(&["Fleet (2 environments)", "production", "staging"], STEP));
    ok(pty.wait_until("both environments loaded", STEP, |screen| {
        !screen.contains("loading") && screen.matches(" ago").count() >= 2
    }));
    quit_cleanly(&mut pty);
}
