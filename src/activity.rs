//! This session's operations as the state holds them: an [`Activity`]
//! (sent, accepted, failed or a dry run) and the [`Watch`] that follows an
//! accepted change to its end. [`crate::watch`] evaluates a watch on the
//! environment's freshly polled data.

use crate::domain::Timestamp;
use crate::ops::Operation;

/// How long a change is followed before the console stops watching it.
pub const WATCH_LIMIT_MINUTES: i64 = 30;
/// How long a restore or a promotion is followed: a large database takes
/// hours to restore.
pub const RECOVERY_WATCH_LIMIT_MINUTES: i64 = 6 * 60;

/// One operation of this session.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// The audit-log id (pairs intent and result records).
    pub id: String,
    pub env: usize,
    pub env_name: String,
    pub op: Operation,
    pub started_at: Timestamp,
    pub dry_run: bool,
    pub status: OpStatus,
    pub watch: Option<Watch>,
    /// Who acted where, as the intent recorded it: the final record of the
    /// change says the same.
    pub context: crate::effect::AuditContext,
}

impl Activity {
    /// Still sending, or sent and not yet finished.
    pub fn is_active(&self) -> bool {
        match &self.status {
            OpStatus::Sending | OpStatus::Checking { .. } => true,
            OpStatus::Accepted { .. } => self.watch.as_ref().is_some_and(|w| !w.status.is_final()),
            _ => false,
        }
    }

    /// When the operation (or its watch) ended.
    pub fn finished_at(&self) -> Option<Timestamp> {
        match &self.status {
            OpStatus::Sending | OpStatus::Checking { .. } => None,
            OpStatus::Accepted { at, .. } => match &self.watch {
                Some(w) => w.finished_at,
                None => Some(*at),
            },
            OpStatus::Failed { at, .. }
            | OpStatus::DryRun { at }
            | OpStatus::NotApplied { at, .. }
            | OpStatus::Unknown { at, .. } => Some(*at),
        }
    }
}

/// Where an operation's request is.
#[derive(Debug, Clone, PartialEq)]
pub enum OpStatus {
    /// The intent is being recorded and the request sent.
    Sending,
    /// The API accepted it; `detail` names what it returned.
    Accepted { at: Timestamp, detail: String },
    /// The request failed (or the intent could not be recorded).
    Failed { at: Timestamp, error: String },
    /// The request went unanswered (`error` says how): the change is being
    /// read back; nothing is sent again.
    Checking { since: Timestamp, error: String },
    /// Unanswered, and reading it back showed the change not applied.
    NotApplied { at: Timestamp, detail: String },
    /// Unanswered, and reading it back could not tell: check by hand.
    Unknown { at: Timestamp, detail: String },
    /// `--dry-run`: recorded, nothing sent.
    DryRun { at: Timestamp },
}

/// What a watch follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchTarget {
    /// A service rolling out `task_definition` (deploy, rollback, restart)
    /// in deployment `deployment`, or reaching `desired` tasks (scale).
    Service {
        service: String,
        deployment: Option<String>,
        task_definition: String,
        desired: Option<u32>,
    },
    /// Auto-scaling bounds taking effect.
    Bounds { service: String, min: u32, max: u32 },
    /// A snapshot being created.
    Snapshot { id: String },
    /// An instance rebooting; `seen_busy` once it was seen not available.
    Reboot { instance: String, seen_busy: bool },
    /// An alarm's actions being switched.
    Alarm { name: String, enabled: bool },
    /// A recovery: a restored instance (`promote` false) or a promoted
    /// replica becoming available, timed from `started` (when it was
    /// confirmed) against the environment's RTO; `seen_busy` once the
    /// instance was seen not available.
    Recovery {
        instance: String,
        promote: bool,
        started: Timestamp,
        rto_minutes: Option<u32>,
        seen_busy: bool,
    },
    /// An EC2 instance rebooted, stopped or started until it reaches the
    /// action's end: running with both status checks ok, or stopped;
    /// `seen_busy` once it was seen changing (not running with checks ok,
    /// for a reboot or start).
    Host {
        instance: String,
        action: crate::domain::PowerAction,
        seen_busy: bool,
    },
    /// A CloudFront invalidation until CloudFront says Completed.
    Invalidation { distribution: String, id: String },
    /// A CodeDeploy blue/green deployment of `service` after an operation
    /// on it (`goal`), until it ends (a new deployment: until it waits for
    /// a continue or succeeds).
    BlueGreen {
        service: String,
        deployment: String,
        goal: BlueGreenGoal,
    },
    /// A task being stopped (`task`: its ARN) and, when a service started
    /// it, that service's replacement starting; `stopped` once it was seen
    /// STOPPED.
    StopTask {
        task: String,
        service: Option<String>,
        stopped: bool,
    },
}

/// What an operation on a blue/green deployment wants of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlueGreenGoal {
    /// Stopped and rolled back: traffic on the original task set.
    RolledBack,
    /// Rerouted to the replacement, to Succeeded.
    Succeeded,
    /// A new deployment: its replacement ready (waiting for a continue)
    /// or Succeeded.
    Ready,
}

/// A change being followed.
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    pub target: WatchTarget,
    pub since: Timestamp,
    pub status: WatchStatus,
    pub finished_at: Option<Timestamp>,
}

/// How far a watched change has got.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchStatus {
    /// Under way: a line of text and, for rollouts, running / desired.
    InProgress {
        text: String,
        progress: Option<(u32, u32)>,
        failed_tasks: u32,
    },
    Completed(String),
    Failed(String),
    /// The circuit breaker (or a newer deployment) replaced it.
    RolledBack(String),
    /// A later operation of this session replaced it (e.g. the operator
    /// rolled back while it was rolling out): not a failure of its own.
    Superseded(String),
    /// Watched for [`WATCH_LIMIT_MINUTES`] without an end.
    GaveUp(String),
}

impl WatchStatus {
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::InProgress { .. })
    }

    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Failed(_) | Self::RolledBack(_) | Self::GaveUp(_)
        )
    }

    pub fn text(&self) -> &str {
        match self {
            Self::InProgress { text, .. } => text,
            Self::Completed(t)
            | Self::Failed(t)
            | Self::RolledBack(t)
            | Self::Superseded(t)
            | Self::GaveUp(t) => t,
        }
    }

    pub fn word(&self) -> &'static str {
        match self {
            Self::InProgress { .. } => "in progress",
            Self::Completed(_) => "completed",
            Self::Failed(_) => "failed",
            Self::RolledBack(_) => "rolled back",
            Self::Superseded(_) => "superseded",
            Self::GaveUp(_) => "not finished",
        }
    }
}

impl Watch {
    pub fn new(target: WatchTarget, since: Timestamp) -> Self {
        Self {
            target,
            since,
            status: WatchStatus::InProgress {
                text: "waiting for fresh data…".to_string(),
                progress: None,
                failed_tasks: 0,
            },
            finished_at: None,
        }
    }
}
