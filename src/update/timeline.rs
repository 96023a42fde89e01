//! The timeline in the reducer: events derived from each load (before it
//! replaces the data), from operations as their status moves, notes and
//! marks typed on the command line, and the incident's automatic marks.
//! Every event is also handed to the recorder (`Effect::Record`).

use chrono::TimeDelta;

use super::{flash, open_service};
use crate::action::{Data, Resource};
use crate::backend::BackendError;
use crate::domain::{AlarmState, Timestamp};
use crate::effect::Effect;
use crate::health::ServiceHealth;
use crate::state::{EnvState, Selection, Severity, State, View, ViewKind};
use crate::timeline::{self as tl, Event, MarkKind};
use crate::watch::{Activity, OpStatus};

/// Events between the data on screen and a fresh load of it.
pub(super) fn derive(
    e: &EnvState,
    resource: Resource,
    at: Timestamp,
    result: &Result<Data, BackendError>,
) -> Vec<Event> {
    let Ok(data) = result else {
        return Vec::new();
    };
    let env = e.name.as_str();
    match data {
        Data::Services(l) => tl::services(env, at, e.services.data.as_deref(), &l.items),
        Data::Tasks(l) => tl::tasks(env, at, e.tasks.data.as_deref(), &l.items),
        Data::Alarms(v) if resource == Resource::Alarms => {
            tl::alarms(env, e.alarms.data.as_deref(), v)
        }
        Data::Databases(v) => tl::databases(env, at, e.databases.data.as_deref(), v),
        Data::Snapshots(v) => tl::snapshots(env, at, e.snapshots.data.as_deref(), v),
        Data::Instances(v) => tl::instances(env, at, e.instances.data.as_deref(), v),
        Data::Targets(v) => tl::targets(env, at, e.targets.data.as_deref(), v),
        Data::ReplicationGroups(l) => {
            tl::replication_groups(env, at, e.replication_groups.data.as_deref(), &l.items)
        }
        Data::BlueGreens(v) => tl::blue_greens(env, at, e.blue_greens.data.as_deref(), v),
        _ => Vec::new(),
    }
}

/// Keeps `events` in environment `env`'s timeline, moves the incident's
/// automatic marks on, and asks for all of it to be recorded.
pub(super) fn record(state: &mut State, env: usize, events: Vec<Event>) -> Vec<Effect> {
    let now = state.now;
    let session = state.session.clone();
    let Some(e) = state.envs.get_mut(env) else {
        return Vec::new();
    };
    let mut all: Vec<Event> = Vec::new();
    for mut event in events {
        event.session.clone_from(&session);
        let detects = event.severity == tl::Severity::Error
            && matches!(event.kind.as_str(), "alarm_state" | "check_failing");
        let first_action = event.kind == "operation" && event.text.starts_with("sent");
        all.push(event.clone());
        // Detected once per incident: an impact marked by hand before the
        // first alarm leaves the detection still to come.
        let detected = e.incident.get(MarkKind::Detected).is_some()
            && e.incident.get(MarkKind::Recovered).is_none();
        if detects && !detected {
            if e.incident.get(MarkKind::Recovered).is_some() {
                e.incident = tl::Incident::default();
            }
            all.push(mark_event(
                e,
                MarkKind::Detected,
                event.time,
                &event.text,
                &session,
            ));
        }
        if first_action && e.incident.is_open() && e.incident.get(MarkKind::FirstAction).is_none() {
            all.push(mark_event(
                e,
                MarkKind::FirstAction,
                event.time,
                &event.text,
                &session,
            ));
        }
    }
    // Mitigated when alarms and checks have cleared; recovered when every
    // service is healthy as well.
    if e.incident.get(MarkKind::Detected).is_some() && e.incident.is_open() {
        let alarming = e
            .alarms
            .data
            .iter()
            .flatten()
            .any(|a| a.state == AlarmState::Alarm);
        let failing_check = e.probes.iter().any(|p| p.consecutive_failures > 0);
        if !alarming && !failing_check {
            if e.incident.get(MarkKind::Mitigated).is_none() {
                let text = "alarms and health checks clear".to_string();
                all.push(mark_event(e, MarkKind::Mitigated, now, &text, &session));
            }
            let unhealthy = e.services.data.iter().flatten().any(|s| {
                matches!(
                    e.service_health(s, now),
                    ServiceHealth::Failing | ServiceHealth::Degraded
                )
            });
            if !unhealthy {
                let text = "every service healthy again".to_string();
                all.push(mark_event(e, MarkKind::Recovered, now, &text, &session));
            }
        }
    }
    if all.is_empty() {
        return Vec::new();
    }
    for event in &all {
        e.timeline.push_back(event.clone());
    }
    while e.timeline.len() > tl::KEEP {
        e.timeline.pop_front();
        e.timeline_dropped += 1;
    }
    if env == state.active && state.view() == &View::Timeline {
        state.dirty = true;
    }
    vec![Effect::Record { events: all }]
}

/// A recorded event, replayed: kept in the timeline as it was, its mark
/// set (a detection after recovery opens a new incident, as it did then).
pub(super) fn replayed(state: &mut State, env: usize, event: Event) {
    let active = env == state.active;
    let Some(e) = state.envs.get_mut(env) else {
        return;
    };
    if let Some(kind) = event.mark {
        if kind == MarkKind::Detected && e.incident.get(MarkKind::Recovered).is_some() {
            e.incident = tl::Incident::default();
        }
        e.incident.marks.insert(kind, event.time);
    }
    e.timeline.push_back(event);
    while e.timeline.len() > tl::KEEP {
        e.timeline.pop_front();
        e.timeline_dropped += 1;
    }
    if active {
        state.dirty = true;
    }
}

/// Sets mark `kind` at `at` and returns its event.
fn mark_event(e: &mut EnvState, kind: MarkKind, at: Timestamp, why: &str, session: &str) -> Event {
    e.incident.marks.insert(kind, at);
    let mut event = Event::new(
        &e.name,
        at,
        "mark",
        "",
        format!("{}: {why}", kind.label()),
        tl::Severity::Warning,
    );
    event.mark = Some(kind);
    event.session = session.to_string();
    event
}

/// What an operation's status is, as the timeline words it.
fn phase(a: &Activity) -> String {
    match &a.status {
        OpStatus::Sending => "sent".to_string(),
        OpStatus::DryRun { .. } => "dry run (nothing sent)".to_string(),
        OpStatus::Failed { error, .. } => format!("failed: {error}"),
        OpStatus::Checking { error, .. } => format!("unanswered ({error}): reading back"),
        OpStatus::NotApplied { detail, .. } => format!("failed: not applied — {detail}"),
        OpStatus::Unknown { detail, .. } => format!("unknown: {detail}"),
        OpStatus::Accepted { detail, .. } => match &a.watch {
            Some(w) if w.status.is_final() => {
                format!("{} — {}", w.status.word(), w.status.text())
            }
            _ => format!("accepted: {detail}"),
        },
    }
}

/// The phases of this session's operations, to compare before and after
/// an action.
pub(super) fn phases(state: &State) -> Vec<(String, String)> {
    state
        .activity
        .iter()
        .map(|a| (a.id.clone(), phase(a)))
        .collect()
}

/// Events for operations whose phase moved during an action.
pub(super) fn operations(state: &mut State, before: &[(String, String)]) -> Vec<Effect> {
    let mut per_env: Vec<(usize, Event)> = Vec::new();
    for a in &state.activity {
        let now = phase(a);
        let was = before.iter().find(|(id, _)| *id == a.id).map(|(_, p)| p);
        if was == Some(&now) {
            continue;
        }
        let severity = if now.starts_with("failed")
            || a.watch.as_ref().is_some_and(|w| w.status.is_failure())
        {
            tl::Severity::Error
        } else {
            tl::Severity::Info
        };
        let mut event = Event::new(
            &a.env_name,
            state.now,
            "operation",
            a.op.resource(),
            format!("{now}: {}", a.op.title()),
            severity,
        );
        if was.is_none() {
            event.caller.clone_from(&a.context.caller);
            event.calls = a.op.calls();
        }
        per_env.push((a.env, event));
        // A restore or a promotion that overlaps the incident (detected, and
        // not recovered before it started) is its recovery: the new
        // endpoint and the time taken against the RTO.
        let during_incident = state.envs.get(a.env).is_some_and(|e| {
            e.incident.get(MarkKind::Detected).is_some()
                && e.incident
                    .get(MarkKind::Recovered)
                    .is_none_or(|r| r >= a.started_at)
        });
        if let Some(w) = &a.watch
            && matches!(w.target, crate::watch::WatchTarget::Recovery { .. })
            && matches!(w.status, crate::watch::WatchStatus::Completed(_))
            && during_incident
        {
            let event = Event::new(
                &a.env_name,
                state.now,
                "recovery",
                a.op.resource(),
                format!("{}: {}", a.op.title(), w.status.text()),
                tl::Severity::Info,
            );
            per_env.push((a.env, event));
        }
    }
    let mut effects = Vec::new();
    for (env, event) in per_env {
        effects.extend(record(state, env, vec![event]));
    }
    effects
}

/// A health check's answer changed it from passing to failing or back.
pub(super) fn check_changed(
    state: &mut State,
    env: usize,
    probe: usize,
    was_failing: bool,
) -> Vec<Effect> {
    let now = state.now;
    let event = state.envs.get(env).and_then(|e| {
        let p = e.probes.get(probe)?;
        let failing = p.consecutive_failures > 0;
        let error = p.last_error.as_ref().map(|(_, t)| t.as_str());
        tl::check(&e.name, now, &p.name, was_failing, failing, error)
    });
    match event {
        Some(event) => record(state, env, vec![event]),
        None => Vec::new(),
    }
}

/// `:note TEXT`: a timestamped note on the environment and the resource
/// the current view points at.
pub(super) fn note(state: &mut State, text: &str) -> Vec<Effect> {
    let text = text.trim();
    if text.is_empty() {
        flash(
            state,
            "a note needs its text: :note TEXT (N opens it)",
            Severity::Error,
        );
        return Vec::new();
    }
    let resource = match (state.view().clone(), state.selection()) {
        (View::ServiceDetail { service }, _) => service,
        (View::AlarmDetail { alarm }, _) => alarm,
        (View::RedisGroup { group }, _) => group,
        (View::TaskDetail { task }, _) => crate::domain::short_id(&task).to_string(),
        (
            View::Overview
            | View::Services
            | View::Tasks
            | View::Databases
            | View::Hosts
            | View::Redis
            | View::Alarms,
            Selection::Id(id),
        ) => crate::domain::short_id(&id).to_string(),
        _ => String::new(),
    };
    let env = state.active;
    let Some(e) = state.env() else {
        return Vec::new();
    };
    let event = Event::new(
        &e.name,
        state.now,
        "note",
        &resource,
        text.to_string(),
        tl::Severity::Info,
    );
    let on = if resource.is_empty() {
        e.name.clone()
    } else {
        format!("{}/{resource}", e.name)
    };
    flash(
        state,
        &format!("note added to the timeline ({on})"),
        Severity::Info,
    );
    record(state, env, vec![event])
}

/// `:mark KIND [HH:MM]`: sets a mark of the incident (now, or at a UTC
/// time of today or yesterday, whichever is not in the future).
pub(super) fn mark(state: &mut State, args: &str) -> Vec<Effect> {
    let mut words = args.split_whitespace();
    let Some(kind) = words.next().and_then(MarkKind::parse) else {
        flash(
            state,
            "mark what? :mark impact [HH:MM] · :mark mitigated · :mark recovered",
            Severity::Error,
        );
        return Vec::new();
    };
    let at = match words.next() {
        None => state.now,
        Some(t) => {
            if let Some(at) = parse_hhmm(t, state.now) {
                at
            } else {
                flash(
                    state,
                    &format!("\"{t}\" is not a time: write HH:MM (UTC)"),
                    Severity::Error,
                );
                return Vec::new();
            }
        }
    };
    let env = state.active;
    let session = state.session.clone();
    let Some(e) = state.envs.get_mut(env) else {
        return Vec::new();
    };
    let event = mark_event(e, kind, at, "marked by the operator", &session);
    let text = format!("{} marked at {} UTC", kind.label(), at.format("%H:%M:%S"));
    e.timeline.push_back(event.clone());
    flash(state, &text, Severity::Info);
    vec![Effect::Record {
        events: vec![event],
    }]
}

fn parse_hhmm(t: &str, now: Timestamp) -> Option<Timestamp> {
    let time = chrono::NaiveTime::parse_from_str(t, "%H:%M").ok()?;
    let today = now.date_naive().and_time(time).and_utc();
    Some(if today > now {
        today - TimeDelta::days(1)
    } else {
        today
    })
}

/// `enter` on an event: its resource (a service's detail, an alarm's, the
/// databases).
pub(super) fn open_event(state: &mut State) -> Vec<Effect> {
    let Selection::Id(id) = state.selection() else {
        return Vec::new();
    };
    let Some(event) = state
        .visible_timeline()
        .into_iter()
        .find(|(n, _)| n.to_string() == id)
        .map(|(_, e)| e.clone())
    else {
        return Vec::new();
    };
    // An event of another environment (the fleet's timeline) switches to it.
    if state.env().is_some_and(|e| e.name != event.env)
        && let Some(i) = state.envs.iter().position(|e| e.name == event.env)
    {
        let mut effects = super::switch_env(state, i);
        state.views.push(View::Timeline);
        effects.extend(open_event_in_env(state, &event));
        return effects;
    }
    open_event_in_env(state, &event)
}

fn open_event_in_env(state: &mut State, event: &Event) -> Vec<Effect> {
    let Some(e) = state.env() else {
        return Vec::new();
    };
    let name = event.resource.as_str();
    if e.services.data.iter().flatten().any(|s| s.name == name) {
        return open_service(state, name);
    }
    if e.alarms.data.iter().flatten().any(|a| a.name == name) {
        state.views.push(View::AlarmDetail {
            alarm: name.to_string(),
        });
        return Vec::new();
    }
    if let Some(i) = state.visible_databases().iter().position(|d| d.id == name) {
        state.views.push(View::Databases);
        state.select_row(i);
        return Vec::new();
    }
    // --- elasticache: a replication group's event opens the Redis view on it.
    if e.replication_groups
        .data
        .iter()
        .flatten()
        .any(|g| g.id == name)
    {
        let name = name.to_string();
        state.filters.remove(&ViewKind::Redis);
        state.views.push(View::Redis);
        if let Some(i) = state
            .visible_replication_groups()
            .iter()
            .position(|g| g.id == name)
        {
            state.select_row(i);
        }
        return Vec::new();
    }
    let text = if name.is_empty() {
        "this event is about the environment, not one resource".to_string()
    } else {
        format!("{name} is not listed in this environment")
    };
    flash(state, &text, Severity::Info);
    Vec::new()
}
