//! `honban status`: every environment read once, judged, printed, and the
//! verdict as the exit code — for deploy pipelines, chat bots and
//! monitoring systems.
//!
//! It cannot disagree with the console: the environments are built by
//! [`setup::build`](crate::setup::build) from the same config and flags,
//! read by the same reducer and runner (the headless [`App`]: a poll of
//! every resource health is judged from, and every HTTP check, then
//! [`App::settle`] within an overall timeout), and each service is judged
//! by [`EnvState::service_verdict`], the console's own rule.
//!
//! The verdict follows the monitoring-plugin convention: 0 OK, 1 WARNING,
//! 2 CRITICAL, 3 UNKNOWN. Worst first is CRITICAL, then UNKNOWN (something
//! could not be read, and what was read is not critical), then WARNING.
//! A read that failed or did not answer is never an OK: the environment is
//! `partial` and at least UNKNOWN.

use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use unicode_width::UnicodeWidthChar;

use crate::action::{Action, Resource};
use crate::app::App;
use crate::cli::{Cli, OutputFormat, StatusArgs, WaitFor};
use crate::clock::Clock;
use crate::config::{Config, Source};
use crate::domain::{AlarmState, CheckStatus, InstanceHealth, RolloutState, Timestamp, short_id};
use crate::health::{ROLLOUT_GRACE, ServiceHealth};
use crate::setup::{Options, SetupError};
use crate::state::{EnvState, LoadState, State};

/// The `schema` of the JSON output (`assets/status.schema.json`).
pub const SCHEMA: &str = "honban.status/v1";

/// Width of the text output.
const TEXT_WIDTH: usize = 80;

/// Reasons named in a one-line summary per environment before "+N more".
const SUMMARY_REASONS: usize = 4;

/// A verdict, after the monitoring-plugin convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Level {
    /// The process exit code: 0, 1, 2 or 3.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Warning => 1,
            Self::Critical => 2,
            Self::Unknown => 3,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Warning => "WARNING",
            Self::Critical => "CRITICAL",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// How bad: CRITICAL, then UNKNOWN, then WARNING, then OK.
    fn severity(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Warning => 1,
            Self::Unknown => 2,
            Self::Critical => 3,
        }
    }

    /// The worse of the two.
    #[must_use]
    pub fn worst(self, other: Level) -> Level {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

/// What a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Service,
    Database,
    /// An EC2 host.
    Instance,
    /// An ElastiCache (Redis) replication group.
    ReplicationGroup,
    /// A CodeDeploy blue/green deployment of a CODE_DEPLOY service.
    CodeDeploy,
    Alarm,
    TargetGroup,
    HealthCheck,
    /// A configured CloudFront distribution.
    Distribution,
}

impl Kind {
    /// The JSON `kind` and the text label.
    pub fn word(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Database => "database",
            Self::Instance => "ec2_instance",
            Self::ReplicationGroup => "elasticache_replication_group",
            Self::CodeDeploy => "codedeploy",
            Self::Alarm => "alarm",
            Self::TargetGroup => "target_group",
            Self::HealthCheck => "http",
            Self::Distribution => "cloudfront_distribution",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::TargetGroup => "target group",
            Self::HealthCheck => "health check",
            Self::Instance => "EC2 instance",
            Self::Distribution => "CloudFront distribution",
            Self::ReplicationGroup => "Redis",
            Self::CodeDeploy => "CodeDeploy",
            other => other.word(),
        }
    }
}

/// One judged thing: a service, a database, an alarm, a target group or
/// an HTTP check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub kind: Kind,
    pub name: String,
    pub state: Level,
    /// What the console shows for it: the health word (`FAILING`), the DB
    /// status, the alarm state, `2/2 healthy`, `ok`.
    pub status: String,
    /// Why, when it is not OK (and the alarm's reason).
    pub detail: Option<String>,
    /// The few words of it in a summary line: `web rollout FAILED`.
    phrase: String,
    /// Kind-specific facts for the JSON output.
    pub fields: Map<String, Value>,
}

/// Something that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// What was being read: `services`, `alarms`, `health check api`, ...
    pub resource: String,
    /// `throttled`, `unauthorized`, `unavailable`, `timeout`, `not read`, ...
    pub kind: String,
    pub message: String,
}

/// Counts of an environment (the perfdata of the nagios line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub services: usize,
    pub services_ok: usize,
    pub services_failing: usize,
    pub services_degraded: usize,
    pub services_deploying: usize,
    pub services_scaled_to_zero: usize,
    pub tasks_running: usize,
    pub tasks_desired: usize,
    pub databases: usize,
    pub databases_available: usize,
    /// EC2 hosts: all, running with both status checks ok, with a check
    /// impaired, not running (stopped, stopping, ...).
    pub instances: usize,
    pub instances_ok: usize,
    pub instances_impaired: usize,
    pub instances_not_running: usize,
    /// ElastiCache replication groups: all, and those judged OK.
    pub replication_groups: usize,
    pub replication_groups_ok: usize,
    pub alarms: usize,
    pub alarms_alarm: usize,
    pub alarms_muted: usize,
    pub alarms_insufficient: usize,
    pub target_groups: usize,
    pub targets: usize,
    pub targets_unhealthy: usize,
    pub health_checks: usize,
    pub health_checks_ok: usize,
    pub health_checks_failing: usize,
    /// The configured CloudFront distributions, and those enabled.
    pub distributions: usize,
    pub distributions_enabled: usize,
}

/// One environment's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvReport {
    pub name: String,
    pub source: Source,
    pub account: Option<String>,
    pub region: Option<String>,
    pub protected: bool,
    pub state: Level,
    /// Why, worst first, in a few words each.
    pub reasons: Vec<String>,
    /// Worst first.
    pub checks: Vec<Check>,
    pub counts: Counts,
    /// Something could not be read: the verdict is at least UNKNOWN.
    pub partial: bool,
    pub errors: Vec<ReadError>,
}

/// The verdict of every environment judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub generated_at: Timestamp,
    pub overall: Level,
    /// Worst first (configuration order among equals).
    pub environments: Vec<EnvReport>,
}

impl Report {
    pub fn partial(&self) -> bool {
        self.environments.iter().any(|e| e.partial)
    }

    /// The one-line summary: the environments that are not OK and why,
    /// else what was found OK.
    pub fn summary(&self) -> String {
        let bad: Vec<String> = self
            .environments
            .iter()
            .filter(|e| e.state != Level::Ok)
            .map(|e| format!("{}: {}", e.name, short_reasons(&e.reasons)))
            .collect();
        if !bad.is_empty() {
            return bad.join("; ");
        }
        if self.environments.is_empty() {
            return "no environment judged".to_string();
        }
        self.environments
            .iter()
            .map(|e| format!("{}: {}", e.name, found(&e.counts)))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

// ------------------------------------------------------------- reading

/// Builds the environments from `config` as the console would (`--env` in
/// `options` narrows the judgement to that one; else every environment),
/// reads each once through the reducer and runner, waits at most
/// `timeout` and judges what came back.
pub async fn collect(
    config: &Config,
    options: &Options,
    clock: Clock,
    config_path: &str,
    timeout: Duration,
) -> Result<Report, SetupError> {
    Box::pin(collect_until(
        config,
        options,
        clock,
        config_path,
        timeout,
        None,
    ))
    .await
    .map(|(report, _)| report)
}

/// How often `--wait` reads the environments again.
const WAIT_POLL: Duration = Duration::from_secs(5);

/// [`collect`], and with `wait` again every few seconds (the same console,
/// so a rollout moves on between reads) until the environments are healthy
/// or stable, or `timeout` has passed: the report of the last read.
pub async fn collect_until(
    config: &Config,
    options: &Options,
    clock: Clock,
    config_path: &str,
    timeout: Duration,
    wait: Option<(WaitFor, Option<&str>)>,
) -> Result<(Report, Wait), SetupError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let (mut state, runtimes) =
        crate::setup::build(config, options, clock.clone(), config_path).await?;
    state.health_only = true;
    // setup has checked `--env` and made it the active environment.
    let selected: Vec<usize> = match options.env {
        Some(_) => vec![state.active],
        None => (0..state.envs.len()).collect(),
    };
    let mut app = App::new(state, runtimes, clock.clone());
    // `--wait`: the last read that answered in full.
    let mut last: Option<(Report, Wait)> = None;
    loop {
        app.dispatch(Action::Tick(clock.now()));
        for &env in &selected {
            // `health_only` leaves out what health is not judged from; target
            // health follows the services (they name the groups).
            for resource in Resource::ALL {
                app.dispatch(Action::PollDue { env, resource });
            }
            let probes = app.state.envs.get(env).map_or(0, |e| e.probes.len());
            for probe in 0..probes {
                app.dispatch(Action::ProbeDue { env, probe });
            }
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let cut = tokio::time::timeout(left, app.settle()).await.is_err();
        if cut {
            // A read again cut by the timeout says nothing new: the status
            // then is the last read that answered in full.
            if let Some(last) = last {
                return Ok(last);
            }
            tracing::warn!(
                secs = timeout.as_secs(),
                "status: some reads did not answer in time"
            );
        }
        let report = judge(&app.state, &selected, clock.now(), timeout);
        let outcome = match wait {
            None => Wait::Reached,
            Some((w, service)) => reached(&app.state, &selected, &report, w, service),
        };
        let now = tokio::time::Instant::now();
        if outcome != Wait::NotYet || now >= deadline {
            return Ok((report, outcome));
        }
        tokio::time::sleep(WAIT_POLL.min(deadline - now)).await;
        if tokio::time::Instant::now() >= deadline {
            return Ok((report, outcome));
        }
        last = Some((report, outcome));
    }
}

/// Where `--wait` has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Reached,
    NotYet,
    /// `--service` names no service of the judged environments (once they
    /// were read).
    NoSuchService,
}

/// Whether `--wait` is over: every judged environment OK (or, with
/// `service`, that service healthy), and for `stable` no rollout in
/// progress.
fn reached(
    state: &State,
    selected: &[usize],
    report: &Report,
    wait: WaitFor,
    service: Option<&str>,
) -> Wait {
    // A CODE_DEPLOY service is steady once no CodeDeploy deployment of it
    // is under way.
    let steady = |e: &EnvState, s: &crate::domain::Service| {
        s.deployments.len() <= 1
            && s.rollout() != RolloutState::InProgress
            && e.blue_green(&s.name)
                .and_then(crate::domain::BlueGreen::active)
                .is_none()
    };
    let envs = || selected.iter().filter_map(|&i| state.envs.get(i));
    let ok = match service {
        Some(name) => {
            let found: Vec<(&EnvState, &crate::domain::Service)> = envs()
                .flat_map(|e| e.services.data.iter().flatten().map(move |s| (e, s)))
                .filter(|(_, s)| s.name == name)
                .collect();
            let read = envs().all(|e| e.services.data.is_some());
            if found.is_empty() {
                return if read {
                    Wait::NoSuchService
                } else {
                    Wait::NotYet
                };
            }
            found.iter().all(|(e, s)| {
                e.service_health(s, state.now) == ServiceHealth::Ok
                    && (wait == WaitFor::Healthy || steady(e, s))
            })
        }
        None => {
            report.overall == Level::Ok
                && (wait == WaitFor::Healthy
                    || envs().all(|e| e.services.data.iter().flatten().all(|s| steady(e, s))))
        }
    };
    if ok { Wait::Reached } else { Wait::NotYet }
}

// ------------------------------------------------------------- judging

/// Judges the environments `selected` of `state` at `now`; `timeout` is
/// named in the error of a read still unanswered.
pub fn judge(state: &State, selected: &[usize], now: Timestamp, timeout: Duration) -> Report {
    let mut environments: Vec<EnvReport> = selected
        .iter()
        .filter_map(|&i| state.envs.get(i))
        .map(|e| judge_env(e, now, timeout))
        .collect();
    // Worst first; `sort_by` is stable, so equals keep the config order.
    environments.sort_by_key(|e| std::cmp::Reverse(e.state.severity()));
    let overall = if environments.is_empty() {
        Level::Unknown
    } else {
        environments
            .iter()
            .fold(Level::Ok, |acc, e| acc.worst(e.state))
    };
    Report {
        generated_at: now,
        overall,
        environments,
    }
}

/// One environment's verdict from what the console state holds.
pub fn judge_env(e: &EnvState, now: Timestamp, timeout: Duration) -> EnvReport {
    let errors = read_errors(e, timeout);
    let mut checks = Vec::new();
    checks.extend(service_checks(e, now));
    checks.extend(database_checks(e));
    checks.extend(instance_checks(e));
    checks.extend(replication_group_checks(e));
    checks.extend(blue_green_checks(e, now));
    checks.extend(alarm_checks(e));
    checks.extend(target_checks(e));
    checks.extend(http_checks(e));
    checks.extend(distribution_checks(e));
    checks.sort_by(|a, b| {
        b.state
            .severity()
            .cmp(&a.state.severity())
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.name.cmp(&b.name))
    });
    let counts = counts(e, now);

    let partial = !errors.is_empty();
    let mut state = checks.iter().fold(Level::Ok, |acc, c| acc.worst(c.state));
    let mut reasons: Vec<(Level, String)> = phrases(&checks);
    for err in &errors {
        reasons.push((
            Level::Unknown,
            format!("{} not read: {}", err.resource, err.kind),
        ));
    }
    if partial {
        state = state.worst(Level::Unknown);
    } else if checks.is_empty() {
        // Never an empty OK: a wrong region or account finds nothing.
        state = Level::Unknown;
        reasons.push((
            Level::Unknown,
            "nothing found: no services, databases, EC2 hosts, alarms or health checks".to_string(),
        ));
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.0.severity()));

    EnvReport {
        name: e.name.clone(),
        source: e.source,
        account: e.account().map(str::to_string),
        region: e.region.clone(),
        protected: e.protected,
        state,
        reasons: reasons.into_iter().map(|(_, r)| r).collect(),
        checks,
        counts,
        partial,
        errors,
    }
}

/// Every read that health depends on and that did not succeed.
fn read_errors(e: &EnvState, timeout: Duration) -> Vec<ReadError> {
    let needed = Resource::ALL
        .into_iter()
        .filter(|r| r.for_health() && e.reads(*r));
    let mut errors = Vec::new();
    for r in needed {
        let meta = e.panel_meta(r);
        let resource = r.label().to_string();
        match meta.load {
            LoadState::Loaded => {}
            LoadState::Failed(err) => errors.push(ReadError {
                resource,
                kind: err.kind().to_string(),
                message: err.to_string(),
            }),
            LoadState::Loading => errors.push(ReadError {
                resource,
                kind: "timeout".to_string(),
                message: format!("no answer within {}s", timeout.as_secs()),
            }),
            LoadState::Idle => errors.push(ReadError {
                resource,
                kind: "not read".to_string(),
                message: if r == Resource::Services && e.discovers_clusters() {
                    "not read: the ECS clusters are not known".to_string()
                } else {
                    "not read".to_string()
                },
            }),
        }
        for f in meta.failures {
            errors.push(ReadError {
                resource: r.label().to_string(),
                kind: "partial".to_string(),
                message: format!("{}: {}", short_id(&f.arn), f.reason),
            });
        }
    }
    for p in &e.probes {
        if p.healthy().is_none() {
            errors.push(ReadError {
                resource: format!("health check {}", p.name),
                kind: "timeout".to_string(),
                message: format!("no answer within {}s", timeout.as_secs()),
            });
        }
    }
    errors
}

fn service_checks(e: &EnvState, now: Timestamp) -> Vec<Check> {
    let Some(services) = &e.services.data else {
        return Vec::new();
    };
    services
        .iter()
        .map(|s| {
            let verdict = e.service_verdict(s, now);
            let why = verdict.why.clone().unwrap_or_default();
            let primary = s.primary_deployment();
            let failed_rollout = s
                .deployments
                .iter()
                .any(|d| d.rollout_state == RolloutState::Failed);
            let (state, detail, phrase) = match verdict.health {
                ServiceHealth::Failing => {
                    let phrase = if failed_rollout {
                        format!("{} rollout FAILED", s.name)
                    } else {
                        format!("{} FAILING: {why}", s.name)
                    };
                    (Level::Critical, verdict.why.clone(), phrase)
                }
                ServiceHealth::Degraded => (
                    Level::Warning,
                    verdict.why.clone(),
                    format!("{} degraded: {why}", s.name),
                ),
                ServiceHealth::Deploying => match rollout_age(primary, now) {
                    Some(age) if age >= ROLLOUT_GRACE => {
                        let text = format!("rollout in progress for {}m", age.num_minutes());
                        (
                            Level::Warning,
                            Some(text.clone()),
                            format!("{} {text}", s.name),
                        )
                    }
                    _ => (Level::Ok, verdict.why.clone(), String::new()),
                },
                // Desired 0 is a decision, not a fault: OK, and said.
                ServiceHealth::ScaledToZero | ServiceHealth::Ok => {
                    (Level::Ok, verdict.why.clone(), String::new())
                }
            };
            let mut fields = Map::new();
            fields.insert("cluster".into(), json!(short_id(&s.cluster_arn)));
            fields.insert("running".into(), json!(s.running_count));
            fields.insert("desired".into(), json!(s.desired_count));
            fields.insert("pending".into(), json!(s.pending_count));
            fields.insert(
                "rollout".into(),
                json!(primary.map(|d| d.rollout_state.as_str())),
            );
            fields.insert(
                "failed_tasks".into(),
                json!(primary.map_or(0, |d| d.failed_tasks)),
            );
            fields.insert(
                "task_definition".into(),
                json!(crate::domain::task_definition_label(&s.task_definition)),
            );
            Check {
                kind: Kind::Service,
                name: s.name.clone(),
                state,
                status: verdict.health.word().to_string(),
                detail,
                phrase,
                fields,
            }
        })
        .collect()
}

/// How long the primary deployment has been rolling out (`None` when its
/// start is unknown).
fn rollout_age(d: Option<&crate::domain::Deployment>, now: Timestamp) -> Option<TimeDelta> {
    let d = d.filter(|d| d.rollout_state == RolloutState::InProgress)?;
    (d.created_at > DateTime::<Utc>::UNIX_EPOCH).then(|| now - d.created_at)
}

/// A database status under which it keeps serving (WARNING); any other
/// status than `available` is CRITICAL.
fn db_still_serves(status: &str) -> bool {
    matches!(
        status,
        "backing-up"
            | "modifying"
            | "storage-optimization"
            | "configuring-enhanced-monitoring"
            | "configuring-iam-database-auth"
            | "configuring-log-exports"
    )
}

fn database_checks(e: &EnvState) -> Vec<Check> {
    e.databases
        .data
        .iter()
        .flatten()
        .map(|d| {
            let state = if d.status == "available" {
                Level::Ok
            } else if db_still_serves(&d.status) {
                Level::Warning
            } else {
                Level::Critical
            };
            let mut fields = Map::new();
            fields.insert("engine".into(), json!(d.engine));
            fields.insert("role".into(), json!(d.role().to_string()));
            fields.insert("multi_az".into(), json!(d.multi_az));
            fields.insert("class".into(), json!(d.class));
            Check {
                kind: Kind::Database,
                name: d.id.clone(),
                state,
                status: d.status.clone(),
                detail: (state != Level::Ok).then(|| format!("status {}", d.status)),
                phrase: format!("database {} {}", d.id, d.status),
                fields,
            }
        })
        .collect()
}

/// How long a deployment that failed or was stopped, and was rolled back,
/// keeps its group at WARNING.
pub const RECENT_ROLLBACK_MINUTES: i64 = 60;

/// The blue/green deployment of each CODE_DEPLOY service (its group's
/// current deployment, else the newest of the past day):
/// - stopped or failed and **not** rolled back: CRITICAL — stopped
///   mid-way, production traffic may be split between the original and the
///   replacement, or the replacement left half-made;
/// - a rollback that failed: CRITICAL;
/// - stopped or failed and rolled back, or CodeDeploy's rollback under way
///   or done, within the last [`RECENT_ROLLBACK_MINUTES`]: WARNING (the
///   release did not go out; the original serves);
/// - under way (waiting for a continue included), succeeded, or a
///   rolled-back failure older than that: OK.
fn blue_green_checks(e: &EnvState, now: Timestamp) -> Vec<Check> {
    e.blue_greens
        .data
        .iter()
        .flatten()
        .filter_map(|g| {
            let d = g.deployment.as_ref()?;
            let ended = d.completed_at.or(d.created_at);
            let recent = ended
                .is_none_or(|t| now - t <= chrono::TimeDelta::minutes(RECENT_ROLLBACK_MINUTES));
            let rollback_of = d
                .rollback
                .as_ref()
                .and_then(|r| r.triggering_deployment_id.clone());
            let (state, status, detail) = if let Some(of) = &rollback_of {
                match d.status.as_str() {
                    "Failed" | "Stopped" => (
                        Level::Critical,
                        "rollback failed".to_string(),
                        format!("the rollback {} of {of} is {}", d.id, d.status),
                    ),
                    _ if d.is_active() => (
                        Level::Warning,
                        "rolling back".to_string(),
                        format!("{} rolls back {of} ({})", d.id, d.status),
                    ),
                    _ if recent => (
                        Level::Warning,
                        "rolled back".to_string(),
                        format!("{of} was rolled back by {}", d.id),
                    ),
                    _ => (Level::Ok, "rolled back".to_string(), String::new()),
                }
            } else if d.is_failed() && !d.rolled_back() {
                (
                    Level::Critical,
                    format!("{} mid-way", d.status.to_lowercase()),
                    format!(
                        "{} {} and was not rolled back{}{}",
                        d.id,
                        d.status,
                        d.traffic_shifted()
                            .map(|t| format!(": {t:.0} % of production traffic on the replacement"))
                            .unwrap_or_default(),
                        d.error
                            .as_deref()
                            .map(|e| format!(" ({e})"))
                            .unwrap_or_default()
                    ),
                )
            } else if d.is_failed() && recent {
                (
                    Level::Warning,
                    format!("{}, rolled back", d.status.to_lowercase()),
                    format!(
                        "{} {}{} and was rolled back",
                        d.id,
                        d.status,
                        d.error
                            .as_deref()
                            .map(|e| format!(" ({e})"))
                            .unwrap_or_default()
                    ),
                )
            } else if d.waits() {
                (
                    Level::Ok,
                    "waiting for a continue".to_string(),
                    String::new(),
                )
            } else if d.is_active() {
                (Level::Ok, "in progress".to_string(), String::new())
            } else {
                (Level::Ok, d.status.to_lowercase(), String::new())
            };
            let mut fields = Map::new();
            fields.insert("cluster".into(), json!(g.cluster));
            fields.insert("service".into(), json!(g.service));
            fields.insert("application".into(), json!(g.application));
            fields.insert("deployment_group".into(), json!(g.deployment_group));
            fields.insert("deployment_id".into(), json!(d.id));
            fields.insert("deployment_status".into(), json!(d.status));
            fields.insert("traffic_shifted".into(), json!(d.traffic_shifted()));
            fields.insert(
                "rolled_back".into(),
                json!(d.rolled_back() || rollback_of.is_some()),
            );
            fields.insert("since".into(), json!(ended));
            Some(Check {
                kind: Kind::CodeDeploy,
                phrase: format!("{} blue/green {status}", g.service),
                name: g.service.clone(),
                state,
                status,
                detail: (state != Level::Ok).then_some(detail),
                fields,
            })
        })
        .collect()
}

/// An EC2 host: a status check impaired, or not running, is CRITICAL
/// (it does not serve; every host of the environment is meant to run), as
/// a database not available is, and so is a running host unhealthy in a
/// target group ([`EnvState::host_health`]); starting, stopping, its
/// checks not yet known or draining, WARNING.
fn instance_checks(e: &EnvState) -> Vec<Check> {
    e.instances
        .data
        .iter()
        .flatten()
        .map(|i| {
            let state = match e.host_health(i) {
                InstanceHealth::Ok => Level::Ok,
                InstanceHealth::Degraded => Level::Warning,
                InstanceHealth::Failing => Level::Critical,
            };
            // Where its checks are fine, the target group says why.
            let target = (i.health() == InstanceHealth::Ok)
                .then(|| {
                    e.host_targets(&i.id)
                        .into_iter()
                        .filter(|(_, t)| t.state != "healthy" && t.state != "unused")
                        .max_by_key(|(_, t)| t.rank())
                        .map(|(g, t)| format!("{} in {}", t.state, g.name))
                })
                .flatten();
            let impaired: Vec<&str> =
                [("system", i.system_status), ("instance", i.instance_status)]
                    .iter()
                    .filter(|(_, c)| *c == CheckStatus::Impaired)
                    .map(|(w, _)| *w)
                    .collect();
            let (status, detail) = if let Some(target) = target {
                (
                    target.clone(),
                    format!(
                        "state {}, status checks {}, {target}",
                        i.state,
                        i.checks_summary()
                    ),
                )
            } else if impaired.is_empty() {
                (
                    i.state.clone(),
                    format!("state {}, status checks {}", i.state, i.checks_summary()),
                )
            } else {
                (
                    format!("{} impaired", impaired.join(" and ")),
                    format!(
                        "state {}, {} status check impaired",
                        i.state,
                        impaired.join(" and ")
                    ),
                )
            };
            let mut fields = Map::new();
            fields.insert("instance_id".into(), json!(i.id));
            fields.insert("instance_state".into(), json!(i.state));
            fields.insert("instance_type".into(), json!(i.instance_type));
            fields.insert("availability_zone".into(), json!(i.availability_zone));
            fields.insert("system_status".into(), json!(i.system_status.word()));
            fields.insert("instance_status".into(), json!(i.instance_status.word()));
            let name = i.display_name().to_string();
            Check {
                kind: Kind::Instance,
                phrase: format!("host {name} {status}"),
                name,
                state,
                status,
                detail: (state != Level::Ok).then_some(detail),
                fields,
            }
        })
        .collect()
}

/// A configured CloudFront distribution: disabled is CRITICAL (it was
/// configured because it serves the environment's users, and a disabled
/// distribution answers none of them). A configuration change propagating
/// (`InProgress`) and invalidations running are normal after a release:
/// OK, with what is under way in its status. One configured but not found
/// is a partial read (`read_errors`), not a check.
fn distribution_checks(e: &EnvState) -> Vec<Check> {
    e.distributions
        .data
        .iter()
        .flatten()
        .map(|d| {
            let state = if d.enabled {
                Level::Ok
            } else {
                Level::Critical
            };
            let mut doing = Vec::new();
            if d.status != "Deployed" {
                doing.push(format!("config {}", d.status));
            }
            if d.in_progress > 0 {
                doing.push(format!("{} invalidating", d.in_progress));
            }
            let status = if !d.enabled {
                "disabled".to_string()
            } else if doing.is_empty() {
                "deployed".to_string()
            } else {
                doing.join(", ")
            };
            let name = d.alias.clone().unwrap_or_else(|| d.id.clone());
            let mut fields = Map::new();
            fields.insert("distribution_id".into(), json!(d.id));
            fields.insert("domain_name".into(), json!(d.domain_name));
            fields.insert("enabled".into(), json!(d.enabled));
            fields.insert("distribution_status".into(), json!(d.status));
            fields.insert("invalidations_in_progress".into(), json!(d.in_progress));
            Check {
                kind: Kind::Distribution,
                phrase: format!("CloudFront {name} {status}"),
                detail: (state != Level::Ok).then(|| {
                    format!(
                        "distribution {} ({}) is disabled: it serves no request",
                        d.id, d.domain_name
                    )
                }),
                name,
                state,
                status,
                fields,
            }
        })
        .collect()
}

/// An ElastiCache replication group:
/// - CRITICAL when it cannot be relied on: its status is not `available`
///   nor a change under way (`create-failed`, `deleting`, ...), no member
///   is an available primary (writes fail), or a member is broken
///   (`failed`, `incompatible-network`, `restore-failed`: it does not come
///   back by itself and the group has lost its redundancy);
/// - WARNING when it serves but is exposed or changing: the group or a
///   member `modifying` / `creating` / `snapshotting` / rebooting,
///   automatic failover not `enabled` on a Multi-AZ group or one with
///   replicas (losing the primary would need a person), or an alarm on its
///   metrics in ALARM (the alarm itself is judged CRITICAL beside it);
/// - OK otherwise. (Replication lag is judged through its alarms: `honban
///   status` reads no metrics.)
fn replication_group_checks(e: &EnvState) -> Vec<Check> {
    use crate::domain::CacheHealth;
    e.replication_groups
        .data
        .iter()
        .flatten()
        .map(|g| {
            let health = e.redis_health(g);
            let state = match health {
                CacheHealth::Ok => Level::Ok,
                CacheHealth::Degraded => Level::Warning,
                CacheHealth::Failing => Level::Critical,
            };
            let mut why: Vec<String> = Vec::new();
            if g.status != "available" {
                why.push(format!("status {}", g.status));
            }
            if !g.cluster_mode && g.primary().is_none() {
                why.push("no primary".to_string());
            }
            for m in g.troubled_members() {
                why.push(format!("node {} {}", m.cluster_id, m.status));
            }
            if g.failover_missing() {
                why.push(format!("automatic failover {}", g.automatic_failover));
            }
            for a in e.redis_alarms(g) {
                if a.state == AlarmState::Alarm {
                    why.push(format!("alarm {} in ALARM", a.name));
                }
            }
            let available = g
                .members
                .iter()
                .filter(|m| m.health() == CacheHealth::Ok)
                .count();
            let status = if g.status == "available" {
                format!("{available}/{} nodes available", g.members.len())
            } else {
                g.status.clone()
            };
            let mut fields = Map::new();
            fields.insert("engine".into(), json!(g.engine_label()));
            fields.insert("node_type".into(), json!(g.node_type));
            fields.insert("multi_az".into(), json!(g.multi_az));
            fields.insert("automatic_failover".into(), json!(g.automatic_failover));
            fields.insert(
                "nodes".into(),
                json!(
                    g.members
                        .iter()
                        .map(|m| json!({
                            "cache_cluster_id": m.cluster_id,
                            "role": m.role,
                            "availability_zone": m.availability_zone,
                            "status": m.status,
                        }))
                        .collect::<Vec<_>>()
                ),
            );
            Check {
                kind: Kind::ReplicationGroup,
                phrase: format!("redis {} {status}", g.id),
                name: g.id.clone(),
                state,
                status,
                detail: (state != Level::Ok).then(|| why.join(", ")),
                fields,
            }
        })
        .collect()
}

fn alarm_checks(e: &EnvState) -> Vec<Check> {
    e.alarms
        .data
        .iter()
        .flatten()
        .map(|a| {
            let state = match a.state {
                // Muted (actions disabled) or not, it is in ALARM: the
                // console counts it too.
                AlarmState::Alarm => Level::Critical,
                AlarmState::InsufficientData => Level::Warning,
                AlarmState::Ok => Level::Ok,
            };
            let status = match a.state {
                AlarmState::Alarm => "ALARM",
                AlarmState::InsufficientData => "INSUFFICIENT_DATA",
                AlarmState::Ok => "OK",
            };
            let mut fields = Map::new();
            fields.insert("muted".into(), json!(!a.actions_enabled));
            fields.insert("since".into(), json!(a.state_updated_at.to_rfc3339()));
            Check {
                kind: Kind::Alarm,
                name: a.name.clone(),
                state,
                status: status.to_string(),
                detail: (state != Level::Ok && !a.state_reason.is_empty())
                    .then(|| a.state_reason.clone()),
                phrase: String::new(), // alarms are counted: see `phrases`
                fields,
            }
        })
        .collect()
}

fn target_checks(e: &EnvState) -> Vec<Check> {
    e.targets
        .data
        .iter()
        .flatten()
        .map(|g| {
            let total = g.targets.len();
            let unhealthy = g.targets.iter().filter(|t| t.state == "unhealthy").count();
            let healthy = g.healthy();
            let state = if unhealthy > 0 {
                Level::Warning
            } else {
                Level::Ok
            };
            let mut fields = Map::new();
            fields.insert("healthy".into(), json!(healthy));
            fields.insert("unhealthy".into(), json!(unhealthy));
            fields.insert("total".into(), json!(total));
            let text = format!("{unhealthy}/{total} targets unhealthy");
            Check {
                kind: Kind::TargetGroup,
                name: g.name.clone(),
                state,
                status: format!("{healthy}/{total} healthy"),
                detail: (unhealthy > 0).then(|| text.clone()),
                phrase: format!("{}: {text}", g.name),
                fields,
            }
        })
        .collect()
}

fn http_checks(e: &EnvState) -> Vec<Check> {
    e.probes
        .iter()
        .map(|p| {
            let last = p.last();
            let (state, status, detail) = match p.healthy() {
                Some(true) => (Level::Ok, "ok", None),
                Some(false) => (
                    Level::Critical,
                    "failing",
                    Some(p.current_error().unwrap_or("failing").to_string()),
                ),
                None => (Level::Unknown, "no answer", None),
            };
            let mut fields = Map::new();
            fields.insert("url".into(), json!(p.url));
            fields.insert("http_status".into(), json!(last.and_then(|s| s.status)));
            fields.insert("latency_ms".into(), json!(last.and_then(|s| s.latency_ms)));
            fields.insert("service".into(), json!(p.service));
            let phrase = match &detail {
                Some(d) => format!("health check {} failing: {d}", p.name),
                None => format!("health check {} {status}", p.name),
            };
            Check {
                kind: Kind::HealthCheck,
                name: p.name.clone(),
                state,
                status: status.to_string(),
                detail,
                phrase,
                fields,
            }
        })
        .collect()
}

/// The reasons of the checks that are not OK, worst first: one per check,
/// alarms counted by state (`2 alarms in ALARM (1 muted)`).
fn phrases(checks: &[Check]) -> Vec<(Level, String)> {
    let mut out = Vec::new();
    let mut alarms_done = false;
    for c in checks.iter().filter(|c| c.state != Level::Ok) {
        if c.kind != Kind::Alarm {
            out.push((c.state, c.phrase.clone()));
            continue;
        }
        if alarms_done {
            continue;
        }
        alarms_done = true;
        let alarms: Vec<&Check> = checks.iter().filter(|c| c.kind == Kind::Alarm).collect();
        let firing: Vec<&&Check> = alarms.iter().filter(|c| c.status == "ALARM").collect();
        let muted = firing
            .iter()
            .filter(|c| c.fields.get("muted") == Some(&Value::Bool(true)))
            .count();
        let no_data = alarms
            .iter()
            .filter(|c| c.status == "INSUFFICIENT_DATA")
            .count();
        if !firing.is_empty() {
            let mut text = format!("{} in ALARM", plural(firing.len(), "alarm"));
            if muted > 0 {
                text.push_str(&format!(" ({muted} muted)"));
            }
            out.push((Level::Critical, text));
        }
        if no_data > 0 {
            out.push((
                Level::Warning,
                format!("{} INSUFFICIENT_DATA", plural(no_data, "alarm")),
            ));
        }
    }
    out
}

fn counts(e: &EnvState, now: Timestamp) -> Counts {
    let s = e.summary(now);
    let groups = e.targets.data.as_deref().unwrap_or_default();
    let hosts = e.instances.data.as_deref().unwrap_or_default();
    let dists = e.distributions.data.as_deref().unwrap_or_default();
    let redis = e.replication_groups.data.as_deref().unwrap_or_default();
    let (http_ok, http_failing, http_total) = crate::probe::counts(&e.probes);
    Counts {
        services: s.services_total,
        services_ok: s.services_healthy,
        services_failing: s.services_failing,
        services_degraded: s.services_degraded,
        services_deploying: s.services_deploying,
        services_scaled_to_zero: s.services_scaled_to_zero,
        tasks_running: s.tasks_running,
        tasks_desired: s.tasks_desired,
        databases: s.databases_total,
        databases_available: s.databases_available,
        instances: hosts.len(),
        instances_ok: s.hosts_ok,
        instances_impaired: hosts
            .iter()
            .filter(|i| {
                i.system_status == CheckStatus::Impaired
                    || i.instance_status == CheckStatus::Impaired
            })
            .count(),
        instances_not_running: hosts.iter().filter(|i| i.state != "running").count(),
        replication_groups: redis.len(),
        replication_groups_ok: redis
            .iter()
            .filter(|g| e.redis_health(g) == crate::domain::CacheHealth::Ok)
            .count(),
        alarms: s.alarms_total,
        alarms_alarm: s.alarms_firing,
        alarms_muted: s.alarms_muted,
        alarms_insufficient: s.alarms_insufficient,
        target_groups: groups.len(),
        targets: groups.iter().map(|g| g.targets.len()).sum(),
        targets_unhealthy: groups
            .iter()
            .flat_map(|g| g.targets.iter())
            .filter(|t| t.state == "unhealthy")
            .count(),
        health_checks: http_total,
        health_checks_ok: http_ok,
        health_checks_failing: http_failing,
        distributions: dists.len(),
        distributions_enabled: dists.iter().filter(|d| d.enabled).count(),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The first reasons, then how many more.
fn short_reasons(reasons: &[String]) -> String {
    let mut text = reasons
        .iter()
        .take(SUMMARY_REASONS)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if reasons.len() > SUMMARY_REASONS {
        text.push_str(&format!(", +{} more", reasons.len() - SUMMARY_REASONS));
    }
    text
}

/// What was found, for an OK line: `3 services, 2 databases, 12 alarms ok`.
fn found(c: &Counts) -> String {
    let parts = read(c);
    if parts.is_empty() {
        "nothing found".to_string()
    } else {
        format!("{parts} ok")
    }
}

/// What was read: `3 services, 2 databases, 12 alarms`.
fn read(c: &Counts) -> String {
    read_parts(c).join(", ")
}

/// `parts` joined by `, ` after `lead`, in lines of at most `width`
/// columns, the next ones indented as far as `lead`.
fn wrapped(lead: &str, parts: &[String], width: usize) -> Vec<String> {
    let indent = " ".repeat(lead.chars().count());
    let mut lines = Vec::new();
    let mut line = lead.to_string();
    let mut first = true;
    for (i, part) in parts.iter().enumerate() {
        let piece = if i + 1 < parts.len() {
            format!("{part},")
        } else {
            part.clone()
        };
        let sep = if first { "" } else { " " };
        if !first && line.chars().count() + sep.len() + piece.chars().count() > width {
            lines.push(std::mem::replace(&mut line, indent.clone()));
            first = true;
        }
        if !first {
            line.push(' ');
        }
        line.push_str(&piece);
        first = false;
    }
    lines.push(line);
    lines
}

/// What was read, one part per kind found.
fn read_parts(c: &Counts) -> Vec<String> {
    [
        (c.services, "service"),
        (c.databases, "database"),
        (c.instances, "EC2 host"),
        (c.replication_groups, "Redis replication group"),
        (c.alarms, "alarm"),
        (c.target_groups, "target group"),
        (c.health_checks, "HTTP check"),
        (c.distributions, "CloudFront distribution"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| plural(*n, w))
    .collect()
}

// ------------------------------------------------------------- output

/// The report in `format`, ending with a newline.
pub fn render(report: &Report, format: OutputFormat) -> String {
    match format {
        OutputFormat::Text => text(report),
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(report))
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            s.push('\n');
            s
        }
        OutputFormat::Nagios => nagios(report),
    }
}

/// 80 columns, the worst environment first, each with its checks that are
/// not OK (worst first) and a line of what is.
pub fn text(report: &Report) -> String {
    let mut lines = vec![format!(
        "honban {} — {}",
        report.overall.word(),
        report.summary()
    )];
    for e in &report.environments {
        let mut head = format!("{:<9} {}", e.state.word(), e.name);
        let mut place: Vec<String> = vec![match e.source {
            Source::Aws => "aws".to_string(),
            Source::Sim => "simulated".to_string(),
        }];
        place.extend(e.account.clone());
        place.extend(e.region.clone());
        head.push_str(&format!("  ({})", place.join(" ")));
        lines.push(String::new());
        lines.push(head);
        for c in e.checks.iter().filter(|c| c.state != Level::Ok) {
            let mut line = format!(
                "  {:<9} {} {}: {}",
                c.state.word(),
                c.kind.label(),
                c.name,
                c.status
            );
            if let Some(d) = &c.detail {
                line.push_str(&format!(" — {d}"));
            }
            lines.push(line);
        }
        for err in &e.errors {
            lines.push(format!(
                "  {:<9} {} not read: {}",
                Level::Unknown.word(),
                err.resource,
                err.message
            ));
        }
        if !e.checks.is_empty() {
            // Wrapped rather than cut: every kind read is said.
            lines.extend(wrapped(
                &format!("  {:<9} ", "read"),
                &read_parts(&e.counts),
                TEXT_WIDTH,
            ));
        }
    }
    let mut out = String::new();
    for line in lines {
        out.push_str(&fit(&line, TEXT_WIDTH));
        out.push('\n');
    }
    out
}

/// `line` cut to `width` columns, with `…` where it was cut.
fn fit(line: &str, width: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    let total: usize = line.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return line.to_string();
    }
    for c in line.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// The monitoring-plugin output: `HONBAN STATE - summary | perfdata`, then
/// one line per check that is not OK and per read error.
pub fn nagios(report: &Report) -> String {
    let summary = report.summary().replace('|', "/");
    let mut perf = Vec::new();
    let prefix = report.environments.len() > 1;
    for e in &report.environments {
        let c = &e.counts;
        let label = |metric: &str| {
            let l = if prefix {
                format!("{}.{metric}", e.name)
            } else {
                metric.to_string()
            };
            if l.contains(|ch: char| ch.is_whitespace() || ch == '=' || ch == '\'') {
                format!("'{}'", l.replace(['\'', '='], "_"))
            } else {
                l
            }
        };
        let of = |metric: &str, n: usize, max: usize| format!("{}={n};;;0;{max}", label(metric));
        perf.push(of("services_ok", c.services_ok, c.services));
        perf.push(of("services_failing", c.services_failing, c.services));
        perf.push(of("services_degraded", c.services_degraded, c.services));
        perf.push(of("services_deploying", c.services_deploying, c.services));
        perf.push(format!(
            "{}={};;;0",
            label("tasks_running"),
            c.tasks_running
        ));
        perf.push(format!(
            "{}={};;;0",
            label("tasks_desired"),
            c.tasks_desired
        ));
        perf.push(of(
            "databases_available",
            c.databases_available,
            c.databases,
        ));
        if c.instances > 0 {
            perf.push(of("instances_ok", c.instances_ok, c.instances));
        }
        if c.replication_groups > 0 {
            perf.push(of(
                "redis_ok",
                c.replication_groups_ok,
                c.replication_groups,
            ));
        }
        perf.push(of("alarms_alarm", c.alarms_alarm, c.alarms));
        perf.push(of("alarms_insufficient", c.alarms_insufficient, c.alarms));
        perf.push(of("targets_unhealthy", c.targets_unhealthy, c.targets));
        perf.push(of("http_ok", c.health_checks_ok, c.health_checks));
        if c.distributions > 0 {
            perf.push(of(
                "distributions_enabled",
                c.distributions_enabled,
                c.distributions,
            ));
        }
        perf.push(format!("{}={};;;0", label("read_errors"), e.errors.len()));
    }
    let mut out = format!(
        "HONBAN {} - {summary} | {}\n",
        report.overall.word(),
        perf.join(" ")
    );
    for e in &report.environments {
        for c in e.checks.iter().filter(|c| c.state != Level::Ok) {
            let detail = c
                .detail
                .as_deref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default();
            out.push_str(
                &format!(
                    "{}: {} {} {}: {}{detail}\n",
                    e.name,
                    c.state.word(),
                    c.kind.label(),
                    c.name,
                    c.status
                )
                .replace('|', "/"),
            );
        }
        for err in &e.errors {
            out.push_str(
                &format!(
                    "{}: UNKNOWN {} not read: {}\n",
                    e.name, err.resource, err.message
                )
                .replace('|', "/"),
            );
        }
    }
    out
}

/// The versioned JSON envelope (`assets/status.schema.json`).
pub fn to_json(report: &Report) -> Value {
    let environments: Vec<Value> = report
        .environments
        .iter()
        .map(|e| {
            let checks: Vec<Value> = e
                .checks
                .iter()
                .map(|c| {
                    let mut o = Map::new();
                    o.insert("kind".into(), json!(c.kind.word()));
                    o.insert("name".into(), json!(c.name));
                    o.insert("state".into(), json!(c.state.word()));
                    o.insert("status".into(), json!(c.status));
                    o.insert("detail".into(), json!(c.detail));
                    for (k, v) in &c.fields {
                        o.insert(k.clone(), v.clone());
                    }
                    Value::Object(o)
                })
                .collect();
            let errors: Vec<Value> = e
                .errors
                .iter()
                .map(|x| json!({"resource": x.resource, "kind": x.kind, "message": x.message}))
                .collect();
            let c = &e.counts;
            json!({
                "name": e.name,
                "source": match e.source { Source::Aws => "aws", Source::Sim => "sim" },
                "account": e.account,
                "region": e.region,
                "protected": e.protected,
                "state": e.state.word(),
                "exit_code": e.state.exit_code(),
                "reasons": e.reasons,
                "partial": e.partial,
                "errors": errors,
                "counts": {
                    "services": c.services,
                    "services_ok": c.services_ok,
                    "services_failing": c.services_failing,
                    "services_degraded": c.services_degraded,
                    "services_deploying": c.services_deploying,
                    "services_scaled_to_zero": c.services_scaled_to_zero,
                    "tasks_running": c.tasks_running,
                    "tasks_desired": c.tasks_desired,
                    "databases": c.databases,
                    "databases_available": c.databases_available,
                    "instances": c.instances,
                    "instances_ok": c.instances_ok,
                    "instances_impaired": c.instances_impaired,
                    "instances_not_running": c.instances_not_running,
                    "replication_groups": c.replication_groups,
                    "replication_groups_ok": c.replication_groups_ok,
                    "alarms": c.alarms,
                    "alarms_alarm": c.alarms_alarm,
                    "alarms_muted": c.alarms_muted,
                    "alarms_insufficient_data": c.alarms_insufficient,
                    "target_groups": c.target_groups,
                    "targets": c.targets,
                    "targets_unhealthy": c.targets_unhealthy,
                    "health_checks": c.health_checks,
                    "health_checks_ok": c.health_checks_ok,
                    "health_checks_failing": c.health_checks_failing,
                    "distributions": c.distributions,
                    "distributions_enabled": c.distributions_enabled,
                },
                "checks": checks,
            })
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "generated_at": report.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "overall": report.overall.word(),
        "exit_code": report.overall.exit_code(),
        "summary": report.summary(),
        "partial": report.partial(),
        "environments": environments,
    })
}

// ------------------------------------------------------------- the command

/// `honban status`: reads, prints to stdout and returns the exit code.
/// Nothing else is written to the screen (logs go to their file, when it
/// can be opened); a setup mistake goes to stderr with its exit code (64
/// for an unknown `--env`, 78 for the configuration).
pub fn run(
    cli: &Cli,
    args: &StatusArgs,
    config: &Config,
    config_path: &str,
    log_dir: &std::path::Path,
) -> u8 {
    // Without a writable log directory it runs without a log: its output
    // is for a script, not for a warning about logs.
    let _log_guard = crate::logging::init(log_dir).ok();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        demo = cli.demo,
        "status"
    );
    let runtime = match crate::setup::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("honban: cannot start the runtime: {e}");
            return Level::Unknown.exit_code();
        }
    };
    let options = Options {
        demo: cli.demo,
        worlds: cli.worlds.clone(),
        env: cli.env.clone(),
        // It only reads; the guard makes sure of it.
        read_only: true,
        seed: cli.seed,
        ..Options::default()
    };
    let result = runtime.block_on(collect_until(
        config,
        &options,
        cli.clock(),
        config_path,
        args.timeout,
        args.wait.map(|w| (w, args.service.as_deref())),
    ));
    // Requests still in flight after the timeout are not waited for.
    runtime.shutdown_background();
    match result {
        Ok((_, Wait::NoSuchService)) => {
            eprintln!(
                "honban: no service \"{}\" in the judged environments",
                args.service.as_deref().unwrap_or("")
            );
            crate::cli::EX_USAGE
        }
        Ok((report, outcome)) => {
            let out = render(&report, args.output);
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not a reason to panic.
            if let Err(e) = stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
            {
                tracing::warn!(error = %e, "status: stdout closed");
            }
            tracing::info!(overall = report.overall.word(), "status done");
            // `--wait` reached (the environment, or the one service): 0.
            if args.wait.is_some() && outcome == Wait::Reached {
                0
            } else {
                report.overall.exit_code()
            }
        }
        Err(e) => {
            eprintln!("honban: {e}");
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::backend::BackendError;
    use crate::config::{EnvironmentConfig, HealthCheckConfig, RefreshIntervals};
    use crate::domain::{
        Alarm, CallerIdentity, DbInstance, Deployment, Distribution, Instance, LoadBalancerRef,
        Service, TargetGroup, TargetHealth,
    };
    use crate::probe::{ProbeError, ProbeReport};
    use crate::state::Panel;

    const TG: &str = "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/prod-web/73e2";
    const WAIT: Duration = Duration::from_secs(30);

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("valid time")
    }

    fn loaded<T>(data: T) -> Panel<T> {
        Panel {
            data: Some(data),
            load: LoadState::Loaded,
            loaded_at: Some(t0()),
            ..Panel::default()
        }
    }

    fn failed<T>(err: BackendError) -> Panel<T> {
        Panel {
            load: LoadState::Failed(err),
            failed_at: Some(t0()),
            ..Panel::default()
        }
    }

    fn deployment(rollout: RolloutState, failed: u32, age_min: i64) -> Deployment {
        Deployment {
            id: "ecs-svc/1".into(),
            status: "PRIMARY".into(),
            task_definition: "arn:aws:ecs:ap-northeast-1:1:task-definition/web:7".into(),
            desired_count: 2,
            running_count: 2,
            pending_count: 0,
            failed_tasks: failed,
            rollout_state: rollout,
            rollout_state_reason: None,
            created_at: t0() - TimeDelta::minutes(age_min),
            updated_at: t0(),
        }
    }

    fn service(name: &str, running: u32, desired: u32) -> Service {
        Service {
            arn: format!("arn:aws:ecs:ap-northeast-1:1:service/prod/{name}"),
            name: name.into(),
            cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/prod".into(),
            status: "ACTIVE".into(),
            desired_count: desired,
            running_count: running,
            pending_count: 0,
            launch_type: None,
            task_definition: format!("arn:aws:ecs:ap-northeast-1:1:task-definition/{name}:7"),
            deployments: vec![deployment(RolloutState::Completed, 0, 60)],
            events: Vec::new(),
            load_balancers: Vec::new(),
            created_at: None,
            circuit_breaker: None,
            deployment_controller: crate::domain::DeploymentController::Ecs,
            strategy: None,
            service_deployment: None,
        }
    }

    fn db(id: &str, status: &str) -> DbInstance {
        DbInstance {
            id: id.into(),
            arn: format!("arn:aws:rds:ap-northeast-1:1:db:{id}"),
            engine: "postgres".into(),
            engine_version: "16.4".into(),
            class: "db.r6g.large".into(),
            status: status.into(),
            multi_az: true,
            availability_zone: None,
            secondary_availability_zone: None,
            allocated_storage_gib: 100,
            storage_type: None,
            backup_retention_days: 7,
            endpoint: None,
            port: None,
            replica_source: None,
            replicas: Vec::new(),
            pending_modifications: Vec::new(),
            latest_restorable_time: None,
            created_at: None,
            settings: crate::domain::DbSettings::default(),
        }
    }

    fn alarm(name: &str, state: AlarmState, muted: bool) -> Alarm {
        Alarm {
            name: name.into(),
            arn: format!("arn:aws:cloudwatch:ap-northeast-1:1:alarm:{name}"),
            description: None,
            state,
            state_reason: "Threshold Crossed".into(),
            state_updated_at: t0(),
            actions_enabled: !muted,
            composite: false,
            metric: None,
            comparison: None,
            threshold: None,
            period_seconds: None,
            evaluation_periods: None,
        }
    }

    /// A production with web and api (2/2 each), a database, two alarms
    /// OK and one HTTP check that answered 200: every read succeeded.
    fn healthy() -> EnvState {
        let cfg = EnvironmentConfig {
            name: "production".into(),
            region: Some("ap-northeast-1".into()),
            clusters: vec![crate::config::ClusterConfig {
                name: "prod".into(),
                services: Vec::new(),
            }],
            health_checks: vec![HealthCheckConfig {
                name: Some("api".into()),
                url: "https://example.com/api/health".into(),
                interval_secs: 15,
                timeout_secs: 5,
                expect_status: None,
                service: Some("api".into()),
            }],
            protected: true,
            ..Default::default()
        };
        let mut e = EnvState::from_config(&cfg, &RefreshIntervals::default(), false);
        e.identity = loaded(CallerIdentity {
            account: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/ops".into(),
            user_id: "AIDA".into(),
        });
        let mut web = service("web", 2, 2);
        web.load_balancers = vec![LoadBalancerRef {
            target_group_arn: Some(TG.into()),
            container_name: Some("web".into()),
            container_port: Some(3000),
        }];
        e.services = loaded(vec![web, service("api", 2, 2)]);
        e.databases = loaded(vec![db("prod-db", "available")]);
        e.alarms = loaded(vec![
            alarm("prod-web-5xx", AlarmState::Ok, false),
            alarm("prod-db-cpu", AlarmState::Ok, false),
        ]);
        e.targets = loaded(vec![TargetGroup {
            arn: TG.into(),
            name: "prod-web".into(),
            protocol: None,
            port: None,
            health_check_path: None,
            load_balancer_arns: Vec::new(),
            targets: ["10.0.0.1", "10.0.0.2"]
                .iter()
                .map(|ip| TargetHealth {
                    id: (*ip).into(),
                    port: Some(3000),
                    availability_zone: None,
                    state: "healthy".into(),
                    reason: None,
                    description: None,
                })
                .collect(),
        }]);
        answer(&mut e, Ok(200));
        e
    }

    fn answer(e: &mut EnvState, outcome: Result<u16, ProbeError>) {
        let report = ProbeReport {
            latency: Some(Duration::from_millis(40)),
            outcome,
            body: String::new(),
        };
        e.probes[0].record(t0(), &report);
    }

    fn judged(e: &EnvState) -> EnvReport {
        judge_env(e, t0(), WAIT)
    }

    fn services(e: &mut EnvState) -> &mut Vec<Service> {
        e.services.data.as_mut().expect("services loaded")
    }

    #[test]
    fn everything_read_and_healthy_is_ok() {
        let r = judged(&healthy());
        assert_eq!(r.state, Level::Ok, "{:?}", r.reasons);
        assert!(r.reasons.is_empty() && r.errors.is_empty() && !r.partial);
        // 2 services, 1 database, 2 alarms, 1 target group, 1 HTTP check.
        assert_eq!(r.checks.len(), 7);
        assert_eq!(r.counts.services_ok, 2);
        assert_eq!(r.counts.targets, 2);
        assert_eq!(r.account.as_deref(), Some("123456789012"));
    }

    #[test]
    fn a_failed_rollout_is_critical_and_named_first() {
        let mut e = healthy();
        services(&mut e)[0].deployments = vec![Deployment {
            rollout_state_reason: Some("circuit breaker tripped".into()),
            ..deployment(RolloutState::Failed, 3, 10)
        }];
        e.alarms.data = Some(vec![alarm("prod-web-5xx", AlarmState::Alarm, false)]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Critical);
        assert_eq!(r.reasons, ["web rollout FAILED", "1 alarm in ALARM"]);
        assert_eq!(r.checks[0].name, "web");
        assert_eq!(r.checks[0].status, "FAILING");
        assert_eq!(
            r.checks[0].detail.as_deref(),
            Some("circuit breaker tripped")
        );
        let report = Report {
            generated_at: t0(),
            overall: r.state,
            environments: vec![r],
        };
        let line = nagios(&report);
        assert!(
            line.starts_with(
                "HONBAN CRITICAL - production: web rollout FAILED, 1 alarm in ALARM | services_ok=1;;;0;2 services_failing=1;;;0;2 "
            ),
            "{line}"
        );
        assert_eq!(report.overall.exit_code(), 2);
    }

    #[test]
    fn the_judgement_is_the_consoles_service_verdict() {
        let mut e = healthy();
        // Nothing running of 2 desired: FAILING in the console, CRITICAL.
        services(&mut e)[1].running_count = 0;
        let r = judged(&e);
        let api = r.checks.iter().find(|c| c.name == "api").expect("api");
        let verdict = e.service_verdict(&e.services.data.as_ref().expect("loaded")[1], t0());
        assert_eq!(api.status, verdict.health.word());
        assert_eq!(api.detail, verdict.why);
        assert_eq!((api.state, r.state), (Level::Critical, Level::Critical));
    }

    #[test]
    fn running_short_of_desired_is_a_warning() {
        let mut e = healthy();
        services(&mut e)[1].running_count = 1;
        e.track_shortfalls(t0());
        let r = judged(&e);
        assert_eq!(r.state, Level::Warning);
        assert!(
            r.reasons[0].starts_with("api degraded: 1/2 running"),
            "{:?}",
            r.reasons
        );
    }

    #[test]
    fn a_rollout_in_progress_is_ok_until_it_takes_too_long() {
        let mut e = healthy();
        services(&mut e)[0].deployments = vec![deployment(RolloutState::InProgress, 0, 10)];
        let r = judged(&e);
        assert_eq!(r.state, Level::Ok, "{:?}", r.reasons);
        assert_eq!(r.counts.services_deploying, 1);
        services(&mut e)[0].deployments = vec![deployment(RolloutState::InProgress, 0, 45)];
        let r = judged(&e);
        assert_eq!(r.state, Level::Warning);
        assert_eq!(r.reasons, ["web rollout in progress for 45m"]);
        // A rollout without a start time (moto) is not judged by its age.
        let mut d = deployment(RolloutState::InProgress, 0, 0);
        d.created_at = DateTime::<Utc>::UNIX_EPOCH;
        services(&mut e)[0].deployments = vec![d];
        assert_eq!(judged(&e).state, Level::Ok);
    }

    #[test]
    fn scaled_to_zero_is_ok_and_said() {
        let mut e = healthy();
        let api = &mut services(&mut e)[1];
        api.desired_count = 0;
        api.running_count = 0;
        let r = judged(&e);
        assert_eq!(r.state, Level::Ok);
        let api = r.checks.iter().find(|c| c.name == "api").expect("api");
        assert_eq!(api.status, "scaled to 0");
    }

    #[test]
    fn unhealthy_targets_are_a_warning() {
        let mut e = healthy();
        if let Some(groups) = e.targets.data.as_mut() {
            groups[0].targets[1].state = "unhealthy".into();
        }
        let r = judged(&e);
        assert_eq!(r.state, Level::Warning);
        assert!(
            r.reasons
                .contains(&"prod-web: 1/2 targets unhealthy".to_string()),
            "{:?}",
            r.reasons
        );
        assert_eq!(r.counts.targets_unhealthy, 1);
    }

    #[test]
    fn alarms_in_alarm_are_critical_muted_too_and_no_data_a_warning() {
        let mut e = healthy();
        e.alarms.data = Some(vec![alarm(
            "prod-db-cpu",
            AlarmState::InsufficientData,
            false,
        )]);
        let r = judged(&e);
        assert_eq!(
            (r.state, r.reasons.clone()),
            (
                Level::Warning,
                vec!["1 alarm INSUFFICIENT_DATA".to_string()]
            )
        );
        e.alarms.data = Some(vec![
            alarm("prod-db-cpu", AlarmState::InsufficientData, false),
            alarm("prod-web-5xx", AlarmState::Alarm, true),
            alarm("prod-api-5xx", AlarmState::Alarm, false),
        ]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Critical);
        assert_eq!(
            r.reasons,
            ["2 alarms in ALARM (1 muted)", "1 alarm INSUFFICIENT_DATA"]
        );
        assert_eq!((r.counts.alarms_alarm, r.counts.alarms_muted), (2, 1));
    }

    #[test]
    fn a_database_not_available_is_critical_a_backup_a_warning() {
        let mut e = healthy();
        e.databases.data = Some(vec![db("prod-db", "backing-up")]);
        assert_eq!(judged(&e).state, Level::Warning);
        for status in ["rebooting", "stopped", "failed", "storage-full"] {
            e.databases.data = Some(vec![db("prod-db", status)]);
            let r = judged(&e);
            assert_eq!(r.state, Level::Critical, "{status}");
            assert_eq!(r.reasons, [format!("database prod-db {status}")]);
        }
    }

    fn blue_green(
        status: &str,
        rolled_back: bool,
        ended_mins_ago: i64,
    ) -> crate::domain::BlueGreen {
        let ended = t0() - chrono::TimeDelta::minutes(ended_mins_ago);
        crate::domain::BlueGreen {
            id: "prod/api".into(),
            cluster: "prod".into(),
            service: "api".into(),
            application: "AppECS-prod-api".into(),
            deployment_group: "DgpECS-prod-api".into(),
            deployment_config: "CodeDeployDefault.ECSAllAtOnce".into(),
            ready_wait_minutes: None,
            termination_wait_minutes: Some(5),
            auto_rollback: true,
            deployment: Some(crate::domain::CdDeployment {
                id: "d-TEST00001".into(),
                status: status.into(),
                creator: Some("user".into()),
                description: None,
                created_at: Some(ended - chrono::TimeDelta::minutes(5)),
                completed_at: Some(ended),
                error: None,
                rollback: rolled_back.then(|| crate::domain::CdRollback {
                    deployment_id: Some("d-ROLLBACK1".into()),
                    triggering_deployment_id: None,
                    message: None,
                }),
                status_messages: Vec::new(),
                task_definition: None,
                target: None,
            }),
        }
    }

    /// A CodeDeploy deployment stopped mid-way (not rolled back) is
    /// CRITICAL; rolled back within the hour WARNING, after it OK; under
    /// way or succeeded OK.
    #[test]
    fn a_codedeploy_deployment_stopped_midway_is_critical_a_recent_rollback_a_warning() {
        let mut e = healthy();
        for (status, rolled_back, ago, level, reason) in [
            (
                "Stopped",
                false,
                300,
                Level::Critical,
                "api blue/green stopped mid-way",
            ),
            (
                "Failed",
                false,
                5,
                Level::Critical,
                "api blue/green failed mid-way",
            ),
            (
                "Stopped",
                true,
                10,
                Level::Warning,
                "api blue/green stopped, rolled back",
            ),
            (
                "Failed",
                true,
                10,
                Level::Warning,
                "api blue/green failed, rolled back",
            ),
        ] {
            e.blue_greens = loaded(vec![blue_green(status, rolled_back, ago)]);
            let r = judged(&e);
            assert_eq!(r.state, level, "{status} {rolled_back}: {:?}", r.reasons);
            assert_eq!(r.reasons, [reason]);
            let check = r
                .checks
                .iter()
                .find(|c| c.kind == Kind::CodeDeploy)
                .expect("check");
            assert_eq!(check.fields["deployment_id"], "d-TEST00001");
        }
        for (status, rolled_back, ago) in [
            ("Stopped", true, 120),
            ("Succeeded", false, 1),
            ("Ready", false, 0),
            ("InProgress", false, 0),
        ] {
            e.blue_greens = loaded(vec![blue_green(status, rolled_back, ago)]);
            let r = judged(&e);
            assert_eq!(r.state, Level::Ok, "{status}: {:?}", r.reasons);
        }
        let doc = to_json(&Report {
            generated_at: t0(),
            overall: Level::Ok,
            environments: vec![judged(&e)],
        });
        let kinds: Vec<&str> = doc["environments"][0]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .filter_map(|c| c["kind"].as_str())
            .collect();
        assert!(kinds.contains(&"codedeploy"), "{kinds:?}");
    }

    fn host(name: &str, state: &str, system: CheckStatus, own: CheckStatus) -> Instance {
        Instance {
            id: format!("i-0{name}"),
            name: Some(name.to_string()),
            state: state.to_string(),
            instance_type: "t4g.medium".to_string(),
            availability_zone: Some("ap-northeast-1a".to_string()),
            private_ip: Some("10.0.1.24".to_string()),
            launched_at: Some(t0()),
            system_status: system,
            instance_status: own,
        }
    }

    /// As a database not available: an impaired check or a host not
    /// running is CRITICAL; starting or checks initializing, WARNING.
    #[test]
    fn an_impaired_or_stopped_host_is_critical_an_initializing_one_a_warning() {
        use CheckStatus::{Impaired, Initializing, NotApplicable, Ok as Fine};
        let mut e = healthy();
        e.instances = loaded(vec![host("app-1", "running", Fine, Fine)]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Ok, "{:?}", r.reasons);
        assert_eq!((r.counts.instances, r.counts.instances_ok), (1, 1));
        e.instances.data = Some(vec![host("app-1", "running", Initializing, Initializing)]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Warning);
        assert_eq!(r.reasons, ["host app-1 running"]);
        e.instances.data = Some(vec![host("app-1", "running", Fine, Impaired)]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Critical);
        assert_eq!(r.reasons, ["host app-1 instance impaired"]);
        assert_eq!(r.counts.instances_impaired, 1);
        let check = &r.checks[0];
        assert_eq!(check.kind, Kind::Instance);
        assert_eq!(
            check.detail.as_deref(),
            Some("state running, instance status check impaired")
        );
        e.instances.data = Some(vec![host("app-1", "stopped", NotApplicable, NotApplicable)]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Critical);
        assert_eq!(r.reasons, ["host app-1 stopped"]);
        assert_eq!(r.counts.instances_not_running, 1);
        // The JSON carries the host and the schema accepts it.
        let doc = to_json(&judge_with(std::slice::from_ref(&e)));
        let check = &doc["environments"][0]["checks"][0];
        assert_eq!(check["kind"], "ec2_instance");
        assert_eq!(check["system_status"], "not-applicable");
        assert_eq!(doc["environments"][0]["counts"]["instances"], 1);
    }

    /// A Redis replication group: OK when available with its nodes and
    /// failover; WARNING while changing, without automatic failover, or
    /// with an alarm on it in ALARM; CRITICAL without an available primary
    /// or with a broken node.
    #[test]
    fn a_redis_group_is_judged_by_its_status_nodes_failover_and_alarms() {
        use crate::domain::elasticache_tests::{group, node};
        let mut e = healthy();
        e.replication_group_ids = vec!["rg".to_string()];
        let ok = || {
            vec![
                node("rg-001", "primary", "available"),
                node("rg-002", "replica", "available"),
            ]
        };
        e.replication_groups = loaded(vec![group("available", ok())]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Ok, "{:?}", r.reasons);
        assert_eq!(
            (r.counts.replication_groups, r.counts.replication_groups_ok),
            (1, 1)
        );
        e.replication_groups.data = Some(vec![group("modifying", ok())]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Warning);
        assert_eq!(r.reasons, ["redis rg modifying"]);
        let mut no_failover = group("available", ok());
        no_failover.automatic_failover = "disabled".to_string();
        e.replication_groups.data = Some(vec![no_failover]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Warning);
        assert_eq!(
            r.checks[0].detail.as_deref(),
            Some("automatic failover disabled")
        );
        // A broken replica: nothing brings it back by itself.
        e.replication_groups.data = Some(vec![group(
            "available",
            vec![
                node("rg-001", "primary", "available"),
                node("rg-002", "replica", "incompatible-network"),
            ],
        )]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Critical);
        assert_eq!(r.reasons, ["redis rg 1/2 nodes available"]);
        assert_eq!(
            r.checks[0].detail.as_deref(),
            Some("node rg-002 incompatible-network")
        );
        // The primary failed: writes fail.
        e.replication_groups.data = Some(vec![group(
            "available",
            vec![
                node("rg-001", "primary", "failed"),
                node("rg-002", "replica", "available"),
            ],
        )]);
        assert_eq!(judged(&e).state, Level::Critical);
        // A lag alarm on a member in ALARM: the group is a WARNING beside
        // the alarm's CRITICAL.
        e.replication_groups.data = Some(vec![group("available", ok())]);
        let mut lag = alarm("rg-lag", AlarmState::Alarm, false);
        lag.metric = Some(crate::domain::MetricRef {
            namespace: "AWS/ElastiCache".into(),
            name: "ReplicationLag".into(),
            dimensions: vec![("CacheClusterId".into(), "rg-002".into())],
            statistic: Some("Maximum".into()),
            unit: None,
        });
        e.alarms.data = Some(vec![lag]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Critical);
        let redis = r
            .checks
            .iter()
            .find(|c| c.kind == Kind::ReplicationGroup)
            .expect("the group is judged");
        assert_eq!(redis.state, Level::Warning);
        assert_eq!(redis.detail.as_deref(), Some("alarm rg-lag in ALARM"));
        // The JSON carries the group with its nodes.
        let doc = to_json(&judge_with(std::slice::from_ref(&e)));
        let check = doc["environments"][0]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["kind"] == "elasticache_replication_group")
            .cloned()
            .expect("the group's check");
        assert_eq!(check["nodes"][1]["cache_cluster_id"], "rg-002");
        assert_eq!(check["automatic_failover"], "enabled");
        assert_eq!(doc["environments"][0]["counts"]["replication_groups"], 1);
    }

    #[test]
    fn the_read_line_wraps_under_itself_instead_of_being_cut() {
        let parts: Vec<String> = ["3 services", "2 databases", "14 alarms", "2 target groups"]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            wrapped("  read      ", &parts, 40),
            [
                "  read      3 services, 2 databases,",
                "            14 alarms, 2 target groups"
            ]
        );
        assert_eq!(
            wrapped("  read      ", &parts[..1], 40),
            ["  read      3 services"]
        );
    }

    fn distribution(id: &str, status: &str, enabled: bool, in_progress: u32) -> Distribution {
        Distribution {
            id: id.to_string(),
            domain_name: format!("{}.cloudfront.net", id.to_lowercase()),
            status: status.to_string(),
            enabled,
            alias: Some("www.example.jp".to_string()),
            in_progress,
            invalidations: Vec::new(),
        }
    }

    /// A disabled distribution serves nobody: CRITICAL. A configuration
    /// propagating or invalidations running after a release are normal.
    #[test]
    fn a_disabled_distribution_is_critical_one_propagating_is_ok() {
        let mut e = healthy();
        e.distributions = loaded(vec![distribution("E2ABC", "InProgress", true, 1)]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Ok, "{:?}", r.reasons);
        assert_eq!(
            (r.counts.distributions, r.counts.distributions_enabled),
            (1, 1)
        );
        let check = r
            .checks
            .iter()
            .find(|c| c.kind == Kind::Distribution)
            .expect("a distribution check");
        assert_eq!(check.status, "config InProgress, 1 invalidating");
        assert_eq!(check.name, "www.example.jp");
        e.distributions.data = Some(vec![distribution("E2ABC", "Deployed", false, 0)]);
        let r = judged(&e);
        assert_eq!(r.state, Level::Critical);
        assert_eq!(r.reasons, ["CloudFront www.example.jp disabled"]);
        assert_eq!(r.counts.distributions_enabled, 0);
        assert!(
            r.checks[0]
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("E2ABC"))
        );
        // The JSON carries it, and the nagios line its perfdata.
        let report = judge_with(std::slice::from_ref(&e));
        let doc = to_json(&report);
        let check = &doc["environments"][0]["checks"][0];
        assert_eq!(check["kind"], "cloudfront_distribution");
        assert_eq!(check["distribution_id"], "E2ABC");
        assert_eq!(check["enabled"], false);
        assert_eq!(doc["environments"][0]["counts"]["distributions"], 1);
        assert!(
            nagios(&report).contains("distributions_enabled=0;;;0;1"),
            "{}",
            nagios(&report)
        );
    }

    #[test]
    fn a_failing_health_check_is_critical() {
        let mut e = healthy();
        answer(&mut e, Err(ProbeError::Refused("10.0.0.1:443".into())));
        let r = judged(&e);
        assert_eq!(r.state, Level::Critical);
        assert!(
            r.reasons
                .iter()
                .any(|x| x.starts_with("health check api failing: connection refused")),
            "{:?}",
            r.reasons
        );
    }

    #[test]
    fn a_read_that_failed_is_unknown_never_ok() {
        let mut e = healthy();
        e.alarms = failed(BackendError::Unauthorized {
            message: "The security token included in the request is expired".into(),
            hint: Some("run `aws sso login --profile prod`".into()),
        });
        let r = judged(&e);
        assert_eq!(r.state, Level::Unknown);
        assert!(r.partial);
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].resource, "alarms");
        assert_eq!(r.errors[0].kind, "unauthorized");
        assert!(r.errors[0].message.contains("aws sso login"));
        assert_eq!(r.reasons, ["alarms not read: unauthorized"]);
        // What was read and is critical stays critical (still partial).
        services(&mut e)[0].running_count = 0;
        let r = judged(&e);
        assert_eq!((r.state, r.partial), (Level::Critical, true));
        // A warning does not hide the unread part.
        services(&mut e)[0].running_count = 2;
        e.databases.data = Some(vec![db("prod-db", "backing-up")]);
        assert_eq!(judged(&e).state, Level::Unknown);
    }

    #[test]
    fn a_read_still_in_flight_at_the_deadline_is_unknown() {
        let mut e = healthy();
        e.databases = Panel {
            load: LoadState::Loading,
            request: crate::request::Request {
                in_flight: true,
                ..Default::default()
            },
            ..Panel::default()
        };
        let r = judged(&e);
        assert_eq!(r.state, Level::Unknown);
        assert_eq!(r.errors[0].kind, "timeout");
        assert_eq!(r.errors[0].message, "no answer within 30s");
    }

    #[test]
    fn nothing_found_is_unknown() {
        let cfg = EnvironmentConfig {
            name: "empty".into(),
            clusters: vec![crate::config::ClusterConfig {
                name: "prod".into(),
                services: Vec::new(),
            }],
            ..Default::default()
        };
        let mut e = EnvState::from_config(&cfg, &RefreshIntervals::default(), false);
        e.identity = loaded(CallerIdentity {
            account: "1".into(),
            arn: "a".into(),
            user_id: "u".into(),
        });
        e.services = loaded(Vec::new());
        e.databases = loaded(Vec::new());
        e.alarms = loaded(Vec::new());
        let r = judged(&e);
        assert_eq!(r.state, Level::Unknown);
        assert!(!r.partial);
        assert!(r.reasons[0].starts_with("nothing found"), "{:?}", r.reasons);
    }

    #[test]
    fn critical_beats_unknown_beats_warning() {
        assert_eq!(Level::Warning.worst(Level::Unknown), Level::Unknown);
        assert_eq!(Level::Unknown.worst(Level::Critical), Level::Critical);
        assert_eq!(Level::Critical.worst(Level::Unknown), Level::Critical);
        assert_eq!(Level::Ok.worst(Level::Warning), Level::Warning);
        let codes: Vec<u8> = [Level::Ok, Level::Warning, Level::Critical, Level::Unknown]
            .iter()
            .map(|l| l.exit_code())
            .collect();
        assert_eq!(codes, [0, 1, 2, 3]);
    }

    #[test]
    fn the_text_fits_80_columns_worst_environment_first() {
        let mut bad = healthy();
        bad.name = "staging".into();
        services(&mut bad)[0].name =
            "a-service-with-a-name-long-enough-to-overflow-the-line".into();
        services(&mut bad)[0].running_count = 0;
        let report = judge_with(&[healthy(), bad]);
        let out = text(&report);
        for line in out.lines() {
            assert!(
                unicode_width::UnicodeWidthStr::width(line) <= TEXT_WIDTH,
                "{line:?}"
            );
        }
        let order: Vec<&str> = report
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(order, ["staging", "production"]);
        assert!(out.starts_with("honban CRITICAL — staging: "), "{out}");
        assert!(
            out.contains("\nCRITICAL  staging  (aws 123456789012 ap-northeast-1)\n"),
            "{out}"
        );
        assert!(
            out.contains("  CRITICAL  service a-service-with-a-name"),
            "{out}"
        );
        assert!(out.contains("…\n"), "the long line is cut: {out}");
    }

    fn judge_with(envs: &[EnvState]) -> Report {
        let config: Config = toml::from_str("").expect("empty config");
        let keymap = crate::config::keys::Keymap::from_config(&config).expect("keys");
        let state = State::new(envs.to_vec(), 0, keymap, t0());
        let all: Vec<usize> = (0..envs.len()).collect();
        judge(&state, &all, t0(), WAIT)
    }

    #[test]
    fn several_environments_prefix_the_perfdata_labels() {
        let mut staging = healthy();
        staging.name = "staging".into();
        let report = judge_with(&[healthy(), staging]);
        let line = nagios(&report);
        let first = line.lines().next().expect("a line");
        assert!(
            first.starts_with("HONBAN OK - production: 2 services, 1 database, 2 alarms, 1 target group, 1 HTTP check ok; staging: "),
            "{first}"
        );
        assert!(
            first.contains(" production.services_ok=2;;;0;2 "),
            "{first}"
        );
        assert!(first.contains(" staging.http_ok=1;;;0;1 "), "{first}");
        assert_eq!(line.lines().count(), 1, "nothing to detail: {line}");
    }

    #[test]
    fn the_json_envelope_has_the_schema_and_every_check() {
        let mut e = healthy();
        e.alarms = failed(BackendError::Throttled {
            message: "Rate exceeded".into(),
        });
        let v = to_json(&judge_with(&[e]));
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["overall"], "UNKNOWN");
        assert_eq!(v["exit_code"], 3);
        assert_eq!(v["partial"], true);
        let env = &v["environments"][0];
        assert_eq!(env["errors"][0]["kind"], "throttled");
        assert_eq!(env["errors"][0]["resource"], "alarms");
        let checks = env["checks"].as_array().expect("checks");
        assert_eq!(
            checks.len(),
            5,
            "2 services, 1 database, 1 target group, 1 HTTP check"
        );
        let web = checks.iter().find(|c| c["name"] == "web").expect("web");
        assert_eq!(web["running"], 2);
        assert_eq!(web["rollout"], "COMPLETED");
        assert_eq!(web["task_definition"], "web:7");
    }
}
