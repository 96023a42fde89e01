//! The operations of this session and how they are followed to their end.
//!
//! An [`Activity`] is one operation: sent (or previewed), then, once the API
//! accepted it, *watched*: [`evaluate`] reads the freshly polled data of the
//! environment and says how far the change has got — the new PRIMARY
//! deployment's running/desired count and rollout state, the snapshot's
//! progress, the instance's status, the alarm's actions — and when it has
//! finished: completed, failed, or rolled back by the circuit breaker.
//! Pure: it is called by `update` after every load.

use chrono::TimeDelta;

use crate::domain::{RolloutState, Timestamp, task_definition_label};
use crate::ops::Operation;
use crate::state::EnvState;

/// How long a change is followed before the console stops watching it.
pub const WATCH_LIMIT_MINUTES: i64 = 30;
/// How long a restore or a promotion is followed: a large database takes
/// hours to restore.
pub const RECOVERY_WATCH_LIMIT_MINUTES: i64 = 6 * 60;

/// One operation of this session.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// The audit-log id (pairs intent and result records).
    pub id: String,
    pub env: usize,
    pub env_name: String,
    pub op: Operation,
    pub started_at: Timestamp,
    pub dry_run: bool,
    pub status: OpStatus,
    pub watch: Option<Watch>,
    /// Who acted where, as the intent recorded it: the final record of the
    /// change says the same.
    pub context: crate::effect::AuditContext,
}

impl Activity {
    /// Still sending, or sent and not yet finished.
    pub fn is_active(&self) -> bool {
        match &self.status {
            OpStatus::Sending | OpStatus::Checking { .. } => true,
            OpStatus::Accepted { .. } => self.watch.as_ref().is_some_and(|w| !w.status.is_final()),
            _ => false,
        }
    }

    /// When the operation (or its watch) ended.
    pub fn finished_at(&self) -> Option<Timestamp> {
        match &self.status {
            OpStatus::Sending | OpStatus::Checking { .. } => None,
            OpStatus::Accepted { at, .. } => match &self.watch {
                Some(w) => w.finished_at,
                None => Some(*at),
            },
            OpStatus::Failed { at, .. }
            | OpStatus::DryRun { at }
            | OpStatus::NotApplied { at, .. }
            | OpStatus::Unknown { at, .. } => Some(*at),
        }
    }
}

/// Where an operation's request is.
#[derive(Debug, Clone, PartialEq)]
pub enum OpStatus {
    /// The intent is being recorded and the request sent.
    Sending,
    /// The API accepted it; `detail` names what it returned.
    Accepted { at: Timestamp, detail: String },
    /// The request failed (or the intent could not be recorded).
    Failed { at: Timestamp, error: String },
    /// The request went unanswered (`error` says how): the change is being
    /// read back; nothing is sent again.
    Checking { since: Timestamp, error: String },
    /// Unanswered, and reading it back showed the change not applied.
    NotApplied { at: Timestamp, detail: String },
    /// Unanswered, and reading it back could not tell: check by hand.
    Unknown { at: Timestamp, detail: String },
    /// `--dry-run`: recorded, nothing sent.
    DryRun { at: Timestamp },
}

/// How much earlier than the accepted stop (by the console's clock) a
/// task may have been created by AWS's and still count as its replacement.
const REPLACEMENT_SKEW_SECS: i64 = 10;

/// What a watch follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchTarget {
    /// A service rolling out `task_definition` (deploy, rollback, restart)
    /// in deployment `deployment`, or reaching `desired` tasks (scale).
    Service {
        service: String,
        deployment: Option<String>,
        task_definition: String,
        desired: Option<u32>,
    },
    /// Auto-scaling bounds taking effect.
    Bounds { service: String, min: u32, max: u32 },
    /// A snapshot being created.
    Snapshot { id: String },
    /// An instance rebooting; `seen_busy` once it was seen not available.
    Reboot { instance: String, seen_busy: bool },
    /// An alarm's actions being switched.
    Alarm { name: String, enabled: bool },
    /// A recovery: a restored instance (`promote` false) or a promoted
    /// replica becoming available, timed from `started` (when it was
    /// confirmed) against the environment's RTO; `seen_busy` once the
    /// instance was seen not available.
    Recovery {
        instance: String,
        promote: bool,
        started: Timestamp,
        rto_minutes: Option<u32>,
        seen_busy: bool,
    },
    /// A task being stopped (`task`: its ARN) and, when a service started
    /// it, that service's replacement starting; `stopped` once it was seen
    /// STOPPED.
    StopTask {
        task: String,
        service: Option<String>,
        stopped: bool,
    },
}

/// A change being followed.
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    pub target: WatchTarget,
    pub since: Timestamp,
    pub status: WatchStatus,
    pub finished_at: Option<Timestamp>,
}

/// How far a watched change has got.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchStatus {
    /// Under way: a line of text and, for rollouts, running / desired.
    InProgress {
        text: String,
        progress: Option<(u32, u32)>,
        failed_tasks: u32,
    },
    Completed(String),
    Failed(String),
    /// The circuit breaker (or a newer deployment) replaced it.
    RolledBack(String),
    /// A later operation of this session replaced it (e.g. the operator
    /// rolled back while it was rolling out): not a failure of its own.
    Superseded(String),
    /// Watched for [`WATCH_LIMIT_MINUTES`] without an end.
    GaveUp(String),
}

impl WatchStatus {
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::InProgress { .. })
    }

    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Failed(_) | Self::RolledBack(_) | Self::GaveUp(_)
        )
    }

    pub fn text(&self) -> &str {
        match self {
            Self::InProgress { text, .. } => text,
            Self::Completed(t)
            | Self::Failed(t)
            | Self::RolledBack(t)
            | Self::Superseded(t)
            | Self::GaveUp(t) => t,
        }
    }

    pub fn word(&self) -> &'static str {
        match self {
            Self::InProgress { .. } => "in progress",
            Self::Completed(_) => "completed",
            Self::Failed(_) => "failed",
            Self::RolledBack(_) => "rolled back",
            Self::Superseded(_) => "superseded",
            Self::GaveUp(_) => "not finished",
        }
    }
}

impl Watch {
    pub fn new(target: WatchTarget, since: Timestamp) -> Self {
        Self {
            target,
            since,
            status: WatchStatus::InProgress {
                text: "waiting for fresh data…".to_string(),
                progress: None,
                failed_tasks: 0,
            },
            finished_at: None,
        }
    }

    /// Re-evaluates the watch against the environment's data. Returns
    /// whether the status changed.
    pub fn update(&mut self, env: &EnvState, now: Timestamp) -> bool {
        if self.status.is_final() {
            return false;
        }
        let mut status = evaluate(&mut self.target, env, self.since);
        let limit = match self.target {
            WatchTarget::Recovery { .. } => RECOVERY_WATCH_LIMIT_MINUTES,
            _ => WATCH_LIMIT_MINUTES,
        };
        if !status.is_final() && now - self.since > TimeDelta::minutes(limit) {
            status = WatchStatus::GaveUp(format!(
                "still in progress after {limit} minutes ({}); no longer watched",
                status.text()
            ));
        }
        if status == self.status {
            return false;
        }
        if status.is_final() {
            self.finished_at = Some(now);
        }
        self.status = status;
        true
    }
}

/// The time a recovery has taken, and how it stands against the RTO:
/// `12m 30s of the 60-minute RTO`, `1h 05m: 5m over the 60-minute RTO`.
pub fn recovery_timing(elapsed: TimeDelta, rto_minutes: Option<u32>) -> String {
    let took = duration_text(elapsed);
    match rto_minutes {
        None => format!("{took} (no RTO configured)"),
        Some(rto) => {
            let rto_delta = TimeDelta::minutes(i64::from(rto));
            if elapsed <= rto_delta {
                format!("{took}, within the {rto}-minute RTO")
            } else {
                format!(
                    "{took}: {} OVER the {rto}-minute RTO",
                    duration_text(elapsed - rto_delta)
                )
            }
        }
    }
}

/// `45s`, `12m 30s`, `1h 05m`.
pub fn duration_text(d: TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// How far the change has got, from the data on hand. Only data fetched
/// after the watch started counts.
pub fn evaluate(target: &mut WatchTarget, env: &EnvState, since: Timestamp) -> WatchStatus {
    let waiting = |what: &str| WatchStatus::InProgress {
        text: format!("waiting for fresh {what}…"),
        progress: None,
        failed_tasks: 0,
    };
    let fresh = |loaded_at: Option<Timestamp>| loaded_at.is_some_and(|t| t >= since);
    match target {
        WatchTarget::Service {
            service,
            deployment,
            task_definition,
            desired,
        } => {
            if !fresh(env.services.loaded_at) {
                return waiting("service data");
            }
            let Some(s) = env
                .services
                .data
                .iter()
                .flatten()
                .find(|s| &s.name == service)
            else {
                return WatchStatus::Failed(format!("service {service} is no longer listed"));
            };
            let td = task_definition_label(task_definition).to_string();
            let watched = match deployment {
                Some(id) => s.deployments.iter().find(|d| &d.id == id),
                None => s.primary_deployment(),
            };
            let primary = s.primary_deployment();
            if let Some(d) = watched
                && d.status != "PRIMARY"
            {
                let now_on = primary
                    .map(|p| task_definition_label(&p.task_definition).to_string())
                    .unwrap_or_else(|| task_definition_label(&s.task_definition).to_string());
                // The reason says why only when the rollout failed; one
                // still "in progress" was replaced by a newer deployment.
                let why = match (d.rollout_state, d.rollout_state_reason.as_deref()) {
                    (RolloutState::Failed, Some(reason)) => reason.trim_end_matches('.'),
                    _ => "a newer deployment replaced it",
                };
                return WatchStatus::RolledBack(format!(
                    "{td} did not finish: {why}; the service runs {now_on}"
                ));
            }
            let Some(d) = watched else {
                // The deployment is gone: ECS keeps only recent ones.
                if task_definition_label(&s.task_definition) != td {
                    return WatchStatus::RolledBack(format!(
                        "the service now runs {} instead of {td}",
                        task_definition_label(&s.task_definition)
                    ));
                }
                return WatchStatus::Completed(format!(
                    "{td}: {}/{} running",
                    s.running_count, s.desired_count
                ));
            };
            let want = d.desired_count;
            let running = d.running_count;
            let note = match desired {
                Some(asked) if *asked != s.desired_count => format!(
                    " (desired is now {}, not {asked}: auto scaling changed it)",
                    s.desired_count
                ),
                _ => String::new(),
            };
            match d.rollout_state {
                RolloutState::Failed => WatchStatus::Failed(format!(
                    "{td} failed: {}",
                    d.rollout_state_reason
                        .as_deref()
                        .unwrap_or("the deployment failed")
                )),
                // A scale is done when the count is reached, down as well
                // as up: ECS says COMPLETED while the surplus still runs.
                RolloutState::Completed
                    if desired.is_some() && running == want && d.pending_count == 0 =>
                {
                    WatchStatus::Completed(format!("{td}: {running}/{want} running{note}"))
                }
                RolloutState::Completed
                    if desired.is_none() && running >= want && d.pending_count == 0 =>
                {
                    WatchStatus::Completed(format!(
                        "{td} rolled out: {running}/{want} running{note}"
                    ))
                }
                // Without a rollout state (or once the rollout is done),
                // the task count tells.
                RolloutState::Unknown | RolloutState::Completed
                    if running == want && d.pending_count == 0 && s.deployments.len() == 1 =>
                {
                    WatchStatus::Completed(format!("{td}: {running}/{want} running{note}"))
                }
                // Failed tasks first: on a narrow screen they must not be
                // the part that is cut.
                _ => WatchStatus::InProgress {
                    text: format!(
                        "{}{}: {} pending{note}",
                        if d.failed_tasks > 0 {
                            format!("{} tasks failed · ", d.failed_tasks)
                        } else {
                            String::new()
                        },
                        if desired.is_some() {
                            "scaling".to_string()
                        } else {
                            format!("{td} rolling out")
                        },
                        d.pending_count,
                    ),
                    progress: Some((running, want)),
                    failed_tasks: d.failed_tasks,
                },
            }
        }
        WatchTarget::Bounds { service, min, max } => {
            if !fresh(env.scaling.loaded_at) {
                return waiting("auto-scaling data");
            }
            match env.scaling_for(service) {
                Some(t) if t.min_capacity == *min && t.max_capacity == *max => {
                    WatchStatus::Completed(format!("{service} scales between {min} and {max}"))
                }
                Some(t) => WatchStatus::InProgress {
                    text: format!(
                        "bounds still {}–{} (asked {min}–{max})",
                        t.min_capacity, t.max_capacity
                    ),
                    progress: None,
                    failed_tasks: 0,
                },
                None => WatchStatus::Failed(format!("{service} has no scalable target listed")),
            }
        }
        WatchTarget::Snapshot { id } => {
            if !fresh(env.snapshots.loaded_at) {
                return waiting("snapshot data");
            }
            match env.snapshots.data.iter().flatten().find(|s| &s.id == id) {
                Some(s) if s.status == "available" => {
                    WatchStatus::Completed(format!("snapshot {id} is available"))
                }
                Some(s) if s.status == "failed" || s.status == "deleted" => {
                    WatchStatus::Failed(format!("snapshot {id} is {}", s.status))
                }
                Some(s) => WatchStatus::InProgress {
                    text: format!(
                        "snapshot {id} {}{}",
                        s.status,
                        s.percent_progress
                            .map(|p| format!(" {p}%"))
                            .unwrap_or_default()
                    ),
                    progress: s.percent_progress.map(|p| (u32::from(p), 100)),
                    failed_tasks: 0,
                },
                None => WatchStatus::InProgress {
                    text: format!("snapshot {id} not listed yet"),
                    progress: None,
                    failed_tasks: 0,
                },
            }
        }
        WatchTarget::Reboot {
            instance,
            seen_busy,
        } => {
            if !fresh(env.databases.loaded_at) {
                return waiting("database data");
            }
            match env
                .databases
                .data
                .iter()
                .flatten()
                .find(|d| &d.id == instance)
            {
                Some(d) if d.status == "available" => {
                    if *seen_busy {
                        WatchStatus::Completed(format!(
                            "{instance} is available again{}",
                            d.availability_zone
                                .as_deref()
                                .map(|az| format!(" (primary in {az})"))
                                .unwrap_or_default()
                        ))
                    } else {
                        // Some servers (moto) reboot instantly.
                        WatchStatus::Completed(format!("{instance} is available"))
                    }
                }
                Some(d) => {
                    *seen_busy = true;
                    WatchStatus::InProgress {
                        text: format!("{instance} {}", d.status),
                        progress: None,
                        failed_tasks: 0,
                    }
                }
                None => WatchStatus::Failed(format!("{instance} is no longer listed")),
            }
        }
        WatchTarget::StopTask {
            task,
            service,
            stopped,
        } => {
            if !fresh(env.tasks.loaded_at) {
                return waiting("task data");
            }
            let label = crate::ops::task_label(task).to_string();
            let tasks = env.tasks.data.as_deref().unwrap_or_default();
            match tasks.iter().find(|t| &t.arn == task) {
                Some(t) if t.last_status != "STOPPED" => {
                    return WatchStatus::InProgress {
                        text: format!("task {label} {}", t.last_status),
                        progress: None,
                        failed_tasks: 0,
                    };
                }
                // Stopped, or already forgotten by ECS (about an hour).
                _ => *stopped = true,
            }
            let Some(service) = service else {
                return WatchStatus::Completed(format!("task {label} stopped"));
            };
            // Its replacement: a task of the service created after the stop
            // was accepted (allowing for the clocks of the console and AWS
            // to differ by a few seconds).
            let after = since - chrono::TimeDelta::seconds(REPLACEMENT_SKEW_SECS);
            let replacements: Vec<&crate::domain::Task> = tasks
                .iter()
                .filter(|t| {
                    t.service_name() == Some(service.as_str())
                        && &t.arn != task
                        && t.created_at.is_some_and(|c| c >= after)
                })
                .collect();
            match replacements.iter().find(|t| t.last_status == "RUNNING") {
                Some(r) => WatchStatus::Completed(format!(
                    "task {label} stopped; {service} runs its replacement {}",
                    crate::ops::task_label(&r.arn)
                )),
                None => WatchStatus::InProgress {
                    text: match replacements.first() {
                        Some(r) => format!(
                            "task {label} stopped; replacement {} {}",
                            crate::ops::task_label(&r.arn),
                            r.last_status
                        ),
                        None => {
                            format!("task {label} stopped; waiting for {service} to replace it")
                        }
                    },
                    progress: None,
                    failed_tasks: 0,
                },
            }
        }
        WatchTarget::Recovery {
            instance,
            promote,
            started,
            rto_minutes,
            seen_busy,
        } => {
            let Some(loaded_at) = env.databases.loaded_at.filter(|t| *t >= since) else {
                return waiting("database data");
            };
            let elapsed = loaded_at - *started;
            let timing = recovery_timing(elapsed, *rto_minutes);
            let Some(d) = env
                .databases
                .data
                .iter()
                .flatten()
                .find(|d| &d.id == instance)
            else {
                if *promote {
                    return WatchStatus::Failed(format!("{instance} is no longer listed"));
                }
                return WatchStatus::InProgress {
                    text: format!("not listed yet · {timing}"),
                    progress: None,
                    failed_tasks: 0,
                };
            };
            if d.health() == crate::domain::Health::Critical {
                return WatchStatus::Failed(format!("{instance} is {} · {timing}", d.status));
            }
            // A promoted replica is done once it is no longer one.
            let done = d.status == "available" && !(*promote && d.replica_source.is_some());
            if !done {
                if d.status != "available" {
                    *seen_busy = true;
                }
                let what = if *promote && d.status == "available" {
                    "still a replica".to_string()
                } else {
                    d.status.clone()
                };
                return WatchStatus::InProgress {
                    text: format!("{what} · {timing}"),
                    progress: None,
                    failed_tasks: 0,
                };
            }
            let endpoint = match (&d.endpoint, d.port) {
                (Some(e), Some(p)) => format!("{e}:{p}"),
                (Some(e), None) => e.clone(),
                _ => "no endpoint reported".to_string(),
            };
            WatchStatus::Completed(format!(
                "{instance} available{} at {endpoint} · {timing}",
                if *promote { ", standalone," } else { "" }
            ))
        }
        WatchTarget::Alarm { name, enabled } => {
            if !fresh(env.alarms.loaded_at) {
                return waiting("alarm data");
            }
            match env.alarms.data.iter().flatten().find(|a| &a.name == name) {
                Some(a) if a.actions_enabled == *enabled => WatchStatus::Completed(format!(
                    "{name}: actions {}",
                    if *enabled { "enabled" } else { "muted" }
                )),
                Some(_) => WatchStatus::InProgress {
                    text: format!("{name}: not yet reported as changed"),
                    progress: None,
                    failed_tasks: 0,
                },
                None => WatchStatus::Failed(format!("alarm {name} is no longer listed")),
            }
        }
    }
}
