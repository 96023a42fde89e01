//! Operations: what an operator can do to an environment, fully resolved
//! before it is confirmed, so that the confirmation dialog, the audit log and
//! the runner all see exactly the same thing.
//!
//! An [`Operation`] names the resource, the state before and after, and the
//! exact API calls it will send ([`Operation::calls`]). Helpers here build the
//! values an operator types (an image from a tag, a snapshot identifier) and
//! check them before anything is sent.

use serde_json::{Value, json};

use crate::domain::{PowerAction, RestoreSettings, Timestamp, short_id, task_definition_label};

/// One operation on one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// ECS `UpdateService` with a new desired count.
    Scale {
        cluster: String,
        service: String,
        from: u32,
        to: u32,
        /// Auto-scaling bounds of the service, when it has them.
        scaling: Option<(u32, u32)>,
    },
    /// Application Auto Scaling `RegisterScalableTarget` with new bounds.
    ScalingBounds {
        cluster: String,
        service: String,
        from: (u32, u32),
        to: (u32, u32),
    },
    /// `RegisterTaskDefinition` (a copy of `base` with one image changed),
    /// then `UpdateService` to the new revision — or, for a CODE_DEPLOY
    /// service (`via`), CodeDeploy `CreateDeployment` of it.
    DeployImage {
        cluster: String,
        service: String,
        base: String,
        container: String,
        from: String,
        to: String,
        via: Option<Box<ViaCodeDeploy>>,
    },
    /// CodeDeploy `StopDeployment` with `autoRollbackEnabled`: the
    /// blue/green deployment of a CODE_DEPLOY service stops and a rollback
    /// deployment moves production traffic back to the original task set.
    CodeDeployStop {
        cluster: String,
        service: String,
        deployment: String,
        /// Its status when the operation was resolved.
        status: String,
        /// The replacement's share of production traffic then, percent.
        traffic: u32,
        /// The original task set's task definition, and the replacement's.
        original: String,
        replacement: Option<String>,
    },
    /// CodeDeploy `ContinueDeployment` (`READY_WAIT`): the replacement
    /// waiting for its traffic gets it, as the deployment configuration
    /// shifts it.
    CodeDeployContinue {
        cluster: String,
        service: String,
        deployment: String,
        replacement: Option<String>,
        /// The deployment configuration (how the traffic moves).
        config: String,
    },
    /// `UpdateService` to an earlier revision.
    Rollback {
        cluster: String,
        service: String,
        from: String,
        to: String,
    },
    /// `UpdateService` with `forceNewDeployment`.
    Restart {
        cluster: String,
        service: String,
        task_definition: String,
    },
    /// RDS `CreateDBSnapshot`.
    Snapshot {
        instance: String,
        snapshot_id: String,
    },
    /// RDS `RebootDBInstance`, with failover for Multi-AZ instances.
    Reboot { instance: String, failover: bool },
    /// RDS `RestoreDBInstanceFromDBSnapshot`: a new instance `target` from
    /// `snapshot` (of `source`), with the settings copied from `source`.
    RestoreSnapshot {
        source: String,
        snapshot: String,
        /// When the snapshot was taken: what the restore holds (the RPO).
        snapshot_time: Option<Timestamp>,
        target: String,
        settings: Box<RestoreSettings>,
    },
    /// RDS `RestoreDBInstanceToPointInTime`: a new instance `target` from
    /// `source` as it was at `time` (`None`: its latest restorable time).
    RestoreTime {
        source: String,
        time: Option<Timestamp>,
        target: String,
        settings: Box<RestoreSettings>,
    },
    /// RDS `PromoteReadReplica`: `instance` stops replicating from
    /// `source`, for good.
    Promote { instance: String, source: String },
    /// CloudWatch `EnableAlarmActions` / `DisableAlarmActions`.
    AlarmActions { alarm: String, enable: bool },
    /// ECS `StopTask`; a service's scheduler starts a replacement.
    StopTask {
        cluster: String,
        /// The task's ARN.
        task: String,
        /// The service that started it (and replaces it), if any.
        service: Option<String>,
        /// Its status when the operation was resolved.
        status: String,
        /// RUNNING tasks of its service then, this one included (0 without
        /// a service): stopping the last one takes the service down.
        running: u32,
        /// What ECS records as the stopped reason: who stopped it.
        reason: String,
    },
    /// CloudFront `CreateInvalidation` of `paths` on `distribution`, with
    /// a caller reference unique to this request (how it is found again
    /// when the answer was lost).
    Invalidate {
        distribution: String,
        paths: Vec<String>,
        caller_reference: String,
    },
    /// EC2 `RebootInstances`, `StopInstances` or `StartInstances` of one
    /// instance, by its id.
    Host {
        /// The instance id.
        instance: String,
        /// Its Name tag when no other host of the environment has it: what
        /// a protected environment asks to be typed (else the id).
        name: Option<String>,
        action: PowerAction,
        /// Its state when the operation was resolved.
        state: String,
    },
    /// ECS `ExecuteCommand` (interactive), then the terminal is handed to
    /// the `session-manager-plugin` until the session ends.
    Exec {
        cluster: String,
        /// The task's ARN.
        task: String,
        service: Option<String>,
        container: String,
        /// The container's runtime id: the session's target.
        runtime_id: String,
        command: String,
    },
}

impl Operation {
    /// A short name of the operation, as the audit log and activity view
    /// show it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Scale { .. } => "scale",
            Self::ScalingBounds { .. } => "scaling-bounds",
            Self::DeployImage { .. } => "deploy-image",
            Self::CodeDeployStop { .. } => "codedeploy-stop",
            Self::CodeDeployContinue { .. } => "codedeploy-continue",
            Self::Rollback { .. } => "rollback",
            Self::Restart { .. } => "restart",
            Self::Snapshot { .. } => "db-snapshot",
            Self::Reboot { failover: true, .. } => "db-reboot-failover",
            Self::Reboot { .. } => "db-reboot",
            Self::RestoreSnapshot { .. } => "db-restore-snapshot",
            Self::RestoreTime { .. } => "db-restore-time",
            Self::Promote { .. } => "db-promote",
            Self::AlarmActions { enable: true, .. } => "alarm-unmute",
            Self::AlarmActions { .. } => "alarm-mute",
            Self::StopTask { .. } => "stop-task",
            Self::Invalidate { .. } => "cloudfront-invalidate",
            Self::Host {
                action: PowerAction::Reboot,
                ..
            } => "ec2-reboot",
            Self::Host {
                action: PowerAction::Stop,
                ..
            } => "ec2-stop",
            Self::Host {
                action: PowerAction::Start,
                ..
            } => "ec2-start",
            Self::Exec { .. } => "exec",
        }
    }

    /// The title of the confirmation dialog.
    pub fn title(&self) -> String {
        match self {
            Self::Scale { service, .. } => format!("Scale service {service}"),
            Self::ScalingBounds { service, .. } => {
                format!("Change auto-scaling bounds of {service}")
            }
            Self::DeployImage {
                service,
                via: Some(_),
                ..
            } => format!("Deploy a new image to {service} (CodeDeploy blue/green)"),
            Self::DeployImage { service, .. } => format!("Deploy a new image to {service}"),
            Self::CodeDeployStop { service, .. } => {
                format!("Stop {service}'s blue/green deployment and roll back")
            }
            Self::CodeDeployContinue { service, .. } => {
                format!("Reroute {service}'s traffic to the replacement")
            }
            Self::Rollback { service, .. } => format!("Roll back {service}"),
            Self::Restart { service, .. } => format!("Restart {service} (new deployment)"),
            Self::Snapshot { instance, .. } => format!("Snapshot {instance}"),
            Self::Reboot {
                instance,
                failover: true,
            } => format!("Reboot {instance} with failover"),
            Self::Reboot { instance, .. } => format!("Reboot {instance}"),
            Self::RestoreSnapshot { source, .. } => format!("Restore {source} from a snapshot"),
            Self::RestoreTime { source, .. } => format!("Restore {source} to a point in time"),
            Self::Promote { instance, .. } => format!("Promote replica {instance}"),
            Self::AlarmActions {
                alarm,
                enable: true,
            } => format!("Unmute {alarm}"),
            Self::AlarmActions { alarm, .. } => format!("Mute {alarm}"),
            Self::StopTask {
                service: Some(service),
                ..
            } => format!("Stop task {} of {service}", self.resource()),
            Self::StopTask { .. } => format!("Stop task {}", self.resource()),
            Self::Exec { container, .. } => {
                format!("Exec into {container} of task {}", self.resource())
            }
            Self::Invalidate { distribution, .. } => {
                format!("Invalidate CloudFront distribution {distribution}")
            }
            Self::Host {
                instance,
                name,
                action,
                ..
            } => {
                let verb = match action {
                    PowerAction::Reboot => "Reboot",
                    PowerAction::Stop => "Stop",
                    PowerAction::Start => "Start",
                };
                match name {
                    Some(name) => format!("{verb} host {name} ({instance})"),
                    None => format!("{verb} host {instance}"),
                }
            }
        }
    }

    /// The name of the resource acted on: what a protected environment asks
    /// the operator to type.
    pub fn resource(&self) -> &str {
        match self {
            Self::Scale { service, .. }
            | Self::ScalingBounds { service, .. }
            | Self::DeployImage { service, .. }
            | Self::Rollback { service, .. }
            | Self::Restart { service, .. }
            | Self::CodeDeployStop { service, .. }
            | Self::CodeDeployContinue { service, .. } => service,
            Self::Snapshot { instance, .. }
            | Self::Reboot { instance, .. }
            | Self::Promote { instance, .. } => instance,
            // The instance the restore creates: what is typed to confirm.
            Self::RestoreSnapshot { target, .. } | Self::RestoreTime { target, .. } => target,
            Self::AlarmActions { alarm, .. } => alarm,
            // The task id as the tasks view shows it (what a protected
            // environment asks to be typed).
            Self::StopTask { task, .. } | Self::Exec { task, .. } => task_label(task),
            Self::Invalidate { distribution, .. } => distribution,
            Self::Host { instance, .. } => instance,
        }
    }

    /// What a protected environment asks to be typed after its name: the
    /// resource, except for a restore, whose new identifier was typed a
    /// moment before: there the instance being restored.
    pub fn confirmed_name(&self) -> &str {
        match self {
            Self::RestoreSnapshot { source, .. } | Self::RestoreTime { source, .. } => source,
            Self::Host {
                name: Some(name), ..
            } => name,
            _ => self.resource(),
        }
    }

    /// What kind of resource [`resource`](Self::resource) is.
    pub fn resource_kind(&self) -> &'static str {
        match self {
            Self::Scale { .. }
            | Self::ScalingBounds { .. }
            | Self::DeployImage { .. }
            | Self::Rollback { .. }
            | Self::Restart { .. }
            | Self::CodeDeployStop { .. }
            | Self::CodeDeployContinue { .. } => "ECS service",
            Self::Snapshot { .. } | Self::Reboot { .. } => "DB instance",
            Self::RestoreSnapshot { .. } | Self::RestoreTime { .. } => "new instance",
            Self::Promote { .. } => "DB replica",
            Self::AlarmActions { .. } => "alarm",
            Self::StopTask { .. } | Self::Exec { .. } => "ECS task",
            Self::Invalidate { .. } => "CloudFront distribution",
            Self::Host { .. } => "EC2 instance",
        }
    }

    /// The ECS service acted on, if any.
    pub fn service(&self) -> Option<&str> {
        match self {
            Self::Scale { service, .. }
            | Self::ScalingBounds { service, .. }
            | Self::DeployImage { service, .. }
            | Self::Rollback { service, .. }
            | Self::Restart { service, .. }
            | Self::CodeDeployStop { service, .. }
            | Self::CodeDeployContinue { service, .. } => Some(service),
            _ => None,
        }
    }

    /// Whether the operation interrupts traffic, undoes a release or takes
    /// something down: the dialog shows it in the danger style.
    pub fn is_dangerous(&self) -> bool {
        matches!(
            self,
            Self::Rollback { .. }
                | Self::Reboot { .. }
                | Self::Promote { .. }
                | Self::CodeDeployStop { .. }
                | Self::Host {
                    action: PowerAction::Reboot | PowerAction::Stop,
                    ..
                }
        ) || self.outage().is_some()
    }

    /// What this takes down, when it does: a service scaled (or bounded) to
    /// no task, a database rebooted with no standby to fail over to. The
    /// confirmation shows it above everything else.
    pub fn outage(&self) -> Option<String> {
        match self {
            Self::Scale { service, to: 0, .. } => Some(format!(
                "desired 0 stops every task of {service}: it serves nothing until it is \
                 scaled up again"
            )),
            Self::ScalingBounds { service, to, .. } if to.1 == 0 => Some(format!(
                "max 0: auto scaling stops every task of {service}: it serves nothing until \
                 the bounds are raised"
            )),
            Self::StopTask {
                service: Some(service),
                running: 1,
                status,
                ..
            } if status == "RUNNING" => Some(format!(
                "this is the only RUNNING task of {service}: it serves nothing until the \
                 replacement runs"
            )),
            Self::Reboot {
                instance,
                failover: false,
            } => Some(format!(
                "no Multi-AZ standby, so no failover: {instance} is down while it reboots \
                 (downtime, usually minutes)"
            )),
            Self::Promote { source, .. } => Some(format!(
                "replication from {source} stops for good: this can never be its replica again"
            )),
            Self::Host {
                action: PowerAction::Stop,
                ..
            } => Some(format!(
                "{} stops serving until it is started again: its share of the traffic goes \
                 to the other hosts behind the load balancer, if any",
                self.confirmed_name()
            )),
            Self::Host {
                action: PowerAction::Reboot,
                ..
            } => Some(format!(
                "{} is down while it reboots (usually a minute or two)",
                self.confirmed_name()
            )),
            _ => None,
        }
    }

    /// What else an operator should know before confirming.
    pub fn notes(&self) -> Vec<String> {
        match self {
            Self::Scale {
                scaling: Some((min, max)),
                to,
                ..
            } => {
                let mut v = vec![format!(
                    "auto scaling ({min}–{max}) manages this service and may override the \
                     count; esc and A change min/max instead"
                )];
                if to < min || to > max {
                    v.push(format!(
                        "{to} is outside {min}–{max}: the scaler will move it back"
                    ));
                }
                v
            }
            Self::Reboot { failover: true, .. } => vec![
                "Multi-AZ: the standby is promoted; connections drop for about a minute"
                    .to_string(),
            ],
            Self::RestoreSnapshot {
                source,
                target,
                snapshot_time,
                ..
            } => vec![match snapshot_time {
                Some(t) => format!(
                    "data as of {} (the snapshot); {}",
                    t.format("%Y-%m-%d %H:%M UTC"),
                    restore_note(source, target)
                ),
                None => restore_note(source, target),
            }],
            Self::RestoreTime {
                source,
                target,
                time,
                ..
            } => vec![format!(
                "{}; {}",
                match time {
                    Some(t) => format!("data as of {}", t.format("%Y-%m-%d %H:%M:%S UTC")),
                    None => "data as of the latest restorable time (within about five \
                             minutes of now)"
                        .to_string(),
                },
                restore_note(source, target)
            )],
            Self::Promote { .. } => vec![
                "it reboots while promoted (its reads stop a minute or two); its endpoint \
                 stays: point the application's writes at it"
                    .to_string(),
            ],
            Self::AlarmActions { enable: false, .. } => vec![
                "while muted the alarm still changes state, but notifies no one: unmute after \
                 the maintenance"
                    .to_string(),
            ],
            Self::StopTask {
                service: Some(service),
                ..
            } => vec![format!(
                "{service} starts a replacement; until it runs, {service} has one task fewer"
            )],
            Self::StopTask { service: None, .. } => {
                vec!["this task belongs to no service: nothing replaces it".to_string()]
            }
            Self::Invalidate { paths, .. } => vec![
                format!(
                    "edge caches drop {}: the next requests for them go to the origin \
                     (more origin load for a few minutes)",
                    paths.join(" ")
                ),
                "it completes in a few minutes, followed here until Completed; AWS \
                 charges per path beyond 1 000 a month (/* counts as one)"
                    .to_string(),
            ],
            Self::Host {
                action: PowerAction::Reboot,
                ..
            } => vec![
                "the OS restarts; the host keeps its addresses and volumes; the app must \
                 start at boot (pm2 startup, systemd)"
                    .to_string(),
                "followed here until it runs with both status checks ok".to_string(),
            ],
            Self::Host {
                action: PowerAction::Stop,
                ..
            } => vec![
                "EBS volumes are kept; instance-store data is lost; a public IPv4 address \
                 that is not an Elastic IP changes when it starts again"
                    .to_string(),
                "followed here until it is stopped".to_string(),
            ],
            Self::Host {
                action: PowerAction::Start,
                ..
            } => vec![
                "followed here until it runs with both status checks ok (a few minutes); \
                 it registers with its target groups' health checks again"
                    .to_string(),
            ],
            Self::DeployImage {
                via: Some(via),
                service,
                ..
            } => {
                let wait = match via.ready_wait_minutes {
                    Some(m) => format!("; the replacement waits up to {m} min for a continue"),
                    None => "; traffic moves as soon as the replacement runs".to_string(),
                };
                let v = vec![format!(
                    "{service} is CODE_DEPLOY: CreateDeployment ({}), not UpdateService{wait}",
                    via.deployment_group
                )];
                v
            }
            Self::CodeDeployStop {
                traffic, original, ..
            } => vec![
                format!(
                    "CodeDeploy starts a rollback deployment: production traffic ({traffic} % on \
                     the replacement now) returns to the original task set ({}) and the \
                     replacement is removed",
                    task_definition_label(original)
                ),
                "this stops CodeDeploy's deployment; it sends no UpdateService (a CODE_DEPLOY \
                 service's task definition changes through CodeDeploy only)"
                    .to_string(),
            ],
            Self::CodeDeployContinue { config, .. } => vec![
                format!(
                    "production traffic moves to the replacement as {config} says; the original \
                     task set is kept for the group's termination wait"
                ),
                "followed here until CodeDeploy says Succeeded; b stops it and rolls back \
                 meanwhile"
                    .to_string(),
            ],
            Self::Exec { .. } => vec![
                "the session-manager-plugin takes over this terminal; leave the shell (exit) \
                 to come back to the console"
                    .to_string(),
                "a live shell in a running container: what you type runs there. The audit \
                 log records the session's start, end and exit status, never its content"
                    .to_string(),
            ],
            _ => Vec::new(),
        }
    }

    /// Before → after, as the operator reads it.
    pub fn before_after(&self) -> (String, String) {
        match self {
            Self::Scale { from, to, .. } => (
                format!("desired count {from}"),
                format!("desired count {to}"),
            ),
            Self::ScalingBounds { from, to, .. } => (
                format!("min {} max {}", from.0, from.1),
                format!("min {} max {}", to.0, to.1),
            ),
            Self::DeployImage { from, to, .. } => (from.clone(), to.clone()),
            Self::CodeDeployStop {
                deployment,
                status,
                traffic,
                original,
                replacement,
                ..
            } => (
                format!(
                    "{deployment} {status}, {traffic} % on {}",
                    replacement
                        .as_deref()
                        .map_or("the replacement", task_definition_label)
                ),
                format!(
                    "Stopped; all traffic back on {}",
                    task_definition_label(original)
                ),
            ),
            Self::CodeDeployContinue {
                deployment,
                replacement,
                ..
            } => {
                let r = replacement
                    .as_deref()
                    .map_or("the replacement", task_definition_label);
                let _ = deployment;
                (
                    format!("{r} ready, no production traffic"),
                    format!("production traffic rerouted to {r}"),
                )
            }
            Self::Rollback { from, to, .. } => (
                task_definition_label(from).to_string(),
                task_definition_label(to).to_string(),
            ),
            Self::Restart {
                task_definition, ..
            } => (
                format!("tasks of {}", task_definition_label(task_definition)),
                format!(
                    "new tasks of {} replace them",
                    task_definition_label(task_definition)
                ),
            ),
            Self::Snapshot { snapshot_id, .. } => {
                ("no snapshot".to_string(), format!("snapshot {snapshot_id}"))
            }
            Self::Reboot { failover, .. } => (
                "available".to_string(),
                if *failover {
                    "rebooting; the standby becomes the primary".to_string()
                } else {
                    "rebooting (connections drop)".to_string()
                },
            ),
            Self::RestoreSnapshot {
                snapshot,
                target,
                settings,
                ..
            } => (
                format!("snapshot {snapshot}"),
                format!("new instance {target} ({})", settings.class),
            ),
            Self::RestoreTime {
                source,
                time,
                target,
                settings,
            } => (
                match time {
                    Some(t) => format!("{source} as of {}", t.format("%Y-%m-%d %H:%M:%S UTC")),
                    None => format!("{source} as of its latest restorable time"),
                },
                format!("new instance {target} ({})", settings.class),
            ),
            Self::Promote { source, .. } => (
                format!("read replica of {source}"),
                "a standalone instance: replication stopped".to_string(),
            ),
            Self::AlarmActions { enable, .. } => {
                let (a, b) = ("actions enabled", "actions disabled (muted)");
                if *enable {
                    (b.to_string(), a.to_string())
                } else {
                    (a.to_string(), b.to_string())
                }
            }
            Self::StopTask {
                status, service, ..
            } => (
                status.clone(),
                match service {
                    Some(service) => format!("STOPPED; {service} starts a replacement"),
                    None => "STOPPED".to_string(),
                },
            ),
            Self::Invalidate { paths, .. } => (
                format!("cached copies of {} served", paths.join(" ")),
                "invalidated: fetched again from the origin".to_string(),
            ),
            Self::Host { action, state, .. } => (
                state.clone(),
                match action {
                    PowerAction::Reboot => "rebooting, then running with checks ok".to_string(),
                    PowerAction::Stop => "stopping, then stopped".to_string(),
                    PowerAction::Start => "pending, then running with checks ok".to_string(),
                },
            ),
            Self::Exec {
                container, command, ..
            } => (
                format!("{container} RUNNING"),
                format!("an interactive session running {command} in {container}"),
            ),
        }
    }

    /// The exact API calls that will be sent, one line each.
    pub fn calls(&self) -> Vec<String> {
        match self {
            Self::Host {
                instance, action, ..
            } => vec![format!("{} InstanceIds=[{instance}]", action.api())],
            Self::Invalidate {
                distribution,
                paths,
                caller_reference,
            } => vec![format!(
                "cloudfront:CreateInvalidation DistributionId={distribution} \
                 Paths=[{}] CallerReference={caller_reference}",
                paths.join(",")
            )],
            Self::Scale {
                cluster,
                service,
                to,
                ..
            } => vec![format!(
                "ecs:UpdateService cluster={cluster} service={service} desiredCount={to}"
            )],
            Self::ScalingBounds {
                cluster,
                service,
                to,
                ..
            } => vec![format!(
                "application-autoscaling:RegisterScalableTarget serviceNamespace=ecs \
                 resourceId=service/{cluster}/{service} scalableDimension=ecs:service:DesiredCount \
                 minCapacity={} maxCapacity={}",
                to.0, to.1
            )],
            Self::DeployImage {
                base,
                container,
                to,
                via: Some(via),
                ..
            } => {
                let label = task_definition_label(base);
                let family = label.split(':').next().unwrap_or(label);
                vec![
                    format!("ecs:DescribeTaskDefinition taskDefinition={label} include=TAGS"),
                    format!(
                        "ecs:RegisterTaskDefinition family={family} (every field of {label}; \
                         container {container} image={to})"
                    ),
                    format!(
                        "codedeploy:CreateDeployment applicationName={} deploymentGroupName={} \
                         revision=AppSpecContent{{TaskDefinition=<new revision ARN>, \
                         ContainerName={}, ContainerPort={}}} description=\"{}\"",
                        via.application,
                        via.deployment_group,
                        via.lb_container,
                        via.lb_port,
                        via.description
                    ),
                    "then codedeploy:GetDeployment deploymentId=<its id> (read back)".to_string(),
                ]
            }
            Self::CodeDeployStop { deployment, .. } => vec![
                format!(
                    "codedeploy:StopDeployment deploymentId={deployment} autoRollbackEnabled=true"
                ),
                format!("then codedeploy:GetDeployment deploymentId={deployment} (read back)"),
            ],
            Self::CodeDeployContinue { deployment, .. } => vec![
                format!(
                    "codedeploy:ContinueDeployment deploymentId={deployment} \
                     deploymentWaitType=READY_WAIT"
                ),
                format!("then codedeploy:GetDeployment deploymentId={deployment} (read back)"),
            ],
            Self::DeployImage {
                cluster,
                service,
                base,
                container,
                to,
                ..
            } => {
                let label = task_definition_label(base);
                let family = label.split(':').next().unwrap_or(label);
                vec![
                    format!("ecs:DescribeTaskDefinition taskDefinition={label} include=TAGS"),
                    format!(
                        "ecs:RegisterTaskDefinition family={family} (every field of {label}; \
                         container {container} image={to})"
                    ),
                    format!(
                        "ecs:UpdateService cluster={cluster} service={service} \
                         taskDefinition={family}:<new revision>"
                    ),
                ]
            }
            Self::Rollback {
                cluster,
                service,
                to,
                ..
            } => vec![format!(
                "ecs:UpdateService cluster={cluster} service={service} taskDefinition={}",
                task_definition_label(to)
            )],
            Self::Restart {
                cluster, service, ..
            } => vec![format!(
                "ecs:UpdateService cluster={cluster} service={service} forceNewDeployment=true"
            )],
            Self::Snapshot {
                instance,
                snapshot_id,
            } => vec![format!(
                "rds:CreateDBSnapshot DBInstanceIdentifier={instance} \
                 DBSnapshotIdentifier={snapshot_id}"
            )],
            Self::Reboot { instance, failover } => vec![format!(
                "rds:RebootDBInstance DBInstanceIdentifier={instance} ForceFailover={failover}"
            )],
            Self::RestoreSnapshot {
                snapshot,
                target,
                settings,
                ..
            } => vec![format!(
                "rds:RestoreDBInstanceFromDBSnapshot DBInstanceIdentifier={target} \
                 DBSnapshotIdentifier={snapshot} {}",
                settings_parameters(settings)
            )],
            Self::RestoreTime {
                source,
                time,
                target,
                settings,
            } => vec![format!(
                "rds:RestoreDBInstanceToPointInTime SourceDBInstanceIdentifier={source} \
                 TargetDBInstanceIdentifier={target} {} {}",
                match time {
                    Some(t) => format!("RestoreTime={}", t.format("%Y-%m-%dT%H:%M:%SZ")),
                    None => "UseLatestRestorableTime=true".to_string(),
                },
                settings_parameters(settings)
            )],
            Self::Promote { instance, .. } => vec![format!(
                "rds:PromoteReadReplica DBInstanceIdentifier={instance}"
            )],
            Self::AlarmActions { alarm, enable } => vec![format!(
                "cloudwatch:{}AlarmActions AlarmNames=[{alarm}]",
                if *enable { "Enable" } else { "Disable" }
            )],
            Self::StopTask {
                cluster,
                task,
                reason,
                ..
            } => vec![format!(
                "ecs:StopTask cluster={cluster} task={} reason=\"{reason}\"",
                short_id(task)
            )],
            Self::Exec {
                cluster,
                task,
                container,
                runtime_id,
                command,
                ..
            } => vec![
                format!(
                    "ecs:ExecuteCommand cluster={cluster} task={} container={container} \
                     interactive=true command=\"{command}\"",
                    short_id(task)
                ),
                format!(
                    "then session-manager-plugin StartSession \
                     Target={} (this terminal)",
                    crate::exec::target(cluster, task, runtime_id)
                ),
            ],
        }
    }

    /// The parameters, for the audit log. Never secret values: operations
    /// carry names, counts and image references only.
    pub fn parameters(&self) -> Value {
        match self {
            Self::Host {
                instance,
                name,
                state,
                ..
            } => json!({
                "InstanceIds": [instance], "name": name, "before": { "state": state },
            }),
            Self::Invalidate {
                distribution,
                paths,
                caller_reference,
            } => json!({
                "DistributionId": distribution, "Paths": paths,
                "CallerReference": caller_reference,
            }),
            Self::Scale {
                cluster,
                service,
                from,
                to,
                scaling,
            } => json!({
                "cluster": cluster, "service": service,
                "desiredCount": to, "before": { "desiredCount": from },
                "autoScaling": scaling.map(|(min, max)| json!({"min": min, "max": max})),
            }),
            Self::ScalingBounds {
                cluster,
                service,
                from,
                to,
            } => json!({
                "resourceId": format!("service/{cluster}/{service}"),
                "minCapacity": to.0, "maxCapacity": to.1,
                "before": { "minCapacity": from.0, "maxCapacity": from.1 },
            }),
            Self::DeployImage {
                cluster,
                service,
                base,
                container,
                from,
                to,
                via,
            } => json!({
                "cluster": cluster, "service": service, "baseTaskDefinition": base,
                "container": container, "image": to, "before": { "image": from },
                "codeDeploy": via.as_ref().map(|v| json!({
                    "applicationName": v.application,
                    "deploymentGroupName": v.deployment_group,
                    "containerName": v.lb_container,
                    "containerPort": v.lb_port,
                    "description": v.description,
                    "readyWaitMinutes": v.ready_wait_minutes,
                })),
            }),
            Self::CodeDeployStop {
                cluster,
                service,
                deployment,
                status,
                traffic,
                original,
                replacement,
            } => json!({
                "cluster": cluster, "service": service, "deploymentId": deployment,
                "autoRollbackEnabled": true,
                "before": {
                    "status": status, "trafficShifted": traffic,
                    "original": original, "replacement": replacement,
                },
            }),
            Self::CodeDeployContinue {
                cluster,
                service,
                deployment,
                replacement,
                config,
            } => json!({
                "cluster": cluster, "service": service, "deploymentId": deployment,
                "deploymentWaitType": "READY_WAIT", "deploymentConfig": config,
                "replacement": replacement,
            }),
            Self::Rollback {
                cluster,
                service,
                from,
                to,
            } => json!({
                "cluster": cluster, "service": service, "taskDefinition": to,
                "before": { "taskDefinition": from },
            }),
            Self::Restart {
                cluster,
                service,
                task_definition,
            } => json!({
                "cluster": cluster, "service": service, "forceNewDeployment": true,
                "before": { "taskDefinition": task_definition },
            }),
            Self::Snapshot {
                instance,
                snapshot_id,
            } => json!({ "DBInstanceIdentifier": instance, "DBSnapshotIdentifier": snapshot_id }),
            Self::Reboot { instance, failover } => {
                json!({ "DBInstanceIdentifier": instance, "ForceFailover": failover })
            }
            Self::RestoreSnapshot {
                source,
                snapshot,
                snapshot_time,
                target,
                settings,
            } => json!({
                "DBInstanceIdentifier": target, "DBSnapshotIdentifier": snapshot,
                "source": source, "snapshotCreateTime": snapshot_time, "settings": settings,
            }),
            Self::RestoreTime {
                source,
                time,
                target,
                settings,
            } => json!({
                "SourceDBInstanceIdentifier": source, "TargetDBInstanceIdentifier": target,
                "RestoreTime": time, "UseLatestRestorableTime": time.is_none(),
                "settings": settings,
            }),
            Self::Promote { instance, source } => {
                json!({ "DBInstanceIdentifier": instance, "before": { "replicaOf": source } })
            }
            Self::AlarmActions { alarm, enable } => {
                json!({ "AlarmNames": [alarm], "actionsEnabled": enable })
            }
            Self::StopTask {
                cluster,
                task,
                service,
                status,
                running,
                reason,
            } => json!({
                "cluster": cluster, "task": task, "service": service, "reason": reason,
                "before": { "lastStatus": status, "serviceRunning": running },
            }),
            Self::Exec {
                cluster,
                task,
                service,
                container,
                runtime_id,
                command,
            } => json!({
                "cluster": cluster, "task": task, "service": service,
                "container": container, "runtimeId": runtime_id, "command": command,
                "interactive": true,
                "target": crate::exec::target(cluster, task, runtime_id),
            }),
        }
    }
}

impl Operation {
    /// The operation an audit record describes, from its name and
    /// parameters (as [`name`](Self::name) and
    /// [`parameters`](Self::parameters) wrote them); `None` when the record
    /// does not say enough.
    pub fn from_audit(name: &str, p: &Value) -> Option<Operation> {
        let text = |v: &Value| v.as_str().map(str::to_string);
        let count = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
        let cluster = || text(&p["cluster"]);
        let service = || text(&p["service"]);
        Some(match name {
            "scale" => Operation::Scale {
                cluster: cluster()?,
                service: service()?,
                from: count(&p["before"]["desiredCount"])?,
                to: count(&p["desiredCount"])?,
                scaling: count(&p["autoScaling"]["min"]).zip(count(&p["autoScaling"]["max"])),
            },
            "scaling-bounds" => {
                let id = text(&p["resourceId"])?;
                let mut parts = id.splitn(3, '/');
                let (_, cluster, service) = (parts.next()?, parts.next()?, parts.next()?);
                Operation::ScalingBounds {
                    cluster: cluster.to_string(),
                    service: service.to_string(),
                    from: (
                        count(&p["before"]["minCapacity"])?,
                        count(&p["before"]["maxCapacity"])?,
                    ),
                    to: (count(&p["minCapacity"])?, count(&p["maxCapacity"])?),
                }
            }
            "deploy-image" => Operation::DeployImage {
                cluster: cluster()?,
                service: service()?,
                base: text(&p["baseTaskDefinition"])?,
                container: text(&p["container"])?,
                from: text(&p["before"]["image"])?,
                to: text(&p["image"])?,
                via: match &p["codeDeploy"] {
                    Value::Null => None,
                    v => Some(Box::new(ViaCodeDeploy {
                        application: text(&v["applicationName"])?,
                        deployment_group: text(&v["deploymentGroupName"])?,
                        lb_container: text(&v["containerName"])?,
                        lb_port: v["containerPort"]
                            .as_u64()
                            .and_then(|n| u16::try_from(n).ok())?,
                        description: text(&v["description"])?,
                        ready_wait_minutes: count(&v["readyWaitMinutes"]),
                    })),
                },
            },
            "codedeploy-stop" => Operation::CodeDeployStop {
                cluster: cluster()?,
                service: service()?,
                deployment: text(&p["deploymentId"])?,
                status: text(&p["before"]["status"])?,
                traffic: count(&p["before"]["trafficShifted"]).unwrap_or(0),
                original: text(&p["before"]["original"])?,
                replacement: text(&p["before"]["replacement"]),
            },
            "codedeploy-continue" => Operation::CodeDeployContinue {
                cluster: cluster()?,
                service: service()?,
                deployment: text(&p["deploymentId"])?,
                replacement: text(&p["replacement"]),
                config: text(&p["deploymentConfig"])?,
            },
            "rollback" => Operation::Rollback {
                cluster: cluster()?,
                service: service()?,
                from: text(&p["before"]["taskDefinition"])?,
                to: text(&p["taskDefinition"])?,
            },
            "restart" => Operation::Restart {
                cluster: cluster()?,
                service: service()?,
                task_definition: text(&p["before"]["taskDefinition"])?,
            },
            "cloudfront-invalidate" => Operation::Invalidate {
                distribution: text(&p["DistributionId"])?,
                paths: p["Paths"]
                    .as_array()?
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()?,
                caller_reference: text(&p["CallerReference"])?,
            },
            "ec2-reboot" | "ec2-stop" | "ec2-start" => Operation::Host {
                instance: text(&p["InstanceIds"][0])?,
                name: text(&p["name"]),
                action: match name {
                    "ec2-reboot" => PowerAction::Reboot,
                    "ec2-stop" => PowerAction::Stop,
                    _ => PowerAction::Start,
                },
                state: text(&p["before"]["state"])?,
            },
            "db-snapshot" => Operation::Snapshot {
                instance: text(&p["DBInstanceIdentifier"])?,
                snapshot_id: text(&p["DBSnapshotIdentifier"])?,
            },
            "db-reboot" | "db-reboot-failover" => Operation::Reboot {
                instance: text(&p["DBInstanceIdentifier"])?,
                failover: p["ForceFailover"].as_bool()?,
            },
            "db-restore-snapshot" => Operation::RestoreSnapshot {
                source: text(&p["source"])?,
                snapshot: text(&p["DBSnapshotIdentifier"])?,
                snapshot_time: serde_json::from_value(p["snapshotCreateTime"].clone()).ok()?,
                target: text(&p["DBInstanceIdentifier"])?,
                settings: serde_json::from_value(p["settings"].clone()).ok()?,
            },
            "db-restore-time" => Operation::RestoreTime {
                source: text(&p["SourceDBInstanceIdentifier"])?,
                time: serde_json::from_value(p["RestoreTime"].clone()).ok()?,
                target: text(&p["TargetDBInstanceIdentifier"])?,
                settings: serde_json::from_value(p["settings"].clone()).ok()?,
            },
            "db-promote" => Operation::Promote {
                instance: text(&p["DBInstanceIdentifier"])?,
                source: text(&p["before"]["replicaOf"])?,
            },
            "alarm-mute" | "alarm-unmute" => Operation::AlarmActions {
                alarm: text(&p["AlarmNames"][0])?,
                enable: p["actionsEnabled"].as_bool()?,
            },
            "stop-task" => Operation::StopTask {
                cluster: cluster()?,
                task: text(&p["task"])?,
                service: service(),
                status: text(&p["before"]["lastStatus"])?,
                running: count(&p["before"]["serviceRunning"]).unwrap_or(0),
                reason: text(&p["reason"])?,
            },
            "exec" => Operation::Exec {
                cluster: cluster()?,
                task: text(&p["task"])?,
                service: service(),
                container: text(&p["container"])?,
                runtime_id: text(&p["runtimeId"])?,
                command: text(&p["command"])?,
            },
            _ => return None,
        })
    }
}

/// How a CODE_DEPLOY service's new revision is deployed: CodeDeploy
/// `CreateDeployment` with an AppSpec naming it (UpdateService cannot
/// change such a service's task definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViaCodeDeploy {
    pub application: String,
    pub deployment_group: String,
    /// The container and port the service's load balancer sends to (the
    /// AppSpec's `LoadBalancerInfo`).
    pub lb_container: String,
    pub lb_port: u16,
    /// The deployment's description: unique to the request (how it is
    /// found again when the answer was lost).
    pub description: String,
    /// Minutes the replacement waits for a continue, when the group waits.
    pub ready_wait_minutes: Option<u32>,
}

/// What every restore's preview says first: a new instance, the source
/// untouched, the switch-over the operator's.
fn restore_note(source: &str, _target: &str) -> String {
    format!("{source} is not changed: point the application at the new endpoint")
}

/// The carried settings as the API's parameters, in the preview's order.
fn settings_parameters(s: &RestoreSettings) -> String {
    let mut v = vec![
        format!("DBInstanceClass={}", s.class),
        format!("MultiAZ={}", s.multi_az),
    ];
    if let Some(t) = &s.storage_type {
        v.push(format!("StorageType={t}"));
    }
    if let Some(g) = &s.subnet_group {
        v.push(format!("DBSubnetGroupName={g}"));
    }
    if !s.security_groups.is_empty() {
        v.push(format!(
            "VpcSecurityGroupIds=[{}]",
            s.security_groups.join(",")
        ));
    }
    if let Some(g) = &s.parameter_group {
        v.push(format!("DBParameterGroupName={g}"));
    }
    if let Some(g) = &s.option_group {
        v.push(format!("OptionGroupName={g}"));
    }
    v.push(format!("DeletionProtection={}", s.deletion_protection));
    if !s.tags.is_empty() {
        let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        v.push(format!("Tags=[{}]", tags.join(",")));
    }
    v.join(" ")
}

/// The settings a restore copies, as the preview lists them: label, text.
pub fn settings_preview(s: &RestoreSettings) -> Vec<(&'static str, String)> {
    let mut first = vec![
        s.class.clone(),
        if s.multi_az { "Multi-AZ" } else { "single-AZ" }.to_string(),
    ];
    if let Some(t) = &s.storage_type {
        first.push(t.clone());
    }
    first.push(format!(
        "deletion protection {}",
        if s.deletion_protection { "on" } else { "off" }
    ));
    let network = format!(
        "subnet group {} · security groups {}",
        s.subnet_group.as_deref().unwrap_or("default"),
        if s.security_groups.is_empty() {
            "the VPC's default".to_string()
        } else {
            s.security_groups.join(", ")
        }
    );
    let groups = format!(
        "parameter {} · option {}",
        s.parameter_group
            .as_deref()
            .unwrap_or("the engine's default"),
        s.option_group.as_deref().unwrap_or("the engine's default")
    );
    let tags = if s.tags.is_empty() {
        "none".to_string()
    } else {
        s.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        ("copies", first.join(" · ")),
        ("network", network),
        ("groups", groups),
        ("tags", tags),
    ]
}

/// The most characters of an RDS DB instance identifier.
pub const INSTANCE_ID_MAX: usize = 63;

/// Whether an RDS DB instance identifier is valid: 1 to 63 letters, digits
/// and hyphens, starting with a letter, no two hyphens in a row, not ending
/// with one.
pub fn valid_instance_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= INSTANCE_ID_MAX
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.contains("--")
        && !id.ends_with('-')
}

/// The proposed identifier of a restored instance:
/// `<db>-restored-<UTC timestamp>`, cut to fit 63 characters, not among
/// `existing`.
pub fn restore_identifier(instance: &str, now: Timestamp, existing: &[&str]) -> String {
    let stamp = now.format("%Y%m%d-%H%M%S");
    rds_identifier(
        instance,
        &format!("-restored-{stamp}"),
        INSTANCE_ID_MAX,
        existing,
    )
}

/// Checks the identifier typed for a restored instance.
pub fn check_restore_target(input: &str, existing: &[&str]) -> Result<String, String> {
    let id = input.trim();
    if id.is_empty() {
        return Err("type an identifier for the new instance".to_string());
    }
    if !valid_instance_identifier(id) {
        return Err(format!(
            "\"{id}\" is not a valid DB instance identifier: 1 to {INSTANCE_ID_MAX} letters, \
             digits and hyphens, starting with a letter, no \"--\", not ending with \"-\""
        ));
    }
    if existing.iter().any(|e| e.eq_ignore_ascii_case(id)) {
        return Err(format!(
            "{id} already exists: a restore creates a new instance; choose another identifier"
        ));
    }
    // RDS stores identifiers in lower case.
    Ok(id.to_ascii_lowercase())
}

/// Parses the time typed for a point-in-time restore: empty or `latest`
/// for the latest restorable time, else a UTC time (`2026-11-24 03:04`,
/// `2026-11-24T03:04:05Z`) within the restorable window
/// `[earliest, latest]`.
pub fn parse_restore_time(
    input: &str,
    earliest: Timestamp,
    latest: Timestamp,
) -> Result<Option<Timestamp>, String> {
    let t = input.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("latest") {
        return Ok(None);
    }
    let text = t.trim_end_matches(['Z', 'z']).trim_end_matches(" UTC");
    let formats = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    let parsed = formats
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|n| n.and_utc())
        .ok_or_else(|| {
            format!(
                "\"{t}\" is not a UTC time: type e.g. {} or latest",
                latest.format("%Y-%m-%d %H:%M")
            )
        })?;
    let fmt = |x: Timestamp| x.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    if parsed > latest {
        return Err(format!(
            "{} is after the latest restorable time {}",
            fmt(parsed),
            fmt(latest)
        ));
    }
    if parsed < earliest {
        return Err(format!(
            "{} is before the restorable window (backups are kept from {})",
            fmt(parsed),
            fmt(earliest)
        ));
    }
    Ok(Some(parsed))
}

/// The most ECS keeps of a stopped reason.
const STOP_REASON_MAX: usize = 255;

/// The reason a task is stopped with: who stopped it, through what.
pub fn stop_reason(caller: Option<&str>) -> String {
    let who = caller.unwrap_or("an operator (caller unknown)");
    let text = format!("stopped by {who} via honban");
    text.chars().take(STOP_REASON_MAX).collect()
}

/// A task's id as the tasks view shows it: its first 8 characters.
pub fn task_label(arn: &str) -> &str {
    let id = short_id(arn);
    id.get(..8).unwrap_or(id)
}

/// What a protected environment wants typed to confirm an operation on
/// `resource`: `ENV/RESOURCE` (e.g. `production/web`), so that the name
/// alone, the same in every environment, does not confirm in the wrong one.
pub fn confirmation_text(environment: &str, resource: &str) -> String {
    format!("{environment}/{resource}")
}

/// The image to deploy from what the operator typed: a tag (`v1.4.3`)
/// replaces the tag of the current image, a digest (`@sha256:…`) replaces
/// its tag or digest, anything with a `/` or `:` is a full image reference.
pub fn resolve_image(current: &str, input: &str) -> Result<String, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("type a tag (e.g. v1.4.3) or a full image".to_string());
    }
    if input.chars().any(char::is_whitespace) {
        return Err("an image reference has no spaces".to_string());
    }
    let repo = image_repository(current);
    let image = if let Some(digest) = input.strip_prefix('@') {
        if !digest.contains(':') {
            return Err("a digest looks like @sha256:…".to_string());
        }
        format!("{repo}@{digest}")
    } else if input.contains('/') || input.contains(':') || input.contains('@') {
        input.to_string()
    } else {
        let valid = input.len() <= 128
            && input
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && !input.starts_with(['.', '-']);
        if !valid {
            return Err(format!(
                "\"{input}\" is not a valid tag (letters, digits, _ . -; at most 128)"
            ));
        }
        format!("{repo}:{input}")
    };
    if image == current {
        return Err(format!("{image} is the image already deployed"));
    }
    Ok(image)
}

/// The repository of an image reference: without its tag or digest.
pub fn image_repository(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    // A `:` after the last `/` starts the tag (one before is a registry port).
    let last_slash = no_digest.rfind('/').map_or(0, |i| i + 1);
    match no_digest[last_slash..].find(':') {
        Some(i) => &no_digest[..last_slash + i],
        None => no_digest,
    }
}

/// A manual snapshot identifier: `<db>-honban-<UTC timestamp>`, valid for
/// RDS (letters, digits and single hyphens, starting with a letter, at most
/// 255 characters) and not among `existing`.
pub fn snapshot_identifier(instance: &str, now: Timestamp, existing: &[&str]) -> String {
    let stamp = now.format("%Y%m%d-%H%M%S");
    rds_identifier(instance, &format!("-honban-{stamp}"), 255, existing)
}

/// `<instance><suffix>` as RDS accepts an identifier (letters, digits and
/// single hyphens, starting with a letter, at most `max` characters, with
/// room for a uniqueness suffix `-2`…) and not among `existing`.
fn rds_identifier(instance: &str, suffix: &str, max: usize, existing: &[&str]) -> String {
    let mut base: String = instance
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while base.contains("--") {
        base = base.replace("--", "-");
    }
    let base = base.trim_matches('-');
    let base = if base.starts_with(|c: char| c.is_ascii_alphabetic()) {
        base.to_string()
    } else {
        format!("db-{base}")
    };
    let keep = max.saturating_sub(suffix.len() + 4);
    let base: String = base.chars().take(keep).collect();
    let first = format!("{}{suffix}", base.trim_end_matches('-'));
    if !existing.contains(&first.as_str()) {
        return first;
    }
    (2..1000)
        .map(|n| format!("{first}-{n}"))
        .find(|id| !existing.contains(&id.as_str()))
        .unwrap_or(first)
}

/// Whether an RDS snapshot identifier is valid.
pub fn valid_snapshot_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.contains("--")
        && !id.ends_with('-')
}

/// Parses the scale prompt: a desired count.
pub fn parse_count(input: &str) -> Result<u32, String> {
    let t = input.trim();
    t.parse::<u32>()
        .ok()
        .filter(|n| *n <= 5000)
        .ok_or_else(|| format!("\"{t}\" is not a task count (0 to 5000)"))
}

/// Parses the bounds prompt: `MIN MAX` (or `MIN-MAX`, `MIN,MAX`).
pub fn parse_bounds(input: &str) -> Result<(u32, u32), String> {
    let parts: Vec<&str> = input
        .split(|c: char| c.is_whitespace() || c == '-' || c == ',' || c == '–')
        .filter(|p| !p.is_empty())
        .collect();
    let [min, max] = parts.as_slice() else {
        return Err("type the minimum and the maximum, e.g. \"2 10\"".to_string());
    };
    let min = parse_count(min)?;
    let max = parse_count(max)?;
    if min > max {
        return Err(format!("the minimum {min} is above the maximum {max}"));
    }
    Ok((min, max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 24, 3, 4, 5)
            .single()
            .expect("time")
    }

    #[test]
    fn every_operation_is_read_back_from_its_audit_parameters() {
        let td = |r: u32| format!("arn:aws:ecs:ap-northeast-1:1:task-definition/web:{r}");
        let service = |s: &str| (String::from("prod"), s.to_string());
        let (cluster, svc) = service("web");
        let ops = vec![
            Operation::Scale {
                cluster: cluster.clone(),
                service: svc.clone(),
                from: 2,
                to: 3,
                scaling: Some((1, 6)),
            },
            Operation::Scale {
                cluster: cluster.clone(),
                service: svc.clone(),
                from: 2,
                to: 0,
                scaling: None,
            },
            Operation::ScalingBounds {
                cluster: cluster.clone(),
                service: svc.clone(),
                from: (1, 4),
                to: (2, 8),
            },
            Operation::DeployImage {
                cluster: cluster.clone(),
                service: svc.clone(),
                base: td(42),
                container: "app".into(),
                from: "repo/web:v1".into(),
                to: "repo/web:v2".into(),
                via: None,
            },
            Operation::Rollback {
                cluster: cluster.clone(),
                service: svc.clone(),
                from: td(43),
                to: td(42),
            },
            Operation::Restart {
                cluster,
                service: svc,
                task_definition: td(42),
            },
            Operation::Snapshot {
                instance: "db".into(),
                snapshot_id: "db-honban-1".into(),
            },
            Operation::Reboot {
                instance: "db".into(),
                failover: true,
            },
            Operation::Reboot {
                instance: "db".into(),
                failover: false,
            },
            Operation::AlarmActions {
                alarm: "web-5xx".into(),
                enable: false,
            },
            Operation::AlarmActions {
                alarm: "web-5xx".into(),
                enable: true,
            },
            Operation::StopTask {
                cluster: "prod".into(),
                task: "arn:aws:ecs:ap-northeast-1:1:task/prod/0123456789abcdef".into(),
                service: Some("web".into()),
                status: "RUNNING".into(),
                running: 2,
                reason: stop_reason(Some("arn:aws:sts::1:assumed-role/OnCall/me")),
            },
            Operation::StopTask {
                cluster: "prod".into(),
                task: "arn:aws:ecs:ap-northeast-1:1:task/prod/fedcba9876543210".into(),
                service: None,
                status: "PENDING".into(),
                running: 0,
                reason: stop_reason(None),
            },
            Operation::RestoreSnapshot {
                source: "db".into(),
                snapshot: "rds:db-2026-11-23-18-00".into(),
                snapshot_time: Some(at()),
                target: "db-restored-20261124-030405".into(),
                settings: Box::new(settings()),
            },
            Operation::RestoreTime {
                source: "db".into(),
                time: Some(at()),
                target: "db-pitr".into(),
                settings: Box::new(settings()),
            },
            Operation::RestoreTime {
                source: "db".into(),
                time: None,
                target: "db-pitr".into(),
                settings: Box::default(),
            },
            Operation::Promote {
                instance: "db-replica".into(),
                source: "db".into(),
            },
            Operation::Host {
                instance: "i-0a3f9c27e81b4d5f6".into(),
                name: Some("app-prod-1".into()),
                action: PowerAction::Stop,
                state: "running".into(),
            },
            Operation::Host {
                instance: "i-0a3f9c27e81b4d5f6".into(),
                name: None,
                action: PowerAction::Start,
                state: "stopped".into(),
            },
            Operation::Host {
                instance: "i-0a3f9c27e81b4d5f6".into(),
                name: Some("app-prod-1".into()),
                action: PowerAction::Reboot,
                state: "running".into(),
            },
        ];
        for op in ops {
            assert_eq!(
                Operation::from_audit(op.name(), &op.parameters()),
                Some(op.clone()),
                "{op:?}"
            );
        }
        assert_eq!(Operation::from_audit("scale", &json!({})), None);
        assert_eq!(Operation::from_audit("launch-missiles", &json!({})), None);
    }

    fn settings() -> RestoreSettings {
        RestoreSettings {
            class: "db.r6g.large".into(),
            multi_az: true,
            storage_type: Some("gp3".into()),
            subnet_group: Some("prod-db-subnets".into()),
            security_groups: vec!["sg-1".into(), "sg-2".into()],
            parameter_group: Some("pg16".into()),
            option_group: None,
            deletion_protection: true,
            tags: vec![("Project".into(), "wl".into())],
        }
    }

    #[test]
    fn a_restore_previews_every_carried_value_in_its_exact_call() {
        let op = Operation::RestoreSnapshot {
            source: "db".into(),
            snapshot: "snap-1".into(),
            snapshot_time: Some(at()),
            target: "db-restored".into(),
            settings: Box::new(settings()),
        };
        assert_eq!(
            op.calls(),
            vec![
                "rds:RestoreDBInstanceFromDBSnapshot DBInstanceIdentifier=db-restored \
                 DBSnapshotIdentifier=snap-1 DBInstanceClass=db.r6g.large MultiAZ=true \
                 StorageType=gp3 DBSubnetGroupName=prod-db-subnets \
                 VpcSecurityGroupIds=[sg-1,sg-2] DBParameterGroupName=pg16 \
                 DeletionProtection=true Tags=[Project=wl]"
                    .to_string()
            ]
        );
        assert_eq!(op.resource(), "db-restored");
        assert_eq!(op.confirmed_name(), "db", "the instance restored is typed");
        assert!(!op.is_dangerous(), "nothing existing changes");
        assert!(
            op.notes()[0].contains("db is not changed"),
            "{:?}",
            op.notes()
        );
        assert!(
            op.notes()[0].contains("as of 2026-11-24 03:04 UTC"),
            "{:?}",
            op.notes()
        );
        let preview = settings_preview(&settings());
        assert_eq!(
            preview[0].1,
            "db.r6g.large · Multi-AZ · gp3 · deletion protection on"
        );
        assert_eq!(preview[2].1, "parameter pg16 · option the engine's default");
        let latest = Operation::RestoreTime {
            source: "db".into(),
            time: None,
            target: "db-pitr".into(),
            settings: Box::new(settings()),
        };
        assert!(
            latest.calls()[0].starts_with(
                "rds:RestoreDBInstanceToPointInTime SourceDBInstanceIdentifier=db \
                 TargetDBInstanceIdentifier=db-pitr UseLatestRestorableTime=true \
                 DBInstanceClass=db.r6g.large"
            ),
            "{:?}",
            latest.calls()
        );
        let at_time = Operation::RestoreTime {
            source: "db".into(),
            time: Some(at()),
            target: "db-pitr".into(),
            settings: Box::new(settings()),
        };
        assert!(at_time.calls()[0].contains(" RestoreTime=2026-11-24T03:04:05Z "));
        let promote = Operation::Promote {
            instance: "db-replica".into(),
            source: "db".into(),
        };
        assert_eq!(
            promote.calls(),
            vec!["rds:PromoteReadReplica DBInstanceIdentifier=db-replica".to_string()]
        );
        assert!(promote.is_dangerous());
        assert!(
            promote
                .outage()
                .is_some_and(|o| o.contains("replication from db stops for good")),
            "{:?}",
            promote.outage()
        );
    }

    #[test]
    fn restore_identifiers_are_proposed_valid_and_checked() {
        let id = restore_identifier("works-logue-prod-db", at(), &[]);
        assert_eq!(id, "works-logue-prod-db-restored-20261124-030405");
        assert!(valid_instance_identifier(&id));
        let again = restore_identifier("works-logue-prod-db", at(), &[id.as_str()]);
        assert_eq!(again, format!("{id}-2"));
        let long = restore_identifier(&"a".repeat(80), at(), &[]);
        assert!(
            valid_instance_identifier(&long) && long.len() <= 63,
            "{long}"
        );
        assert_eq!(
            check_restore_target(" New-DB ", &[]),
            Ok("new-db".to_string())
        );
        for bad in ["", "1db", "db--x", "db-", "db_x", &"a".repeat(64)] {
            let e = check_restore_target(bad, &[]).expect_err(bad);
            assert!(e.contains("identifier"), "{bad}: {e}");
        }
        let e = check_restore_target("db", &["db"]).expect_err("exists");
        assert!(e.contains("db already exists"), "{e}");
    }

    #[test]
    fn restore_times_parse_in_utc_within_the_window() {
        let latest = at();
        let earliest = latest - chrono::TimeDelta::days(7);
        assert_eq!(parse_restore_time("", earliest, latest), Ok(None));
        assert_eq!(parse_restore_time(" latest ", earliest, latest), Ok(None));
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 23, 12, 30, 0)
            .single()
            .expect("time");
        for text in [
            "2026-11-23 12:30",
            "2026-11-23T12:30:00Z",
            "2026-11-23 12:30:00 UTC",
        ] {
            assert_eq!(
                parse_restore_time(text, earliest, latest),
                Ok(Some(t)),
                "{text}"
            );
        }
        let e = parse_restore_time("2026-11-24 04:00", earliest, latest).expect_err("future");
        assert!(e.contains("after the latest restorable time"), "{e}");
        let e = parse_restore_time("2026-11-01 00:00", earliest, latest).expect_err("old");
        assert!(e.contains("before the restorable window"), "{e}");
        let e = parse_restore_time("yesterday", earliest, latest).expect_err("words");
        assert!(e.contains("not a UTC time"), "{e}");
    }

    #[test]
    fn a_stop_names_the_caller_and_previews_the_exact_call() {
        let op = Operation::StopTask {
            cluster: "prod".into(),
            task: "arn:aws:ecs:ap-northeast-1:1:task/prod/0123456789abcdef".into(),
            service: Some("web".into()),
            status: "RUNNING".into(),
            running: 2,
            reason: stop_reason(Some("arn:aws:sts::1:assumed-role/OnCall/me")),
        };
        assert_eq!(op.outage(), None);
        assert_eq!(op.resource(), "01234567");
        assert_eq!(op.title(), "Stop task 01234567 of web");
        assert_eq!(
            op.calls(),
            vec![
                "ecs:StopTask cluster=prod task=0123456789abcdef \
                 reason=\"stopped by arn:aws:sts::1:assumed-role/OnCall/me via honban\""
                    .to_string()
            ]
        );
        assert!(op.notes()[0].contains("replacement"), "{:?}", op.notes());
        // The last RUNNING task of its service: an outage, said first.
        let last = Operation::StopTask {
            cluster: "prod".into(),
            task: "arn:aws:ecs:ap-northeast-1:1:task/prod/0123456789abcdef".into(),
            service: Some("web".into()),
            status: "RUNNING".into(),
            running: 1,
            reason: stop_reason(None),
        };
        assert!(
            last.outage()
                .is_some_and(|o| o.contains("only RUNNING task of web")),
            "{:?}",
            last.outage()
        );
        assert!(last.is_dangerous());
        // ECS keeps 255 characters of a reason.
        let long = "x".repeat(400);
        assert_eq!(stop_reason(Some(&long)).chars().count(), 255);
        assert!(stop_reason(None).contains("caller unknown"));
    }

    #[test]
    fn images_from_tags_digests_and_full_references() {
        let cur = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:v1.4.2";
        assert_eq!(
            resolve_image(cur, "v1.4.3").as_deref(),
            Ok("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:v1.4.3")
        );
        assert_eq!(
            resolve_image(cur, "@sha256:abc").as_deref(),
            Ok("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web@sha256:abc")
        );
        assert_eq!(
            resolve_image(cur, "nginx:1.27").as_deref(),
            Ok("nginx:1.27")
        );
        assert!(resolve_image(cur, "v1.4.2").is_err(), "the same image");
        assert!(resolve_image(cur, "").is_err());
        assert!(resolve_image(cur, "bad tag").is_err());
        assert!(resolve_image(cur, "-x").is_err());
        // A registry with a port keeps its port.
        assert_eq!(
            image_repository("localhost:5000/app:1"),
            "localhost:5000/app"
        );
        assert_eq!(image_repository("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(resolve_image("app", "2").as_deref(), Ok("app:2"));
    }

    #[test]
    fn snapshot_identifiers_are_valid_and_unique() {
        let id = snapshot_identifier("works-logue-prod-db", at(), &[]);
        assert_eq!(id, "works-logue-prod-db-honban-20261124-030405");
        assert!(valid_snapshot_identifier(&id));
        let again = snapshot_identifier("works-logue-prod-db", at(), &[id.as_str()]);
        assert_eq!(again, format!("{id}-2"));
        let odd = snapshot_identifier("1_DB..x", at(), &[]);
        assert!(valid_snapshot_identifier(&odd), "{odd}");
        let long = snapshot_identifier(&"a".repeat(300), at(), &[]);
        assert!(valid_snapshot_identifier(&long) && long.len() <= 255);
        assert!(!valid_snapshot_identifier("a--b"));
        assert!(!valid_snapshot_identifier("1ab"));
    }

    #[test]
    fn counts_and_bounds_parse_with_clear_errors() {
        assert_eq!(parse_count(" 4 "), Ok(4));
        assert!(parse_count("-1").is_err());
        assert!(parse_count("many").is_err());
        assert_eq!(parse_bounds("2 10"), Ok((2, 10)));
        assert_eq!(parse_bounds("2-10"), Ok((2, 10)));
        assert_eq!(parse_bounds("2,8"), Ok((2, 8)));
        assert!(parse_bounds("10 2").is_err());
        assert!(parse_bounds("3").is_err());
    }

    #[test]
    fn what_takes_a_service_or_a_database_down_is_said_first() {
        let scale = |to| Operation::Scale {
            cluster: "prod".into(),
            service: "web".into(),
            from: 2,
            to,
            scaling: None,
        };
        let down = scale(0).outage().expect("desired 0 warns");
        assert!(down.contains("stops every task of web"), "{down}");
        assert!(scale(0).is_dangerous());
        assert_eq!(scale(1).outage(), None);
        assert!(!scale(1).is_dangerous());
        let bounds = |to| Operation::ScalingBounds {
            cluster: "prod".into(),
            service: "web".into(),
            from: (2, 10),
            to,
        };
        assert!(bounds((0, 0)).outage().is_some());
        assert_eq!(bounds((0, 4)).outage(), None, "min 0 alone keeps tasks");
        let reboot = |failover| Operation::Reboot {
            instance: "db".into(),
            failover,
        };
        let down = reboot(false).outage().expect("single-AZ reboot warns");
        assert!(
            down.contains("no failover") && down.contains("downtime"),
            "{down}"
        );
        assert_eq!(reboot(true).outage(), None);
        assert!(
            !reboot(true).notes().is_empty(),
            "failover drops connections"
        );
        assert_eq!(confirmation_text("production", "web"), "production/web");
    }

    #[test]
    fn every_operation_previews_its_exact_calls() {
        let op = Operation::Scale {
            cluster: "prod".into(),
            service: "web".into(),
            from: 2,
            to: 4,
            scaling: Some((2, 10)),
        };
        assert_eq!(
            op.calls(),
            vec!["ecs:UpdateService cluster=prod service=web desiredCount=4"]
        );
        assert_eq!(op.resource(), "web");
        let op = Operation::Rollback {
            cluster: "prod".into(),
            service: "web".into(),
            from: "arn:aws:ecs:r:1:task-definition/web:43".into(),
            to: "arn:aws:ecs:r:1:task-definition/web:42".into(),
        };
        assert_eq!(
            op.calls(),
            vec!["ecs:UpdateService cluster=prod service=web taskDefinition=web:42"]
        );
        assert_eq!(op.before_after(), ("web:43".into(), "web:42".into()));
        let op = Operation::AlarmActions {
            alarm: "cpu".into(),
            enable: false,
        };
        assert_eq!(
            op.calls(),
            vec!["cloudwatch:DisableAlarmActions AlarmNames=[cpu]"]
        );
        assert_eq!(op.name(), "alarm-mute");
    }
}
