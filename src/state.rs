//! The state of the console: environments with their data panels, the view
//! stack, the input mode, selection and filters.
//!
//! Everything the screen shows is derived from here; `ui` draws from `&State`
//! only. The reducer that changes it lives in [`crate::update`].

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::TimeDelta;

use crate::action::Resource;
use crate::backend::BackendError;
use crate::config::keys::{Command, KeyContext, Keymap};
use crate::config::{EnvironmentConfig, RefreshIntervals, Source};
use crate::domain::{
    Alarm, CacheHealth, CacheNode, DbInstance, DbSnapshot, Instance, ReplicationGroup,
    ScalableTarget, Service, TargetGroup, Task, TaskDefinition, Timestamp,
};
pub use crate::health::ServiceHealth;
use crate::kind::{Panels, Registered, with_kind};
pub use crate::panel::{LoadState, Panel, PanelMeta};

/// Everything known about one environment.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvState {
    pub name: String,
    pub source: Source,
    pub region: Option<String>,
    pub protected: bool,
    pub read_only: bool,
    pub intervals: RefreshIntervals,
    /// The ECS clusters named in the configuration; none means every
    /// cluster of the account and region (see [`EnvState::ecs_clusters`]).
    pub clusters: Vec<String>,
    /// The EC2 hosts the configuration names (`ec2_instances` /
    /// `ec2_tags`); empty: none are read or shown ([`EnvState::has_ec2`]).
    pub ec2_hosts: crate::domain::InstanceFilter,
    /// The ElastiCache replication groups the configuration names
    /// (`elasticache_replication_groups`); empty: none are read or shown
    /// ([`EnvState::has_redis`]).
    pub replication_group_ids: Vec<String>,
    /// The target groups the EC2 hosts are registered in
    /// (`ec2_target_groups`), read with those the services name.
    pub ec2_target_groups: Vec<String>,
    /// The panel of every polled kind ([`crate::kind`]), read and written
    /// as the environment's own fields (`env.services`) through `Deref`.
    pub panels: Panels,
    /// Task definitions by ARN (immutable, so never refetched).
    pub task_definitions: HashMap<String, TaskDefinition>,
    /// Task definition ARNs requested and not yet answered.
    pub task_definitions_requested: HashSet<String>,
    /// Revision lists by family, newest first.
    pub revisions: BTreeMap<String, Panel<Vec<String>>>,
    /// Requests sent by the backend, by `service:Operation`.
    pub request_stats: BTreeMap<String, crate::backend::OpStats>,
    // --- probes
    /// The HTTP health checks, in configuration order.
    pub probes: Vec<crate::probe::ProbeState>,
    // --- metrics
    /// Alarm histories by alarm name, fetched when an alarm is opened.
    pub alarm_history: BTreeMap<String, Panel<Vec<crate::domain::AlarmHistoryItem>>>,
    // --- timeline
    /// What happened in this environment this session, oldest first (the
    /// newest [`crate::timeline::KEEP`]; the recording keeps all).
    pub timeline: std::collections::VecDeque<crate::timeline::Event>,
    /// Events dropped from the front of `timeline` (row identities stay).
    pub timeline_dropped: u64,
    /// The incident's marks (TTD / TTM / TTR).
    pub incident: crate::timeline::Incident,
    // --- health
    /// Since when each service short of tasks has been so (this session's
    /// data; see [`crate::health`]).
    pub shortfall_since: BTreeMap<String, Timestamp>,
    /// Alarms that fired unseen, and those resolved lately.
    pub alarm_watch: crate::alerts::AlarmWatch,
    /// Ring the bell when an alarm here fires (config `bell_on_alarm`).
    pub bell_on_alarm: bool,
    /// The recovery time objective (config `rto_minutes`).
    pub rto_minutes: Option<u32>,
    // --- cloudfront
    /// The CloudFront distributions in front of it (config
    /// `cloudfront_distributions`): what an invalidation names, and the
    /// services whose deploy offers it.
    pub cloudfront: Vec<crate::config::CloudFrontConfig>,
}

/// The panels read as the environment's own fields: `env.services` is
/// `env.panels.services` (a split borrow of a panel and another field
/// names `panels`).
impl std::ops::Deref for EnvState {
    type Target = Panels;
    fn deref(&self) -> &Panels {
        &self.panels
    }
}

impl std::ops::DerefMut for EnvState {
    fn deref_mut(&mut self) -> &mut Panels {
        &mut self.panels
    }
}

impl EnvState {
    pub fn from_config(
        cfg: &EnvironmentConfig,
        defaults: &RefreshIntervals,
        read_only: bool,
    ) -> Self {
        Self {
            name: cfg.name.clone(),
            source: cfg.source,
            region: cfg.region.clone(),
            protected: cfg.protected,
            read_only: read_only || cfg.read_only,
            intervals: cfg.intervals(defaults),
            clusters: cfg.clusters.iter().map(|c| c.name.clone()).collect(),
            ec2_hosts: cfg.ec2_filter(),
            replication_group_ids: cfg.elasticache_replication_groups.clone(),
            ec2_target_groups: cfg.ec2_target_groups.clone(),
            panels: Panels::default(),
            task_definitions: HashMap::new(),
            task_definitions_requested: HashSet::new(),
            revisions: BTreeMap::new(),
            request_stats: BTreeMap::new(),
            // --- probes
            probes: cfg
                .health_checks
                .iter()
                .map(crate::probe::ProbeState::from_config)
                .collect(),
            // --- metrics
            alarm_history: BTreeMap::new(),
            // --- timeline
            timeline: std::collections::VecDeque::new(),
            timeline_dropped: 0,
            incident: crate::timeline::Incident::default(),
            // --- health
            shortfall_since: BTreeMap::new(),
            alarm_watch: crate::alerts::AlarmWatch::default(),
            bell_on_alarm: cfg.bell_on_alarm(),
            rto_minutes: cfg.rto_minutes,
            cloudfront: cfg.cloudfront_distributions.clone(),
        }
    }

    /// The generation of the request the panel of `r` waits for.
    pub fn generation_of(&self, r: Resource) -> u64 {
        with_kind!(r, K => K::panel(&self.panels).generation)
    }

    /// The request bookkeeping of the panel of `r` (generation, in flight,
    /// backoff).
    pub fn request_of(&self, r: Resource) -> &crate::request::Request {
        with_kind!(r, K => &K::panel(&self.panels).request)
    }

    /// Whether this environment reads `r` at all: the cluster list only
    /// where the configuration names no cluster, target health only where
    /// a service names a target group, CloudFront only where distributions
    /// are configured, EC2 hosts only where the configuration names some.
    pub fn reads(&self, r: Resource) -> bool {
        match r {
            Resource::Clusters => self.discovers_clusters(),
            Resource::Targets => !self.target_group_arns().is_empty(),
            Resource::Distributions => !self.cloudfront.is_empty(),
            Resource::Instances => self.has_ec2(),
            Resource::ReplicationGroups => self.has_redis(),
            Resource::BlueGreens => self.has_code_deploy(),
            _ => true,
        }
    }

    /// The last charted value of one of a node's metrics
    /// ([`crate::metrics::REDIS_METRICS`]).
    pub fn redis_latest(&self, node: &CacheNode, metric: &str) -> Option<f64> {
        let series = self
            .metrics
            .data
            .as_ref()?
            .redis(&node.cluster_id, metric)?;
        series.points.last().map(|(_, v)| *v)
    }

    /// A node's replication lag, in seconds, as last charted (replicas).
    pub fn redis_lag(&self, node: &CacheNode) -> Option<f64> {
        self.redis_latest(node, "ReplicationLag")
    }

    /// Why a node's metrics make it degraded: a replica more than
    /// [`REDIS_LAG_DEGRADED_SECS`] behind (reads of it are stale), memory
    /// above [`REDIS_MEMORY_DEGRADED_PERCENT`] (keys are being evicted or
    /// soon will be).
    pub fn redis_node_strain(&self, node: &CacheNode) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(lag) = self.redis_lag(node)
            && lag > REDIS_LAG_DEGRADED_SECS
        {
            out.push(format!("{lag:.1} s behind"));
        }
        if let Some(memory) = self.redis_latest(node, "DatabaseMemoryUsagePercentage")
            && memory > REDIS_MEMORY_DEGRADED_PERCENT
        {
            out.push(format!("memory {memory:.0}%"));
        }
        out
    }

    /// A node's health as the console shows it: its status, degraded
    /// further by a strain its metrics show ([`Self::redis_node_strain`])
    /// whatever its status says.
    pub fn redis_node_health(&self, node: &CacheNode) -> CacheHealth {
        let own = node.health();
        if self.redis_node_strain(node).is_empty() {
            own
        } else {
            own.max(CacheHealth::Degraded)
        }
    }

    /// The alarms in ALARM on a replication group's metrics (its own
    /// dimension or a member cluster's).
    pub fn redis_alarms(&self, g: &ReplicationGroup) -> Vec<&Alarm> {
        self.alarms
            .data
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|a| {
                a.metric.as_ref().is_some_and(|m| {
                    crate::metrics::redis_group_of(self, m).as_deref() == Some(g.id.as_str())
                })
            })
            .collect()
    }

    /// A replication group's health as the console shows it: its own
    /// ([`ReplicationGroup::health`]), degraded further by a lagging
    /// node or an alarm on it in ALARM.
    pub fn redis_health(&self, g: &ReplicationGroup) -> CacheHealth {
        let own = g.health();
        let lagging = g
            .members
            .iter()
            .any(|m| self.redis_node_health(m) > m.health());
        let alarm = self
            .redis_alarms(g)
            .iter()
            .any(|a| a.state == crate::domain::AlarmState::Alarm);
        if lagging || alarm {
            own.max(CacheHealth::Degraded)
        } else {
            own
        }
    }

    /// Whether the configuration names ElastiCache replication groups.
    pub fn has_redis(&self) -> bool {
        !self.replication_group_ids.is_empty()
    }

    /// Whether a service of the environment is deployed by CodeDeploy (its
    /// deployment groups are read then).
    pub fn has_code_deploy(&self) -> bool {
        self.services
            .data
            .iter()
            .flatten()
            .any(Service::is_code_deploy)
    }

    /// The CodeDeploy deployment group of a CODE_DEPLOY service, once read:
    /// the group of that service in the cluster the service is listed in
    /// (a service of the same name in another cluster has its own group).
    /// A name listed in two clusters is ambiguous: none.
    pub fn blue_green(&self, service: &str) -> Option<&crate::domain::BlueGreen> {
        let mut listed = self
            .services
            .data
            .iter()
            .flatten()
            .filter(|s| s.name == service);
        let s = listed.next()?;
        if listed.next().is_some() {
            return None;
        }
        let cluster = crate::domain::short_id(&s.cluster_arn);
        self.blue_greens
            .data
            .iter()
            .flatten()
            .find(|g| g.service == service && g.cluster == cluster)
    }

    /// Whether the configuration names EC2 hosts.
    pub fn has_ec2(&self) -> bool {
        !self.ec2_hosts.is_empty()
    }

    /// The account id, once the caller identity is known.
    pub fn account(&self) -> Option<&str> {
        self.identity.data.as_ref().map(|i| i.account.as_str())
    }

    /// Generic access to a polled panel's bookkeeping.
    pub fn panel_meta(&self, r: Resource) -> PanelMeta<'_> {
        with_kind!(r, K => K::panel(&self.panels).meta())
    }

    /// Whether the environment reads every ECS cluster of its account and
    /// region (its configuration names none).
    pub fn discovers_clusters(&self) -> bool {
        self.clusters.is_empty()
    }

    /// The ECS clusters whose services, tasks and scaling are read: the
    /// configured ones, else the last list discovered (kept while a
    /// refresh fails); `None` until the first discovery has answered.
    pub fn ecs_clusters(&self) -> Option<&[String]> {
        if self.discovers_clusters() {
            self.discovered_clusters.data.as_deref()
        } else {
            Some(&self.clusters)
        }
    }

    /// The scalable target of this service of this cluster, when it has one
    /// (the same name may be a service of another cluster too).
    pub fn scaling_of(&self, service: &Service) -> Option<&ScalableTarget> {
        let cluster = crate::domain::short_id(&service.cluster_arn);
        self.scaling.data.as_ref()?.iter().find(|t| {
            t.cluster_name() == Some(cluster) && t.service_name() == Some(service.name.as_str())
        })
    }

    /// The scalable target of a service, when it has one.
    pub fn scaling_for(&self, service: &str) -> Option<&ScalableTarget> {
        self.scaling
            .data
            .as_ref()?
            .iter()
            .find(|t| t.service_name() == Some(service))
    }

    /// The target groups a service is registered with.
    pub fn targets_for(&self, service: &Service) -> Vec<&TargetGroup> {
        let Some(groups) = &self.targets.data else {
            return Vec::new();
        };
        service
            .load_balancers
            .iter()
            .filter_map(|lb| lb.target_group_arn.as_deref())
            .filter_map(|arn| groups.iter().find(|g| g.arn == arn))
            .collect()
    }

    /// Target-group ARNs of every service, for the target-health poll.
    pub fn target_group_arns(&self) -> Vec<String> {
        let mut arns: Vec<String> = self
            .services
            .data
            .iter()
            .flatten()
            .flat_map(|s| s.load_balancers.iter())
            .filter_map(|lb| lb.target_group_arn.clone())
            .chain(
                self.has_ec2()
                    .then_some(&self.ec2_target_groups)
                    .into_iter()
                    .flatten()
                    .cloned(),
            )
            .collect();
        arns.sort();
        arns.dedup();
        arns
    }

    /// Where EC2 host `id` is a target: each target group (read) that
    /// lists it, with its health there.
    pub fn host_targets(
        &self,
        id: &str,
    ) -> Vec<(&crate::domain::TargetGroup, &crate::domain::TargetHealth)> {
        self.targets
            .data
            .iter()
            .flatten()
            .flat_map(|g| g.targets.iter().map(move |t| (g, t)))
            .filter(|(_, t)| t.id == id)
            .collect()
    }

    /// An EC2 host's health: its state and checks
    /// ([`Instance::health`]), and where it is a target, its health
    /// there: a running host `unhealthy` (or `unavailable`) in a target
    /// group serves nothing there and is failing, one `initial` or
    /// `draining` degraded.
    pub fn host_health(&self, i: &Instance) -> crate::domain::InstanceHealth {
        use crate::domain::InstanceHealth;
        let own = i.health();
        let targets = self
            .host_targets(&i.id)
            .into_iter()
            .map(|(_, t)| match t.state.as_str() {
                "healthy" => InstanceHealth::Ok,
                "initial" | "draining" => InstanceHealth::Degraded,
                // `unused` is a host not running (its own health says so)
                // or a port no listener uses: not the host's fault.
                "unused" => InstanceHealth::Ok,
                _ => InstanceHealth::Failing,
            })
            .max()
            .unwrap_or(InstanceHealth::Ok);
        own.max(targets)
    }

    /// Counts of things by health for the overview and the fleet, services
    /// by [`EnvState::service_health`] at `now`.
    pub fn summary(&self, now: Timestamp) -> EnvSummary {
        let mut s = EnvSummary {
            services_known: self.services.data.is_some(),
            databases_known: self.databases.data.is_some(),
            alarms_known: self.alarms.data.is_some(),
            ..EnvSummary::default()
        };
        if let Some(services) = &self.services.data {
            s.services_total = services.len();
            for x in services {
                match self.service_health(x, now) {
                    ServiceHealth::Failing => s.services_failing += 1,
                    ServiceHealth::Degraded => s.services_degraded += 1,
                    ServiceHealth::Deploying => s.services_deploying += 1,
                    ServiceHealth::ScaledToZero => s.services_scaled_to_zero += 1,
                    ServiceHealth::Ok => s.services_healthy += 1,
                }
            }
            s.tasks_running = services.iter().map(|x| x.running_count as usize).sum();
            s.tasks_desired = services.iter().map(|x| x.desired_count as usize).sum();
        }
        if let Some(hosts) = &self.instances.data {
            s.hosts_total = hosts.len();
            s.hosts_ok = hosts
                .iter()
                .filter(|i| self.host_health(i) == crate::domain::InstanceHealth::Ok)
                .count();
        }
        if let Some(dbs) = &self.databases.data {
            s.databases_total = dbs.len();
            s.databases_available = dbs.iter().filter(|d| d.status == "available").count();
        }
        if let Some(alarms) = &self.alarms.data {
            s.alarms_total = alarms.len();
            s.alarms_firing = alarms
                .iter()
                .filter(|a| a.state == crate::domain::AlarmState::Alarm)
                .count();
            s.alarms_insufficient = alarms
                .iter()
                .filter(|a| a.state == crate::domain::AlarmState::InsufficientData)
                .count();
            // Muted alarms are counted like the others, and also apart.
            s.alarms_muted = alarms
                .iter()
                .filter(|a| a.state == crate::domain::AlarmState::Alarm && !a.actions_enabled)
                .count();
            s.alarms_new = self.alarm_watch.unseen.len();
        }
        s
    }

    /// The worst error among the environment's panels, for the header.
    pub fn errors(&self) -> Vec<(Resource, &BackendError)> {
        Resource::ALL
            .iter()
            .filter_map(|r| match self.panel_meta(*r).load {
                LoadState::Failed(e) => Some((*r, e)),
                _ => None,
            })
            .collect()
    }

    /// The oldest data age among the panels that have data.
    pub fn oldest_loaded_at(&self) -> Option<Timestamp> {
        [
            Resource::Services,
            Resource::Tasks,
            Resource::Databases,
            Resource::Alarms,
        ]
        .iter()
        .filter_map(|r| self.panel_meta(*r).loaded_at)
        .min()
    }
}

impl crate::metrics::Sources for EnvState {
    fn env_name(&self) -> &str {
        &self.name
    }
    fn services(&self) -> &[Service] {
        self.services.data.as_deref().unwrap_or_default()
    }
    fn databases(&self) -> &[DbInstance] {
        self.databases.data.as_deref().unwrap_or_default()
    }
    fn target_groups(&self) -> &[TargetGroup] {
        self.targets.data.as_deref().unwrap_or_default()
    }
    fn alarms(&self) -> &[Alarm] {
        self.alarms.data.as_deref().unwrap_or_default()
    }
    fn replication_groups(&self) -> &[crate::domain::ReplicationGroup] {
        self.replication_groups.data.as_deref().unwrap_or_default()
    }
    fn instances(&self) -> &[Instance] {
        self.instances.data.as_deref().unwrap_or_default()
    }
}

/// Counts by health of an environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnvSummary {
    /// Whether services, databases and alarms have loaded at least once
    /// (before that the counts below are zeros that mean nothing).
    pub services_known: bool,
    pub databases_known: bool,
    pub alarms_known: bool,
    pub services_total: usize,
    /// Services by health ([`ServiceHealth`]); they add up to the total.
    pub services_healthy: usize,
    pub services_failing: usize,
    pub services_degraded: usize,
    pub services_deploying: usize,
    pub services_scaled_to_zero: usize,
    pub tasks_running: usize,
    pub tasks_desired: usize,
    pub databases_total: usize,
    pub databases_available: usize,
    pub hosts_total: usize,
    /// Running with both checks ok and healthy where they are targets.
    pub hosts_ok: usize,
    pub alarms_total: usize,
    /// In ALARM, muted ones included.
    pub alarms_firing: usize,
    pub alarms_insufficient: usize,
    /// In ALARM with their actions disabled.
    pub alarms_muted: usize,
    /// Fired in this session and not seen yet.
    pub alarms_new: usize,
}

impl EnvSummary {
    /// The worst health among the services, if any is listed.
    pub fn worst_service_health(&self) -> Option<ServiceHealth> {
        [
            (self.services_failing, ServiceHealth::Failing),
            (self.services_degraded, ServiceHealth::Degraded),
            (self.services_deploying, ServiceHealth::Deploying),
            (self.services_scaled_to_zero, ServiceHealth::ScaledToZero),
            (self.services_healthy, ServiceHealth::Ok),
        ]
        .into_iter()
        .find(|(n, _)| *n > 0)
        .map(|(_, h)| h)
    }
}

/// A screen of the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Fleet,
    Diagnostics,
    Overview,
    Services,
    ServiceDetail {
        service: String,
    },
    Tasks,
    /// One task: its containers, times, network and stop reason.
    TaskDetail {
        task: String,
    },
    Databases,
    /// The EC2 hosts.
    Hosts,
    Alarms,
    Activity,
    // --- metrics
    AlarmDetail {
        alarm: String,
    },
    // --- logs
    /// The logs of a service or a task ([`State::logs`]).
    Logs,
    // --- timeline
    /// Events, operations, notes and marks of the environment.
    Timeline,
    // --- cloudfront
    /// The CloudFront distributions and their recent invalidations.
    CloudFront,
    // --- elasticache
    /// The ElastiCache (Redis) replication groups and their nodes.
    Redis,
    /// One replication group: its nodes and their charts.
    RedisGroup {
        group: String,
    },
}

/// Replication lag beyond which a Redis replica is shown (and judged by
/// `honban status`) degraded: ElastiCache replicates asynchronously and
/// a healthy replica is well under a second behind.
pub const REDIS_LAG_DEGRADED_SECS: f64 = 5.0;

/// Memory use (`DatabaseMemoryUsagePercentage`) beyond which a Redis node
/// is shown degraded: past it, `maxmemory` evicts keys (or refuses
/// writes under `noeviction`).
pub const REDIS_MEMORY_DEGRADED_PERCENT: f64 = 90.0;

/// The kind of a view, for per-view selection and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViewKind {
    Fleet,
    Diagnostics,
    Overview,
    Services,
    ServiceDetail,
    Tasks,
    TaskDetail,
    Databases,
    Hosts,
    Alarms,
    Activity,
    // --- metrics
    AlarmDetail,
    // --- logs
    Logs,
    // --- timeline
    Timeline,
    // --- cloudfront
    CloudFront,
    // --- elasticache
    Redis,
    RedisGroup,
}

impl View {
    pub fn kind(&self) -> ViewKind {
        match self {
            Self::Fleet => ViewKind::Fleet,
            Self::Diagnostics => ViewKind::Diagnostics,
            Self::Overview => ViewKind::Overview,
            Self::Services => ViewKind::Services,
            Self::ServiceDetail { .. } => ViewKind::ServiceDetail,
            Self::Tasks => ViewKind::Tasks,
            Self::TaskDetail { .. } => ViewKind::TaskDetail,
            Self::Databases => ViewKind::Databases,
            Self::Hosts => ViewKind::Hosts,
            Self::Alarms => ViewKind::Alarms,
            Self::Activity => ViewKind::Activity,
            // --- metrics
            Self::AlarmDetail { .. } => ViewKind::AlarmDetail,
            // --- logs
            Self::Logs => ViewKind::Logs,
            Self::Timeline => ViewKind::Timeline,
            Self::CloudFront => ViewKind::CloudFront,
            Self::Redis => ViewKind::Redis,
            Self::RedisGroup { .. } => ViewKind::RedisGroup,
        }
    }

    pub fn title(&self) -> String {
        match self {
            Self::Fleet => "Fleet".into(),
            Self::Diagnostics => "Diagnostics".into(),
            Self::Overview => "Overview".into(),
            Self::Services => "Services".into(),
            Self::ServiceDetail { service } => format!("Service {service}"),
            Self::Tasks => "Tasks".into(),
            Self::TaskDetail { task } => {
                let id = crate::domain::short_id(task);
                format!("Task {}", id.get(..8).unwrap_or(id))
            }
            Self::Databases => "Databases".into(),
            Self::Hosts => "Hosts".into(),
            Self::Alarms => "Alarms".into(),
            Self::Activity => "Activity".into(),
            // --- metrics
            Self::AlarmDetail { alarm } => format!("Alarm {alarm}"),
            // --- logs
            Self::Logs => "Logs".into(),
            Self::Timeline => "Timeline".into(),
            Self::CloudFront => "CloudFront".into(),
            Self::Redis => "Redis".into(),
            Self::RedisGroup { group } => format!("Redis {group}"),
        }
    }
}

/// What keys currently do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// The `:` command line.
    Command {
        input: String,
    },
    /// The `/` filter line for the current view.
    Filter {
        input: String,
    },
    /// The `?` help overlay.
    Help,
    /// An operation being set up or confirmed.
    Dialog(Dialog),
}

impl Mode {
    /// A dialog that sends an operation when answered (the confirmation,
    /// and the rollback dialog, which is also its confirmation).
    pub fn is_confirmation(&self) -> bool {
        matches!(
            self,
            Mode::Dialog(Dialog::Confirm { .. } | Dialog::Rollback { .. })
        )
    }
}

/// The dialogs of an operation: a value to type, a container to pick, a
/// revision to roll back to, and the confirmation every operation ends in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// A value to type (a count, bounds, an image).
    Input {
        env: usize,
        purpose: InputPurpose,
        input: String,
        error: Option<String>,
    },
    /// The container whose image a deploy changes.
    PickContainer {
        env: usize,
        service: String,
        containers: Vec<(String, String)>,
        index: usize,
    },
    /// The container of a task to open a shell in (ECS Exec), when the
    /// task has more than one that can.
    ExecContainer {
        env: usize,
        /// The task's ARN.
        task: String,
        /// `(name, image)` of each container whose exec agent runs.
        containers: Vec<(String, String)>,
        index: usize,
    },
    /// The revision to roll back to (the previous one preselected); also
    /// the confirmation of the rollback.
    Rollback {
        env: usize,
        service: String,
        family: String,
        /// Index into the candidates; `None` until the operator moves
        /// (then the previous revision is meant).
        index: Option<usize>,
        typed: String,
        /// Why the last confirming key did not send (shown in the dialog).
        error: Option<String>,
    },
    /// A restore of `instance` to a new instance `target`: from a snapshot
    /// (↑/↓ choose it) or to a point in time (tab switches); the
    /// identifier (and the time) typed; enter previews it.
    Restore {
        env: usize,
        instance: String,
        from: RestorePick,
        /// The new instance's identifier (proposed, editable).
        target: String,
        /// Why enter did not go on (shown in the dialog).
        error: Option<String>,
    },
    /// The confirmation: what will be sent; `y` sends, or in a protected
    /// environment `ENV/RESOURCE` typed and enter.
    Confirm {
        env: usize,
        op: crate::ops::Operation,
        typed: String,
        /// Why the last confirming key did not send (shown in the dialog).
        error: Option<String>,
    },
}

/// What a restore starts from, as the dialog has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestorePick {
    /// A snapshot, by its identifier (`None`: none is available).
    Snapshot { id: Option<String> },
    /// A point in time: `time` as typed (empty: the latest restorable
    /// time); `on_time` while the keys edit the time, not the identifier.
    PointInTime { time: String, on_time: bool },
}

/// What an input dialog asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputPurpose {
    Scale {
        service: String,
    },
    Bounds {
        service: String,
    },
    Image {
        service: String,
        container: String,
    },
    /// The command an ECS Exec session runs in a task's container.
    ExecCommand {
        task: String,
        container: String,
    },
}

/// How serious a flash message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Error,
}

/// A one-line message under the view (e.g. an unknown command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub severity: Severity,
    pub at: Timestamp,
}

/// The whole state of the console.
#[derive(Debug, Clone)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent flags, not a state machine"
)]
pub struct State {
    pub envs: Vec<EnvState>,
    /// Index of the environment the detailed views show.
    pub active: usize,
    /// The view stack; the last is on screen. Never empty.
    pub views: Vec<View>,
    pub mode: Mode,
    /// Whether the confirmation open in `mode` has been drawn. Keys read
    /// before that (typed ahead, or queued behind a slow frame) never
    /// answer it.
    pub confirm_shown: bool,
    /// The cursor of the prompt being typed, in characters from the end of
    /// its text (see [`crate::prompt`]); 0 when a prompt opens.
    pub prompt_back: usize,
    pub keymap: Keymap,
    /// Position of the selected row per view kind, as drawn. It follows
    /// [`selected_id`](Self::selected_id): see [`State::anchor_selection`].
    pub selected: HashMap<ViewKind, usize>,
    /// Identity (ARN, id or name) of the selected row per view kind. The
    /// selection is the resource, never the row number: re-sorts, filters,
    /// refreshes, new and vanished rows leave it on the same resource.
    pub selected_id: HashMap<ViewKind, String>,
    /// The selection was moved by keys and its identity is not yet read
    /// from the rows: a burst of movement keys costs no sort per key; the
    /// identity is settled before anything else happens
    /// ([`State::settle_selection`]).
    pub selection_moved: bool,
    /// The selected resource is no longer listed: (view, identity). The
    /// highlight keeps its position, and keys that act on a resource refuse
    /// (naming it) until the operator selects a row again.
    pub selection_lost: Option<(ViewKind, String)>,
    /// Filter text per view kind.
    pub filters: HashMap<ViewKind, String>,
    /// The column each view's table is sorted by (shift + its letter or
    /// `:sort`), kept for the session; none is the view's default order.
    pub sorts: HashMap<ViewKind, crate::sort::Sort>,
    /// The first line of the help overlay on screen (it scrolls when it
    /// does not fit).
    pub help_scroll: usize,
    /// The terminal's size, as last reported (the help overlay's scrolling
    /// is bounded by what fits).
    pub screen: (u16, u16),
    /// Times are shown in UTC or in the local zone (config `timezone`).
    pub timezone: crate::config::TimeZone,
    pub flash: Option<Flash>,
    pub now: Timestamp,
    /// Rows a page key moves (set from the terminal height).
    pub page_rows: usize,
    /// Set by `update` when the screen must be redrawn.
    pub dirty: bool,
    pub quit: bool,
    /// When `q` was pressed while a change was being followed: a second
    /// `q` soon after quits.
    pub quit_asked_at: Option<Timestamp>,
    /// `--dry-run`: operations are previewed and recorded, never sent.
    pub dry_run: bool,
    /// `honban status`: read only what health is judged from (see
    /// [`State::polls`]); no charts' metrics, tasks, snapshots, auto
    /// scaling or task definitions.
    pub health_only: bool,
    /// Set by `update` when an alarm fired in an environment that rings
    /// the bell; the event loop rings it after drawing and clears it.
    pub bell: bool,
    /// Text `y` copied: the event loop writes it to the terminal's
    /// clipboard (OSC 52) after drawing and clears it.
    pub clipboard: Option<String>,
    /// An ECS Exec session ExecuteCommand opened: the event loop hands it
    /// the terminal after drawing, and clears it.
    pub handover: Option<crate::exec::Handover>,
    /// Checks of the images deploys are previewed with, by environment and
    /// image reference (answered asynchronously; the preview never waits).
    pub image_checks: std::collections::BTreeMap<(usize, String), crate::images::ImageCheck>,
    /// `/` opened the filter line with the current filter: the first
    /// character typed replaces it (a cursor key or backspace edits it).
    pub filter_replace: bool,
    /// Operations of this session, oldest first.
    pub activity: Vec<crate::activity::Activity>,
    /// Audit records of earlier sessions (and this one's, as read at start)
    /// on this session's environments, each of its own kind (simulated or
    /// real): see [`crate::audit::of_environments`].
    pub history: Vec<crate::audit::Record>,
    /// Ids of earlier operations without a result whose resource is being
    /// read back (at start-up).
    pub history_checking: Vec<String>,
    /// Records read at start but not shown: of simulated environments in a
    /// real one's history (or the other way round), or of environments not
    /// open in this session.
    pub history_hidden: usize,
    /// Where the audit log is, for the activity view.
    pub audit_path: Option<String>,
    /// Where this session's recording is, for the timeline view.
    pub recording_path: Option<String>,
    /// The timeline view shows every environment (`:timeline fleet`).
    pub timeline_fleet: bool,
    /// Prefix of this session's operation ids.
    pub session: String,
    // --- metrics
    /// How far back the charts look (every environment).
    pub metric_range: crate::metrics::MetricRange,
    // --- logs
    /// The logs view (one at a time).
    pub logs: Option<crate::logs::LogsState>,
    /// Lines the logs view keeps (config `logs_buffer_lines`).
    pub logs_buffer_lines: usize,
    /// What the recording keeps of log lines (config `recording_logs`).
    pub recording_logs: crate::config::RecordingLogs,
    // --- drills
    /// The drill being run (`honban drill NAME`).
    pub drill: Option<crate::drill::Drill>,
    // --- replay
    /// Set in `honban replay`: the console shows a recording (no backend
    /// exists; operations, notes and refreshes are refused).
    pub replay: Option<ReplayStatus>,
    /// What a replay key asked of the player (taken after each action).
    pub replay_request: Option<ReplayRequest>,
}

/// Where a replay is and how it plays (the header shows it).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayStatus {
    /// The recording's first and last moments.
    pub start: Timestamp,
    pub end: Timestamp,
    pub paused: bool,
    /// Recorded seconds per second.
    pub speed: u32,
    /// Where the recording is damaged (it is replayed up to there).
    pub damage: Option<String>,
}

/// What a replay key asks of the player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayRequest {
    Pause,
    Faster,
    Slower,
    Seek(Timestamp),
    NextEvent,
    PreviousEvent,
    NextMark,
    PreviousMark,
}

impl State {
    pub fn new(envs: Vec<EnvState>, active: usize, keymap: Keymap, now: Timestamp) -> Self {
        let active = active.min(envs.len().saturating_sub(1));
        Self {
            envs,
            active,
            views: vec![View::Overview],
            mode: Mode::Normal,
            confirm_shown: false,
            prompt_back: 0,
            keymap,
            selected: HashMap::new(),
            selected_id: HashMap::new(),
            selection_moved: false,
            selection_lost: None,
            filters: HashMap::new(),
            sorts: HashMap::new(),
            help_scroll: 0,
            screen: (80, 24),
            timezone: crate::config::TimeZone::default(),
            flash: None,
            now,
            page_rows: 10,
            dirty: true,
            quit: false,
            quit_asked_at: None,
            dry_run: false,
            health_only: false,
            bell: false,
            clipboard: None,
            handover: None,
            image_checks: std::collections::BTreeMap::new(),
            filter_replace: false,
            activity: Vec::new(),
            history: Vec::new(),
            history_checking: Vec::new(),
            history_hidden: 0,
            audit_path: None,
            recording_path: None,
            timeline_fleet: false,
            session: now.format("%Y%m%dT%H%M%S").to_string(),
            // --- metrics
            metric_range: crate::metrics::MetricRange::default(),
            // --- logs
            logs: None,
            logs_buffer_lines: crate::logs::DEFAULT_BUFFER_LINES,
            recording_logs: crate::config::RecordingLogs::default(),
            drill: None,
            // --- replay
            replay: None,
            replay_request: None,
        }
    }

    /// Whether `resource` is read at all: everything in the console; under
    /// [`health_only`](Self::health_only) only what
    /// [`EnvState::service_health`] and `honban status` judge from.
    pub fn polls(&self, resource: Resource) -> bool {
        !self.health_only || resource.for_health()
    }

    pub fn view(&self) -> &View {
        // The stack is never empty; fall back to the overview defensively.
        self.views.last().unwrap_or(&View::Overview)
    }

    pub fn env(&self) -> Option<&EnvState> {
        self.envs.get(self.active)
    }

    /// Where keys are read now: the view on screen, in a replay or not.
    pub fn key_context(&self) -> KeyContext {
        KeyContext {
            view: self.view().kind(),
            replay: self.replay.is_some(),
        }
    }

    /// The first key that runs `cmd` here, as the help writes it (for
    /// hints and messages that name a key); `None` when nothing does.
    pub fn key_for(&self, cmd: Command) -> Option<String> {
        self.keymap.key_for(cmd, self.key_context())
    }

    /// The first key of `cmd` here, or `fallback` (a command line, a
    /// name) when no key runs it.
    pub fn key_or(&self, cmd: Command, fallback: &str) -> String {
        self.key_for(cmd).unwrap_or_else(|| fallback.to_string())
    }

    /// `j/k`: the keys that move the selection down and up here.
    pub fn move_keys(&self) -> String {
        format!(
            "{}/{}",
            self.key_or(Command::Down, "down"),
            self.key_or(Command::Up, "up")
        )
    }

    pub fn selected(&self, kind: ViewKind) -> usize {
        self.selected.get(&kind).copied().unwrap_or(0)
    }

    /// The identities of the current view's rows, in display order; `None`
    /// for views without selectable resources (the logs view keeps its own
    /// cursor).
    pub fn row_ids(&self) -> Option<Vec<String>> {
        let ids = match self.view() {
            View::Fleet => self.envs.iter().map(|e| e.name.clone()).collect(),
            View::Overview | View::Services => self
                .visible_services()
                .iter()
                .map(|s| s.arn.clone())
                .collect(),
            View::ServiceDetail { service } => self
                .visible_service_tasks(service)
                .iter()
                .map(|t| t.arn.clone())
                .collect(),
            View::Tasks => self.visible_tasks().iter().map(|t| t.arn.clone()).collect(),
            View::Databases => self
                .visible_databases()
                .iter()
                .map(|d| d.id.clone())
                .collect(),
            View::Hosts => self
                .visible_instances()
                .iter()
                .map(|i| i.id.clone())
                .collect(),
            View::Alarms => self
                .visible_alarms()
                .iter()
                .map(|a| a.name.clone())
                .collect(),
            View::Activity => self
                .activity
                .iter()
                .rev()
                .map(|a| format!("live:{}", a.id))
                .chain((0..self.history.len()).map(|i| format!("past:{i}")))
                .collect(),
            View::Timeline => self
                .visible_timeline()
                .iter()
                .map(|(id, _)| id.to_string())
                .collect(),
            View::CloudFront => self
                .env()
                .and_then(|e| e.distributions.data.as_ref())
                .map(|d| d.iter().map(|d| d.id.clone()).collect())
                .unwrap_or_default(),
            View::Redis => self
                .visible_replication_groups()
                .iter()
                .map(|g| g.id.clone())
                .collect(),
            View::RedisGroup { group } => self
                .replication_group(group)
                .map(|g| g.members.iter().map(|m| m.cluster_id.clone()).collect())
                .unwrap_or_default(),
            View::Diagnostics | View::AlarmDetail { .. } | View::TaskDetail { .. } | View::Logs => {
                return None;
            }
        };
        Some(ids)
    }

    /// Moves the current view's highlight to row `index` (clamped to
    /// `rows`); its identity is read when it is next needed
    /// ([`settle_selection`](Self::settle_selection)). Moving the selection
    /// ends a lost one.
    pub fn move_selection(&mut self, index: usize, rows: usize) {
        let kind = self.view().kind();
        self.selected
            .insert(kind, index.min(rows.saturating_sub(1)));
        self.selection_moved = true;
        if self
            .selection_lost
            .as_ref()
            .is_some_and(|(k, _)| *k == kind)
        {
            self.selection_lost = None;
        }
    }

    /// After movement keys: the identity of the row they left the highlight
    /// on (before any new data can reorder the rows).
    pub fn settle_selection(&mut self) {
        if self.selection_moved {
            self.selection_moved = false;
            let pos = self.selected(self.view().kind());
            self.select_row(pos);
        }
    }

    /// Selects row `index` of the current view (clamped): its position and
    /// its identity. Moving the selection ends a lost one.
    pub fn select_row(&mut self, index: usize) {
        let kind = self.view().kind();
        let ids = self.row_ids().unwrap_or_default();
        let index = index.min(ids.len().saturating_sub(1));
        self.selected.insert(kind, index);
        match ids.into_iter().nth(index) {
            Some(id) => {
                self.selected_id.insert(kind, id);
            }
            None => {
                self.selected_id.remove(&kind);
            }
        }
        if self
            .selection_lost
            .as_ref()
            .is_some_and(|(k, _)| *k == kind)
        {
            self.selection_lost = None;
        }
    }

    /// Keeps the selected resource selected when the rows changed under a
    /// filter the operator typed: where it still is, else the first row.
    pub fn reselect_or_top(&mut self) {
        let kind = self.view().kind();
        let ids = self.row_ids().unwrap_or_default();
        let at = self
            .selected_id
            .get(&kind)
            .and_then(|id| ids.iter().position(|x| x == id));
        self.select_row(at.unwrap_or(0));
    }

    /// Puts the current view's highlight on its selected resource after
    /// anything changed (data, order, health, clock). A selected resource
    /// that is no longer listed is never replaced by its neighbour: the
    /// highlight keeps its position and the selection is marked lost.
    /// Returns the identity when it has just been lost.
    pub fn anchor_selection(&mut self) -> Option<String> {
        if self.selection_moved {
            // The position is what the operator chose; nothing else happened.
            return None;
        }
        let kind = self.view().kind();
        let ids = self.row_ids()?;
        let pos = self.selected(kind);
        if let Some(id) = self.selected_id.get(&kind).cloned() {
            if let Some(i) = ids.iter().position(|x| *x == id) {
                self.selected.insert(kind, i);
                if self
                    .selection_lost
                    .as_ref()
                    .is_some_and(|(k, _)| *k == kind)
                {
                    self.selection_lost = None;
                }
                None
            } else {
                self.selected
                    .insert(kind, pos.min(ids.len().saturating_sub(1)));
                let already = self
                    .selection_lost
                    .as_ref()
                    .is_some_and(|(k, lost)| *k == kind && *lost == id);
                if already {
                    None
                } else {
                    self.selection_lost = Some((kind, id.clone()));
                    Some(id)
                }
            }
        } else {
            if !ids.is_empty() {
                self.select_row(pos);
            }
            None
        }
    }

    /// What the current view's selection refers to, by identity.
    pub fn selection(&self) -> Selection {
        let kind = self.view().kind();
        if let Some((k, id)) = &self.selection_lost
            && *k == kind
        {
            return Selection::Lost(id.clone());
        }
        match self.selected_id.get(&kind) {
            Some(id) => Selection::Id(id.clone()),
            None => Selection::None,
        }
    }

    /// The service the current view's selection refers to (overview,
    /// services): found by its ARN, never by row position.
    pub fn selected_service_row(&self) -> Result<&Service, Selection> {
        match self.selection() {
            Selection::Id(arn) => self
                .env()
                .and_then(|e| e.services.data.as_ref())
                .and_then(|v| v.iter().find(|s| s.arn == arn))
                .ok_or(Selection::Lost(arn)),
            other => Err(other),
        }
    }

    pub fn filter(&self, kind: ViewKind) -> &str {
        // While typing a filter the live input applies.
        if let Mode::Filter { input } = &self.mode
            && self.view().kind() == kind
        {
            return input;
        }
        self.filters.get(&kind).map_or("", String::as_str)
    }

    /// Services of the active environment, filtered, in display order
    /// (the ones needing attention first, then by name).
    pub fn visible_services(&self) -> Vec<&Service> {
        let Some(env) = self.env() else {
            return Vec::new();
        };
        let Some(services) = &env.services.data else {
            return Vec::new();
        };
        let kind = self.view().kind();
        let filter = Filter::parse(if matches!(kind, ViewKind::Services) {
            self.filter(ViewKind::Services)
        } else {
            ""
        });
        let now = self.now;
        let mut rows: Vec<(ServiceHealth, &Service)> = services
            .iter()
            .map(|s| (env.service_health(s, now), s))
            .filter(|(h, s)| filter.matches_service(s, *h))
            .collect();
        rows.sort_by(|(ha, a), (hb, b)| ha.cmp(hb).then_with(|| a.name.cmp(&b.name)));
        let sort = self.sort(kind);
        crate::sort::apply(&mut rows, sort, |(h, s), column| {
            service_value(env, s, *h, column)
        });
        rows.into_iter().map(|(_, s)| s).collect()
    }

    /// The order of a view's table, when the operator chose one.
    pub fn sort(&self, kind: ViewKind) -> Option<crate::sort::Sort> {
        self.sorts.get(&kind).copied()
    }

    /// Tasks of the active environment, filtered: running first, then by
    /// service and start time.
    pub fn visible_tasks(&self) -> Vec<&Task> {
        let Some(tasks) = self.env().and_then(|e| e.tasks.data.as_ref()) else {
            return Vec::new();
        };
        let filter = Filter::parse(self.filter(ViewKind::Tasks));
        let mut rows: Vec<&Task> = tasks.iter().filter(|t| filter.matches_task(t)).collect();
        rows.sort_by(|a, b| {
            (a.last_status == "STOPPED")
                .cmp(&(b.last_status == "STOPPED"))
                .then_with(|| a.service_name().cmp(&b.service_name()))
                .then_with(|| b.started_at.cmp(&a.started_at))
                .then_with(|| a.arn.cmp(&b.arn))
        });
        crate::sort::apply(&mut rows, self.sort(ViewKind::Tasks), |t, c| {
            task_value(t, c, self.now)
        });
        rows
    }

    /// A task of the active environment, by its ARN.
    pub fn task(&self, arn: &str) -> Option<&Task> {
        self.env()
            .and_then(|e| e.tasks.data.as_ref())
            .and_then(|v| v.iter().find(|t| t.arn == arn))
    }

    /// The service detail's tasks: those of `service` its filter lets
    /// through, in its order (running first, else the column chosen).
    pub fn visible_service_tasks(&self, service: &str) -> Vec<&Task> {
        let filter = Filter::parse(self.filter(ViewKind::ServiceDetail));
        let mut rows = self.service_tasks(service);
        if !filter.is_empty() {
            rows.retain(|t| filter.matches_detail_task(t));
        }
        crate::sort::apply(&mut rows, self.sort(ViewKind::ServiceDetail), |t, c| {
            task_value(t, c, self.now)
        });
        rows
    }

    /// Tasks of one service, running first (every one: no filter).
    pub fn service_tasks(&self, service: &str) -> Vec<&Task> {
        let Some(tasks) = self.env().and_then(|e| e.tasks.data.as_ref()) else {
            return Vec::new();
        };
        let mut rows: Vec<&Task> = tasks
            .iter()
            .filter(|t| t.service_name() == Some(service))
            .collect();
        rows.sort_by(|a, b| {
            (a.last_status == "STOPPED")
                .cmp(&(b.last_status == "STOPPED"))
                .then_with(|| b.started_at.cmp(&a.started_at))
                .then_with(|| b.stopped_at.cmp(&a.stopped_at))
                .then_with(|| a.arn.cmp(&b.arn))
        });
        rows
    }

    /// Database instances, filtered, each primary followed by its replicas.
    pub fn visible_databases(&self) -> Vec<&DbInstance> {
        let Some(dbs) = self.env().and_then(|e| e.databases.data.as_ref()) else {
            return Vec::new();
        };
        let filter = Filter::parse(self.filter(ViewKind::Databases));
        let mut rows: Vec<&DbInstance> = Vec::with_capacity(dbs.len());
        let mut primaries: Vec<&DbInstance> =
            dbs.iter().filter(|d| d.replica_source.is_none()).collect();
        primaries.sort_by(|a, b| a.id.cmp(&b.id));
        for p in primaries {
            rows.push(p);
            let mut replicas: Vec<&DbInstance> = dbs
                .iter()
                .filter(|d| {
                    d.replica_source
                        .as_deref()
                        .is_some_and(|s| s == p.id || s == p.arn)
                })
                .collect();
            replicas.sort_by(|a, b| a.id.cmp(&b.id));
            rows.extend(replicas);
        }
        // Replicas whose source is not listed (cross-region, filtered out).
        let mut orphans: Vec<&DbInstance> = dbs
            .iter()
            .filter(|d| !rows.iter().any(|r| r.id == d.id))
            .collect();
        orphans.sort_by(|a, b| a.id.cmp(&b.id));
        rows.extend(orphans);
        rows.retain(|d| filter.matches_db(d));
        let env = self.env();
        crate::sort::apply(&mut rows, self.sort(ViewKind::Databases), |d, c| {
            db_value(env, d, c)
        });
        rows
    }

    /// The EC2 hosts, filtered: failing first, then by name (or as
    /// sorted).
    pub fn visible_instances(&self) -> Vec<&Instance> {
        let Some(all) = self.env().and_then(|e| e.instances.data.as_ref()) else {
            return Vec::new();
        };
        let filter = Filter::parse(self.filter(ViewKind::Hosts));
        let mut rows: Vec<&Instance> = all.iter().filter(|i| filter.matches_instance(i)).collect();
        let env = self.env();
        let health = |i: &Instance| env.map_or_else(|| i.health(), |e| e.host_health(i));
        rows.sort_by(|a, b| {
            health(b)
                .cmp(&health(a))
                .then_with(|| a.display_name().cmp(b.display_name()))
                .then_with(|| a.id.cmp(&b.id))
        });
        let now = self.now;
        crate::sort::apply(&mut rows, self.sort(ViewKind::Hosts), |i, c| {
            instance_value(env, i, c, now)
        });
        rows
    }

    /// The ElastiCache replication groups, filtered: unhealthy first, then
    /// by id (or as sorted).
    pub fn visible_replication_groups(&self) -> Vec<&ReplicationGroup> {
        let Some(all) = self.env().and_then(|e| e.replication_groups.data.as_ref()) else {
            return Vec::new();
        };
        let filter = Filter::parse(self.filter(ViewKind::Redis));
        let mut rows: Vec<&ReplicationGroup> = all
            .iter()
            .filter(|g| filter.matches_replication_group(g))
            .collect();
        let env = self.env();
        let health = |g: &ReplicationGroup| env.map_or(g.health(), |e| e.redis_health(g));
        rows.sort_by(|a, b| health(b).cmp(&health(a)).then_with(|| a.id.cmp(&b.id)));
        crate::sort::apply(&mut rows, self.sort(ViewKind::Redis), |g, c| {
            redis_value(g, c)
        });
        rows
    }

    /// A replication group of the current environment, by id.
    pub fn replication_group(&self, id: &str) -> Option<&ReplicationGroup> {
        self.env()?
            .replication_groups
            .data
            .as_ref()?
            .iter()
            .find(|g| g.id == id)
    }

    /// The snapshots a restore of `instance` can start from: available,
    /// newest first.
    pub fn restorable_snapshots(&self, instance_id: &str) -> Vec<&DbSnapshot> {
        let mut v = self.snapshots_of(instance_id);
        v.retain(|s| s.status == "available");
        v
    }

    /// Snapshots of one instance, newest first.
    pub fn snapshots_of(&self, instance_id: &str) -> Vec<&DbSnapshot> {
        let Some(snaps) = self.env().and_then(|e| e.snapshots.data.as_ref()) else {
            return Vec::new();
        };
        let mut rows: Vec<&DbSnapshot> = snaps
            .iter()
            .filter(|s| s.instance_id == instance_id)
            .collect();
        rows.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        rows
    }

    /// Alarms, filtered, ALARM first, then most recently changed.
    pub fn visible_alarms(&self) -> Vec<&Alarm> {
        let Some(alarms) = self.env().and_then(|e| e.alarms.data.as_ref()) else {
            return Vec::new();
        };
        let filter = Filter::parse(self.filter(ViewKind::Alarms));
        let mut rows: Vec<&Alarm> = alarms.iter().filter(|a| filter.matches_alarm(a)).collect();
        rows.sort_by(|a, b| {
            a.state
                .cmp(&b.state)
                .then_with(|| b.state_updated_at.cmp(&a.state_updated_at))
                .then_with(|| a.name.cmp(&b.name))
        });
        crate::sort::apply(&mut rows, self.sort(ViewKind::Alarms), |a, c| {
            alarm_value(a, c, self.now)
        });
        rows
    }

    /// The timeline of the active environment, filtered, newest first, each
    /// with its identity (its number since the session started).
    pub fn visible_timeline(&self) -> Vec<(u64, &crate::timeline::Event)> {
        let filter = Filter::parse(self.filter(ViewKind::Timeline));
        let mut rows: Vec<(u64, &crate::timeline::Event)> = self
            .envs
            .iter()
            .enumerate()
            .filter(|(i, _)| self.timeline_fleet || *i == self.active)
            .flat_map(|(k, env)| {
                // The environment's index in the high bits keeps identities
                // apart in the fleet's timeline.
                let base = ((k as u64) << 48) + env.timeline_dropped;
                env.timeline
                    .iter()
                    .enumerate()
                    .map(move |(i, e)| (base + i as u64, e))
            })
            .filter(|(_, e)| filter.matches_event(e))
            .collect();
        // Newest first by time (a mark set for an earlier time sorts there).
        rows.sort_by(|(ia, a), (ib, b)| b.time.cmp(&a.time).then_with(|| ib.cmp(ia)));
        rows
    }

    /// The number of selectable rows of the current view.
    pub fn row_count(&self) -> usize {
        match self.view() {
            View::Fleet => self.envs.len(),
            View::Timeline => self.visible_timeline().len(),
            View::Diagnostics => 0,
            // Counted without sorting: a burst of movement keys costs a
            // filter pass each, not a sort.
            View::Overview => self
                .env()
                .and_then(|e| e.services.data.as_ref())
                .map_or(0, Vec::len),
            View::Services => {
                let Some(env) = self.env() else {
                    return 0;
                };
                self.count_matching(ViewKind::Services, env.services.data.as_ref(), |f, s| {
                    f.matches_service(s, env.service_health(s, self.now))
                })
            }
            View::ServiceDetail { service } => {
                let filter = Filter::parse(self.filter(ViewKind::ServiceDetail));
                self.env()
                    .and_then(|e| e.tasks.data.as_ref())
                    .map_or(0, |v| {
                        v.iter()
                            .filter(|t| {
                                t.service_name() == Some(service.as_str())
                                    && filter.matches_detail_task(t)
                            })
                            .count()
                    })
            }
            View::Tasks => self.count_matching(
                ViewKind::Tasks,
                self.env().and_then(|e| e.tasks.data.as_ref()),
                Filter::matches_task,
            ),
            View::Databases => self.count_matching(
                ViewKind::Databases,
                self.env().and_then(|e| e.databases.data.as_ref()),
                Filter::matches_db,
            ),
            View::Hosts => self.count_matching(
                ViewKind::Hosts,
                self.env().and_then(|e| e.instances.data.as_ref()),
                Filter::matches_instance,
            ),
            View::Alarms => self.count_matching(
                ViewKind::Alarms,
                self.env().and_then(|e| e.alarms.data.as_ref()),
                Filter::matches_alarm,
            ),
            View::Activity => self.activity.len() + self.history.len(),
            View::TaskDetail { .. } => 0,
            // --- metrics
            View::AlarmDetail { .. } => 0,
            // --- logs
            View::Logs => self.logs.as_ref().map_or(0, |l| l.lines.len()),
            View::CloudFront => self
                .env()
                .and_then(|e| e.distributions.data.as_ref())
                .map_or(0, Vec::len),
            View::Redis => self.count_matching(
                ViewKind::Redis,
                self.env().and_then(|e| e.replication_groups.data.as_ref()),
                Filter::matches_replication_group,
            ),
            View::RedisGroup { group } => {
                self.replication_group(group).map_or(0, |g| g.members.len())
            }
        }
    }

    /// How many of `rows` the filter of view `kind` lets through (all of
    /// them without a filter, without looking at one).
    fn count_matching<T>(
        &self,
        kind: ViewKind,
        rows: Option<&Vec<T>>,
        matches: impl Fn(&Filter, &T) -> bool,
    ) -> usize {
        let Some(rows) = rows else {
            return 0;
        };
        let filter = Filter::parse(self.filter(kind));
        if filter.is_empty() {
            rows.len()
        } else {
            rows.iter().filter(|r| matches(&filter, r)).count()
        }
    }

    /// Revisions a service can roll back to: every listed revision of its
    /// family but the current one, newest first. `None` until listed.
    pub fn rollback_candidates(
        &self,
        env: usize,
        family: &str,
        current: &str,
    ) -> Option<Vec<String>> {
        let revs = self.envs.get(env)?.revisions.get(family)?.data.as_ref()?;
        let current = crate::domain::task_definition_label(current);
        Some(
            revs.iter()
                .filter(|a| crate::domain::task_definition_label(a) != current)
                .cloned()
                .collect(),
        )
    }

    /// The operation the operations bar is about: the newest one still
    /// under way, or one that ended a moment ago (a failure stays longer);
    /// with the number of others still under way.
    pub fn bar_activity(&self) -> Option<(&crate::activity::Activity, usize)> {
        let recent = |a: &&crate::activity::Activity| match a.finished_at() {
            None => true,
            Some(t) => {
                let failed = matches!(
                    a.status,
                    crate::activity::OpStatus::Failed { .. }
                        | crate::activity::OpStatus::NotApplied { .. }
                        | crate::activity::OpStatus::Unknown { .. }
                ) || a.watch.as_ref().is_some_and(|w| w.status.is_failure());
                let keep = if failed {
                    BAR_FAILED_SECS
                } else {
                    BAR_DONE_SECS
                };
                self.now - t <= TimeDelta::seconds(keep)
            }
        };
        let shown: Vec<&crate::activity::Activity> =
            self.activity.iter().rev().filter(recent).collect();
        let a = shown
            .iter()
            .find(|a| a.is_active())
            .or_else(|| shown.first())?;
        let others = shown.iter().filter(|x| x.is_active()).count() - usize::from(a.is_active());
        Some((a, others))
    }

    /// The rollback the operations bar offers: (environment, service) of a
    /// followed rollout of the active environment that is failing (tasks
    /// fail, with or without a circuit breaker to end it) or failed. The
    /// rollback key acts on that service while it is offered, whatever row
    /// is selected, and the bar names it.
    pub fn offered_rollback(&self) -> Option<(usize, String)> {
        let (a, _) = self.bar_activity()?;
        let service = a.op.service()?;
        let failing = !matches!(a.op, crate::ops::Operation::Scale { .. })
            && a.watch.as_ref().is_some_and(|w| match &w.status {
                crate::activity::WatchStatus::InProgress { failed_tasks, .. } => *failed_tasks > 0,
                crate::activity::WatchStatus::Failed(_) => true,
                _ => false,
            });
        let env = self.envs.get(a.env)?;
        (failing && a.env == self.active && !env.read_only).then(|| (a.env, service.to_string()))
    }

    /// The CloudFront distribution an invalidation is offered for in the
    /// active environment: the newest deploy, rollback or restart of this
    /// session completed on a service a configured distribution links to,
    /// and no invalidation of that distribution started since.
    pub fn offered_invalidation(&self) -> Option<&crate::config::CloudFrontConfig> {
        let env = self.env()?;
        if env.read_only || env.cloudfront.is_empty() {
            return None;
        }
        let mut offered: Option<(&crate::config::CloudFrontConfig, Timestamp)> = None;
        for a in self.activity.iter().filter(|a| a.env == self.active) {
            match &a.op {
                crate::ops::Operation::DeployImage { service, .. }
                | crate::ops::Operation::Rollback { service, .. }
                | crate::ops::Operation::Restart { service, .. } => {
                    let completed = a.watch.as_ref().is_some_and(|w| {
                        matches!(w.status, crate::activity::WatchStatus::Completed(_))
                    });
                    if completed
                        && let Some(d) =
                            env.cloudfront.iter().find(|d| d.services.contains(service))
                    {
                        offered = Some((d, a.started_at));
                    }
                }
                crate::ops::Operation::Invalidate { distribution, .. }
                    if offered
                        .is_some_and(|(d, at)| &d.id == distribution && a.started_at >= at) =>
                {
                    offered = None;
                }
                _ => {}
            }
        }
        offered.map(|(d, _)| d)
    }

    /// The service named, in the active environment.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.env()?
            .services
            .data
            .as_ref()?
            .iter()
            .find(|s| s.name == name)
    }
}

/// How long a finished operation stays in the operations bar (a failure
/// longer).
pub const BAR_DONE_SECS: i64 = 60;
pub const BAR_FAILED_SECS: i64 = 600;

/// What a view's selection refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Nothing is selected (no rows yet).
    None,
    /// The identity of the selected resource.
    Id(String),
    /// The selected resource is no longer listed.
    Lost(String),
}

impl Selection {
    /// What to tell an operator whose key found no resource to act on.
    /// `move_keys` are the keys that move the selection (`j/k`).
    pub fn refusal(&self, what: &str, hint: &str, move_keys: &str) -> String {
        match self {
            Selection::Lost(id) => format!(
                "{} is no longer listed: nothing was done; select a row again ({move_keys})",
                crate::domain::short_id(id)
            ),
            _ => format!("select {what} first ({hint})"),
        }
    }
}

/// A parsed filter: `key:value` terms for specific columns and bare words
/// matched against every column, all case-insensitive, all required; a
/// term starting with `!` must not match.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filter {
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    negated: bool,
    key: Option<String>,
    needle: String,
}

/// The columns of each filtered view: the names each answers to, in the
/// order the `matches_*` functions give their values.
const SERVICE_COLUMNS: [&[&str]; 5] = [
    &["name", "svc", "service"],
    &["status"],
    &["rollout"],
    &["td", "taskdef", "rev"],
    &["health"],
];
const TASK_COLUMNS: [&[&str]; 8] = [
    &["id", "task"],
    &["svc", "service"],
    &["status", "last"],
    &["health"],
    &["az", "zone"],
    &["td", "taskdef", "rev"],
    &["started", "start"],
    &["reason", "stopped"],
];
/// The service detail: its tasks' columns, and its events' message.
const DETAIL_COLUMNS: [&[&str]; 9] = [
    TASK_COLUMNS[0],
    TASK_COLUMNS[1],
    TASK_COLUMNS[2],
    TASK_COLUMNS[3],
    TASK_COLUMNS[4],
    TASK_COLUMNS[5],
    TASK_COLUMNS[6],
    TASK_COLUMNS[7],
    &["event", "message"],
];
const EVENT_COLUMNS: [&[&str]; 4] = [
    &["kind", "type", "what"],
    &["resource", "svc", "service", "name"],
    &["text", "reason"],
    &["severity"],
];
const DB_COLUMNS: [&[&str]; 6] = [
    &["id", "name", "db"],
    &["engine"],
    &["class"],
    &["status"],
    &["role"],
    &["az", "zone"],
];
const INSTANCE_COLUMNS: [&[&str]; 6] = [
    &["name", "host"],
    &["id", "instance"],
    &["state"],
    &["type"],
    &["az", "zone"],
    &["ip"],
];
const REDIS_COLUMNS: [&[&str]; 5] = [
    &["id", "group"],
    &["status"],
    &["engine"],
    &["type", "node"],
    &["az", "zone"],
];
const ALARM_COLUMNS: [&[&str]; 4] = [&["name", "alarm"], &["state"], &["reason"], &["metric"]];

impl Filter {
    pub fn parse(text: &str) -> Self {
        let terms = text
            .split_whitespace()
            .filter_map(|w| {
                let w = w.to_lowercase();
                let (negated, w) = match w.strip_prefix('!') {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, w),
                };
                let (key, needle) = match w.split_once(':') {
                    Some((k, v)) if !k.is_empty() => (Some(k.to_string()), v.to_string()),
                    _ => (None, w),
                };
                // A lone `!` (being typed) excludes nothing yet.
                (!(negated && needle.is_empty() && key.is_none())).then_some(Term {
                    negated,
                    key,
                    needle,
                })
            })
            .collect();
        Self { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The columns a view's filter knows, `None` for views without one.
    fn columns(kind: ViewKind) -> Option<&'static [&'static [&'static str]]> {
        Some(match kind {
            ViewKind::Services => &SERVICE_COLUMNS,
            ViewKind::Tasks => &TASK_COLUMNS,
            ViewKind::Databases => &DB_COLUMNS,
            ViewKind::Hosts => &INSTANCE_COLUMNS,
            ViewKind::Redis => &REDIS_COLUMNS,
            ViewKind::Alarms => &ALARM_COLUMNS,
            ViewKind::Timeline => &EVENT_COLUMNS,
            ViewKind::ServiceDetail => &DETAIL_COLUMNS,
            _ => return None,
        })
    }

    /// A `key:` this view's filter does not know: a message naming the
    /// fields that exist.
    pub fn unknown_field(&self, kind: ViewKind) -> Option<String> {
        let columns = Self::columns(kind)?;
        let known = |k: &str| columns.iter().any(|names| names.contains(&k));
        let key = self
            .terms
            .iter()
            .filter_map(|t| t.key.as_deref())
            .find(|k| !known(k))?;
        let fields: Vec<&str> = columns
            .iter()
            .flat_map(|names| names.iter().copied())
            .collect();
        Some(format!(
            "unknown filter field \"{key}\": fields are {}",
            fields.join(" ")
        ))
    }

    /// `values` are the view's column values, in the order of `columns`.
    fn matches(&self, columns: &[&[&str]], values: &[String]) -> bool {
        let fields = || columns.iter().zip(values);
        self.terms.iter().all(|t| {
            let hit = match &t.key {
                None => fields().any(|(_, v)| v.to_lowercase().contains(t.needle.as_str())),
                Some(k) => fields()
                    .filter(|(names, _)| names.contains(&k.as_str()))
                    .any(|(_, v)| v.to_lowercase().contains(t.needle.as_str())),
            };
            hit != t.negated
        })
    }

    /// `health` is the service's [`EnvState::service_health`].
    pub fn matches_service(&self, s: &Service, health: ServiceHealth) -> bool {
        if self.is_empty() {
            return true;
        }
        self.matches(
            &SERVICE_COLUMNS,
            &[
                s.name.clone(),
                s.status.clone(),
                s.rollout().as_str().to_string(),
                crate::domain::task_definition_label(&s.task_definition).to_string(),
                health_word(health).to_string(),
            ],
        )
    }

    pub fn matches_task(&self, t: &Task) -> bool {
        if self.is_empty() {
            return true;
        }
        self.matches(
            &TASK_COLUMNS,
            &[
                t.id().to_string(),
                t.service_name().unwrap_or("").to_string(),
                t.last_status.clone(),
                t.health_status.clone(),
                t.availability_zone.clone().unwrap_or_default(),
                crate::domain::task_definition_label(&t.task_definition).to_string(),
                t.started_at
                    .map(|s| s.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                format!(
                    "{} {}",
                    t.stop_code.as_deref().unwrap_or(""),
                    t.stopped_reason.as_deref().unwrap_or("")
                ),
            ],
        )
    }

    /// A service event's message in the service detail, whose filter is
    /// also its tasks': words and `event:` / `message:` terms apply to the
    /// message, terms naming a task's field (`status:stopped`) only to the
    /// tasks.
    pub fn matches_event_message(&self, message: &str) -> bool {
        let message = message.to_lowercase();
        self.terms.iter().all(|t| match t.key.as_deref() {
            None | Some("event" | "message") => message.contains(t.needle.as_str()) != t.negated,
            Some(_) => true,
        })
    }

    /// The service detail's tasks: `event:` / `message:` terms are the
    /// events' only.
    pub fn matches_detail_task(&self, t: &Task) -> bool {
        let tasks_only = Filter {
            terms: self
                .terms
                .iter()
                .filter(|x| !matches!(x.key.as_deref(), Some("event" | "message")))
                .cloned()
                .collect(),
        };
        tasks_only.matches_task(t)
    }

    pub fn matches_event(&self, e: &crate::timeline::Event) -> bool {
        if self.is_empty() {
            return true;
        }
        self.matches(
            &EVENT_COLUMNS,
            &[
                e.kind.clone(),
                e.resource.clone(),
                e.text.clone(),
                format!("{:?}", e.severity),
            ],
        )
    }

    pub fn matches_db(&self, d: &DbInstance) -> bool {
        if self.is_empty() {
            return true;
        }
        self.matches(
            &DB_COLUMNS,
            &[
                d.id.clone(),
                format!("{} {}", d.engine, d.engine_version),
                d.class.clone(),
                d.status.clone(),
                d.role().to_string(),
                d.availability_zone.clone().unwrap_or_default(),
            ],
        )
    }

    pub fn matches_instance(&self, i: &Instance) -> bool {
        if self.is_empty() {
            return true;
        }
        self.matches(
            &INSTANCE_COLUMNS,
            &[
                i.name.clone().unwrap_or_default(),
                i.id.clone(),
                i.state.clone(),
                i.instance_type.clone(),
                i.availability_zone.clone().unwrap_or_default(),
                i.private_ip.clone().unwrap_or_default(),
            ],
        )
    }

    pub fn matches_replication_group(&self, g: &ReplicationGroup) -> bool {
        if self.is_empty() {
            return true;
        }
        self.matches(
            &REDIS_COLUMNS,
            &[
                g.id.clone(),
                g.status.clone(),
                g.engine_label(),
                g.node_type.clone().unwrap_or_default(),
                g.members
                    .iter()
                    .filter_map(|m| m.availability_zone.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
            ],
        )
    }

    pub fn matches_alarm(&self, a: &Alarm) -> bool {
        if self.is_empty() {
            return true;
        }
        self.matches(
            &ALARM_COLUMNS,
            &[
                a.name.clone(),
                a.state.as_str().to_string(),
                a.state_reason.clone(),
                a.metric
                    .as_ref()
                    .map(|m| format!("{} {}", m.namespace, m.name))
                    .unwrap_or_default(),
            ],
        )
    }
}

/// The latest value of a metric series, for sorting (thousandths).
fn latest_value(series: Option<&crate::domain::MetricSeries>) -> crate::sort::Value {
    use crate::sort::Value;
    series
        .and_then(|s| s.points.last())
        .map_or(Value::Missing, |(_, v)| {
            Value::Num((v * 1000.0).round() as i64)
        })
}

/// What a service shows in `column` (of the overview's or the services
/// table), to sort by.
fn service_value(
    env: &EnvState,
    s: &Service,
    health: ServiceHealth,
    column: &str,
) -> crate::sort::Value {
    use crate::sort::Value;
    match column {
        "NAME" => Value::text(&s.name),
        "HEALTH" => Value::Num(health as i64),
        "CPU" => latest_value(
            env.metrics
                .data
                .as_ref()
                .and_then(|m| m.service_cpu(crate::domain::short_id(&s.cluster_arn), &s.name)),
        ),
        "TASKS" | "RUN/DES" => {
            Value::Num(i64::from(s.running_count) * 100_000 + i64::from(s.desired_count))
        }
        "PEND" => Value::Num(i64::from(s.pending_count)),
        "ROLLOUT" => Value::text(s.rollout().as_str()),
        "TASK DEF" => Value::text(crate::domain::task_definition_label(&s.task_definition)),
        "SCALE" => Value::opt_num(
            env.scaling_of(s)
                .map(|t| i64::from(t.min_capacity) * 100_000 + i64::from(t.max_capacity)),
        ),
        "IMAGE" => env
            .task_definitions
            .get(&s.task_definition)
            .map_or(Value::Missing, |td| {
                let tags: Vec<&str> = td
                    .containers
                    .iter()
                    .map(|c| image_tag_of(&c.image))
                    .collect();
                Value::text(&tags.join(","))
            }),
        "DEPLOYS" => Value::Num(s.deployments.len() as i64),
        "LAUNCH" => s.launch_type.as_deref().map_or(Value::Missing, Value::text),
        _ => Value::Missing,
    }
}

/// The tag of an image reference (as the services table shows it).
fn image_tag_of(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    if let Some((_, digest)) = last.split_once('@') {
        return digest;
    }
    last.split_once(':').map_or("latest", |(_, tag)| tag)
}

/// What a task shows in `column` (of the tasks tables), to sort by.
fn task_value(t: &Task, column: &str, now: Timestamp) -> crate::sort::Value {
    use crate::sort::Value;
    let stopped = t.last_status == "STOPPED";
    match column {
        "TASK" => Value::text(t.id()),
        "SERVICE" => t.service_name().map_or(Value::Missing, Value::text),
        "STATUS" => Value::text(&format!("{} {}", t.last_status, t.desired_status)),
        "HEALTH" if stopped => Value::Missing,
        "HEALTH" => Value::text(&t.health_status),
        "AZ" => t
            .availability_zone
            .as_deref()
            .map_or(Value::Missing, Value::text),
        "REV" => Value::opt_num(revision_number(&t.task_definition).map(i64::from)),
        // Uptime: the youngest first when ascending.
        "UP" if stopped => Value::Missing,
        "UP" => Value::opt_num(t.started_at.map(|s| (now - s).num_seconds())),
        "STOPPED REASON" => match (&t.stop_code, &t.stopped_reason) {
            (_, Some(r)) => Value::text(r),
            (Some(c), None) => Value::text(c),
            _ => Value::Missing,
        },
        _ => Value::Missing,
    }
}

/// What a database shows in `column`, to sort by.
fn db_value(env: Option<&EnvState>, d: &DbInstance, column: &str) -> crate::sort::Value {
    use crate::sort::Value;
    match column {
        "ID" => Value::text(&d.id),
        "ROLE" => Value::text(&d.role().to_string()),
        "ENGINE" => Value::text(&format!("{} {}", d.engine, d.engine_version)),
        "CLASS" => Value::text(&d.class),
        "STATUS" => Value::text(&d.status),
        "MULTI-AZ" => Value::Num(i64::from(d.multi_az)),
        "STORAGE" => Value::Num(i64::from(d.allocated_storage_gib)),
        "BACKUP" => Value::Num(i64::from(d.backup_retention_days)),
        "CPU" => latest_value(
            env.and_then(|e| e.metrics.data.as_ref())
                .and_then(|m| m.db(&d.id, "CPUUtilization")),
        ),
        _ => Value::Missing,
    }
}

/// What a host shows in `column`, to sort by.
fn redis_value(g: &ReplicationGroup, column: &str) -> crate::sort::Value {
    use crate::sort::Value;
    match column {
        "ID" => Value::text(&g.id),
        "STATUS" => Value::text(&g.status),
        "ENGINE" => Value::text(&g.engine_label()),
        "TYPE" => g.node_type.as_deref().map_or(Value::Missing, Value::text),
        "NODES" => Value::Num(g.members.len() as i64),
        _ => Value::Missing,
    }
}

fn instance_value(
    env: Option<&EnvState>,
    i: &Instance,
    column: &str,
    now: Timestamp,
) -> crate::sort::Value {
    use crate::sort::Value;
    match column {
        "NAME" => Value::text(i.display_name()),
        "ID" => Value::text(&i.id),
        "STATE" => Value::text(&i.state),
        "TYPE" => Value::text(&i.instance_type),
        "AZ" => i
            .availability_zone
            .as_deref()
            .map_or(Value::Missing, Value::text),
        "IP" => i.private_ip.as_deref().map_or(Value::Missing, |ip| {
            // By address, not by text: 10.0.2.5 before 10.0.10.5.
            let n = ip
                .split('.')
                .filter_map(|p| p.parse::<i64>().ok())
                .fold(0, |acc, p| acc * 256 + p);
            Value::Num(n)
        }),
        // How long it has run: the newest launch first when ascending.
        "UP" => i
            .launched_at
            .map_or(Value::Missing, |t| Value::Num((now - t).num_seconds())),
        "CHECKS" => Value::Num(i.health() as i64),
        "CPU" => latest_value(
            env.and_then(|e| e.metrics.data.as_ref())
                .and_then(|m| m.host_cpu(&i.id)),
        ),
        "TARGET" => env
            .map(|e| e.host_targets(&i.id))
            .and_then(|t| t.iter().map(|(_, t)| t.rank()).max())
            .map_or(Value::Missing, |r| Value::Num(i64::from(r))),
        _ => Value::Missing,
    }
}

/// What an alarm shows in `column`, to sort by.
fn alarm_value(a: &Alarm, column: &str, now: Timestamp) -> crate::sort::Value {
    use crate::sort::Value;
    match column {
        "STATE" => Value::Num(a.state as i64),
        "NAME" => Value::text(&a.name),
        // By metric, then by threshold as a number.
        "CONDITION" => a.metric.as_ref().map_or(Value::Missing, |m| {
            let t = (a.threshold.unwrap_or_default() * 1000.0).round() as i64;
            Value::TextNum(m.name.to_lowercase(), t)
        }),
        // How long since it changed: the newest change first when ascending.
        "SINCE" => Value::Num((now - a.state_updated_at).num_seconds()),
        "ACTIONS" => Value::Num(i64::from(!a.actions_enabled)),
        _ => Value::Missing,
    }
}

/// The revision number of a task-definition ARN or `family:revision`.
pub fn revision_number(arn: &str) -> Option<u32> {
    crate::domain::task_definition_label(arn)
        .rsplit(':')
        .next()?
        .parse()
        .ok()
}

/// The candidate a rollback means by default: the newest revision older
/// than the current one. `None` when there is none: a newer revision (say
/// the one that just failed) is never preselected.
pub fn previous_revision_index(candidates: &[String], current: &str) -> Option<usize> {
    let cur = revision_number(current)?;
    candidates
        .iter()
        .position(|a| revision_number(a).is_some_and(|n| n < cur))
}

/// A word for a service's health, as filters and the UI use it.
pub fn health_word(h: ServiceHealth) -> &'static str {
    h.word()
}

pub use crate::domain::format_age;
