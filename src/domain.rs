//! Domain types of honban.
//!
//! These are shaped after what the AWS APIs really return (ECS, RDS,
//! CloudWatch, Application Auto Scaling, STS) so that the SDK backend can fill
//! them without loss and the simulated environment can produce them. No SDK
//! type ever appears here or in the UI.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod cloudfront;
mod codedeploy;
mod ec2;
mod elasticache;
#[cfg(test)]
pub(crate) use elasticache::tests as elasticache_tests;
mod exec;
mod images;
mod pattern;
mod probe;
pub mod scenario;

pub use cloudfront::{Distribution, Invalidation, caller_reference};
pub use codedeploy::{
    ACTIVE_STATUSES, BgTaskSet, BlueGreen, CdDeployment, CdRollback, DeploymentController,
    ECS_LIFECYCLE, EcsServiceDeployment, EcsTarget, LifecycleEvent, appspec,
    appspec_task_definition,
};
pub use ec2::{CheckStatus, Instance, InstanceFilter, InstanceHealth, PowerAction};
pub use elasticache::{CacheEndpoint, CacheHealth, CacheNode, ReplicationGroup};
pub use exec::{ExecSession, ssm_endpoint};
pub use images::{EcrImage, ImageDetail, ImageId, ImageLookup};
pub use pattern::{Pattern, TermRef};
pub use probe::{ProbeError, ProbeReport};

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// Who the backend is talking to AWS as (STS `GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// The result of a describe call that may partly fail, like ECS
/// `DescribeServices` / `DescribeTasks` with their `failures` list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub failures: Vec<Failure>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            failures: Vec::new(),
        }
    }
}

impl<T> Listing<T> {
    pub fn complete(items: Vec<T>) -> Self {
        Self {
            items,
            failures: Vec::new(),
        }
    }
}

/// An item of a polled kind's list that has an identity of its own: a
/// recording keys the items of a `Vec<T>` or `Listing<T>` by it
/// (`recorded::Recorded`), so a load is written as what changed. It is,
/// as the item is serialised, its `arn`, else its `resource_id`, `id` or
/// `name` (the first that is a string); a string is itself. No two items
/// of one list share it.
pub trait Identified {}

/// A name (a discovered ECS cluster's) is its own identity.
impl Identified for String {}

/// One resource a describe call could not return (`arn` + `reason`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub arn: String,
    pub reason: String,
    pub detail: Option<String>,
}

// ---------------------------------------------------------------- ECS

/// An ECS cluster (`DescribeClusters`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cluster {
    pub arn: String,
    pub name: String,
    pub status: String,
    pub active_services: u32,
    pub running_tasks: u32,
    pub pending_tasks: u32,
}

/// An ECS service (`DescribeServices`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Service {
    pub arn: String,
    pub name: String,
    pub cluster_arn: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    pub launch_type: Option<String>,
    pub task_definition: String,
    pub deployments: Vec<Deployment>,
    /// Newest first, as ECS returns them.
    pub events: Vec<ServiceEvent>,
    pub load_balancers: Vec<LoadBalancerRef>,
    pub created_at: Option<Timestamp>,
    pub circuit_breaker: Option<CircuitBreaker>,
    /// `deploymentController.type`: a CODE_DEPLOY service changes its task
    /// definition only through CodeDeploy.
    #[serde(default)]
    pub deployment_controller: DeploymentController,
    /// `deploymentConfiguration.strategy` (`ROLLING`, `BLUE_GREEN`), when
    /// ECS says it.
    #[serde(default)]
    pub strategy: Option<String>,
    /// The current ECS service deployment of an ECS-native blue/green
    /// service (its lifecycle stage).
    #[serde(default)]
    pub service_deployment: Option<EcsServiceDeployment>,
}

impl Identified for Service {}

impl Service {
    /// Whether CodeDeploy deploys it (blue/green through CreateDeployment).
    pub fn is_code_deploy(&self) -> bool {
        self.deployment_controller == DeploymentController::CodeDeploy
    }

    /// Whether ECS deploys it blue/green itself (`strategy` BLUE_GREEN).
    pub fn is_ecs_blue_green(&self) -> bool {
        self.deployment_controller == DeploymentController::Ecs
            && self.strategy.as_deref() == Some("BLUE_GREEN")
    }

    /// The PRIMARY deployment: the one the service is moving to.
    pub fn primary_deployment(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }

    /// The overall rollout state of the service as an operator reads it.
    pub fn rollout(&self) -> RolloutState {
        match self.primary_deployment() {
            Some(d) => d.rollout_state,
            None => RolloutState::Unknown,
        }
    }

    /// What the service's own fields say (status, rollout, counts). The
    /// console shows and counts `EnvState::service_health` instead, which
    /// also weighs failed tasks, targets, HTTP checks and time.
    pub fn health(&self) -> Health {
        if self.status != "ACTIVE" {
            return Health::Warning;
        }
        match self.rollout() {
            RolloutState::Failed => return Health::Critical,
            RolloutState::InProgress => return Health::Progressing,
            _ => {}
        }
        if self.desired_count > 0 && self.running_count == 0 {
            Health::Critical
        } else if self.running_count < self.desired_count {
            Health::Warning
        } else {
            Health::Ok
        }
    }
}

/// ECS deployment circuit breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CircuitBreaker {
    pub enable: bool,
    pub rollback: bool,
}

/// The rollout state of an ECS deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RolloutState {
    Completed,
    InProgress,
    Failed,
    Unknown,
}

impl RolloutState {
    pub fn parse(s: &str) -> Self {
        match s {
            "COMPLETED" => Self::Completed,
            "IN_PROGRESS" => Self::InProgress,
            "FAILED" => Self::Failed,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "COMPLETED",
            Self::InProgress => "IN_PROGRESS",
            Self::Failed => "FAILED",
            Self::Unknown => "-",
        }
    }
}

/// One deployment of a service (`Service.deployments`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Deployment {
    pub id: String,
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub task_definition: String,
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
    pub failed_tasks: u32,
    pub rollout_state: RolloutState,
    pub rollout_state_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A service event message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceEvent {
    pub id: String,
    pub created_at: Timestamp,
    pub message: String,
}

/// A load balancer attachment of a service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoadBalancerRef {
    pub target_group_arn: Option<String>,
    pub container_name: Option<String>,
    pub container_port: Option<u16>,
}

/// An ECS task (`DescribeTasks`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    pub arn: String,
    pub cluster_arn: String,
    pub task_definition: String,
    /// `service:NAME` for service tasks, as ECS reports it.
    pub group: Option<String>,
    pub last_status: String,
    pub desired_status: String,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`.
    pub health_status: String,
    pub availability_zone: Option<String>,
    pub launch_type: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub created_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub stopped_at: Option<Timestamp>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    /// When ECS began stopping it (`stoppingAt`).
    pub stopping_at: Option<Timestamp>,
    /// Fargate platform version (`1.4.0`), if any.
    pub platform_version: Option<String>,
    /// The private IPv4 address of its network interface (awsvpc).
    pub private_ip: Option<String>,
    /// The id of its elastic network interface (awsvpc).
    pub eni: Option<String>,
    /// ECS Exec was enabled when the task was started (only then can a
    /// shell be opened in its containers).
    pub enable_execute_command: bool,
    pub containers: Vec<Container>,
}

impl Identified for Task {}

impl Task {
    /// The short id: the last segment of the ARN.
    pub fn id(&self) -> &str {
        short_id(&self.arn)
    }

    /// The service this task belongs to, if it was started by one.
    pub fn service_name(&self) -> Option<&str> {
        self.group
            .as_deref()
            .and_then(|g| g.strip_prefix("service:"))
    }

    pub fn health(&self) -> Health {
        match (self.last_status.as_str(), self.health_status.as_str()) {
            ("STOPPED", _) => {
                if self.stop_code.as_deref() == Some("EssentialContainerExited") {
                    Health::Critical
                } else {
                    Health::Unknown
                }
            }
            (_, "UNHEALTHY") => Health::Critical,
            ("RUNNING", "HEALTHY") => Health::Ok,
            ("RUNNING", _) => Health::Ok,
            _ => Health::Progressing,
        }
    }
}

/// A container of a task.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Container {
    pub name: String,
    pub image: String,
    /// The digest the image resolved to (`sha256:…`), once pulled.
    pub image_digest: Option<String>,
    pub last_status: String,
    pub health_status: Option<String>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    /// The container runtime's id: with the cluster and task ids, the
    /// target of an ECS Exec session.
    pub runtime_id: Option<String>,
    /// `lastStatus` of its ExecuteCommandAgent (ECS Exec), when it has one.
    pub exec_agent: Option<String>,
}

/// A task-definition revision (`DescribeTaskDefinition`). Immutable once
/// registered, so it is fetched once per ARN and cached.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskDefinition {
    pub arn: String,
    pub family: String,
    pub revision: u32,
    pub status: String,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub network_mode: Option<String>,
    pub requires_compatibilities: Vec<String>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub containers: Vec<ContainerDefinition>,
    pub registered_at: Option<Timestamp>,
}

/// One container definition of a task definition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    pub essential: bool,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub port_mappings: Vec<u16>,
    /// Secret references (name and `valueFrom` ARN), never values.
    pub secrets: Vec<(String, String)>,
    pub log_group: Option<String>,
    pub log_stream_prefix: Option<String>,
}

/// An Application Auto Scaling scalable target of an ECS service.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScalableTarget {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub policies: Vec<ScalingPolicy>,
}

impl Identified for ScalableTarget {}

impl ScalableTarget {
    pub fn service_name(&self) -> Option<&str> {
        self.resource_id.rsplit('/').next()
    }

    /// The cluster of `service/CLUSTER/SERVICE`.
    pub fn cluster_name(&self) -> Option<&str> {
        self.resource_id.strip_prefix("service/")?.split('/').next()
    }
}

/// A target-tracking scaling policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScalingPolicy {
    pub name: String,
    pub metric: String,
    pub target_value: f64,
}

// ---------------------------------------------------------------- ELBv2

/// A load-balancer target group and the health of its targets
/// (`DescribeTargetGroups` + `DescribeTargetHealth`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub health_check_path: Option<String>,
    pub load_balancer_arns: Vec<String>,
    pub targets: Vec<TargetHealth>,
}

impl Identified for TargetGroup {}

impl TargetGroup {
    /// How many targets are `healthy`.
    pub fn healthy(&self) -> usize {
        self.targets.iter().filter(|t| t.state == "healthy").count()
    }
}

/// One registered target and its health state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TargetHealth {
    /// The target id (an IP address for Fargate tasks).
    pub id: String,
    pub port: Option<u16>,
    pub availability_zone: Option<String>,
    /// `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`.
    pub state: String,
    pub reason: Option<String>,
    pub description: Option<String>,
}

impl TargetHealth {
    /// How bad its state is, to find the worst of several: `healthy` 0,
    /// `unused` 1 (not registered on a port in use, or its host not
    /// running), `initial` / `draining` 2, anything else (`unhealthy`,
    /// `unavailable`) 3.
    pub fn rank(&self) -> u8 {
        match self.state.as_str() {
            "healthy" => 0,
            "unused" => 1,
            "initial" | "draining" => 2,
            _ => 3,
        }
    }
}

// ---------------------------------------------------------------- RDS

/// An RDS DB instance (`DescribeDBInstances`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DbInstance {
    pub id: String,
    pub arn: String,
    pub engine: String,
    pub engine_version: String,
    pub class: String,
    /// `available`, `backing-up`, `modifying`, `rebooting`, ...
    pub status: String,
    pub multi_az: bool,
    pub availability_zone: Option<String>,
    pub secondary_availability_zone: Option<String>,
    pub allocated_storage_gib: u32,
    pub storage_type: Option<String>,
    pub backup_retention_days: u32,
    pub endpoint: Option<String>,
    pub port: Option<u16>,
    /// The primary this instance replicates from.
    pub replica_source: Option<String>,
    /// Replicas of this instance.
    pub replicas: Vec<String>,
    pub pending_modifications: Vec<String>,
    pub latest_restorable_time: Option<Timestamp>,
    pub created_at: Option<Timestamp>,
    /// Placement, groups, protection and tags: what a restore copies from
    /// its source (a restored instance does not carry them by itself).
    #[serde(default)]
    pub settings: DbSettings,
}

impl Identified for DbInstance {}

/// The settings of a DB instance that a restore does not carry over by
/// itself (`DescribeDBInstances`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DbSettings {
    pub subnet_group: Option<String>,
    /// VPC security group ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    pub parameter_group: Option<String>,
    pub option_group: Option<String>,
    #[serde(default)]
    pub deletion_protection: bool,
    /// `(key, value)`, in the order the API lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
}

/// What a restore sends besides its source and its new identifier: what
/// the source instance has and a restored instance would not carry by
/// itself. The engine's default parameter and option groups are left out:
/// the restore assigns them anyway (and a default group cannot always be
/// named).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RestoreSettings {
    pub class: String,
    pub multi_az: bool,
    pub storage_type: Option<String>,
    pub subnet_group: Option<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    pub parameter_group: Option<String>,
    pub option_group: Option<String>,
    pub deletion_protection: bool,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

impl RestoreSettings {
    /// The settings of `source` a restore copies.
    pub fn of(source: &DbInstance) -> Self {
        let s = &source.settings;
        Self {
            class: source.class.clone(),
            multi_az: source.multi_az,
            storage_type: source.storage_type.clone(),
            subnet_group: s.subnet_group.clone(),
            security_groups: s.security_groups.clone(),
            parameter_group: s
                .parameter_group
                .clone()
                .filter(|g| !g.starts_with("default.")),
            option_group: s
                .option_group
                .clone()
                .filter(|g| !g.starts_with("default:")),
            deletion_protection: s.deletion_protection,
            tags: s.tags.clone(),
        }
    }
}

impl DbInstance {
    pub fn role(&self) -> DbRole {
        if self.replica_source.is_some() {
            DbRole::Replica
        } else {
            DbRole::Primary
        }
    }

    pub fn health(&self) -> Health {
        match self.status.as_str() {
            "available" => Health::Ok,
            "backing-up"
            | "modifying"
            | "rebooting"
            | "creating"
            | "upgrading"
            | "maintenance"
            | "configuring-enhanced-monitoring"
            | "storage-optimization" => Health::Progressing,
            "failed"
            | "inaccessible-encryption-credentials"
            | "incompatible-network"
            | "incompatible-parameters"
            | "incompatible-restore"
            | "storage-full"
            | "stopped" => Health::Critical,
            _ => Health::Warning,
        }
    }
}

/// Whether a DB instance is a primary or a read replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DbRole {
    Primary,
    Replica,
}

impl fmt::Display for DbRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Primary => "primary",
            Self::Replica => "replica",
        })
    }
}

/// An RDS snapshot (`DescribeDBSnapshots`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DbSnapshot {
    pub id: String,
    pub arn: String,
    pub instance_id: String,
    /// `manual` or `automated`.
    pub snapshot_type: String,
    /// `creating`, `available`, ...
    pub status: String,
    pub percent_progress: Option<u8>,
    pub allocated_storage_gib: u32,
    pub created_at: Option<Timestamp>,
}

impl Identified for DbSnapshot {}

// ---------------------------------------------------------- CloudWatch

/// The state of a CloudWatch alarm.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum AlarmState {
    // Order matters: ALARM sorts first.
    Alarm,
    InsufficientData,
    Ok,
}

impl AlarmState {
    pub fn parse(s: &str) -> Self {
        match s {
            "ALARM" => Self::Alarm,
            "OK" => Self::Ok,
            _ => Self::InsufficientData,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
            Self::Ok => "OK",
        }
    }
}

/// A CloudWatch metric or composite alarm (`DescribeAlarms`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Alarm {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub state: AlarmState,
    pub state_reason: String,
    pub state_updated_at: Timestamp,
    pub actions_enabled: bool,
    pub composite: bool,
    pub metric: Option<MetricRef>,
    pub comparison: Option<String>,
    pub threshold: Option<f64>,
    pub period_seconds: Option<u32>,
    pub evaluation_periods: Option<u32>,
}

impl Identified for Alarm {}

impl Alarm {
    /// The comparison as a symbol (`>`, `>=`, `<`, `<=`), for display.
    pub fn comparison_symbol(&self) -> &'static str {
        match self.comparison.as_deref() {
            Some("GreaterThanThreshold") => ">",
            Some("GreaterThanOrEqualToThreshold") => ">=",
            Some("LessThanThreshold") => "<",
            Some("LessThanOrEqualToThreshold") => "<=",
            _ => "?",
        }
    }
}

/// The metric an alarm watches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MetricRef {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    pub statistic: Option<String>,
    pub unit: Option<String>,
}

/// A metric time series (`GetMetricData` result).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricSeries {
    pub id: String,
    pub label: String,
    pub unit: Option<String>,
    /// Oldest first; a missing point is simply absent.
    pub points: Vec<(Timestamp, f64)>,
}

// --- metrics

/// One query of a batched `GetMetricData` request: a metric, a statistic
/// and a period. `id` is unique within the request (`^[a-z][a-zA-Z0-9_]*$`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MetricQuery {
    pub id: String,
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    /// `Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount`.
    pub statistic: String,
    pub period_seconds: u32,
}

impl MetricQuery {
    /// Whether this queries `namespace/name` with exactly `dimensions` (in
    /// any order) and `statistic`.
    pub fn is(
        &self,
        namespace: &str,
        name: &str,
        dimensions: &[(String, String)],
        statistic: &str,
    ) -> bool {
        self.namespace == namespace
            && self.name == name
            && self.statistic == statistic
            && self.dimensions.len() == dimensions.len()
            && dimensions.iter().all(|d| self.dimensions.contains(d))
    }
}

/// One entry of an alarm's history (`DescribeAlarmHistory`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlarmHistoryItem {
    pub timestamp: Timestamp,
    /// `StateUpdate`, `ConfigurationUpdate`, `Action`.
    pub kind: String,
    pub summary: String,
    /// For state updates: from → to, and why.
    pub old_state: Option<AlarmState>,
    pub new_state: Option<AlarmState>,
    pub reason: Option<String>,
}

// --------------------------------------------------------------- health

/// How healthy a thing is, as the console colours it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Health {
    Critical,
    Warning,
    Progressing,
    Unknown,
    Ok,
}

/// The last segment of an ARN (after the last `/`), or the whole string.
pub fn short_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// `family:revision` of a task-definition ARN.
pub fn task_definition_label(arn: &str) -> &str {
    short_id(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids() {
        assert_eq!(
            short_id("arn:aws:ecs:ap-northeast-1:123:task/prod/0123abcd"),
            "0123abcd"
        );
        assert_eq!(
            task_definition_label("arn:aws:ecs:ap-northeast-1:123:task-definition/web:42"),
            "web:42"
        );
        assert_eq!(short_id("plain"), "plain");
    }

    #[test]
    fn alarm_state_sorts_alarm_first() {
        let mut v = vec![
            AlarmState::Ok,
            AlarmState::Alarm,
            AlarmState::InsufficientData,
        ];
        v.sort();
        assert_eq!(
            v,
            vec![
                AlarmState::Alarm,
                AlarmState::InsufficientData,
                AlarmState::Ok
            ]
        );
    }
}

// --- logs

/// A CloudWatch Logs `FilterLogEvents` request: one log group, optionally
/// narrowed to the streams starting with a prefix, to events matching a
/// filter pattern and to a time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub group: String,
    /// `logStreamNamePrefix`: `<prefix>/<container>/` for a service,
    /// `<prefix>/<container>/<task id>` for one task.
    pub stream_prefix: Option<String>,
    /// A CloudWatch Logs filter pattern, evaluated by the server.
    pub filter_pattern: Option<String>,
    /// Events at or after this time.
    pub start: Timestamp,
    /// Events before this time; `None` means up to now.
    pub end: Option<Timestamp>,
    /// The most events of one page.
    pub limit: u32,
    /// The token of the next page of the same query.
    pub next_token: Option<String>,
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// `eventId`: unique within the group; the key of de-duplication.
    pub id: String,
    pub timestamp: Timestamp,
    pub ingested: Option<Timestamp>,
    pub stream: String,
    pub message: String,
}

/// One page of `FilterLogEvents`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogPage {
    pub events: Vec<LogEvent>,
    /// More events of the same query may follow.
    pub next_token: Option<String>,
}

/// A data age as the screen shows it: `4s`, `12m`, `3h`, `2d`.
pub fn format_age(age: chrono::TimeDelta) -> String {
    let s = age.num_seconds().max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

/// The unit of a well-known AWS metric (GetMetricData does not say).
pub fn known_unit(namespace: &str, name: &str) -> Option<&'static str> {
    Some(match (namespace, name) {
        (_, "CPUUtilization" | "MemoryUtilization") => "Percent",
        ("AWS/ElastiCache", "EngineCPUUtilization" | "DatabaseMemoryUsagePercentage") => "Percent",
        ("AWS/ElastiCache", "ReplicationLag") => "Seconds",
        ("AWS/ElastiCache", "Evictions" | "CurrConnections") => "Count",
        ("AWS/RDS", "FreeStorageSpace" | "FreeableMemory") => "Bytes",
        (_, "TargetResponseTime" | "ReplicaLag") => "Seconds",
        (_, "DatabaseConnections" | "RequestCount") => "Count",
        (_, n) if n.starts_with("HTTPCode_") => "Count",
        _ => return None,
    })
}
