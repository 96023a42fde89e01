//! The incident timeline (pure): events derived from what the console
//! loaded (deployments, desired counts, stopped tasks, alarm states, DB
//! status, snapshots, target and HTTP-check health), operations, notes and
//! the incident's marks, with TTD / TTM / TTR.
//!
//! `update` derives the events by comparing each fresh load with the data
//! it replaces, keeps them per environment and hands them to the runner,
//! which appends them to this session's recording (`recordings/` in the
//! state directory, one JSON object a line). `honban timeline export`
//! reads the recordings back into a postmortem (see [`markdown`]) or
//! CloudEvents JSON Lines (see [`cloud_event`]).

use std::collections::{BTreeMap, HashMap};

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Alarm, AlarmState, DbInstance, DbSnapshot, RolloutState, Service, TargetGroup, Task, Timestamp,
    short_id, task_definition_label,
};

/// The version of the recording format (a line's `v`).
pub const FORMAT_VERSION: u32 = 1;
/// Events kept per environment in memory (the recording keeps all).
pub const KEEP: usize = 2_000;

/// How much an event matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One line of a timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The recording format version.
    pub v: u32,
    /// The console session that saw it.
    pub session: String,
    pub env: String,
    pub time: Timestamp,
    /// What happened: `deployment_started`, `deployment_completed`,
    /// `deployment_failed`, `desired_changed`, `task_stopped`,
    /// `alarm_state`, `db_status`, `host_state`, `snapshot_completed`, `target_health`,
    /// `check_failing`, `check_recovered`, `operation`, `recovery` (a
    /// restore or promotion that overlapped an incident), `bluegreen` (a
    /// CodeDeploy deployment's status moving on), `note`, `mark`.
    pub kind: String,
    /// The resource it is about (a service, task, alarm, DB instance, …).
    pub resource: String,
    pub text: String,
    pub severity: Severity,
    /// For operations: the operator and the exact API calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<String>,
    /// For marks: which one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<MarkKind>,
}

impl Event {
    pub fn new(
        env: &str,
        time: Timestamp,
        kind: &str,
        resource: &str,
        text: String,
        severity: Severity,
    ) -> Self {
        Self {
            v: FORMAT_VERSION,
            session: String::new(),
            env: env.to_string(),
            time,
            kind: kind.to_string(),
            resource: resource.to_string(),
            text,
            severity,
            caller: None,
            calls: Vec::new(),
            mark: None,
        }
    }
}

/// The marks of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// When users were first affected (set by the operator).
    ImpactStarted,
    /// The first ALARM or failing health check (automatic).
    Detected,
    /// The first operation after detection (automatic).
    FirstAction,
    /// The impact stopped (set by the operator, or when alarms and checks
    /// clear).
    Mitigated,
    /// Everything healthy again (automatic).
    Recovered,
}

impl MarkKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::ImpactStarted => "impact started",
            Self::Detected => "detected",
            Self::FirstAction => "first action",
            Self::Mitigated => "mitigated",
            Self::Recovered => "recovered",
        }
    }

    /// The name `:mark` takes.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "impact" | "impact-started" | "start" => Some(Self::ImpactStarted),
            "detected" => Some(Self::Detected),
            "action" | "first-action" => Some(Self::FirstAction),
            "mitigated" => Some(Self::Mitigated),
            "recovered" => Some(Self::Recovered),
            _ => None,
        }
    }
}

/// An incident's marks and the durations they give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incident {
    pub marks: BTreeMap<MarkKind, Timestamp>,
}

impl Incident {
    pub fn get(&self, m: MarkKind) -> Option<Timestamp> {
        self.marks.get(&m).copied()
    }

    /// Open: detected (or impact marked) and not yet recovered.
    pub fn is_open(&self) -> bool {
        (self.get(MarkKind::Detected).is_some() || self.get(MarkKind::ImpactStarted).is_some())
            && self.get(MarkKind::Recovered).is_none()
    }

    /// When it started: the impact if marked, else the detection.
    pub fn start(&self) -> Option<Timestamp> {
        self.get(MarkKind::ImpactStarted)
            .or(self.get(MarkKind::Detected))
    }

    /// Time to detect (from the impact's start; needs it marked).
    pub fn ttd(&self) -> Option<TimeDelta> {
        Some(self.get(MarkKind::Detected)? - self.get(MarkKind::ImpactStarted)?)
    }

    /// Time to mitigate, from the start; `now` while still open.
    pub fn ttm(&self, now: Timestamp) -> Option<TimeDelta> {
        let end = self.get(MarkKind::Mitigated).unwrap_or(now);
        Some(end - self.start()?)
    }

    /// Time to recover, from the start; `now` while still open.
    pub fn ttr(&self, now: Timestamp) -> Option<TimeDelta> {
        let end = self.get(MarkKind::Recovered).unwrap_or(now);
        Some(end - self.start()?)
    }

    /// The marks read back from a recording's mark events, in order (a
    /// later mark of a kind replaces an earlier one; a detection after a
    /// recovery starts a new incident).
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<Incident> {
        let mut all: Vec<Incident> = Vec::new();
        let mut current = Incident::default();
        for e in events {
            let Some(m) = e.mark else {
                continue;
            };
            if m == MarkKind::Detected && current.get(MarkKind::Recovered).is_some() {
                all.push(std::mem::take(&mut current));
            }
            current.marks.insert(m, e.time);
        }
        if !current.marks.is_empty() {
            all.push(current);
        }
        all
    }
}

/// A duration as a postmortem writes it: `4m 12s`, `1h 03m`.
pub fn format_duration(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    }
}

// ------------------------------------------------------------ derivation

/// Events between two listings of services: deployments started,
/// completed or failed (rolled back), desired counts changed. Nothing on
/// the first load (`old` is `None`).
pub fn services(env: &str, at: Timestamp, old: Option<&[Service]>, new: &[Service]) -> Vec<Event> {
    let Some(old) = old else {
        return Vec::new();
    };
    let before: HashMap<&str, &Service> = old.iter().map(|s| (s.arn.as_str(), s)).collect();
    let mut out = Vec::new();
    for s in new {
        let Some(o) = before.get(s.arn.as_str()) else {
            continue;
        };
        if o.desired_count != s.desired_count {
            out.push(Event::new(
                env,
                at,
                "desired_changed",
                &s.name,
                format!("desired count {} → {}", o.desired_count, s.desired_count),
                Severity::Info,
            ));
        }
        for d in &s.deployments {
            let label = task_definition_label(&d.task_definition);
            match o.deployments.iter().find(|x| x.id == d.id) {
                None if d.status == "PRIMARY" => out.push(Event::new(
                    env,
                    at,
                    "deployment_started",
                    &s.name,
                    format!("deployment of {label} started"),
                    Severity::Info,
                )),
                Some(od) if od.rollout_state != d.rollout_state => {
                    let (kind, word, severity) = match d.rollout_state {
                        RolloutState::Completed => {
                            ("deployment_completed", "completed", Severity::Info)
                        }
                        RolloutState::Failed => ("deployment_failed", "failed", Severity::Error),
                        _ => continue,
                    };
                    let reason = d
                        .rollout_state_reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default();
                    out.push(Event::new(
                        env,
                        at,
                        kind,
                        &s.name,
                        format!("deployment of {label} {word}{reason}"),
                        severity,
                    ));
                }
                _ => {}
            }
        }
    }
    out
}

/// Tasks that stopped since the last listing, with code, reason and exit
/// codes.
pub fn tasks(env: &str, at: Timestamp, old: Option<&[Task]>, new: &[Task]) -> Vec<Event> {
    let Some(old) = old else {
        return Vec::new();
    };
    let before: HashMap<&str, &Task> = old.iter().map(|t| (t.arn.as_str(), t)).collect();
    new.iter()
        .filter(|t| t.last_status == "STOPPED")
        .filter(|t| {
            before
                .get(t.arn.as_str())
                .is_some_and(|o| o.last_status != "STOPPED")
        })
        .map(|t| {
            let exits: Vec<String> = t
                .containers
                .iter()
                .filter_map(|c| c.exit_code.map(|x| format!("{} exit {x}", c.name)))
                .collect();
            let mut text = format!(
                "task {} of {} stopped: {}",
                t.id(),
                t.service_name().unwrap_or("?"),
                t.stop_code.as_deref().unwrap_or("?")
            );
            if let Some(r) = &t.stopped_reason {
                text.push_str(&format!(" — {r}"));
            }
            if !exits.is_empty() {
                text.push_str(&format!(" ({})", exits.join(", ")));
            }
            let severity = if t.stop_code.as_deref() == Some("EssentialContainerExited") {
                Severity::Error
            } else {
                Severity::Info
            };
            Event::new(
                env,
                at,
                "task_stopped",
                t.service_name().unwrap_or(t.id()),
                text,
                severity,
            )
        })
        .collect()
}

/// Alarm state changes, with their reason. On the first load an alarm
/// already in ALARM is an event too, at the time it went there: the console
/// is often opened because of it, and the incident is detected then.
pub fn alarms(env: &str, old: Option<&[Alarm]>, new: &[Alarm]) -> Vec<Event> {
    let Some(old) = old else {
        return new
            .iter()
            .filter(|a| a.state == AlarmState::Alarm)
            .map(|a| {
                Event::new(
                    env,
                    a.state_updated_at,
                    "alarm_state",
                    &a.name,
                    format!("in ALARM when the console opened: {}", a.state_reason),
                    Severity::Error,
                )
            })
            .collect();
    };
    let before: HashMap<&str, &Alarm> = old.iter().map(|a| (a.name.as_str(), a)).collect();
    new.iter()
        .filter_map(|a| {
            let o = before.get(a.name.as_str())?;
            (o.state != a.state).then(|| {
                let severity = match a.state {
                    AlarmState::Alarm => Severity::Error,
                    AlarmState::InsufficientData => Severity::Warning,
                    AlarmState::Ok => Severity::Info,
                };
                Event::new(
                    env,
                    a.state_updated_at,
                    "alarm_state",
                    &a.name,
                    format!(
                        "{} → {}: {}",
                        o.state.as_str(),
                        a.state.as_str(),
                        a.state_reason
                    ),
                    severity,
                )
            })
        })
        .collect()
}

/// DB instance status changes (reboot, failover, storage, …).
pub fn databases(
    env: &str,
    at: Timestamp,
    old: Option<&[DbInstance]>,
    new: &[DbInstance],
) -> Vec<Event> {
    let Some(old) = old else {
        return Vec::new();
    };
    let before: HashMap<&str, &DbInstance> = old.iter().map(|d| (d.id.as_str(), d)).collect();
    new.iter()
        .filter_map(|d| {
            let o = before.get(d.id.as_str())?;
            let moved = o.availability_zone != d.availability_zone;
            (o.status != d.status || moved).then(|| {
                let mut text = format!("status {} → {}", o.status, d.status);
                if moved {
                    text.push_str(&format!(
                        "; zone {} → {} (failover)",
                        o.availability_zone.as_deref().unwrap_or("?"),
                        d.availability_zone.as_deref().unwrap_or("?")
                    ));
                }
                let severity = if d.status == "available" {
                    Severity::Info
                } else {
                    Severity::Warning
                };
                Event::new(env, at, "db_status", &d.id, text, severity)
            })
        })
        .collect()
}

/// ElastiCache replication group changes: the group's status, a member's
/// status, and a failover (another member became the primary).
pub fn replication_groups(
    env: &str,
    at: Timestamp,
    old: Option<&[crate::domain::ReplicationGroup]>,
    new: &[crate::domain::ReplicationGroup],
) -> Vec<Event> {
    let Some(old) = old else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for g in new {
        let Some(o) = old.iter().find(|o| o.id == g.id) else {
            continue;
        };
        let severity = |status: &str| {
            if status == "available" {
                Severity::Info
            } else {
                Severity::Warning
            }
        };
        if o.status != g.status {
            out.push(Event::new(
                env,
                at,
                "redis_status",
                &g.id,
                format!("status {} → {}", o.status, g.status),
                severity(&g.status),
            ));
        }
        for m in &g.members {
            if let Some(before) = o.members.iter().find(|b| b.cluster_id == m.cluster_id)
                && before.status != m.status
            {
                out.push(Event::new(
                    env,
                    at,
                    "redis_status",
                    &g.id,
                    format!("node {} {} → {}", m.cluster_id, before.status, m.status),
                    severity(&m.status),
                ));
            }
        }
        let primary =
            |x: &crate::domain::ReplicationGroup| x.primary().map(|p| p.cluster_id.clone());
        if let (Some(was), Some(now)) = (primary(o), primary(g))
            && was != now
        {
            out.push(Event::new(
                env,
                at,
                "redis_status",
                &g.id,
                format!("primary {was} → {now} (failover)"),
                Severity::Warning,
            ));
        }
    }
    out
}

/// EC2 host state and status-check changes (reboot, stop, start, an
/// impaired check): a host not running or impaired is an error, one
/// changing state or initializing a warning, running with checks ok info.
pub fn instances(
    env: &str,
    at: Timestamp,
    old: Option<&[crate::domain::Instance]>,
    new: &[crate::domain::Instance],
) -> Vec<Event> {
    use crate::domain::InstanceHealth;
    let Some(old) = old else {
        return Vec::new();
    };
    let before: HashMap<&str, &crate::domain::Instance> =
        old.iter().map(|i| (i.id.as_str(), i)).collect();
    new.iter()
        .filter_map(|i| {
            let o = before.get(i.id.as_str())?;
            let (was, now) = (o.checks_summary(), i.checks_summary());
            if o.state == i.state && was == now {
                return None;
            }
            let mut text = if o.state == i.state {
                format!("{} checks {was} → {now}", i.display_name())
            } else {
                format!("{} {} → {}", i.display_name(), o.state, i.state)
            };
            if o.state != i.state && was != now {
                text.push_str(&format!(", checks {now}"));
            }
            let severity = match i.health() {
                InstanceHealth::Ok => Severity::Info,
                InstanceHealth::Degraded => Severity::Warning,
                InstanceHealth::Failing => Severity::Error,
            };
            Some(Event::new(env, at, "host_state", &i.id, text, severity))
        })
        .collect()
}

/// Snapshots that became available.
pub fn snapshots(
    env: &str,
    at: Timestamp,
    old: Option<&[DbSnapshot]>,
    new: &[DbSnapshot],
) -> Vec<Event> {
    let Some(old) = old else {
        return Vec::new();
    };
    let before: HashMap<&str, &DbSnapshot> = old.iter().map(|s| (s.id.as_str(), s)).collect();
    new.iter()
        .filter(|s| s.status == "available")
        .filter(|s| {
            before
                .get(s.id.as_str())
                .is_some_and(|o| o.status != "available")
        })
        .map(|s| {
            Event::new(
                env,
                at,
                "snapshot_completed",
                &s.instance_id,
                format!("snapshot {} completed", s.id),
                Severity::Info,
            )
        })
        .collect()
}

/// CodeDeploy deployments whose status moved on: started (first seen
/// under way), waiting for a continue, succeeded, stopped or failed.
pub fn blue_greens(
    env: &str,
    at: Timestamp,
    old: Option<&[crate::domain::BlueGreen]>,
    new: &[crate::domain::BlueGreen],
) -> Vec<Event> {
    let Some(old) = old else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for g in new {
        let Some(d) = &g.deployment else {
            continue;
        };
        let before = old
            .iter()
            .find(|o| o.id == g.id)
            .and_then(|o| o.deployment.as_ref())
            .filter(|o| o.id == d.id)
            .map(|o| o.status.as_str());
        if before == Some(d.status.as_str()) {
            continue;
        }
        let (text, severity) = match d.status.as_str() {
            "Ready" => (
                format!("CodeDeploy {} of {} waits for a continue", d.id, g.service),
                Severity::Info,
            ),
            "Succeeded" => (
                format!("CodeDeploy {} of {} succeeded", d.id, g.service),
                Severity::Info,
            ),
            "Stopped" | "Failed" => (
                format!(
                    "CodeDeploy {} of {} {}{}",
                    d.id,
                    g.service,
                    d.status.to_lowercase(),
                    if d.rolled_back() { ", rolled back" } else { "" }
                ),
                Severity::Warning,
            ),
            _ if before.is_none() && d.is_active() => (
                format!(
                    "CodeDeploy {} of {} started{}",
                    d.id,
                    g.service,
                    if d.creator.as_deref() == Some("codeDeployRollback") {
                        " (a rollback)"
                    } else {
                        ""
                    }
                ),
                Severity::Info,
            ),
            _ => continue,
        };
        out.push(Event::new(env, at, "bluegreen", &g.service, text, severity));
    }
    out
}

/// Targets that turned unhealthy or healthy again.
pub fn targets(
    env: &str,
    at: Timestamp,
    old: Option<&[TargetGroup]>,
    new: &[TargetGroup],
) -> Vec<Event> {
    let Some(old) = old else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for g in new {
        let Some(og) = old.iter().find(|x| x.arn == g.arn) else {
            continue;
        };
        for t in &g.targets {
            let Some(ot) = og.targets.iter().find(|x| x.id == t.id && x.port == t.port) else {
                continue;
            };
            let was = ot.state == "healthy";
            let is = t.state == "healthy";
            if was == is {
                continue;
            }
            let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
            let text = if is {
                format!("target {}{port} of {} healthy again", t.id, g.name)
            } else {
                format!(
                    "target {}{port} of {} {}{}",
                    t.id,
                    g.name,
                    t.state,
                    t.reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            };
            let severity = if is { Severity::Info } else { Severity::Error };
            out.push(Event::new(
                env,
                at,
                "target_health",
                &g.name,
                text,
                severity,
            ));
        }
    }
    out
}

/// A health check that started failing or recovered.
pub fn check(
    env: &str,
    at: Timestamp,
    name: &str,
    was_failing: bool,
    failing: bool,
    error: Option<&str>,
) -> Option<Event> {
    match (was_failing, failing) {
        (false, true) => Some(Event::new(
            env,
            at,
            "check_failing",
            name,
            format!("health check {name} failing: {}", error.unwrap_or("?")),
            Severity::Error,
        )),
        (true, false) => Some(Event::new(
            env,
            at,
            "check_recovered",
            name,
            format!("health check {name} recovered"),
            Severity::Info,
        )),
        _ => None,
    }
}

/// The short resource name of an ARN-ish id, for display.
pub fn resource_label(resource: &str) -> &str {
    short_id(resource)
}

// ------------------------------------------------------------ export

/// One event as a CloudEvents 1.0 JSON object (`id`, `source`, `type`,
/// `time`, `subject`, `data`).
pub fn cloud_event(e: &Event, index: usize) -> serde_json::Value {
    serde_json::json!({
        "specversion": "1.0",
        "id": format!("{}-{}-{index}", e.session, e.env),
        "source": format!("honban/{}/{}", e.env, e.session),
        "type": format!("honban.{}", e.kind),
        "time": e.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "subject": e.resource,
        "datacontenttype": "application/json",
        "data": {
            "environment": e.env,
            "text": e.text,
            "severity": e.severity,
            "caller": e.caller,
            "calls": e.calls,
            "mark": e.mark,
        },
    })
}

/// A postmortem skeleton after the Google SRE template, from the events
/// of one environment (in time order).
pub fn markdown(env: &str, events: &[&Event], now: Timestamp) -> String {
    let mut out = String::new();
    let first = events.first().map(|e| e.time);
    let last = events.last().map(|e| e.time);
    let incidents = Incident::from_events(events.iter().copied());
    let incident = incidents.last().cloned().unwrap_or_default();
    let utc = |t: Timestamp| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    out.push_str(&format!("# Postmortem: {env}\n\n"));
    if let (Some(a), Some(b)) = (first, last) {
        out.push_str(&format!(
            "Recorded by honban from {} to {}.\n\n",
            utc(a),
            utc(b)
        ));
    }
    out.push_str("## Summary\n\n_What happened, in two sentences._\n\n");
    out.push_str("## Impact\n\n");
    match incident.get(MarkKind::ImpactStarted) {
        Some(t) => out.push_str(&format!("Impact started {}.\n", utc(t))),
        None => out.push_str("Impact start not marked (`:mark impact HH:MM` in the console).\n"),
    }
    out.push_str("\n_Who was affected, how, for how long._\n\n");
    out.push_str("## Detection\n\n");
    let detection = events
        .iter()
        .find(|e| e.mark == Some(MarkKind::Detected))
        .map(|e| e.text.as_str());
    match (incident.get(MarkKind::Detected), detection) {
        (Some(t), Some(text)) => out.push_str(&format!("{}: {text}\n\n", utc(t))),
        _ => out.push_str("Nothing was detected in this recording.\n\n"),
    }
    out.push_str("| mark | time (UTC) |\n|---|---|\n");
    for m in [
        MarkKind::ImpactStarted,
        MarkKind::Detected,
        MarkKind::FirstAction,
        MarkKind::Mitigated,
        MarkKind::Recovered,
    ] {
        let t = incident.get(m).map_or_else(|| "—".to_string(), utc);
        out.push_str(&format!("| {} | {t} |\n", m.label()));
    }
    let open = |d: Option<TimeDelta>, done: bool| match d {
        Some(d) if done => format_duration(d),
        Some(d) => format!("{} (still open)", format_duration(d)),
        None => "—".to_string(),
    };
    out.push_str(&format!(
        "\nTTD {} · TTM {} · TTR {}\n\n",
        incident.ttd().map_or_else(
            || "— (impact start not marked)".to_string(),
            format_duration
        ),
        open(
            incident.ttm(now),
            incident.get(MarkKind::Mitigated).is_some()
        ),
        open(
            incident.ttr(now),
            incident.get(MarkKind::Recovered).is_some()
        ),
    ));
    out.push_str("## Timeline\n\n| time (UTC) | what | resource | detail |\n|---|---|---|---|\n");
    for e in events {
        let mut detail = e.text.replace('|', "\\|");
        if let Some(c) = &e.caller {
            detail.push_str(&format!(" — by `{c}`"));
        }
        for call in &e.calls {
            detail.push_str(&format!("<br>`{}`", call.replace('|', "\\|")));
        }
        out.push_str(&format!(
            "| {} | {} | {} | {detail} |\n",
            e.time.format("%H:%M:%S"),
            e.kind.replace('_', " "),
            resource_label(&e.resource)
        ));
    }
    out.push_str("\n## What was done\n\n");
    let ops: Vec<&&Event> = events.iter().filter(|e| e.kind == "operation").collect();
    if ops.is_empty() {
        out.push_str("No operation was sent from the console.\n");
    }
    for e in ops {
        out.push_str(&format!("- {} {}\n", e.time.format("%H:%M:%S"), e.text));
    }
    out.push_str("\n## Root cause\n\n_Why it happened._\n\n## Action items\n\n| action | owner | due |\n|---|---|---|\n|  |  |  |\n");
    out
}
