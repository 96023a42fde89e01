//! ECS: clusters, services, deployments, tasks and task definitions.
//!
//! Tasks go through ECS's lifecycle (PROVISIONING → PENDING → ACTIVATING →
//! RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED) on timers.
//! Each second every service is reconciled towards its desired count: a
//! steady service starts what is missing at once; a service with more than
//! one deployment rolls task by task (start one task of the PRIMARY
//! deployment, wait until it is healthy, stop one older task). Counts are
//! never stored: they are read off the task list, so they always agree.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::TimeDelta;
use fastrand::Rng;

mod lifecycle;

use super::SimBackend;
use super::world::{ServiceDesc, StoppedTaskDesc, WorldDesc};
use crate::backend::{BackendError, BackendResult, ImageChange, ServiceUpdate};
use crate::backend::{Ecr, EcsChanges, Elb, ScalingChanges};
use crate::domain::TargetGroup;
use crate::domain::{
    CircuitBreaker, Cluster, Container, ContainerDefinition, Deployment, DeploymentController,
    Failure, Listing, LoadBalancerRef, RolloutState, ScalableTarget, ScalingPolicy, Service,
    ServiceEvent, Task, TaskDefinition, Timestamp, short_id,
};
use crate::domain::{EcrImage, ImageDetail, ImageId, ImageLookup};
use async_trait::async_trait;

#[async_trait]
impl crate::backend::Ecs for SimBackend {
    async fn clusters(&self, names: &[String]) -> BackendResult<Listing<Cluster>> {
        self.gate()?;
        Ok(self.with(|w| w.ecs.clusters(names)))
    }

    async fn list_clusters(&self) -> BackendResult<Vec<String>> {
        self.gate()?;
        Ok(self.with(|w| w.ecs.cluster_names()))
    }

    async fn services(&self, cluster: &str) -> BackendResult<Listing<Service>> {
        self.gate()?;
        self.with(|w| w.ecs.services(cluster))
    }

    async fn tasks(&self, cluster: &str) -> BackendResult<Listing<Task>> {
        self.gate()?;
        self.with(|w| w.ecs.tasks(cluster))
    }

    async fn task_definition(&self, arn: &str) -> BackendResult<TaskDefinition> {
        self.gate()?;
        self.with(|w| w.ecs.task_definition(arn))
    }

    async fn task_definition_revisions(&self, family: &str) -> BackendResult<Vec<String>> {
        self.gate()?;
        Ok(self.with(|w| w.ecs.revisions(family)))
    }
}

#[async_trait]
impl EcsChanges for SimBackend {
    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        update: ServiceUpdate,
    ) -> BackendResult<Service> {
        self.gate()?;
        self.with(|w| w.update_service(cluster, service, &update))
    }

    async fn register_task_definition(&self, change: ImageChange) -> BackendResult<TaskDefinition> {
        self.gate()?;
        self.with(|w| {
            let now = w.now;
            w.ecs.register_task_definition(&change, now)
        })
    }

    async fn stop_task(&self, cluster: &str, task: &str, reason: &str) -> BackendResult<Task> {
        self.gate()?;
        self.with(|w| w.stop_task(cluster, task, reason))
    }

    async fn execute_command(
        &self,
        _cluster: &str,
        task: &str,
        _container: &str,
        _command: &str,
    ) -> BackendResult<crate::domain::ExecSession> {
        Err(BackendError::Invalid {
            message: format!(
                "ECS Exec is not available in the simulation: simulated tasks (here {}) have no \
                 container and no shell to open",
                crate::domain::short_id(task)
            ),
        })
    }
}

#[async_trait]
impl Ecr for SimBackend {
    async fn describe_image(&self, image: &EcrImage) -> BackendResult<ImageLookup> {
        Ok(self.with(|w| {
            let now = w.now;
            w.ecs.describe_image(image, now)
        }))
    }
}

#[async_trait]
impl crate::backend::Scaling for SimBackend {
    async fn scalable_targets(&self, clusters: &[String]) -> BackendResult<Vec<ScalableTarget>> {
        self.gate()?;
        self.with(|w| {
            let mut all = Vec::new();
            for c in clusters {
                all.extend(w.ecs.scalable_targets(c)?);
            }
            Ok(all)
        })
    }
}

#[async_trait]
impl ScalingChanges for SimBackend {
    async fn set_scaling_bounds(
        &self,
        cluster: &str,
        service: &str,
        min: u32,
        max: u32,
    ) -> BackendResult<ScalableTarget> {
        self.gate()?;
        self.with(|w| {
            let now = w.now;
            w.ecs.set_scaling_bounds(cluster, service, min, max, now)
        })
    }
}

#[async_trait]
impl Elb for SimBackend {
    async fn target_groups(&self, arns: &[String]) -> BackendResult<Vec<TargetGroup>> {
        self.gate()?;
        Ok(self.with(|w| {
            let clusters: Vec<String> = w
                .ecs
                .clusters(&[])
                .items
                .into_iter()
                .map(|c| c.name)
                .collect();
            let mut services = Vec::new();
            let mut tasks = Vec::new();
            for c in &clusters {
                if let Ok(l) = w.ecs.services(c) {
                    services.extend(l.items);
                }
                if let Ok(l) = w.ecs.tasks(c) {
                    tasks.extend(l.items);
                }
            }
            let mut groups = super::target_groups_of(&services, &tasks, arns);
            groups.extend(super::ec2::host_target_groups(w, arns));
            groups
        }))
    }
}

/// ECS keeps the last 100 events of a service.
const MAX_EVENTS: usize = 100;
/// Stopped tasks stay listed this long.
const STOPPED_RETENTION_SECS: i64 = 3_600;
/// A steady service says so again after this long.
const STEADY_EVENT_EVERY_SECS: i64 = 6 * 3_600;
/// The ECS quota of tasks per service.
const MAX_DESIRED: u32 = 5_000;

/// Where a task is in its lifecycle (its `lastStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Provisioning,
    Pending,
    Activating,
    Running,
    Deactivating,
    Stopping,
    Deprovisioning,
    Stopped,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Self::Provisioning => "PROVISIONING",
            Self::Pending => "PENDING",
            Self::Activating => "ACTIVATING",
            Self::Running => "RUNNING",
            Self::Deactivating => "DEACTIVATING",
            Self::Stopping => "STOPPING",
            Self::Deprovisioning => "DEPROVISIONING",
            Self::Stopped => "STOPPED",
        }
    }

    /// Desired status RUNNING: started and not being stopped.
    pub fn live(self) -> bool {
        matches!(
            self,
            Self::Provisioning | Self::Pending | Self::Activating | Self::Running
        )
    }

    /// Counted in `pendingCount`.
    pub fn pending(self) -> bool {
        matches!(self, Self::Provisioning | Self::Pending | Self::Activating)
    }
}

/// What will become of a task that is being started.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Normal,
    /// The image of this container cannot be pulled.
    PullFails {
        container: String,
        image: String,
        no_repo: bool,
    },
    /// Secrets or logging cannot be set up.
    StartFails,
    /// This essential container exits with code 1 right after starting.
    Crashes {
        container: String,
    },
}

/// Why and how a task stopped.
#[derive(Debug, Clone)]
struct StopInfo {
    code: &'static str,
    reason: String,
    /// The container that failed, with its exit code and reason.
    container: Option<(String, Option<i32>, Option<String>)>,
    /// The exit code of the other containers (none if they never ran).
    others_exit: Option<i32>,
}

#[derive(Debug, Clone)]
pub(crate) struct SimTask {
    pub id: String,
    /// Index of the service in [`Ecs::services`].
    pub service: usize,
    pub deployment: String,
    pub task_definition: String,
    pub az: String,
    cpu: Option<String>,
    memory: Option<String>,
    /// `(name, image, has a health check)`.
    containers: Vec<(String, String, bool)>,
    pub created_at: Timestamp,
    pub phase: Phase,
    next_at: Timestamp,
    started_at: Option<Timestamp>,
    health: &'static str,
    healthy_at: Option<Timestamp>,
    fate: Fate,
    crash_at: Option<Timestamp>,
    stop: Option<StopInfo>,
    /// When the stop began (set with `stop`, once).
    stopping_at: Option<Timestamp>,
    stopped_at: Option<Timestamp>,
}

impl SimTask {
    fn health_checked(&self) -> bool {
        self.containers.iter().any(|c| c.2)
    }

    /// Running and, where there is a health check, healthy.
    fn ready(&self, now: Timestamp) -> bool {
        self.phase == Phase::Running
            && if self.health_checked() {
                self.health == "HEALTHY"
            } else {
                self.started_at
                    .is_some_and(|t| t + TimeDelta::seconds(10) <= now)
            }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SimDeployment {
    pub id: String,
    pub task_definition: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    failed_tasks: u32,
    pub rollout: RolloutState,
    reason: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Scaling {
    pub min: u32,
    pub max: u32,
    /// Target-tracking policy: name and target CPU.
    pub policy: Option<(String, f64)>,
    last_scale_out: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub(crate) struct SimService {
    pub name: String,
    pub cluster: String,
    arn: String,
    created_at: Timestamp,
    pub desired: u32,
    /// The PRIMARY deployment first, then the ACTIVE ones, newest first.
    pub deployments: Vec<SimDeployment>,
    /// Newest first.
    events: VecDeque<ServiceEvent>,
    lb: Option<LoadBalancerRef>,
    pub circuit_breaker: CircuitBreaker,
    pub scaling: Option<Scaling>,
    /// The last deployment that completed (id, task definition).
    last_completed: Option<(String, String)>,
    pub steady: bool,
    last_steady_event: Option<Timestamp>,
    last_capacity_change: Timestamp,
    /// The desired count of the description: the load metrics are spread
    /// over the running tasks relative to it.
    pub baseline_tasks: u32,
    /// Who deploys it: CODE_DEPLOY services change their task definition
    /// only through the world's CodeDeploy (`codedeploy.rs`).
    pub controller: DeploymentController,
}

/// The ECS part of a world.
#[derive(Debug, Clone)]
pub(crate) struct Ecs {
    account: String,
    region: String,
    azs: Vec<String>,
    clusters: Vec<String>,
    pub services: Vec<SimService>,
    pub tasks: Vec<SimTask>,
    task_defs: Vec<TaskDefinition>,
    /// Containers with a health check, per family.
    health_checked: BTreeMap<String, BTreeSet<String>>,
    /// Image repositories that exist (everything else fails to pull).
    known_repositories: BTreeSet<String>,
    /// Availability zones cut off (a drill's AZ outage): nothing is placed there.
    pub impaired_azs: BTreeSet<String>,
    start_failure_rate: f64,
}

impl Ecs {
    pub fn new(w: &WorldDesc, start: Timestamp, rng: &mut Rng) -> Self {
        let mut ecs = Self {
            account: w.account.clone(),
            region: w.region.clone(),
            azs: w.availability_zones.clone(),
            clusters: w.clusters.clone(),
            services: Vec::new(),
            tasks: Vec::new(),
            task_defs: Vec::new(),
            health_checked: BTreeMap::new(),
            known_repositories: BTreeSet::new(),
            impaired_azs: BTreeSet::new(),
            start_failure_rate: w.chaos.start_failure_rate,
        };
        for d in &w.services {
            ecs.add_service(d, &w.stopped_tasks, start, rng);
        }
        ecs
    }

    fn cluster_arn(&self, cluster: &str) -> String {
        format!(
            "arn:aws:ecs:{}:{}:cluster/{cluster}",
            self.region, self.account
        )
    }

    fn td_arn(&self, family: &str, revision: u32) -> String {
        format!(
            "arn:aws:ecs:{}:{}:task-definition/{family}:{revision}",
            self.region, self.account
        )
    }

    fn task_definition_of(
        &self,
        d: &ServiceDesc,
        revision: u32,
        tag: &str,
        at: Timestamp,
    ) -> TaskDefinition {
        let iam = |role: &str| format!("arn:aws:iam::{}:role/{role}", self.account);
        let containers = d
            .containers
            .iter()
            .map(|c| ContainerDefinition {
                name: c.name.clone(),
                image: match (&c.repository, &c.image) {
                    (Some(repo), _) => format!(
                        "{}.dkr.ecr.{}.amazonaws.com/{repo}:{tag}",
                        self.account, self.region
                    ),
                    (None, Some(image)) => image.clone(),
                    (None, None) => String::new(),
                },
                essential: c.essential,
                cpu: c.cpu,
                memory: c.memory,
                port_mappings: c.ports.clone(),
                secrets: c
                    .secrets
                    .iter()
                    .map(|[name, reference]| {
                        let (service, resource) = reference
                            .split_once(':')
                            .unwrap_or(("secretsmanager", reference));
                        (
                            name.clone(),
                            format!(
                                "arn:aws:{service}:{}:{}:{resource}",
                                self.region, self.account
                            ),
                        )
                    })
                    .collect(),
                log_group: Some(format!("/ecs/{}", d.family)),
                log_stream_prefix: Some(c.log_stream_prefix.clone()),
            })
            .collect();
        TaskDefinition {
            arn: self.td_arn(&d.family, revision),
            family: d.family.clone(),
            revision,
            status: "ACTIVE".to_string(),
            cpu: Some(d.cpu.clone()),
            memory: Some(d.memory.clone()),
            network_mode: Some("awsvpc".to_string()),
            requires_compatibilities: vec!["FARGATE".to_string()],
            task_role_arn: d.task_role.as_deref().map(iam),
            execution_role_arn: Some(iam(&d.execution_role)),
            containers,
            registered_at: Some(at),
        }
    }

    fn add_service(
        &mut self,
        d: &ServiceDesc,
        stopped: &[StoppedTaskDesc],
        start: Timestamp,
        rng: &mut Rng,
    ) {
        for r in &d.revisions {
            let td =
                self.task_definition_of(d, r.revision, &r.tag, start - r.registered_ago.delta());
            for c in &td.containers {
                self.known_repositories
                    .insert(split_image(&c.image).0.to_string());
            }
            self.task_defs.push(td);
        }
        self.health_checked.insert(
            d.family.clone(),
            d.containers
                .iter()
                .filter(|c| c.health_check)
                .map(|c| c.name.clone())
                .collect(),
        );
        let Some(last) = d.revisions.last() else {
            return;
        };
        let td_arn = self.td_arn(&d.family, last.revision);
        let deployed_at = (start - last.registered_ago.delta() + TimeDelta::minutes(4))
            .min(start - TimeDelta::minutes(3));
        let deployment_id = deployment_id(rng);
        let s = self.services.len();
        let lb = d.load_balancer.as_ref().map(|l| LoadBalancerRef {
            target_group_arn: Some(format!(
                "arn:aws:elasticloadbalancing:{}:{}:{}",
                self.region, self.account, l.target_group
            )),
            container_name: Some(l.container.clone()),
            container_port: Some(l.port),
        });
        let tg = lb
            .as_ref()
            .and_then(|l| l.target_group_arn.clone())
            .unwrap_or_default();
        let name = d.name.clone();
        self.services.push(SimService {
            name: d.name.clone(),
            cluster: d.cluster.clone(),
            arn: format!(
                "arn:aws:ecs:{}:{}:service/{}/{}",
                self.region, self.account, d.cluster, d.name
            ),
            created_at: start - d.created_ago.delta(),
            desired: d.desired_count,
            deployments: vec![SimDeployment {
                id: deployment_id.clone(),
                task_definition: td_arn.clone(),
                created_at: deployed_at,
                updated_at: deployed_at + TimeDelta::minutes(2),
                failed_tasks: 0,
                rollout: RolloutState::Completed,
                reason: Some(format!("ECS deployment {deployment_id} completed.")),
            }],
            events: VecDeque::new(),
            lb: lb.clone(),
            circuit_breaker: CircuitBreaker {
                enable: d.circuit_breaker.enable,
                rollback: d.circuit_breaker.rollback,
            },
            scaling: d.autoscaling.as_ref().map(|a| Scaling {
                min: a.min,
                max: a.max,
                policy: Some((a.policy.clone(), a.target_cpu)),
                last_scale_out: None,
            }),
            last_completed: Some((deployment_id.clone(), td_arn.clone())),
            steady: true,
            last_steady_event: None,
            last_capacity_change: deployed_at,
            baseline_tasks: d.desired_count,
            controller: d
                .deployment_controller
                .as_deref()
                .map_or(DeploymentController::Ecs, DeploymentController::parse),
        });

        // The running tasks of the deployment, and what happened before.
        let mut history: Vec<(Timestamp, String)> = Vec::new();
        let launched = deployed_at + TimeDelta::seconds(10);
        let mut ids = Vec::new();
        for _ in 0..d.desired_count {
            let Some(i) = self.launch(s, launched, rng, false) else {
                break;
            };
            let started = launched + TimeDelta::seconds(rng.i64(18..=30));
            if let Some(t) = self.tasks.get_mut(i) {
                t.fate = Fate::Normal;
                t.phase = Phase::Running;
                t.started_at = Some(started);
                t.health = "HEALTHY";
                t.healthy_at = Some(started + TimeDelta::seconds(8));
                ids.push(t.id.clone());
            }
        }
        let n = ids.len();
        let done = deployed_at + TimeDelta::minutes(2);
        if n > 0 {
            history.push((
                launched,
                format!(
                    "(service {name}) has started {n} tasks: {}.",
                    task_list(&ids)
                ),
            ));
            if lb.is_some() {
                history.push((
                    launched + TimeDelta::seconds(45),
                    format!("(service {name}) registered {n} targets in (target-group {tg})"),
                ));
                history.push((
                    launched + TimeDelta::seconds(70),
                    format!("(service {name}) has begun draining connections on {n} tasks."),
                ));
                history.push((
                    launched + TimeDelta::seconds(70),
                    format!("(service {name}) deregistered {n} targets in (target-group {tg})"),
                ));
            }
            let old: Vec<String> = (0..n).map(|_| hex32(rng)).collect();
            history.push((
                launched + TimeDelta::seconds(70),
                format!(
                    "(service {name}) has stopped {n} running tasks: {}.",
                    task_list(&old)
                ),
            ));
        }
        history.push((
            done,
            format!("(service {name}) (deployment {deployment_id}) deployment completed."),
        ));
        let mut steady_at = vec![done];

        // Tasks that stopped before the start, and their replacements.
        let mine: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.tasks.get(i).is_some_and(|t| t.service == s))
            .collect();
        for (k, st) in stopped.iter().filter(|t| t.service == d.name).enumerate() {
            let stopped_at = start - st.ago.delta();
            let failed_to_start = st.kind == "failed-to-start";
            let created = if failed_to_start {
                stopped_at - TimeDelta::seconds(20)
            } else {
                launched
            };
            let Some(victim) = self.launch(s, created, rng, false) else {
                continue;
            };
            let main = self.main_container(s);
            let (info, health) = stop_info(&st.kind, &main, &tg);
            if st.kind == "elb-health" {
                history.push((
                    stopped_at - TimeDelta::seconds(15),
                    unhealthy_event(&name, lb.as_ref(), &tg),
                ));
                history.push((
                    stopped_at - TimeDelta::seconds(15),
                    format!(
                        "(service {name}) has stopped 1 running tasks: (task {}).",
                        self.tasks[victim].id
                    ),
                ));
            }
            if let Some(t) = self.tasks.get_mut(victim) {
                t.fate = Fate::Normal;
                t.phase = Phase::Stopped;
                if !failed_to_start {
                    t.started_at = Some(created + TimeDelta::seconds(25));
                }
                t.health = health;
                t.stop = Some(info);
                t.stopping_at = Some(stopped_at - TimeDelta::seconds(30));
                t.stopped_at = Some(stopped_at);
            }
            // One of the running tasks is the replacement.
            let replaced_at = stopped_at + TimeDelta::seconds(5);
            if let Some(&r) = mine.get(k)
                && let Some(t) = self.tasks.get_mut(r)
            {
                t.created_at = replaced_at;
                t.started_at = Some(replaced_at + TimeDelta::seconds(rng.i64(18..=30)));
                t.healthy_at = t.started_at.map(|x| x + TimeDelta::seconds(8));
                history.push((
                    replaced_at,
                    format!("(service {name}) has started 1 tasks: (task {}).", t.id),
                ));
                steady_at.push(replaced_at + TimeDelta::seconds(45));
            }
        }
        // ECS repeats the steady state every six hours.
        steady_at.sort();
        let mut steady_events = Vec::new();
        for (j, &from) in steady_at.iter().enumerate() {
            let until = steady_at.get(j + 1).copied().unwrap_or(start);
            let mut t = from;
            while t < until {
                steady_events.push(t);
                t += TimeDelta::seconds(STEADY_EVENT_EVERY_SECS);
            }
        }
        for t in steady_events {
            history.push((t, format!("(service {name}) has reached a steady state.")));
        }
        history.retain(|(t, _)| *t <= start);
        history.sort_by_key(|(t, _)| *t);
        let keep_from = history.len().saturating_sub(MAX_EVENTS);
        let last_steady = history
            .iter()
            .rev()
            .find(|(_, m)| m.ends_with("steady state."))
            .map(|(t, _)| *t);
        for (at, message) in history.into_iter().skip(keep_from) {
            self.event(s, at, rng, message);
        }
        if let Some(svc) = self.services.get_mut(s) {
            svc.last_steady_event = last_steady;
        }
    }

    /// The task definition a service runs (its newest deployment's).
    pub(crate) fn service_task_definition(&self, s: usize) -> String {
        self.services
            .get(s)
            .and_then(|svc| svc.deployments.first())
            .map(|d| d.task_definition.clone())
            .unwrap_or_default()
    }

    /// The target group ARN of a service's load balancer, if it has one.
    pub(crate) fn service_target_group(&self, s: usize) -> Option<String> {
        self.services.get(s)?.lb.as_ref()?.target_group_arn.clone()
    }

    /// The container the load balancer points at, or the first essential one.
    pub(crate) fn main_container(&self, s: usize) -> String {
        let Some(svc) = self.services.get(s) else {
            return String::new();
        };
        if let Some(name) = svc.lb.as_ref().and_then(|l| l.container_name.clone()) {
            return name;
        }
        let td = svc
            .deployments
            .first()
            .and_then(|d| self.find_td(&d.task_definition));
        td.and_then(|td| td.containers.iter().find(|c| c.essential))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    pub(crate) fn event(&mut self, s: usize, at: Timestamp, rng: &mut Rng, message: String) {
        let id = uuid(rng);
        if let Some(svc) = self.services.get_mut(s) {
            svc.events.push_front(ServiceEvent {
                id,
                created_at: at,
                message,
            });
            svc.events.truncate(MAX_EVENTS);
        }
    }

    // ------------------------------------------------------- queries

    fn find_td(&self, reference: &str) -> Option<&TaskDefinition> {
        if reference.starts_with("arn:") {
            return self.task_defs.iter().find(|t| t.arn == reference);
        }
        match reference.split_once(':') {
            Some((family, revision)) => {
                let revision: u32 = revision.parse().ok()?;
                self.task_defs
                    .iter()
                    .find(|t| t.family == family && t.revision == revision)
            }
            None => self
                .task_defs
                .iter()
                .filter(|t| t.family == reference && t.status == "ACTIVE")
                .max_by_key(|t| t.revision),
        }
    }

    fn check_cluster(&self, cluster: &str) -> BackendResult<()> {
        if self.clusters.iter().any(|c| c == cluster) {
            Ok(())
        } else {
            Err(BackendError::NotFound {
                resource: format!("cluster {cluster}"),
            })
        }
    }

    fn find_service(&self, cluster: &str, service: &str) -> BackendResult<usize> {
        self.check_cluster(cluster)?;
        self.services
            .iter()
            .position(|s| s.cluster == cluster && s.name == service)
            .ok_or_else(|| BackendError::NotFound {
                resource: format!("service {service} in cluster {cluster}"),
            })
    }

    /// Every cluster's name, sorted (ListClusters).
    pub fn cluster_names(&self) -> Vec<String> {
        let mut names = self.clusters.clone();
        names.sort();
        names
    }

    pub fn clusters(&self, names: &[String]) -> Listing<Cluster> {
        let wanted: Vec<&String> = if names.is_empty() {
            self.clusters.iter().collect()
        } else {
            names.iter().collect()
        };
        let mut out = Listing::complete(Vec::new());
        for name in wanted {
            if !self.clusters.contains(name) {
                out.failures.push(Failure {
                    arn: self.cluster_arn(name),
                    reason: "MISSING".to_string(),
                    detail: None,
                });
                continue;
            }
            let mine = |t: &&SimTask| {
                self.services
                    .get(t.service)
                    .is_some_and(|s| &s.cluster == name)
            };
            out.items.push(Cluster {
                arn: self.cluster_arn(name),
                name: name.clone(),
                status: "ACTIVE".to_string(),
                active_services: self.services.iter().filter(|s| &s.cluster == name).count() as u32,
                running_tasks: self
                    .tasks
                    .iter()
                    .filter(mine)
                    .filter(|t| t.phase == Phase::Running)
                    .count() as u32,
                pending_tasks: self
                    .tasks
                    .iter()
                    .filter(mine)
                    .filter(|t| t.phase.pending())
                    .count() as u32,
            });
        }
        out
    }

    pub fn services(&self, cluster: &str) -> BackendResult<Listing<Service>> {
        self.check_cluster(cluster)?;
        Ok(Listing::complete(
            (0..self.services.len())
                .filter(|&s| self.services.get(s).is_some_and(|x| x.cluster == cluster))
                .filter_map(|s| self.service_to_domain(s))
                .collect(),
        ))
    }

    /// Live tasks first, then stopped ones newest first; by service.
    pub fn tasks(&self, cluster: &str) -> BackendResult<Listing<Task>> {
        self.check_cluster(cluster)?;
        let mut mine: Vec<&SimTask> = self
            .tasks
            .iter()
            .filter(|t| {
                self.services
                    .get(t.service)
                    .is_some_and(|s| s.cluster == cluster)
            })
            .collect();
        mine.sort_by_key(|t| {
            (
                t.service,
                t.phase == Phase::Stopped,
                std::cmp::Reverse(t.stopped_at),
                t.created_at,
            )
        });
        Ok(Listing::complete(
            mine.into_iter().map(|t| self.task_to_domain(t)).collect(),
        ))
    }

    pub fn task_definition(&self, arn: &str) -> BackendResult<TaskDefinition> {
        self.find_td(arn)
            .cloned()
            .ok_or_else(|| BackendError::NotFound {
                resource: format!("task definition {arn}"),
            })
    }

    /// ECR `DescribeImages` in the simulated account: every image of a
    /// repository the world's services use exists (the digest their tasks
    /// report), except a tag containing `bad` — the one whose tasks cannot
    /// pull it. An image that no revision uses yet was pushed by the
    /// team's CI shortly before, which the simulation puts 20 minutes ago.
    pub fn describe_image(&self, image: &EcrImage, now: Timestamp) -> ImageLookup {
        let repository = format!(
            "{}.dkr.ecr.{}.amazonaws.com/{}",
            image.account, image.region, image.repository
        );
        if !self.known_repositories.contains(&repository) {
            return ImageLookup::Missing {
                what: format!(
                    "repository {} does not exist in {} ({})",
                    image.repository, image.account, image.region
                ),
            };
        }
        // Every image of the repository that a revision uses, oldest first.
        let mut used: Vec<(Timestamp, String)> = self
            .task_defs
            .iter()
            .flat_map(|td| {
                td.containers
                    .iter()
                    .filter(|c| split_image(&c.image).0 == repository)
                    .map(|c| (td.registered_at.unwrap_or(now), c.image.clone()))
            })
            .collect();
        used.sort();
        let missing = || ImageLookup::Missing {
            what: format!("{} does not exist", image.label()),
        };
        let reference = match &image.reference {
            ImageId::Tag(tag) if tag.contains("bad") => return missing(),
            ImageId::Tag(tag) => format!("{repository}:{tag}"),
            ImageId::Digest(digest) => match used.iter().find(|(_, i)| digest_of(i) == *digest) {
                Some((_, i)) => i.clone(),
                None => return missing(),
            },
        };
        let pushed_at = used
            .iter()
            .find(|(_, i)| *i == reference)
            .map_or(now - TimeDelta::minutes(20), |(at, _)| *at);
        ImageLookup::Found(ImageDetail {
            digest: digest_of(&reference),
            pushed_at: Some(pushed_at),
            tags: vec![split_image(&reference).1.to_string()],
            size_bytes: i64::try_from(fnv(&reference) % 200_000_000)
                .ok()
                .map(|n| n + 50_000_000),
        })
    }

    pub fn revisions(&self, family: &str) -> Vec<String> {
        let mut tds: Vec<&TaskDefinition> = self
            .task_defs
            .iter()
            .filter(|t| t.family == family && t.status == "ACTIVE")
            .collect();
        tds.sort_by_key(|t| std::cmp::Reverse(t.revision));
        tds.into_iter().map(|t| t.arn.clone()).collect()
    }

    pub fn scalable_targets(&self, cluster: &str) -> BackendResult<Vec<ScalableTarget>> {
        self.check_cluster(cluster)?;
        Ok(self
            .services
            .iter()
            .filter(|s| s.cluster == cluster)
            .filter_map(scalable_target)
            .collect())
    }

    // ------------------------------------------------------ mutations

    /// ECS `StopTask`: the task drains (behind a load balancer) or stops at
    /// once with the stop code `UserInitiated`; its service's scheduler
    /// then starts a replacement. A task already stopped is returned as it
    /// is, as ECS does.
    pub fn stop_task(
        &mut self,
        cluster: &str,
        task: &str,
        reason: &str,
        now: Timestamp,
        rng: &mut Rng,
    ) -> BackendResult<Task> {
        self.check_cluster(cluster)?;
        let id = short_id(task);
        let found = self.tasks.iter().position(|t| {
            t.id == id
                && self
                    .services
                    .get(t.service)
                    .is_some_and(|s| s.cluster == cluster)
        });
        let Some(i) = found else {
            return Err(BackendError::Invalid {
                message: format!(
                    "InvalidParameterException: The referenced task was not found: {task}"
                ),
            });
        };
        let lb = self
            .tasks
            .get(i)
            .and_then(|t| self.services.get(t.service))
            .is_some_and(|s| s.lb.is_some());
        if let Some(t) = self.tasks.get_mut(i)
            && t.phase.live()
        {
            let was_running = t.phase == Phase::Running;
            t.stopping_at = Some(now);
            t.stop = Some(StopInfo {
                code: "UserInitiated",
                reason: reason.to_string(),
                container: None,
                // SIGTERM: 128 + 15.
                others_exit: t.started_at.map(|_| 143),
            });
            t.crash_at = None;
            if was_running && lb {
                t.phase = Phase::Deactivating;
                t.next_at = now + secs(rng, 5, 10);
            } else {
                t.phase = Phase::Stopping;
                t.next_at = now + secs(rng, 1, 4);
            }
        }
        self.tasks
            .get(i)
            .map(|t| self.task_to_domain(t))
            .ok_or_else(|| BackendError::NotFound {
                resource: format!("task {task}"),
            })
    }

    pub fn update_service(
        &mut self,
        cluster: &str,
        service: &str,
        update: &ServiceUpdate,
        now: Timestamp,
        rng: &mut Rng,
    ) -> BackendResult<Service> {
        let s = self.find_service(cluster, service)?;
        let wanted = match &update.task_definition {
            Some(r) => Some(self.find_td(r).map(|t| t.arn.clone()).ok_or_else(|| {
                BackendError::Invalid {
                    message: format!("InvalidParameterException: TaskDefinition not found: {r}"),
                }
            })?),
            None => None,
        };
        if let Some(n) = update.desired_count
            && n > MAX_DESIRED
        {
            return Err(BackendError::Invalid {
                message: format!(
                    "InvalidParameterException: desiredCount {n} exceeds the limit of {MAX_DESIRED} tasks per service"
                ),
            });
        }
        let Some(svc) = self.services.get_mut(s) else {
            return Err(BackendError::NotFound {
                resource: format!("service {service} in cluster {cluster}"),
            });
        };
        // As ECS answers: the task definition of a CODE_DEPLOY service
        // changes through CodeDeploy only.
        if svc.controller == DeploymentController::CodeDeploy
            && (update.force_new_deployment || wanted.is_some())
        {
            return Err(BackendError::Invalid {
                message: "InvalidParameterException: Unable to update task definition on \
                          services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy \
                          to trigger a new deployment."
                    .to_string(),
            });
        }
        if let Some(n) = update.desired_count {
            svc.desired = n;
            svc.last_capacity_change = now;
        }
        let current = svc
            .deployments
            .first()
            .map(|d| d.task_definition.clone())
            .unwrap_or_default();
        let target = wanted.unwrap_or_else(|| current.clone());
        if target != current || update.force_new_deployment {
            self.new_deployment(s, target, now, rng);
        }
        self.service_to_domain(s)
            .ok_or_else(|| BackendError::NotFound {
                resource: format!("service {service} in cluster {cluster}"),
            })
    }

    pub fn register_task_definition(
        &mut self,
        change: &ImageChange,
        now: Timestamp,
    ) -> BackendResult<TaskDefinition> {
        let mut td = self
            .find_td(&change.base)
            .cloned()
            .ok_or_else(|| BackendError::NotFound {
                resource: format!("task definition {}", change.base),
            })?;
        for (name, image) in &change.images {
            if !td.containers.iter().any(|c| &c.name == name) {
                return Err(BackendError::Invalid {
                    message: format!(
                        "ClientException: no container named {name:?} in task definition {}:{}",
                        td.family, td.revision
                    ),
                });
            }
            if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
                return Err(BackendError::Invalid {
                    message: format!(
                        "ClientException: invalid image {image:?} for container {name:?}"
                    ),
                });
            }
        }
        let revision = self
            .task_defs
            .iter()
            .filter(|t| t.family == td.family)
            .map(|t| t.revision)
            .max()
            .unwrap_or(0)
            + 1;
        td.revision = revision;
        td.arn = self.td_arn(&td.family, revision);
        td.status = "ACTIVE".to_string();
        td.registered_at = Some(now);
        for c in &mut td.containers {
            if let Some((_, image)) = change.images.iter().find(|(n, _)| n == &c.name) {
                c.image = image.clone();
            }
        }
        self.task_defs.push(td.clone());
        Ok(td)
    }

    pub fn set_scaling_bounds(
        &mut self,
        cluster: &str,
        service: &str,
        min: u32,
        max: u32,
        now: Timestamp,
    ) -> BackendResult<ScalableTarget> {
        let s = self.find_service(cluster, service)?;
        if min > max {
            return Err(BackendError::Invalid {
                message: format!(
                    "ValidationException: Minimum capacity ({min}) cannot be greater than maximum capacity ({max})"
                ),
            });
        }
        if max > MAX_DESIRED {
            return Err(BackendError::Invalid {
                message: format!(
                    "ValidationException: Maximum capacity cannot exceed {MAX_DESIRED}"
                ),
            });
        }
        let Some(svc) = self.services.get_mut(s) else {
            return Err(BackendError::NotFound {
                resource: format!("service {service} in cluster {cluster}"),
            });
        };
        match svc.scaling.as_mut() {
            Some(sc) => {
                sc.min = min;
                sc.max = max;
            }
            None => {
                svc.scaling = Some(Scaling {
                    min,
                    max,
                    policy: None,
                    last_scale_out: None,
                });
            }
        }
        let clamped = svc.desired.clamp(min, max);
        if clamped != svc.desired {
            svc.desired = clamped;
            svc.last_capacity_change = now;
        }
        scalable_target(svc).ok_or_else(|| BackendError::NotFound {
            resource: format!("scalable target of {service}"),
        })
    }

    // ---------------------------------------------------- conversion

    fn service_to_domain(&self, s: usize) -> Option<Service> {
        let svc = self.services.get(s)?;
        let mine: Vec<&SimTask> = self.tasks.iter().filter(|t| t.service == s).collect();
        let count = |dep: Option<&str>, f: fn(Phase) -> bool| {
            mine.iter()
                .filter(|t| dep.is_none_or(|d| t.deployment == d) && f(t.phase))
                .count() as u32
        };
        let running = |p: Phase| p == Phase::Running;
        let deployments = svc
            .deployments
            .iter()
            .enumerate()
            .map(|(i, d)| Deployment {
                id: d.id.clone(),
                status: if i == 0 { "PRIMARY" } else { "ACTIVE" }.to_string(),
                task_definition: d.task_definition.clone(),
                desired_count: if i == 0 {
                    svc.desired
                } else {
                    count(Some(&d.id), Phase::live)
                },
                running_count: count(Some(&d.id), running),
                pending_count: count(Some(&d.id), Phase::pending),
                failed_tasks: d.failed_tasks,
                rollout_state: d.rollout,
                rollout_state_reason: d.reason.clone(),
                created_at: d.created_at,
                updated_at: d.updated_at,
            })
            .collect();
        // ECS reports deployments of the ECS controller only (a
        // CODE_DEPLOY service's are CodeDeploy's).
        let deployments: Vec<Deployment> = if svc.controller == DeploymentController::CodeDeploy {
            Vec::new()
        } else {
            deployments
        };
        Some(Service {
            arn: svc.arn.clone(),
            name: svc.name.clone(),
            cluster_arn: self.cluster_arn(&svc.cluster),
            status: "ACTIVE".to_string(),
            desired_count: svc.desired,
            running_count: count(None, running),
            pending_count: count(None, Phase::pending),
            launch_type: Some("FARGATE".to_string()),
            task_definition: svc
                .deployments
                .first()
                .map(|d| d.task_definition.clone())
                .unwrap_or_default(),
            deployments,
            events: svc.events.iter().cloned().collect(),
            load_balancers: svc.lb.iter().cloned().collect(),
            created_at: Some(svc.created_at),
            circuit_breaker: Some(svc.circuit_breaker),
            deployment_controller: svc.controller,
            strategy: (svc.controller == DeploymentController::Ecs).then(|| "ROLLING".to_string()),
            service_deployment: None,
        })
    }

    fn task_to_domain(&self, t: &SimTask) -> Task {
        let cluster = self
            .services
            .get(t.service)
            .map(|s| s.cluster.clone())
            .unwrap_or_default();
        let service = self
            .services
            .get(t.service)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let stopped = t.phase == Phase::Stopped;
        let containers = t
            .containers
            .iter()
            .map(|(name, image, hc)| {
                let failed = t
                    .stop
                    .as_ref()
                    .and_then(|s| s.container.as_ref())
                    .filter(|c| &c.0 == name);
                let (last_status, exit_code, reason) = if let Some((_, exit, reason)) = failed {
                    ("STOPPED", *exit, reason.clone())
                } else if stopped {
                    ("STOPPED", t.stop.as_ref().and_then(|s| s.others_exit), None)
                } else if t.phase.pending() {
                    ("PENDING", None, None)
                } else {
                    ("RUNNING", None, None)
                };
                // An image that never pulled has no digest.
                let pulled = t.started_at.is_some() || t.phase == Phase::Activating;
                Container {
                    name: name.clone(),
                    image: image.clone(),
                    image_digest: pulled.then(|| digest_of(image)),
                    last_status: last_status.to_string(),
                    health_status: Some(if *hc { t.health } else { "UNKNOWN" }.to_string()),
                    exit_code,
                    reason,
                    // Simulated tasks have no container runtime and no
                    // ECS Exec agent: nothing to open a shell in.
                    runtime_id: None,
                    exec_agent: None,
                }
            })
            .collect();
        Task {
            arn: format!(
                "arn:aws:ecs:{}:{}:task/{cluster}/{}",
                self.region, self.account, t.id
            ),
            cluster_arn: self.cluster_arn(&cluster),
            task_definition: t.task_definition.clone(),
            group: Some(format!("service:{service}")),
            last_status: t.phase.as_str().to_string(),
            desired_status: if t.phase.live() { "RUNNING" } else { "STOPPED" }.to_string(),
            health_status: if t.health_checked() {
                t.health
            } else {
                "UNKNOWN"
            }
            .to_string(),
            availability_zone: Some(t.az.clone()),
            launch_type: Some("FARGATE".to_string()),
            cpu: t.cpu.clone(),
            memory: t.memory.clone(),
            created_at: Some(t.created_at),
            started_at: t.started_at,
            stopped_at: t.stopped_at,
            stop_code: t.stop.as_ref().map(|s| s.code.to_string()),
            stopped_reason: t.stop.as_ref().map(|s| s.reason.clone()),
            stopping_at: t.stopping_at,
            platform_version: Some("1.4.0".to_string()),
            private_ip: Some(private_ip_of(&t.id)),
            eni: Some(eni_of(&t.id)),
            enable_execute_command: false,
            containers,
        }
    }
}

fn scalable_target(s: &SimService) -> Option<ScalableTarget> {
    let sc = s.scaling.as_ref()?;
    Some(ScalableTarget {
        resource_id: format!("service/{}/{}", s.cluster, s.name),
        min_capacity: sc.min,
        max_capacity: sc.max,
        policies: sc
            .policy
            .iter()
            .map(|(name, target)| ScalingPolicy {
                name: name.clone(),
                metric: "ECSServiceAverageCPUUtilization".to_string(),
                target_value: *target,
            })
            .collect(),
    })
}

/// How a running task stops on its own, and its health afterwards.
fn stop_info(kind: &str, main: &str, target_group: &str) -> (StopInfo, &'static str) {
    match kind {
        "oom" => (
            StopInfo {
                code: "EssentialContainerExited",
                reason: "Essential container in task exited".to_string(),
                container: Some((
                    main.to_string(),
                    Some(137),
                    Some("OutOfMemoryError: Container killed due to memory usage".to_string()),
                )),
                others_exit: Some(0),
            },
            "UNKNOWN",
        ),
        "elb-health" => (
            StopInfo {
                code: "ServiceSchedulerInitiated",
                reason: format!("Task failed ELB health checks in (target-group {target_group})"),
                container: None,
                others_exit: Some(143),
            },
            "UNHEALTHY",
        ),
        "failed-to-start" => (
            StopInfo {
                code: "TaskFailedToStart",
                reason:
                    "ResourceInitializationError: failed to configure ENI: failed to setup regular \
                         eni: netplugin failed with no error message"
                        .to_string(),
                container: None,
                others_exit: None,
            },
            "UNKNOWN",
        ),
        _ => (
            StopInfo {
                code: "EssentialContainerExited",
                reason: "Essential container in task exited".to_string(),
                container: Some((main.to_string(), Some(1), None)),
                others_exit: Some(0),
            },
            "UNKNOWN",
        ),
    }
}

fn unhealthy_event(service: &str, lb: Option<&LoadBalancerRef>, target_group: &str) -> String {
    let port = lb.and_then(|l| l.container_port).unwrap_or(80);
    format!(
        "(service {service}) (port {port}) is unhealthy in (target-group {target_group}) due to (reason Health checks failed with these codes: [502])."
    )
}

/// `(task a) (task b)`.
fn task_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("(task {id})"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `(repository, tag)` of an image reference (`latest` when untagged).
pub(crate) fn split_image(image: &str) -> (&str, &str) {
    let image = image.split('@').next().unwrap_or(image);
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image.rfind(':') {
        Some(i) if i > name_start => (&image[..i], &image[i + 1..]),
        _ => (image, "latest"),
    }
}

fn secs(rng: &mut Rng, lo: i64, hi: i64) -> TimeDelta {
    TimeDelta::seconds(rng.i64(lo..=hi))
}

/// FNV-1a: a stable number from a string (addresses and digests of the
/// simulated world must not depend on the RNG's draw order).
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The private address of a simulated task (in `10.0.0.0/16`).
fn private_ip_of(task_id: &str) -> String {
    let h = fnv(task_id);
    format!("10.0.{}.{}", (h >> 8) % 256, h % 254 + 1)
}

/// The network interface of a simulated task: `eni-` and 17 hex digits.
fn eni_of(task_id: &str) -> String {
    format!("eni-{:017x}", fnv(task_id))
}

/// The digest a simulated image resolves to.
fn digest_of(image: &str) -> String {
    let a = fnv(image);
    let b = fnv(&format!("{image}#"));
    format!(
        "sha256:{a:016x}{b:016x}{:016x}{:016x}",
        a.rotate_left(17),
        b.rotate_left(29)
    )
}

/// A task id: 32 hex digits.
pub(crate) fn hex32(rng: &mut Rng) -> String {
    format!("{:032x}", rng.u128(..))
}

fn uuid(rng: &mut Rng) -> String {
    let h = hex32(rng);
    format!(
        "{}-{}-4{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `ecs-svc/` and 19 digits.
fn deployment_id(rng: &mut Rng) -> String {
    format!(
        "ecs-svc/{}",
        rng.u64(1_000_000_000_000_000_000..=9_999_999_999_999_999_999)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_into_repository_and_tag() {
        assert_eq!(
            split_image("1.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:2026.11.21"),
            (
                "1.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web",
                "2026.11.21"
            )
        );
        assert_eq!(
            split_image("localhost:5000/web"),
            ("localhost:5000/web", "latest")
        );
        assert_eq!(split_image("nginx@sha256:abc"), ("nginx", "latest"));
    }

    #[test]
    fn ids_look_like_aws_ones() {
        let mut rng = Rng::with_seed(1);
        let id = hex32(&mut rng);
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        let d = deployment_id(&mut rng);
        assert_eq!(d.len(), "ecs-svc/".len() + 19);
        assert_eq!(uuid(&mut rng).len(), 36);
    }
}
