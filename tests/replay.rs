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
use honban::backend::sim::SimClock;
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
async fn recorded_demo(dir: &std::path::Path) -> (App, SimClock, Arc<Recorder>) {
    let config: Config = toml::from_str("").expect("empty config");
    let clock = SimClock::manual(start());
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
    view: Command,
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
                view: Command::Services,
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
                view: Command::Alarms,
                screen,
            });
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
        view: Command::Timeline,
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
        player.dispatch(Action::Command(shot.view));
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
            replayed[0].contains(&format!("REPLAY {}", shot.at.format("%H:%M:%S"))),
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
    let mut torn: String = lines[..19].iter().map(|l| format!("{l}\n")).collect();
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
