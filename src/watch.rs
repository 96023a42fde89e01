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
use crate::state::EnvState;

/// How much earlier than the accepted stop (by the console's clock) a
/// task may have been created by AWS's and still count as its replacement.
const REPLACEMENT_SKEW_SECS: i64 = 10;

pub use crate::activity::{
    Activity, BlueGreenGoal, OpStatus, RECOVERY_WATCH_LIMIT_MINUTES, WATCH_LIMIT_MINUTES, Watch,
    WatchStatus, WatchTarget,
};

/// How a CodeDeploy deployment followed after an operation stands, from
/// the group's current (else last) deployment.
fn blue_green(
    env: &EnvState,
    service: &str,
    id: &str,
    goal: BlueGreenGoal,
    fresh: bool,
) -> WatchStatus {
    let progress = |text: String, traffic: Option<f64>| WatchStatus::InProgress {
        text,
        progress: traffic.map(|t| (t.round() as u32, 100)),
        failed_tasks: 0,
    };
    if !fresh {
        return progress("waiting for fresh CodeDeploy data…".to_string(), None);
    }
    let Some(d) = env.blue_green(service).and_then(|g| g.deployment.as_ref()) else {
        return progress(format!("deployment {id} not listed yet"), None);
    };
    let now_at = |d: &crate::domain::CdDeployment| {
        d.target
            .as_ref()
            .and_then(|t| {
                t.lifecycle_events
                    .iter()
                    .find(|e| e.status == "InProgress")
                    .map(|e| format!(", {}", e.name))
            })
            .unwrap_or_default()
    };
    let rolls_back_ours = d
        .rollback
        .as_ref()
        .and_then(|r| r.triggering_deployment_id.as_deref())
        == Some(id);
    if rolls_back_ours {
        // CodeDeploy's rollback of the followed deployment.
        return match (goal, d.status.as_str()) {
            (BlueGreenGoal::RolledBack, "Succeeded") => WatchStatus::Completed(format!(
                "{id} stopped and rolled back ({}): traffic on the original task set",
                d.id
            )),
            (BlueGreenGoal::RolledBack, _) if d.is_active() => progress(
                format!("rolling back {id} ({} {}{})", d.id, d.status, now_at(d)),
                None,
            ),
            (BlueGreenGoal::RolledBack, s) => {
                WatchStatus::Failed(format!("the rollback {} of {id} is {s}", d.id))
            }
            (_, _) => WatchStatus::Failed(format!("{id} was rolled back ({})", d.id)),
        };
    }
    if d.id != id {
        return if d.created_at.is_some() && !d.is_active() && goal != BlueGreenGoal::RolledBack {
            WatchStatus::Failed(format!(
                "{id} is no longer the group's deployment ({} is)",
                d.id
            ))
        } else {
            progress(
                format!("deployment {id} not listed yet ({} is)", d.id),
                None,
            )
        };
    }
    let shifted = d.traffic_shifted();
    let pct = shifted.map_or_else(String::new, |t| format!(" · {t:.0} % shifted"));
    match (goal, d.status.as_str()) {
        (BlueGreenGoal::RolledBack, "Stopped") if !d.rolled_back() => {
            WatchStatus::Completed(format!("{id} stopped (no rollback){pct}"))
        }
        (BlueGreenGoal::RolledBack, _) if d.is_active() => {
            progress(format!("stopping {id} ({}){pct}", d.status), None)
        }
        (BlueGreenGoal::RolledBack, _) => progress(
            format!("{id} {}; waiting for its rollback deployment", d.status),
            None,
        ),
        (BlueGreenGoal::Ready, "Ready") => WatchStatus::Completed(format!(
            "{id}: the replacement is ready, waiting for a continue (traffic not moved yet)"
        )),
        (_, "Succeeded") => WatchStatus::Completed(format!(
            "{id} succeeded: production traffic on the replacement{}",
            d.task_definition
                .as_deref()
                .map(|t| format!(" ({})", task_definition_label(t)))
                .unwrap_or_default()
        )),
        (_, "Failed" | "Stopped") => WatchStatus::Failed(format!(
            "{id} {}{}",
            d.status,
            d.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )),
        (_, status) => {
            let replacement = d
                .target
                .as_ref()
                .and_then(crate::domain::EcsTarget::replacement)
                .map(|g| format!(" · replacement {}/{}", g.running, g.desired))
                .unwrap_or_default();
            progress(
                format!("{id} {status}{}{replacement}{pct}", now_at(d)),
                shifted.filter(|_| goal == BlueGreenGoal::Succeeded),
            )
        }
    }
}

impl Watch {
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

/// How long after a reboot a host's status checks read ok are its own, not
/// those of before the reboot (EC2 runs them every minute).
pub const REBOOT_SETTLE: TimeDelta = TimeDelta::minutes(2);

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
                let now_on = primary.map_or_else(
                    || task_definition_label(&s.task_definition).to_string(),
                    |p| task_definition_label(&p.task_definition).to_string(),
                );
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
        WatchTarget::Host {
            instance,
            action,
            seen_busy,
        } => {
            use crate::domain::{CheckStatus, PowerAction};
            if !fresh(env.instances.loaded_at) {
                return waiting("EC2 data");
            }
            let Some(i) = env
                .instances
                .data
                .iter()
                .flatten()
                .find(|i| &i.id == instance)
            else {
                return WatchStatus::Failed(format!("{instance} is no longer listed"));
            };
            let label = i.display_name().to_string();
            let in_progress = |text: String| WatchStatus::InProgress {
                text,
                progress: None,
                failed_tasks: 0,
            };
            let impaired = i.system_status == CheckStatus::Impaired
                || i.instance_status == CheckStatus::Impaired;
            let checks_ok =
                i.system_status == CheckStatus::Ok && i.instance_status == CheckStatus::Ok;
            match (*action, i.state.as_str()) {
                (PowerAction::Stop, "stopped") => {
                    WatchStatus::Completed(format!("{label} is stopped"))
                }
                (PowerAction::Stop, "stopping") => {
                    *seen_busy = true;
                    in_progress(format!("{label} stopping"))
                }
                (PowerAction::Stop, other) if *seen_busy => WatchStatus::Failed(format!(
                    "{label} is {other}: it did not stay stopping (started again?)"
                )),
                (PowerAction::Stop, other) => in_progress(format!("{label} still {other}")),
                // A reboot leaves the host running and its checks read ok
                // until AWS runs them again: ok counts once they went
                // through a reboot (seen initializing) or were read
                // REBOOT_SETTLE after it was sent, not from the old reading.
                (PowerAction::Reboot, "running")
                    if checks_ok
                        && !*seen_busy
                        && env
                            .instances
                            .loaded_at
                            .is_none_or(|t| t < since + REBOOT_SETTLE) =>
                {
                    in_progress(format!(
                        "{label} rebooting: running, its checks not yet run again"
                    ))
                }
                (PowerAction::Reboot | PowerAction::Start, "running") if checks_ok => {
                    WatchStatus::Completed(format!("{label} is running, status checks 2/2 ok"))
                }
                // A host whose checks ran again and failed did not come
                // back: said at once, not after the watch's limit.
                (PowerAction::Reboot | PowerAction::Start, "running") if impaired && *seen_busy => {
                    WatchStatus::Failed(format!(
                        "{label} is running but its status checks read {} (impaired)",
                        i.checks_summary()
                    ))
                }
                // Impaired before the checks ran again: still the old
                // reading (AWS updates the checks within minutes).
                (PowerAction::Reboot | PowerAction::Start, "running") => {
                    *seen_busy |= !impaired;
                    in_progress(format!("{label} running, checks {}", i.checks_summary()))
                }
                (PowerAction::Reboot | PowerAction::Start, "pending") => {
                    *seen_busy = true;
                    in_progress(format!("{label} pending"))
                }
                (PowerAction::Start, "stopped") if !*seen_busy => {
                    in_progress(format!("{label} still stopped"))
                }
                (_, other) => WatchStatus::Failed(format!("{label} is {other}")),
            }
        }
        WatchTarget::Invalidation { distribution, id } => {
            if !fresh(env.distributions.loaded_at) {
                return waiting("CloudFront data");
            }
            let found = env
                .distributions
                .data
                .iter()
                .flatten()
                .find(|d| &d.id == distribution)
                .and_then(|d| d.invalidations.iter().find(|i| &i.id == id));
            match found {
                Some(i) if i.is_completed() => {
                    WatchStatus::Completed(format!("invalidation {id} of {distribution} completed"))
                }
                Some(i) => WatchStatus::InProgress {
                    text: format!("invalidation {id} of {distribution} {}", i.status),
                    progress: None,
                    failed_tasks: 0,
                },
                None => WatchStatus::InProgress {
                    text: format!("invalidation {id} not listed yet"),
                    progress: None,
                    failed_tasks: 0,
                },
            }
        }
        WatchTarget::BlueGreen {
            service,
            deployment,
            goal,
        } => blue_green(
            env,
            service,
            deployment,
            *goal,
            fresh(env.blue_greens.loaded_at),
        ),
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
