//! Recording and replay: a scripted headless session on the simulation is
//! recorded, then replayed; at past moments the views show what they
//! showed then. The real binary replays in a pseudo-terminal (seek, next
//! event); a truncated recording is replayed up to the damage; `kill -9`
//! during recording loses at most the last second.

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use honban::action::{Action, Resource};
use honban::app::App;
use honban::clock::Clock;
use honban::config::Config;
use honban::config::keys::{Command, Keymap};
use honban::config::theme::load_theme;
use honban::domain::{AlarmState, Timestamp};
use honban::recording::{Header, Recorder};
use honban::replay::{Player, Recording};
use honban::setup::{self, Options};
use honban::state::State;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn start() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
        .single()
        .expect("valid")
}

fn render(state: &State, w: u16, h: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = load_theme("default", None, false).expect("theme");
    terminal
        .draw(|f| honban::ui::draw(f, state, &theme))
        .expect("draw");
    let buf = terminal.backend().buffer().clone();
    (0..h)
        .map(|y| {
            let mut line = String::new();
            for x in 0..w {
                line.push_str(buf[(x, y)].symbol());
            }
            line.trim_end().to_string()
        })
        .collect()
}

/// The screen without its first line (the replay's banner is there) and
/// its footer (the replay's keys are there).
fn body(screen: &[String]) -> String {
    screen[1..screen.len() - 1].join("\n")
}

async fn poll_all(app: &mut App, env: usize) {
    for resource in Resource::ALL {
        app.dispatch(Action::PollDue { env, resource });
    }
    for probe in 0..app.state.envs.get(env).map_or(0, |e| e.probes.len()) {
        app.dispatch(Action::ProbeDue { env, probe });
    }
    app.settle().await;
}

/// The demo on a manual clock, recorded into `dir`.
async fn recorded_demo(dir: &std::path::Path) -> (App, Clock, Arc<Recorder>) {
    let config: Config = toml::from_str("").expect("empty config");
    let clock = Clock::manual(start());
    let options = Options {
        demo: true,
        seed: Some(3),
        ..Options::default()
    };
    let (state, envs) = setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("demo builds");
    let header = Header::of(&state, start());
    let recorder = Arc::new(Recorder::start(dir, &header, u64::MAX).expect("recorder"));
    let audit = Arc::new(honban::audit::AuditLog::in_dir(dir));
    let mut app = App::new(state, envs, clock.clone())
        .with_audit(audit)
        .with_recorder(recorder.clone());
    app.dispatch(Action::Resize(100, 30));
    app.dispatch(Action::Tick(start()));
    for env in 0..app.state.envs.len() {
        poll_all(&mut app, env).await;
    }
    (app, clock, recorder)
}

fn command(app: &mut App, text: &str) {
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char(':'),
        KeyModifiers::NONE,
    )));
    for c in text.chars() {
        app.dispatch(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
}

/// What was on screen at a moment of the session.
struct Shot {
    at: Timestamp,
    /// The commands that opened the view.
    view: Vec<Command>,
    screen: Vec<String>,
}

#[tokio::test]
async fn a_recorded_session_replays_to_the_screens_shown_then() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, clock, recorder) = recorded_demo(dir.path()).await;
    let mut shots = Vec::new();
    let mut fired_at = None;
    // Ten-second steps until production's first alarm fires, and a minute on.
    for step in 0..60 {
        clock.advance(Duration::from_secs(10));
        app.dispatch(Action::Tick(clock.now()));
        poll_all(&mut app, 0).await;
        let alarming = app.state.envs[0]
            .alarms
            .data
            .iter()
            .flatten()
            .any(|a| a.state == AlarmState::Alarm);
        if step == 2 {
            app.dispatch(Action::Command(Command::Services));
            shots.push(Shot {
                at: clock.now(),
                view: vec![Command::Services],
                screen: render(&app.state, 100, 30),
            });
        }
        if alarming && fired_at.is_none() {
            fired_at = Some(clock.now());
            app.dispatch(Action::Command(Command::Alarms));
            let screen = render(&app.state, 100, 30);
            assert!(
                screen.iter().any(|l| l.contains("ALARM")),
                "{}",
                screen.join("\n")
            );
            shots.push(Shot {
                at: clock.now(),
                view: vec![Command::Alarms],
                screen,
            });
            // Its detail, with the history read then.
            app.dispatch(Action::Command(Command::Select));
            app.settle().await;
            let screen = render(&app.state, 100, 30);
            assert!(
                screen.iter().any(|l| l.contains("History")),
                "{}",
                screen.join("\n")
            );
            shots.push(Shot {
                at: clock.now(),
                view: vec![Command::Alarms, Command::Select],
                screen,
            });
            app.dispatch(Action::Command(Command::Back));
            command(&mut app, "note paged: api 5XX");
        }
        if fired_at.is_some_and(|t| clock.now() - t >= chrono::TimeDelta::seconds(60)) {
            break;
        }
    }
    let fired_at = fired_at.expect("the demo's first alarm fired");
    app.dispatch(Action::Command(Command::Timeline));
    shots.push(Shot {
        at: clock.now(),
        view: vec![Command::Timeline],
        screen: render(&app.state, 100, 30),
    });
    assert!(
        recorder.sync(Duration::from_secs(10)),
        "the recording is written"
    );

    let path = recorder.path().to_path_buf();
    let rec = Recording::open(&path).expect("the recording opens");
    assert_eq!(rec.damage, None);
    assert_eq!(rec.header.envs.len(), app.state.envs.len());
    let mut player = Player::new(rec, Keymap::defaults());
    player.dispatch(Action::Resize(100, 30));
    let check = |player: &mut Player, shot: &Shot| {
        player.seek(shot.at);
        // The view opened fresh at that moment, as it was then (a
        // selection made at another moment follows its resource).
        player.state.selected.clear();
        player.state.selected_id.clear();
        for cmd in &shot.view {
            player.dispatch(Action::Command(*cmd));
        }
        let replayed = render(&player.state, 100, 30);
        assert_eq!(
            body(&replayed),
            body(&shot.screen),
            "at {} ({:?}):\n{}\n--- then:\n{}",
            shot.at,
            shot.view,
            replayed.join("\n"),
            shot.screen.join("\n")
        );
        assert!(
            replayed[0].contains(&format!("REPLAY {} UTC", shot.at.format("%H:%M:%S"))),
            "{}",
            replayed[0]
        );
    };
    for shot in &shots {
        check(&mut player, shot);
    }
    // Backward: from the keyframes, to the same screens.
    for shot in shots.iter().rev() {
        check(&mut player, shot);
    }
    // The alarm at the moment it fired, and the note in the timeline.
    player.seek(fired_at);
    let alarms = player.state.envs[0].alarms.data.clone().expect("alarms");
    assert!(alarms.iter().any(|a| a.state == AlarmState::Alarm));
    let end = player.rec.end();
    player.seek(end);
    assert!(
        player.state.envs[0]
            .timeline
            .iter()
            .any(|e| e.kind == "note" && e.text.contains("paged: api 5XX")),
        "{:?}",
        player.state.envs[0].timeline
    );
}

#[tokio::test]
async fn a_replay_sends_nothing_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, clock, recorder) = recorded_demo(dir.path()).await;
    clock.advance(Duration::from_secs(10));
    app.dispatch(Action::Tick(clock.now()));
    poll_all(&mut app, 0).await;
    assert!(recorder.sync(Duration::from_secs(10)));
    let rec = Recording::open(recorder.path()).expect("opens");
    let mut player = Player::new(rec, Keymap::defaults());
    let end = player.rec.end();
    player.seek(end);
    player.dispatch(Action::Command(Command::Services));
    for cmd in [Command::Scale, Command::Restart, Command::Rollback] {
        player.dispatch(Action::Command(cmd));
        let flash = player.state.flash.clone().expect("a refusal");
        assert!(
            flash.text.contains("not available in a replay"),
            "{}",
            flash.text
        );
        assert_eq!(player.state.mode, honban::state::Mode::Normal);
    }
    // The reducer asks for no operation whatever is pressed: there is no
    // runner to send one anyway.
    let effects = honban::update::update(&mut player.state, Action::Command(Command::Snapshot));
    assert!(effects.is_empty(), "{effects:?}");
}

#[test]
fn a_truncated_recording_is_replayed_up_to_the_damage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let path = runtime.block_on(async {
        let (mut app, clock, recorder) = recorded_demo(dir.path()).await;
        for _ in 0..3 {
            clock.advance(Duration::from_secs(10));
            app.dispatch(Action::Tick(clock.now()));
            poll_all(&mut app, 0).await;
        }
        assert!(recorder.sync(Duration::from_secs(10)));
        recorder.path().to_path_buf()
    });
    let text = std::fs::read_to_string(&path).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 20, "{} lines", lines.len());
    // Cut in the middle of line 20 (a torn write), and corrupt a copy at 12.
    let mut torn = lines[..19].join("\n") + "\n";
    torn.push_str(&lines[19][..lines[19].len() / 2]);
    let torn_path = dir.path().join("torn.jsonl");
    std::fs::write(&torn_path, &torn).expect("write");
    let rec = Recording::open(&torn_path).expect("a torn recording still opens");
    let (line, why) = rec.damage.clone().expect("damage reported");
    assert_eq!(line, 20, "{why}");
    assert!(
        rec.damage_text()
            .is_some_and(|t| t.contains(":20: damaged"))
    );
    let player = Player::new(rec, Keymap::defaults());
    assert!(
        player
            .state
            .replay
            .as_ref()
            .and_then(|r| r.damage.as_ref())
            .is_some(),
        "the console says where it breaks"
    );

    let mut corrupt: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
    corrupt[11] = "{\"rec\":\"load\",\"t\":garbage".to_string();
    let corrupt_path = dir.path().join("corrupt.jsonl");
    std::fs::write(&corrupt_path, corrupt.join("\n") + "\n").expect("write");
    let rec = Recording::open(&corrupt_path).expect("opens");
    assert_eq!(rec.damage.as_ref().map(|d| d.0), Some(12));
    // Lines 2..=11 were replayed.
    assert!(!rec.steps.is_empty() && rec.steps.len() <= 10);

    // A newer format says so.
    let newer = text.replacen("\"format\":2", "\"format\":99", 1);
    let newer_path = dir.path().join("newer.jsonl");
    std::fs::write(&newer_path, newer).expect("write");
    let err = Recording::open(&newer_path).expect_err("newer");
    assert!(err.to_string().contains("format 99"), "{err}");
    assert_eq!(err.exit_code(), honban::cli::EX_DATAERR);
}

/// A recorded demo session through production's first alarm and a minute
/// on; its path and the moment the alarm was seen in ALARM.
async fn record_incident(dir: &std::path::Path) -> (std::path::PathBuf, Timestamp) {
    let (mut app, clock, recorder) = recorded_demo(dir).await;
    let mut fired_at = None;
    for _ in 0..60 {
        clock.advance(Duration::from_secs(10));
        app.dispatch(Action::Tick(clock.now()));
        poll_all(&mut app, 0).await;
        let alarming = app.state.envs[0]
            .alarms
            .data
            .iter()
            .flatten()
            .any(|a| a.state == AlarmState::Alarm);
        if alarming && fired_at.is_none() {
            fired_at = Some(clock.now());
        }
        if fired_at.is_some_and(|t| clock.now() - t >= chrono::TimeDelta::seconds(60)) {
            break;
        }
    }
    assert!(recorder.sync(Duration::from_secs(10)));
    (
        recorder.path().to_path_buf(),
        fired_at.expect("the first alarm fired"),
    )
}

/// Start-up of the binary, including the first frame (a busy machine).
const START: Duration = Duration::from_secs(20);
/// One key's effect on the screen.
const STEP: Duration = Duration::from_secs(10);

#[track_caller]
fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_binary_replays_a_recording_with_seek_and_next_event() {
    use support::pty::Pty;
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (path, fired_at) = runtime.block_on(record_incident(dir.path()));
    let file = path.to_str().expect("UTF-8 path");
    for (cols, rows) in [(100, 30), (80, 24)] {
        let mut pty = Pty::spawn(support::honban(), &["replay", file], cols, rows, &[]);
        ok(pty.wait_for_all(&["REPLAY 03:00:0", "Overview"], START));
        // The replay marker never pushes PRODUCTION off the header.
        ok(pty.wait_for(" PRODUCTION ", STEP));
        // Paused, the clock stays where it is.
        pty.send_str("P");
        ok(pty.wait_until("paused", STEP, |s| s.contains("paused") || s.contains("‖")));
        // Seek to the moment the alarm was seen: the alarms view has it in ALARM.
        pty.send_str("@");
        ok(pty.wait_for(":seek ", STEP));
        pty.type_str(&fired_at.format("%H:%M:%S").to_string());
        pty.key_enter();
        let banner = format!("REPLAY {}", fired_at.format("%H:%M:%S"));
        ok(pty.wait_for(&banner, STEP));
        pty.send_str("5");
        ok(pty.wait_until("api-5xx in ALARM", STEP, |s| {
            s.lines()
                .any(|l| l.contains("ALARM") && l.contains("works-logue-prod-api-5xx"))
        }));
        // Back to the start: the alarm is OK there.
        pty.send_str("@");
        ok(pty.wait_for(":seek ", STEP));
        pty.type_str("03:00");
        pty.key_enter();
        ok(pty.wait_for("REPLAY 03:00:0", STEP));
        ok(pty.wait_until("api-5xx OK", STEP, |s| {
            s.lines()
                .any(|l| l.contains("OK") && l.contains("works-logue-prod-api-5xx"))
        }));
        // The next timeline event (and the one after) moves the clock to it.
        // The next timeline event: the clock goes to it and the footer
        // says what it was; `[` comes back to an earlier one.
        let at_event = |s: &str| {
            let banner = s.find("REPLAY ").map(|i| &s[i + 7..i + 15]);
            banner.is_some_and(|t| {
                t != "03:00:00"
                    && s.lines()
                        .any(|l| l.trim_start().starts_with(&format!("{t} UTC  production")))
            })
        };
        pty.send_str("]");
        ok(pty.wait_until("the clock at the next event", STEP, at_event));
        // `[` from half a minute after the alarm was seen: back to an event
        // (the alarm's at least; how many more the simulation made on a
        // busy machine varies).
        pty.send_str("@");
        ok(pty.wait_for(":seek ", STEP));
        let later = fired_at + chrono::TimeDelta::seconds(30);
        pty.type_str(&later.format("%H:%M:%S").to_string());
        pty.key_enter();
        ok(pty.wait_for(&format!("REPLAY {}", later.format("%H:%M:%S")), STEP));
        pty.send_str("[");
        ok(pty.wait_until("the clock at an earlier event", STEP, |s| {
            at_event(s) && !s.contains(&format!("REPLAY {}", later.format("%H:%M:%S")))
        }));
        // An operation key is refused.
        pty.send_str("2");
        ok(pty.wait_for("Services", STEP));
        pty.send_str("s");
        ok(pty.wait_for("not available in a replay", STEP));
        // Help lists the replay keys.
        pty.send_str("?");
        ok(pty.wait_for_all(&["Replay: seek", "Next event", ":seek"], STEP));
        assert!(
            !pty.screen_text().contains("Scale a service"),
            "a replay's help lists no operation:\n{}",
            pty.dump()
        );
        pty.key_esc();
        pty.send_str("q");
        let code = ok(pty.wait_exit(STEP));
        assert_eq!(code, 0, "{}", pty.dump());
        ok(pty.check_restored());
    }
}

#[test]
fn replay_lists_recordings_and_exits_64_or_65_on_bad_targets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (path, _) = runtime.block_on(record_incident(dir.path()));
    let state = dir.path().join("state");
    let recordings = state.join("honban").join("recordings");
    std::fs::create_dir_all(&recordings).expect("mkdir");
    let session = path
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .to_string();
    std::fs::copy(&path, recordings.join(format!("{session}.jsonl"))).expect("copy");
    let env = [("XDG_STATE_HOME", state.to_str().expect("UTF-8"))];
    let out = support::run(support::honban(), &["replay"], &env, STEP);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains(&session), "{out}");
    assert!(out.stdout.contains("production,staging"), "{out}");
    assert!(out.stdout.contains("DURATION"), "{out}");
    let out = support::run(support::honban(), &["replay", "nope"], &env, STEP);
    assert_eq!(out.code, Some(64), "{out}");
    assert!(out.stderr.contains("no recording \"nope\""), "{out}");
    let newer =
        std::fs::read_to_string(&path)
            .expect("read")
            .replacen("\"format\":2", "\"format\":7", 1);
    let newer_path = dir.path().join("newer.jsonl");
    std::fs::write(&newer_path, newer).expect("write");
    let out = support::run(
        support::honban(),
        &["replay", newer_path.to_str().expect("UTF-8")],
        &env,
        STEP,
    );
    assert_eq!(out.code, Some(65), "{out}");
    assert!(out.stderr.contains("format 7"), "{out}");
}

#[test]
fn kill_9_while_recording_loses_at_most_the_last_second() {
    use support::pty::Pty;
    // Everything polled every second, so that a second lost would show.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[refresh]\nservices_secs = 1\ntasks_secs = 1\ndatabases_secs = 1\nalarms_secs = 1\n",
    )
    .expect("config");
    let args = [
        "--demo",
        "--seed",
        "5",
        "--config",
        config.to_str().expect("UTF-8"),
    ];
    let mut pty = Pty::spawn(support::honban(), &args, 100, 30, &[]);
    ok(pty.wait_for_all(&["Overview", "worker"], START));
    let recordings = pty.state_home().join("honban").join("recordings");
    let file = || {
        std::fs::read_dir(&recordings)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
    };
    // Recording for a while: a few seconds of loads on disk.
    let started = std::time::Instant::now();
    let mut loads = 0;
    while started.elapsed() < Duration::from_secs(30) && loads < 40 {
        loads = file()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map_or(0, |t| t.matches("\"rec\":\"load\"").count());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(loads >= 40, "only {loads} loads recorded:\n{}", pty.dump());
    let killed_at = Utc::now();
    pty.kill("KILL");
    let _ = pty.wait_exit(STEP);
    let path = file().expect("the recording");
    let rec = Recording::open(&path).expect("opens after kill -9");
    // At most the line being written is torn.
    if let Some((line, why)) = &rec.damage {
        let lines = std::fs::read_to_string(&path).map_or(0, |t| t.split('\n').count());
        assert_eq!(*line, lines, "only the last line may be torn: {why}");
    }
    let mut at: Vec<_> = rec
        .steps
        .iter()
        .filter(|s| matches!(s.what, honban::replay::What::Load { .. }))
        .map(|s| s.at)
        .collect();
    at.sort_unstable();
    let last_load = *at.last().expect("loads");
    let lost = killed_at - last_load;
    // Polled every second, but a busy machine stretches the cadence: the
    // newest load on disk is at most one gap between loads (as this run
    // had them) plus the second a kill may lose (and a little scheduling)
    // old.
    let gap = at
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default()
        .max(chrono::TimeDelta::seconds(1));
    assert!(
        lost <= gap + chrono::TimeDelta::milliseconds(1500),
        "the newest load on disk is {lost} older than the kill (loads {gap} apart at most)"
    );
    // And the recording replays.
    let mut player = Player::new(rec, Keymap::defaults());
    player.seek(last_load);
    assert!(player.state.envs[0].services.data.is_some());
}

// ------------------------------------------------------------ measurement

/// A world of 3 clusters, 300 services of 10 tasks (3 000 tasks), a CPU
/// and a memory metric per service and 500 alarms on them, in the format
/// of `assets/sim/world.toml`.
fn large_world() -> String {
    let clusters = ["big-a", "big-b", "big-c"];
    let mut t = String::from(
        r#"[[world]]
name = "large"
account = "111122223333"
region = "ap-northeast-1"
protected = true
clusters = ["big-a", "big-b", "big-c"]
availability_zones = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
operator_role = "OnCallOperator"
role_id = "AROAEXAMPLELARGE00001"
rds_endpoint_id = "abcdefghijkl"

[world.chaos]
task_stop_every = "1m"
incident_gap = ["10m", "20m"]
"#,
    );
    for i in 0..300 {
        let c = clusters[i % 3];
        t.push_str(&format!(
            r#"
[[world.service]]
name = "svc-{i:03}"
cluster = "{c}"
family = "large-svc-{i:03}"
desired_count = 10
cpu = "256"
memory = "512"
execution_role = "ecsTaskExecutionRole"
created_ago = "100d"
circuit_breaker = {{ enable = true, rollback = true }}

[[world.service.container]]
name = "app"
repository = "large/svc-{i:03}"
ports = [8080]

[[world.service.revision]]
revision = 1
tag = "v1.0.0"
registered_ago = "10d"

[[world.metric]]
id = "svc-{i:03}-cpu"
namespace = "AWS/ECS"
name = "CPUUtilization"
dimensions = {{ ClusterName = "{c}", ServiceName = "svc-{i:03}" }}
unit = "Percent"
mean = 30.0
noise = 4.0
max = 100.0

[[world.metric]]
id = "svc-{i:03}-memory"
namespace = "AWS/ECS"
name = "MemoryUtilization"
dimensions = {{ ClusterName = "{c}", ServiceName = "svc-{i:03}" }}
unit = "Percent"
mean = 50.0
noise = 1.5
max = 100.0

[[world.alarm]]
name = "svc-{i:03}-cpu-high"
metric = "svc-{i:03}-cpu"
statistic = "Average"
comparison = "GreaterThanThreshold"
threshold = 80.0
period = 60
evaluation_periods = 2
"#
        ));
        if i < 200 {
            t.push_str(&format!(
                r#"
[[world.alarm]]
name = "svc-{i:03}-memory-high"
metric = "svc-{i:03}-memory"
statistic = "Average"
comparison = "GreaterThanThreshold"
threshold = 85.0
period = 60
evaluation_periods = 3
"#
            ));
        }
    }
    t.push_str(
        r#"
[[world.incident]]
name = "svc-007 CPU surge"
duration = ["120s", "240s"]
effects = [{ metric = "svc-007-cpu", add = 60.0 }]
"#,
    );
    t
}

/// Runs `app` for `secs` seconds of simulated time, polling every
/// environment at the default intervals (and its health checks at theirs).
async fn run_for(app: &mut App, clock: &Clock, secs: u64) {
    let intervals = honban::config::RefreshIntervals::default();
    for s in 1..=secs {
        clock.advance(Duration::from_secs(1));
        app.dispatch(Action::Tick(clock.now()));
        for env in 0..app.state.envs.len() {
            for resource in Resource::ALL {
                let every = honban::runner::interval_of(resource, &intervals).as_secs();
                if s % every == 0 {
                    app.dispatch(Action::PollDue { env, resource });
                }
            }
            let checks: Vec<u64> = app.state.envs[env]
                .probes
                .iter()
                .map(|p| p.interval_secs.max(1))
                .collect();
            for (probe, every) in checks.into_iter().enumerate() {
                if s % every == 0 {
                    app.dispatch(Action::ProbeDue { env, probe });
                }
            }
        }
        app.settle().await;
    }
}

/// Lines and bytes of a recording by kind.
fn breakdown(path: &std::path::Path) {
    let text = std::fs::read_to_string(path).expect("read");
    let mut by_kind: std::collections::BTreeMap<String, (usize, usize)> =
        std::collections::BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let kind = format!(
            "{}{}",
            v["rec"].as_str().unwrap_or("event"),
            v["kind"]
                .as_str()
                .map(|k| format!(":{k}"))
                .unwrap_or_default()
        );
        let entry = by_kind.entry(kind).or_default();
        entry.0 += 1;
        entry.1 += line.len() + 1;
    }
    for (kind, (n, b)) in &by_kind {
        println!("  {kind:<24} {n:>6} lines {b:>10} bytes");
    }
}

/// Bytes per hour of recording, for the demo and for a large environment,
/// and what replaying the large one costs (open, play through, seek back).
/// In the suite it records two simulated minutes and holds the recording
/// to ten times the measured rates; as a measurement (BENCHMARKS.md):
/// `MEASURE_MINUTES=60 cargo test --release --test replay -- --nocapture measure`
#[tokio::test]
async fn measure_recording_size_and_replay() {
    let minutes: u64 = std::env::var("MEASURE_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(2)
        .max(1);
    let per_hour = |bytes: u64| bytes as f64 * 60.0 / minutes as f64;
    let secs = minutes * 60;
    // The demo (both environments, their health checks).
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, clock, recorder) = recorded_demo(dir.path()).await;
    assert!(recorder.sync(Duration::from_secs(30)));
    let first = std::fs::metadata(recorder.path()).expect("file").len();
    run_for(&mut app, &clock, secs).await;
    assert!(recorder.sync(Duration::from_secs(30)));
    let demo_bytes = std::fs::metadata(recorder.path()).expect("file").len();
    println!(
        "demo: first load {first} bytes; {demo_bytes} bytes in {minutes} min = {:.0} kB/hour after the first load",
        (demo_bytes - first) as f64 / 1024.0 * 60.0 / minutes as f64
    );
    breakdown(recorder.path());
    // Measured: 136 KB first, 0.9 MB an hour after it.
    assert!(
        first > 0 && first < 1_500_000,
        "demo first load {first} bytes"
    );
    assert!(
        per_hour(demo_bytes - first) < 9_000_000.0,
        "the demo records {} bytes an hour",
        per_hour(demo_bytes - first)
    );

    // The large environment.
    let clock = Clock::manual(start());
    let sim = honban::backend::sim::SimBackend::from_description(
        &large_world(),
        "large",
        9,
        clock.clone(),
    )
    .expect("the large world builds");
    let cfg = honban::config::EnvironmentConfig {
        name: "large".into(),
        source: honban::config::Source::Sim,
        region: Some("ap-northeast-1".into()),
        protected: true,
        clusters: ["big-a", "big-b", "big-c"]
            .iter()
            .map(|c| honban::config::ClusterConfig {
                name: (*c).to_string(),
                services: Vec::new(),
            })
            .collect(),
        ..Default::default()
    };
    let env = honban::state::EnvState::from_config(
        &cfg,
        &honban::config::RefreshIntervals::default(),
        false,
    );
    let state = State::new(vec![env], 0, Keymap::defaults(), start());
    let runtime = honban::runner::EnvRuntime {
        config: cfg,
        backend: Arc::new(sim),
        prober: Arc::new(honban::probe::HttpProber::new()),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let header = Header::of(&state, start());
    let recorder = Arc::new(Recorder::start(dir.path(), &header, u64::MAX).expect("recorder"));
    let mut app = App::new(state, vec![runtime], clock.clone()).with_recorder(recorder.clone());
    app.dispatch(Action::Resize(160, 48));
    app.dispatch(Action::Tick(start()));
    poll_all(&mut app, 0).await;
    let e = &app.state.envs[0];
    println!(
        "large: {} services, {} tasks, {} alarms",
        e.services.data.as_ref().map_or(0, Vec::len),
        e.tasks.data.as_ref().map_or(0, Vec::len),
        e.alarms.data.as_ref().map_or(0, Vec::len)
    );
    assert!(recorder.sync(Duration::from_secs(30)));
    let first = std::fs::metadata(recorder.path()).expect("file").len();
    run_for(&mut app, &clock, secs).await;
    assert!(recorder.sync(Duration::from_mins(1)));
    let bytes = std::fs::metadata(recorder.path()).expect("file").len();
    println!(
        "large: first load {first} bytes; {bytes} bytes in {minutes} min = {:.0} kB/hour after the first load",
        (bytes - first) as f64 / 1024.0 * 60.0 / minutes as f64
    );
    if let Ok(keep) = std::env::var("MEASURE_KEEP") {
        std::fs::copy(recorder.path(), keep).expect("copy the recording");
    }
    breakdown(recorder.path());
    // Measured: 7.5 MB first, 4.2 MB an hour after it.
    assert!(first < 75_000_000, "large first load {first} bytes");
    assert!(
        per_hour(bytes - first) < 42_000_000.0,
        "the large environment records {} bytes an hour",
        per_hour(bytes - first)
    );

    // Replaying it.
    let t = std::time::Instant::now();
    let rec = Recording::open(recorder.path()).expect("opens");
    let opened = t.elapsed();
    let end = rec.end();
    let t = std::time::Instant::now();
    let mut player = Player::new(rec, Keymap::defaults());
    player.seek(end);
    let to_end = t.elapsed();
    let middle = start() + (end - start()) / 2;
    let t = std::time::Instant::now();
    player.seek(middle);
    let back = t.elapsed();
    let t = std::time::Instant::now();
    player.seek(start());
    player.seek(end);
    let again = t.elapsed();
    println!(
        "replay of the large recording: open {opened:?}; play to the end {to_end:?}; seek back to the middle {back:?}; to the start and to the end again {again:?}; {} keyframes",
        player.keyframes()
    );
    assert_eq!(player.now(), end);
    // A moment of it shows the environment as it was.
    player.seek(middle);
    let services = player.state.envs[0]
        .services
        .data
        .as_ref()
        .map_or(0, Vec::len);
    assert_eq!(services, 300, "the large world's services at the middle");
}
