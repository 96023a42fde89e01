//! Headless app tests and render snapshots against the simulated
//! environment with a seeded RNG and a manual clock.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use honban::action::{Action, Resource};
use honban::app::App;
use honban::backend::{self, Backend};
use honban::clock::Clock;
use honban::config::Config;
use honban::config::keys::Command;
use honban::config::theme::{Theme, load_theme};
use honban::setup::{self, Options};
use honban::state::{Dialog, Mode, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
        .single()
        .expect("valid")
}

fn theme() -> Theme {
    load_theme("default", None, false).expect("default theme")
}

/// A demo console on a manual clock, with every panel of every
/// environment loaded once.
async fn demo(seed: u64) -> (App, Clock) {
    let config: Config = toml::from_str("").expect("empty config");
    let clock = Clock::manual(start());
    let options = Options {
        demo: true,
        seed: Some(seed),
        ..Options::default()
    };
    let (state, envs) = setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("demo builds");
    let n = state.envs.len();
    let mut app = App::new(state, envs, clock.clone());
    app.dispatch(Action::Resize(80, 24));
    app.dispatch(Action::Tick(start()));
    for env in 0..n {
        poll_all(&mut app, env).await;
    }
    (app, clock)
}

async fn poll_all(app: &mut App, env: usize) {
    for resource in Resource::ALL {
        app.dispatch(Action::PollDue { env, resource });
    }
    // --- probes
    for probe in 0..app.state.envs.get(env).map_or(0, |e| e.probes.len()) {
        app.dispatch(Action::ProbeDue { env, probe });
    }
    app.settle().await;
}

/// Moves the simulated world and the console's clock on, and refreshes.
async fn advance(app: &mut App, clock: &Clock, by: Duration) {
    clock.advance(by);
    app.dispatch(Action::Tick(clock.now()));
    let env = app.state.active;
    poll_all(app, env).await;
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = theme();
    terminal
        .draw(|f| honban::ui::draw(f, &app.state, &theme))
        .expect("draw");
    let buf = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn command(app: &mut App, text: &str) {
    app.dispatch(key(':'));
    for c in text.chars() {
        app.dispatch(key(c));
    }
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
}

#[tokio::test]
async fn the_demo_loads_every_panel() {
    let (app, _) = demo(1).await;
    for env in &app.state.envs {
        assert!(env.identity.data.is_some(), "{}: identity", env.name);
        assert!(
            env.services.data.as_ref().is_some_and(|s| !s.is_empty()),
            "{}: services",
            env.name
        );
        assert!(
            env.tasks.data.as_ref().is_some_and(|t| !t.is_empty()),
            "{}: tasks",
            env.name
        );
        assert!(
            env.databases.data.as_ref().is_some_and(|d| !d.is_empty()),
            "{}: dbs",
            env.name
        );
        assert!(
            env.alarms.data.as_ref().is_some_and(|a| !a.is_empty()),
            "{}: alarms",
            env.name
        );
        assert!(env.errors().is_empty(), "{}: {:?}", env.name, env.errors());
        // Every task definition the services use was fetched exactly once.
        for s in env.services.data.iter().flatten() {
            assert!(
                env.task_definitions.contains_key(&s.task_definition),
                "{}",
                s.task_definition
            );
        }
    }
    let prod = &app.state.envs[0];
    assert_eq!(prod.name, "production");
    assert!(prod.protected);
    let names: Vec<_> = prod
        .services
        .data
        .iter()
        .flatten()
        .map(|s| s.name.as_str())
        .collect();
    for wanted in ["web", "api", "worker"] {
        assert!(names.contains(&wanted), "{names:?}");
    }
    // Running counts agree with the task list.
    for s in prod.services.data.iter().flatten() {
        let running = prod
            .tasks
            .data
            .iter()
            .flatten()
            .filter(|t| t.service_name() == Some(s.name.as_str()) && t.last_status == "RUNNING")
            .count();
        assert_eq!(running as u32, s.running_count, "{}", s.name);
    }
}

#[tokio::test]
async fn the_simulation_moves_and_the_console_follows() {
    let (mut app, clock) = demo(3).await;
    let first_alarm_change = app.state.envs[0]
        .alarms
        .data
        .iter()
        .flatten()
        .map(|a| a.state_updated_at)
        .max();
    let tasks_before: Vec<String> = app.state.envs[0]
        .tasks
        .data
        .iter()
        .flatten()
        .map(|t| t.arn.clone())
        .collect();
    // An hour of simulated time in one-minute steps.
    let mut saw_alarm = false;
    for _ in 0..60 {
        advance(&mut app, &clock, Duration::from_mins(1)).await;
        saw_alarm |= app.state.envs[0].summary(app.state.now).alarms_firing > 0;
    }
    let last_alarm_change = app.state.envs[0]
        .alarms
        .data
        .iter()
        .flatten()
        .map(|a| a.state_updated_at)
        .max();
    let tasks_after: Vec<String> = app.state.envs[0]
        .tasks
        .data
        .iter()
        .flatten()
        .map(|t| t.arn.clone())
        .collect();
    assert!(saw_alarm, "an alarm fires at some point within an hour");
    assert_ne!(first_alarm_change, last_alarm_change, "alarm states change");
    assert_ne!(tasks_before, tasks_after, "tasks are stopped and replaced");
    assert_eq!(
        app.state.envs[0].panel_meta(Resource::Services).loaded_at,
        Some(clock.now())
    );
}

#[tokio::test]
async fn keys_drive_the_views_end_to_end() {
    let (mut app, _) = demo(1).await;
    command(&mut app, "svc");
    assert_eq!(app.state.view(), &View::Services);
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    app.settle().await;
    let View::ServiceDetail { service } = app.state.view().clone() else {
        panic!("expected a service detail, got {:?}", app.state.view());
    };
    let env = &app.state.envs[0];
    let td = &app
        .state
        .service(&service)
        .expect("service")
        .task_definition;
    let family = td
        .rsplit('/')
        .next()
        .and_then(|l| l.split(':').next())
        .expect("family");
    assert!(
        env.revisions
            .get(family)
            .and_then(|p| p.data.as_ref())
            .is_some_and(|r| !r.is_empty()),
        "revisions of {family} were fetched"
    );
    command(&mut app, "env staging");
    app.settle().await;
    assert_eq!(app.state.env().map(|e| e.name.as_str()), Some("staging"));
    assert_eq!(
        app.state.view(),
        &View::Services,
        "detail of a production service is closed"
    );
    app.dispatch(Action::Command(Command::Quit));
    assert!(app.state.quit);
}

// ------------------------------------------------------------ snapshots

async fn snapshot_views(w: u16, h: u16) {
    let (mut app, _) = demo(42).await;
    app.dispatch(Action::Resize(w, h));
    let size = format!("{w}x{h}");
    insta::assert_snapshot!(format!("overview_{size}"), render(&app, w, h));
    command(&mut app, "svc");
    insta::assert_snapshot!(format!("services_{size}"), render(&app, w, h));
    app.dispatch(Action::Command(Command::Select));
    app.settle().await;
    insta::assert_snapshot!(format!("service_detail_{size}"), render(&app, w, h));
    command(&mut app, "tasks");
    insta::assert_snapshot!(format!("tasks_{size}"), render(&app, w, h));
    // The last task (a stopped one) in detail.
    app.dispatch(Action::Command(Command::Bottom));
    app.dispatch(Action::Command(Command::Select));
    insta::assert_snapshot!(format!("task_detail_{size}"), render(&app, w, h));
    command(&mut app, "db");
    insta::assert_snapshot!(format!("databases_{size}"), render(&app, w, h));
    command(&mut app, "alarms");
    insta::assert_snapshot!(format!("alarms_{size}"), render(&app, w, h));
    // --- metrics: the alarm detail (chart, history), then back.
    app.dispatch(Action::Command(Command::Select));
    app.settle().await;
    insta::assert_snapshot!(format!("alarm_detail_{size}"), render(&app, w, h));
    app.dispatch(Action::Command(Command::Back));
    app.dispatch(key('?'));
    insta::assert_snapshot!(format!("help_{size}"), render(&app, w, h));
    app.dispatch(key('x'));
    app.dispatch(key(':'));
    app.dispatch(key('e'));
    insta::assert_snapshot!(format!("command_line_{size}"), render(&app, w, h));
    app.dispatch(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    command(&mut app, "env staging");
    command(&mut app, "overview");
    insta::assert_snapshot!(format!("staging_overview_{size}"), render(&app, w, h));
}

#[tokio::test]
async fn views_at_80x24() {
    Box::pin(snapshot_views(80, 24)).await;
}

#[tokio::test]
async fn views_at_160x48() {
    Box::pin(snapshot_views(160, 48)).await;
}

fn shift(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT))
}

/// Sorted tables (▲/▼ in the sorted column's header), cut columns that
/// keep their meaningful end, the service detail's filter.
async fn snapshot_sorted(w: u16, h: u16) {
    let (mut app, _) = demo(42).await;
    app.dispatch(Action::Resize(w, h));
    let size = format!("{w}x{h}");
    command(&mut app, "svc");
    // P is the CPU column's letter (C continues a blue/green
    // deployment): twice, the busiest first.
    app.dispatch(shift('P'));
    app.dispatch(shift('P'));
    let screen = render(&app, w, h);
    assert!(screen.contains("CPU▼"), "{screen}");
    insta::assert_snapshot!(format!("services_sorted_cpu_{size}"), screen);
    command(&mut app, "tasks");
    command(&mut app, "sort rev desc");
    let screen = render(&app, w, h);
    assert!(screen.contains("REV▼"), "{screen}");
    insta::assert_snapshot!(format!("tasks_sorted_rev_{size}"), screen);
    // The worker's detail, its tasks filtered to the stopped one.
    command(&mut app, "svc");
    command(&mut app, "sort name desc");
    app.dispatch(Action::Command(Command::Top));
    app.dispatch(Action::Command(Command::Select));
    app.settle().await;
    app.dispatch(key('/'));
    for c in "stopped".chars() {
        app.dispatch(key(c));
    }
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let screen = render(&app, w, h);
    assert!(screen.contains("Service worker"), "{screen}");
    insta::assert_snapshot!(format!("service_detail_filtered_{size}"), screen);
}

#[tokio::test]
async fn sorted_and_cut_at_80x24() {
    snapshot_sorted(80, 24).await;
}

#[tokio::test]
async fn sorted_and_cut_at_160x48() {
    snapshot_sorted(160, 48).await;
}

#[tokio::test]
async fn the_help_scrolls_where_it_does_not_fit() {
    let (mut app, _) = demo(42).await;
    app.dispatch(Action::Resize(80, 24));
    app.dispatch(key('?'));
    let top = render(&app, 80, 24);
    assert!(top.contains("more · j/k"), "{top}");
    app.dispatch(key('G'));
    let bottom = render(&app, 80, 24);
    assert!(bottom.contains("Filters: words match"), "{bottom}");
    assert!(
        !bottom.contains(" q      Quit"),
        "scrolled past the first line"
    );
    insta::assert_snapshot!("help_scrolled_80x24", bottom);
    app.dispatch(key('x'));
    assert!(!render(&app, 80, 24).contains("Help ·"));
}

#[tokio::test]
async fn the_overview_at_60x15_shows_its_services() {
    let (mut app, _) = demo(42).await;
    app.dispatch(Action::Resize(60, 15));
    let screen = render(&app, 60, 15);
    for name in ["api", "web", "worker"] {
        assert!(
            screen.lines().any(|l| l.starts_with(&format!("│{name} "))),
            "{name}:\n{screen}"
        );
    }
    insta::assert_snapshot!("overview_60x15", screen);
}

#[tokio::test]
async fn a_tiny_terminal_gets_a_message_not_a_panic() {
    let (app, _) = demo(42).await;
    for (w, h) in [(40, 10), (1, 1), (0, 0), (59, 30), (200, 14)] {
        let screen = render(&app, w, h);
        if w >= 20 && h >= 3 {
            assert!(screen.contains("terminal too small"), "{w}x{h}:\n{screen}");
        }
    }
}

#[tokio::test]
async fn a_failed_refresh_is_shown_with_stale_data() {
    let (mut app, _) = demo(42).await;
    let generation = app.state.envs[0].alarms.generation + 1;
    app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Alarms,
    });
    // Drop the real answer: deliver a failure for the same generation first.
    app.dispatch(Action::Loaded {
        env: 0,
        resource: Resource::Alarms,
        generation,
        at: start(),
        result: Err(honban::backend::BackendError::Unauthorized {
            message: "ExpiredToken: the security token included in the request is expired".into(),
            hint: Some("run `aws sso login --profile prod`".into()),
        }),
    });
    let screen = render(&app, 80, 24);
    assert!(screen.contains("stale"), "{screen}");
    assert!(screen.contains("aws sso login --profile prod"), "{screen}");
    assert!(app.state.envs[0].alarms.data.is_some(), "old data stays");
    app.settle().await;
}

// ------------------------------------------------------------ operations

/// A key pressed by an operator who reads the screen first: a frame is
/// drawn before it (so an open confirmation accepts it).
fn press(app: &mut App, code: KeyCode) {
    app.dispatch(Action::Drawn);
    app.dispatch(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// The demo with production's backend kept at hand, and an audit log in
/// `dir`.
async fn demo_with_audit(
    dir: &std::path::Path,
) -> (
    App,
    Clock,
    std::sync::Arc<honban::backend::sim::SimBackend>,
    std::sync::Arc<honban::audit::AuditLog>,
) {
    let config: Config = toml::from_str("").expect("empty config");
    let clock = Clock::manual(start());
    let options = Options {
        demo: true,
        seed: Some(11),
        ..Options::default()
    };
    let (state, mut envs) = setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("demo builds");
    let sim = std::sync::Arc::new(
        honban::backend::sim::SimBackend::new("production", 11, clock.clone()).expect("world"),
    );
    envs[0].backend = sim.clone();
    let audit = std::sync::Arc::new(honban::audit::AuditLog::in_dir(dir));
    let mut app = App::new(state, envs, clock.clone()).with_audit(audit.clone());
    app.dispatch(Action::Resize(100, 30));
    app.dispatch(Action::Tick(start()));
    poll_all(&mut app, 0).await;
    (app, clock, sim, audit)
}

/// Opens the service named in the services view.
async fn open_service(app: &mut App, name: &str) {
    app.dispatch(Action::Command(Command::Services));
    let index = app
        .state
        .visible_services()
        .iter()
        .position(|s| s.name == name)
        .expect("listed");
    for _ in 0..index {
        app.dispatch(Action::Command(Command::Down));
    }
    press(app, KeyCode::Enter);
    app.settle().await;
    assert_eq!(
        app.state.view(),
        &View::ServiceDetail {
            service: name.to_string()
        }
    );
}

/// Advances the world until the first activity's watch has ended.
async fn until_watch_ends(app: &mut App, clock: &Clock) -> honban::watch::WatchStatus {
    for _ in 0..120 {
        if let Some(w) = app.state.activity.first().and_then(|a| a.watch.as_ref())
            && w.status.is_final()
        {
            return w.status.clone();
        }
        advance(app, clock, Duration::from_secs(5)).await;
    }
    panic!(
        "the watch did not end: {:?}",
        app.state.activity.first().map(|a| (&a.status, &a.watch))
    );
}

#[tokio::test]
async fn a_deploy_is_confirmed_audited_shared_and_watched_to_completion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, clock, sim, audit) = demo_with_audit(dir.path()).await;
    open_service(&mut app, "web").await;
    let before = app
        .state
        .service("web")
        .expect("web")
        .task_definition
        .clone();

    press(&mut app, KeyCode::Char('i'));
    // web has a log router too: the app container is preselected.
    assert!(matches!(
        app.state.mode,
        honban::state::Mode::Dialog(honban::state::Dialog::PickContainer { index: 0, .. })
    ));
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "v2");
    press(&mut app, KeyCode::Enter);
    // Production is protected: environment/name, then enter.
    type_text(&mut app, "production/web");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    let a = &app.state.activity[0];
    assert!(
        matches!(a.status, honban::watch::OpStatus::Accepted { .. }),
        "{:?}",
        a.status
    );

    let end = until_watch_ends(&mut app, &clock).await;
    assert!(
        matches!(end, honban::watch::WatchStatus::Completed(_)),
        "{end:?}"
    );
    let after = app.state.service("web").expect("web");
    assert_ne!(after.task_definition, before);
    let td = &app.state.envs[0].task_definitions;
    let image = td
        .get(&after.task_definition)
        .and_then(|t| t.containers.first())
        .map(|c| c.image.clone());
    assert!(image.is_some_and(|i| i.ends_with(":v2")));

    // The local audit log: intent, result, and how it ended, for the same
    // operation, each saying it happened in a simulation.
    let (records, skipped) = audit.read_recent(10).expect("audit log");
    assert_eq!(skipped, 0);
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(records[0].phase, honban::audit::Phase::Intent);
    assert_eq!(records[1].phase, honban::audit::Phase::Result);
    assert_eq!(records[2].phase, honban::audit::Phase::Final);
    assert_eq!(records[2].ended.as_deref(), Some("completed"));
    assert_eq!(records[2].outcome, Some(honban::audit::Outcome::Success));
    assert!(records.iter().all(|r| r.simulated && r.id == records[0].id));
    assert_eq!(records[0].operation, "deploy-image");
    assert_eq!(records[0].environment, "production");
    assert!(
        records[0]
            .caller
            .as_deref()
            .is_some_and(|c| c.starts_with("arn:aws:sts::"))
    );
    assert_eq!(records[1].outcome, Some(honban::audit::Outcome::Success));
    assert_eq!(
        records[1].result["registered"].as_str(),
        Some(after.task_definition.as_str())
    );

    // The shared trail (production has an audit log group in the demo):
    // the audit records, and the timeline's events beside them.
    let audit_only = |sim: &honban::backend::sim::SimBackend| {
        let (timeline, audit): (Vec<_>, Vec<_>) = sim
            .audit_trail()
            .into_iter()
            .partition(|(_, _, m)| m.starts_with("{\"honban_timeline\""));
        (audit, timeline)
    };
    let (mut trail, mut shared_timeline) = audit_only(&sim);
    for _ in 0..100 {
        if trail.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        (trail, shared_timeline) = audit_only(&sim);
    }
    assert_eq!(trail.len(), 3, "{trail:?}");
    assert!(
        shared_timeline
            .iter()
            .any(|(_, _, m)| m.contains("deployment_completed")),
        "{shared_timeline:?}"
    );
    assert!(
        trail
            .iter()
            .all(|(g, s, _)| g == "/honban/audit" && s.starts_with("honban/"))
    );
    assert!(trail[0].2.contains("\"phase\":\"intent\""));
    assert!(trail[1].2.contains("\"phase\":\"result\""));
    assert!(trail[2].2.contains("\"phase\":\"final\""));
}

#[tokio::test]
async fn a_bad_image_fails_and_the_offered_rollback_restores_the_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, clock, _sim, audit) = demo_with_audit(dir.path()).await;
    open_service(&mut app, "api").await;
    let before = app
        .state
        .service("api")
        .expect("api")
        .task_definition
        .clone();
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "bad-1");
    press(&mut app, KeyCode::Enter);
    // The preview checks the image: the simulated registry has no such
    // tag, and says so before anything is sent (the operator goes on).
    app.settle().await;
    let Mode::Dialog(Dialog::Confirm {
        op: honban::ops::Operation::DeployImage { to, .. },
        ..
    }) = &app.state.mode
    else {
        panic!("expected the deploy preview: {:?}", app.state.mode);
    };
    let check = app.state.image_checks.get(&(0, to.clone()));
    assert!(
        check.is_some_and(honban::images::ImageCheck::is_missing),
        "{check:?}"
    );
    type_text(&mut app, "production/api");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    let end = until_watch_ends(&mut app, &clock).await;
    // production api has the circuit breaker with rollback.
    assert!(
        matches!(end, honban::watch::WatchStatus::RolledBack(_)),
        "{end:?}"
    );

    // One key and the confirmation roll back.
    app.state.activity.clear();
    let running = app
        .state
        .service("api")
        .expect("api")
        .task_definition
        .clone();
    press(&mut app, KeyCode::Char('b'));
    app.settle().await;
    type_text(&mut app, "production/api");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    let a = &app.state.activity[0];
    let rev = honban::state::revision_number;
    match &a.op {
        // The previous revision of what runs now: never the newer, failed
        // one (the circuit breaker may already have put `before` back).
        honban::ops::Operation::Rollback { to, .. } => {
            assert!(rev(to) < rev(&running), "{to} vs {running}");
            assert!(rev(to) <= rev(&before), "{to} vs {before}");
        }
        other => panic!("expected a rollback, got {other:?}"),
    }
    let end = until_watch_ends(&mut app, &clock).await;
    assert!(
        matches!(end, honban::watch::WatchStatus::Completed(_)),
        "{end:?}"
    );
    let (records, _) = audit.read_recent(10).expect("audit log");
    let ops: Vec<(&str, honban::audit::Phase)> = records
        .iter()
        .map(|r| (r.operation.as_str(), r.phase))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("deploy-image", honban::audit::Phase::Intent),
            ("deploy-image", honban::audit::Phase::Result),
            ("deploy-image", honban::audit::Phase::Final),
            ("rollback", honban::audit::Phase::Intent),
            ("rollback", honban::audit::Phase::Result),
            ("rollback", honban::audit::Phase::Final),
        ]
    );
    // The deploy was accepted ("success" as a request) but it did not
    // last: its final record says the circuit breaker rolled it back.
    // The intent says what the registry said when it was confirmed.
    assert!(
        records[0].parameters["imageCheck"]
            .as_str()
            .is_some_and(|a| a.starts_with("NOT FOUND: works-logue/api:bad-1")),
        "{:?}",
        records[0]
    );
    assert!(
        records[0]
            .after
            .as_deref()
            .is_some_and(|a| a.ends_with("works-logue/api:bad-1")),
        "the state asked for, nothing else: {:?}",
        records[0]
    );
    let deploy = &records[2];
    assert_eq!(records[1].outcome, Some(honban::audit::Outcome::Success));
    assert_eq!(deploy.ended.as_deref(), Some("rolled back"));
    assert_eq!(deploy.outcome, Some(honban::audit::Outcome::Error));
    assert!(
        deploy
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("circuit breaker")),
        "{deploy:?}"
    );
    assert_eq!(records[5].ended.as_deref(), Some("completed"));
    assert!(records.iter().all(|r| r.simulated));
    // Read back for the activity view of a later demo session: one line,
    // with how it ended.
    let history = honban::audit::latest_per_operation(records[..3].to_vec());
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].ended.as_deref(), Some("rolled back"));
    assert_eq!(history[0].phase, honban::audit::Phase::Final);
}

/// The dialog titled `title`, border included, without the view around it.
fn dialog_text(screen: &str, title: &str) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    let Some((top, x)) = lines.iter().enumerate().find_map(|(i, l)| {
        let at = l.find(&format!(" {title} "))?;
        let before: Vec<char> = l[..at].chars().collect();
        let x = before.iter().rposition(|c| *c == '┏' || *c == '┌')?;
        Some((i, x))
    }) else {
        return String::new();
    };
    let width = lines[top]
        .chars()
        .skip(x)
        .position(|c| c == '┓' || c == '┐')
        .map_or(usize::MAX, |w| w + 1);
    let mut out = Vec::new();
    for l in &lines[top..] {
        let part: String = l.chars().skip(x).take(width).collect();
        let done = part.starts_with('┗') || part.starts_with('└');
        out.push(part);
        if done {
            break;
        }
    }
    out.join("\n")
}

#[tokio::test]
async fn confirmations_warn_of_downtime_and_want_env_slash_name_at_80x24() {
    let (mut app, _) = demo(42).await;
    // Production's read replica is single-AZ: a reboot has no failover.
    command(&mut app, "db");
    let index = app
        .state
        .visible_databases()
        .iter()
        .position(|d| d.id == "works-logue-prod-db-replica")
        .expect("the replica is listed");
    for _ in 0..index {
        app.dispatch(Action::Command(Command::Down));
    }
    press(&mut app, KeyCode::Char('F'));
    let title = "Reboot works-logue-prod-db-replica";
    let text = dialog_text(&render(&app, 80, 24), title);
    assert!(
        text.contains("!! no Multi-AZ standby, so no failover"),
        "{text}"
    );
    assert!(
        text.contains("type production/works-logue-prod-db-replica to confirm:"),
        "{text}"
    );
    // The name alone is wrong, and the dialog says so.
    type_text(&mut app, "works-logue-prod-db-replica");
    press(&mut app, KeyCode::Enter);
    assert!(app.state.activity.is_empty());
    let text = dialog_text(&render(&app, 80, 24), title);
    insta::assert_snapshot!("confirm_reboot_wrong_entry_80x24", text);
    assert!(text.contains("is not"), "{text}");
    press(&mut app, KeyCode::Esc);

    // Staging: scaling api to 0 takes it down; enter does not send.
    command(&mut app, "env staging");
    command(&mut app, "svc");
    let index = app
        .state
        .visible_services()
        .iter()
        .position(|s| s.name == "api")
        .expect("api is listed");
    for _ in 0..index {
        app.dispatch(Action::Command(Command::Down));
    }
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Backspace);
    type_text(&mut app, "0");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    assert!(app.state.activity.is_empty(), "enter sent nothing");
    let text = dialog_text(&render(&app, 80, 24), "Scale service api");
    insta::assert_snapshot!("confirm_scale_to_0_80x24", text);
    assert!(
        text.contains("!! desired 0 stops every task of api"),
        "{text}"
    );
    assert!(text.contains("enter does not send: press y"), "{text}");
}

// --- metrics

#[tokio::test]
async fn an_alarm_is_followed_to_its_chart_and_to_the_service_in_a_few_keys() {
    let (mut app, _) = demo(42).await;
    let metrics = app.state.envs[0]
        .metrics
        .data
        .clone()
        .expect("metrics loaded");
    let cpu = metrics
        .service_cpu("works-logue-prod", "web")
        .expect("web CPU is queried");
    assert!(
        cpu.points.len() >= 55,
        "an hour of minutes: {}",
        cpu.points.len()
    );
    command(&mut app, "alarms");
    let index = app
        .state
        .visible_alarms()
        .iter()
        .position(|a| a.name == "works-logue-prod-web-5xx")
        .expect("listed");
    for _ in 0..index {
        app.dispatch(key('j'));
    }
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    app.settle().await;
    assert_eq!(
        app.state.view(),
        &View::AlarmDetail {
            alarm: "works-logue-prod-web-5xx".into()
        }
    );
    let screen = render(&app, 160, 48);
    assert!(screen.contains("threshold 10"), "{screen}");
    assert!(screen.contains("History"), "{screen}");
    // The 5XX alarm watches the target group: enter leads to web.
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    app.settle().await;
    assert_eq!(
        app.state.view(),
        &View::ServiceDetail {
            service: "web".into()
        }
    );
    // R: three hours, fetched at once.
    app.dispatch(key('R'));
    app.settle().await;
    let data = app.state.envs[0].metrics.data.as_ref().expect("metrics");
    assert_eq!(data.range, honban::metrics::MetricRange::ThreeHours);
    assert!(render(&app, 160, 48).contains("CPU · last 3h"));
}

#[tokio::test]
async fn a_short_terminal_keeps_a_failing_health_check_on_the_overview() {
    let (mut app, _) = demo(42).await;
    // Passing checks fold into the summary line; recent events stay.
    let screen = render(&app, 80, 24);
    assert!(screen.contains("http 2/2"), "{screen}");
    assert!(!screen.contains("Health checks"), "{screen}");
    assert!(screen.contains("Recent events"), "{screen}");

    // One check fails: its panel comes back, with the error.
    let probe = 0;
    let generation = app.state.envs[0].probes[probe].generation;
    app.dispatch(Action::ProbeDone {
        env: 0,
        probe,
        generation,
        at: app.state.now,
        report: honban::probe::ProbeReport::failed(honban::probe::ProbeError::Timeout { secs: 5 }),
    });
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Health checks"), "{screen}");
    assert!(screen.contains("http 1/2"), "{screen}");
    assert!(screen.contains("timeout"), "{screen}");
}

// --- logs

/// The demo's logs view of `web` at `w`×`h`, its first poll answered.
async fn logs_of_web(w: u16, h: u16) -> App {
    let (mut app, _) = demo(42).await;
    app.dispatch(Action::Resize(w, h));
    app.dispatch(Action::Command(Command::Services));
    let index = app
        .state
        .visible_services()
        .iter()
        .position(|s| s.name == "web")
        .expect("web is listed");
    for _ in 0..index {
        app.dispatch(Action::Command(Command::Down));
    }
    app.dispatch(key('l'));
    app.settle().await;
    assert_eq!(app.state.view(), &View::Logs);
    app
}

/// Where `term` is drawn highlighted (reversed) on the screen.
fn highlighted(app: &App, w: u16, h: u16, term: &str) -> usize {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = theme();
    terminal
        .draw(|f| honban::ui::draw(f, &app.state, &theme))
        .expect("draw");
    let buf = terminal.backend().buffer().clone();
    let mut hits = 0;
    for y in 0..h {
        let row: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        let mut from = 0;
        while let Some(i) = row[from..].find(term) {
            let x = u16::try_from(row[..from + i].chars().count()).expect("column");
            if (0..term.len()).all(|d| {
                buf[(x + u16::try_from(d).expect("offset"), y)]
                    .modifier
                    .contains(ratatui::style::Modifier::REVERSED)
            }) {
                hits += 1;
            }
            from += i + term.len();
        }
    }
    hits
}

async fn snapshot_logs(w: u16, h: u16) {
    let size = format!("{w}x{h}");
    let mut app = logs_of_web(w, h).await;
    let logs = app.state.logs.as_ref().expect("logs");
    assert!(!logs.lines.is_empty(), "the demo's web service logs");
    let screen = render(&app, w, h);
    assert!(screen.contains("following"), "{screen}");
    insta::assert_snapshot!(format!("logs_{size}"), screen);
    // `e`: errors only, the term highlighted; space: paused.
    app.dispatch(key('e'));
    app.settle().await;
    app.dispatch(key(' '));
    let screen = render(&app, w, h);
    assert!(screen.contains("PAUSED"), "{screen}");
    assert!(screen.contains("pattern ERROR"), "{screen}");
    assert!(screen.contains("space resume"), "{screen}");
    assert!(
        highlighted(&app, w, h, "ERROR") > 0,
        "ERROR is highlighted:\n{screen}"
    );
    insta::assert_snapshot!(format!("logs_errors_paused_{size}"), screen);
}

#[tokio::test]
async fn logs_at_80x24() {
    Box::pin(snapshot_logs(80, 24)).await;
}

#[tokio::test]
async fn logs_at_160x48() {
    Box::pin(snapshot_logs(160, 48)).await;
}

#[tokio::test]
async fn a_failed_logs_poll_is_shown_above_the_lines_it_keeps() {
    let mut app = logs_of_web(80, 24).await;
    let before = app.state.logs.as_ref().expect("logs").lines.len();
    let generation = app.state.logs.as_ref().expect("logs").generation;
    app.dispatch(Action::LogsLoaded {
        generation,
        at: start(),
        result: Err(honban::backend::BackendError::Unauthorized {
            message: "AccessDeniedException: not authorized to perform logs:FilterLogEvents".into(),
            hint: None,
        }),
    });
    let screen = render(&app, 80, 24);
    assert!(screen.contains("FilterLogEvents"), "{screen}");
    assert!(screen.contains("unauthorized"), "{screen}");
    assert_eq!(
        app.state.logs.as_ref().expect("logs").lines.len(),
        before,
        "the lines stay"
    );
    insta::assert_snapshot!("logs_error_80x24", screen);
}

#[tokio::test]
async fn a_pattern_matching_nothing_says_so() {
    let mut app = logs_of_web(80, 24).await;
    app.dispatch(key('/'));
    for c in "NoSuchTerm".chars() {
        app.dispatch(key(c));
    }
    let screen = render(&app, 80, 24);
    assert!(screen.contains("pattern: NoSuchTerm"), "{screen}");
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    app.settle().await;
    let screen = render(&app, 80, 24);
    assert!(screen.contains("no events since"), "{screen}");
    insta::assert_snapshot!("logs_empty_80x24", screen);
}

#[tokio::test]
async fn the_logs_view_fits_small_terminals() {
    let mut app = logs_of_web(60, 15).await;
    let screen = render(&app, 60, 15);
    assert!(screen.contains("esc back"), "the hints fit:\n{screen}");
    assert!(screen.contains(" lines"), "the count is kept:\n{screen}");
    insta::assert_snapshot!("logs_60x15", screen);
    app.dispatch(key('t'));
    assert!(render(&app, 60, 15).contains("jump to:"));
    for (w, h) in [(40, 10), (59, 14), (20, 5), (1, 1), (0, 0)] {
        app.dispatch(Action::Resize(w, h));
        let screen = render(&app, w, h);
        if w >= 20 && h >= 3 {
            assert!(screen.contains("terminal too small"), "{w}x{h}:\n{screen}");
        }
    }
}

#[tokio::test]
async fn w_wraps_long_log_lines_and_the_newest_stays_in_view() {
    let mut app = logs_of_web(60, 15).await;
    let newest = app
        .state
        .logs
        .as_ref()
        .and_then(|l| l.lines.back())
        .map(|e| e.message.clone())
        .expect("lines");
    // Cut: one row a line, the end of a long message is not on screen.
    let cut = render(&app, 60, 15);
    app.dispatch(key('w'));
    assert!(app.state.logs.as_ref().is_some_and(|l| l.wrap));
    let wrapped = render(&app, 60, 15);
    assert!(wrapped.contains("w cut"), "{wrapped}");
    // The newest message is drawn whole, its rest on indented rows.
    let flat: String = wrapped
        .lines()
        .map(|l| l.trim_matches('│').trim())
        .collect::<Vec<_>>()
        .join("");
    let tail: String = newest
        .chars()
        .rev()
        .take(12)
        .collect::<String>()
        .chars()
        .rev()
        .collect();
    assert!(flat.contains(tail.trim()), "{tail:?} not in\n{wrapped}");
    assert!(
        wrapped
            .lines()
            .any(|l| l.starts_with("│                  ")),
        "a continuation row is indented under the message:\n{wrapped}"
    );
    assert_ne!(cut, wrapped);
    app.dispatch(key('w'));
    assert_eq!(render(&app, 60, 15), cut, "w again cuts");
}

#[tokio::test]
async fn the_service_detail_lists_each_target_with_its_state_and_why() {
    let (mut app, _) = demo(42).await;
    open_service(&mut app, "web").await;
    let screen = render(&app, 160, 48);
    assert!(screen.contains("targets 2/2 healthy"), "{screen}");
    // One target fails its health checks (as ELBv2 would report it).
    let groups = app.state.envs[0]
        .targets
        .data
        .as_mut()
        .expect("target groups");
    let web = groups
        .iter_mut()
        .find(|g| g.name.contains("web"))
        .expect("web's group");
    let bad = web.targets.first_mut().expect("a target");
    bad.state = "unhealthy".into();
    bad.reason = Some("Target.ResponseCodeMismatch".into());
    bad.description = Some("Health checks failed with these codes: [503]".into());
    let id = bad.id.clone();
    app.state.dirty = true;
    let screen = render(&app, 160, 48);
    assert!(screen.contains("targets 1/2 healthy"), "{screen}");
    let line = screen
        .lines()
        .find(|l| l.contains(&id) && l.contains("unhealthy"))
        .unwrap_or_else(|| panic!("no line for {id}:\n{screen}"));
    assert!(
        line.contains("Target.ResponseCodeMismatch: Health checks failed with these codes: [503]"),
        "{line}"
    );
}

#[tokio::test]
async fn a_detail_whose_resource_is_gone_says_so() {
    let (mut app, _) = demo(42).await;
    open_service(&mut app, "web").await;
    if let Some(services) = app.state.envs[0].services.data.as_mut() {
        services.retain(|s| s.name != "web");
    }
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Service web"), "{screen}");
    assert!(
        screen.contains("service web is no longer listed in this environment"),
        "{screen}"
    );
    // Not loaded yet: loading, not gone.
    app.state.envs[0].services.data = None;
    let screen = render(&app, 80, 24);
    assert!(screen.contains("the service"), "{screen}");
    assert!(!screen.contains("no longer listed"), "{screen}");
}

/// A simulated environment configured without clusters reads the world's
/// clusters (ListClusters) and then their services and tasks.
#[tokio::test]
async fn a_simulated_environment_without_clusters_discovers_them() {
    let config: Config = toml::from_str(
        r#"
[[environment]]
name = "drill"
source = "sim"
sim_world = "production"
"#,
    )
    .expect("config");
    let clock = Clock::manual(start());
    let options = Options {
        seed: Some(7),
        ..Options::default()
    };
    let (state, envs) = setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("builds");
    let mut app = App::new(state, envs, clock);
    app.dispatch(Action::Tick(start()));
    poll_all(&mut app, 0).await;
    let e = &app.state.envs[0];
    assert!(e.errors().is_empty(), "{:?}", e.errors());
    assert_eq!(
        e.ecs_clusters(),
        Some(&["works-logue-prod".to_string()][..])
    );
    assert_eq!(e.services.data.as_ref().map(Vec::len), Some(3));
    assert!(e.tasks.data.as_ref().is_some_and(|t| !t.is_empty()));
    assert!(e.scaling.data.as_ref().is_some_and(|t| !t.is_empty()));

    // A discovered cluster deleted before the next discovery (the
    // simulation answers NotFound for it) has nothing left to show: not an
    // error of the whole panel.
    app.state.envs[0].discovered_clusters.data =
        Some(vec!["works-logue-prod".to_string(), "deleted".to_string()]);
    for resource in [Resource::Services, Resource::Tasks] {
        app.dispatch(Action::PollDue { env: 0, resource });
    }
    app.settle().await;
    let e = &app.state.envs[0];
    assert!(e.errors().is_empty(), "{:?}", e.errors());
    assert_eq!(e.services.data.as_ref().map(Vec::len), Some(3));
}

/// A configured cluster that does not exist is an error the operator sees.
#[tokio::test]
async fn a_configured_cluster_that_does_not_exist_is_an_error() {
    let config: Config = toml::from_str(
        r#"
[[environment]]
name = "drill"
source = "sim"
sim_world = "production"

[[environment.clusters]]
name = "works-logue-prod"

[[environment.clusters]]
name = "deleted"
"#,
    )
    .expect("config");
    let clock = Clock::manual(start());
    let options = Options {
        seed: Some(7),
        ..Options::default()
    };
    let (state, envs) = setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("builds");
    let mut app = App::new(state, envs, clock);
    app.dispatch(Action::Tick(start()));
    poll_all(&mut app, 0).await;
    let e = &app.state.envs[0];
    assert!(
        e.errors()
            .iter()
            .any(|(r, err)| *r == Resource::Services && err.kind() == "not found"),
        "{:?}",
        e.errors()
    );
}

// ------------------------------------------------------------ panics

/// The simulation, except that reading the alarms and updating a service
/// panic (as the SDK may on a bad endpoint).
struct Panicky(std::sync::Arc<dyn honban::backend::Backend>);

type R<T> = honban::backend::BackendResult<T>;

/// The simulation's capabilities, but CloudWatch and ECS changes its own.
impl Backend for Panicky {
    fn sts(&self) -> R<&dyn backend::Sts> {
        self.0.sts()
    }
    fn ecs(&self) -> R<&dyn backend::Ecs> {
        self.0.ecs()
    }
    fn ecs_changes(&self) -> R<&dyn backend::EcsChanges> {
        Ok(self)
    }
    fn ecr(&self) -> R<&dyn backend::Ecr> {
        self.0.ecr()
    }
    fn scaling(&self) -> R<&dyn backend::Scaling> {
        self.0.scaling()
    }
    fn scaling_changes(&self) -> R<&dyn backend::ScalingChanges> {
        self.0.scaling_changes()
    }
    fn elb(&self) -> R<&dyn backend::Elb> {
        self.0.elb()
    }
    fn rds(&self) -> R<&dyn backend::Rds> {
        self.0.rds()
    }
    fn rds_changes(&self) -> R<&dyn backend::RdsChanges> {
        self.0.rds_changes()
    }
    fn cloudwatch(&self) -> R<&dyn backend::CloudWatch> {
        Ok(self)
    }
    fn cloudwatch_changes(&self) -> R<&dyn backend::CloudWatchChanges> {
        self.0.cloudwatch_changes()
    }
    fn logs(&self) -> R<&dyn backend::Logs> {
        self.0.logs()
    }
    fn logs_changes(&self) -> R<&dyn backend::LogsChanges> {
        self.0.logs_changes()
    }
}

#[async_trait::async_trait]
impl backend::CloudWatch for Panicky {
    async fn alarms(&self, _prefixes: &[String]) -> R<Vec<honban::domain::Alarm>> {
        panic!("invalid endpoint: cannot build a URI for DescribeAlarms")
    }
    async fn metric_data(
        &self,
        q: &[honban::domain::MetricQuery],
        start: honban::domain::Timestamp,
        end: honban::domain::Timestamp,
    ) -> R<Vec<honban::domain::MetricSeries>> {
        self.0.cloudwatch()?.metric_data(q, start, end).await
    }
    async fn alarm_history(&self, name: &str) -> R<Vec<honban::domain::AlarmHistoryItem>> {
        self.0.cloudwatch()?.alarm_history(name).await
    }
}

#[async_trait::async_trait]
impl backend::EcsChanges for Panicky {
    async fn update_service(
        &self,
        _c: &str,
        _s: &str,
        _u: backend::ServiceUpdate,
    ) -> R<honban::domain::Service> {
        panic!("invalid endpoint: cannot build a URI for UpdateService")
    }
    async fn register_task_definition(
        &self,
        change: backend::ImageChange,
    ) -> R<honban::domain::TaskDefinition> {
        self.0.ecs_changes()?.register_task_definition(change).await
    }
    async fn stop_task(&self, c: &str, t: &str, r: &str) -> R<honban::domain::Task> {
        self.0.ecs_changes()?.stop_task(c, t, r).await
    }
    async fn execute_command(
        &self,
        c: &str,
        t: &str,
        container: &str,
        command: &str,
    ) -> R<honban::domain::ExecSession> {
        self.0
            .ecs_changes()?
            .execute_command(c, t, container, command)
            .await
    }
}

/// Every effect answers, a panicking one too (else this times out).
async fn settle_within(app: &mut App) {
    tokio::time::timeout(Duration::from_secs(20), app.settle())
        .await
        .expect("every effect answers, a panicking one too");
}

/// Set by the panic hook that stands for ratatui's (which restores the
/// terminal): a panic that reaches it tears the console down.
static TORN_DOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A backend that panics inside an effect: the panel shows the error, the
/// operation is read back (not applied), the terminal is never restored
/// mid-session, and the console goes on.
#[tokio::test]
async fn a_panicking_backend_is_an_error_in_the_console_not_a_crash() {
    // The hooks as in `honban`: ratatui's restore (here: a flag), wrapped.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        TORN_DOWN.store(true, std::sync::atomic::Ordering::SeqCst);
        report(info);
    }));
    honban::supervise::contain_task_panics();

    let dir = tempfile::tempdir().expect("tempdir");
    let config: Config = toml::from_str("").expect("empty config");
    let clock = Clock::manual(start());
    let options = Options {
        demo: true,
        seed: Some(11),
        ..Options::default()
    };
    let (state, mut envs) = setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("demo builds");
    let sim = envs[0].backend.clone();
    envs[0].backend = std::sync::Arc::new(Panicky(sim.clone()));
    let audit = std::sync::Arc::new(honban::audit::AuditLog::in_dir(dir.path()));
    let mut app = App::new(state, envs, clock.clone()).with_audit(audit);
    app.dispatch(Action::Resize(100, 30));
    app.dispatch(Action::Tick(start()));
    app.set_read_back_pauses(Vec::new());

    for resource in Resource::ALL {
        app.dispatch(Action::PollDue { env: 0, resource });
    }
    settle_within(&mut app).await;
    let error = app.state.envs[0]
        .alarms
        .error()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        error.contains("internal error") && error.contains("cannot build a URI for DescribeAlarms"),
        "{error}"
    );
    assert!(app.state.envs[0].services.data.is_some(), "the rest loads");
    let screen = render(&app, 100, 30);
    assert!(screen.contains("internal error"), "{screen}");

    // An operation whose request panics: unanswered, read back, not applied.
    open_service(&mut app, "web").await;
    let web = app.state.service("web").expect("web");
    let (desired, cluster) = (web.desired_count, web.cluster_arn.clone());
    press(&mut app, KeyCode::Char('s'));
    for _ in 0..4 {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, &(desired + 1).to_string());
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "production/web");
    press(&mut app, KeyCode::Enter);
    settle_within(&mut app).await;
    let a = app.state.activity.last().expect("an operation");
    match &a.status {
        honban::watch::OpStatus::NotApplied { detail, .. } => {
            assert!(detail.contains("a panic"), "{detail}");
            assert!(detail.contains("not applied"), "{detail}");
        }
        other => panic!("expected not applied, got {other:?}"),
    }
    assert_eq!(
        sim.ecs()
            .expect("capability")
            .services(honban::domain::short_id(&cluster))
            .await
            .ok()
            .and_then(|l| l.items.into_iter().find(|s| s.name == "web"))
            .map(|s| s.desired_count),
        Some(desired)
    );

    // The console goes on: it still draws and answers keys.
    app.dispatch(Action::Command(Command::Services));
    let screen = render(&app, 100, 30);
    assert!(screen.contains("web"), "{screen}");
    assert!(
        !TORN_DOWN.load(std::sync::atomic::Ordering::SeqCst),
        "a task's panic reached the hook that restores the terminal"
    );
}

/// Before anything has loaded the overview says so, rather than counting
/// zeros (`svc 0/0 ok … alarms 0 ALARM of 0` reads as an empty account).
#[tokio::test]
async fn before_anything_loads_the_summary_says_loading() {
    let config: Config = toml::from_str("").expect("empty config");
    let clock = Clock::manual(start());
    let options = Options {
        demo: true,
        seed: Some(1),
        ..Options::default()
    };
    let (state, envs) = setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("demo builds");
    let mut app = App::new(state, envs, clock.clone());
    app.dispatch(Action::Resize(100, 30));
    app.dispatch(Action::Tick(start()));
    let screen = render(&app, 100, 30);
    assert!(screen.contains("loading…"), "{screen}");
    assert!(!screen.contains("svc 0/0"), "{screen}");
    assert!(!screen.contains("0 ALARM of 0"), "{screen}");
    poll_all(&mut app, 0).await;
    let screen = render(&app, 100, 30);
    assert!(screen.contains("svc "), "{screen}");
    assert!(screen.contains("ALARM of"), "{screen}");
}

// ------------------------------------------------------------ task detail

/// From a failed deploy, the tasks view and `enter` on the crashed task
/// show its container's exit code and the whole stopped reason; `l` opens
/// that task's logs.
#[tokio::test]
async fn a_crashed_task_shows_its_exit_code_and_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, clock, _, _) = demo_with_audit(dir.path()).await;
    open_service(&mut app, "api").await;
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "v3-broken");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "production/api");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    let crashed = |app: &App| {
        app.state.envs[0]
            .tasks
            .data
            .iter()
            .flatten()
            .find(|t| {
                t.stop_code.as_deref() == Some("EssentialContainerExited")
                    && t.task_definition.contains("api")
                    && t.last_status == "STOPPED"
                    && t.containers.iter().any(|c| c.image.ends_with("v3-broken"))
            })
            .map(|t| t.arn.clone())
    };
    for _ in 0..60 {
        if crashed(&app).is_some() {
            break;
        }
        advance(&mut app, &clock, Duration::from_secs(5)).await;
    }
    let arn = crashed(&app).expect("a v3-broken task crashed");
    // Two keys: the tasks view opens on the newest failed task of the
    // failing rollout, and enter shows why.
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.state.view(), &View::TaskDetail { task: arn.clone() });
    let screen = render(&app, 80, 24);
    assert!(screen.contains("exit 1"), "{screen}");
    assert!(screen.contains("EssentialContainerExited"), "{screen}");
    assert!(
        screen.contains("Essential container in task exited"),
        "{screen}"
    );
    assert!(screen.contains("works-logue/api:v3"), "{screen}");
    press(&mut app, KeyCode::Char('l'));
    app.settle().await;
    assert_eq!(app.state.view(), &View::Logs);
    let target = &app.state.logs.as_ref().expect("logs").target;
    assert_eq!(target.task.as_deref(), Some(honban::domain::short_id(&arn)));
}

// ------------------------------------------------------------ stop a task

/// `ctrl-k` on a running task of api in production: the preview names the
/// exact StopTask call with the caller, the confirmation wants
/// `production/<task>`, and the change is followed until the task is
/// STOPPED and its replacement RUNNING; the audit log has the intent, the
/// result and the final record.
#[tokio::test]
async fn a_stopped_task_is_followed_until_its_replacement_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, clock, sim, audit) = demo_with_audit(dir.path()).await;
    press(&mut app, KeyCode::Char('3'));
    let (index, arn) = app
        .state
        .visible_tasks()
        .iter()
        .enumerate()
        .find(|(_, t)| t.service_name() == Some("api") && t.last_status == "RUNNING")
        .map(|(i, t)| (i, t.arn.clone()))
        .expect("a running api task");
    for _ in 0..index {
        app.dispatch(Action::Command(Command::Down));
    }
    app.dispatch(Action::Drawn);
    app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('k'),
        KeyModifiers::CONTROL,
    )));
    let label = honban::ops::task_label(&arn).to_string();
    let screen = render(&app, 100, 30);
    assert!(screen.contains("ecs:StopTask"), "{screen}");
    assert!(screen.contains("honban-demo via"), "{screen}");
    assert!(screen.contains(&format!("production/{label}")), "{screen}");
    // `y` does not confirm in a protected environment.
    press(&mut app, KeyCode::Char('y'));
    assert!(app.state.activity.is_empty());
    press(&mut app, KeyCode::Backspace);
    type_text(&mut app, &format!("production/{label}"));
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    let end = until_watch_ends(&mut app, &clock).await;
    match &end {
        honban::watch::WatchStatus::Completed(text) => {
            assert!(text.contains("replacement"), "{text}");
        }
        other => panic!("expected completed, got {other:?}"),
    }
    let cluster = honban::domain::short_id(
        &app.state.envs[0].tasks.data.as_ref().expect("tasks")[0].cluster_arn,
    )
    .to_string();
    let tasks = sim
        .ecs()
        .expect("capability")
        .tasks(&cluster)
        .await
        .expect("tasks");
    let stopped = tasks.items.iter().find(|t| t.arn == arn).expect("listed");
    assert_eq!(stopped.last_status, "STOPPED");
    assert_eq!(stopped.stop_code.as_deref(), Some("UserInitiated"));
    let caller = app.state.envs[0]
        .identity
        .data
        .as_ref()
        .map(|i| i.arn.clone())
        .expect("identity");
    assert_eq!(
        stopped.stopped_reason.as_deref(),
        Some(format!("stopped by {caller} via honban").as_str())
    );
    let (records, _) = audit.read_recent(10).expect("audit log");
    let phases: Vec<(&str, honban::audit::Phase)> = records
        .iter()
        .map(|r| (r.operation.as_str(), r.phase))
        .collect();
    assert_eq!(
        phases,
        vec![
            ("stop-task", honban::audit::Phase::Intent),
            ("stop-task", honban::audit::Phase::Result),
            ("stop-task", honban::audit::Phase::Final),
        ]
    );
    assert_eq!(records[2].ended.as_deref(), Some("completed"));
}

// ------------------------------------------------------------ copy

/// `y` copies the selected task's ARN (and a log line in the logs view);
/// the message says what; the text waits in the state for the event loop
/// to write it (OSC 52). Where nothing can be copied, nothing is.
#[tokio::test]
async fn y_copies_the_selected_arn_or_log_line_and_says_what() {
    let (mut app, clock) = demo(42).await;
    press(&mut app, KeyCode::Char('3'));
    app.dispatch(Action::Command(Command::Down));
    // The second row, by identity (the selection settles on the next key).
    let arn = app.state.visible_tasks()[1].arn.clone();
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.state.clipboard.as_deref(), Some(arn.as_str()));
    let flash = app
        .state
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default();
    assert!(
        flash.contains(&format!(
            "the ARN of task {}",
            honban::ops::task_label(&arn)
        )),
        "{flash}"
    );
    assert_eq!(app.state.mode, honban::state::Mode::Normal);

    // The logs of that task: the newest line.
    press(&mut app, KeyCode::Char('l'));
    app.settle().await;
    for _ in 0..5 {
        if app.state.logs.as_ref().is_some_and(|l| !l.lines.is_empty()) {
            break;
        }
        clock.advance(Duration::from_secs(3));
        app.dispatch(Action::Tick(clock.now()));
        app.settle().await;
    }
    app.state.clipboard = None;
    press(&mut app, KeyCode::Char('y'));
    let newest = app
        .state
        .logs
        .as_ref()
        .and_then(|l| l.lines.back())
        .map(|e| e.message.clone())
        .expect("log lines");
    assert_eq!(app.state.clipboard.as_deref(), Some(newest.as_str()));

    // The activity view has nothing to copy.
    app.state.clipboard = None;
    press(&mut app, KeyCode::Char('6'));
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(app.state.clipboard, None);
    let flash = app
        .state
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default();
    assert!(flash.contains("nothing to copy"), "{flash}");
}

#[tokio::test]
async fn the_help_at_60x15_scrolls_and_keeps_its_descriptions_readable() {
    let (mut app, _) = demo(42).await;
    app.dispatch(Action::Resize(60, 15));
    app.dispatch(key('?'));
    let screen = render(&app, 60, 15);
    assert!(screen.contains("Back / close"), "{screen}");
    assert!(screen.contains("more · j/k"), "{screen}");
    insta::assert_snapshot!("help_60x15", screen);
}

/// The CloudFront view of the demo's production and the invalidation's
/// confirmation at 80×24: the exact call with its paths and caller
/// reference (whose random suffix, from the session's id, is masked), the
/// typed name a protected environment wants.
#[tokio::test]
async fn the_cloudfront_view_and_the_invalidation_confirmation_at_80x24() {
    let (mut app, _) = demo(42).await;
    command(&mut app, "cloudfront");
    app.settle().await;
    assert_eq!(app.state.view(), &View::CloudFront);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("E2WL7PRDX4K9QZ"), "{screen}");
    assert!(screen.contains("Recent invalidations (3)"), "{screen}");
    insta::assert_snapshot!("cloudfront_80x24", screen);

    press(&mut app, KeyCode::Char('V'));
    let reference = match &app.state.mode {
        Mode::Dialog(Dialog::Confirm {
            op:
                honban::ops::Operation::Invalidate {
                    caller_reference, ..
                },
            ..
        }) => caller_reference.clone(),
        other => panic!("expected the invalidation's confirmation, got {other:?}"),
    };
    let suffix = reference.rsplit('-').next().expect("suffix").to_string();
    assert_eq!(suffix.len(), 8, "{reference}");
    let title = "Invalidate CloudFront distribution E2WL7PRDX4K9QZ";
    let text = dialog_text(&render(&app, 80, 24), title);
    assert!(text.contains("cloudfront:CreateInvalidation"), "{text}");
    assert!(text.contains("type production/E2WL7PRDX4K9QZ"), "{text}");
    insta::assert_snapshot!(
        "confirm_invalidate_80x24",
        text.replace(&suffix, "########")
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.state.activity.is_empty(), "nothing sent");
}

/// An invalidation of the demo's production distribution by keys: typed
/// confirmation, sent once, InProgress in the simulation for one to three
/// minutes, followed to Completed, audited as intent, result and final
/// with its caller reference.
#[tokio::test]
async fn an_invalidation_is_confirmed_audited_and_followed_until_completed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, clock, sim, audit) = demo_with_audit(dir.path()).await;
    command(&mut app, "cloudfront");
    app.settle().await;
    press(&mut app, KeyCode::Char('V'));
    type_text(&mut app, "production/E2WL7PRDX4K9QZ");
    press(&mut app, KeyCode::Enter);
    let started = clock.now();
    app.settle().await;
    let a = &app.state.activity[0];
    assert!(
        matches!(a.status, honban::watch::OpStatus::Accepted { .. }),
        "{:?}",
        a.status
    );
    let Some(honban::ops::Operation::Invalidate {
        caller_reference, ..
    }) = app.state.activity.first().map(|a| a.op.clone())
    else {
        panic!("expected an invalidation");
    };
    // The simulation holds it, in progress.
    use honban::backend::prelude::*;
    let found = sim
        .find_invalidation("E2WL7PRDX4K9QZ", &caller_reference)
        .await
        .expect("read")
        .expect("sent");
    assert_eq!(found.status, "InProgress");
    assert_eq!(found.paths, vec!["/*".to_string()]);

    let end = until_watch_ends(&mut app, &clock).await;
    assert!(
        matches!(end, honban::watch::WatchStatus::Completed(_)),
        "{end:?}"
    );
    let took = clock.now() - started;
    assert!(
        (60..=190).contains(&took.num_seconds()),
        "a realistic time: {took}"
    );

    let (records, _) = audit.read_recent(10).expect("audit log");
    let ours: Vec<_> = records
        .iter()
        .filter(|r| r.operation == "cloudfront-invalidate")
        .collect();
    assert_eq!(ours.len(), 3, "{records:?}");
    assert_eq!(ours[0].phase, honban::audit::Phase::Intent);
    assert_eq!(
        ours[0].parameters["CallerReference"].as_str(),
        Some(caller_reference.as_str())
    );
    assert_eq!(ours[1].phase, honban::audit::Phase::Result);
    assert_eq!(ours[1].result["Id"].as_str(), Some(found.id.as_str()));
    assert_eq!(ours[2].phase, honban::audit::Phase::Final);
    assert_eq!(ours[2].ended.as_deref(), Some("completed"));
}

/// The EC2 hosts' world (`--demo --world ec2-prod`): the hosts view lists
/// the two app hosts its tag filter selects (not the bastion), the
/// overview counts them, and when the first incident makes app-prod-1's
/// instance status check impaired, the row shows it failing and `honban
/// status` judges the environment CRITICAL for it.
#[tokio::test]
async fn the_ec2_world_shows_its_hosts_and_an_impaired_one() {
    let config: Config = toml::from_str("").expect("empty config");
    let clock = Clock::manual(start());
    let options = Options {
        demo: true,
        worlds: vec!["ec2-prod".to_string()],
        seed: Some(7),
        ..Options::default()
    };
    let (state, envs) = setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("the EC2 world builds");
    assert_eq!(state.envs.len(), 1);
    let mut app = App::new(state, envs, clock.clone());
    app.dispatch(Action::Resize(80, 24));
    app.dispatch(Action::Tick(start()));
    poll_all(&mut app, 0).await;

    let overview = render(&app, 80, 24);
    assert!(overview.contains("ec2 2/2"), "{overview}");
    command(&mut app, "hosts");
    assert_eq!(app.state.view(), &View::Hosts);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("app-prod-1") && screen.contains("app-prod-2"),
        "{screen}"
    );
    assert!(!screen.contains("bastion"), "{screen}");
    // Both checks ok, a CPU trend, healthy in the ALB's target group.
    assert!(screen.contains("2/2 "), "{screen}");
    assert!(screen.contains("% healthy"), "{screen}");
    assert!(screen.contains("target app-prod-web healthy"), "{screen}");
    insta::assert_snapshot!("hosts_80x24", screen);

    // A host that does not run shows no CPU value (its last one would
    // read as live).
    let mut stopped = app.state.clone();
    for i in stopped.envs[0].instances.data.iter_mut().flatten() {
        if i.name.as_deref() == Some("app-prod-2") {
            i.state = "stopped".to_string();
        }
    }
    let shown = {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
        terminal
            .draw(|f| honban::ui::draw(f, &stopped, &theme()))
            .expect("draw");
        format!("{:?}", terminal.backend().buffer())
    };
    let row = shown
        .lines()
        .find(|l| l.contains("app-prod-2") && l.contains("stopped"))
        .unwrap_or_else(|| panic!("no stopped row: {shown}"));
    assert!(!row.contains('%'), "{row}");

    // The first incident comes 2 to 4 minutes in.
    let impaired = |app: &App| {
        app.state.envs[0]
            .instances
            .data
            .iter()
            .flatten()
            .any(|i| i.instance_status == honban::domain::CheckStatus::Impaired)
    };
    for _ in 0..12 {
        if impaired(&app) {
            break;
        }
        advance(&mut app, &clock, Duration::from_secs(30)).await;
    }
    assert!(impaired(&app), "app-prod-1 impaired within 6 minutes");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("1/2 "), "{screen}");
    assert!(screen.contains("unhealthy"), "{screen}");
    insta::assert_snapshot!("hosts_impaired_80x24", screen);
    let report =
        honban::status::judge_env(&app.state.envs[0], clock.now(), Duration::from_secs(20));
    assert_eq!(
        report.state,
        honban::status::Level::Critical,
        "{:?}",
        report.reasons
    );
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r == "host app-prod-1 instance impaired"),
        "{:?}",
        report.reasons
    );
    assert_eq!(
        (report.counts.instances, report.counts.instances_impaired),
        (2, 1)
    );

    // The status check metric follows the impaired check: its alarm goes
    // to ALARM within about two minutes, and the header counts it.
    let firing = |app: &App| {
        app.state.envs[0].alarms.data.iter().flatten().any(|a| {
            a.name == "app-prod-1-status-check-failed"
                && a.state == honban::domain::AlarmState::Alarm
        })
    };
    for _ in 0..6 {
        if firing(&app) {
            break;
        }
        advance(&mut app, &clock, Duration::from_secs(30)).await;
    }
    assert!(firing(&app), "the status check alarm fires");
    assert!(impaired(&app), "while the host is still impaired");
    command(&mut app, "overview");
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("alarms 0 ALARM"), "{screen}");
    assert!(screen.contains("ALARM"), "{screen}");
    assert!(screen.contains("ec2 1/2"), "{screen}");
    // The fleet counts the hosts as the overview does.
    command(&mut app, "fleet");
    let screen = render(&app, 80, 24);
    let header = screen
        .lines()
        .find(|l| l.contains("ENVIRONMENT"))
        .unwrap_or_default();
    assert!(header.contains("EC2"), "{screen}");
    let row = screen
        .lines()
        .find(|l| l.contains("ec2-prod") && l.contains("1/2"))
        .unwrap_or_default();
    assert!(!row.is_empty(), "the EC2 column reads 1/2: {screen}");
}

/// Staging's Redis (after seed 003): the Redis view lists the replication
/// group with its two nodes (primary and replica, two zones) and their
/// trends, `enter` opens its detail with the alarms on it and the
/// replica's charts, and when the memory-pressure incident makes the
/// replica fall behind, the group is no longer shown ok (and its lag alarm
/// fires).
async fn snapshot_redis(w: u16, h: u16) {
    let (mut app, clock) = demo(42).await;
    app.dispatch(Action::Resize(w, h));
    let size = format!("{w}x{h}");
    command(&mut app, "env staging");
    let overview = render(&app, w, h);
    assert!(overview.contains("redis 1/1"), "{overview}");
    app.dispatch(key('E'));
    assert_eq!(app.state.view(), &View::Redis);
    let screen = render(&app, w, h);
    assert!(screen.contains("works-logue-stg-redis"), "{screen}");
    assert!(screen.contains("2/2"), "{screen}");
    insta::assert_snapshot!(format!("redis_{size}"), screen);
    if w == 80 {
        // The smallest screen: the id and the nodes keep their room.
        app.dispatch(Action::Resize(60, 15));
        let small = render(&app, 60, 15);
        assert!(small.contains("works-logue-stg-redis"), "{small}");
        assert!(small.contains("…-redis-002 replica"), "{small}");
        insta::assert_snapshot!("redis_60x15", small);
        app.dispatch(Action::Resize(w, h));
    }
    app.dispatch(Action::Command(Command::Select));
    assert_eq!(
        app.state.view(),
        &View::RedisGroup {
            group: "works-logue-stg-redis".to_string()
        }
    );
    // The replica: its replication lag charted first.
    app.dispatch(Action::Command(Command::Down));
    let screen = render(&app, w, h);
    assert!(screen.contains("replication lag"), "{screen}");
    assert!(
        screen.contains("works-logue-stg-redis-replication-lag"),
        "{screen}"
    );
    insta::assert_snapshot!(format!("redis_group_{size}"), screen);
    if w != 80 {
        return;
    }
    // The incident: memory, evictions, the replica behind.
    let behind = |app: &App| {
        let env = &app.state.envs[1];
        env.replication_groups
            .data
            .iter()
            .flatten()
            .flat_map(|g| g.members.iter())
            .any(|m| {
                env.redis_lag(m)
                    .is_some_and(|l| l > honban::state::REDIS_LAG_DEGRADED_SECS)
            })
    };
    for _ in 0..(3 * 60) {
        if behind(&app) {
            break;
        }
        advance(&mut app, &clock, Duration::from_mins(1)).await;
    }
    assert!(behind(&app), "the replica fell behind within 3 hours");
    app.dispatch(Action::Command(Command::Back));
    let screen = render(&app, w, h);
    assert!(screen.contains("s behind"), "{screen}");
    assert!(!screen.contains("ok  2 nodes"), "{screen}");
    insta::assert_snapshot!(format!("redis_behind_{size}"), screen);
}

#[tokio::test]
async fn redis_at_80x24() {
    Box::pin(snapshot_redis(80, 24)).await;
}

#[tokio::test]
async fn redis_at_160x48() {
    Box::pin(snapshot_redis(160, 48)).await;
}

/// Staging's backend, released blue/green by CodeDeploy: its detail at
/// 80×24 while the release waits for a continue (traffic 0 %, both task
/// sets, the lifecycle events, the keys), and the continue's confirmation
/// with its exact call.
#[tokio::test]
async fn the_blue_green_detail_and_the_continue_confirmation_at_80x24() {
    let (mut app, _) = demo(42).await;
    command(&mut app, "env staging");
    app.settle().await;
    open_service(&mut app, "backend").await;
    app.settle().await;
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Blue/green · CodeDeploy"), "{screen}");
    assert!(screen.contains("Ready: waits for a continue"), "{screen}");
    assert!(screen.contains("replacement"), "{screen}");
    assert!(screen.contains("C reroutes, b rolls back"), "{screen}");
    let id = app
        .state
        .env()
        .and_then(|e| e.blue_green("backend"))
        .and_then(|g| g.deployment.as_ref())
        .map(|d| d.id.clone())
        .expect("a deployment");
    insta::assert_snapshot!(
        "blue_green_detail_80x24",
        screen.replace(&id, "d-#########")
    );
    press(&mut app, KeyCode::Char('C'));
    let title = "Reroute backend's traffic to the replacement";
    let text = dialog_text(&render(&app, 80, 24), title);
    assert!(text.contains("codedeploy:ContinueDeployment"), "{text}");
    insta::assert_snapshot!("confirm_continue_80x24", text.replace(&id, "d-#########"));
    press(&mut app, KeyCode::Esc);
    assert!(app.state.activity.is_empty(), "nothing sent");
}

/// The release continued by keys (C, y): the canary's 10 % shown while it
/// holds; then stopped with a rollback (b, y), followed until CodeDeploy's
/// rollback deployment has put the traffic back; then a new image deployed
/// (i) through RegisterTaskDefinition and CreateDeployment, followed until
/// its replacement waits for a continue; each audited as intent, result
/// and final.
#[tokio::test]
async fn a_blue_green_release_is_continued_stopped_rolled_back_and_redeployed_by_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config: Config = toml::from_str("").expect("empty config");
    let clock = Clock::manual(start());
    let options = Options {
        demo: true,
        seed: Some(42),
        ..Options::default()
    };
    let (state, envs) = setup::build(&config, &options, clock.clone(), "config.toml")
        .await
        .expect("demo builds");
    let audit = std::sync::Arc::new(honban::audit::AuditLog::in_dir(dir.path()));
    let mut app = App::new(state, envs, clock.clone()).with_audit(audit.clone());
    app.dispatch(Action::Resize(80, 24));
    app.dispatch(Action::Tick(start()));
    command(&mut app, "env staging");
    let env = app.state.active;
    poll_all(&mut app, env).await;
    poll_all(&mut app, env).await;
    open_service(&mut app, "backend").await;
    press(&mut app, KeyCode::Char('C'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert!(
        matches!(
            app.state.activity[0].status,
            honban::watch::OpStatus::Accepted { .. }
        ),
        "{:?}",
        app.state.activity[0].status
    );
    advance(&mut app, &clock, Duration::from_secs(30)).await;
    let shifted = app
        .state
        .env()
        .and_then(|e| e.blue_green("backend"))
        .and_then(|g| g.deployment.as_ref())
        .and_then(honban::domain::CdDeployment::traffic_shifted);
    assert_eq!(shifted, Some(10.0));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("10% on the replacement"), "{screen}");
    // Stop it with a rollback.
    press(&mut app, KeyCode::Char('b'));
    assert!(matches!(
        &app.state.mode,
        Mode::Dialog(Dialog::Confirm {
            op: honban::ops::Operation::CodeDeployStop { .. },
            ..
        })
    ));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let stop = app.state.activity.len() - 1;
    for _ in 0..60 {
        if app.state.activity[stop]
            .watch
            .as_ref()
            .is_some_and(|w| w.status.is_final())
        {
            break;
        }
        advance(&mut app, &clock, Duration::from_secs(5)).await;
    }
    let end = app.state.activity[stop]
        .watch
        .as_ref()
        .map(|w| w.status.clone());
    assert!(
        matches!(&end, Some(honban::watch::WatchStatus::Completed(t)) if t.contains("rolled back")),
        "{end:?}"
    );
    // The continue's watch ended too: its deployment was rolled back.
    let first = app.state.activity[0]
        .watch
        .as_ref()
        .map(|w| w.status.clone());
    assert!(matches!(&first, Some(s) if s.is_final()), "{first:?}");
    // Nothing under way now: i deploys a new image through CodeDeploy
    // (RegisterTaskDefinition, CreateDeployment), followed until its
    // replacement waits for a continue.
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "2026.11.23-f00d123");
    press(&mut app, KeyCode::Enter);
    let calls = match &app.state.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => op.calls(),
        other => panic!("expected the deploy's confirmation, got {other:?}"),
    };
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("codedeploy:CreateDeployment")),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.contains("UpdateService")),
        "{calls:?}"
    );
    // At 80x24 both changes it sends are on the screen: the notes, the
    // state before, the image's details and the account give way first.
    // (Before, the preview kept them and cut CreateDeployment to `…`.)
    let screen = render(&app, 80, 24);
    for op in ["ecs:RegisterTaskDefinition", "codedeploy:CreateDeployment"] {
        assert!(screen.contains(op), "{op} not shown:\n{screen}");
    }
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let deploy = app.state.activity.len() - 1;
    for _ in 0..60 {
        if app.state.activity[deploy]
            .watch
            .as_ref()
            .is_some_and(|w| w.status.is_final())
        {
            break;
        }
        advance(&mut app, &clock, Duration::from_secs(5)).await;
    }
    let end = app.state.activity[deploy]
        .watch
        .as_ref()
        .map(|w| w.status.clone());
    assert!(
        matches!(&end, Some(honban::watch::WatchStatus::Completed(t)) if t.contains("waiting for a continue")),
        "{end:?} {:?}",
        app.state.activity[deploy].status
    );
    let d = app
        .state
        .env()
        .and_then(|e| e.blue_green("backend"))
        .and_then(|g| g.deployment.clone())
        .expect("the new deployment");
    assert!(
        d.task_definition
            .as_deref()
            .is_some_and(|t| t.ends_with(":30")),
        "{d:?}"
    );
    let (records, _) = audit.read_recent(30).expect("audit log");
    for op in ["codedeploy-continue", "codedeploy-stop", "deploy-image"] {
        let ours: Vec<_> = records.iter().filter(|r| r.operation == op).collect();
        assert_eq!(ours.len(), 3, "{op}: {records:?}");
        assert_eq!(ours[0].phase, honban::audit::Phase::Intent);
        assert_eq!(ours[2].phase, honban::audit::Phase::Final);
    }
}
