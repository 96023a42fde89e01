//! The backend: everything the console asks of an environment.
//!
//! One backend instance serves one environment. Two implementations exist:
//! the AWS SDK ([`aws`]) and the simulated environment ([`sim`]); the
//! read-only guard ([`guard`]) wraps either. A backend is a set of
//! capabilities ([`Backend`]: one per AWS service, reads apart from
//! changes). All return our own domain types and a typed [`BackendError`];
//! the UI never sees an SDK type. Listing calls return *complete* results
//! (the implementation reads every page and batches describes to the API
//! limits) with any per-resource failures reported alongside.

pub mod aws;
pub mod guard;
pub mod read;
pub mod sim;

/// Every capability trait, unnamed: `use honban::backend::prelude::*;`
/// lets a concrete backend's calls (`sim.services(..)`) be written as
/// methods.
pub mod prelude {
    pub use super::{
        CloudFront as _, CloudFrontChanges as _, CloudWatch as _, CloudWatchChanges as _,
        CodeDeploy as _, CodeDeployChanges as _, Ec2 as _, Ec2Changes as _, Ecr as _, Ecs as _,
        EcsChanges as _, ElastiCache as _, Elb as _, Logs as _, LogsChanges as _, Rds as _,
        RdsChanges as _, Scaling as _, ScalingChanges as _, Sts as _,
    };
}

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{
    Alarm, AlarmHistoryItem, CallerIdentity, Cluster, DbInstance, DbSnapshot, Listing, MetricQuery,
    MetricSeries, ScalableTarget, Service, TargetGroup, Task, TaskDefinition, Timestamp,
};
use crate::domain::{BlueGreen, CdDeployment};
use crate::domain::{Distribution, Invalidation};
use crate::domain::{EcrImage, ImageLookup};
use crate::domain::{Instance, InstanceFilter, ReplicationGroup};
use crate::domain::{LogPage, LogQuery};

/// Why a backend call failed, in the terms an operator acts on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BackendError {
    /// The API throttled us; retry later.
    Throttled { message: String },
    /// Credentials are missing, invalid or expired, or access is denied.
    Unauthorized {
        message: String,
        hint: Option<String>,
    },
    /// The resource does not exist.
    NotFound { resource: String },
    /// The service could not be reached or answered with a server error.
    Unavailable { message: String },
    /// The environment is read-only; the request was not sent.
    ReadOnly { operation: String },
    /// The request was invalid (bad parameter, invalid state).
    Invalid { message: String },
    /// The backend of this environment has no such capability (a
    /// simulation without ECS Exec, a backend without RDS): nothing was
    /// sent.
    Missing { capability: String },
    /// Anything else.
    Other { message: String },
}

impl BackendError {
    /// A short label for the kind of failure.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Throttled { .. } => "throttled",
            Self::Unauthorized { .. } => "unauthorized",
            Self::NotFound { .. } => "not found",
            Self::Unavailable { .. } => "unavailable",
            Self::ReadOnly { .. } => "read-only",
            Self::Invalid { .. } => "invalid",
            Self::Missing { .. } => "not available",
            Self::Other { .. } => "error",
        }
    }

    /// A capability the backend does not have.
    pub fn missing(capability: &str) -> Self {
        Self::Missing {
            capability: capability.to_string(),
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Throttled { .. } | Self::Unavailable { .. })
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Throttled { message } => write!(f, "throttled: {message}"),
            // The fix first: it is what the operator needs at 3 a.m.
            Self::Unauthorized { message, hint } => match hint {
                Some(hint) => write!(f, "unauthorized — {hint} — {message}"),
                None => write!(f, "unauthorized: {message}"),
            },
            Self::NotFound { resource } => write!(f, "not found: {resource}"),
            Self::Unavailable { message } => write!(f, "unavailable: {message}"),
            Self::ReadOnly { operation } => {
                write!(f, "read-only: {operation} was not sent")
            }
            Self::Invalid { message } => write!(f, "invalid request: {message}"),
            Self::Missing { capability } => {
                write!(
                    f,
                    "not available: this environment's backend has no {capability}"
                )
            }
            Self::Other { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for BackendError {}

pub type BackendResult<T> = Result<T, BackendError>;

/// A change to an ECS service (`UpdateService`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceUpdate {
    pub desired_count: Option<u32>,
    pub task_definition: Option<String>,
    pub force_new_deployment: bool,
}

/// A new task-definition revision to register: the current one with the
/// image of one or more containers replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageChange {
    /// The ARN of the revision to copy.
    pub base: String,
    /// `(container name, new image)` pairs.
    pub images: Vec<(String, String)>,
}

/// What the console reads from and does to one environment: a set of
/// capabilities, one per AWS service (its reads, and apart from them its
/// changes), each optional. A backend implements those it has — each in
/// its own file (`aws/ecs.rs`: `impl Ecs for AwsBackend`) — and returns
/// them here; a capability it does not return answers
/// [`BackendError::Missing`] (so a backend without RDS needs no stubs). The
/// changes are separate capabilities so that the read-only guard
/// ([`guard::ReadOnly`]) passes every read through whole and refuses every
/// change, whatever is added later.
pub trait Backend: Send + Sync {
    /// STS: who the credentials are.
    fn sts(&self) -> BackendResult<&dyn Sts> {
        Err(BackendError::missing("STS"))
    }
    /// ECS reads: clusters, services, tasks, task definitions.
    fn ecs(&self) -> BackendResult<&dyn Ecs> {
        Err(BackendError::missing("ECS"))
    }
    /// ECS changes: deploy, scale, stop a task, ECS Exec.
    fn ecs_changes(&self) -> BackendResult<&dyn EcsChanges> {
        Err(BackendError::missing("ECS"))
    }
    /// EC2 reads: the environment's instances with their status checks.
    fn ec2(&self) -> BackendResult<&dyn Ec2> {
        Err(BackendError::missing("EC2"))
    }
    /// ElastiCache reads: the environment's replication groups with their
    /// member clusters.
    fn elasticache(&self) -> BackendResult<&dyn ElastiCache> {
        Err(BackendError::missing("ElastiCache"))
    }
    /// EC2 changes: reboot, stop, start an instance.
    fn ec2_changes(&self) -> BackendResult<&dyn Ec2Changes> {
        Err(BackendError::missing("EC2"))
    }
    /// ECR reads: an image's digest and push time.
    fn ecr(&self) -> BackendResult<&dyn Ecr> {
        Err(BackendError::missing("ECR"))
    }
    /// Application Auto Scaling reads: the services' scalable targets.
    fn scaling(&self) -> BackendResult<&dyn Scaling> {
        Err(BackendError::missing("Application Auto Scaling"))
    }
    /// Application Auto Scaling changes: a service's bounds.
    fn scaling_changes(&self) -> BackendResult<&dyn ScalingChanges> {
        Err(BackendError::missing("Application Auto Scaling"))
    }
    /// ELBv2 reads: target groups and their targets' health.
    fn elb(&self) -> BackendResult<&dyn Elb> {
        Err(BackendError::missing("Elastic Load Balancing"))
    }
    /// RDS reads: instances and snapshots.
    fn rds(&self) -> BackendResult<&dyn Rds> {
        Err(BackendError::missing("RDS"))
    }
    /// RDS changes: snapshot, reboot/failover, restore, promote.
    fn rds_changes(&self) -> BackendResult<&dyn RdsChanges> {
        Err(BackendError::missing("RDS"))
    }
    /// CloudWatch reads: alarms, their history, metric data.
    fn cloudwatch(&self) -> BackendResult<&dyn CloudWatch> {
        Err(BackendError::missing("CloudWatch"))
    }
    /// CloudWatch changes: alarm actions on and off.
    fn cloudwatch_changes(&self) -> BackendResult<&dyn CloudWatchChanges> {
        Err(BackendError::missing("CloudWatch"))
    }
    /// CloudWatch Logs reads: log events.
    fn logs(&self) -> BackendResult<&dyn Logs> {
        Err(BackendError::missing("CloudWatch Logs"))
    }
    /// CloudWatch Logs changes: the shared audit trail's records.
    fn logs_changes(&self) -> BackendResult<&dyn LogsChanges> {
        Err(BackendError::missing("CloudWatch Logs"))
    }
    /// CloudFront reads: distributions and their invalidations.
    fn cloudfront(&self) -> BackendResult<&dyn CloudFront> {
        Err(BackendError::missing("CloudFront"))
    }
    /// CloudFront changes: an invalidation.
    fn cloudfront_changes(&self) -> BackendResult<&dyn CloudFrontChanges> {
        Err(BackendError::missing("CloudFront"))
    }
    /// CodeDeploy reads: the blue/green deployments of CODE_DEPLOY
    /// services.
    fn codedeploy(&self) -> BackendResult<&dyn CodeDeploy> {
        Err(BackendError::missing("CodeDeploy"))
    }
    /// CodeDeploy changes: stop (with rollback), continue, create a
    /// deployment.
    fn codedeploy_changes(&self) -> BackendResult<&dyn CodeDeployChanges> {
        Err(BackendError::missing("CodeDeploy"))
    }

    /// Requests sent so far, by `service:Operation` (empty for backends
    /// that send none).
    fn request_stats(&self) -> BTreeMap<String, OpStats> {
        BTreeMap::new()
    }
}

/// STS.
#[async_trait]
pub trait Sts: Send + Sync {
    /// STS `GetCallerIdentity`.
    async fn caller_identity(&self) -> BackendResult<CallerIdentity>;
}

/// ECS reads.
#[async_trait]
pub trait Ecs: Send + Sync {
    /// ECS `DescribeClusters`.
    async fn clusters(&self, names: &[String]) -> BackendResult<Listing<Cluster>>;

    /// ECS `ListClusters`, every page: the names of every cluster of the
    /// account in the region, sorted (for an environment that names none).
    async fn list_clusters(&self) -> BackendResult<Vec<String>>;

    /// Every service of a cluster (ListServices, every page; DescribeServices
    /// in batches of 10).
    async fn services(&self, cluster: &str) -> BackendResult<Listing<Service>>;

    /// Every running task of a cluster and those stopped recently
    /// (ListTasks for both desired statuses; DescribeTasks in batches of 100).
    async fn tasks(&self, cluster: &str) -> BackendResult<Listing<Task>>;

    /// `DescribeTaskDefinition`.
    async fn task_definition(&self, arn: &str) -> BackendResult<TaskDefinition>;

    /// Every ACTIVE revision ARN of a family, newest first.
    async fn task_definition_revisions(&self, family: &str) -> BackendResult<Vec<String>>;
}

/// ECS changes (refused by the read-only guard).
#[async_trait]
pub trait EcsChanges: Send + Sync {
    /// ECS `UpdateService`; returns the updated service.
    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        update: ServiceUpdate,
    ) -> BackendResult<Service>;

    /// `RegisterTaskDefinition` copying `change.base` with new images.
    async fn register_task_definition(&self, change: ImageChange) -> BackendResult<TaskDefinition>;

    /// ECS `StopTask` with the reason ECS records; returns the task.
    async fn stop_task(&self, cluster: &str, task: &str, reason: &str) -> BackendResult<Task>;

    /// ECS `ExecuteCommand`, interactive: opens an ECS Exec session running
    /// `command` in `container` of `task` (then the container's runtime id
    /// is read with DescribeTasks, as the CLI does). Returns what the
    /// `session-manager-plugin` needs; nothing is attached yet.
    async fn execute_command(
        &self,
        cluster: &str,
        task: &str,
        container: &str,
        command: &str,
    ) -> BackendResult<crate::domain::ExecSession>;
}

/// EC2 reads.
#[async_trait]
pub trait Ec2: Send + Sync {
    /// EC2 `DescribeInstances`, every page, of the instances `filter`
    /// selects (terminated ones left out), each with its status checks
    /// (`DescribeInstanceStatus` with `IncludeAllInstances`, at most 100
    /// ids a call). An empty filter reads nothing and answers none.
    async fn instances(&self, filter: &InstanceFilter) -> BackendResult<Vec<Instance>>;
}

/// ElastiCache reads.
#[async_trait]
pub trait ElastiCache: Send + Sync {
    /// ElastiCache `DescribeReplicationGroups`, every page, of the groups
    /// named by `ids` (a group that does not exist is a failure of the
    /// listing), each with its member clusters as `DescribeCacheClusters`
    /// with `ShowCacheNodeInfo` (every page) describes them. Empty `ids`
    /// read nothing.
    async fn replication_groups(&self, ids: &[String]) -> BackendResult<Listing<ReplicationGroup>>;
}

/// EC2 changes (refused by the read-only guard). Each sends its call
/// once for one instance, then reads the instance back
/// (`DescribeInstances` with its status checks) and returns it as read.
#[async_trait]
pub trait Ec2Changes: Send + Sync {
    /// EC2 `RebootInstances` of one instance (it stays `running`).
    async fn reboot_instance(&self, id: &str) -> BackendResult<Instance>;

    /// EC2 `StopInstances` of one instance (`stopping`, then `stopped`).
    async fn stop_instance(&self, id: &str) -> BackendResult<Instance>;

    /// EC2 `StartInstances` of one instance (`pending`, then `running`
    /// with its status checks initializing, then ok).
    async fn start_instance(&self, id: &str) -> BackendResult<Instance>;
}

/// ECR reads.
#[async_trait]
pub trait Ecr: Send + Sync {
    /// ECR `DescribeImages` of one image (a read, in the image's own
    /// registry and region): found with its digest and push time, or
    /// missing (the tag, digest or repository does not exist). Access
    /// denied and network failures are errors, never "missing".
    async fn describe_image(&self, image: &EcrImage) -> BackendResult<ImageLookup>;
}

/// Application Auto Scaling reads.
#[async_trait]
pub trait Scaling: Send + Sync {
    /// Application Auto Scaling targets and policies of the services of
    /// these clusters (read in one pass whatever their number; none: none).
    async fn scalable_targets(&self, clusters: &[String]) -> BackendResult<Vec<ScalableTarget>>;
}

/// Application Auto Scaling changes (refused by the read-only guard).
#[async_trait]
pub trait ScalingChanges: Send + Sync {
    /// Application Auto Scaling `RegisterScalableTarget` with new bounds.
    async fn set_scaling_bounds(
        &self,
        cluster: &str,
        service: &str,
        min: u32,
        max: u32,
    ) -> BackendResult<ScalableTarget>;
}

/// Elastic Load Balancing (v2) reads.
#[async_trait]
pub trait Elb: Send + Sync {
    /// ELBv2 target groups by ARN with the health of their targets.
    async fn target_groups(&self, arns: &[String]) -> BackendResult<Vec<TargetGroup>>;
}

/// RDS reads.
#[async_trait]
pub trait Rds: Send + Sync {
    /// RDS `DescribeDBInstances`, every page; `ids` empty means all.
    async fn db_instances(&self, ids: &[String]) -> BackendResult<Vec<DbInstance>>;

    /// RDS `DescribeDBSnapshots`, every page; `ids` empty means all instances.
    async fn db_snapshots(&self, instance_ids: &[String]) -> BackendResult<Vec<DbSnapshot>>;
}

/// RDS changes (refused by the read-only guard).
#[async_trait]
pub trait RdsChanges: Send + Sync {
    /// RDS `CreateDBSnapshot`.
    async fn create_db_snapshot(
        &self,
        instance_id: &str,
        snapshot_id: &str,
    ) -> BackendResult<DbSnapshot>;

    /// RDS `RebootDBInstance`, with failover for Multi-AZ instances.
    async fn reboot_db_instance(
        &self,
        instance_id: &str,
        force_failover: bool,
    ) -> BackendResult<DbInstance>;

    /// RDS `RestoreDBInstanceFromDBSnapshot` or
    /// `RestoreDBInstanceToPointInTime`: a new instance (`restore.target`)
    /// with the settings carried from its source; returns it as created
    /// (usually `creating`, without an endpoint yet).
    async fn restore_db_instance(&self, restore: &DbRestore) -> BackendResult<DbInstance>;

    /// RDS `PromoteReadReplica`: the replica becomes a standalone instance
    /// (replication stops for good).
    async fn promote_read_replica(&self, instance_id: &str) -> BackendResult<DbInstance>;
}

/// CloudWatch reads.
#[async_trait]
pub trait CloudWatch: Send + Sync {
    /// CloudWatch `DescribeAlarms`, every page, metric and composite, whose
    /// names start with one of the prefixes (all when empty).
    async fn alarms(&self, prefixes: &[String]) -> BackendResult<Vec<Alarm>>;

    // --- metrics

    /// CloudWatch `GetMetricData`: the queries in as few requests as the API
    /// allows — one while they fit in [`METRIC_QUERIES_PER_REQUEST`], one
    /// per 500 beyond — plus the `NextToken` pages of each. One series per
    /// query, in the order of the queries, with the query's id; a period
    /// without data is absent from the points, never zero.
    async fn metric_data(
        &self,
        queries: &[MetricQuery],
        start: Timestamp,
        end: Timestamp,
    ) -> BackendResult<Vec<MetricSeries>>;

    /// CloudWatch `DescribeAlarmHistory` of one alarm, newest first.
    async fn alarm_history(&self, name: &str) -> BackendResult<Vec<AlarmHistoryItem>>;
}

/// CloudWatch changes (refused by the read-only guard).
#[async_trait]
pub trait CloudWatchChanges: Send + Sync {
    /// CloudWatch `EnableAlarmActions` / `DisableAlarmActions`.
    async fn set_alarm_actions(&self, names: &[String], enabled: bool) -> BackendResult<()>;
}

/// CloudWatch Logs reads.
#[async_trait]
pub trait Logs: Send + Sync {
    /// CloudWatch Logs `FilterLogEvents`: one page of the events of
    /// `query.group`.
    async fn log_events(&self, query: &LogQuery) -> BackendResult<LogPage>;
}

/// CloudWatch Logs changes (refused by the read-only guard).
#[async_trait]
pub trait LogsChanges: Send + Sync {
    /// CloudWatch Logs `PutLogEvents` of audit records (oldest first) into
    /// `group`/`stream`, creating the stream when it does not exist.
    async fn put_audit_records(
        &self,
        group: &str,
        stream: &str,
        records: &[(Timestamp, String)],
    ) -> BackendResult<()>;
}

/// How many of a distribution's invalidations are read (newest first).
pub const RECENT_INVALIDATIONS: usize = 10;

/// CloudFront reads.
#[async_trait]
pub trait CloudFront: Send + Sync {
    /// CloudFront `GetDistribution`, then `ListInvalidations` (the
    /// [`RECENT_INVALIDATIONS`] newest) and `GetInvalidation` of each one
    /// in progress (its paths and caller reference).
    async fn distribution(&self, id: &str) -> BackendResult<Distribution>;

    /// CloudFront `GetInvalidation`.
    async fn invalidation(&self, distribution: &str, id: &str) -> BackendResult<Invalidation>;

    /// The invalidation sent with `caller_reference`, if any:
    /// `ListInvalidations` (the newest) and `GetInvalidation` of each until
    /// found. How a request whose answer was lost is read back.
    async fn find_invalidation(
        &self,
        distribution: &str,
        caller_reference: &str,
    ) -> BackendResult<Option<Invalidation>>;
}

/// CloudFront changes (refused by the read-only guard).
#[async_trait]
pub trait CloudFrontChanges: Send + Sync {
    /// CloudFront `CreateInvalidation` of `paths` with `caller_reference`
    /// (unique per request: CloudFront answers a repeated reference with
    /// the first invalidation, or refuses it with other paths).
    async fn create_invalidation(
        &self,
        distribution: &str,
        paths: &[String],
        caller_reference: &str,
    ) -> BackendResult<Invalidation>;
}

/// How many deployments of a group one BatchGetDeployments takes.
pub const BATCH_GET_DEPLOYMENTS: usize = 25;

/// How far back the last (ended) deployment of a group is looked for.
pub const LAST_DEPLOYMENT_HOURS: i64 = 24;

/// CodeDeploy reads.
#[async_trait]
pub trait CodeDeploy: Send + Sync {
    /// The deployment groups of the ECS services of these clusters,
    /// discovered (ListApplications, BatchGetApplications — ECS ones —,
    /// ListDeploymentGroups, BatchGetDeploymentGroups whose `ecsServices`
    /// name a service of the clusters), each with its current deployment
    /// (ListDeployments with `includeOnlyStatuses` of the active ones),
    /// else the newest of the past [`LAST_DEPLOYMENT_HOURS`] (ListDeployments
    /// with a `createTimeRange`), read with BatchGetDeployments and its ECS
    /// target (BatchGetDeploymentTargets, `<cluster>:<service>`).
    async fn blue_greens(&self, clusters: &[String]) -> BackendResult<Vec<BlueGreen>>;

    /// CodeDeploy `GetDeployment` and, given its `(cluster, service)`,
    /// its ECS target (BatchGetDeploymentTargets): how an operation is
    /// read back.
    async fn deployment(
        &self,
        id: &str,
        target: Option<(&str, &str)>,
    ) -> BackendResult<CdDeployment>;

    /// The deployment of `application`/`group` whose description is
    /// `description`, among those created since `since` (ListDeployments,
    /// BatchGetDeployments): how a CreateDeployment whose answer was lost
    /// is found again, in this session or a later one.
    async fn find_deployment(
        &self,
        application: &str,
        group: &str,
        description: &str,
        since: crate::domain::Timestamp,
    ) -> BackendResult<Option<CdDeployment>>;
}

/// A new CodeDeploy deployment of an ECS service: an AppSpec naming the
/// new task definition, sent as `AppSpecContent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdCreate {
    pub application: String,
    pub deployment_group: String,
    /// The AppSpec (JSON) content.
    pub appspec: String,
    /// The deployment's description: names honban, the operator's session
    /// and the operation (how it is found again).
    pub description: String,
}

/// CodeDeploy changes (refused by the read-only guard).
#[async_trait]
pub trait CodeDeployChanges: Send + Sync {
    /// CodeDeploy `StopDeployment` (`autoRollbackEnabled`); returns its
    /// `status` (`Pending`, `Succeeded`) and `statusMessage`.
    async fn stop_deployment(&self, id: &str, auto_rollback: bool) -> BackendResult<String>;

    /// CodeDeploy `ContinueDeployment` with `deploymentWaitType`
    /// `READY_WAIT`: the waiting replacement gets production traffic.
    async fn continue_deployment(&self, id: &str) -> BackendResult<()>;

    /// CodeDeploy `CreateDeployment` with an `AppSpecContent` revision;
    /// returns the deployment id.
    async fn create_deployment(&self, create: &CdCreate) -> BackendResult<String>;
}

/// A restore: the new instance, what it is restored from, and the settings
/// copied from the source instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbRestore {
    pub target: String,
    pub from: RestoreFrom,
    pub settings: crate::domain::RestoreSettings,
}

/// What a restore starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreFrom {
    /// A DB snapshot, by its identifier.
    Snapshot(String),
    /// The automated backups of `source` at `time` (`None`: the latest
    /// restorable time).
    PointInTime {
        source: String,
        time: Option<Timestamp>,
    },
}

impl DbRestore {
    /// The API call, `rds:<Operation>`.
    pub fn api(&self) -> &'static str {
        match self.from {
            RestoreFrom::Snapshot(_) => "rds:RestoreDBInstanceFromDBSnapshot",
            RestoreFrom::PointInTime { .. } => "rds:RestoreDBInstanceToPointInTime",
        }
    }
}

/// Counters of one API operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpStats {
    /// Calls the console made.
    pub calls: u64,
    /// Requests that went out for them: each call's attempts, the SDK's
    /// own retries included.
    pub sent: u64,
    /// Calls that failed.
    pub errors: u64,
    /// Requests answered with a throttling error.
    pub throttles: u64,
    /// Duration of the last call, in milliseconds.
    pub last_ms: u64,
    /// The rate the API is allowed now (requests a minute; 0: not known
    /// yet), lower than published while AWS throttles.
    pub rate_per_min: u32,
}

/// The most queries one `GetMetricData` request may carry.
pub const METRIC_QUERIES_PER_REQUEST: usize = 500;

/// The most metric queries of one environment's poll (four requests): an
/// account with more charts the first ones and logs the rest as cut.
pub const METRIC_QUERIES_PER_POLL: usize = 4 * METRIC_QUERIES_PER_REQUEST;

/// The default timeout of one backend call made by the console.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// The one deadline of a mutating request. Mutations are sent once (no
/// automatic retry) and the SDK's own timeouts for them are longer than
/// this, so it is the console that gives up: the result is then unknown,
/// and the change is read back before anything else is said or sent.
pub const MUTATION_TIMEOUT: Duration = Duration::from_secs(30);
