//! End-to-end tests of the trust guarantees, on the real binary in a
//! pseudo-terminal against the simulated environment: a key acts on the
//! resource the operator sees highlighted whatever re-sorted, keys are read
//! at once however many are queued, a paste is one event, and nothing typed
//! ahead ever answers a confirmation.

mod support;

use std::time::Duration;

use support::honban;
use support::pty::Pty;

/// Start-up, including the first frame (CI is a busy 2-core machine).
const START: Duration = Duration::from_secs(20);
/// One keystroke's effect on the screen.
const STEP: Duration = Duration::from_secs(10);
/// From the quitting key to the process being gone.
const EXIT: Duration = Duration::from_secs(5);

const SERVICES: &[&str] = &["web", "api", "worker", "backend"];

fn start(args: &[&str], cols: u16, rows: u16) -> Pty {
    let mut all = vec!["--demo", "--seed", "7"];
    all.extend_from_slice(args);
    Pty::spawn(honban(), &all, cols, rows, &[])
}

#[track_caller]
fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// The first simulated service named on `screen`, top to bottom: in the
/// services table, the first row.
fn first_service_listed(screen: &str) -> Option<&'static str> {
    screen.lines().find_map(|line| {
        line.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .find_map(|word| SERVICES.iter().copied().find(|name| *name == word))
    })
}

/// The text a protected confirmation asks to be typed (`type X to confirm`).
fn confirmation_text(screen: &str) -> Option<String> {
    let at = screen.find("type ")?;
    let rest = &screen[at + "type ".len()..];
    let end = rest.find(" to confirm")?;
    Some(rest[..end].to_string())
}

/// The simulated service whose table row is highlighted (drawn in reverse
/// video: the selection, in the default theme), if one is on screen.
fn highlighted_service(pty: &Pty) -> Option<&'static str> {
    pty.with_screen(|screen| {
        let (rows, cols) = screen.size();
        (0..rows).find_map(|row| {
            let reversed: String = (0..cols)
                .map(|col| match screen.cell(row, col) {
                    Some(cell) if cell.inverse() && !cell.contents().is_empty() => cell.contents(),
                    _ => " ",
                })
                .collect();
            first_service_listed(&reversed)
        })
    })
}

/// Waits until `done` holds for the highlighted service (a key's effect on
/// the selection: the screen text alone does not show it).
fn wait_for_highlight(
    pty: &Pty,
    what: &str,
    done: impl Fn(Option<&str>) -> bool,
) -> Result<(), String> {
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let highlighted = highlighted_service(pty);
        if done(highlighted) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "waited {STEP:?} for {what}; highlighted: {highlighted:?}\n{}",
                pty.dump()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The command line is open (the footer's prompt starts with `:`).
fn command_line_open(screen: &str) -> bool {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_start().starts_with(':'))
}

fn audit_text(pty: &Pty) -> String {
    let path = pty.state_home().join("honban").join("audit.jsonl");
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The repro of the wrong-target defect: `2`, `j` (web), scale web to 6 and
/// confirm; web turns degraded and sorts to the top; `r` must restart web,
/// not the service that moved into web's old row.
#[test]
fn after_a_re_sort_r_restarts_the_highlighted_service() {
    for (cols, rows) in [(80, 24), (160, 48)] {
        let mut pty = start(&[], cols, rows);
        ok(pty.wait_for_all(&["Overview", "PRODUCTION", "worker"], START));
        pty.send_str("2");
        ok(pty.wait_for("Services (3)", STEP));
        assert_eq!(
            first_service_listed(&pty.screen_text()),
            Some("api"),
            "{}",
            pty.dump()
        );
        pty.send_str("j");
        ok(wait_for_highlight(&pty, "web highlighted", |s| {
            s == Some("web")
        }));
        pty.send_str("s");
        ok(pty.wait_for("Scale service web", STEP));
        pty.key_backspace();
        pty.type_str("6");
        pty.key_enter();
        ok(pty.wait_for_all(&["to confirm", "then enter send"], STEP));
        let typed = confirmation_text(&pty.screen_text())
            .unwrap_or_else(|| panic!("no text to type\n{}", pty.dump()));
        assert!(typed.ends_with("web"), "{typed}\n{}", pty.dump());
        pty.type_str(&typed);
        pty.key_enter();
        ok(pty.wait_until("web to sort first (degraded)", START, |s| {
            first_service_listed(s) == Some("web")
        }));
        pty.send_str("r");
        ok(pty.wait_for("Restart web", STEP));
        assert!(!pty.screen_text().contains("Restart api"), "{}", pty.dump());
        pty.key_esc();
        pty.ctrl('c');
        ok(pty.wait_exit(EXIT));
        ok(pty.check_restored());
    }
}

/// 1 000 keys written at once are all applied (the selection ends where
/// they put it) and the console answers the next key at once.
#[test]
fn a_thousand_queued_keys_are_applied_and_the_console_stays_responsive() {
    let mut pty = start(&[], 100, 30);
    ok(pty.wait_for_all(&["Overview", "PRODUCTION", "worker"], START));
    pty.send_str("2");
    ok(pty.wait_for("Services (3)", STEP));
    // 500 × "jk" leaves the selection on the first row; then one `j` and
    // `enter` open the second service (web): every key was applied, in order.
    let burst = "jk".repeat(500);
    pty.send_str(&burst);
    pty.send_str("j\r");
    ok(pty.wait_for("Service web", STEP));
    pty.key_esc();
    ok(pty.wait_for("Services (3)", STEP));
    pty.ctrl('c');
    ok(pty.wait_exit(EXIT));
    ok(pty.check_restored());
}

/// A confirmation opened by a burst of keys is never answered by the keys
/// behind it: `r` followed by 999 `y` in one write leaves the restart
/// unconfirmed and unsent (staging: unprotected, `y` would confirm).
#[test]
fn keys_typed_ahead_never_reach_a_confirmation() {
    let mut pty = start(&["--env", "staging"], 100, 30);
    ok(pty.wait_for_all(&["Overview", "staging", "api"], START));
    pty.send_str("2");
    ok(pty.wait_for("Services (", STEP));
    let mut burst = String::from("r");
    burst.push_str(&"y".repeat(999));
    pty.send_str(&burst);
    ok(pty.wait_for("Restart", STEP));
    ok(pty.wait_for("ignored", STEP));
    // Deliberately lets time pass (no condition to wait for): the keys
    // behind the `r` must not confirm it later either.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        pty.screen_text().contains("Restart"),
        "the confirmation stays open\n{}",
        pty.dump()
    );
    assert_eq!(audit_text(&pty), "", "nothing was sent\n{}", pty.dump());
    pty.key_esc();
    ok(pty.wait_for("cancelled: nothing was sent", STEP));
    assert_eq!(audit_text(&pty), "");
    pty.ctrl('c');
    ok(pty.wait_exit(EXIT));
    ok(pty.check_restored());
}

/// The same for a host in the protected EC2 world: `S` with the typed
/// confirmation and enter behind it in one write stops nothing; the
/// dialog names the exact call and waits for a name typed after it could
/// be read.
#[test]
fn a_typed_ahead_host_name_never_confirms_a_stop() {
    let mut pty = start(&["--world", "ec2-prod"], 100, 30);
    ok(pty.wait_for_all(&["Overview", "ec2-prod"], START));
    pty.send_str("9");
    ok(pty.wait_for_all(&["EC2 hosts (2)", "app-prod-1", "healthy"], STEP));
    pty.send_str("Sec2-prod/app-prod-1\r\r");
    ok(pty.wait_for("Stop host app-prod-1", STEP));
    ok(pty.wait_for("ec2:StopInstances InstanceIds=[i-0a3f9c27e81b4d5f6]", STEP));
    ok(pty.wait_for("ignored", STEP));
    // Deliberately lets time pass: the keys behind the `S` must not
    // confirm it later either.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        pty.screen_text().contains("Stop host"),
        "the confirmation stays open\n{}",
        pty.dump()
    );
    assert_eq!(audit_text(&pty), "", "nothing was sent\n{}", pty.dump());
    pty.key_esc();
    ok(pty.wait_for("cancelled: nothing was sent", STEP));
    assert!(pty.screen_text().contains("running"), "{}", pty.dump());
    assert_eq!(audit_text(&pty), "");
    pty.ctrl('c');
    ok(pty.wait_exit(EXIT));
    ok(pty.check_restored());
}

/// A quick "r, y" (a double tap, or `y` typed a moment after `r`): the `y`
/// comes after the confirmation was drawn but before anyone could read it,
/// so it is ignored; the dialog offers `y` only once it accepts it.
#[test]
fn a_key_pressed_right_after_a_confirmation_appears_is_not_its_answer() {
    let mut pty = start(&["--env", "staging"], 100, 30);
    ok(pty.wait_for_all(&["Overview", "staging", "api"], START));
    pty.send_str("2");
    ok(pty.wait_for("Services (", STEP));
    pty.send_str("r");
    // Deliberately a short pause, not a wait for the screen: the `y`
    // must land inside the moment the dialog is being read.
    std::thread::sleep(Duration::from_millis(60));
    pty.send_str("y");
    ok(pty.wait_for("ignored", STEP));
    ok(pty.wait_for("y send · n/esc cancel", STEP));
    assert!(pty.screen_text().contains("Restart"), "{}", pty.dump());
    assert_eq!(audit_text(&pty), "", "nothing was sent\n{}", pty.dump());
    pty.key_esc();
    ok(pty.wait_for("cancelled: nothing was sent", STEP));
    assert_eq!(audit_text(&pty), "");
    pty.ctrl('c');
    ok(pty.wait_exit(EXIT));
    ok(pty.check_restored());
}

/// A 5 000-character bracketed paste into the command line is one event:
/// cut to the prompt's cap with a message; esc and the next keys answer at
/// once; a paste outside a prompt is ignored.
#[test]
fn a_long_paste_is_capped_and_the_console_stays_responsive() {
    let mut pty = start(&[], 100, 30);
    ok(pty.wait_for_all(&["Overview", "PRODUCTION", "worker"], START));
    pty.send_str(":");
    ok(pty.wait_until("the command line", STEP, command_line_open));
    let mut paste = b"\x1b[200~".to_vec();
    paste.extend(std::iter::repeat_n(b'x', 5_000));
    paste.extend_from_slice(b"\x1b[201~");
    pty.send(&paste);
    ok(pty.wait_for("of 5000 characters", STEP));
    pty.key_esc();
    pty.send_str("2");
    ok(pty.wait_for("Services (3)", STEP));
    // Outside a prompt: ignored, nothing acts on it.
    pty.send(b"\x1b[200~rrrr\x1b[201~");
    ok(pty.wait_for("paste ignored", STEP));
    assert!(!pty.screen_text().contains("Restart"), "{}", pty.dump());
    pty.ctrl('c');
    ok(pty.wait_exit(EXIT));
    ok(pty.check_restored());
}

/// ctrl-c quits within a frame or so whatever is queued in front of it.
#[test]
fn ctrl_c_quits_behind_a_flood_of_keys() {
    let mut pty = start(&[], 100, 30);
    ok(pty.wait_for_all(&["Overview", "PRODUCTION", "worker"], START));
    let mut burst = "jk".repeat(2_000).into_bytes();
    burst.push(0x03);
    pty.send(&burst);
    let code = ok(pty.wait_exit(EXIT));
    assert_eq!(code, 0, "{}", pty.dump());
    ok(pty.check_restored());
}

/// The repro of the second wrong-target defect: after a broken deploy in
/// staging the operations bar offers the rollback of the service being
/// followed, and `b` rolls back that service, named in the bar and the
/// dialog, wherever the highlight has moved since.
#[test]
fn the_offered_rollback_acts_on_the_followed_service() {
    let mut pty = start(&["--env", "staging"], 100, 30);
    ok(pty.wait_for_all(&["Overview", "staging", "api"], START));
    pty.send_str("2");
    ok(pty.wait_for("Services (", STEP));
    assert_eq!(
        first_service_listed(&pty.screen_text()),
        Some("api"),
        "{}",
        pty.dump()
    );
    pty.send_str("i");
    ok(pty.wait_for("tag or image:", STEP));
    pty.type_str("v3-broken");
    pty.key_enter();
    ok(pty.wait_for("y send", STEP));
    pty.send_str("y");
    ok(pty.wait_until(
        "the bar to offer the rollback of api",
        Duration::from_mins(1),
        |s| s.contains("b rolls back api"),
    ));
    // The highlight moves to the other service; `b` still means api.
    pty.send_str("j");
    ok(wait_for_highlight(
        &pty,
        "another service highlighted",
        |s| s.is_some_and(|s| s != "api"),
    ));
    pty.send_str("b");
    ok(pty.wait_for("Roll back api", STEP));
    assert!(
        !pty.screen_text().contains("Roll back web"),
        "{}",
        pty.dump()
    );
    pty.key_esc();
    pty.ctrl('c');
    ok(pty.wait_exit(EXIT));
    ok(pty.check_restored());
}

/// A hang-up (the SSH session to the bastion dropped), a `kill` and a
/// `kill -INT` end the console as quitting does: raw mode, the alternate
/// screen, the hidden cursor and bracketed paste are undone, and the exit
/// code is 128 + the signal.
#[test]
fn sigterm_sighup_and_sigint_restore_the_terminal_and_exit_128_plus_n() {
    for (signal, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let mut pty = start(&[], 100, 30);
        ok(pty.wait_for_all(&["Overview", "PRODUCTION", "worker"], START));
        pty.kill(signal);
        let exit = pty
            .wait_exit(EXIT)
            .unwrap_or_else(|e| panic!("SIG{signal}: {e}"));
        assert_eq!(exit, code, "SIG{signal}\n{}", pty.dump());
        pty.check_restored()
            .unwrap_or_else(|e| panic!("SIG{signal}: {e}"));
        let raw = pty.raw_output();
        let enabled = raw
            .rfind("\x1b[?2004h")
            .expect("bracketed paste was enabled");
        let disabled = raw.rfind("\x1b[?2004l");
        assert!(
            disabled.is_some_and(|d| d > enabled),
            "SIG{signal}: bracketed paste left on"
        );
        let log = std::fs::read_dir(pty.state_home().join("honban/logs"))
            .expect("log dir")
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .collect::<String>();
        assert!(log.contains("ended by a signal"), "SIG{signal}: {log}");
    }
}
