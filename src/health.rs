//! The health of a service as the console shows and counts it: not only
//! what the service says about itself, but its rollout's failed tasks, the
//! circuit breaker, how long it has been short of tasks, its load-balancer
//! targets and the HTTP checks of its endpoint.
//!
//! Pure: time comes from the caller (`state.now`); how long a service has
//! been short of tasks is tracked by `update` when services load
//! ([`EnvState::track_shortfalls`]).

use chrono::TimeDelta;

use crate::domain::{AlarmState, Health, RolloutState, Service, Timestamp};
use crate::metrics::{Watched, watched};
use crate::state::EnvState;

/// How long a service may run fewer tasks than desired (a task being
/// replaced, a scale-out starting) before it counts as failing.
pub const SHORTFALL_GRACE: TimeDelta = TimeDelta::minutes(5);

/// How long a rollout may be short of tasks before it counts as stuck
/// (the same 30 minutes after which a watched operation gives up).
pub const ROLLOUT_GRACE: TimeDelta = TimeDelta::minutes(30);

/// The health of a service, worst first (the services tables sort by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceHealth {
    /// Its rollout fails (failed tasks, the circuit breaker), nothing runs,
    /// or it has been short of tasks beyond the grace period.
    Failing,
    /// Running, but some targets are unhealthy, an alarm on its metrics is
    /// in ALARM, its HTTP check fails, it is briefly short of tasks, or it
    /// is not ACTIVE.
    Degraded,
    /// A rollout in progress, nothing wrong with it so far.
    Deploying,
    /// Desired count 0: nothing is meant to run (and nothing serves).
    ScaledToZero,
    Ok,
}

impl ServiceHealth {
    pub const ALL: [ServiceHealth; 5] = [
        Self::Failing,
        Self::Degraded,
        Self::Deploying,
        Self::ScaledToZero,
        Self::Ok,
    ];

    /// The word on screen (and of the `health:` filter term).
    pub fn word(self) -> &'static str {
        match self {
            Self::Failing => "FAILING",
            Self::Degraded => "degraded",
            Self::Deploying => "deploying",
            Self::ScaledToZero => "scaled to 0",
            Self::Ok => "ok",
        }
    }

    /// The theme's health style this state is drawn in.
    pub fn style(self) -> Health {
        match self {
            Self::Failing => Health::Critical,
            Self::Degraded | Self::ScaledToZero => Health::Warning,
            Self::Deploying => Health::Progressing,
            Self::Ok => Health::Ok,
        }
    }
}

/// A service's health and, unless it is ok, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub health: ServiceHealth,
    pub why: Option<String>,
}

impl Verdict {
    fn new(health: ServiceHealth, why: impl Into<String>) -> Self {
        Self {
            health,
            why: Some(why.into()),
        }
    }
}

impl EnvState {
    /// The health of `service` in this environment at `now`.
    pub fn service_health(&self, service: &Service, now: Timestamp) -> ServiceHealth {
        self.service_verdict(service, now).health
    }

    /// The health of `service` with the reason, for the service detail.
    pub fn service_verdict(&self, s: &Service, now: Timestamp) -> Verdict {
        use ServiceHealth::{Degraded, Deploying, Failing, ScaledToZero};
        // A failed rollout: the circuit breaker tripped (the failed
        // deployment stays listed while it rolls back) or ECS gave up.
        if let Some(d) = s
            .deployments
            .iter()
            .find(|d| d.rollout_state == RolloutState::Failed)
        {
            let reason = d
                .rollout_state_reason
                .clone()
                .unwrap_or_else(|| "the rollout failed".to_string());
            let back = if d.status == "PRIMARY" {
                String::new()
            } else {
                " (rolling back)".to_string()
            };
            return Verdict::new(Failing, format!("{reason}{back}"));
        }
        let primary = s.primary_deployment();
        let rolling = primary.is_some_and(|d| d.rollout_state == RolloutState::InProgress);
        if let Some(d) = primary.filter(|d| d.failed_tasks > 0 && rolling) {
            return Verdict::new(
                Failing,
                format!(
                    "{} task{} failed in the current rollout",
                    d.failed_tasks,
                    if d.failed_tasks == 1 { "" } else { "s" }
                ),
            );
        }
        if s.desired_count == 0 {
            return Verdict::new(
                ScaledToZero,
                if s.running_count > 0 {
                    format!("desired 0, {} still running", s.running_count)
                } else {
                    "desired 0: no task runs".to_string()
                },
            );
        }
        if s.running_count == 0 {
            return Verdict::new(
                Failing,
                format!("no task running of {} desired", s.desired_count),
            );
        }
        let mut degraded: Option<String> = None;
        if s.status != "ACTIVE" {
            degraded = Some(format!("status {}", s.status));
        }
        if s.running_count < s.desired_count {
            let short = format!("{}/{} running", s.running_count, s.desired_count);
            if let Some(d) = primary.filter(|_| rolling) {
                let age = now - d.created_at;
                if age >= ROLLOUT_GRACE {
                    return Verdict::new(
                        Failing,
                        format!("{short}: rollout stuck for {}", minutes(age)),
                    );
                }
            } else {
                let since = self
                    .shortfall_since
                    .get(&s.name)
                    .copied()
                    .or(self.services.loaded_at)
                    .unwrap_or(now);
                let age = (now - since).max(TimeDelta::zero());
                if age >= SHORTFALL_GRACE {
                    return Verdict::new(Failing, format!("{short} for {}", minutes(age)));
                }
                degraded.get_or_insert(format!("{short} for {}", seconds(age)));
            }
        }
        // Its load balancer's view of its tasks.
        let (unhealthy, total) = self
            .targets_for(s)
            .iter()
            .flat_map(|g| g.targets.iter())
            .fold((0, 0), |(u, n), t| {
                (u + usize::from(t.state == "unhealthy"), n + 1)
            });
        if unhealthy > 0 && degraded.is_none() {
            degraded = Some(format!("{unhealthy}/{total} targets unhealthy"));
        }
        // An alarm on one of its metrics (or its target group's) in ALARM.
        if degraded.is_none()
            && let Some(a) = self.alarms.data.iter().flatten().find(|a| {
                a.state == AlarmState::Alarm
                    && a.metric.as_ref().is_some_and(
                        |m| matches!(watched(self, m), Watched::Service(name) if name == s.name),
                    )
            })
        {
            degraded = Some(format!("alarm {} in ALARM", a.name));
        }
        // The HTTP checks of its endpoint.
        if degraded.is_none()
            && let Some(p) = self.probes.iter().find(|p| {
                p.service.as_deref() == Some(s.name.as_str()) && p.healthy() == Some(false)
            })
        {
            let error = p.current_error().unwrap_or("failing");
            degraded = Some(format!("health check {}: {error}", p.name));
        }
        if let Some(why) = degraded {
            return Verdict::new(Degraded, why);
        }
        if rolling {
            return Verdict::new(Deploying, "rollout in progress");
        }
        Verdict {
            health: ServiceHealth::Ok,
            why: None,
        }
    }

    /// Records since when each service has been short of tasks (first seen
    /// in this session's data at `at`), forgetting those that are not.
    pub fn track_shortfalls(&mut self, at: Timestamp) {
        let Some(services) = &self.panels.services.data else {
            return;
        };
        let short: Vec<&str> = services
            .iter()
            .filter(|s| s.desired_count > 0 && s.running_count < s.desired_count)
            .map(|s| s.name.as_str())
            .collect();
        self.shortfall_since
            .retain(|name, _| short.contains(&name.as_str()));
        for name in short {
            self.shortfall_since.entry(name.to_string()).or_insert(at);
        }
    }
}

fn minutes(d: TimeDelta) -> String {
    format!("{}m", d.num_minutes().max(1))
}

fn seconds(d: TimeDelta) -> String {
    crate::state::format_age(d)
}
