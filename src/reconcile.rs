//! When a mutating request goes unanswered (the console's deadline passed,
//! the connection dropped, the server failed mid-way, the task panicked),
//! nobody knows whether the change was applied. Nothing is sent again:
//! the resource is read back and the change is said to be *applied*, *not
//! applied* or — when the resource cannot tell — *unknown*.
//!
//! The same read-back runs at start-up for an intent of the audit log that
//! has no result (the console was killed between the intent and the
//! answer). A deploy whose `RegisterTaskDefinition` went unanswered first
//! looks for the revision it may have registered.
//!
//! The judging is pure ([`judge`], [`is_registration`]); [`read_back`]
//! does the reads through the [`Backend`] trait.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::action::OpOutcome;
use crate::backend::{Backend, BackendError, BackendResult};
use crate::domain::{
    Alarm, DbInstance, DbSnapshot, ScalableTarget, Service, Task, TaskDefinition, Timestamp,
    task_definition_label,
};
use crate::ops::Operation;

/// Clock difference tolerated between the console and AWS when a creation
/// time is compared with the time the intent was recorded.
const SKEW_SECS: i64 = 5;
/// How many revisions newer than the base a deploy's read-back describes.
const NEWER_REVISIONS: usize = 5;

/// What the read-back says about a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Applied,
    NotApplied,
    /// The resource does not tell (e.g. a reboot already over), or it
    /// could not be read.
    Unknown,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::NotApplied => "not applied",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// An unanswered request and what reading the resource back showed; the
/// audit log's result record carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadBack {
    /// Why the answer is missing ("UpdateService: no answer within 30s").
    pub unanswered: String,
    pub verdict: Verdict,
    /// What was read, in words.
    pub evidence: String,
}

impl ReadBack {
    /// One line for the flash line and the activity view.
    pub fn summary(&self) -> String {
        let advice = match self.verdict {
            Verdict::Applied => "",
            Verdict::NotApplied => "; nothing was sent again",
            Verdict::Unknown => "; check the resource before retrying",
        };
        format!(
            "{}; read back: {} — {}{advice}",
            self.unanswered,
            self.verdict.word(),
            self.evidence
        )
    }
}

/// What a read-back found: the verdict, the evidence and, when applied,
/// what the API would have returned (so the change is followed as usual).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub verdict: Verdict,
    pub evidence: String,
    pub outcome: Option<OpOutcome>,
}

impl Found {
    fn applied(evidence: String, outcome: OpOutcome) -> Self {
        Self {
            verdict: Verdict::Applied,
            evidence,
            outcome: Some(outcome),
        }
    }

    fn not_applied(evidence: String) -> Self {
        Self {
            verdict: Verdict::NotApplied,
            evidence,
            outcome: None,
        }
    }

    fn unknown(evidence: String) -> Self {
        Self {
            verdict: Verdict::Unknown,
            evidence,
            outcome: None,
        }
    }
}

/// Whether a failed mutating request may still have been applied: the
/// server may have acted on it (no answer, a dropped connection, a server
/// error, an answer that could not be read). A refusal (throttled, not
/// allowed, invalid, not found, read-only) was not applied.
pub fn may_have_applied(e: &BackendError) -> bool {
    match e {
        BackendError::Unavailable { .. } | BackendError::Other { .. } => true,
        BackendError::Throttled { .. }
        | BackendError::Unauthorized { .. }
        | BackendError::NotFound { .. }
        | BackendError::ReadOnly { .. }
        | BackendError::Missing { .. }
        | BackendError::Invalid { .. } => false,
    }
}

/// What was read back, by the kind of resource.
#[derive(Debug, Clone, Copy)]
pub enum Evidence<'a> {
    /// The service, `None` when it is not there. `registered` is the
    /// revision a deploy registered (known or found).
    Service {
        service: Option<&'a Service>,
        registered: Option<&'a str>,
    },
    Scaling(&'a [ScalableTarget]),
    Snapshots(&'a [DbSnapshot]),
    Database(Option<&'a DbInstance>),
    Alarm(Option<&'a Alarm>),
    /// The task, `None` when it is not listed.
    Task(Option<&'a Task>),
    /// The EC2 instance, `None` when it is not listed.
    Instance(Option<&'a crate::domain::Instance>),
}

/// Whether the change of `op`, whose intent was recorded at `since`, shows
/// in what was read back.
pub fn judge(op: &Operation, since: Timestamp, evidence: Evidence<'_>) -> Found {
    let after = since - TimeDelta::seconds(SKEW_SECS);
    match (op, evidence) {
        (_, Evidence::Service { service: None, .. }) => Found::unknown(format!(
            "{} is not in its cluster (DescribeServices)",
            op.resource()
        )),
        (
            Operation::Scale { to, .. },
            Evidence::Service {
                service: Some(s), ..
            },
        ) => {
            let text = format!("desired count reads {} (DescribeServices)", s.desired_count);
            if s.desired_count == *to {
                Found::applied(text, OpOutcome::Service(Box::new(s.clone())))
            } else {
                Found::not_applied(text)
            }
        }
        (
            Operation::Rollback { to, .. },
            Evidence::Service {
                service: Some(s), ..
            },
        ) => runs(s, to, OpOutcome::Service(Box::new(s.clone()))),
        (
            Operation::DeployImage { base, .. },
            Evidence::Service {
                service: Some(s),
                registered,
            },
        ) => match registered {
            None => Found::not_applied(format!(
                "no revision after {} has the new image (ListTaskDefinitions): nothing was \
                 registered, the service was not changed",
                task_definition_label(base)
            )),
            Some(td) => {
                let mut found = runs(
                    s,
                    td,
                    OpOutcome::Deployed {
                        task_definition: td.to_string(),
                        service: Box::new(s.clone()),
                    },
                );
                if found.verdict == Verdict::NotApplied {
                    let new = task_definition_label(td);
                    found.evidence = format!(
                        "{new} was registered, but {} still runs {} (DescribeServices); a \
                         rollback can move it to {new} once the cause is fixed",
                        s.name,
                        task_definition_label(&s.task_definition)
                    );
                }
                found
            }
        },
        (
            Operation::Restart { .. },
            Evidence::Service {
                service: Some(s), ..
            },
        ) => match s.primary_deployment() {
            Some(d) if d.created_at >= after => Found::applied(
                format!(
                    "deployment {} was created at {} (DescribeServices)",
                    d.id,
                    d.created_at.format("%H:%M:%S")
                ),
                OpOutcome::Service(Box::new(s.clone())),
            ),
            Some(d) => Found::not_applied(format!(
                "the newest deployment {} is from {}, before the request (DescribeServices)",
                d.id,
                d.created_at.format("%H:%M:%S")
            )),
            None => Found::unknown("the service has no primary deployment".to_string()),
        },
        (Operation::ScalingBounds { to, .. }, Evidence::Scaling(targets)) => {
            let id = resource_id(op);
            match targets.iter().find(|t| t.resource_id == id) {
                Some(t) => {
                    let text = format!(
                        "min {} max {} (DescribeScalableTargets)",
                        t.min_capacity, t.max_capacity
                    );
                    if (t.min_capacity, t.max_capacity) == *to {
                        Found::applied(text, OpOutcome::Scaling(t.clone()))
                    } else {
                        Found::not_applied(text)
                    }
                }
                None => Found::not_applied(format!(
                    "{id} is not a scalable target (DescribeScalableTargets)"
                )),
            }
        }
        (Operation::Snapshot { snapshot_id, .. }, Evidence::Snapshots(snapshots)) => {
            match snapshots.iter().find(|s| &s.id == snapshot_id) {
                Some(s) => Found::applied(
                    format!("snapshot {} is {} (DescribeDBSnapshots)", s.id, s.status),
                    OpOutcome::Snapshot(s.clone()),
                ),
                None => Found::not_applied(format!(
                    "there is no snapshot {snapshot_id} (DescribeDBSnapshots)"
                )),
            }
        }
        (Operation::Reboot { instance, .. }, Evidence::Database(db)) => match db {
            Some(d) if d.status == "rebooting" || d.status == "failing-over" => Found::applied(
                format!("{} is {} (DescribeDBInstances)", d.id, d.status),
                OpOutcome::Database(Box::new(d.clone())),
            ),
            Some(d) => Found::unknown(format!(
                "{} reads {} (DescribeDBInstances): a reboot is not under way; it was not \
                 applied, or it is already over (see the instance's events)",
                d.id, d.status
            )),
            None => Found::unknown(format!("{instance} is not there (DescribeDBInstances)")),
        },
        (
            Operation::RestoreSnapshot { target, .. } | Operation::RestoreTime { target, .. },
            Evidence::Database(db),
        ) => match db {
            // The identifier did not exist when the restore was confirmed.
            Some(d) => Found::applied(
                format!("{} exists, {} (DescribeDBInstances)", d.id, d.status),
                OpOutcome::Database(Box::new(d.clone())),
            ),
            None => Found::not_applied(format!(
                "there is no instance {target} (DescribeDBInstances)"
            )),
        },
        (Operation::Promote { instance, .. }, Evidence::Database(db)) => match db {
            Some(d) if d.replica_source.is_none() || d.status == "modifying" => Found::applied(
                format!(
                    "{} is {}{} (DescribeDBInstances)",
                    d.id,
                    d.status,
                    if d.replica_source.is_none() {
                        ", no longer a replica"
                    } else {
                        ", being promoted"
                    }
                ),
                OpOutcome::Database(Box::new(d.clone())),
            ),
            Some(d) => Found::not_applied(format!(
                "{} is {} and still a replica (DescribeDBInstances)",
                d.id, d.status
            )),
            None => Found::unknown(format!("{instance} is not there (DescribeDBInstances)")),
        },
        (Operation::AlarmActions { alarm, enable }, Evidence::Alarm(a)) => match a {
            Some(a) => {
                let text = format!(
                    "actions read {} (DescribeAlarms)",
                    if a.actions_enabled {
                        "enabled"
                    } else {
                        "disabled"
                    }
                );
                if a.actions_enabled == *enable {
                    Found::applied(text, OpOutcome::AlarmActions)
                } else {
                    Found::not_applied(text)
                }
            }
            None => Found::unknown(format!("{alarm} is not there (DescribeAlarms)")),
        },
        (Operation::StopTask { task, .. }, Evidence::Task(t)) => match t {
            // Stopping or stopped: the stop was applied (the reason says
            // whether it was ours).
            Some(t) if t.desired_status == "STOPPED" || t.last_status == "STOPPED" => {
                Found::applied(
                    format!(
                        "task {} is {} (DescribeTasks){}",
                        crate::ops::task_label(task),
                        t.last_status,
                        t.stopped_reason
                            .as_deref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    ),
                    OpOutcome::Task(Box::new(t.clone())),
                )
            }
            Some(t) => Found::not_applied(format!(
                "task {} is {} and desired {} (DescribeTasks)",
                crate::ops::task_label(task),
                t.last_status,
                t.desired_status
            )),
            // ECS forgets stopped tasks after about an hour.
            None => Found::unknown(format!(
                "task {} is no longer listed (ListTasks, DescribeTasks)",
                crate::ops::task_label(task)
            )),
        },
        (
            Operation::Host {
                instance, action, ..
            },
            Evidence::Instance(i),
        ) => host(instance, *action, i),
        _ => Found::unknown("what was read does not describe this operation".to_string()),
    }
}

/// A reboot, stop or start of `instance` judged on the instance read back:
/// stopping or stopped after a stop, pending or running after a start,
/// applied; a reboot leaves the state `running`, so only checks being run
/// again show it.
fn host(
    instance: &str,
    action: crate::domain::PowerAction,
    i: Option<&crate::domain::Instance>,
) -> Found {
    use crate::domain::{CheckStatus, PowerAction};
    let Some(i) = i else {
        return Found::unknown(format!("{instance} is not listed (DescribeInstances)"));
    };
    let text = format!(
        "{instance} is {}, checks {} (DescribeInstances, DescribeInstanceStatus)",
        i.state,
        i.checks_summary()
    );
    let outcome = || OpOutcome::Instance(Box::new(i.clone()));
    match (action, i.state.as_str()) {
        (PowerAction::Stop, "stopping" | "stopped")
        | (PowerAction::Start, "pending" | "running") => Found::applied(text, outcome()),
        (PowerAction::Stop | PowerAction::Start, _) => Found::not_applied(text),
        (PowerAction::Reboot, "running")
            if i.system_status == CheckStatus::Initializing
                || i.instance_status == CheckStatus::Initializing =>
        {
            Found::applied(text, outcome())
        }
        (PowerAction::Reboot, _) => Found::unknown(format!(
            "{text}: a reboot leaves the state as it was; it was not applied, or it is \
             already over"
        )),
    }
}

/// A service reads `td` (the service's or its PRIMARY deployment's task
/// definition): applied; else not.
fn runs(s: &Service, td: &str, outcome: OpOutcome) -> Found {
    let primary = s.primary_deployment().map(|d| d.task_definition.as_str());
    if s.task_definition == td || primary == Some(td) {
        Found::applied(
            format!(
                "the service runs {} (DescribeServices)",
                task_definition_label(td)
            ),
            outcome,
        )
    } else {
        Found::not_applied(format!(
            "the service still runs {} (DescribeServices)",
            task_definition_label(&s.task_definition)
        ))
    }
}

fn resource_id(op: &Operation) -> String {
    match op {
        Operation::Scale {
            cluster, service, ..
        }
        | Operation::ScalingBounds {
            cluster, service, ..
        }
        | Operation::DeployImage {
            cluster, service, ..
        }
        | Operation::Rollback {
            cluster, service, ..
        }
        | Operation::Restart {
            cluster, service, ..
        }
        | Operation::CodeDeployStop {
            cluster, service, ..
        }
        | Operation::CodeDeployContinue {
            cluster, service, ..
        } => format!("service/{cluster}/{service}"),
        other => other.resource().to_string(),
    }
}

/// Whether `td` is the revision a deploy of `image` to `container`,
/// intended at `since` on top of `base`, registered: a later revision of
/// the family, registered after the intent, with the new image.
pub fn is_registration(
    td: &TaskDefinition,
    base: &str,
    container: &str,
    image: &str,
    since: Timestamp,
) -> bool {
    let base_revision = revision_of(base);
    let newer = base_revision.is_none_or(|b| td.revision > b);
    let after = td
        .registered_at
        .is_none_or(|t| t >= since - TimeDelta::seconds(SKEW_SECS));
    newer
        && after
        && td
            .containers
            .iter()
            .any(|c| c.name == container && c.image == image)
}

fn revision_of(arn: &str) -> Option<u32> {
    arn.rsplit(':').next().and_then(|r| r.parse().ok())
}

fn family_of(arn: &str) -> &str {
    let label = task_definition_label(arn);
    label.rsplit_once(':').map_or(label, |(f, _)| f)
}

/// Looks for the revision a deploy may have registered (ListTaskDefinitions
/// of the family, DescribeTaskDefinition of the newer revisions).
pub async fn find_registration<B: Backend + ?Sized>(
    b: &B,
    op: &Operation,
    since: Timestamp,
) -> BackendResult<Option<TaskDefinition>> {
    let Operation::DeployImage {
        base,
        container,
        to,
        ..
    } = op
    else {
        return Ok(None);
    };
    let base_revision = revision_of(base);
    let newer: Vec<String> = b
        .ecs()?
        .task_definition_revisions(family_of(base))
        .await?
        .into_iter()
        .filter(|arn| match (revision_of(arn), base_revision) {
            (Some(r), Some(b)) => r > b,
            _ => true,
        })
        .take(NEWER_REVISIONS)
        .collect();
    for arn in newer {
        let td = b.ecs()?.task_definition(&arn).await?;
        if is_registration(&td, base, container, to, since) {
            return Ok(Some(td));
        }
    }
    Ok(None)
}

/// Reads back the resource of `op` (intended at `since`) and judges it. A
/// deploy looks for its registration unless `registered` names it.
pub async fn read_back<B: Backend + ?Sized>(
    b: &B,
    op: &Operation,
    since: Timestamp,
    registered: Option<&str>,
) -> BackendResult<Found> {
    let service_of = |cluster: &str, name: &str| {
        let (cluster, name) = (cluster.to_string(), name.to_string());
        async move {
            let listing = b.ecs()?.services(&cluster).await?;
            Ok::<_, BackendError>(listing.items.into_iter().find(|s| s.name == name))
        }
    };
    Ok(match op {
        Operation::Scale {
            cluster, service, ..
        }
        | Operation::Rollback {
            cluster, service, ..
        }
        | Operation::Restart {
            cluster, service, ..
        } => {
            let s = service_of(cluster, service).await?;
            judge(
                op,
                since,
                Evidence::Service {
                    service: s.as_ref(),
                    registered: None,
                },
            )
        }
        // A CODE_DEPLOY service's deploy: the deployment its unique
        // description names, among the group's since the intent.
        Operation::DeployImage { via: Some(via), .. } => {
            let found;
            let registered = if let Some(arn) = registered {
                Some(arn.to_string())
            } else {
                found = find_registration(b, op, since).await?;
                found.as_ref().map(|td| td.arn.clone())
            };
            match b
                .codedeploy()?
                .find_deployment(
                    &via.application,
                    &via.deployment_group,
                    &via.description,
                    since,
                )
                .await?
            {
                Some(d) => Found::applied(
                    format!(
                        "CodeDeploy deployment {} \"{}\" is {} (ListDeployments, \
                         BatchGetDeployments)",
                        d.id, via.description, d.status
                    ),
                    OpOutcome::CodeDeploy {
                        task_definition: registered,
                        deployment: Box::new(d),
                    },
                ),
                None => Found::not_applied(format!(
                    "no deployment of {}/{} since the change was sent is \"{}\" \
                     (ListDeployments, BatchGetDeployments){}",
                    via.application,
                    via.deployment_group,
                    via.description,
                    registered.map_or_else(String::new, |r| format!(
                        "; {} was registered, the service was not changed",
                        task_definition_label(&r)
                    ))
                )),
            }
        }
        // Stopped (or a rollback started) / rerouting: read with
        // GetDeployment.
        Operation::CodeDeployStop {
            cluster,
            service,
            deployment,
            ..
        }
        | Operation::CodeDeployContinue {
            cluster,
            service,
            deployment,
            ..
        } => {
            let d = b
                .codedeploy()?
                .deployment(deployment, Some((cluster, service)))
                .await?;
            let evidence = format!("deployment {deployment} is {} (GetDeployment)", d.status);
            let status = d.status.as_str();
            // Only what the change itself leads to counts: a stop, Stopped;
            // a continue, traffic rerouting or done. A deployment that
            // ended otherwise says nothing of the change (it may have
            // succeeded or failed on its own, or been stopped by its
            // ready-wait running out).
            let verdict = match op {
                Operation::CodeDeployStop { .. } => match status {
                    "Stopped" => Verdict::Applied,
                    "Succeeded" | "Failed" => Verdict::Unknown,
                    _ => Verdict::NotApplied,
                },
                _ => match status {
                    "InProgress" | "Baking" | "Succeeded" => Verdict::Applied,
                    "Created" | "Queued" | "Ready" => Verdict::NotApplied,
                    _ => Verdict::Unknown,
                },
            };
            match verdict {
                Verdict::Applied => Found::applied(
                    evidence,
                    OpOutcome::CodeDeploy {
                        task_definition: None,
                        deployment: Box::new(d),
                    },
                ),
                Verdict::NotApplied => Found::not_applied(evidence),
                Verdict::Unknown => Found::unknown(format!(
                    "{evidence}: it ended without showing whether the change was applied"
                )),
            }
        }
        Operation::DeployImage {
            cluster, service, ..
        } => {
            let found;
            let registered = if let Some(arn) = registered {
                Some(arn)
            } else {
                found = find_registration(b, op, since).await?;
                found.as_ref().map(|td| td.arn.as_str())
            };
            let s = service_of(cluster, service).await?;
            judge(
                op,
                since,
                Evidence::Service {
                    service: s.as_ref(),
                    registered,
                },
            )
        }
        Operation::ScalingBounds { cluster, .. } => {
            let targets = b
                .scaling()?
                .scalable_targets(std::slice::from_ref(cluster))
                .await?;
            judge(op, since, Evidence::Scaling(&targets))
        }
        Operation::Snapshot { instance, .. } => {
            let snapshots = b
                .rds()?
                .db_snapshots(std::slice::from_ref(instance))
                .await?;
            judge(op, since, Evidence::Snapshots(&snapshots))
        }
        Operation::Reboot { instance, .. } => {
            let dbs = b
                .rds()?
                .db_instances(std::slice::from_ref(instance))
                .await?;
            let db = dbs.iter().find(|d| &d.id == instance);
            judge(op, since, Evidence::Database(db))
        }
        Operation::RestoreSnapshot { target, .. } | Operation::RestoreTime { target, .. } => {
            // Not there is an answer here, not a failure to read.
            let dbs = match b.rds()?.db_instances(std::slice::from_ref(target)).await {
                Err(BackendError::NotFound { .. }) => Vec::new(),
                other => other?,
            };
            let db = dbs.iter().find(|d| &d.id == target);
            judge(op, since, Evidence::Database(db))
        }
        Operation::Promote { instance, .. } => {
            let dbs = b
                .rds()?
                .db_instances(std::slice::from_ref(instance))
                .await?;
            let db = dbs.iter().find(|d| &d.id == instance);
            judge(op, since, Evidence::Database(db))
        }
        Operation::Host { instance, .. } => {
            let filter = crate::domain::InstanceFilter {
                ids: vec![instance.clone()],
                tags: std::collections::BTreeMap::new(),
            };
            let found = b.ec2()?.instances(&filter).await?;
            let i = found.iter().find(|i| &i.id == instance);
            judge(op, since, Evidence::Instance(i))
        }
        Operation::StopTask { cluster, task, .. } => {
            let tasks = b.ecs()?.tasks(cluster).await?;
            let t = tasks.items.iter().find(|t| &t.arn == task);
            judge(op, since, Evidence::Task(t))
        }
        // A session leaves nothing to read: one opened and never attached
        // ends by itself.
        Operation::Exec { .. } => Found {
            verdict: Verdict::Unknown,
            evidence: "an ECS Exec session cannot be read back (one that was opened and never \
                       attached to ends by itself)"
                .to_string(),
            outcome: None,
        },
        // The caller reference is unique to this request: found, it was
        // applied (and is followed as if answered); not among the newest,
        // it was not.
        Operation::Invalidate {
            distribution,
            caller_reference,
            ..
        } => match b
            .cloudfront()?
            .find_invalidation(distribution, caller_reference)
            .await?
        {
            Some(i) => Found::applied(
                format!(
                    "invalidation {} with reference {caller_reference} is {} \
                     (ListInvalidations, GetInvalidation)",
                    i.id, i.status
                ),
                OpOutcome::Invalidation(i),
            ),
            None => Found::not_applied(format!(
                "no invalidation of {distribution} has reference {caller_reference} \
                 (ListInvalidations, GetInvalidation)"
            )),
        },
        Operation::AlarmActions { alarm, .. } => {
            let alarms = b.cloudwatch()?.alarms(std::slice::from_ref(alarm)).await?;
            let a = alarms.iter().find(|a| &a.name == alarm);
            judge(op, since, Evidence::Alarm(a))
        }
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::{ContainerDefinition, Deployment, RolloutState};

    fn t(secs: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0)
            .single()
            .unwrap_or_default()
            + TimeDelta::seconds(secs)
    }

    fn service(desired: u32, td: &str, deployed_at: Timestamp) -> Service {
        Service {
            arn: "arn:aws:ecs:ap-northeast-1:1:service/prod/web".into(),
            name: "web".into(),
            cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/prod".into(),
            status: "ACTIVE".into(),
            desired_count: desired,
            running_count: desired,
            pending_count: 0,
            launch_type: None,
            task_definition: td.into(),
            deployments: vec![Deployment {
                id: "ecs-svc/1".into(),
                status: "PRIMARY".into(),
                task_definition: td.into(),
                desired_count: desired,
                running_count: desired,
                pending_count: 0,
                failed_tasks: 0,
                rollout_state: RolloutState::Completed,
                rollout_state_reason: None,
                created_at: deployed_at,
                updated_at: deployed_at,
            }],
            events: Vec::new(),
            load_balancers: Vec::new(),
            created_at: None,
            circuit_breaker: None,
            deployment_controller: crate::domain::DeploymentController::Ecs,
            strategy: None,
            service_deployment: None,
        }
    }

    const TD42: &str = "arn:aws:ecs:ap-northeast-1:1:task-definition/web:42";
    const TD43: &str = "arn:aws:ecs:ap-northeast-1:1:task-definition/web:43";

    fn svc(s: &Service) -> Evidence<'_> {
        Evidence::Service {
            service: Some(s),
            registered: None,
        }
    }

    #[test]
    fn a_scale_is_applied_when_the_desired_count_reads_the_new_one() {
        let op = Operation::Scale {
            cluster: "prod".into(),
            service: "web".into(),
            from: 2,
            to: 3,
            scaling: None,
        };
        let s3 = service(3, TD42, t(-600));
        let found = judge(&op, t(0), svc(&s3));
        assert_eq!(found.verdict, Verdict::Applied);
        assert!(
            found.evidence.contains("desired count reads 3"),
            "{found:?}"
        );
        assert!(matches!(found.outcome, Some(OpOutcome::Service(_))));
        let s2 = service(2, TD42, t(-600));
        assert_eq!(judge(&op, t(0), svc(&s2)).verdict, Verdict::NotApplied);
        let gone = judge(
            &op,
            t(0),
            Evidence::Service {
                service: None,
                registered: None,
            },
        );
        assert_eq!(gone.verdict, Verdict::Unknown);
    }

    #[test]
    fn a_restart_is_applied_when_a_deployment_was_created_after_the_intent() {
        let op = Operation::Restart {
            cluster: "prod".into(),
            service: "web".into(),
            task_definition: TD42.into(),
        };
        let fresh = service(2, TD42, t(1));
        assert_eq!(judge(&op, t(0), svc(&fresh)).verdict, Verdict::Applied);
        let old = service(2, TD42, t(-3600));
        let found = judge(&op, t(0), svc(&old));
        assert_eq!(found.verdict, Verdict::NotApplied);
        assert!(found.evidence.contains("before the request"), "{found:?}");
    }

    #[test]
    fn a_deploy_needs_its_registration_and_the_service_on_it() {
        let op = Operation::DeployImage {
            cluster: "prod".into(),
            service: "web".into(),
            base: TD42.into(),
            container: "app".into(),
            from: "repo/web:v1".into(),
            to: "repo/web:v2".into(),
            via: None,
        };
        let on42 = service(2, TD42, t(-600));
        let nothing = judge(&op, t(0), svc(&on42));
        assert_eq!(nothing.verdict, Verdict::NotApplied);
        assert!(
            nothing.evidence.contains("nothing was registered"),
            "{nothing:?}"
        );
        let half = judge(
            &op,
            t(0),
            Evidence::Service {
                service: Some(&on42),
                registered: Some(TD43),
            },
        );
        assert_eq!(half.verdict, Verdict::NotApplied);
        assert!(half.evidence.contains("web:43 was registered"), "{half:?}");
        let on43 = service(2, TD43, t(1));
        let done = judge(
            &op,
            t(0),
            Evidence::Service {
                service: Some(&on43),
                registered: Some(TD43),
            },
        );
        assert_eq!(done.verdict, Verdict::Applied);
        assert!(matches!(done.outcome, Some(OpOutcome::Deployed { .. })));
    }

    #[test]
    fn a_registration_is_a_newer_revision_with_the_image_registered_after_the_intent() {
        let td = |revision: u32, image: &str, at: Timestamp| TaskDefinition {
            arn: format!("arn:aws:ecs:ap-northeast-1:1:task-definition/web:{revision}"),
            family: "web".into(),
            revision,
            status: "ACTIVE".into(),
            cpu: None,
            memory: None,
            network_mode: None,
            requires_compatibilities: Vec::new(),
            task_role_arn: None,
            execution_role_arn: None,
            containers: vec![ContainerDefinition {
                name: "app".into(),
                image: image.into(),
                essential: true,
                cpu: None,
                memory: None,
                port_mappings: Vec::new(),
                secrets: Vec::new(),
                log_group: None,
                log_stream_prefix: None,
            }],
            registered_at: Some(at),
        };
        let yes = td(43, "repo/web:v2", t(1));
        assert!(is_registration(&yes, TD42, "app", "repo/web:v2", t(0)));
        // Another image, an older revision, or registered long before: no.
        assert!(!is_registration(
            &td(43, "repo/web:v3", t(1)),
            TD42,
            "app",
            "repo/web:v2",
            t(0)
        ));
        assert!(!is_registration(
            &td(41, "repo/web:v2", t(1)),
            TD42,
            "app",
            "repo/web:v2",
            t(0)
        ));
        assert!(!is_registration(
            &td(43, "repo/web:v2", t(-3600)),
            TD42,
            "app",
            "repo/web:v2",
            t(0)
        ));
    }

    #[test]
    fn a_stop_is_applied_when_the_task_reads_stopping_or_stopped() {
        let arn = "arn:aws:ecs:ap-northeast-1:1:task/prod/0123456789abcdef";
        let op = Operation::StopTask {
            cluster: "prod".into(),
            task: arn.into(),
            service: Some("web".into()),
            status: "RUNNING".into(),
            running: 2,
            reason: "stopped by me via honban".into(),
        };
        let task = |last: &str, desired: &str| Task {
            arn: arn.into(),
            cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/prod".into(),
            task_definition: TD42.into(),
            group: Some("service:web".into()),
            last_status: last.into(),
            desired_status: desired.into(),
            health_status: "UNKNOWN".into(),
            availability_zone: None,
            launch_type: None,
            cpu: None,
            memory: None,
            created_at: None,
            started_at: None,
            stopped_at: None,
            stop_code: Some("UserInitiated".into()),
            stopped_reason: Some("stopped by me via honban".into()),
            stopping_at: None,
            platform_version: None,
            private_ip: None,
            eni: None,
            enable_execute_command: false,
            containers: Vec::new(),
        };
        for (last, desired) in [("RUNNING", "STOPPED"), ("STOPPED", "STOPPED")] {
            let t = task(last, desired);
            let found = judge(&op, t0(), Evidence::Task(Some(&t)));
            assert_eq!(found.verdict, Verdict::Applied, "{last}");
            assert!(found.evidence.contains("via honban"), "{found:?}");
            assert!(matches!(found.outcome, Some(OpOutcome::Task(_))));
        }
        let running = task("RUNNING", "RUNNING");
        let found = judge(&op, t0(), Evidence::Task(Some(&running)));
        assert_eq!(found.verdict, Verdict::NotApplied, "{found:?}");
        assert_eq!(
            judge(&op, t0(), Evidence::Task(None)).verdict,
            Verdict::Unknown
        );
    }

    fn t0() -> Timestamp {
        t(0)
    }

    #[test]
    fn refusals_were_not_applied_and_silences_may_have_been() {
        assert!(may_have_applied(&BackendError::Unavailable {
            message: "UpdateService: timed out".into()
        }));
        assert!(!may_have_applied(&BackendError::Throttled {
            message: "Rate exceeded".into()
        }));
        assert!(!may_have_applied(&BackendError::Invalid {
            message: "bad".into()
        }));
        let rb = ReadBack {
            unanswered: "ecs:UpdateService: no answer within 30s".into(),
            verdict: Verdict::NotApplied,
            evidence: "desired count reads 2 (DescribeServices)".into(),
        };
        assert_eq!(
            rb.summary(),
            "ecs:UpdateService: no answer within 30s; read back: not applied — desired count \
             reads 2 (DescribeServices); nothing was sent again"
        );
    }

    #[test]
    fn a_restore_is_applied_when_its_instance_exists_a_promotion_when_it_is_no_replica() {
        let db = |id: &str, status: &str, source: Option<&str>| DbInstance {
            id: id.into(),
            arn: format!("arn:aws:rds:ap-northeast-1:1:db:{id}"),
            engine: "postgres".into(),
            engine_version: "16.4".into(),
            class: "db.r6g.large".into(),
            status: status.into(),
            multi_az: false,
            availability_zone: None,
            secondary_availability_zone: None,
            allocated_storage_gib: 100,
            storage_type: None,
            backup_retention_days: 7,
            endpoint: None,
            port: None,
            replica_source: source.map(str::to_string),
            replicas: Vec::new(),
            pending_modifications: Vec::new(),
            latest_restorable_time: None,
            created_at: None,
            settings: crate::domain::DbSettings::default(),
        };
        let restore = Operation::RestoreSnapshot {
            source: "db".into(),
            snapshot: "snap".into(),
            snapshot_time: None,
            target: "db-restored".into(),
            settings: Box::default(),
        };
        let created = db("db-restored", "creating", None);
        let found = judge(&restore, t(0), Evidence::Database(Some(&created)));
        assert_eq!(found.verdict, Verdict::Applied, "{}", found.evidence);
        let found = judge(&restore, t(0), Evidence::Database(None));
        assert_eq!(found.verdict, Verdict::NotApplied, "{}", found.evidence);
        assert!(found.evidence.contains("no instance db-restored"));

        let promote = Operation::Promote {
            instance: "db-replica".into(),
            source: "db".into(),
        };
        let cases = [
            (db("db-replica", "modifying", Some("db")), Verdict::Applied),
            (db("db-replica", "available", None), Verdict::Applied),
            (
                db("db-replica", "available", Some("db")),
                Verdict::NotApplied,
            ),
        ];
        for (d, want) in cases {
            let found = judge(&promote, t(0), Evidence::Database(Some(&d)));
            assert_eq!(found.verdict, want, "{d:?}: {}", found.evidence);
        }
        let found = judge(&promote, t(0), Evidence::Database(None));
        assert_eq!(found.verdict, Verdict::Unknown);
    }

    #[test]
    fn a_host_stop_or_start_is_judged_on_its_state_a_reboot_on_its_checks() {
        use crate::domain::{CheckStatus, Instance, PowerAction};
        let host = |state: &str, checks: CheckStatus| Instance {
            id: "i-1".into(),
            name: Some("app-1".into()),
            state: state.into(),
            instance_type: "t4g.medium".into(),
            availability_zone: None,
            private_ip: None,
            launched_at: None,
            system_status: checks,
            instance_status: checks,
        };
        let op = |action| Operation::Host {
            instance: "i-1".into(),
            name: Some("app-1".into()),
            action,
            state: "running".into(),
        };
        let judged =
            |action, i: Option<&Instance>| judge(&op(action), t0(), Evidence::Instance(i)).verdict;
        let stopping = host("stopping", CheckStatus::Ok);
        let running = host("running", CheckStatus::Ok);
        let pending = host("pending", CheckStatus::NotApplicable);
        let stopped = host("stopped", CheckStatus::NotApplicable);
        let checking = host("running", CheckStatus::Initializing);
        assert_eq!(judged(PowerAction::Stop, Some(&stopping)), Verdict::Applied);
        assert_eq!(
            judged(PowerAction::Stop, Some(&running)),
            Verdict::NotApplied
        );
        assert_eq!(judged(PowerAction::Start, Some(&pending)), Verdict::Applied);
        assert_eq!(
            judged(PowerAction::Start, Some(&stopped)),
            Verdict::NotApplied
        );
        assert_eq!(
            judged(PowerAction::Reboot, Some(&checking)),
            Verdict::Applied
        );
        assert_eq!(
            judged(PowerAction::Reboot, Some(&running)),
            Verdict::Unknown
        );
        assert_eq!(judged(PowerAction::Stop, None), Verdict::Unknown);
        let found = judge(
            &op(PowerAction::Stop),
            t0(),
            Evidence::Instance(Some(&stopping)),
        );
        assert!(
            matches!(found.outcome, Some(OpOutcome::Instance(ref i)) if i.state == "stopping"),
            "followed as if answered: {found:?}"
        );
    }
}
