//! Drills: scripted incidents on the simulated environment, scored from
//! what the operator did.
//!
//! `scenario.rs` reads and checks the scenario files; the simulation runs
//! the faults (`backend/sim/faults.rs`) and judges the objectives on the
//! world as it is; this module keeps the drill's bookkeeping in the state
//! (pure, called by the reducer): the simulation's answers
//! (`Effect::DrillCheck` → `Action::DrillChecked`), when the operator
//! first looked at an affected resource, and how the drill ended.
//! `report.rs` turns the state at the end into the report; `run.rs` is
//! `honban drill`.

pub mod report;
pub mod run;
pub mod scenario;

use chrono::TimeDelta;

use crate::backend::sim::DrillStatus;
use crate::domain::{Timestamp, short_id};
use crate::effect::Effect;
use crate::state::{Selection, Severity, State, View};

/// Once recovered, how long a change still being followed is waited for
/// before the drill ends.
const WATCH_GRACE_SECS: i64 = 60;

/// How a drill ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Every objective was met.
    Objectives,
    /// The time limit came first.
    TimeLimit,
    /// The operator left (q).
    Operator,
}

impl EndReason {
    pub fn text(self) -> &'static str {
        match self {
            Self::Objectives => "objectives met",
            Self::TimeLimit => "time limit reached",
            Self::Operator => "ended by the operator",
        }
    }
}

/// A drill in progress (or just ended), kept in [`State::drill`].
#[derive(Debug, Clone)]
pub struct Drill {
    pub scenario: scenario::Scenario,
    /// The drill's environment (index into `State::envs`).
    pub env: usize,
    pub started: Timestamp,
    /// The simulation's latest answer.
    pub status: Option<DrillStatus>,
    /// A check is on its way.
    pub checking: bool,
    pub mitigated_at: Option<Timestamp>,
    pub recovered_at: Option<Timestamp>,
    /// The objectives were seen not met after the first fault (objectives
    /// that held before it count only once they broke).
    pub broken: bool,
    /// The first time the operator looked at each affected resource:
    /// `(time, resource, where)`.
    pub looks: Vec<(Timestamp, String, String)>,
    pub ended: Option<(Timestamp, EndReason)>,
}

impl Drill {
    pub fn new(scenario: scenario::Scenario, env: usize, started: Timestamp) -> Self {
        Self {
            scenario,
            env,
            started,
            status: None,
            checking: false,
            mitigated_at: None,
            recovered_at: None,
            broken: false,
            looks: Vec::new(),
            ended: None,
        }
    }

    /// When the first fault fired (the impact's start).
    pub fn impact_at(&self) -> Option<Timestamp> {
        self.status
            .as_ref()
            .and_then(|s| s.fired.iter().flatten().min().copied())
    }

    /// Seconds left before the time limit.
    pub fn remaining(&self, now: Timestamp) -> i64 {
        (self.started + TimeDelta::seconds(self.scenario.time_limit_secs()) - now)
            .num_seconds()
            .max(0)
    }

    /// The first look at any affected resource.
    pub fn first_look(&self) -> Option<&(Timestamp, String, String)> {
        self.looks.iter().min_by_key(|l| l.0)
    }

    fn end(&mut self, at: Timestamp, why: EndReason) {
        if self.ended.is_none() {
            self.ended = Some((at, why));
        }
    }
}

/// On each clock tick: ask the simulation how the drill stands (one
/// question at a time), and end it at the time limit.
pub fn on_tick(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    let Some(d) = state.drill.as_mut() else {
        return Vec::new();
    };
    if d.ended.is_some() {
        return Vec::new();
    }
    if d.remaining(now) == 0 {
        d.end(now, EndReason::TimeLimit);
        state.quit = true;
        return vec![Effect::Quit];
    }
    state.dirty = true;
    if d.checking {
        return Vec::new();
    }
    d.checking = true;
    vec![Effect::DrillCheck { env: d.env }]
}

/// The simulation answered: note when the objectives were first met, and
/// end the drill once recovered.
pub fn on_checked(state: &mut State, status: Option<DrillStatus>) -> Vec<Effect> {
    let env = state.drill.as_ref().map_or(0, |d| d.env);
    // A change still followed is seen to its end first (at most a while).
    let busy = state.activity.iter().any(|a| a.env == env && a.is_active());
    let Some(d) = state.drill.as_mut() else {
        return Vec::new();
    };
    d.checking = false;
    let Some(status) = status else {
        return Vec::new();
    };
    let started = d.impact_at().is_some() || status.fired.iter().any(Option::is_some);
    if started && !status.mitigated {
        d.broken = true;
    }
    let started = started && d.broken;
    let mut flash_text = None;
    if started && status.mitigated && d.mitigated_at.is_none() {
        d.mitigated_at = Some(status.now);
        flash_text = Some("drill: mitigated — the faults' cause is gone");
    }
    if started && status.recovered && d.recovered_at.is_none() {
        d.recovered_at = Some(status.now);
    }
    let now = status.now;
    let done = d.ended.is_none()
        && d.recovered_at
            .is_some_and(|at| !busy || now - at >= TimeDelta::seconds(WATCH_GRACE_SECS));
    d.status = Some(status);
    if done {
        d.end(now, EndReason::Objectives);
        state.quit = true;
        return vec![Effect::Quit];
    }
    if let Some(t) = flash_text {
        crate::update::flash(state, t, Severity::Info);
    }
    state.dirty = true;
    Vec::new()
}

/// The operator quit: the drill ends with them.
pub fn on_quit(state: &mut State) {
    let now = state.now;
    if let Some(d) = state.drill.as_mut() {
        d.end(now, EndReason::Operator);
    }
}

/// After every action: the first time an affected resource is on screen
/// (its detail, its row selected, one of its tasks) is a look.
pub fn observe(state: &mut State) {
    let Some(d) = state.drill.as_ref() else {
        return;
    };
    if d.ended.is_some() || state.active != d.env || d.impact_at().is_none() {
        return;
    }
    let affected = d.scenario.affected();
    let Some(e) = state.envs.get(d.env) else {
        return;
    };
    let task_service = |arn: &str| {
        e.tasks
            .data
            .iter()
            .flatten()
            .find(|t| t.arn == arn || t.id() == short_id(arn))
            .and_then(|t| t.service_name().map(str::to_string))
    };
    let view = state.view().clone();
    // Details and logs are looks; a list row only for databases (a list
    // opens with its first row selected, whatever the operator wants).
    let seen: Option<(String, String)> = match (&view, state.selection()) {
        (View::ServiceDetail { service }, _) => Some((service.clone(), "service detail".into())),
        (View::TaskDetail { task }, _) => task_service(task).map(|s| (s, "task detail".into())),
        (View::Databases, Selection::Id(id)) => {
            Some((short_id(&id).to_string(), "databases list".into()))
        }
        (View::Logs, _) => state
            .logs
            .as_ref()
            .map(|l| (l.target.service.clone(), "logs".into())),
        _ => None,
    };
    let Some((name, place)) = seen else {
        return;
    };
    let hit = affected.into_iter().find(|a| *a == name);
    let now = state.now;
    if let (Some(resource), Some(d)) = (hit, state.drill.as_mut())
        && !d.looks.iter().any(|l| l.1 == resource)
    {
        d.looks.push((now, resource, place));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::config::Config;

    fn t(secs: i64) -> Timestamp {
        "2026-11-23T03:00:00Z"
            .parse::<Timestamp>()
            .map(|t| t + TimeDelta::seconds(secs))
            .unwrap_or_default()
    }

    fn drill_state() -> State {
        let s = scenario::load_all(None)
            .ok()
            .and_then(|all| all.into_iter().find(|s| s.id() == "az-outage"));
        let s = s.expect("shipped");
        let config: Config = toml::from_str("").expect("the default config");
        let (state, ..) = run::build(&s, &config, &Clock::manual(t(0))).expect("the drill builds");
        state
    }

    fn status(now: i64, fired: bool, mitigated: bool, recovered: bool) -> DrillStatus {
        DrillStatus {
            now: t(now),
            start: t(0),
            fired: vec![fired.then(|| t(40))],
            mitigated,
            recovered,
            ..DrillStatus::default()
        }
    }

    #[test]
    fn objectives_count_once_broken_by_a_fault_and_end_the_drill() {
        let mut state = drill_state();
        state.now = t(1);
        assert_eq!(on_tick(&mut state), vec![Effect::DrillCheck { env: 0 }]);
        // A second tick while the check is out asks nothing more.
        assert!(on_tick(&mut state).is_empty());
        // Before any fault, objectives that hold do not count.
        on_checked(&mut state, Some(status(1, false, true, true)));
        // The fault fired but has not broken them yet: still nothing.
        on_checked(&mut state, Some(status(41, true, true, true)));
        let d = state.drill.as_ref().expect("a drill");
        assert!(d.mitigated_at.is_none() && d.ended.is_none());
        on_checked(&mut state, Some(status(45, true, false, false)));
        on_checked(&mut state, Some(status(90, true, true, false)));
        let d = state.drill.as_ref().expect("a drill");
        assert_eq!(d.mitigated_at, Some(t(90)));
        assert!(!state.quit);
        let effects = on_checked(&mut state, Some(status(120, true, true, true)));
        assert_eq!(effects, vec![Effect::Quit]);
        assert!(state.quit);
        let d = state.drill.as_ref().expect("a drill");
        assert_eq!(d.recovered_at, Some(t(120)));
        assert_eq!(d.ended, Some((t(120), EndReason::Objectives)));
    }

    #[test]
    fn the_time_limit_ends_the_drill_and_a_quit_is_the_operators() {
        let mut state = drill_state();
        state.now = t(25 * 60);
        assert_eq!(on_tick(&mut state), vec![Effect::Quit]);
        assert_eq!(
            state.drill.as_ref().and_then(|d| d.ended),
            Some((t(25 * 60), EndReason::TimeLimit))
        );
        let mut state = drill_state();
        state.now = t(60);
        on_quit(&mut state);
        assert_eq!(
            state.drill.as_ref().and_then(|d| d.ended),
            Some((t(60), EndReason::Operator))
        );
    }
}
