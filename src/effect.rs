//! Effects: the work `update` asks for, carried out on tokio tasks by the
//! [`runner`](crate::runner). Their results come back as actions.

use crate::action::Resource;

/// Who acts where, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub environment: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub caller: Option<String>,
    /// The environment is simulated: nothing real is touched.
    pub simulated: bool,
    /// What the operator saw before (as the dialog showed it).
    pub before: String,
    pub after: String,
    /// A deploy's image as its registry answered when the operator
    /// confirmed (`parameters.imageCheck` in the audit record).
    pub image_check: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Append timeline events to this session's recording (no answer).
    Record { events: Vec<crate::timeline::Event> },
    /// Fetch one resource kind of an environment.
    Fetch {
        env: usize,
        resource: Resource,
        generation: u64,
        /// The ECS clusters to read services, auto scaling or tasks of (the
        /// configured ones, else those discovered); empty for other kinds.
        clusters: Vec<String>,
    },
    /// Fetch the target groups (and their targets' health) of the services.
    FetchTargets {
        env: usize,
        generation: u64,
        arns: Vec<String>,
    },
    /// Fetch a task definition by ARN (once: they are immutable).
    FetchTaskDefinition { env: usize, arn: String },
    /// Fetch the revision list of a task-definition family.
    FetchRevisions {
        env: usize,
        family: String,
        generation: u64,
    },
    /// Record an operation's intent in the audit log, send it (unless a dry
    /// run), record the result.
    Operate {
        id: String,
        env: usize,
        op: Box<crate::ops::Operation>,
        dry_run: bool,
        context: Box<AuditContext>,
    },
    /// Record in the audit log how a followed change ended (its watch's
    /// final status); answered with `Action::OutcomeAudited`.
    AuditOutcome {
        id: String,
        env: usize,
        op: Box<crate::ops::Operation>,
        context: Box<AuditContext>,
        /// The status word: "completed", "rolled back", …
        ended: String,
        /// What was seen at the end.
        detail: String,
        /// Failed, rolled back or given up on.
        failure: bool,
    },
    /// Read back the resource of an intent of an earlier session that has
    /// no result (the console stopped before it came) and record what it
    /// shows; answered with `Action::Reconciled`.
    Reconcile {
        env: usize,
        record: Box<crate::audit::Record>,
    },
    /// Ask the registry whether an image about to be deployed exists
    /// (ECR `DescribeImages`); answered with `Action::ImageChecked`.
    CheckImage {
        env: usize,
        /// The image reference as it will be deployed.
        image: String,
        ecr: crate::images::EcrImage,
    },
    /// Leave the console.
    Quit,
    // --- probes
    /// Probe one health check of an environment.
    Probe {
        env: usize,
        probe: usize,
        generation: u64,
    },
    // --- metrics
    /// One batched `GetMetricData` of everything an environment charts.
    FetchMetrics {
        env: usize,
        generation: u64,
        range: crate::metrics::MetricRange,
        start: crate::domain::Timestamp,
        end: crate::domain::Timestamp,
        queries: Vec<crate::domain::MetricQuery>,
    },
    /// The history of one alarm.
    FetchAlarmHistory {
        env: usize,
        alarm: String,
        generation: u64,
    },
    // --- drills
    /// Ask the drill's simulation how it stands; answered with
    /// `Action::DrillChecked`.
    DrillCheck { env: usize },
    // --- logs
    /// One poll of the logs view: a few pages of each query.
    FetchLogs {
        env: usize,
        generation: u64,
        queries: Vec<crate::domain::LogQuery>,
    },
}
