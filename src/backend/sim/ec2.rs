//! The simulated EC2 hosts: their state as described, their status checks
//! ok unless the incident they suffer from is under way (the instance
//! status check impaired: the host no longer answers). Reboot, stop and
//! start play out as EC2 does: `stopping` for half a minute to a minute,
//! then `stopped`; `pending` for 15 to 30 seconds, then `running` with its
//! checks `initializing` for one to two minutes, then `ok`; a reboot keeps
//! the host `running` and runs its checks again. A host rebooted, stopped
//! or started during the incident that impairs it is cured of it (the
//! memory it had exhausted is free again) until that incident ends.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::TimeDelta;
use fastrand::Rng;

use super::SimBackend;
use super::world::InstanceDesc;
use crate::backend::{BackendError, BackendResult, Ec2, Ec2Changes};
use crate::domain::{
    CheckStatus, Instance, InstanceFilter, PowerAction, TargetGroup, TargetHealth, Timestamp,
};

/// How long `stopping` lasts, in seconds.
const STOPPING_SECS: (i64, i64) = (30, 60);
/// How long `pending` lasts, in seconds.
const PENDING_SECS: (i64, i64) = (15, 30);
/// How long the status checks stay `initializing` once running again.
const CHECKING_SECS: (i64, i64) = (60, 120);

/// A change of state under way, and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Stopping,
    Pending,
    /// Running, its checks initializing.
    Checking,
}

/// The incident under way, as a host sees it: its name and when it ends
/// (which tells one occurrence from the next).
pub(crate) type IncidentNow<'a> = Option<(&'a str, Timestamp)>;

/// One simulated EC2 instance.
#[derive(Debug, Clone)]
pub(crate) struct SimInstance {
    instance: Instance,
    tags: BTreeMap<String, String>,
    impaired_during: Option<String>,
    transition: Option<(Phase, Timestamp)>,
    /// The end of the occurrence of `impaired_during` a reboot, stop or
    /// start cured this host of.
    cured_until: Option<Timestamp>,
}

impl SimInstance {
    pub fn new(d: &InstanceDesc, start: Timestamp) -> Self {
        let running = d.state == "running";
        let checks = if running {
            CheckStatus::Ok
        } else {
            CheckStatus::NotApplicable
        };
        Self {
            instance: Instance {
                id: d.id.clone(),
                name: d.tags.get("Name").cloned(),
                state: d.state.clone(),
                instance_type: d.instance_type.clone(),
                availability_zone: Some(d.az.clone()),
                private_ip: Some(d.private_ip.clone()),
                // EC2 keeps a stopped instance's last launch time.
                launched_at: Some(start - d.launched_ago.delta()),
                system_status: checks,
                instance_status: checks,
            },
            tags: d.tags.clone(),
            impaired_during: d.impaired_during.clone(),
            transition: None,
            cured_until: None,
        }
    }

    pub fn id(&self) -> &str {
        &self.instance.id
    }

    /// As DescribeInstances and DescribeInstanceStatus answer it while
    /// `incident` is under way.
    pub fn answer(&self, incident: IncidentNow<'_>) -> Instance {
        let mut i = self.instance.clone();
        if let Some((name, until)) = incident
            && i.state == "running"
            && self.transition.is_none()
            && self.impaired_during.as_deref() == Some(name)
            && self.cured_until != Some(until)
        {
            i.instance_status = CheckStatus::Impaired;
        }
        i
    }

    /// Moves a change of state on to `now`.
    pub fn step(&mut self, now: Timestamp, rng: &mut Rng) {
        let Some((phase, until)) = self.transition else {
            return;
        };
        if now < until {
            return;
        }
        let i = &mut self.instance;
        match phase {
            Phase::Stopping => {
                i.state = "stopped".to_string();
                i.system_status = CheckStatus::NotApplicable;
                i.instance_status = CheckStatus::NotApplicable;
                self.transition = None;
            }
            Phase::Pending => {
                i.state = "running".to_string();
                i.launched_at = Some(now);
                i.system_status = CheckStatus::Initializing;
                i.instance_status = CheckStatus::Initializing;
                self.transition = Some((Phase::Checking, now + span(rng, CHECKING_SECS)));
            }
            Phase::Checking => {
                i.system_status = CheckStatus::Ok;
                i.instance_status = CheckStatus::Ok;
                self.transition = None;
            }
        }
    }

    /// RebootInstances, StopInstances or StartInstances of this host, as
    /// EC2 takes them: a stop of a host already stopping or stopped and a
    /// start of one pending or running change nothing; a reboot of a host
    /// not running, a stop of one pending and a start of one stopping are
    /// refused (`IncorrectInstanceState`). Returns whether it cured the
    /// host of the incident under way.
    pub fn power(
        &mut self,
        action: PowerAction,
        now: Timestamp,
        incident: IncidentNow<'_>,
        rng: &mut Rng,
    ) -> BackendResult<bool> {
        let state = self.instance.state.as_str();
        let phase = match (action, state) {
            (PowerAction::Reboot, "running") => Phase::Checking,
            (PowerAction::Stop, "running") => Phase::Stopping,
            (PowerAction::Start, "stopped") => Phase::Pending,
            (PowerAction::Stop, "stopping" | "stopped")
            | (PowerAction::Start, "pending" | "running") => return Ok(false),
            _ => {
                return Err(BackendError::Invalid {
                    message: format!(
                        "IncorrectInstanceState: the instance '{}' is not in a state from \
                         which it can be {} ({state})",
                        self.instance.id,
                        match action {
                            PowerAction::Reboot => "rebooted",
                            PowerAction::Stop => "stopped",
                            PowerAction::Start => "started",
                        }
                    ),
                });
            }
        };
        let i = &mut self.instance;
        let until = match phase {
            Phase::Stopping => {
                i.state = "stopping".to_string();
                now + span(rng, STOPPING_SECS)
            }
            Phase::Pending => {
                i.state = "pending".to_string();
                now + span(rng, PENDING_SECS)
            }
            Phase::Checking => {
                i.system_status = CheckStatus::Initializing;
                i.instance_status = CheckStatus::Initializing;
                now + span(rng, CHECKING_SECS)
            }
        };
        self.transition = Some((phase, until));
        if let Some((name, end)) = incident
            && self.impaired_during.as_deref() == Some(name)
        {
            self.cured_until = Some(end);
            return Ok(true);
        }
        Ok(false)
    }
}

/// Whether `name` is one of EC2's status check metrics, which follow the
/// host's checks ([`status_metric`]) rather than walk.
pub(crate) fn is_status_metric(name: &str) -> bool {
    matches!(
        name,
        "StatusCheckFailed" | "StatusCheckFailed_Instance" | "StatusCheckFailed_System"
    )
}

/// What EC2 publishes this second for the status check metric `name` of a
/// host whose checks read as `i` does: `StatusCheckFailed` 1 when either
/// check is impaired, `StatusCheckFailed_Instance` / `_System` when that
/// one is, 0 when it passed; nothing while it is not known (not running,
/// initializing) or for another metric.
pub(crate) fn status_metric(name: &str, i: &Instance) -> Option<f64> {
    let checks: &[CheckStatus] = match name {
        "StatusCheckFailed" => &[i.system_status, i.instance_status],
        "StatusCheckFailed_Instance" => &[i.instance_status],
        "StatusCheckFailed_System" => &[i.system_status],
        _ => return None,
    };
    if i.state != "running" {
        None
    } else if checks.contains(&CheckStatus::Impaired) {
        Some(1.0)
    } else if checks.iter().all(|c| *c == CheckStatus::Ok) {
        Some(0.0)
    } else {
        None
    }
}

/// The target groups of instance targets among `arns`, as ELBv2 reports
/// them: each registered host's state follows it (running with its checks
/// ok `healthy`; impaired `unhealthy`; its checks initializing `initial`;
/// stopping `draining`; pending or stopped `unused`).
pub(crate) fn host_target_groups(w: &super::engine::World, arns: &[String]) -> Vec<TargetGroup> {
    let incident = w.incident_key();
    w.host_target_groups
        .iter()
        .filter(|g| arns.contains(&g.arn))
        .map(|g| {
            let mut targets: Vec<TargetHealth> = g
                .instances
                .iter()
                .filter_map(|id| w.ec2.iter().find(|h| h.id() == id))
                .map(|h| target_of(&h.answer(incident), g.port))
                .collect();
            targets.sort_by(|a, b| a.id.cmp(&b.id));
            TargetGroup {
                arn: g.arn.clone(),
                name: g.arn.split('/').nth(1).unwrap_or(&g.arn).to_string(),
                protocol: Some("HTTP".to_string()),
                port: Some(g.port),
                health_check_path: g.health_check_path.clone(),
                load_balancer_arns: g.load_balancer.iter().cloned().collect(),
                targets,
            }
        })
        .collect()
}

fn target_of(i: &Instance, port: u16) -> TargetHealth {
    let impaired =
        i.system_status == CheckStatus::Impaired || i.instance_status == CheckStatus::Impaired;
    let checks_ok = i.system_status == CheckStatus::Ok && i.instance_status == CheckStatus::Ok;
    let (state, reason, description) = match i.state.as_str() {
        "running" if impaired => (
            "unhealthy",
            Some("Target.Timeout"),
            Some("Request timed out".to_string()),
        ),
        "running" if checks_ok => ("healthy", None, None),
        "running" => (
            "initial",
            Some("Elb.InitialHealthChecking"),
            Some("Initial health checks in progress".to_string()),
        ),
        "stopping" => (
            "draining",
            Some("Target.DeregistrationInProgress"),
            Some("Target deregistration is in progress".to_string()),
        ),
        other => (
            "unused",
            Some("Target.InvalidState"),
            Some(format!("Target is in the {other} state")),
        ),
    };
    TargetHealth {
        id: i.id.clone(),
        port: Some(port),
        availability_zone: i.availability_zone.clone(),
        state: state.to_string(),
        reason: reason.map(str::to_string),
        description,
    }
}

fn span(rng: &mut Rng, (lo, hi): (i64, i64)) -> TimeDelta {
    TimeDelta::seconds(rng.i64(lo..=hi))
}

#[async_trait]
impl Ec2 for SimBackend {
    async fn instances(&self, filter: &InstanceFilter) -> BackendResult<Vec<Instance>> {
        self.gate()?;
        Ok(self.with(|w| {
            let incident = w.incident_key();
            let mut out: Vec<Instance> = w
                .ec2
                .iter()
                .filter(|i| filter.matches(&i.instance.id, &i.tags))
                .map(|i| i.answer(incident))
                .collect();
            out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            out
        }))
    }
}

#[async_trait]
impl Ec2Changes for SimBackend {
    async fn reboot_instance(&self, id: &str) -> BackendResult<Instance> {
        self.gate()?;
        self.with(|w| w.power_instance(id, PowerAction::Reboot))
    }
    async fn stop_instance(&self, id: &str) -> BackendResult<Instance> {
        self.gate()?;
        self.with(|w| w.power_instance(id, PowerAction::Stop))
    }
    async fn start_instance(&self, id: &str) -> BackendResult<Instance> {
        self.gate()?;
        self.with(|w| w.power_instance(id, PowerAction::Start))
    }
}
