//! Every shipped drill scenario run headless to its end on a manual clock:
//! with a scripted operator that fixes it and with one that does nothing,
//! asserting what happened and the scores; the report as a snapshot; bad
//! scenario files rejected with their position.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use honban::action::{Action, Resource};
use honban::app::App;
use honban::backend::prelude::*;
use honban::backend::sim::SimBackend;
use honban::clock::Clock;
use honban::config::Config;
use honban::config::keys::Command;
use honban::drill::EndReason;
use honban::drill::report::Report;
use honban::drill::scenario::{self, Scenario};
use honban::state::View;

/// Seconds between two looks of the scripted operator.
const STEP: u64 = 5;

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
        .single()
        .expect("valid")
}

fn scenario(id: &str) -> Scenario {
    scenario::load_all(None)
        .expect("shipped scenarios")
        .into_iter()
        .find(|s| s.id() == id)
        .expect("shipped")
}

struct Run {
    app: App,
    clock: Clock,
    sim: std::sync::Arc<SimBackend>,
    env: String,
    _dir: tempfile::TempDir,
}

async fn begin(id: &str) -> Run {
    let config: Config = toml::from_str("").expect("empty config");
    let clock = Clock::manual(start());
    let s = scenario(id);
    let (state, envs, sim) = honban::drill::run::build(&s, &config, &clock).expect("drill builds");
    let env = state.envs[0].name.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = std::sync::Arc::new(honban::audit::AuditLog::in_dir(dir.path()));
    let mut app = App::new(state, envs, clock.clone())
        .with_audit(audit)
        .with_drill(sim.clone());
    app.dispatch(Action::Resize(120, 40));
    app.dispatch(Action::Tick(start()));
    poll_all(&mut app).await;
    Run {
        app,
        clock,
        sim,
        env,
        _dir: dir,
    }
}

async fn poll_all(app: &mut App) {
    for resource in Resource::ALL {
        app.dispatch(Action::PollDue { env: 0, resource });
    }
    for probe in 0..app.state.envs[0].probes.len() {
        app.dispatch(Action::ProbeDue { env: 0, probe });
    }
    app.settle().await;
}

impl Run {
    /// One step of the world and the console; false once the drill ended.
    async fn step(&mut self) -> bool {
        self.clock.advance(Duration::from_secs(STEP));
        self.app.dispatch(Action::Tick(self.clock.now()));
        self.app.settle().await;
        if self.app.state.quit {
            return false;
        }
        poll_all(&mut self.app).await;
        !self.app.state.quit
    }

    /// Steps until `f` holds (or the drill ends); whether it held.
    async fn until(&mut self, mut f: impl FnMut(&App) -> bool) -> bool {
        loop {
            if f(&self.app) {
                return true;
            }
            if !self.step().await {
                return false;
            }
        }
    }

    async fn run_out(&mut self) {
        while self.step().await {}
    }

    fn elapsed(&self) -> i64 {
        (self.clock.now() - start()).num_seconds()
    }

    fn alarm_in_alarm(&self, name: &str) -> bool {
        self.app.state.envs[0]
            .alarms
            .data
            .iter()
            .flatten()
            .any(|a| a.name == name && a.state == honban::domain::AlarmState::Alarm)
    }

    async fn open_service(&mut self, name: &str) {
        self.app.dispatch(Action::Command(Command::Services));
        let index = self
            .app
            .state
            .visible_services()
            .iter()
            .position(|s| s.name == name)
            .expect("listed");
        self.app.dispatch(Action::Command(Command::Top));
        for _ in 0..index {
            self.app.dispatch(Action::Command(Command::Down));
        }
        press(&mut self.app, KeyCode::Enter);
        self.app.settle().await;
        assert_eq!(
            self.app.state.view(),
            &View::ServiceDetail {
                service: name.to_string()
            }
        );
    }

    /// From a service's detail: an operation key, then the typed
    /// confirmation of the protected environment.
    async fn operate(&mut self, cmd: Command, resource: &str) {
        self.app.dispatch(Action::Drawn);
        self.app.dispatch(Action::Command(cmd));
        self.app.settle().await;
        let confirm = format!("{}/{resource}", self.env);
        type_text(&mut self.app, &confirm);
        press(&mut self.app, KeyCode::Enter);
        self.app.settle().await;
        let last = self.app.state.activity.last().expect("an operation");
        assert!(
            matches!(last.status, honban::watch::OpStatus::Accepted { .. }),
            "{:?}",
            last.status
        );
    }

    fn report(&self) -> Report {
        Report::of(&self.app.state).expect("a report")
    }
}

fn press(app: &mut App, code: KeyCode) {
    app.dispatch(Action::Drawn);
    app.dispatch(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn alarm_state<'a>(app: &'a App, name: &str) -> Option<&'a str> {
    app.state.envs[0]
        .alarms
        .data
        .iter()
        .flatten()
        .find(|a| a.name == name)
        .map(|a| a.state.as_str())
}

fn service_failing(app: &App, name: &str) -> bool {
    app.state.service(name).is_some_and(|s| {
        s.deployments
            .iter()
            .any(|d| d.rollout_state == honban::domain::RolloutState::Failed || d.failed_tasks > 0)
    })
}

fn ended(run: &Run) -> EndReason {
    run.app
        .state
        .drill
        .as_ref()
        .and_then(|d| d.ended)
        .map(|(_, r)| r)
        .expect("the drill ended")
}

/// The report with this run's session id (it has the process id) fixed.
fn stable(markdown: &str, session: &str) -> String {
    markdown.replace(session, "drill-SESSION")
}

// ------------------------------------------------------------ bad-deploy

#[tokio::test]
async fn bad_deploy_fixed_by_rolling_web_back() {
    let mut run = begin("bad-deploy").await;
    // The page comes, then the web service shows the failed rollout.
    assert!(
        run.until(|a| alarm_state(a, "works-logue-prod-web-5xx") == Some("ALARM"))
            .await
    );
    assert!(run.until(|a| service_failing(a, "web")).await);
    run.open_service("web").await;
    run.operate(Command::Rollback, "web").await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::Objectives);
    let r = run.report();
    assert!(r.mitigated.is_some() && r.recovered.is_some());
    assert!(r.attempts.is_empty());
    assert!(
        r.ttd().is_some(),
        "the web 5XX alarm was seen: {}",
        r.markdown()
    );
    assert!(
        r.ttm().is_some_and(|t| t.num_seconds() <= 300),
        "{:?}",
        r.ttm()
    );
    assert_eq!(r.score, 100, "{}", r.markdown());
    assert!(r.signals.iter().all(|(_, _, fired)| fired.is_some()));
    assert!(
        r.events
            .iter()
            .any(|(_, who, t)| *who == "fault" && t.contains("honban:ecs:bad-image"))
    );
    assert!(run.elapsed() < 20 * 60);
    let session = run.app.state.session.clone();
    assert!(session.starts_with("drill-bad-deploy-"));
    insta::assert_snapshot!("bad_deploy_report", stable(&r.markdown(), &session));
}

#[tokio::test]
async fn bad_deploy_rolling_back_the_wrong_service_is_an_unsafe_attempt() {
    let mut run = begin("bad-deploy").await;
    assert!(run.until(|a| service_failing(a, "web")).await);
    run.open_service("api").await;
    run.operate(Command::Rollback, "api").await;
    run.open_service("web").await;
    run.operate(Command::Rollback, "web").await;
    run.run_out().await;
    let r = run.report();
    assert_eq!(r.attempts.len(), 1, "{:?}", r.attempts);
    assert!(r.attempts[0].what.contains("api"));
    assert!(r.recovered.is_some());
    assert_eq!(r.score, 90);
    assert!(r.markdown().contains("Avoid: Roll back api"));
}

#[tokio::test]
async fn bad_deploy_left_alone_times_out() {
    let mut run = begin("bad-deploy").await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::TimeLimit);
    assert_eq!(run.elapsed(), 20 * 60);
    let r = run.report();
    assert!(r.mitigated.is_none() && r.recovered.is_none());
    assert!(r.ttd().is_some());
    assert!(r.signals.iter().all(|(_, _, fired)| fired.is_some()));
    assert!(r.first_look.is_none());
    assert_eq!(r.score, 20);
    let md = r.markdown();
    assert!(md.contains("Not mitigated. What works:"), "{md}");
    assert!(md.contains("You never opened web"), "{md}");
}

// ----------------------------------------------------------- db-failover

#[tokio::test]
async fn db_failover_fixed_by_restarting_api() {
    let mut run = begin("db-failover").await;
    assert!(
        run.until(|a| {
            a.state.envs[0]
                .alarms
                .data
                .iter()
                .flatten()
                .any(|x| x.name == "works-logue-prod-api-5xx" && x.state.as_str() == "ALARM")
        })
        .await
    );
    run.open_service("api").await;
    run.operate(Command::Restart, "api").await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::Objectives);
    let r = run.report();
    assert!(r.recovered.is_some());
    assert!(r.attempts.is_empty());
    assert!(r.score >= 90, "{}", r.markdown());
    // The failover happened: the primary is in its other AZ.
    let db = run
        .sim
        .db_instances(&["works-logue-prod-db".to_string()])
        .await
        .expect("db");
    assert_eq!(db[0].availability_zone.as_deref(), Some("ap-northeast-1c"));
    assert!(r.events.iter().any(|(_, _, t)| t.contains("failover")));
    insta::assert_snapshot!(
        "db_failover_report",
        stable(&r.markdown(), &run.app.state.session.clone())
    );
}

#[tokio::test]
async fn db_failover_left_alone_keeps_failing() {
    let mut run = begin("db-failover").await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::TimeLimit);
    let r = run.report();
    assert!(r.mitigated.is_none());
    assert!(r.signals.iter().all(|(_, _, f)| f.is_some()));
    assert_eq!(r.score, 20);
}

#[tokio::test]
async fn db_failover_a_second_reboot_is_forbidden() {
    let mut run = begin("db-failover").await;
    assert!(run.until(|a| a.state.envs[0].incident.is_open()).await);
    // Wait for the DB to be available again, then reboot it (wrongly).
    assert!(
        run.until(|a| {
            a.state.envs[0]
                .databases
                .data
                .iter()
                .flatten()
                .any(|d| d.id == "works-logue-prod-db" && d.status == "available")
        })
        .await
    );
    run.app.dispatch(Action::Command(Command::Databases));
    run.operate(Command::Reboot, "works-logue-prod-db").await;
    run.run_out().await;
    let r = run.report();
    assert_eq!(r.attempts.len(), 1, "{:?}", r.attempts);
    assert!(r.attempts[0].why.contains("outage"));
}

// ------------------------------------------------------------- cpu-spike

#[tokio::test]
async fn cpu_spike_absorbed_by_auto_scaling_while_the_operator_watches() {
    let mut run = begin("cpu-spike").await;
    assert!(
        run.until(|a| {
            a.state.envs[0]
                .alarms
                .data
                .iter()
                .flatten()
                .any(|x| x.name == "works-logue-prod-web-cpu-high" && x.state.as_str() == "ALARM")
        })
        .await
    );
    run.open_service("web").await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::Objectives);
    let r = run.report();
    assert!(r.operations.is_empty());
    assert!(r.recovered.is_some());
    assert!(
        r.events
            .iter()
            .any(|(_, who, t)| *who == "console" && t.contains("desired")),
        "the scale-out is in the timeline: {:#?}",
        r.events
    );
    assert_eq!(r.score, 100, "{}", r.markdown());
}

#[tokio::test]
async fn cpu_spike_left_alone_still_recovers_without_a_look() {
    let mut run = begin("cpu-spike").await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::Objectives);
    let r = run.report();
    assert!(r.recovered.is_some());
    assert_eq!(r.score, 90, "{}", r.markdown());
}

// ---------------------------------------------------------- bad-task-5xx

/// The task whose log stream carries the errors (what the logs view shows).
async fn noisy_task(run: &Run) -> Option<String> {
    let page = run
        .sim
        .log_events(&honban::domain::LogQuery {
            group: "/ecs/works-logue-prod-api".to_string(),
            stream_prefix: Some("ecs/api/".to_string()),
            filter_pattern: Some("ERROR".to_string()),
            start: run.clock.now() - chrono::TimeDelta::minutes(3),
            end: None,
            limit: 200,
            next_token: None,
        })
        .await
        .ok()?;
    let mut ids: Vec<String> = page
        .events
        .iter()
        .filter_map(|e| e.stream.rsplit('/').next().map(str::to_string))
        .collect();
    ids.dedup();
    (ids.len() == 1).then(|| ids.remove(0))
}

#[tokio::test]
async fn bad_task_5xx_fixed_by_stopping_the_noisy_task() {
    let mut run = begin("bad-task-5xx").await;
    assert!(run.until(|a| a.state.envs[0].incident.is_open()).await);
    let task = noisy_task(&run).await.expect("one task logs the errors");
    run.app.dispatch(Action::Command(Command::Tasks));
    let index = run
        .app
        .state
        .visible_tasks()
        .iter()
        .position(|t| t.id() == task)
        .expect("the task is listed");
    for _ in 0..index {
        run.app.dispatch(Action::Command(Command::Down));
    }
    press(&mut run.app, KeyCode::Enter);
    assert!(matches!(run.app.state.view(), View::TaskDetail { .. }));
    run.operate(Command::StopTask, &task[..8]).await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::Objectives);
    let r = run.report();
    assert!(r.attempts.is_empty());
    assert!(r.first_look.as_ref().is_some_and(|l| l.1 == "api"));
    assert_eq!(r.score, 100, "{}", r.markdown());
}

#[tokio::test]
async fn bad_task_5xx_left_alone_keeps_failing() {
    let mut run = begin("bad-task-5xx").await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::TimeLimit);
    let r = run.report();
    assert!(r.mitigated.is_none());
    assert!(run.alarm_in_alarm("works-logue-prod-api-5xx"));
    assert_eq!(r.score, 20);
}

// ------------------------------------- replica-lag, stuck-deploy, storage

async fn roll_back_fixes(id: &str, service: &str, alarm: Option<&str>) {
    let mut run = begin(id).await;
    let s = service.to_string();
    assert!(
        run.until(
            |a| a.state.service(&s).is_some_and(|x| x.deployments.len() > 1
                || x.deployments.iter().any(|d| d.failed_tasks > 0)
                || x.task_definition.ends_with(":18")
                || x.task_definition.ends_with(":28"))
        )
        .await
    );
    if let Some(alarm) = alarm {
        let name = alarm.to_string();
        assert!(
            run.until(|a| a.state.envs[0]
                .alarms
                .data
                .iter()
                .flatten()
                .any(|x| x.name == name && x.state.as_str() == "ALARM"))
                .await,
            "{alarm} fires"
        );
    } else {
        for _ in 0..12 {
            run.step().await;
        }
    }
    run.open_service(service).await;
    run.operate(Command::Rollback, service).await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::Objectives, "{id}");
    let r = run.report();
    assert!(r.recovered.is_some() && r.attempts.is_empty(), "{id}");
    assert!(r.score >= 90, "{id}: {}", r.markdown());
}

async fn left_alone_fails(id: &str, alarm: Option<&str>) {
    let mut run = begin(id).await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::TimeLimit, "{id}");
    let r = run.report();
    assert!(r.mitigated.is_none(), "{id}");
    assert_eq!(r.score, 20, "{id}");
    if let Some(alarm) = alarm {
        assert!(run.alarm_in_alarm(alarm), "{id}: {alarm}");
        assert!(r.signals.iter().all(|(_, _, f)| f.is_some()), "{id}");
    }
}

#[tokio::test]
async fn replica_lag_fixed_by_rolling_the_worker_back() {
    roll_back_fixes(
        "replica-lag",
        "worker",
        Some("works-logue-prod-db-replica-lag"),
    )
    .await;
}

#[tokio::test]
async fn replica_lag_left_alone_keeps_climbing() {
    left_alone_fails("replica-lag", Some("works-logue-prod-db-replica-lag")).await;
}

// ------------------------------------------------------------ redis-memory

#[tokio::test]
async fn redis_memory_fixed_by_rolling_the_api_back() {
    roll_back_fixes(
        "redis-memory",
        "api",
        Some("works-logue-stg-redis-memory-high"),
    )
    .await;
}

#[tokio::test]
async fn redis_memory_left_alone_keeps_evicting() {
    left_alone_fails("redis-memory", Some("works-logue-stg-redis-memory-high")).await;
}

#[tokio::test]
async fn stuck_deploy_fixed_by_rolling_api_back() {
    roll_back_fixes("stuck-deploy", "api", None).await;
}

#[tokio::test]
async fn stuck_deploy_left_alone_never_finishes() {
    let mut run = begin("stuck-deploy").await;
    run.run_out().await;
    let api = run.app.state.service("api").expect("api");
    assert_eq!(
        api.deployments.first().map(|d| d.rollout_state),
        Some(honban::domain::RolloutState::InProgress)
    );
    assert!(api.deployments.first().is_some_and(|d| d.failed_tasks > 3));
    left_alone_fails("stuck-deploy", None).await;
}

#[tokio::test]
async fn storage_falling_fixed_by_rolling_api_back() {
    roll_back_fixes("storage-falling", "api", None).await;
}

#[tokio::test]
async fn storage_falling_left_alone_fills_the_database() {
    left_alone_fails(
        "storage-falling",
        Some("works-logue-prod-db-free-storage-low"),
    )
    .await;
}

// ------------------------------------------------------------- az-outage

#[tokio::test]
async fn az_outage_recovers_in_the_other_zones() {
    let mut run = begin("az-outage").await;
    assert!(run.until(|a| a.state.envs[0].incident.is_open()).await);
    run.open_service("api").await;
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::Objectives);
    let r = run.report();
    assert!(r.recovered.is_some());
    assert_eq!(r.score, 100, "{}", r.markdown());
    // No live task is left in the impaired zone, and the primary moved.
    let tasks = &run.app.state.envs[0].tasks.data;
    assert!(tasks.iter().flatten().all(|t| {
        t.availability_zone.as_deref() != Some("ap-northeast-1a") || t.desired_status == "STOPPED"
    }));
    let db = run
        .sim
        .db_instances(&["works-logue-prod-db".to_string()])
        .await
        .expect("db");
    assert_eq!(db[0].availability_zone.as_deref(), Some("ap-northeast-1c"));
}

#[tokio::test]
async fn az_outage_failing_back_is_forbidden() {
    let mut run = begin("az-outage").await;
    assert!(
        run.until(|a| a
            .state
            .drill
            .as_ref()
            .is_some_and(|d| d.mitigated_at.is_some()))
            .await
    );
    run.app.dispatch(Action::Command(Command::Databases));
    run.app.settle().await;
    // Failover is offered for the Multi-AZ primary (the first row).
    run.operate(Command::Reboot, "works-logue-prod-db").await;
    run.run_out().await;
    let r = run.report();
    assert!(
        r.attempts.iter().any(|a| a.why.contains("impaired")),
        "{:?}",
        r.attempts
    );
}

// --------------------------------------------------- expired-credentials

fn fault_fired(app: &App, n: usize) -> bool {
    app.state
        .drill
        .as_ref()
        .and_then(|d| d.status.as_ref())
        .is_some_and(|s| s.fired.get(n).is_some_and(Option::is_some))
}

fn fault_cleared(app: &App, n: usize) -> bool {
    app.state
        .drill
        .as_ref()
        .and_then(|d| d.status.as_ref())
        .is_some_and(|s| s.cleared.get(n).is_some_and(Option::is_some))
}

#[tokio::test]
async fn expired_credentials_a_rollback_sent_again_once_they_are_back() {
    let mut run = begin("expired-credentials").await;
    assert!(run.until(|a| service_failing(a, "api")).await);
    assert!(run.until(|a| fault_fired(a, 1)).await);
    run.step().await;
    // Reads fail: the console keeps the last data and says why.
    let errors = run.app.state.envs[0].errors();
    assert!(
        errors
            .iter()
            .any(|(_, e)| e.to_string().contains("ExpiredToken")),
        "{errors:?}"
    );
    run.open_service("api").await;
    run.app.dispatch(Action::Drawn);
    run.app.dispatch(Action::Command(Command::Rollback));
    run.app.settle().await;
    type_text(&mut run.app, &format!("{}/api", run.env));
    press(&mut run.app, KeyCode::Enter);
    run.app.settle().await;
    // Nothing can be sent: the revisions cannot be listed, and the dialog
    // says why (not "no revision").
    assert!(run.app.state.activity.is_empty());
    match &run.app.state.mode {
        honban::state::Mode::Dialog(honban::state::Dialog::Rollback { error: Some(e), .. }) => {
            assert!(
                e.contains("cannot list the revisions of api") && e.contains("ExpiredToken"),
                "{e}"
            );
        }
        other => panic!("the rollback dialog with its error, not {other:?}"),
    }
    press(&mut run.app, KeyCode::Esc);
    assert!(run.until(|a| fault_cleared(a, 1)).await);
    // The credentials are back, but the API throttles some calls now: the
    // operator sends the rollback until it is accepted.
    let accepted = |app: &App| {
        app.state
            .activity
            .iter()
            .any(|a| matches!(a.status, honban::watch::OpStatus::Accepted { .. }))
    };
    for _ in 0..20 {
        run.step().await;
        run.open_service("api").await;
        run.app.dispatch(Action::Drawn);
        run.app.dispatch(Action::Command(Command::Rollback));
        run.app.settle().await;
        type_text(&mut run.app, &format!("{}/api", run.env));
        press(&mut run.app, KeyCode::Enter);
        run.app.settle().await;
        if accepted(&run.app) {
            break;
        }
        press(&mut run.app, KeyCode::Esc);
    }
    assert!(accepted(&run.app), "{:?}", run.app.state.mode);
    run.run_out().await;
    assert_eq!(ended(&run), EndReason::Objectives);
    let r = run.report();
    assert!(r.recovered.is_some());
    assert!(
        r.operations
            .iter()
            .all(|(_, title, _)| title == "Roll back api"),
        "{:?}",
        r.operations
    );
    assert!(
        r.events
            .iter()
            .any(|(_, who, t)| *who == "fault" && t.contains("credentials expired"))
    );
    assert!(r.score >= 90, "{}", r.markdown());
}

#[tokio::test]
async fn expired_credentials_left_alone_keeps_failing() {
    left_alone_fails("expired-credentials", Some("works-logue-prod-api-5xx")).await;
}

// ------------------------------------------------------------- screen

fn render(app: &App, w: u16, h: u16) -> String {
    let theme = honban::config::theme::load_theme("default", None, false).expect("theme");
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
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

#[tokio::test]
async fn the_drill_banner_shows_the_time_left_at_80_columns() {
    let mut run = begin("bad-deploy").await;
    assert!(run.until(|a| service_failing(a, "web")).await);
    run.open_service("web").await;
    let screen = render(&run.app, 80, 24);
    let first = screen.lines().next().unwrap_or_default();
    assert!(first.contains("DRILL 19:10 left"), "{first}");
    assert!(first.contains("drill-bad-deploy"), "{first}");
    insta::assert_snapshot!("bad_deploy_web_80x24", screen);
}

// -------------------------------------------------------------- parser

#[test]
fn bad_scenario_files_are_refused_with_their_position() {
    let cases = [
        ("unknown-fault.toml", 12, "unknown fault \"aws:ecs:melt\""),
        (
            "unknown-service.toml",
            13,
            "needs a service of world production",
        ),
        ("bad-duration.toml", 8, "bad time_limit \"soon\""),
        ("unknown-key.toml", 8, "unknown field `colour`"),
        ("bad-condition.toml", 16, "cleared = 2: there are 1 injects"),
        (
            "unknown-action.toml",
            20,
            "unknown action \"delete-cluster\"",
        ),
        ("syntax.toml", 3, ""),
    ];
    for (file, line, message) in cases {
        let path = format!("tests/invalid_scenarios/{file}");
        let text = std::fs::read_to_string(&path).expect("fixture");
        let err = scenario::parse(&text, &path).expect_err(file);
        let head = err.headline();
        assert!(
            head.starts_with(&format!("{path}:{line}:")),
            "{file}: {head}"
        );
        assert!(head.contains(message), "{file}: {head}");
    }
}

#[test]
fn a_user_scenario_overrides_a_shipped_one_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = scenario::SHIPPED[0]
        .1
        .replace("A deploy that crash-loops", "Our own crash loop");
    std::fs::write(dir.path().join("mine.toml"), text).expect("write");
    let all = scenario::load_all(Some(dir.path())).expect("loads");
    assert_eq!(all.len(), scenario::SHIPPED.len());
    let s = all.iter().find(|s| s.id() == "bad-deploy").expect("kept");
    assert_eq!(s.title, "Our own crash loop");
    std::fs::write(dir.path().join("broken.toml"), "id = 3\n").expect("write");
    let err = scenario::load_all(Some(dir.path())).expect_err("refused");
    assert!(
        err.headline().contains("broken.toml:1:"),
        "{}",
        err.headline()
    );
}

// ------------------------------------------------------------ the binary

fn honban(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_honban"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("honban runs")
}

#[test]
fn honban_drill_lists_refuses_unknown_names_and_bad_user_files() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = honban(home.path(), &["drill"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for s in scenario::load_all(None).expect("shipped") {
        assert!(text.contains(s.id()), "{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("bad-deploy") && l.contains("easy"))
    );

    let out = honban(home.path(), &["drill", "no-such-drill"]);
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown scenario \"no-such-drill\"") && err.contains("bad-deploy"));

    // Without a terminal and input, the briefing is shown and nothing starts.
    let out = honban(home.path(), &["drill", "db-failover"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Press enter to start"));

    let dir = home.path().join("config/honban/scenarios");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("mine.toml"), "id = \"mine\"\ntitle = 3\n").expect("write");
    let out = honban(home.path(), &["drill"]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mine.toml:2:"), "{err}");
}

#[tokio::test]
async fn a_drill_never_loads_a_configured_environment() {
    let config: Config = toml::from_str(
        "[[environment]]\nname = \"production\"\nsource = \"aws\"\nregion = \"ap-northeast-1\"\n",
    )
    .expect("config");
    assert_eq!(config.environments.len(), 1);
    let clock = Clock::manual(start());
    let (state, envs, _) =
        honban::drill::run::build(&scenario("bad-deploy"), &config, &clock).expect("builds");
    assert_eq!(state.envs.len(), 1);
    assert_eq!(envs.len(), 1);
    assert_eq!(state.envs[0].name, "drill-bad-deploy");
    assert_eq!(state.envs[0].source, honban::config::Source::Sim);
    assert_eq!(envs[0].config.source, honban::config::Source::Sim);
}
