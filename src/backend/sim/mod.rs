//! The simulated environment: production-like AWS worlds in process.
//!
//! `honban --demo`, drills and UI tests run against it. A world (account,
//! ECS cluster, services, RDS, alarms, ...) is described in
//! `assets/sim/world.toml`; this module gives it behaviour and implements
//! [`Backend`] over it.
//!
//! The simulation is lazy and deterministic: each call first advances the
//! world from where it was to `clock.now()` in one-second steps, with one
//! seeded RNG. The same seed and the same sequence of clock times give the
//! same answers. Along the way metrics drift, alarms are evaluated from
//! them, incidents push metrics over thresholds for a few minutes, tasks stop
//! and are replaced, and deployments roll out task by task (a `bad` or
//! `broken` image tag fails, and the circuit breaker rolls back).

mod alarms;
mod cloudfront;
mod codedeploy;
mod ec2;
mod ecs;
mod elasticache;
mod engine;
mod faults;
mod health;
mod logs;
mod metric_data;
mod metrics;
mod rds;
mod world;

#[cfg(test)]
mod tests;

use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use async_trait::async_trait;

pub use faults::DrillStatus;

use self::engine::World;
use self::world::Description;
use crate::backend::{
    Backend, BackendResult, CloudFront, CloudFrontChanges, CloudWatch, CloudWatchChanges,
    CodeDeploy, CodeDeployChanges, Ec2, Ec2Changes, Ecr, Ecs, EcsChanges, ElastiCache, Elb, Logs,
    LogsChanges, Rds, RdsChanges, Scaling, ScalingChanges, Sts,
};
use crate::clock::Clock;
use crate::domain::{CallerIdentity, MetricSeries, Service, TargetGroup, TargetHealth, Task};

/// Why a simulation could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("unknown simulated world \"{name}\" (known: {known})")]
    UnknownWorld { name: String, known: String },
    #[error("bad simulation world description: {0}")]
    Description(String),
}

/// The embedded description, parsed once.
fn description() -> Result<&'static Description, SimError> {
    static PARSED: OnceLock<Result<Description, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| world::embedded().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| SimError::Description(e.clone()))
}

/// A world of the embedded description, as the console's environments
/// need it (`setup::demo_environments` makes them config entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldSummary {
    pub name: String,
    pub region: String,
    pub clusters: Vec<String>,
    pub protected: bool,
    /// Its recovery time objective, in minutes.
    pub rto_minutes: Option<u32>,
    /// Its HTTP health endpoints: `(name, URL, the service behind it)`.
    pub health_checks: Vec<(String, String, String)>,
    /// Its CloudFront distributions: `(id, the services whose deploy
    /// offers an invalidation)`.
    pub distributions: Vec<(String, Vec<String>)>,
    /// Whether `--demo` opens it unasked (else only `--world NAME`).
    pub demo: bool,
    /// The tag filter of its EC2 hosts (empty: it has none).
    pub ec2_tags: std::collections::BTreeMap<String, String>,
    /// Its ElastiCache replication group ids.
    pub replication_groups: Vec<String>,
    /// The target groups its EC2 hosts are registered in.
    pub ec2_target_groups: Vec<String>,
}

/// The worlds the built-in description holds, in its order.
pub fn worlds() -> Vec<WorldSummary> {
    let desc = match description() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("{e}");
            return Vec::new();
        }
    };
    desc.worlds
        .iter()
        .map(|w| WorldSummary {
            name: w.name.clone(),
            region: w.region.clone(),
            clusters: w.clusters.clone(),
            protected: w.protected,
            rto_minutes: w.rto_minutes,
            health_checks: w
                .health_checks
                .iter()
                .map(|h| (h.name.clone(), h.url.clone(), h.service.clone()))
                .collect(),
            distributions: w
                .distributions
                .iter()
                .map(|d| (d.id.clone(), d.services.clone()))
                .collect(),
            demo: w.demo,
            ec2_tags: w.ec2_tags.clone(),
            replication_groups: w.replication_groups.iter().map(|g| g.id.clone()).collect(),
            ec2_target_groups: w.host_target_groups.iter().map(|g| g.arn.clone()).collect(),
        })
        .collect()
}

/// Names of the worlds in the embedded description.
pub fn world_names() -> Vec<String> {
    description()
        .map(|d| d.worlds.iter().map(|w| w.name.clone()).collect())
        .unwrap_or_default()
}

/// What a world contains, by name: for checking a drill scenario.
#[derive(Debug, Clone, Default)]
pub struct WorldCatalog {
    pub name: String,
    pub services: Vec<String>,
    pub dbs: Vec<String>,
    pub alarms: Vec<String>,
    pub metrics: Vec<String>,
    pub azs: Vec<String>,
}

/// The names of what world `name` contains, if there is such a world.
pub fn world_catalog(name: &str) -> Option<WorldCatalog> {
    let w = description().ok()?.worlds.iter().find(|w| w.name == name)?;
    Some(WorldCatalog {
        name: w.name.clone(),
        services: w.services.iter().map(|s| s.name.clone()).collect(),
        dbs: w.dbs.iter().map(|d| d.id.clone()).collect(),
        alarms: w.alarms.iter().map(|a| a.name.clone()).collect(),
        metrics: w.metrics.iter().map(|m| m.id.clone()).collect(),
        azs: w.availability_zones.clone(),
    })
}

/// A simulated AWS environment (one world) behind the [`Backend`] trait.
pub struct SimBackend {
    clock: Clock,
    world_name: String,
    account: String,
    region: String,
    /// The world's HTTP health endpoints ([`SimBackend::probe`]).
    health_checks: Vec<health::HealthCheckDesc>,
    world: Mutex<World>,
    /// Audit records put into simulated CloudWatch Logs: (group, stream, message).
    trail: Mutex<Vec<(String, String, String)>>,
}

impl std::fmt::Debug for SimBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimBackend")
            .field("account", &self.account)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl SimBackend {
    /// Builds the simulation of one world (e.g. "production", "staging")
    /// from the embedded description.
    pub fn new(world: &str, seed: u64, clock: Clock) -> Result<Self, SimError> {
        let desc = description()?;
        let Some(w) = desc.worlds.iter().find(|w| w.name == world) else {
            return Err(SimError::UnknownWorld {
                name: world.to_string(),
                known: world_names().join(", "),
            });
        };
        let state = World::new(w, seed, clock.now());
        Ok(Self {
            world_name: w.name.clone(),
            account: state.account.clone(),
            region: state.region.clone(),
            health_checks: w.health_checks.clone(),
            clock,
            world: Mutex::new(state),
            trail: Mutex::new(Vec::new()),
        })
    }

    /// Builds the simulation of `world` from a description of the same
    /// format as `assets/sim/world.toml` (measurements build large worlds
    /// this way).
    pub fn from_description(
        text: &str,
        world: &str,
        seed: u64,
        clock: Clock,
    ) -> Result<Self, SimError> {
        let desc = world::parse(text)?;
        let Some(w) = desc.worlds.iter().find(|w| w.name == world) else {
            return Err(SimError::UnknownWorld {
                name: world.to_string(),
                known: desc
                    .worlds
                    .iter()
                    .map(|w| w.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let state = World::new(w, seed, clock.now());
        Ok(Self {
            world_name: w.name.clone(),
            account: state.account.clone(),
            region: state.region.clone(),
            health_checks: w.health_checks.clone(),
            clock,
            world: Mutex::new(state),
            trail: Mutex::new(Vec::new()),
        })
    }

    /// The audit records put into simulated CloudWatch Logs so far:
    /// `(group, stream, message)`.
    pub fn audit_trail(&self) -> Vec<(String, String, String)> {
        self.trail.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// The account id the world pretends to be in.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The region the world pretends to be in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The last day of one-minute datapoints of a metric (oldest first), if
    /// the world has that metric (dimensions in any order).
    pub fn metric_history(
        &self,
        namespace: &str,
        name: &str,
        dimensions: &[(String, String)],
    ) -> Option<MetricSeries> {
        self.with(|w| {
            w.metrics
                .iter()
                .find(|m| m.matches(namespace, name, dimensions))
                .map(metrics::Metric::series)
        })
    }

    /// Turns spontaneous trouble (task stops, failed starts, incidents) on
    /// or off; on by default. Operators' changes still play out either way.
    pub fn set_chaos(&self, enabled: bool) {
        self.with(|w| w.chaos = enabled);
    }

    /// Starts a drill now: the scenario's faults are scheduled and
    /// spontaneous trouble stops (only the scenario happens).
    pub fn start_drill(&self, scenario: &crate::domain::scenario::Scenario) {
        self.with(|w| w.start_drill(scenario));
    }

    /// The drill's state, brought up to the clock's time (None outside a
    /// drill).
    pub fn drill_status(&self) -> Option<DrillStatus> {
        self.with(|w| w.drill_status())
    }

    /// A drill's API fault answers the call instead (expired
    /// credentials, throttling).
    fn gate(&self) -> BackendResult<()> {
        match self.with(World::api_fault) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the world brought up to the clock's time.
    fn with<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let now = self.clock.now();
        let mut world = self.lock();
        world.advance_to(now);
        f(&mut world)
    }
}

/// Every capability, each implemented with the area of the world it
/// asks (`ecs.rs`: `impl Ecs for SimBackend`, ...).
impl Backend for SimBackend {
    fn sts(&self) -> BackendResult<&dyn Sts> {
        Ok(self)
    }
    fn ecs(&self) -> BackendResult<&dyn Ecs> {
        Ok(self)
    }
    fn ecs_changes(&self) -> BackendResult<&dyn EcsChanges> {
        Ok(self)
    }
    fn ec2(&self) -> BackendResult<&dyn Ec2> {
        Ok(self)
    }
    fn elasticache(&self) -> BackendResult<&dyn ElastiCache> {
        Ok(self)
    }
    fn ec2_changes(&self) -> BackendResult<&dyn Ec2Changes> {
        Ok(self)
    }
    fn ecr(&self) -> BackendResult<&dyn Ecr> {
        Ok(self)
    }
    fn scaling(&self) -> BackendResult<&dyn Scaling> {
        Ok(self)
    }
    fn scaling_changes(&self) -> BackendResult<&dyn ScalingChanges> {
        Ok(self)
    }
    fn elb(&self) -> BackendResult<&dyn Elb> {
        Ok(self)
    }
    fn rds(&self) -> BackendResult<&dyn Rds> {
        Ok(self)
    }
    fn rds_changes(&self) -> BackendResult<&dyn RdsChanges> {
        Ok(self)
    }
    fn cloudwatch(&self) -> BackendResult<&dyn CloudWatch> {
        Ok(self)
    }
    fn cloudwatch_changes(&self) -> BackendResult<&dyn CloudWatchChanges> {
        Ok(self)
    }
    fn logs(&self) -> BackendResult<&dyn Logs> {
        Ok(self)
    }
    fn logs_changes(&self) -> BackendResult<&dyn LogsChanges> {
        Ok(self)
    }
    fn cloudfront(&self) -> BackendResult<&dyn CloudFront> {
        Ok(self)
    }
    fn cloudfront_changes(&self) -> BackendResult<&dyn CloudFrontChanges> {
        Ok(self)
    }
    fn codedeploy(&self) -> BackendResult<&dyn CodeDeploy> {
        Ok(self)
    }
    fn codedeploy_changes(&self) -> BackendResult<&dyn CodeDeployChanges> {
        Ok(self)
    }
}

#[async_trait]
impl Sts for SimBackend {
    async fn caller_identity(&self) -> BackendResult<CallerIdentity> {
        self.gate()?;
        Ok(self.with(|w| w.caller_identity()))
    }
}

/// Target groups as ELBv2 would report them for the simulated services:
/// each live task of a service behind the group is a target whose state
/// follows the task (starting → `initial`, healthy → `healthy`, unhealthy →
/// `unhealthy`, stopping → `draining`).
fn target_groups_of(services: &[Service], tasks: &[Task], arns: &[String]) -> Vec<TargetGroup> {
    let mut groups = Vec::new();
    for arn in arns {
        let behind: Vec<&Service> = services
            .iter()
            .filter(|s| {
                s.load_balancers
                    .iter()
                    .any(|lb| lb.target_group_arn.as_deref() == Some(arn.as_str()))
            })
            .collect();
        let Some(first) = behind.first() else {
            continue;
        };
        let port = first
            .load_balancers
            .iter()
            .find(|lb| lb.target_group_arn.as_deref() == Some(arn.as_str()))
            .and_then(|lb| lb.container_port);
        let mut targets = Vec::new();
        for t in tasks {
            if !behind
                .iter()
                .any(|s| t.service_name() == Some(s.name.as_str()))
            {
                continue;
            }
            let (state, reason, description) =
                match (t.last_status.as_str(), t.health_status.as_str()) {
                    ("RUNNING", "HEALTHY") if t.desired_status == "RUNNING" => {
                        ("healthy", None, None)
                    }
                    ("RUNNING", "UNHEALTHY") => (
                        "unhealthy",
                        Some("Target.ResponseCodeMismatch"),
                        Some("Health checks failed with these codes: [503]"),
                    ),
                    ("RUNNING" | "ACTIVATING", _) if t.desired_status == "RUNNING" => (
                        "initial",
                        Some("Elb.InitialHealthChecking"),
                        Some("Initial health checks in progress"),
                    ),
                    ("RUNNING" | "DEACTIVATING" | "STOPPING", _) => (
                        "draining",
                        Some("Target.DeregistrationInProgress"),
                        Some("Target deregistration is in progress"),
                    ),
                    _ => continue,
                };
            // A stable private address per task, as Fargate's ENI would have.
            let h = t
                .id()
                .bytes()
                .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
            targets.push(TargetHealth {
                id: format!("10.0.{}.{}", (h >> 8) % 64, h % 250 + 2),
                port,
                availability_zone: t.availability_zone.clone(),
                state: state.to_string(),
                reason: reason.map(str::to_string),
                description: description.map(str::to_string),
            });
        }
        targets.sort_by(|a, b| a.id.cmp(&b.id));
        let name = arn.split('/').nth(1).unwrap_or(arn).to_string();
        groups.push(TargetGroup {
            arn: arn.clone(),
            name,
            protocol: Some("HTTP".to_string()),
            port,
            health_check_path: Some("/api/health".to_string()),
            load_balancer_arns: Vec::new(),
            targets,
        });
    }
    groups
}
