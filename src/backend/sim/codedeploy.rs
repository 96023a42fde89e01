//! CodeDeploy: the blue/green deployments of the world's CODE_DEPLOY
//! services (`[[world.codedeploy]]`), each walking through ECS's lifecycle
//! events — BeforeInstall, Install (the replacement task set starting),
//! AfterInstall, AllowTestTraffic, AfterAllowTestTraffic, then a wait for
//! a continue when the group asks for one (status `Ready`), BeforeAllowTraffic,
//! AllowTraffic (production traffic shifted by the deployment
//! configuration: all at once, linear or canary), AfterAllowTraffic — then
//! the original task set kept for the termination wait and `Succeeded`.
//! A stop with rollback (or a wait that times out, on a group with
//! automatic rollback) starts a rollback deployment that moves the traffic
//! back to the original task set and removes the replacement.
//!
//! When the replacement takes all production traffic the ECS service is
//! moved to its task definition (its tasks replaced, as ECS's own
//! scheduler would show it); a rollback after that moves it back. The
//! area has its own RNG (deployment and task set ids), so the rest of the
//! world is unchanged by it.

use async_trait::async_trait;
use chrono::TimeDelta;
use fastrand::Rng;
use serde::Deserialize;

use super::SimBackend;
use super::ecs::Ecs;
use super::world::Span;
use crate::backend::{
    BackendError, BackendResult, CdCreate, CodeDeploy as CodeDeployReads, CodeDeployChanges,
    LAST_DEPLOYMENT_HOURS,
};
use crate::domain::{
    BgTaskSet, BlueGreen, CdDeployment, CdRollback, ECS_LIFECYCLE, EcsTarget, LifecycleEvent,
    Timestamp, appspec_task_definition,
};

#[async_trait]
impl CodeDeployReads for SimBackend {
    async fn blue_greens(&self, clusters: &[String]) -> BackendResult<Vec<BlueGreen>> {
        self.gate()?;
        Ok(self.with(|w| w.codedeploy.blue_greens(clusters, &w.ecs, w.now)))
    }

    async fn deployment(
        &self,
        id: &str,
        _target: Option<(&str, &str)>,
    ) -> BackendResult<CdDeployment> {
        self.gate()?;
        self.with(|w| w.codedeploy.deployment(id, &w.ecs))
    }

    async fn find_deployment(
        &self,
        application: &str,
        group: &str,
        description: &str,
        _since: crate::domain::Timestamp,
    ) -> BackendResult<Option<CdDeployment>> {
        // The simulated world keeps every deployment of the session.
        self.gate()?;
        self.with(|w| {
            let g = w.codedeploy.group(application, group)?;
            Ok(g.deployments
                .iter()
                .find(|d| d.description.as_deref() == Some(description))
                .map(|d| d.to_domain(g, &w.ecs)))
        })
    }
}

#[async_trait]
impl CodeDeployChanges for SimBackend {
    async fn stop_deployment(&self, id: &str, auto_rollback: bool) -> BackendResult<String> {
        self.gate()?;
        self.with(|w| w.codedeploy.stop(id, auto_rollback, w.now))
    }

    async fn continue_deployment(&self, id: &str) -> BackendResult<()> {
        self.gate()?;
        self.with(|w| w.codedeploy.continue_(id, w.now))
    }

    async fn create_deployment(&self, create: &CdCreate) -> BackendResult<String> {
        self.gate()?;
        self.with(|w| w.codedeploy.create(create, &w.ecs, w.now))
    }
}

/// A deployment group of a CODE_DEPLOY service (`[[world.codedeploy]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupDesc {
    /// The service it deploys (a `[[world.service]]` with
    /// `deployment_controller = "CODE_DEPLOY"`).
    pub service: String,
    pub application: String,
    pub deployment_group: String,
    /// `CodeDeployDefault.ECSAllAtOnce`, `…ECSLinear10PercentEvery1Minutes`,
    /// `…ECSCanary10Percent5Minutes` (and the other linear / canary ones).
    #[serde(default = "all_at_once")]
    pub deployment_config: String,
    /// How long a replacement waits for a continue before it is stopped
    /// (none: traffic is rerouted at once).
    #[serde(default)]
    pub ready_wait: Option<Span>,
    /// How long the original task set is kept after traffic moved.
    pub termination_wait: Span,
    #[serde(default)]
    pub auto_rollback: bool,
    /// The second target group (the replacement's), `targetgroup/NAME/ID`.
    pub green_target_group: String,
    /// A deployment under way when the simulation starts.
    #[serde(default)]
    pub in_progress: Option<InProgressDesc>,
}

fn all_at_once() -> String {
    "CodeDeployDefault.ECSAllAtOnce".to_string()
}

/// A deployment started before the simulation: the image tag it deploys
/// (a new revision of the service's family) and how long ago.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InProgressDesc {
    pub tag: String,
    pub started_ago: Span,
}

/// Seconds a hook (BeforeInstall, AfterInstall, …) takes.
const HOOK_SECS: i64 = 3;
/// Seconds between two replacement tasks running.
const TASK_START_SECS: i64 = 20;

/// How production traffic moves (the deployment configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shift {
    AllAtOnce,
    /// `percent` more every `every` seconds.
    Linear {
        percent: f64,
        every: i64,
    },
    /// `percent`, then the rest after `after` seconds.
    Canary {
        percent: f64,
        after: i64,
    },
}

impl Shift {
    fn parse(config: &str) -> Self {
        let name = config.rsplit('.').next().unwrap_or(config);
        let number = |s: &str| -> Option<(f64, i64)> {
            let (pct, rest) = s.split_once("Percent")?;
            let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
            let minutes: i64 = digits.parse().ok()?;
            Some((pct.parse().ok()?, minutes * 60))
        };
        if let Some(rest) = name.strip_prefix("ECSLinear")
            && let Some((percent, every)) = number(rest)
        {
            return Self::Linear { percent, every };
        }
        if let Some(rest) = name.strip_prefix("ECSCanary")
            && let Some((percent, after)) = number(rest)
        {
            return Self::Canary { percent, after };
        }
        Self::AllAtOnce
    }

    /// The replacement's share `secs` into AllowTraffic, and whether the
    /// shift is done.
    fn at(self, secs: i64) -> (f64, bool) {
        match self {
            Self::AllAtOnce => (100.0, true),
            Self::Linear { percent, every } => {
                let steps = 1 + secs / every.max(1);
                let w = (percent * steps as f64).min(100.0);
                (w, w >= 100.0)
            }
            Self::Canary { percent, after } => {
                if secs >= after {
                    (100.0, true)
                } else {
                    (percent, false)
                }
            }
        }
    }
}

/// Where a deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Created,
    /// Running lifecycle event `ECS_LIFECYCLE[i]`.
    Event(usize),
    /// Waiting for a continue (after AfterAllowTestTraffic).
    Ready,
    /// The original task set kept after the shift.
    TerminationWait,
    Succeeded,
    Stopped,
}

#[derive(Debug, Clone)]
struct SimCdDeployment {
    id: String,
    creator: &'static str,
    description: Option<String>,
    created_at: Timestamp,
    completed_at: Option<Timestamp>,
    /// The replacement's task definition (green) and the original's.
    green_td: String,
    blue_td: String,
    blue_id: String,
    green_id: String,
    stage: Stage,
    stage_since: Timestamp,
    /// When each lifecycle event started and ended.
    events: [(Option<Timestamp>, Option<Timestamp>, &'static str); 8],
    /// The replacement's share of production traffic.
    traffic: f64,
    green_running: u32,
    /// The traffic moved back by a rollback: the original's tasks only.
    rollback: Option<CdRollback>,
    error: Option<String>,
    messages: Vec<String>,
    /// For a rollback deployment: the share of traffic it started from.
    rollback_from: Option<f64>,
}

#[derive(Debug, Clone)]
pub(crate) struct SimGroup {
    desc: GroupDesc,
    cluster: String,
    /// Index of the service in `Ecs::services`.
    service: usize,
    shift: Shift,
    /// The service's desired count when the world started (what a step
    /// before the start counts with).
    desired_at_start: u32,
    /// Oldest first.
    deployments: Vec<SimCdDeployment>,
}

/// The CodeDeploy part of a world.
#[derive(Debug, Clone)]
pub(crate) struct CodeDeploy {
    groups: Vec<SimGroup>,
    rng: Rng,
}

fn deployment_id(rng: &mut Rng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let s: String = (0..9)
        .map(|_| char::from(CHARS[rng.usize(..CHARS.len())]))
        .collect();
    format!("d-{s}")
}

fn task_set_id(rng: &mut Rng) -> String {
    format!(
        "ecs-svc/{}",
        rng.u64(1_000_000_000_000_000_000..10_000_000_000_000_000_000)
    )
}

fn invalid(message: String) -> BackendError {
    BackendError::Invalid { message }
}

impl CodeDeploy {
    /// The groups of a world; a deployment described as under way starts
    /// `started_ago` before `start` with a new revision of the service's
    /// family registered for it.
    pub fn new(groups: &[GroupDesc], ecs: &mut Ecs, seed: u64, start: Timestamp) -> Self {
        let mut rng = Rng::with_seed(seed ^ 0xC0DE_DE91);
        let mut out = Vec::new();
        for g in groups {
            let Some(s) = ecs.services.iter().position(|x| x.name == g.service) else {
                continue;
            };
            let cluster = ecs.services[s].cluster.clone();
            let mut group = SimGroup {
                desc: g.clone(),
                cluster,
                service: s,
                shift: Shift::parse(&g.deployment_config),
                desired_at_start: ecs.services[s].desired.max(1),
                deployments: Vec::new(),
            };
            if let Some(p) = &g.in_progress {
                let blue_td = ecs.service_task_definition(s);
                let container = ecs.main_container(s);
                let image = ecs
                    .task_definition(&blue_td)
                    .ok()
                    .and_then(|td| td.containers.into_iter().find(|c| c.name == container))
                    .map(|c| c.image)
                    .unwrap_or_default();
                let repo = image.rsplit_once(':').map_or(image.as_str(), |(r, _)| r);
                let since = start - p.started_ago.delta();
                let change = crate::backend::ImageChange {
                    base: blue_td.clone(),
                    images: vec![(container, format!("{repo}:{}", p.tag))],
                };
                if let Ok(td) = ecs.register_task_definition(&change, since) {
                    let d = SimGroup::start(td.arn, blue_td, "user", None, since, &mut rng);
                    group.deployments.push(d);
                }
            }
            out.push(group);
        }
        let mut cd = Self { groups: out, rng };
        // The deployment under way, brought to the start.
        let mut t = groups
            .iter()
            .filter_map(|g| g.in_progress.as_ref())
            .map(|p| start - p.started_ago.delta())
            .min()
            .unwrap_or(start);
        while t < start {
            cd.step_quiet(t);
            t += TimeDelta::seconds(1);
        }
        cd
    }

    pub(crate) fn group(&self, application: &str, group: &str) -> BackendResult<&SimGroup> {
        self.groups
            .iter()
            .find(|g| g.desc.application == application && g.desc.deployment_group == group)
            .ok_or_else(|| {
                invalid(format!(
                    "DeploymentGroupDoesNotExistException: No Deployment Group found for name: {group}"
                ))
            })
    }

    fn find(&mut self, id: &str) -> BackendResult<(usize, usize)> {
        for (gi, g) in self.groups.iter().enumerate() {
            if let Some(di) = g.deployments.iter().position(|d| d.id == id) {
                return Ok((gi, di));
            }
        }
        Err(invalid(format!(
            "DeploymentDoesNotExistException: The deployment {id} could not be found."
        )))
    }

    /// The groups of the services of `clusters` (all when empty).
    pub fn blue_greens(&self, clusters: &[String], ecs: &Ecs, now: Timestamp) -> Vec<BlueGreen> {
        let since = now - TimeDelta::hours(LAST_DEPLOYMENT_HOURS);
        self.groups
            .iter()
            .filter(|g| clusters.is_empty() || clusters.contains(&g.cluster))
            .map(|g| {
                let active = g.deployments.iter().rev().find(|d| d.is_active());
                let last =
                    active.or_else(|| g.deployments.iter().rev().find(|d| d.created_at >= since));
                BlueGreen {
                    id: BlueGreen::id_of(&g.cluster, &g.desc.service),
                    cluster: g.cluster.clone(),
                    service: g.desc.service.clone(),
                    application: g.desc.application.clone(),
                    deployment_group: g.desc.deployment_group.clone(),
                    deployment_config: g.desc.deployment_config.clone(),
                    ready_wait_minutes: g.desc.ready_wait.map(|s| (s.0 / 60) as u32),
                    termination_wait_minutes: Some((g.desc.termination_wait.0 / 60) as u32),
                    auto_rollback: g.desc.auto_rollback,
                    deployment: last.map(|d| d.to_domain(g, ecs)),
                }
            })
            .collect()
    }

    pub fn deployment(&mut self, id: &str, ecs: &Ecs) -> BackendResult<CdDeployment> {
        let (gi, di) = self.find(id)?;
        let g = &self.groups[gi];
        Ok(g.deployments[di].to_domain(g, ecs))
    }

    pub fn stop(&mut self, id: &str, auto_rollback: bool, now: Timestamp) -> BackendResult<String> {
        let (gi, di) = self.find(id)?;
        let rng = &mut self.rng;
        let g = &mut self.groups[gi];
        if !g.deployments[di].is_active() {
            return Err(invalid(format!(
                "InvalidDeploymentStatusException: The deployment {id} is already in a completed state."
            )));
        }
        g.end(di, Stage::Stopped, now);
        g.deployments[di].messages.push(format!(
            "The deployment was stopped by the user{}.",
            if auto_rollback {
                ", with an automatic rollback"
            } else {
                ""
            }
        ));
        if auto_rollback {
            g.roll_back(di, "the deployment was stopped by the user", now, rng);
        }
        Ok("Succeeded: Deployment was stopped".to_string())
    }

    pub fn continue_(&mut self, id: &str, now: Timestamp) -> BackendResult<()> {
        let (gi, di) = self.find(id)?;
        let d = &mut self.groups[gi].deployments[di];
        if d.stage != Stage::Ready {
            return Err(invalid(format!(
                "DeploymentIsNotInReadyStateException: The deployment {id} is not waiting for a \
                 continue (status {}).",
                d.status()
            )));
        }
        d.stage = Stage::Event(5);
        d.stage_since = now;
        d.events[5].0 = Some(now);
        d.events[5].2 = "InProgress";
        d.messages
            .push("Traffic rerouting was started by the user.".to_string());
        Ok(())
    }

    pub fn create(
        &mut self,
        create: &CdCreate,
        ecs: &Ecs,
        now: Timestamp,
    ) -> BackendResult<String> {
        let rng = &mut self.rng;
        let g = self
            .groups
            .iter_mut()
            .find(|g| {
                g.desc.application == create.application
                    && g.desc.deployment_group == create.deployment_group
            })
            .ok_or_else(|| {
                invalid(format!(
                    "DeploymentGroupDoesNotExistException: No Deployment Group found for name: {}",
                    create.deployment_group
                ))
            })?;
        if let Some(d) = g.deployments.iter().find(|d| d.is_active()) {
            return Err(invalid(format!(
                "DeploymentLimitExceededException: The Deployment Group '{}' already has an active \
                 Deployment '{}'",
                g.desc.deployment_group, d.id
            )));
        }
        let td = appspec_task_definition(&create.appspec).ok_or_else(|| {
            invalid("InvalidRevisionException: the AppSpec names no TaskDefinition".to_string())
        })?;
        if ecs.task_definition(&td).is_err() {
            return Err(invalid(format!(
                "InvalidRevisionException: task definition {td} does not exist"
            )));
        }
        let blue = ecs.service_task_definition(g.service);
        let d = SimGroup::start(td, blue, "user", Some(create.description.clone()), now, rng);
        let id = d.id.clone();
        g.deployments.push(d);
        Ok(id)
    }

    /// One second of every deployment under way, before the simulation's
    /// start (nothing of ECS moves).
    fn step_quiet(&mut self, now: Timestamp) {
        for g in &mut self.groups {
            g.step(now, None, &mut self.rng);
        }
    }

    /// One second of every deployment under way.
    pub fn step(&mut self, now: Timestamp, ecs: &mut Ecs, world_rng: &mut Rng) {
        for g in &mut self.groups {
            g.step(now, Some((&mut *ecs, &mut *world_rng)), &mut self.rng);
        }
    }
}

impl SimGroup {
    fn start(
        green_td: String,
        blue_td: String,
        creator: &'static str,
        description: Option<String>,
        now: Timestamp,
        rng: &mut Rng,
    ) -> SimCdDeployment {
        SimCdDeployment {
            id: deployment_id(rng),
            creator,
            description,
            created_at: now,
            completed_at: None,
            green_td,
            blue_td,
            blue_id: task_set_id(rng),
            green_id: task_set_id(rng),
            stage: Stage::Created,
            stage_since: now,
            events: [(None, None, "Pending"); 8],
            traffic: 0.0,
            green_running: 0,
            rollback: None,
            error: None,
            messages: Vec::new(),
            rollback_from: None,
        }
    }

    fn end(&mut self, di: usize, stage: Stage, now: Timestamp) {
        let d = &mut self.deployments[di];
        if let Stage::Event(i) = d.stage
            && let Some(e) = d.events.get_mut(i)
        {
            e.1 = Some(now);
            e.2 = if stage == Stage::Succeeded {
                "Succeeded"
            } else {
                "Failed"
            };
        }
        for e in &mut d.events {
            if e.2 == "Pending" && stage != Stage::Succeeded {
                e.2 = "Skipped";
            }
        }
        d.stage = stage;
        d.stage_since = now;
        d.completed_at = Some(now);
    }

    /// A rollback deployment of `di`: traffic back to the original task
    /// set, the replacement removed.
    fn roll_back(&mut self, di: usize, why: &str, now: Timestamp, rng: &mut Rng) {
        let (blue, green, traffic, id) = {
            let d = &self.deployments[di];
            (
                d.blue_td.clone(),
                d.green_td.clone(),
                d.traffic,
                d.id.clone(),
            )
        };
        // The rollback deploys the original again over the replacement.
        let mut r = SimGroup::start(blue, green, "codeDeployRollback", None, now, rng);
        r.rollback = Some(CdRollback {
            deployment_id: None,
            triggering_deployment_id: Some(id.clone()),
            message: Some(format!("Rollback of deployment {id}: {why}")),
        });
        r.rollback_from = Some(traffic);
        r.traffic = 100.0 - traffic;
        r.stage = Stage::Event(6);
        r.events[6] = (Some(now), None, "InProgress");
        for e in r.events.iter_mut().take(6) {
            e.2 = "Skipped";
        }
        let rid = r.id.clone();
        if let Some(d) = self.deployments.get_mut(di) {
            d.rollback = Some(CdRollback {
                deployment_id: Some(rid.clone()),
                triggering_deployment_id: None,
                message: Some(format!(
                    "Deployment {rid} rolls back this deployment: {why}"
                )),
            });
        }
        self.deployments.push(r);
    }

    fn step(&mut self, now: Timestamp, mut ecs: Option<(&mut Ecs, &mut Rng)>, rng: &mut Rng) {
        let desired = ecs
            .as_ref()
            .and_then(|(e, _)| e.services.get(self.service))
            .map_or(self.desired_at_start, |s| s.desired.max(1));
        let ready_wait = self.desc.ready_wait.map(|s| s.0);
        let termination_wait = self.desc.termination_wait.0;
        let shift = self.shift;
        let auto_rollback = self.desc.auto_rollback;
        let Some(di) = self.deployments.iter().position(SimCdDeployment::is_active) else {
            return;
        };
        let mut timed_out = false;
        {
            let d = &mut self.deployments[di];
            let since = (now - d.stage_since).num_seconds();
            let is_rollback = d.rollback_from.is_some();
            match d.stage {
                Stage::Created => {
                    if since >= 2 {
                        d.stage = Stage::Event(0);
                        d.stage_since = now;
                        d.events[0] = (Some(now), None, "InProgress");
                    }
                }
                Stage::Event(i) => {
                    let done = match ECS_LIFECYCLE[i] {
                        "Install" => {
                            d.green_running = ((since / TASK_START_SECS) as u32).min(desired);
                            d.green_running >= desired && since >= TASK_START_SECS
                        }
                        "AllowTraffic" if is_rollback => {
                            // Back to the original at once.
                            d.traffic = 100.0;
                            since >= HOOK_SECS
                        }
                        "AllowTraffic" => {
                            let (w, done) = shift.at(since);
                            d.traffic = w;
                            done && since >= HOOK_SECS
                        }
                        _ => since >= HOOK_SECS,
                    };
                    if done {
                        d.events[i].1 = Some(now);
                        d.events[i].2 = "Succeeded";
                        d.stage_since = now;
                        if ECS_LIFECYCLE[i] == "AllowTraffic" {
                            // The service's tasks follow the task set
                            // that has the traffic now.
                            if let Some((e, wrng)) = ecs.as_mut() {
                                let s = self.service;
                                if e.service_task_definition(s) != d.green_td {
                                    e.new_deployment(s, d.green_td.clone(), now, wrng);
                                }
                            }
                        }
                        if ECS_LIFECYCLE[i] == "AfterAllowTestTraffic" && ready_wait.is_some() {
                            d.stage = Stage::Ready;
                            d.messages.push(
                                "The replacement task set is ready: waiting for traffic to be \
                                 rerouted (ContinueDeployment)."
                                    .to_string(),
                            );
                        } else if i + 1 < ECS_LIFECYCLE.len() {
                            d.stage = Stage::Event(i + 1);
                            d.events[i + 1].0 = Some(now);
                            d.events[i + 1].2 = "InProgress";
                        } else if is_rollback {
                            d.stage = Stage::Succeeded;
                            d.completed_at = Some(now);
                            d.green_running = 0;
                        } else {
                            d.stage = Stage::TerminationWait;
                        }
                    }
                }
                Stage::Ready => {
                    if ready_wait.is_some_and(|w| since >= w) {
                        timed_out = true;
                    }
                }
                Stage::TerminationWait => {
                    if since >= termination_wait {
                        d.stage = Stage::Succeeded;
                        d.completed_at = Some(now);
                    }
                }
                Stage::Succeeded | Stage::Stopped => {}
            }
        }
        if timed_out {
            self.end(di, Stage::Stopped, now);
            let d = &mut self.deployments[di];
            d.error = Some(
                "TIMEOUT: The deployment timed out while waiting for the replacement task set \
                 to be rerouted"
                    .to_string(),
            );
            if auto_rollback {
                self.roll_back(di, "the wait for a continue timed out", now, rng);
            }
        }
    }
}

impl SimCdDeployment {
    fn is_active(&self) -> bool {
        !matches!(self.stage, Stage::Succeeded | Stage::Stopped)
    }

    fn status(&self) -> &'static str {
        match self.stage {
            Stage::Created => "Created",
            Stage::Event(_) | Stage::TerminationWait => "InProgress",
            Stage::Ready => "Ready",
            Stage::Succeeded => "Succeeded",
            Stage::Stopped => "Stopped",
        }
    }

    fn to_domain(&self, g: &SimGroup, ecs: &Ecs) -> CdDeployment {
        let svc = ecs.services.get(g.service);
        let desired = svc.map_or(1, |s| s.desired);
        let blue_tg = ecs
            .service_target_group(g.service)
            .map(|arn| target_group_name(&arn));
        let green_tg = Some(target_group_name(&g.desc.green_target_group));
        // A rollback moves the traffic from the replacement's target group
        // back to the original's.
        let (blue_tg, green_tg) = if self.rollback_from.is_some() {
            (green_tg, blue_tg)
        } else {
            (blue_tg, green_tg)
        };
        let done = !self.is_active();
        // A rollback removes the replacement of the deployment it rolls
        // back; a stop without one leaves it where it was.
        let removed_green = self
            .rollback
            .as_ref()
            .is_some_and(|r| r.deployment_id.is_some());
        let mut task_sets = vec![BgTaskSet {
            id: self.blue_id.clone(),
            label: Some("Blue".to_string()),
            status: if self.traffic >= 100.0 {
                "ACTIVE"
            } else {
                "PRIMARY"
            }
            .to_string(),
            desired,
            running: if done && self.stage == Stage::Succeeded {
                0
            } else {
                desired
            },
            pending: 0,
            traffic_weight: 100.0 - self.traffic,
            target_group: blue_tg,
            task_definition: Some(self.blue_td.clone()),
        }];
        let started = !matches!(self.stage, Stage::Created | Stage::Event(0));
        // A rollback's replacement is the original task set, running.
        let green_running = if self.rollback_from.is_some() {
            desired
        } else {
            self.green_running.min(desired)
        };
        if started && !removed_green {
            task_sets.push(BgTaskSet {
                id: self.green_id.clone(),
                label: Some("Green".to_string()),
                status: if self.traffic >= 100.0 {
                    "PRIMARY"
                } else {
                    "ACTIVE"
                }
                .to_string(),
                desired,
                running: green_running,
                pending: desired.saturating_sub(green_running),
                traffic_weight: self.traffic,
                target_group: green_tg,
                task_definition: Some(self.green_td.clone()),
            });
        }
        CdDeployment {
            id: self.id.clone(),
            status: self.status().to_string(),
            creator: Some(self.creator.to_string()),
            description: self.description.clone(),
            created_at: Some(self.created_at),
            completed_at: self.completed_at,
            error: self.error.clone(),
            rollback: self.rollback.clone(),
            status_messages: self.messages.clone(),
            task_definition: Some(self.green_td.clone()),
            target: Some(EcsTarget {
                status: match self.stage {
                    Stage::Created => "Pending",
                    Stage::Ready => "Ready",
                    Stage::Succeeded => "Succeeded",
                    Stage::Stopped => "Failed",
                    Stage::Event(_) | Stage::TerminationWait => "InProgress",
                }
                .to_string(),
                task_sets,
                lifecycle_events: ECS_LIFECYCLE
                    .iter()
                    .zip(self.events.iter())
                    .map(|(name, (start, end, status))| LifecycleEvent {
                        name: (*name).to_string(),
                        status: (*status).to_string(),
                        started_at: *start,
                        ended_at: *end,
                        diagnostics: None,
                    })
                    .collect(),
            }),
        }
    }
}

/// `targetgroup/NAME/ID` (or its ARN) → NAME.
fn target_group_name(s: &str) -> String {
    let s = s.split_once("targetgroup/").map_or(s, |(_, r)| r);
    s.split('/').next().unwrap_or(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_follow_the_configuration() {
        assert_eq!(
            Shift::parse("CodeDeployDefault.ECSCanary10Percent5Minutes"),
            Shift::Canary {
                percent: 10.0,
                after: 300
            }
        );
        assert_eq!(
            Shift::parse("CodeDeployDefault.ECSLinear10PercentEvery1Minutes"),
            Shift::Linear {
                percent: 10.0,
                every: 60
            }
        );
        assert_eq!(
            Shift::parse("CodeDeployDefault.ECSAllAtOnce"),
            Shift::AllAtOnce
        );
        let linear = Shift::Linear {
            percent: 10.0,
            every: 60,
        };
        assert_eq!(linear.at(0), (10.0, false));
        assert_eq!(linear.at(125), (30.0, false));
        assert_eq!(linear.at(600), (100.0, true));
    }
}

#[cfg(test)]
mod world_tests {
    use std::time::Duration;

    use crate::backend::prelude::*;
    use crate::backend::sim::SimBackend;
    use crate::backend::{BackendError, CdCreate, ServiceUpdate};
    use crate::clock::Clock;
    use crate::domain::{BlueGreen, DeploymentController, Timestamp, appspec};

    const STG: &str = "works-logue-stg";

    fn staging() -> (SimBackend, Clock) {
        let start: Timestamp = "2026-11-23T03:00:00Z".parse().expect("a time");
        let clock = Clock::manual(start);
        let b = SimBackend::new("staging", 7, clock.clone()).expect("staging");
        b.set_chaos(false);
        (b, clock)
    }

    async fn backend(b: &SimBackend) -> BlueGreen {
        b.blue_greens(&[STG.to_string()])
            .await
            .expect("blue/green")
            .into_iter()
            .find(|g| g.service == "backend")
            .expect("backend's group")
    }

    /// Staging starts with backend's release waiting for a continue: the
    /// replacement runs with no production traffic; the service is
    /// CODE_DEPLOY and shows no ECS deployments.
    #[tokio::test]
    async fn staging_starts_with_a_release_waiting_for_a_continue() {
        let (b, _clock) = staging();
        let svc = b
            .services(STG)
            .await
            .expect("services")
            .items
            .into_iter()
            .find(|s| s.name == "backend")
            .expect("backend");
        assert_eq!(svc.deployment_controller, DeploymentController::CodeDeploy);
        assert!(svc.deployments.is_empty());
        let g = backend(&b).await;
        assert_eq!(g.application, "AppECS-works-logue-stg-backend");
        assert_eq!(g.ready_wait_minutes, Some(60));
        let d = g.deployment.expect("a deployment");
        assert_eq!(d.status, "Ready", "{d:?}");
        assert!(d.waits());
        assert_eq!(d.traffic_shifted(), Some(0.0));
        let t = d.target.expect("its target");
        let green = t.replacement().expect("the replacement");
        assert_eq!((green.running, green.desired), (2, 2));
        assert!(
            green
                .task_definition
                .as_deref()
                .is_some_and(|td| td.ends_with(":29"))
        );
        let events: Vec<(&str, &str)> = t
            .lifecycle_events
            .iter()
            .map(|e| (e.name.as_str(), e.status.as_str()))
            .collect();
        assert_eq!(events[4], ("AfterAllowTestTraffic", "Succeeded"));
        assert_eq!(events[5], ("BeforeAllowTraffic", "Pending"));
        assert_eq!(events[6], ("AllowTraffic", "Pending"));
    }

    /// Continue: the canary takes 10 %, then everything five minutes
    /// later; the service moves to the new revision; after the
    /// termination wait the deployment succeeds.
    #[tokio::test]
    async fn continue_shifts_traffic_to_the_end() {
        let (b, clock) = staging();
        let id = backend(&b).await.deployment.expect("one").id;
        b.continue_deployment(&id).await.expect("continued");
        assert!(matches!(
            b.continue_deployment(&id).await,
            Err(BackendError::Invalid { .. })
        ));
        clock.advance(Duration::from_secs(30));
        let d = b.deployment(&id, None).await.expect("read");
        assert_eq!(d.status, "InProgress");
        assert_eq!(d.traffic_shifted(), Some(10.0));
        clock.advance(Duration::from_mins(5));
        let d = b.deployment(&id, None).await.expect("read");
        assert_eq!(d.traffic_shifted(), Some(100.0));
        let svc = b
            .services(STG)
            .await
            .expect("services")
            .items
            .into_iter()
            .find(|s| s.name == "backend")
            .expect("backend");
        assert!(
            svc.task_definition.ends_with(":29"),
            "{}",
            svc.task_definition
        );
        clock.advance(Duration::from_mins(6));
        let d = b.deployment(&id, None).await.expect("read");
        assert_eq!(d.status, "Succeeded");
        assert!(backend(&b).await.active().is_none());
    }

    /// Stop with rollback mid-shift: Stopped, rolled back by a rollback
    /// deployment that returns the traffic and the service to the
    /// original.
    #[tokio::test]
    async fn stop_with_rollback_returns_traffic_to_the_original() {
        let (b, clock) = staging();
        let id = backend(&b).await.deployment.expect("one").id;
        b.continue_deployment(&id).await.expect("continued");
        clock.advance(Duration::from_secs(30));
        b.stop_deployment(&id, true).await.expect("stopped");
        let d = b.deployment(&id, None).await.expect("read");
        assert_eq!(d.status, "Stopped");
        let rollback = d
            .rollback
            .as_ref()
            .and_then(|r| r.deployment_id.clone())
            .expect("a rollback deployment");
        clock.advance(Duration::from_secs(30));
        let r = b.deployment(&rollback, None).await.expect("the rollback");
        assert_eq!(r.status, "Succeeded", "{r:?}");
        assert_eq!(r.creator.as_deref(), Some("codeDeployRollback"));
        let svc = b
            .services(STG)
            .await
            .expect("services")
            .items
            .into_iter()
            .find(|s| s.name == "backend")
            .expect("backend");
        assert!(
            svc.task_definition.ends_with(":28"),
            "{}",
            svc.task_definition
        );
        assert!(matches!(
            b.stop_deployment(&id, true).await,
            Err(BackendError::Invalid { .. })
        ));
    }

    /// A new deployment through CreateDeployment, refused while one is
    /// under way; UpdateService cannot change the task definition.
    #[tokio::test]
    async fn create_deployment_and_update_service_refused() {
        let (b, clock) = staging();
        let td28 = format!(
            "arn:aws:ecs:ap-northeast-1:{}:task-definition/works-logue-stg-backend:28",
            b.account()
        );
        let refused = b
            .update_service(
                STG,
                "backend",
                ServiceUpdate {
                    task_definition: Some(td28.clone()),
                    ..ServiceUpdate::default()
                },
            )
            .await;
        let Err(BackendError::Invalid { message }) = refused else {
            panic!("{refused:?}");
        };
        assert!(message.contains("CODE_DEPLOY"), "{message}");
        let g = backend(&b).await;
        let create = CdCreate {
            application: g.application.clone(),
            deployment_group: g.deployment_group.clone(),
            appspec: appspec(&td28, "backend", 8000),
            description: "honban test".to_string(),
        };
        assert!(matches!(
            b.create_deployment(&create).await,
            Err(BackendError::Invalid { .. })
        ));
        let id = g.deployment.expect("one").id;
        b.stop_deployment(&id, true).await.expect("stopped");
        clock.advance(Duration::from_secs(30));
        let new = b.create_deployment(&create).await.expect("created");
        clock.advance(Duration::from_secs(90));
        let d = b.deployment(&new, None).await.expect("read");
        assert_eq!(d.status, "Ready", "{d:?}");
        assert_eq!(d.description.as_deref(), Some("honban test"));
        let found = b
            .find_deployment(
                &g.application,
                &g.deployment_group,
                "honban test",
                clock.now(),
            )
            .await
            .expect("found");
        assert_eq!(found.map(|d| d.id), Some(new));
    }
}
