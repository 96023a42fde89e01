//! Actions: everything that can change the [`State`](crate::state::State).
//!
//! Terminal events, timer ticks and the results of effects all arrive as
//! actions; `update` turns them into a new state and more effects.

use crossterm::event::KeyEvent;

use crate::backend::BackendError;
use crate::config::keys::Command;
use crate::domain::{DbInstance, DbSnapshot, ScalableTarget, Service, TaskDefinition, Timestamp};
use crate::effect::EffectKind;

pub use crate::kind::{Data, Resource};

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A key press from the terminal.
    Key(KeyEvent),
    /// Text pasted into the terminal (bracketed paste): one action however
    /// long, never a flood of keys.
    Paste(String),
    /// A frame was drawn: what is on screen has been shown to the operator
    /// (a confirmation only accepts keys read after it was drawn).
    Drawn,
    /// A bindable command (from the keymap, or sent directly in tests).
    Command(Command),
    /// The terminal was resized.
    Resize(u16, u16),
    /// The wall clock moved on (about once a second).
    Tick(Timestamp),
    /// A poller's interval elapsed for a resource of an environment.
    PollDue { env: usize, resource: Resource },
    /// A fetch finished.
    Loaded {
        env: usize,
        resource: Resource,
        generation: u64,
        at: Timestamp,
        result: Result<Data, BackendError>,
    },
    /// A task definition was fetched (they are immutable: cached by ARN).
    TaskDefinitionLoaded {
        env: usize,
        arn: String,
        result: Result<TaskDefinition, BackendError>,
    },
    /// The request counters of an environment's backend.
    Stats {
        env: usize,
        stats: std::collections::BTreeMap<String, crate::backend::OpStats>,
    },
    /// An operation finished sending (or failed, or was only recorded).
    /// `read_back` is set when its request went unanswered and the result
    /// was read back from the resource (`Ok`: applied).
    OperationDone {
        id: String,
        at: Timestamp,
        result: Result<OpOutcome, String>,
        read_back: Option<crate::reconcile::ReadBack>,
    },
    /// An operation's request went unanswered (`error` says how): the
    /// resource is being read back before anything else is said or sent.
    OperationUnanswered {
        id: String,
        at: Timestamp,
        error: String,
    },
    /// The console has started (after the first frame's setup): intents of
    /// earlier sessions without a result are read back.
    Start,
    /// An intent of an earlier session without a result was read back at
    /// start-up: its new result record (also appended to the audit log),
    /// or why it could not be checked.
    Reconciled {
        id: String,
        result: Result<Box<crate::audit::Record>, String>,
    },
    /// The final record of a followed change was written to the audit log
    /// (or could not be).
    OutcomeAudited {
        id: String,
        result: Result<(), String>,
    },
    /// Something the operator should read, from outside `update` (e.g. the
    /// shared audit trail could not be written).
    Notice { text: String, error: bool },
    /// The revision list of a family was fetched.
    RevisionsLoaded {
        env: usize,
        family: String,
        generation: u64,
        at: Timestamp,
        result: Result<Vec<String>, BackendError>,
    },
    /// The `session-manager-plugin` of an ECS Exec session exited (or could
    /// not be run): the console has the terminal again.
    ExecEnded {
        id: String,
        end: crate::exec::SessionEnd,
    },
    /// An image about to be deployed was checked in its registry (or the
    /// check failed: then whether it exists is not known).
    ImageChecked {
        env: usize,
        image: String,
        result: Result<crate::images::ImageLookup, BackendError>,
    },
    // --- probes
    /// A health check's interval elapsed.
    ProbeDue { env: usize, probe: usize },
    /// A health check's probe answered (or failed).
    ProbeDone {
        env: usize,
        probe: usize,
        generation: u64,
        at: Timestamp,
        report: crate::probe::ProbeReport,
    },
    // --- metrics
    /// The history of an alarm was fetched (`DescribeAlarmHistory`).
    AlarmHistoryLoaded {
        env: usize,
        alarm: String,
        generation: u64,
        at: Timestamp,
        result: Result<Vec<crate::domain::AlarmHistoryItem>, BackendError>,
    },
    // --- replay
    /// A recorded timeline event of environment `env` (a replay shows the
    /// recorded events rather than deriving them again).
    TimelineReplayed {
        env: usize,
        event: Box<crate::timeline::Event>,
    },
    /// A recorded audit record (an operation's intent, result or end).
    AuditReplayed(Box<crate::audit::Record>),
    // --- logs
    /// A poll of the logs view finished.
    LogsLoaded {
        generation: u64,
        at: Timestamp,
        result: Result<crate::logs::LogBatch, BackendError>,
    },
    // --- drills
    /// The simulation's answer to `Effect::DrillCheck` (None: no drill
    /// runs in that environment).
    DrillChecked(Option<crate::backend::sim::DrillStatus>),
}

/// What the API returned for an accepted operation.
#[derive(Debug, Clone, PartialEq)]
pub enum OpOutcome {
    /// `--dry-run`: recorded, nothing sent.
    DryRun,
    /// `UpdateService` returned the service.
    Service(Box<Service>),
    /// A new revision was registered and the service updated to it.
    Deployed {
        task_definition: String,
        service: Box<Service>,
    },
    /// The scalable target with its new bounds.
    Scaling(ScalableTarget),
    Snapshot(DbSnapshot),
    Database(Box<DbInstance>),
    AlarmActions,
    /// `StopTask` returned the task.
    Task(Box<crate::domain::Task>),
    /// The EC2 instance as read back after its reboot, stop or start.
    Instance(Box<crate::domain::Instance>),
    /// `CreateInvalidation` returned the invalidation.
    Invalidation(crate::domain::Invalidation),
    /// A CodeDeploy deployment read back (GetDeployment) after
    /// StopDeployment, ContinueDeployment or CreateDeployment (then with
    /// the revision registered for it).
    CodeDeploy {
        task_definition: Option<String>,
        deployment: Box<crate::domain::CdDeployment>,
    },
    /// `ExecuteCommand` opened a session (the plugin attaches to it).
    Exec(Box<crate::exec::ExecSession>),
}

impl Action {
    /// The effect this action answers (its result), if it is one: every
    /// answered [`Effect`](crate::effect::Effect) gets exactly one. No
    /// wildcard: a new action must say.
    pub const fn completes(&self) -> Option<EffectKind> {
        match self {
            // Every kind is read by `Effect::Fetch` (its `Kind::read`)
            // but the two whose requests need more than the scope.
            Self::Loaded { resource, .. } => Some(match resource {
                Resource::Targets => EffectKind::FetchTargets,
                Resource::Metrics => EffectKind::FetchMetrics,
                _ => EffectKind::Fetch,
            }),
            Self::TaskDefinitionLoaded { .. } => Some(EffectKind::FetchTaskDefinition),
            Self::RevisionsLoaded { .. } => Some(EffectKind::FetchRevisions),
            Self::OperationDone { .. } => Some(EffectKind::Operate),
            Self::OutcomeAudited { .. } => Some(EffectKind::AuditOutcome),
            Self::Reconciled { .. } => Some(EffectKind::Reconcile),
            Self::ImageChecked { .. } => Some(EffectKind::CheckImage),
            Self::ProbeDone { .. } => Some(EffectKind::Probe),
            Self::AlarmHistoryLoaded { .. } => Some(EffectKind::FetchAlarmHistory),
            Self::LogsLoaded { .. } => Some(EffectKind::FetchLogs),
            Self::DrillChecked(_) => Some(EffectKind::DrillCheck),
            // Input, the clock and pollers, and what the runner sends
            // besides an answer (counters, notices, an operation's request
            // going unanswered before its answer), and a replay's records.
            Self::Key(_)
            | Self::Paste(_)
            | Self::Drawn
            | Self::Command(_)
            | Self::Resize(..)
            | Self::Tick(_)
            | Self::PollDue { .. }
            | Self::Stats { .. }
            | Self::OperationUnanswered { .. }
            | Self::Start
            | Self::Notice { .. }
            | Self::ExecEnded { .. }
            | Self::ProbeDue { .. }
            | Self::TimelineReplayed { .. }
            | Self::AuditReplayed(_) => None,
        }
    }
}
