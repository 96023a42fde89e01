//! A drill's faults in the simulated world: injected at their time, held
//! while their cause lasts (a bad revision deployed, a bad task alive, a
//! duration), their metric effects applied each second, and the
//! scenario's objectives judged on the world as it truly is.
//!
//! The faults reuse what the simulation already does: a bad image is a
//! registered revision whose tag crashes or does not pull and is rolled out
//! (and trips the circuit breaker) by the ordinary ECS lifecycle, a
//! failover is the ordinary RDS reboot, a CPU stress is load that target
//! tracking answers.

use std::collections::BTreeMap;

use chrono::TimeDelta;

use super::engine::World;
use super::metrics::Metric;
use crate::backend::ImageChange;
use crate::domain::scenario::{Condition, Inject, Scenario};
use crate::domain::{RolloutState, Timestamp};

/// Where one inject is.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Waiting,
    Holding,
    /// Ended at `at`; the metric offsets frozen then (when not auto-revert).
    Cleared {
        at: Timestamp,
        frozen: Vec<(usize, f64)>,
    },
}

#[derive(Debug, Clone)]
struct Fault {
    spec: Inject,
    due: Timestamp,
    fired_at: Option<Timestamp>,
    phase: Phase,
    /// `(metric index, add, per minute)`.
    effects: Vec<(usize, f64, f64)>,
    /// The bad revision (bad image).
    revision: Option<String>,
    /// The bad task, or the tasks holding stale connections.
    tasks: Vec<String>,
}

/// A drill running in a world.
#[derive(Debug, Clone)]
pub(crate) struct DrillScript {
    start: Timestamp,
    faults: Vec<Fault>,
    mitigated: Vec<Condition>,
    recovered: Vec<Condition>,
    /// What happened, in order: `(time, text)`.
    log: Vec<(Timestamp, String)>,
    /// Alarms that went into ALARM after the start: first time.
    alarms_fired: BTreeMap<String, Timestamp>,
}

/// What a drill's world says of itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrillStatus {
    pub now: Timestamp,
    pub start: Timestamp,
    /// What the faults did, in order: `(time, text)`.
    pub log: Vec<(Timestamp, String)>,
    /// Per inject (in file order): when it fired and when it cleared.
    pub fired: Vec<Option<Timestamp>>,
    pub cleared: Vec<Option<Timestamp>>,
    /// Every objective condition holds right now.
    pub mitigated: bool,
    pub recovered: bool,
    /// Alarms that went into ALARM during the drill: first time.
    pub alarms_fired: Vec<(String, Timestamp)>,
}

impl World {
    /// Starts `scenario` now: its faults are scheduled, spontaneous
    /// trouble is turned off (only the scenario happens).
    pub fn start_drill(&mut self, scenario: &Scenario) {
        self.chaos = false;
        let start = self.now;
        let faults = scenario
            .injects
            .iter()
            .zip(scenario.inject_offsets())
            .map(|(spec, at)| Fault {
                effects: spec
                    .effects
                    .iter()
                    .filter_map(|e| {
                        let m = self
                            .metrics
                            .iter()
                            .position(|m| m.id == *e.metric.get_ref())?;
                        Some((m, e.add, e.per_minute))
                    })
                    .collect(),
                spec: spec.clone(),
                due: start + TimeDelta::seconds(at),
                fired_at: None,
                phase: Phase::Waiting,
                revision: None,
                tasks: Vec::new(),
            })
            .collect();
        self.drill = Some(DrillScript {
            start,
            faults,
            mitigated: scenario
                .objectives
                .mitigated
                .iter()
                .map(|c| c.get_ref().clone())
                .collect(),
            recovered: scenario
                .objectives
                .recovered
                .iter()
                .map(|c| c.get_ref().clone())
                .collect(),
            log: Vec::new(),
            alarms_fired: BTreeMap::new(),
        });
    }

    /// Fires due faults, ends those whose cause is gone and sets the
    /// metrics' offsets, for the second starting at `now`.
    pub(super) fn run_drill(&mut self, now: Timestamp) {
        let Some(mut drill) = self.drill.take() else {
            return;
        };
        for f in &mut drill.faults {
            if f.phase == Phase::Waiting && f.due <= now {
                let text = self.fire(f, now);
                f.fired_at = Some(now);
                f.phase = Phase::Holding;
                drill.log.push((now, text));
            }
            if f.phase == Phase::Holding && !self.holds(f, now) {
                let frozen = if f.spec.auto_revert {
                    Vec::new()
                } else {
                    f.effects
                        .iter()
                        .map(|&(m, add, per)| (m, offset(f.fired_at, now, add, per)))
                        .collect()
                };
                self.end_fault(f);
                f.phase = Phase::Cleared { at: now, frozen };
                drill
                    .log
                    .push((now, format!("{} ended", describe(&f.spec))));
            }
        }
        let mut offsets = vec![0.0; self.metrics.len()];
        for f in &drill.faults {
            match &f.phase {
                Phase::Waiting => {}
                Phase::Holding => {
                    for &(m, add, per) in &f.effects {
                        if let Some(o) = offsets.get_mut(m) {
                            *o += offset(f.fired_at, now, add, per);
                        }
                    }
                }
                Phase::Cleared { frozen, .. } => {
                    for &(m, v) in frozen {
                        if let Some(o) = offsets.get_mut(m) {
                            *o += v;
                        }
                    }
                }
            }
        }
        for (m, o) in self.metrics.iter_mut().zip(offsets) {
            m.drill_effect = o;
        }
        self.drill = Some(drill);
    }

    /// Notes alarms that went into ALARM (after each evaluation).
    pub(super) fn note_alarms(&mut self, now: Timestamp) {
        let Some(drill) = self.drill.as_mut() else {
            return;
        };
        for a in &self.alarms {
            if a.state == crate::domain::AlarmState::Alarm {
                drill.alarms_fired.entry(a.name.clone()).or_insert(now);
            }
        }
    }

    /// The drill's state as of now (None outside a drill).
    pub fn drill_status(&self) -> Option<DrillStatus> {
        let d = self.drill.as_ref()?;
        let holds = |cs: &[Condition]| cs.iter().all(|c| self.condition(d, c));
        let mut alarms: Vec<(String, Timestamp)> = d
            .alarms_fired
            .iter()
            .map(|(n, t)| (n.clone(), *t))
            .collect();
        alarms.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        Some(DrillStatus {
            now: self.now,
            start: d.start,
            log: d.log.clone(),
            fired: d.faults.iter().map(|f| f.fired_at).collect(),
            cleared: d
                .faults
                .iter()
                .map(|f| match f.phase {
                    Phase::Cleared { at, .. } => Some(at),
                    _ => None,
                })
                .collect(),
            mitigated: holds(&d.mitigated),
            recovered: holds(&d.mitigated) && holds(&d.recovered),
            alarms_fired: alarms,
        })
    }

    fn condition(&self, d: &DrillScript, c: &Condition) -> bool {
        if let Some(n) = c.cleared {
            return d
                .faults
                .get(n.saturating_sub(1))
                .is_some_and(|f| matches!(f.phase, Phase::Cleared { .. }));
        }
        if let Some(name) = &c.service {
            let Some(s) = self.ecs.services.iter().find(|s| &s.name == name) else {
                return false;
            };
            let steady = c.steady != Some(true)
                || (s.steady
                    && s.deployments.len() == 1
                    && s.deployments.first().map(|d| d.rollout) == Some(RolloutState::Completed));
            let desired = c.min_desired.is_none_or(|n| s.desired >= n);
            return steady && desired;
        }
        if let Some(name) = &c.alarm {
            let want = c.state.as_deref().unwrap_or("OK");
            return self
                .alarms
                .iter()
                .find(|a| &a.name == name)
                .is_some_and(|a| a.state.as_str() == want);
        }
        if let Some(id) = &c.db {
            return self
                .rds
                .instances
                .iter()
                .find(|i| &i.id == id)
                .is_some_and(|i| {
                    matches!(self.rds.status(i, self.now), "available" | "backing-up")
                });
        }
        false
    }

    /// Does what the fault does; returns what happened.
    fn fire(&mut self, f: &mut Fault, now: Timestamp) -> String {
        let target = f.spec.target();
        let service = target
            .service
            .as_ref()
            .and_then(|n| self.ecs.services.iter().position(|s| &s.name == n));
        let what = describe(&f.spec);
        match f.spec.fault.get_ref().as_str() {
            "honban:ecs:bad-image" => {
                let Some(s) = service else {
                    return format!("{what}: no such service");
                };
                self.bad_image(f, s, now)
            }
            "honban:ecs:bad-task" => {
                let Some(s) = service else {
                    return format!("{what}: no such service");
                };
                let mut running: Vec<&super::ecs::SimTask> = self
                    .ecs
                    .tasks
                    .iter()
                    .filter(|t| t.service == s && t.phase == super::ecs::Phase::Running)
                    .collect();
                running.sort_by(|a, b| a.id.cmp(&b.id));
                let pick = if running.is_empty() {
                    None
                } else {
                    running.get(self.rng.usize(..running.len()))
                };
                match pick {
                    Some(t) => {
                        f.tasks = vec![t.id.clone()];
                        format!("{what}: task {} ({}) starts failing requests", t.id, t.az)
                    }
                    None => format!("{what}: no running task"),
                }
            }
            "honban:ecs:stale-connections" => {
                let Some(s) = service else {
                    return format!("{what}: no such service");
                };
                f.tasks = self
                    .ecs
                    .tasks
                    .iter()
                    .filter(|t| t.service == s && t.phase.live())
                    .map(|t| t.id.clone())
                    .collect();
                format!(
                    "{what}: {} tasks keep connections to the old primary",
                    f.tasks.len()
                )
            }
            "aws:ecs:stop-task" => {
                let Some(s) = service else {
                    return format!("{what}: no such service");
                };
                let cluster = self
                    .ecs
                    .services
                    .get(s)
                    .map(|x| x.cluster.clone())
                    .unwrap_or_default();
                let mut ids: Vec<String> = self
                    .ecs
                    .tasks
                    .iter()
                    .filter(|t| t.service == s && t.phase == super::ecs::Phase::Running)
                    .map(|t| t.id.clone())
                    .collect();
                ids.sort();
                ids.truncate(f.spec.count.unwrap_or(1) as usize);
                for id in &ids {
                    let _ = self.ecs.stop_task(
                        &cluster,
                        id,
                        "Task stopped by an AWS FIS experiment",
                        now,
                        &mut self.rng,
                    );
                }
                format!("{what}: stopped {} tasks", ids.len())
            }
            "aws:ecs:task-cpu-stress" => {
                if let Some(m) = service.and_then(|s| self.service_cpu(s)) {
                    f.effects.push((m, f.spec.percent.unwrap_or(0.0), 0.0));
                }
                format!(
                    "{what}: CPU +{:.0} points",
                    f.spec.percent.unwrap_or_default()
                )
            }
            "aws:rds:reboot-db-instances" => {
                let id = target.db.clone().unwrap_or_default();
                let failover = f.spec.force_failover;
                match self.rds.reboot(&id, failover, now, &mut self.rng) {
                    Ok(_) if failover => format!("{what}: rebooting with failover"),
                    Ok(_) => format!("{what}: rebooting"),
                    Err(e) => format!("{what}: refused: {e}"),
                }
            }
            "aws:network:disrupt-connectivity" => {
                let az = target.az.clone().unwrap_or_default();
                self.ecs.impaired_azs.insert(az.clone());
                let victims: Vec<(String, String)> = self
                    .ecs
                    .tasks
                    .iter()
                    .filter(|t| t.az == az && t.phase.live())
                    .filter_map(|t| {
                        let cluster = self.ecs.services.get(t.service)?.cluster.clone();
                        Some((cluster, t.id.clone()))
                    })
                    .collect();
                for (cluster, id) in &victims {
                    let _ = self.ecs.stop_task(
                        cluster,
                        id,
                        &format!("Task stopped: {az} is unreachable (network disrupted)"),
                        now,
                        &mut self.rng,
                    );
                }
                format!("{what}: {} tasks lost", victims.len())
            }
            "aws:fis:inject-api-throttle-error" => format!(
                "{what}: {:.0} % of API calls answer ThrottlingException",
                f.spec.percent.unwrap_or(100.0)
            ),
            "honban:sts:credentials-expire" => {
                format!("{what}: the operator's session credentials expired")
            }
            _ => what,
        }
    }

    /// The error an API call gets from a drill's API fault, if any.
    pub(crate) fn api_fault(&mut self) -> Option<crate::backend::BackendError> {
        use crate::backend::BackendError;
        let drill = self.drill.as_ref()?;
        let mut throttle: Option<f64> = None;
        for f in drill.faults.iter().filter(|f| f.phase == Phase::Holding) {
            match f.spec.fault.get_ref().as_str() {
                "honban:sts:credentials-expire" => {
                    return Some(BackendError::Unauthorized {
                        message: "ExpiredTokenException: The security token included in the \
                                  request is expired"
                            .to_string(),
                        hint: Some(
                            "aws sso login --profile prod (in a drill they come back when \
                             the fault ends)"
                                .to_string(),
                        ),
                    });
                }
                "aws:fis:inject-api-throttle-error" => {
                    throttle = Some(f.spec.percent.unwrap_or(100.0));
                }
                _ => {}
            }
        }
        let share = throttle?;
        (self.rng.f64() * 100.0 < share).then(|| BackendError::Throttled {
            message: "ThrottlingException: Rate exceeded".to_string(),
        })
    }

    fn bad_image(&mut self, f: &mut Fault, s: usize, now: Timestamp) -> String {
        let what = describe(&f.spec);
        let mode = f
            .spec
            .mode
            .as_ref()
            .map_or("crash", |m| m.get_ref().as_str());
        let container = self.ecs.main_container(s);
        let Some(svc) = self.ecs.services.get_mut(s) else {
            return what;
        };
        match f
            .spec
            .circuit_breaker
            .as_ref()
            .map(|c| c.get_ref().as_str())
        {
            Some("no-rollback") => {
                svc.circuit_breaker.enable = true;
                svc.circuit_breaker.rollback = false;
            }
            Some("off") => {
                svc.circuit_breaker.enable = false;
                svc.circuit_breaker.rollback = false;
            }
            _ => {}
        }
        let Some(base) = svc.deployments.first().map(|d| d.task_definition.clone()) else {
            return what;
        };
        let Ok(td) = self.ecs.task_definition(&base) else {
            return what;
        };
        let Some(image) = td
            .containers
            .iter()
            .find(|c| c.name == container)
            .map(|c| c.image.clone())
        else {
            return what;
        };
        let (repo, _) = super::ecs::split_image(&image);
        let stamp = now.format("%Y.%m.%d");
        let tag = match mode {
            "pull" => format!("{stamp}-bad0c1d"),
            "runs" => format!("{stamp}-a17e3f9"),
            _ => format!("{stamp}-broken"),
        };
        let change = ImageChange {
            base,
            images: vec![(container, format!("{repo}:{tag}"))],
        };
        match self.ecs.register_task_definition(&change, now) {
            Ok(td) => {
                f.revision = Some(td.arn.clone());
                self.ecs
                    .new_deployment(s, td.arn.clone(), now, &mut self.rng);
                format!(
                    "{what}: {} deployed ({repo}:{tag})",
                    crate::domain::task_definition_label(&td.arn)
                )
            }
            Err(e) => format!("{what}: {e}"),
        }
    }

    /// Whether the fault's cause is still there.
    fn holds(&self, f: &Fault, now: Timestamp) -> bool {
        if let Some(d) = &f.spec.duration
            && let Some(secs) = crate::domain::scenario::span_secs(d.get_ref())
            && let Some(fired) = f.fired_at
            && fired + TimeDelta::seconds(secs) <= now
        {
            return false;
        }
        let service = f
            .spec
            .target()
            .service
            .and_then(|n| self.ecs.services.iter().position(|s| s.name == n));
        let live = |id: &String| self.ecs.tasks.iter().any(|t| &t.id == id && t.phase.live());
        match f.spec.fault.get_ref().as_str() {
            "honban:ecs:bad-image" => {
                let (Some(s), Some(rev)) = (service, &f.revision) else {
                    return false;
                };
                self.ecs
                    .services
                    .get(s)
                    .and_then(|x| x.deployments.first())
                    .is_some_and(|d| &d.task_definition == rev)
            }
            "honban:ecs:bad-task" | "honban:ecs:stale-connections" => f.tasks.iter().any(live),
            "aws:rds:reboot-db-instances" => {
                let id = f.spec.target().db.unwrap_or_default();
                self.rds
                    .instances
                    .iter()
                    .position(|d| d.id == id)
                    .is_some_and(|i| self.rds.rebooting(i, now))
            }
            "aws:ecs:stop-task" => service
                .and_then(|s| self.ecs.services.get(s).map(|x| (s, x.desired)))
                .is_some_and(|(s, desired)| {
                    self.ecs.running_per_service().get(s).copied().unwrap_or(0) < desired
                }),
            // Timed faults hold for their duration.
            _ => true,
        }
    }

    fn end_fault(&mut self, f: &Fault) {
        if f.spec.fault.get_ref() == "aws:network:disrupt-connectivity"
            && let Some(az) = &f.spec.target().az
        {
            self.ecs.impaired_azs.remove(az);
        }
    }

    /// The tasks whose logs carry a drill's failing requests.
    pub(crate) fn bad_tasks(&self) -> Vec<String> {
        self.drill
            .iter()
            .flat_map(|d| d.faults.iter())
            .filter(|f| {
                f.phase == Phase::Holding && f.spec.fault.get_ref() == "honban:ecs:bad-task"
            })
            .flat_map(|f| f.tasks.iter().cloned())
            .collect()
    }

    fn service_cpu(&self, s: usize) -> Option<usize> {
        let svc = self.ecs.services.get(s)?;
        self.metrics.iter().position(|m: &Metric| {
            m.namespace == "AWS/ECS"
                && m.name == "CPUUtilization"
                && m.dimension("ServiceName") == Some(svc.name.as_str())
        })
    }
}

/// `add`, plus `per_minute` for every minute since the fault fired.
fn offset(fired: Option<Timestamp>, now: Timestamp, add: f64, per_minute: f64) -> f64 {
    let minutes = fired.map_or(0.0, |t| (now - t).num_seconds().max(0) as f64 / 60.0);
    add + per_minute * minutes
}

/// `honban:ecs:bad-image on service web`.
fn describe(i: &Inject) -> String {
    match i.target().label() {
        l if l.is_empty() => i.fault.get_ref().clone(),
        l => format!("{} on {l}", i.fault.get_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Timestamp {
        "2026-11-23T03:00:00Z".parse().expect("a time")
    }

    fn world() -> World {
        let desc = super::super::description().expect("the world description");
        let w = desc
            .worlds
            .iter()
            .find(|w| w.name == "production")
            .expect("production");
        World::new(w, 3, start())
    }

    const TEXT: &str = r#"
id = "unit"
title = "unit"
difficulty = "easy"
briefing = "b"
world = "production"
seed = 3
time_limit = "10m"

[[inject]]
at = "30s"
fault = "aws:ecs:stop-task"
target = { service = "worker" }
count = 2

[[inject]]
at = "40s"
fault = "honban:rds:replica-lag"
target = { db = "works-logue-prod-db-replica" }
duration = "2m"
effects = [{ metric = "replica-lag", add = 50.0 }]

[[inject]]
at = "50s"
fault = "honban:sts:credentials-expire"
duration = "1m"

[objectives]
mitigated = [{ cleared = 1 }, { cleared = 2 }]
recovered = [{ service = "worker", steady = true }]
"#;

    #[test]
    fn stopped_tasks_are_replaced_and_timed_faults_end_with_their_effects() {
        // (`drill::scenario`'s tests check the shipped files; this one is
        // read as it is.)
        let s: Scenario = toml::from_str(TEXT).expect("parses");
        let mut w = world();
        w.start_drill(&s);
        let lag = w
            .metrics
            .iter()
            .position(|m| m.id == "replica-lag")
            .expect("metric");
        w.advance_to(start() + TimeDelta::seconds(31));
        let worker = w
            .ecs
            .services
            .iter()
            .position(|x| x.name == "worker")
            .expect("worker");
        let stopping = w
            .ecs
            .tasks
            .iter()
            .filter(|t| t.service == worker && !t.phase.live())
            .count();
        assert!(stopping >= 2, "{stopping}");
        w.advance_to(start() + TimeDelta::seconds(45));
        assert!((w.metrics[lag].drill_effect - 50.0).abs() < 1e-9);
        // Credentials expired: every call is refused for a minute.
        w.advance_to(start() + TimeDelta::seconds(55));
        assert!(matches!(
            w.api_fault(),
            Some(crate::backend::BackendError::Unauthorized { .. })
        ));
        w.advance_to(start() + TimeDelta::seconds(115));
        assert!(w.api_fault().is_none());
        w.advance_to(start() + TimeDelta::minutes(4));
        let status = w.drill_status().expect("a drill");
        assert!(status.fired.iter().all(Option::is_some));
        assert!(status.cleared.iter().all(Option::is_some), "{status:?}");
        assert!(w.metrics[lag].drill_effect.abs() < 1e-9);
        assert!(status.mitigated && status.recovered);
        assert_eq!(status.log.len(), 6, "{:?}", status.log);
    }

    #[test]
    fn a_restore_is_faster_in_a_drill() {
        let restore = |w: &mut World| {
            let source = w
                .rds
                .instances(&["works-logue-prod-db".to_string()], w.now)
                .expect("the primary")
                .remove(0);
            let created = w
                .restore_db_instance(&crate::backend::DbRestore {
                    target: "drill-restored".into(),
                    from: crate::backend::RestoreFrom::PointInTime {
                        source: source.id.clone(),
                        time: None,
                    },
                    settings: crate::domain::RestoreSettings::of(&source),
                })
                .expect("restore");
            assert_eq!(created.status, "creating");
            (1..=20)
                .find(|_| {
                    w.advance_to(w.now + TimeDelta::minutes(1));
                    w.rds
                        .instances(&["drill-restored".to_string()], w.now)
                        .is_ok_and(|v| v[0].status == "available")
                })
                .expect("available within 20 minutes")
        };
        let mut demo = world();
        let mut drill = world();
        let s: Scenario = toml::from_str(TEXT).expect("parses");
        drill.start_drill(&s);
        let (slow, fast) = (restore(&mut demo), restore(&mut drill));
        assert!(slow >= 8, "the demo takes realistic minutes: {slow}");
        assert!(fast <= 4, "a drill a fifth of them: {fast}");
    }
}
