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

/// The kinds of [`Effect`]: what an answer completes, so that the headless
/// driver counts what is still to come ([`crate::app::App::settle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EffectKind {
    Record,
    Fetch,
    FetchTargets,
    FetchTaskDefinition,
    FetchRevisions,
    Operate,
    AuditOutcome,
    Reconcile,
    CheckImage,
    Quit,
    Probe,
    FetchMetrics,
    FetchAlarmHistory,
    DrillCheck,
    FetchLogs,
}

impl EffectKind {
    pub const ALL: [Self; 15] = [
        Self::Record,
        Self::Fetch,
        Self::FetchTargets,
        Self::FetchTaskDefinition,
        Self::FetchRevisions,
        Self::Operate,
        Self::AuditOutcome,
        Self::Reconcile,
        Self::CheckImage,
        Self::Quit,
        Self::Probe,
        Self::FetchMetrics,
        Self::FetchAlarmHistory,
        Self::DrillCheck,
        Self::FetchLogs,
    ];

    /// Whether the runner answers an effect of this kind with exactly one
    /// action (the one whose [`crate::action::Action::completes`] names it).
    pub const fn is_answered(self) -> bool {
        match self {
            // Handed to the recorder; the loop itself quits.
            Self::Record | Self::Quit => false,
            Self::Fetch
            | Self::FetchTargets
            | Self::FetchTaskDefinition
            | Self::FetchRevisions
            | Self::Operate
            | Self::AuditOutcome
            | Self::Reconcile
            | Self::CheckImage
            | Self::Probe
            | Self::FetchMetrics
            | Self::FetchAlarmHistory
            | Self::DrillCheck
            | Self::FetchLogs => true,
        }
    }
}

impl Effect {
    pub const fn kind(&self) -> EffectKind {
        match self {
            Self::Record { .. } => EffectKind::Record,
            Self::Fetch { .. } => EffectKind::Fetch,
            Self::FetchTargets { .. } => EffectKind::FetchTargets,
            Self::FetchTaskDefinition { .. } => EffectKind::FetchTaskDefinition,
            Self::FetchRevisions { .. } => EffectKind::FetchRevisions,
            Self::Operate { .. } => EffectKind::Operate,
            Self::AuditOutcome { .. } => EffectKind::AuditOutcome,
            Self::Reconcile { .. } => EffectKind::Reconcile,
            Self::CheckImage { .. } => EffectKind::CheckImage,
            Self::Quit => EffectKind::Quit,
            Self::Probe { .. } => EffectKind::Probe,
            Self::FetchMetrics { .. } => EffectKind::FetchMetrics,
            Self::FetchAlarmHistory { .. } => EffectKind::FetchAlarmHistory,
            Self::DrillCheck { .. } => EffectKind::DrillCheck,
            Self::FetchLogs { .. } => EffectKind::FetchLogs,
        }
    }

    /// Whether the runner answers this effect with exactly one action.
    pub const fn is_answered(&self) -> bool {
        self.kind().is_answered()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::action::Action;
    use crate::backend::BackendError;

    /// Every answered kind of effect has an action that completes it, and
    /// nothing completes an effect that is never answered: the headless
    /// driver's count of what is still to come cannot miss one.
    #[test]
    fn every_answered_effect_has_its_completing_action() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("valid time");
        let err = || BackendError::Other {
            message: "x".into(),
        };
        let loaded = |resource| Action::Loaded {
            env: 0,
            resource,
            generation: 1,
            at,
            result: Err(err()),
        };
        let mut results: Vec<Action> = Resource::ALL.into_iter().map(loaded).collect();
        results.extend([
            Action::TaskDefinitionLoaded {
                env: 0,
                arn: String::new(),
                result: Err(err()),
            },
            Action::RevisionsLoaded {
                env: 0,
                family: String::new(),
                generation: 1,
                at,
                result: Err(err()),
            },
            Action::OperationDone {
                id: String::new(),
                at,
                result: Err(String::new()),
                read_back: None,
            },
            Action::OutcomeAudited {
                id: String::new(),
                result: Ok(()),
            },
            Action::Reconciled {
                id: String::new(),
                result: Err(String::new()),
            },
            Action::ImageChecked {
                env: 0,
                image: String::new(),
                result: Err(err()),
            },
            Action::ProbeDone {
                env: 0,
                probe: 0,
                generation: 1,
                at,
                report: crate::probe::ProbeReport::failed(crate::probe::ProbeError::Connect(
                    String::new(),
                )),
            },
            Action::AlarmHistoryLoaded {
                env: 0,
                alarm: String::new(),
                generation: 1,
                at,
                result: Err(err()),
            },
            Action::LogsLoaded {
                generation: 1,
                at,
                result: Err(err()),
            },
            Action::DrillChecked(None),
        ]);
        let completed: BTreeSet<EffectKind> =
            results.iter().filter_map(Action::completes).collect();
        let answered: BTreeSet<EffectKind> = EffectKind::ALL
            .into_iter()
            .filter(|k| k.is_answered())
            .collect();
        assert_eq!(completed, answered);
        for other in [Action::Drawn, Action::Start, Action::Tick(at)] {
            assert_eq!(other.completes(), None);
        }
        assert!(!Effect::Quit.is_answered());
        assert!(Effect::DrillCheck { env: 0 }.is_answered());
    }
}
