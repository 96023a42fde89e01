//! The drill's report (pure): from the state at the end — the
//! simulation's account of the faults, the console's timeline (alarms,
//! deployments, marks), this session's operations (as audited) and the
//! operator's first looks — what happened when, TTD/TTM/TTR, unsafe or
//! forbidden attempts, what could have been faster, a score, and the
//! debrief questions. Rendered as Markdown, on screen and into
//! `drills/` in the state directory.

use std::fmt::Write as _;

use chrono::TimeDelta;

use super::scenario::{Scenario, with_keys};
use super::{Drill, EndReason};
use crate::config::keys::Keymap;
use crate::domain::Timestamp;
use crate::ops::Operation;
use crate::state::State;
use crate::timeline::{MarkKind, format_duration};
use crate::watch::{Activity, OpStatus};

/// An operation that a `[[forbidden]]` entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: Timestamp,
    pub what: String,
    pub why: String,
}

/// The report's facts; [`Report::markdown`] words them.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: String,
    pub title: String,
    pub difficulty: String,
    pub world: String,
    pub seed: u64,
    pub env: String,
    pub session: String,
    pub started: Timestamp,
    pub ended: Timestamp,
    pub reason: EndReason,
    /// The first fault fired (the impact's start).
    pub impact: Option<Timestamp>,
    /// The console's first ALARM or failing check.
    pub detected: Option<Timestamp>,
    pub first_look: Option<(Timestamp, String, String)>,
    pub first_action: Option<Timestamp>,
    pub mitigated: Option<Timestamp>,
    pub recovered: Option<Timestamp>,
    pub target_ttm: Option<i64>,
    /// `(time, who, text)`, in order.
    pub events: Vec<(Timestamp, &'static str, String)>,
    /// `(time, operation, outcome)`.
    pub operations: Vec<(Timestamp, String, String)>,
    pub attempts: Vec<Attempt>,
    /// `(alarm, expected by (seconds), fired at)`.
    pub signals: Vec<(String, i64, Option<Timestamp>)>,
    pub faster: Vec<String>,
    pub score: u32,
    pub debrief: Vec<String>,
}

impl Report {
    /// The report of the drill in `state` (None without one).
    pub fn of(state: &State) -> Option<Self> {
        let d = state.drill.as_ref()?;
        let e = state.envs.get(d.env)?;
        let s = &d.scenario;
        let (ended, reason) = d.ended.unwrap_or((state.now, EndReason::Operator));
        let impact = d.impact_at();
        let since = |t: &Timestamp| impact.is_none_or(|i| *t >= i - TimeDelta::seconds(1));
        let detected = e
            .timeline
            .iter()
            .filter(|ev| ev.mark == Some(MarkKind::Detected) && since(&ev.time))
            .map(|ev| ev.time)
            .min();
        let activity: Vec<&Activity> = state.activity.iter().filter(|a| a.env == d.env).collect();
        let first_action = activity
            .iter()
            .filter(|a| since(&a.started_at))
            .map(|a| a.started_at)
            .min();
        let mut events: Vec<(Timestamp, &'static str, String)> = Vec::new();
        if let Some(status) = &d.status {
            for (t, text) in &status.log {
                events.push((*t, "fault", text.clone()));
            }
        }
        for ev in &e.timeline {
            if ev.time < d.started {
                continue;
            }
            let who = match ev.kind.as_str() {
                "operation" => "operator",
                "note" => "note",
                "mark" => "mark",
                _ => "console",
            };
            let text = if ev.resource.is_empty() || ev.text.contains(&ev.resource) {
                ev.text.clone()
            } else {
                format!("{}: {}", ev.resource, ev.text)
            };
            events.push((ev.time, who, text));
        }
        for (t, resource, place) in &d.looks {
            events.push((
                *t,
                "operator",
                format!("first look at {resource} ({place})"),
            ));
        }
        if let Some(t) = d.mitigated_at {
            events.push((t, "drill", "objectives: mitigated".into()));
        }
        if let Some(t) = d.recovered_at {
            events.push((t, "drill", "objectives: recovered".into()));
        }
        events.sort_by_key(|e| e.0);
        let operations = activity
            .iter()
            .map(|a| (a.started_at, a.op.title(), outcome(a)))
            .collect();
        let attempts = attempts(s, &activity);
        let signals = s
            .expected
            .iter()
            .map(|sig| {
                let by = super::scenario::span_secs(sig.by.get_ref()).unwrap_or(0);
                let fired = d.status.as_ref().and_then(|st| {
                    st.alarms_fired
                        .iter()
                        .find(|(n, _)| n == sig.alarm.get_ref())
                        .map(|(_, t)| *t)
                });
                (sig.alarm.get_ref().clone(), by, fired)
            })
            .collect();
        let mut r = Self {
            id: s.id().to_string(),
            title: s.title.clone(),
            difficulty: s.difficulty.word().to_string(),
            world: s.world().to_string(),
            seed: s.seed,
            env: e.name.clone(),
            session: state.session.clone(),
            started: d.started,
            ended,
            reason,
            impact,
            detected,
            first_look: d.first_look().cloned(),
            first_action,
            mitigated: d.mitigated_at,
            recovered: d.recovered_at,
            target_ttm: s.target_ttm_secs(),
            events,
            operations,
            attempts,
            signals,
            faster: Vec::new(),
            score: 0,
            debrief: s.debrief.clone(),
        };
        // The key that opens a row's detail, as the operator has it bound.
        let select = state
            .keymap
            .key_for(
                crate::config::keys::Command::Select,
                crate::config::keys::KeyContext::live(crate::state::ViewKind::Alarms),
            )
            .unwrap_or_else(|| "select (no key bound)".to_string());
        r.faster = faster(&r, d, &select, &state.keymap);
        r.score = score(&r);
        Some(r)
    }

    fn after_impact(&self, t: Option<Timestamp>) -> Option<TimeDelta> {
        Some(t? - self.impact?)
    }

    pub fn ttd(&self) -> Option<TimeDelta> {
        self.after_impact(self.detected)
    }

    pub fn ttm(&self) -> Option<TimeDelta> {
        self.after_impact(self.mitigated)
    }

    pub fn ttr(&self) -> Option<TimeDelta> {
        self.after_impact(self.recovered)
    }

    pub fn time_to_look(&self) -> Option<TimeDelta> {
        self.after_impact(self.first_look.as_ref().map(|l| l.0))
    }

    /// `+4m 05s` from the drill's start.
    fn rel(&self, t: Timestamp) -> String {
        format!("+{}", format_duration(t - self.started))
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut o = String::new();
        let dur = |d: Option<TimeDelta>, none: &str| d.map_or(none.to_string(), format_duration);
        let _ = writeln!(o, "# Drill report: {} — {}", self.id, self.title);
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Difficulty {} · simulated world `{}` (seed {}) · environment `{}` · session `{}`",
            self.difficulty, self.world, self.seed, self.env, self.session
        );
        let _ = writeln!(
            o,
            "Started {} UTC · ended {} ({}) · nothing real was touched.",
            self.started.format("%Y-%m-%d %H:%M:%S"),
            self.rel(self.ended),
            self.reason.text()
        );
        let _ = writeln!(o);
        let _ = writeln!(o, "## Result");
        let _ = writeln!(o);
        let outcome = match (self.mitigated, self.recovered) {
            (_, Some(_)) => "recovered",
            (Some(_), None) => "mitigated, not recovered",
            (None, None) => "not mitigated",
        };
        let look = match &self.first_look {
            Some((_, r, place)) => format!(
                "{} ({r}, {place})",
                dur(self.time_to_look(), "before the impact")
            ),
            None => "never".to_string(),
        };
        let ttm = match (self.ttm(), self.target_ttm) {
            (Some(t), Some(target)) => format!(
                "{} (target {})",
                format_duration(t),
                format_duration(TimeDelta::seconds(target))
            ),
            (t, _) => dur(t, "not mitigated"),
        };
        let rows = [
            ("Outcome", outcome.to_string()),
            ("Score", format!("{} / 100", self.score)),
            ("Time to detect (TTD)", dur(self.ttd(), "not detected")),
            ("Time to first look", look),
            (
                "Time to first action",
                dur(self.after_impact(self.first_action), "none"),
            ),
            ("Time to mitigate (TTM)", ttm),
            ("Time to recover (TTR)", dur(self.ttr(), "not recovered")),
            (
                "Unsafe or forbidden attempts",
                self.attempts.len().to_string(),
            ),
        ];
        let _ = writeln!(o, "| | |");
        let _ = writeln!(o, "|---|---|");
        for (k, v) in rows {
            let _ = writeln!(o, "| {k} | {v} |");
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "Times count from the first fault (the impact's start).");
        let _ = writeln!(o);
        let _ = writeln!(o, "## What happened");
        let _ = writeln!(o);
        for (t, who, text) in &self.events {
            let _ = writeln!(o, "- `{}` {who}: {}", self.rel(*t), one_line(text));
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "## What the operator did");
        let _ = writeln!(o);
        if self.operations.is_empty() {
            let _ = writeln!(o, "No operation was sent.");
        }
        for (t, title, outcome) in &self.operations {
            let _ = writeln!(o, "- `{}` {title}: {}", self.rel(*t), one_line(outcome));
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "## Expected signals");
        let _ = writeln!(o);
        if self.signals.is_empty() {
            let _ = writeln!(o, "None listed.");
        }
        for (alarm, by, fired) in &self.signals {
            let by_text = format_duration(TimeDelta::seconds(*by));
            match fired {
                Some(t) => {
                    let late = (*t - self.started).num_seconds() > *by;
                    let _ = writeln!(
                        o,
                        "- {alarm}: ALARM at {} (expected by +{by_text}){}",
                        self.rel(*t),
                        if late { " — late" } else { "" }
                    );
                }
                None => {
                    let _ = writeln!(o, "- {alarm}: did not fire (expected by +{by_text})");
                }
            }
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "## Unsafe or forbidden attempts");
        let _ = writeln!(o);
        if self.attempts.is_empty() {
            let _ = writeln!(o, "None.");
        }
        for a in &self.attempts {
            let _ = writeln!(o, "- `{}` {}: {}", self.rel(a.at), a.what, a.why);
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "## What could have been faster");
        let _ = writeln!(o);
        for f in &self.faster {
            let _ = writeln!(o, "- {f}");
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "## Debrief");
        let _ = writeln!(o);
        for (i, q) in self.debrief.iter().enumerate() {
            let _ = writeln!(o, "{}. {}", i + 1, one_line(q));
        }
        o
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How an operation ended, in a few words.
fn outcome(a: &Activity) -> String {
    match &a.status {
        OpStatus::Sending => "sending".into(),
        OpStatus::DryRun { .. } => "dry run (nothing sent)".into(),
        OpStatus::Failed { error, .. } => format!("failed: {error}"),
        OpStatus::Checking { error, .. } => format!("unanswered ({error})"),
        OpStatus::NotApplied { detail, .. } => format!("not applied: {detail}"),
        OpStatus::Unknown { detail, .. } => format!("unknown: {detail}"),
        OpStatus::Accepted { detail, .. } => match &a.watch {
            Some(w) if w.status.is_final() => format!("{}: {}", w.status.word(), w.status.text()),
            Some(w) => format!("accepted, still {}", w.status.word()),
            None => format!("accepted: {detail}"),
        },
    }
}

/// The action names an operation answers to, and its service and DB.
fn names_of(op: &Operation) -> (Vec<&'static str>, Option<&str>, Option<&str>) {
    match op {
        Operation::Scale {
            service, from, to, ..
        } => {
            let mut names = vec!["scale"];
            if *to == 0 {
                names.push("scale-to-zero");
            }
            if to < from {
                names.push("scale-in");
            }
            (names, Some(service), None)
        }
        Operation::ScalingBounds { service, .. }
        | Operation::DeployImage { service, .. }
        | Operation::Rollback { service, .. }
        | Operation::Restart { service, .. }
        | Operation::CodeDeployStop { service, .. }
        | Operation::CodeDeployContinue { service, .. } => (vec![op.name()], Some(service), None),
        Operation::StopTask { service, .. } | Operation::Exec { service, .. } => {
            (vec![op.name()], service.as_deref(), None)
        }
        Operation::Snapshot { instance, .. }
        | Operation::Reboot { instance, .. }
        | Operation::Promote { instance, .. }
        | Operation::RestoreSnapshot {
            source: instance, ..
        }
        | Operation::RestoreTime {
            source: instance, ..
        } => (vec![op.name()], None, Some(instance)),
        Operation::AlarmActions { .. } | Operation::Invalidate { .. } | Operation::Host { .. } => {
            (vec![op.name()], None, None)
        }
    }
}

/// The operations the scenario's `[[forbidden]]` entries name.
fn attempts(s: &Scenario, activity: &[&Activity]) -> Vec<Attempt> {
    let mut out = Vec::new();
    for a in activity {
        let (names, service, db) = names_of(&a.op);
        let hit = s.forbidden.iter().find(|f| {
            names.contains(&f.action.get_ref().as_str())
                && f.service
                    .as_ref()
                    .is_none_or(|x| Some(x.get_ref().as_str()) == service)
                && f.db
                    .as_ref()
                    .is_none_or(|x| Some(x.get_ref().as_str()) == db)
        });
        if let Some(f) = hit {
            out.push(Attempt {
                at: a.started_at,
                what: a.op.title(),
                why: one_line(&f.why),
            });
        }
    }
    out
}

/// Where the response lost time, from what was recorded.
/// `select` is the key that opens a row's detail.
fn faster(r: &Report, d: &Drill, select: &str, keymap: &Keymap) -> Vec<String> {
    let mut out = Vec::new();
    let hint = d
        .scenario
        .hint
        .as_ref()
        .map(|h| one_line(&with_keys(h.get_ref(), keymap)));
    let affected = d.scenario.affected().join(", ");
    if r.detected.is_none() && r.impact.is_some() && !d.scenario.expected.is_empty() {
        out.push(
            "The console never showed an ALARM or a failing check while you watched: \
             keep the overview open (the ALARM badge) and :alarms."
                .to_string(),
        );
    }
    match (&r.first_look, r.detected) {
        (Some((look, ..)), Some(det)) if (*look - det).num_seconds() > 90 => {
            out.push(format!(
                "{} passed between the detection and the first look at {affected}: \
                 from the alarm, {select} opens its detail and the resource behind it.",
                format_duration(*look - det)
            ));
        }
        (None, _) if r.impact.is_some() && !affected.is_empty() => out.push(format!(
            "You never opened {affected}: the detail ({select} on its row) shows its \
             deployments, events and tasks."
        )),
        _ => {}
    }
    if let (Some((look, ..)), Some(act)) = (&r.first_look, r.first_action)
        && (act - *look).num_seconds() > 180
    {
        out.push(format!(
            "{} passed between the first look and the first action.",
            format_duration(act - *look)
        ));
    }
    if r.mitigated.is_none() {
        out.push(match &hint {
            Some(h) => format!("Not mitigated. What works: {h}"),
            None => "Not mitigated.".to_string(),
        });
    } else if let (Some(ttm), Some(target)) = (r.ttm(), r.target_ttm)
        && ttm.num_seconds() > target
    {
        out.push(format!(
            "TTM {} is over the target {}.{}",
            format_duration(ttm),
            format_duration(TimeDelta::seconds(target)),
            hint.as_ref().map(|h| format!(" {h}")).unwrap_or_default()
        ));
    }
    for a in &r.attempts {
        out.push(format!("Avoid: {} ({})", a.what, a.why));
    }
    if out.is_empty() {
        out.push("Nothing stands out: detection, first look and mitigation were prompt.".into());
    }
    out
}

/// Out of 100: recovered 50 (mitigated only 30), mitigated within the
/// target 20 (within twice the target 10), looked at the affected resource
/// 10, no unsafe attempt 20 (10 off per attempt).
fn score(r: &Report) -> u32 {
    let mut s = match (r.mitigated, r.recovered) {
        (_, Some(_)) => 50,
        (Some(_), None) => 30,
        _ => 0,
    };
    if let Some(ttm) = r.ttm() {
        let target = r.target_ttm.unwrap_or(600);
        if ttm.num_seconds() <= target {
            s += 20;
        } else if ttm.num_seconds() <= 2 * target {
            s += 10;
        }
    }
    if r.first_look.is_some() {
        s += 10;
    }
    s + 20u32.saturating_sub(10 * u32::try_from(r.attempts.len()).unwrap_or(u32::MAX))
}
