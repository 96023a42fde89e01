//! Operations in the reducer: the keys that start them, their dialogs, the
//! effect that sends them, their results, and the watches that follow them
//! to the end.
//!
//! Safety lives in layers: a read-only environment refuses here with the
//! reason (and its backend refuses again below, without touching the
//! network); every operation ends in a confirmation that shows what will be
//! sent (what it takes down first) and wants its own key — `y`, never the
//! enter that ended the step before, or in a protected environment
//! `ENV/RESOURCE` typed — and says in the dialog why a key did not send; a
//! confirmation closes the dialog before the effect is emitted, so a second
//! key press cannot send it twice; an operation on a resource whose previous
//! one is still being sent is refused. How a followed change ended goes to
//! the audit log too.

use chrono::TimeDelta;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{flash, poll};
use crate::action::{OpOutcome, Resource};
use crate::config::Source;
use crate::config::keys::Command;
use crate::domain::{PowerAction, Timestamp, short_id, task_definition_label};
use crate::effect::{AuditContext, Effect};
use crate::images::{ImageCheck, ImageLookup};
use crate::ops::{self, Operation};
use crate::reconcile::{ReadBack, Verdict};
use crate::request::Ask;
use crate::state::{
    Dialog, InputPurpose, Mode, RestorePick, Selection, Severity, State, View,
    previous_revision_index,
};
use crate::watch::{Activity, OpStatus, Watch, WatchTarget};

/// How many revisions of a family the rollback dialog describes (image and
/// registration time need one DescribeTaskDefinition each, cached).
const ROLLBACK_DESCRIBED: usize = 8;
/// While a change is watched its data is refreshed at least this often.
const WATCH_POLL_SECS: i64 = 3;
/// A restore or a promotion takes minutes to hours: its instance is read
/// this often while it is followed.
const RECOVERY_POLL_SECS: i64 = 15;

/// A key bound to an operation was pressed.
pub(super) fn start(state: &mut State, cmd: Command) -> Vec<Effect> {
    let env = state.active;
    let Some(e) = state.env() else {
        return Vec::new();
    };
    let what = cmd.description().to_lowercase();
    if state.replay.is_some() {
        let text = format!(
            "\"{what}\" is not available in a replay: it shows a recording and sends nothing"
        );
        flash(state, &text, Severity::Error);
        return Vec::new();
    }
    if e.read_only {
        let text = format!(
            "\"{what}\" is not available: {} is read-only (--read-only or read_only = true)",
            e.name
        );
        flash(state, &text, Severity::Error);
        return Vec::new();
    }
    match cmd {
        // In the hosts view the reboot key reboots the selected host.
        Command::StopHost | Command::StartHost => host_operation(state, env, cmd),
        Command::Reboot if state.view() == &View::Hosts => host_operation(state, env, cmd),
        Command::Scale
        | Command::ScalingBounds
        | Command::DeployImage
        | Command::Rollback
        | Command::Restart
        | Command::ContinueDeployment => {
            // The rollback the operations bar offers acts on the service it
            // names (the one being followed), not on the selected row.
            let offered = match cmd {
                Command::Rollback => state.offered_rollback().map(|(_, s)| s),
                _ => None,
            };
            let service = match offered.map_or_else(|| selected_service(state), Ok) {
                Ok(service) => service,
                Err(selection) => {
                    let text =
                        selection.refusal("a service", ":svc, or the overview", &state.move_keys());
                    flash(state, &text, Severity::Error);
                    return Vec::new();
                }
            };
            if refuse_busy(state, &service) {
                return Vec::new();
            }
            service_operation(state, env, cmd, &service)
        }
        Command::Snapshot | Command::Reboot | Command::Restore | Command::Promote => {
            let db = match (state.view(), state.selection()) {
                (View::Databases, Selection::Id(id)) => state
                    .env()
                    .and_then(|e| e.databases.data.as_ref())
                    .and_then(|v| v.iter().find(|d| d.id == id))
                    .cloned()
                    .ok_or(Selection::Lost(id)),
                (View::Databases, other) => Err(other),
                _ => Err(Selection::None),
            };
            let db = match db {
                Ok(db) => db,
                Err(selection) => {
                    let text = selection.refusal("a database", ":db", &state.move_keys());
                    flash(state, &text, Severity::Error);
                    return Vec::new();
                }
            };
            if cmd == Command::Restore {
                open_restore(state, env, &db);
                return Vec::new();
            }
            if refuse_busy(state, &db.id) {
                return Vec::new();
            }
            if cmd == Command::Promote {
                let Some(source) = db.replica_source.as_deref() else {
                    let text = format!(
                        "{} is not a read replica: promote acts on a replica (└ in the list)",
                        db.id
                    );
                    flash(state, &text, Severity::Error);
                    return Vec::new();
                };
                if db.status != "available" {
                    let text = format!(
                        "{} is {}: a replica is promoted once it is available",
                        db.id, db.status
                    );
                    flash(state, &text, Severity::Error);
                    return Vec::new();
                }
                let op = Operation::Promote {
                    instance: db.id.clone(),
                    source: source.rsplit(':').next().unwrap_or(source).to_string(),
                };
                confirm(state, env, op);
                return Vec::new();
            }
            let op = if cmd == Command::Snapshot {
                let existing: Vec<&str> = state
                    .env()
                    .and_then(|e| e.snapshots.data.as_ref())
                    .map(|v| v.iter().map(|s| s.id.as_str()).collect())
                    .unwrap_or_default();
                Operation::Snapshot {
                    snapshot_id: ops::snapshot_identifier(&db.id, state.now, &existing),
                    instance: db.id.clone(),
                }
            } else {
                Operation::Reboot {
                    instance: db.id.clone(),
                    failover: db.multi_az,
                }
            };
            confirm(state, env, op);
            Vec::new()
        }
        Command::StopTask => {
            let task = match (state.view(), state.selection()) {
                (View::TaskDetail { task }, _) => state
                    .task(task)
                    .cloned()
                    .ok_or_else(|| Selection::Lost(task.clone())),
                (View::Tasks | View::ServiceDetail { .. }, Selection::Id(arn)) => {
                    state.task(&arn).cloned().ok_or(Selection::Lost(arn))
                }
                (View::Tasks | View::ServiceDetail { .. }, other) => Err(other),
                _ => Err(Selection::None),
            };
            let task = match task {
                Ok(task) => task,
                Err(selection) => {
                    let text = selection.refusal(
                        "a task",
                        ":tasks, or a service's detail",
                        &state.move_keys(),
                    );
                    flash(state, &text, Severity::Error);
                    return Vec::new();
                }
            };
            if task.last_status == "STOPPED" || task.desired_status == "STOPPED" {
                let text = format!(
                    "task {} is already {}: nothing to stop",
                    ops::task_label(&task.arn),
                    if task.last_status == "STOPPED" {
                        "stopped"
                    } else {
                        "stopping"
                    }
                );
                flash(state, &text, Severity::Info);
                return Vec::new();
            }
            let running = task.service_name().map_or(0, |service| {
                state
                    .service_tasks(service)
                    .iter()
                    .filter(|t| t.last_status == "RUNNING" && t.desired_status == "RUNNING")
                    .count()
            });
            let op = Operation::StopTask {
                running: u32::try_from(running).unwrap_or(u32::MAX),
                cluster: short_id(&task.cluster_arn).to_string(),
                service: task.service_name().map(str::to_string),
                status: task.last_status.clone(),
                reason: ops::stop_reason(
                    state
                        .env()
                        .and_then(|e| e.identity.data.as_ref())
                        .map(|i| i.arn.as_str()),
                ),
                task: task.arn,
            };
            if refuse_busy(state, op.resource()) {
                return Vec::new();
            }
            confirm(state, env, op);
            Vec::new()
        }
        Command::Invalidate => {
            // The CloudFront view's selected distribution; elsewhere the
            // one a completed deploy offers (the notice names it).
            let config = match (state.view(), state.selection()) {
                (View::CloudFront, Selection::Id(id)) => state
                    .env()
                    .and_then(|e| e.cloudfront.iter().find(|d| d.id == id))
                    .cloned()
                    .ok_or(Selection::Lost(id)),
                (View::CloudFront, other) => Err(other),
                _ => state.offered_invalidation().cloned().ok_or(Selection::None),
            };
            let config = match config {
                Ok(config) => config,
                Err(selection) => {
                    let text =
                        selection.refusal("a distribution", ":cloudfront", &state.move_keys());
                    flash(state, &text, Severity::Error);
                    return Vec::new();
                }
            };
            if refuse_busy(state, &config.id) {
                return Vec::new();
            }
            let op = Operation::Invalidate {
                caller_reference: caller_reference(state, &config.id),
                distribution: config.id,
                paths: config.paths,
            };
            confirm(state, env, op);
            Vec::new()
        }
        Command::Exec => super::exec::start(state, env),
        Command::MuteAlarm => {
            let find = |name: &str| {
                state
                    .env()
                    .and_then(|e| e.alarms.data.as_ref())
                    .and_then(|v| v.iter().find(|a| a.name == name))
                    .map(|a| (a.name.clone(), a.actions_enabled))
            };
            let alarm = match (state.view(), state.selection()) {
                (View::Alarms, Selection::Id(name)) => find(&name).ok_or(Selection::Lost(name)),
                (View::Alarms, other) => Err(other),
                (View::AlarmDetail { alarm }, _) => {
                    find(alarm).ok_or_else(|| Selection::Lost(alarm.clone()))
                }
                _ => Err(Selection::None),
            };
            let (name, enabled) = match alarm {
                Ok(found) => found,
                Err(selection) => {
                    let text = selection.refusal("an alarm", ":alarms", &state.move_keys());
                    flash(state, &text, Severity::Error);
                    return Vec::new();
                }
            };
            if refuse_busy(state, &name) {
                return Vec::new();
            }
            confirm(
                state,
                env,
                Operation::AlarmActions {
                    alarm: name,
                    enable: !enabled,
                },
            );
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Reboot, stop or start of the hosts view's selected instance (found by
/// its id, never by its row), refused when its state makes no sense for it.
fn host_operation(state: &mut State, env: usize, cmd: Command) -> Vec<Effect> {
    let action = match cmd {
        Command::StopHost => PowerAction::Stop,
        Command::StartHost => PowerAction::Start,
        _ => PowerAction::Reboot,
    };
    let hosts = state
        .env()
        .and_then(|e| e.instances.data.as_ref())
        .cloned()
        .unwrap_or_default();
    let host = match (state.view(), state.selection()) {
        (View::Hosts, Selection::Id(id)) => hosts
            .iter()
            .find(|i| i.id == id)
            .cloned()
            .ok_or(Selection::Lost(id)),
        (View::Hosts, other) => Err(other),
        _ => Err(Selection::None),
    };
    let host = match host {
        Ok(host) => host,
        Err(selection) => {
            let text = selection.refusal("a host", ":hosts", &state.move_keys());
            flash(state, &text, Severity::Error);
            return Vec::new();
        }
    };
    if let Some(why) = action.refusal(&host.state) {
        let text = format!(
            "{} {}: {why}; nothing was sent",
            action.verb(),
            host.display_name()
        );
        flash(state, &text, Severity::Error);
        return Vec::new();
    }
    if refuse_busy(state, &host.id) {
        return Vec::new();
    }
    // The Name tag is typed to confirm when it names this host alone.
    let name = host
        .name
        .clone()
        .filter(|n| hosts.iter().filter(|i| i.name.as_ref() == Some(n)).count() == 1);
    let op = Operation::Host {
        instance: host.id,
        name,
        action,
        state: host.state,
    };
    confirm(state, env, op);
    Vec::new()
}

/// A caller reference unique to this request: the environment, the time
/// and a suffix from this session's id, the distribution and how many
/// operations it has started (the reducer reads no random source).
fn caller_reference(state: &State, distribution: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    state.session.hash(&mut h);
    distribution.hash(&mut h);
    state.activity.len().hash(&mut h);
    state.now.timestamp_nanos_opt().hash(&mut h);
    let env = state.env().map_or("", |e| e.name.as_str());
    #[allow(
        clippy::cast_possible_truncation,
        reason = "32 bits of the hash are enough"
    )]
    crate::domain::caller_reference(env, state.now, h.finish() as u32)
}

/// The service the current view points at: the detail's service, or the
/// selected row's service found by its ARN (never by row position).
fn selected_service(state: &State) -> Result<String, Selection> {
    match state.view() {
        View::ServiceDetail { service } => Ok(service.clone()),
        View::Overview | View::Services => state.selected_service_row().map(|s| s.name.clone()),
        _ => Err(Selection::None),
    }
}

/// What a key does to a CODE_DEPLOY service (or `C` to any).
enum BlueGreenStep {
    Confirm(Box<Operation>),
    Refuse(String),
    /// The key acts as on any service (scale, bounds; a deploy's image is
    /// asked for, then sent through CodeDeploy).
    AsUsual,
}

/// `b` on a CODE_DEPLOY service with a deployment under way stops it with
/// a rollback; `C` continues one waiting for its traffic; `i` asks the
/// image as usual and deploys it through CodeDeploy (refused while one is
/// under way); what UpdateService cannot do there (another revision, a
/// forced new deployment) is refused with the reason.
fn blue_green_operation(
    state: &State,
    cmd: Command,
    s: &crate::domain::Service,
    cluster: &str,
) -> BlueGreenStep {
    let name = &s.name;
    let key = |c: Command, fallback: &str| state.key_or(c, fallback);
    if !s.is_code_deploy() {
        return BlueGreenStep::Refuse(format!(
            "{name} is deployed by ECS ({}): {} continues a CodeDeploy blue/green deployment",
            s.deployment_controller.as_str(),
            key(Command::ContinueDeployment, ":continue_deployment")
        ));
    }
    let Some(env) = state.env() else {
        return BlueGreenStep::Refuse(String::new());
    };
    let group = env.blue_green(name);
    let loading = env.blue_greens.data.is_none();
    let active = group.and_then(crate::domain::BlueGreen::active);
    match cmd {
        Command::Rollback => match active {
            // Stopping CodeDeploy's own rollback would leave production
            // traffic on the replacement it is taking it from.
            Some(d) if d.is_rollback() => BlueGreenStep::Refuse(format!(
                "{name}: deployment {} is CodeDeploy's rollback{} — it is returning the traffic \
                 to the original task set; it is not stopped",
                d.id,
                d.rollback
                    .as_ref()
                    .and_then(|r| r.triggering_deployment_id.as_deref())
                    .map(|t| format!(" of {t}"))
                    .unwrap_or_default()
            )),
            Some(d) => {
                let target = d.target.as_ref();
                let original = target
                    .and_then(crate::domain::EcsTarget::original)
                    .and_then(|t| t.task_definition.clone())
                    .unwrap_or_else(|| s.task_definition.clone());
                BlueGreenStep::Confirm(Box::new(Operation::CodeDeployStop {
                    cluster: cluster.to_string(),
                    service: name.clone(),
                    deployment: d.id.clone(),
                    status: d.status.clone(),
                    traffic: d.traffic_shifted().map_or(0, |t| t.round() as u32),
                    original,
                    replacement: d.task_definition.clone(),
                }))
            }
            None if loading => BlueGreenStep::Refuse(format!(
                "{name} is deployed by CodeDeploy; its deployments are still loading: try again                  in a moment"
            )),
            None => BlueGreenStep::Refuse(format!(
                "{name} is deployed by CodeDeploy and no deployment of it is under way: {} stops                  one with a rollback; UpdateService cannot move a CODE_DEPLOY service to an                  earlier revision (deploy its image with {} instead)",
                key(Command::Rollback, ":rollback"),
                key(Command::DeployImage, ":deploy_image")
            )),
        },
        Command::ContinueDeployment => match active {
            Some(d) if d.waits() => {
                BlueGreenStep::Confirm(Box::new(Operation::CodeDeployContinue {
                    cluster: cluster.to_string(),
                    service: name.clone(),
                    deployment: d.id.clone(),
                    replacement: d.task_definition.clone(),
                    config: group
                        .map(|g| g.deployment_config.clone())
                        .unwrap_or_default(),
                }))
            }
            Some(d) => BlueGreenStep::Refuse(format!(
                "nothing waits for a continue: {} of {name} is {} (ContinueDeployment reroutes                  traffic to a replacement that is Ready)",
                d.id, d.status
            )),
            None if loading => BlueGreenStep::Refuse(format!(
                "{name}'s CodeDeploy deployments are still loading: try again in a moment"
            )),
            None => BlueGreenStep::Refuse(format!(
                "nothing waits for a continue: no CodeDeploy deployment of {name} is under way"
            )),
        },
        Command::DeployImage => match (group, active) {
            (_, Some(d)) => BlueGreenStep::Refuse(format!(
                "{} of {name} is under way ({}): CodeDeploy takes one deployment at a time — {}                  continues it, {} stops it and rolls back",
                d.id,
                d.status,
                key(Command::ContinueDeployment, ":continue_deployment"),
                key(Command::Rollback, ":rollback")
            )),
            (None, _) if loading => BlueGreenStep::Refuse(format!(
                "{name} is deployed by CodeDeploy; its deployment group is still loading: try                  again in a moment"
            )),
            (None, _) => BlueGreenStep::Refuse(format!(
                "{name} is deployed by CodeDeploy, but no deployment group names it:                  UpdateService cannot change a CODE_DEPLOY service's task definition, so                  nothing can be deployed from here"
            )),
            (Some(_), None) if code_deploy_lb(s).is_none() => BlueGreenStep::Refuse(format!(
                "{name} has no load balancer container and port for the AppSpec: a CodeDeploy                  ECS deployment needs them"
            )),
            (Some(_), None) => BlueGreenStep::AsUsual,
        },
        Command::Restart => BlueGreenStep::Refuse(format!(
            "{name} is deployed by CodeDeploy: UpdateService cannot force a new deployment of a              CODE_DEPLOY service; deploy with {} (CreateDeployment)",
            key(Command::DeployImage, ":deploy_image")
        )),
        _ => BlueGreenStep::AsUsual,
    }
}

/// The container and port of a service's load balancer (the AppSpec's).
fn code_deploy_lb(s: &crate::domain::Service) -> Option<(String, u16)> {
    s.load_balancers
        .iter()
        .find_map(|lb| Some((lb.container_name.clone()?, lb.container_port?)))
}

/// How a deploy to `service` goes through CodeDeploy, when it is a
/// CODE_DEPLOY service whose group is known.
fn via_code_deploy(state: &State, service: &str) -> Option<Box<ops::ViaCodeDeploy>> {
    let s = state.service(service)?;
    if !s.is_code_deploy() {
        return None;
    }
    let g = state.env()?.blue_green(service)?;
    let (lb_container, lb_port) = code_deploy_lb(s)?;
    Some(Box::new(ops::ViaCodeDeploy {
        application: g.application.clone(),
        deployment_group: g.deployment_group.clone(),
        lb_container,
        lb_port,
        description: format!("honban deploy-image {}", caller_reference(state, service)),
        ready_wait_minutes: g.ready_wait_minutes,
    }))
}

/// Refuses (with a message) while an operation on `resource` is being sent.
pub(super) fn refuse_busy(state: &mut State, resource: &str) -> bool {
    let busy = state.activity.iter().any(|a| {
        a.env == state.active
            && a.op.resource() == resource
            && matches!(a.status, OpStatus::Sending | OpStatus::Checking { .. })
    });
    if busy {
        let text =
            format!("an operation on {resource} is being sent or read back; wait for its result");
        flash(state, &text, Severity::Error);
    }
    busy
}

fn service_operation(state: &mut State, env: usize, cmd: Command, name: &str) -> Vec<Effect> {
    // Services are named per cluster, and views and operations find a
    // service by its name: where one name is in two clusters (an
    // environment that reads every cluster of its account, say production
    // and staging), no operation guesses which one is meant.
    let mut clusters: Vec<&str> = state
        .env()
        .and_then(|e| e.services.data.as_ref())
        .into_iter()
        .flatten()
        .filter(|s| s.name == name)
        .map(|s| short_id(&s.cluster_arn))
        .collect();
    clusters.sort_unstable();
    clusters.dedup();
    if clusters.len() > 1 {
        let text = format!(
            "refused: {name} is in {} clusters; name its cluster in the config to act on it",
            clusters.len()
        );
        flash(state, &text, Severity::Error);
        return Vec::new();
    }
    let Some(s) = state.service(name).cloned() else {
        flash(
            state,
            &format!("service {name} is not loaded yet"),
            Severity::Info,
        );
        return Vec::new();
    };
    let cluster = short_id(&s.cluster_arn).to_string();
    // --- blue/green: a CODE_DEPLOY service's task definition changes
    // through CodeDeploy only.
    if s.is_code_deploy() || cmd == Command::ContinueDeployment {
        match blue_green_operation(state, cmd, &s, &cluster) {
            BlueGreenStep::Confirm(op) => {
                confirm(state, env, *op);
                return Vec::new();
            }
            BlueGreenStep::Refuse(text) => {
                flash(state, &text, Severity::Error);
                return Vec::new();
            }
            BlueGreenStep::AsUsual => {}
        }
    }
    let scaling = state
        .env()
        .and_then(|e| e.scaling_for(name))
        .map(|t| (t.min_capacity, t.max_capacity));
    match cmd {
        Command::Scale => open_input(
            state,
            env,
            InputPurpose::Scale {
                service: name.to_string(),
            },
            s.desired_count.to_string(),
        ),
        Command::ScalingBounds => {
            if let Some((min, max)) = scaling {
                open_input(
                    state,
                    env,
                    InputPurpose::Bounds {
                        service: name.to_string(),
                    },
                    format!("{min} {max}"),
                );
            } else {
                let text = if state.env().is_some_and(|e| e.scaling.data.is_none()) {
                    format!("auto scaling of {name} is not loaded yet")
                } else {
                    format!(
                        "{name} has no auto scaling (no scalable target); {} scales it",
                        state.key_or(Command::Scale, "scale (no key bound)")
                    )
                };
                flash(state, &text, Severity::Info);
            }
        }
        Command::DeployImage => {
            let td = state
                .env()
                .and_then(|e| e.task_definitions.get(&s.task_definition))
                .cloned();
            let Some(td) = td else {
                flash(
                    state,
                    &format!(
                        "the task definition of {name} is still loading; try again in a moment"
                    ),
                    Severity::Info,
                );
                return request_definitions(state, env, vec![s.task_definition.clone()]);
            };
            let containers: Vec<(String, String)> = td
                .containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone()))
                .collect();
            match containers.as_slice() {
                [] => flash(
                    state,
                    &format!("{} has no containers", task_definition_label(&td.arn)),
                    Severity::Error,
                ),
                [(container, _)] => open_input(
                    state,
                    env,
                    InputPurpose::Image {
                        service: name.to_string(),
                        container: container.clone(),
                    },
                    String::new(),
                ),
                _ => {
                    // The essential container first: it is usually the app.
                    let index = td.containers.iter().position(|c| c.essential).unwrap_or(0);
                    state.mode = Mode::Dialog(Dialog::PickContainer {
                        env,
                        service: name.to_string(),
                        containers,
                        index,
                    });
                }
            }
        }
        Command::Rollback => {
            let label = task_definition_label(&s.task_definition);
            let family = label.split(':').next().unwrap_or(label).to_string();
            state.mode = Mode::Dialog(Dialog::Rollback {
                env,
                service: name.to_string(),
                family: family.clone(),
                index: None,
                typed: String::new(),
                error: None,
            });
            let mut effects = Vec::new();
            let now = state.now;
            if let Some(e) = state.envs.get_mut(env) {
                let panel = e.revisions.entry(family.clone()).or_default();
                // Revisions are listed when a service is opened; refresh
                // them if that was a while ago (a deploy adds one).
                let old = panel
                    .loaded_at
                    .is_none_or(|t| now - t > TimeDelta::seconds(60));
                if old && let Some(generation) = panel.try_begin(now, Ask::WhenIdle) {
                    effects.push(Effect::FetchRevisions {
                        env,
                        family: family.clone(),
                        generation,
                    });
                }
            }
            effects.extend(describe_candidates(state, env, &family, &s.task_definition));
            return effects;
        }
        Command::Restart => confirm(
            state,
            env,
            Operation::Restart {
                cluster,
                service: name.to_string(),
                task_definition: s.task_definition.clone(),
            },
        ),
        _ => {}
    }
    Vec::new()
}

/// The restore dialog of `db`: from its newest available snapshot (else
/// to a point in time, when it keeps backups), to a proposed identifier.
fn open_restore(state: &mut State, env: usize, db: &crate::domain::DbInstance) {
    let existing = instance_ids(state);
    let existing: Vec<&str> = existing.iter().map(String::as_str).collect();
    let target = ops::restore_identifier(&db.id, state.now, &existing);
    let newest = state
        .restorable_snapshots(&db.id)
        .first()
        .map(|s| s.id.clone());
    let from = match newest {
        None if db.backup_retention_days > 0 && db.latest_restorable_time.is_some() => {
            RestorePick::PointInTime {
                time: String::new(),
                on_time: false,
            }
        }
        id => RestorePick::Snapshot { id },
    };
    state.prompt_back = 0;
    state.mode = Mode::Dialog(Dialog::Restore {
        env,
        instance: db.id.clone(),
        from,
        target,
        error: None,
    });
}

/// The identifiers of the environment's listed DB instances.
fn instance_ids(state: &State) -> Vec<String> {
    state
        .env()
        .and_then(|e| e.databases.data.as_ref())
        .map(|v| v.iter().map(|d| d.id.clone()).collect())
        .unwrap_or_default()
}

/// A key in the restore dialog: ↑/↓ choose the snapshot (or the field),
/// tab switches between a snapshot and a point in time, enter previews,
/// anything else edits the identifier (or the time).
fn restore_key(
    state: &mut State,
    env: usize,
    instance: String,
    mut from: RestorePick,
    mut target: String,
    key: &KeyEvent,
) -> Vec<Effect> {
    let mut error = None;
    let db = state
        .env()
        .and_then(|e| e.databases.data.as_ref())
        .and_then(|v| v.iter().find(|d| d.id == instance))
        .cloned();
    let Some(db) = db else {
        state.mode = Mode::Normal;
        flash(
            state,
            &format!("{instance} is no longer listed: nothing was sent"),
            Severity::Error,
        );
        return Vec::new();
    };
    match key.code {
        KeyCode::Enter => match restore_operation(state, &db, &from, &target) {
            Ok(op) => {
                confirm(state, env, op);
                return Vec::new();
            }
            Err(e) => error = Some(e),
        },
        KeyCode::Tab | KeyCode::BackTab => {
            state.prompt_back = 0;
            from = match from {
                RestorePick::Snapshot { .. } => RestorePick::PointInTime {
                    time: String::new(),
                    on_time: true,
                },
                RestorePick::PointInTime { .. } => RestorePick::Snapshot {
                    id: state
                        .restorable_snapshots(&instance)
                        .first()
                        .map(|s| s.id.clone()),
                },
            };
        }
        KeyCode::Up | KeyCode::Down => match &mut from {
            RestorePick::Snapshot { id } => {
                let list: Vec<String> = state
                    .restorable_snapshots(&instance)
                    .iter()
                    .map(|s| s.id.clone())
                    .collect();
                let at = id
                    .as_ref()
                    .and_then(|id| list.iter().position(|s| s == id))
                    .unwrap_or(0);
                let next = if key.code == KeyCode::Up {
                    at.saturating_sub(1)
                } else {
                    (at + 1).min(list.len().saturating_sub(1))
                };
                *id = list.get(next).cloned();
            }
            RestorePick::PointInTime { on_time, .. } => {
                *on_time = !*on_time;
                state.prompt_back = 0;
            }
        },
        _ => {
            let field = match &mut from {
                RestorePick::PointInTime {
                    time,
                    on_time: true,
                } => time,
                _ => &mut target,
            };
            if crate::prompt::edit(field, &mut state.prompt_back, key)
                == crate::prompt::Edit::NotAnEdit
            {
                return Vec::new();
            }
        }
    }
    state.mode = Mode::Dialog(Dialog::Restore {
        env,
        instance,
        from,
        target,
        error,
    });
    Vec::new()
}

/// The restore the dialog describes, checked: a valid new identifier, an
/// available snapshot, a time within the restorable window.
fn restore_operation(
    state: &State,
    db: &crate::domain::DbInstance,
    from: &RestorePick,
    target: &str,
) -> Result<Operation, String> {
    let existing = instance_ids(state);
    let existing: Vec<&str> = existing.iter().map(String::as_str).collect();
    let target = ops::check_restore_target(target, &existing)?;
    let settings = Box::new(crate::domain::RestoreSettings::of(db));
    match from {
        RestorePick::Snapshot { id } => {
            let snapshots = state.restorable_snapshots(&db.id);
            let chosen = match id {
                Some(id) => snapshots.iter().find(|s| &s.id == id),
                None => snapshots.first(),
            };
            let Some(snap) = chosen else {
                return Err(
                    match (id, state.env().and_then(|e| e.snapshots.data.as_ref())) {
                        (Some(id), _) => {
                            format!("snapshot {id} is no longer available; choose another")
                        }
                        (None, None) => {
                            "the snapshots are still loading; try again in a moment".to_string()
                        }
                        (None, Some(_)) => format!(
                            "{} has no available snapshot: tab restores to a point in time",
                            db.id
                        ),
                    },
                );
            };
            Ok(Operation::RestoreSnapshot {
                source: db.id.clone(),
                snapshot: snap.id.clone(),
                snapshot_time: snap.created_at,
                target,
                settings,
            })
        }
        RestorePick::PointInTime { time, .. } => {
            let (Some(latest), true) = (db.latest_restorable_time, db.backup_retention_days > 0)
            else {
                return Err(format!(
                    "{} keeps no automated backups (retention {} days): it cannot be restored \
                     to a point in time",
                    db.id, db.backup_retention_days
                ));
            };
            let earliest = restorable_from(state, db, latest);
            let time = ops::parse_restore_time(time, earliest, latest)?;
            Ok(Operation::RestoreTime {
                source: db.id.clone(),
                time,
                target,
                settings,
            })
        }
    }
}

/// The start of an instance's restorable window: its oldest automated
/// backup, else its retention back from the latest restorable time (never
/// before it was created).
pub fn restorable_from(
    state: &State,
    db: &crate::domain::DbInstance,
    latest: Timestamp,
) -> Timestamp {
    let oldest = state
        .snapshots_of(&db.id)
        .iter()
        .filter(|s| s.snapshot_type == "automated" && s.status == "available")
        .filter_map(|s| s.created_at)
        .min();
    let by_retention = latest - TimeDelta::days(i64::from(db.backup_retention_days));
    let from = oldest.map_or(by_retention, |o| o.max(by_retention));
    db.created_at.map_or(from, |c| from.max(c))
}

fn open_input(state: &mut State, env: usize, purpose: InputPurpose, input: String) {
    state.mode = Mode::Dialog(Dialog::Input {
        env,
        purpose,
        input,
        error: None,
    });
}

fn confirm(state: &mut State, env: usize, op: Operation) {
    state.mode = Mode::Dialog(Dialog::Confirm {
        env,
        op,
        typed: String::new(),
        error: None,
    });
}

/// Asks for the task definitions of the first rollback candidates.
pub(super) fn describe_candidates(
    state: &mut State,
    env: usize,
    family: &str,
    current: &str,
) -> Vec<Effect> {
    let Some(candidates) = state.rollback_candidates(env, family, current) else {
        return Vec::new();
    };
    let wanted = candidates.into_iter().take(ROLLBACK_DESCRIBED).collect();
    request_definitions(state, env, wanted)
}

fn request_definitions(state: &mut State, env: usize, arns: Vec<String>) -> Vec<Effect> {
    let Some(e) = state.envs.get_mut(env) else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    for arn in arns {
        if !e.task_definitions.contains_key(&arn)
            && e.task_definitions_requested.insert(arn.clone())
        {
            effects.push(Effect::FetchTaskDefinition { env, arn });
        }
    }
    effects
}

/// A key while a dialog is open.
pub(super) fn on_key(state: &mut State, dialog: Dialog, key: KeyEvent) -> Vec<Effect> {
    state.dirty = true;
    if key.code == KeyCode::Esc {
        state.mode = Mode::Normal;
        flash(state, "cancelled: nothing was sent", Severity::Info);
        return Vec::new();
    }
    let text_char = match key.code {
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => Some(c),
        _ => None,
    };
    match dialog {
        Dialog::Input {
            env,
            purpose,
            mut input,
            error,
        } => {
            match key.code {
                KeyCode::Enter => return submit_input(state, env, purpose, &input),
                KeyCode::Tab => {
                    // From the scale prompt to the bounds, when the service
                    // has auto scaling (the scaler would undo a new count).
                    if let InputPurpose::Scale { service } = &purpose {
                        let bounds = state
                            .env()
                            .and_then(|e| e.scaling_for(service))
                            .map(|t| format!("{} {}", t.min_capacity, t.max_capacity));
                        if let Some(b) = bounds {
                            open_input(
                                state,
                                env,
                                InputPurpose::Bounds {
                                    service: service.clone(),
                                },
                                b,
                            );
                            return Vec::new();
                        }
                    }
                    return Vec::new();
                }
                _ => {
                    if crate::prompt::edit(&mut input, &mut state.prompt_back, &key)
                        == crate::prompt::Edit::NotAnEdit
                    {
                        return Vec::new();
                    }
                }
            }
            let _ = error;
            state.mode = Mode::Dialog(Dialog::Input {
                env,
                purpose,
                input,
                error: None,
            });
        }
        Dialog::PickContainer {
            env,
            service,
            containers,
            mut index,
        } => match key.code {
            KeyCode::Enter => {
                if let Some((container, _)) = containers.get(index) {
                    open_input(
                        state,
                        env,
                        InputPurpose::Image {
                            service,
                            container: container.clone(),
                        },
                        String::new(),
                    );
                }
            }
            KeyCode::Up | KeyCode::Char('k') => {
                index = index.saturating_sub(1);
                state.mode = Mode::Dialog(Dialog::PickContainer {
                    env,
                    service,
                    containers,
                    index,
                });
            }
            KeyCode::Down | KeyCode::Char('j') => {
                index = (index + 1).min(containers.len().saturating_sub(1));
                state.mode = Mode::Dialog(Dialog::PickContainer {
                    env,
                    service,
                    containers,
                    index,
                });
            }
            _ => {}
        },
        Dialog::ExecContainer {
            env,
            task,
            containers,
            index,
        } => super::exec::on_container_key(state, env, task, containers, index, &key),
        Dialog::Restore {
            env,
            instance,
            from,
            target,
            ..
        } => return restore_key(state, env, instance, from, target, &key),
        Dialog::Rollback {
            env,
            service,
            family,
            index,
            mut typed,
            error,
        } => {
            let Some(current) = state.service(&service).map(|s| s.task_definition.clone()) else {
                state.mode = Mode::Normal;
                flash(
                    state,
                    &format!("service {service} is no longer listed"),
                    Severity::Error,
                );
                return Vec::new();
            };
            let candidates = state
                .rollback_candidates(env, &family, &current)
                .unwrap_or_default();
            let chosen = index.or_else(|| previous_revision_index(&candidates, &current));
            let mut new_index = index;
            let mut error = error;
            match confirm_key(state, env, &service, &typed, &key, text_char) {
                ConfirmKey::Send => {
                    match confirm_rollback(state, env, &service, &current, &candidates, chosen) {
                        Ok(effects) => return effects,
                        Err(e) => {
                            // The list could not be read (expired credentials,
                            // throttling): say that, not "no revision".
                            let failed = state
                                .envs
                                .get(env)
                                .and_then(|e| e.revisions.get(&family))
                                .and_then(|p| match &p.load {
                                    crate::state::LoadState::Failed(err) => Some(err.to_string()),
                                    _ => None,
                                });
                            error = Some(match failed {
                                Some(err) if candidates.is_empty() => format!(
                                    "cannot list the revisions of {service}: {err} (nothing was sent; try again when reads work)"
                                ),
                                _ => e,
                            });
                        }
                    }
                }
                ConfirmKey::Cancel => return cancel(state),
                ConfirmKey::Refused(e) => error = Some(e),
                ConfirmKey::Edit(t, back) => {
                    typed = t;
                    state.prompt_back = back;
                    error = None;
                }
                ConfirmKey::Other => match key.code {
                    KeyCode::Up => new_index = Some(chosen.unwrap_or(0).saturating_sub(1)),
                    KeyCode::Down => {
                        new_index = Some(
                            chosen.map_or(0, |i| (i + 1).min(candidates.len().saturating_sub(1))),
                        );
                    }
                    _ => return Vec::new(),
                },
            }
            let effects = match new_index {
                Some(i) if new_index != index => candidates
                    .get(i.saturating_sub(2)..(i + 3).min(candidates.len()))
                    .map(|v| request_definitions(state, env, v.to_vec()))
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            state.mode = Mode::Dialog(Dialog::Rollback {
                env,
                service,
                family,
                index: new_index,
                typed,
                error,
            });
            return effects;
        }
        Dialog::Confirm { env, op, typed, .. } => {
            let (typed, error) =
                match confirm_key(state, env, op.confirmed_name(), &typed, &key, text_char) {
                    ConfirmKey::Send => return send(state, env, op),
                    ConfirmKey::Cancel => return cancel(state),
                    ConfirmKey::Refused(e) => (typed, Some(e)),
                    ConfirmKey::Edit(t, back) => {
                        state.prompt_back = back;
                        (t, None)
                    }
                    ConfirmKey::Other => return Vec::new(),
                };
            state.mode = Mode::Dialog(Dialog::Confirm {
                env,
                op,
                typed,
                error,
            });
        }
    }
    Vec::new()
}

/// What a key does in a confirmation.
enum ConfirmKey {
    Send,
    Cancel,
    /// Not sent; the reason is shown in the dialog.
    Refused(String),
    /// The typed confirmation text changed (or its cursor moved): the
    /// text and the cursor.
    Edit(String, usize),
    /// Not a confirmation key (the rollback dialog's arrows).
    Other,
}

/// The keys of a confirmation. Sending always wants its own deliberate
/// key, never the enter that ended the step before: in a protected
/// environment `ENV/RESOURCE` typed and enter, elsewhere `y` (enter there
/// only says so, so `s 0 ⏎ ⏎` sends nothing).
fn confirm_key(
    state: &State,
    env: usize,
    resource: &str,
    typed: &str,
    key: &KeyEvent,
    text_char: Option<char>,
) -> ConfirmKey {
    let code = key.code;
    let Some(e) = state.envs.get(env) else {
        return ConfirmKey::Cancel;
    };
    let verb = if state.dry_run { "record" } else { "send" };
    if e.protected {
        let wanted = ops::confirmation_text(&e.name, resource);
        match code {
            KeyCode::Enter if typed == wanted => ConfirmKey::Send,
            KeyCode::Enter if typed.is_empty() => ConfirmKey::Refused(format!(
                "type {wanted} (environment/name) to {verb} — {} is protected",
                e.name
            )),
            KeyCode::Enter => {
                ConfirmKey::Refused(format!("\"{typed}\" is not {wanted}: nothing was sent"))
            }
            _ => {
                let mut t = typed.to_string();
                let mut back = state.prompt_back;
                match crate::prompt::edit(&mut t, &mut back, key) {
                    crate::prompt::Edit::NotAnEdit => ConfirmKey::Other,
                    _ => ConfirmKey::Edit(t, back),
                }
            }
        }
    } else {
        match (code, text_char) {
            (_, Some('y')) => ConfirmKey::Send,
            (_, Some('n')) => ConfirmKey::Cancel,
            (KeyCode::Enter, _) => ConfirmKey::Refused(format!(
                "enter does not {verb}: press y to {verb}, n or esc to cancel"
            )),
            _ => ConfirmKey::Other,
        }
    }
}

fn cancel(state: &mut State) -> Vec<Effect> {
    state.mode = Mode::Normal;
    flash(state, "cancelled: nothing was sent", Severity::Info);
    Vec::new()
}

/// The rollback confirmed: the chosen revision, or why there is none.
fn confirm_rollback(
    state: &mut State,
    env: usize,
    service: &str,
    current: &str,
    candidates: &[String],
    chosen: Option<usize>,
) -> Result<Vec<Effect>, String> {
    let Some(to) = chosen.and_then(|i| candidates.get(i)).cloned() else {
        return Err(if candidates.is_empty() {
            format!("no other revision of {service} is listed to roll back to")
        } else {
            format!(
                "no revision older than {} is listed; pick one with ↑/↓",
                task_definition_label(current)
            )
        });
    };
    let Some(s) = state.service(service) else {
        return Err(format!("service {service} is no longer listed"));
    };
    let op = Operation::Rollback {
        cluster: short_id(&s.cluster_arn).to_string(),
        service: service.to_string(),
        from: current.to_string(),
        to,
    };
    Ok(send(state, env, op))
}

/// Enter in an input dialog: check the value, then confirm.
fn submit_input(state: &mut State, env: usize, purpose: InputPurpose, input: &str) -> Vec<Effect> {
    let service_name = match &purpose {
        InputPurpose::Scale { service }
        | InputPurpose::Bounds { service }
        | InputPurpose::Image { service, .. } => service.clone(),
        InputPurpose::ExecCommand { task, container } => {
            match super::exec::submit_command(state, env, task, container, input) {
                Ok(op) => confirm(state, env, op),
                Err(error) => {
                    state.mode = Mode::Dialog(Dialog::Input {
                        env,
                        purpose: purpose.clone(),
                        input: input.to_string(),
                        error: Some(error),
                    });
                }
            }
            return Vec::new();
        }
    };
    let Some(s) = state.service(&service_name).cloned() else {
        state.mode = Mode::Normal;
        flash(
            state,
            &format!("service {service_name} is no longer listed"),
            Severity::Error,
        );
        return Vec::new();
    };
    let cluster = short_id(&s.cluster_arn).to_string();
    let scaling = state
        .env()
        .and_then(|e| e.scaling_for(&service_name))
        .map(|t| (t.min_capacity, t.max_capacity));
    let built: Result<Operation, String> = match &purpose {
        InputPurpose::Scale { service } => ops::parse_count(input).and_then(|to| {
            if to == s.desired_count {
                Err(format!("{service} already wants {to} tasks"))
            } else {
                Ok(Operation::Scale {
                    cluster,
                    service: service.clone(),
                    from: s.desired_count,
                    to,
                    scaling,
                })
            }
        }),
        InputPurpose::Bounds { service } => ops::parse_bounds(input).and_then(|to| match scaling {
            Some(from) if from == to => Err(format!("{service} already scales {}–{}", to.0, to.1)),
            Some(from) => Ok(Operation::ScalingBounds {
                cluster,
                service: service.clone(),
                from,
                to,
            }),
            None => Err(format!("{service} has no scalable target")),
        }),
        InputPurpose::Image { service, container } => {
            let current = state
                .env()
                .and_then(|e| e.task_definitions.get(&s.task_definition))
                .and_then(|td| td.containers.iter().find(|c| &c.name == container))
                .map(|c| c.image.clone());
            match current {
                None => Err(format!(
                    "container {container} is not in {}",
                    task_definition_label(&s.task_definition)
                )),
                Some(from) => {
                    let via = via_code_deploy(state, service);
                    if s.is_code_deploy() && via.is_none() {
                        Err(format!(
                            "{service} is deployed by CodeDeploy and its deployment group is not \
                             known: UpdateService cannot change its task definition"
                        ))
                    } else {
                        ops::resolve_image(&from, input).map(|to| Operation::DeployImage {
                            cluster,
                            service: service.clone(),
                            base: s.task_definition.clone(),
                            container: container.clone(),
                            from,
                            to,
                            via,
                        })
                    }
                }
            }
        }
        // Handled above.
        InputPurpose::ExecCommand { .. } => return Vec::new(),
    };
    match built {
        Ok(op) => {
            let check = match &op {
                Operation::DeployImage { to, .. } => check_image(state, env, to),
                _ => Vec::new(),
            };
            confirm(state, env, op);
            return check;
        }
        Err(error) => {
            state.mode = Mode::Dialog(Dialog::Input {
                env,
                purpose,
                input: input.to_string(),
                error: Some(error),
            });
        }
    }
    Vec::new()
}

/// A deploy is previewed: ask the image's registry whether it exists (ECR
/// only; the preview says that other registries cannot be checked). The
/// preview opens at once and shows the answer when it comes.
fn check_image(state: &mut State, env: usize, image: &str) -> Vec<Effect> {
    let key = (env, image.to_string());
    let Some(ecr) = crate::images::EcrImage::parse(image) else {
        state.image_checks.insert(key, ImageCheck::NotEcr);
        return Vec::new();
    };
    // Asked again at every preview: a tag may have been pushed meanwhile.
    state.image_checks.insert(key, ImageCheck::Checking);
    vec![Effect::CheckImage {
        env,
        image: image.to_string(),
        ecr,
    }]
}

/// The registry answered (or the check failed).
pub(super) fn on_image_checked(
    state: &mut State,
    env: usize,
    image: String,
    result: Result<ImageLookup, crate::backend::BackendError>,
) -> Vec<Effect> {
    let check = match result {
        Ok(lookup) => ImageCheck::Done(lookup),
        Err(e) => ImageCheck::Failed(e.to_string()),
    };
    state.image_checks.insert((env, image), check);
    state.dirty = true;
    Vec::new()
}

/// Confirmed: record the activity and ask the runner to audit and send.
fn send(state: &mut State, env: usize, op: Operation) -> Vec<Effect> {
    // The dialog closes first: a second key press finds nothing to confirm.
    state.mode = Mode::Normal;
    let Some(e) = state.envs.get(env) else {
        return Vec::new();
    };
    let n = state.activity.len() + 1;
    let id = format!("{}-{n}", state.session);
    let (before, after) = op.before_after();
    // What the registry said of the image when the operator confirmed: the
    // audit log tells a deploy of a missing tag from an unchecked one.
    let image_check = if let Operation::DeployImage { to, .. } = &op {
        let said = match state.image_checks.get(&(env, to.clone())) {
            Some(ImageCheck::Done(ImageLookup::Found(d))) => format!("exists, {}", d.digest),
            Some(ImageCheck::Done(ImageLookup::Missing { what })) => {
                format!("NOT FOUND: {what}")
            }
            Some(ImageCheck::Failed(e)) => format!("could not check: {e}"),
            Some(ImageCheck::NotEcr) => "not an ECR image, not checked".to_string(),
            Some(ImageCheck::Checking) | None => "no answer yet".to_string(),
        };
        Some(said)
    } else {
        None
    };
    let context = AuditContext {
        environment: e.name.clone(),
        account: e.account().map(str::to_string),
        region: e.region.clone(),
        caller: e.identity.data.as_ref().map(|i| i.arn.clone()),
        simulated: e.source == Source::Sim,
        before,
        after,
        image_check,
    };
    let env_name = e.name.clone();
    let dry_run = state.dry_run;
    let text = if dry_run {
        format!("dry run: recording {} (nothing is sent)…", op.title())
    } else {
        format!("sending: {}…", op.title())
    };
    state.activity.push(Activity {
        id: id.clone(),
        env,
        env_name,
        op: op.clone(),
        started_at: state.now,
        dry_run,
        status: OpStatus::Sending,
        watch: None,
        context: context.clone(),
    });
    flash(state, &text, Severity::Info);
    vec![Effect::Operate {
        id,
        env,
        op: Box::new(op),
        dry_run,
        context: Box::new(context),
    }]
}

/// An operation's request went unanswered: it is being read back.
pub(super) fn on_unanswered(
    state: &mut State,
    id: &str,
    at: Timestamp,
    error: String,
) -> Vec<Effect> {
    let Some(i) = state.activity.iter().position(|a| a.id == id) else {
        return Vec::new();
    };
    state.dirty = true;
    let title = state.activity[i].op.title();
    flash(
        state,
        &format!("{title}: {error}; reading it back (nothing is sent again)…"),
        Severity::Error,
    );
    state.activity[i].status = OpStatus::Checking { since: at, error };
    Vec::new()
}

/// The runner's answer for an operation.
pub(super) fn on_done(
    state: &mut State,
    id: &str,
    at: Timestamp,
    result: Result<OpOutcome, String>,
    read_back: Option<ReadBack>,
) -> Vec<Effect> {
    let Some(i) = state.activity.iter().position(|a| a.id == id) else {
        return Vec::new();
    };
    state.dirty = true;
    let title = state.activity[i].op.title();
    let env = state.activity[i].env;
    let outcome = match result {
        // Unanswered, and read back: not applied, or nobody can tell.
        Err(_) if read_back.is_some() => {
            let Some(rb) = read_back else {
                return Vec::new();
            };
            let detail = rb.summary();
            state.activity[i].status = match rb.verdict {
                Verdict::Unknown => OpStatus::Unknown { at, detail },
                _ => OpStatus::NotApplied { at, detail },
            };
            let text = format!("{title}: {} — {}", rb.verdict.word(), rb.summary());
            let text = name_the_rollback_key(state, &text);
            flash(state, &text, Severity::Error);
            return Vec::new();
        }
        Err(error) => {
            state.activity[i].status = OpStatus::Failed {
                at,
                error: error.clone(),
            };
            let text = name_the_rollback_key(state, &format!("{title} failed: {error}"));
            flash(state, &text, Severity::Error);
            return Vec::new();
        }
        Ok(OpOutcome::DryRun) => {
            state.activity[i].status = OpStatus::DryRun { at };
            flash(
                state,
                &format!("dry run: {title} recorded in the audit log; nothing was sent"),
                Severity::Info,
            );
            return Vec::new();
        }
        Ok(OpOutcome::Exec(session)) => {
            return super::exec::on_session_opened(state, i, at, *session);
        }
        Ok(o) => o,
    };
    let op = state.activity[i].op.clone();
    let (detail, target) = match (&op, &outcome) {
        (Operation::Scale { service, to, .. }, OpOutcome::Service(s)) => (
            format!("desired count {}", s.desired_count),
            WatchTarget::Service {
                service: service.clone(),
                deployment: None,
                task_definition: s.task_definition.clone(),
                desired: Some(*to),
            },
        ),
        (
            Operation::DeployImage { service, .. },
            OpOutcome::Deployed {
                task_definition,
                service: s,
            },
        ) => (
            format!(
                "registered {}; deployment {}",
                task_definition_label(task_definition),
                s.primary_deployment().map_or("-", |d| d.id.as_str())
            ),
            WatchTarget::Service {
                service: service.clone(),
                deployment: s.primary_deployment().map(|d| d.id.clone()),
                task_definition: task_definition.clone(),
                desired: None,
            },
        ),
        (
            Operation::Rollback { service, .. } | Operation::Restart { service, .. },
            OpOutcome::Service(s),
        ) => (
            format!(
                "deployment {} of {}",
                s.primary_deployment().map_or("-", |d| d.id.as_str()),
                task_definition_label(&s.task_definition)
            ),
            WatchTarget::Service {
                service: service.clone(),
                deployment: s.primary_deployment().map(|d| d.id.clone()),
                task_definition: s.task_definition.clone(),
                desired: None,
            },
        ),
        (Operation::ScalingBounds { service, .. }, OpOutcome::Scaling(t)) => (
            format!("min {} max {}", t.min_capacity, t.max_capacity),
            WatchTarget::Bounds {
                service: service.clone(),
                min: t.min_capacity,
                max: t.max_capacity,
            },
        ),
        (Operation::Snapshot { .. }, OpOutcome::Snapshot(s)) => (
            format!("snapshot {} {}", s.id, s.status),
            WatchTarget::Snapshot { id: s.id.clone() },
        ),
        (Operation::Reboot { instance, .. }, OpOutcome::Database(d)) => (
            format!("{} {}", d.id, d.status),
            WatchTarget::Reboot {
                instance: instance.clone(),
                seen_busy: d.status != "available",
            },
        ),
        (
            Operation::RestoreSnapshot { target, .. } | Operation::RestoreTime { target, .. },
            OpOutcome::Database(d),
        ) => (
            format!("{} {}", d.id, d.status),
            WatchTarget::Recovery {
                instance: target.clone(),
                promote: false,
                started: state.activity[i].started_at,
                rto_minutes: state.envs.get(env).and_then(|e| e.rto_minutes),
                seen_busy: d.status != "available",
            },
        ),
        (Operation::Promote { instance, .. }, OpOutcome::Database(d)) => (
            format!("{} {}", d.id, d.status),
            WatchTarget::Recovery {
                instance: instance.clone(),
                promote: true,
                started: state.activity[i].started_at,
                rto_minutes: state.envs.get(env).and_then(|e| e.rto_minutes),
                seen_busy: d.status != "available",
            },
        ),
        (Operation::AlarmActions { alarm, enable }, OpOutcome::AlarmActions) => (
            format!("actions {}", if *enable { "enabled" } else { "disabled" }),
            WatchTarget::Alarm {
                name: alarm.clone(),
                enabled: *enable,
            },
        ),
        (
            Operation::Host {
                instance, action, ..
            },
            OpOutcome::Instance(i),
        ) => (
            format!("{} {}, checks {}", i.id, i.state, i.checks_summary()),
            WatchTarget::Host {
                instance: instance.clone(),
                action: *action,
                seen_busy: false,
            },
        ),
        (Operation::Invalidate { distribution, .. }, OpOutcome::Invalidation(inv)) => (
            format!("invalidation {} {}", inv.id, inv.status),
            WatchTarget::Invalidation {
                distribution: distribution.clone(),
                id: inv.id.clone(),
            },
        ),
        (
            Operation::DeployImage { service, .. }
            | Operation::CodeDeployStop { service, .. }
            | Operation::CodeDeployContinue { service, .. },
            OpOutcome::CodeDeploy {
                task_definition,
                deployment: d,
            },
        ) => (
            format!(
                "{}deployment {} {}{}",
                task_definition
                    .as_deref()
                    .map(|t| format!("registered {}; ", task_definition_label(t)))
                    .unwrap_or_default(),
                d.id,
                d.status,
                d.rollback
                    .as_ref()
                    .and_then(|r| r.deployment_id.as_deref())
                    .map(|r| format!("; rollback {r}"))
                    .unwrap_or_default()
            ),
            WatchTarget::BlueGreen {
                service: service.clone(),
                deployment: d.id.clone(),
                goal: match op {
                    Operation::CodeDeployStop { .. } => crate::watch::BlueGreenGoal::RolledBack,
                    Operation::CodeDeployContinue { .. } => crate::watch::BlueGreenGoal::Succeeded,
                    _ => crate::watch::BlueGreenGoal::Ready,
                },
            },
        ),
        (Operation::StopTask { .. }, OpOutcome::Task(t)) => {
            let Some(target) = watch_target_of(&op, at, None) else {
                return Vec::new();
            };
            (
                format!("task {} {}", ops::task_label(&t.arn), t.last_status),
                target,
            )
        }
        _ => {
            let started = state.activity[i].started_at;
            let rto = state.envs.get(env).and_then(|e| e.rto_minutes);
            let Some(target) = watch_target_of(&op, started, rto) else {
                // Nothing to follow (an exec session is followed by the
                // event loop, not by polling).
                state.activity[i].status = OpStatus::Accepted {
                    at,
                    detail: "accepted".to_string(),
                };
                return Vec::new();
            };
            ("accepted".to_string(), target)
        }
    };
    let resource = watched_resource(&target);
    let a = &mut state.activity[i];
    let (detail, text) = match &read_back {
        Some(rb) => (
            format!("applied (read back) · {detail} · {}", rb.summary()),
            format!(
                "{title}: applied — {}; following it to the end",
                rb.summary()
            ),
        ),
        None => (
            detail,
            format!("{title}: accepted; following it to the end"),
        ),
    };
    a.status = OpStatus::Accepted { at, detail };
    a.watch = Some(Watch::new(target, at));
    flash(state, &text, Severity::Info);
    // Fresh data at once, so the watch starts from the new state.
    let mut effects = poll(state, env, resource, true);
    // A deploy added a revision: the rollback list must show it.
    if let Operation::DeployImage { base, .. } = &op {
        let label = task_definition_label(base);
        let family = label.split(':').next().unwrap_or(label).to_string();
        let now = state.now;
        if let Some(e) = state.envs.get_mut(env) {
            let panel = e.revisions.entry(family.clone()).or_default();
            if let Some(generation) = panel.try_begin(now, Ask::Supersede) {
                effects.push(Effect::FetchRevisions {
                    env,
                    family,
                    generation,
                });
            }
        }
    }
    if resource == Resource::Services {
        effects.extend(poll(state, env, Resource::Tasks, true));
    }
    effects
}

fn watch_target_of(
    op: &Operation,
    started: Timestamp,
    rto_minutes: Option<u32>,
) -> Option<WatchTarget> {
    Some(match op {
        Operation::Scale { service, to, .. } => WatchTarget::Service {
            service: service.clone(),
            deployment: None,
            task_definition: String::new(),
            desired: Some(*to),
        },
        Operation::ScalingBounds { service, to, .. } => WatchTarget::Bounds {
            service: service.clone(),
            min: to.0,
            max: to.1,
        },
        Operation::DeployImage { service, base, .. }
        | Operation::Restart {
            service,
            task_definition: base,
            ..
        } => WatchTarget::Service {
            service: service.clone(),
            deployment: None,
            task_definition: base.clone(),
            desired: None,
        },
        Operation::Rollback { service, to, .. } => WatchTarget::Service {
            service: service.clone(),
            deployment: None,
            task_definition: to.clone(),
            desired: None,
        },
        Operation::Snapshot { snapshot_id, .. } => WatchTarget::Snapshot {
            id: snapshot_id.clone(),
        },
        Operation::Reboot { instance, .. } => WatchTarget::Reboot {
            instance: instance.clone(),
            seen_busy: false,
        },
        Operation::AlarmActions { alarm, enable } => WatchTarget::Alarm {
            name: alarm.clone(),
            enabled: *enable,
        },
        Operation::StopTask { task, service, .. } => WatchTarget::StopTask {
            task: task.clone(),
            service: service.clone(),
            stopped: false,
        },
        Operation::RestoreSnapshot { target, .. } | Operation::RestoreTime { target, .. } => {
            WatchTarget::Recovery {
                instance: target.clone(),
                promote: false,
                started,
                rto_minutes,
                seen_busy: false,
            }
        }
        Operation::Promote { instance, .. } => WatchTarget::Recovery {
            instance: instance.clone(),
            promote: true,
            started,
            rto_minutes,
            seen_busy: false,
        },
        // Its id is what CreateInvalidation answers (or the read-back
        // finds): nothing to follow without it.
        Operation::Exec { .. } | Operation::Invalidate { .. } => return None,
        Operation::Host {
            instance, action, ..
        } => WatchTarget::Host {
            instance: instance.clone(),
            action: *action,
            seen_busy: false,
        },
        // Followed by the deployment's id, which the answer (or the
        // read-back) gives.
        Operation::CodeDeployStop {
            service,
            deployment,
            ..
        } => WatchTarget::BlueGreen {
            service: service.clone(),
            deployment: deployment.clone(),
            goal: crate::watch::BlueGreenGoal::RolledBack,
        },
        Operation::CodeDeployContinue {
            service,
            deployment,
            ..
        } => WatchTarget::BlueGreen {
            service: service.clone(),
            deployment: deployment.clone(),
            goal: crate::watch::BlueGreenGoal::Succeeded,
        },
    })
}

/// The resource kind whose data tells how a watch is doing.
pub fn watched_resource(target: &WatchTarget) -> Resource {
    match target {
        WatchTarget::Service { .. } => Resource::Services,
        WatchTarget::Bounds { .. } => Resource::Scaling,
        WatchTarget::Snapshot { .. } => Resource::Snapshots,
        WatchTarget::Reboot { .. } | WatchTarget::Recovery { .. } => Resource::Databases,
        WatchTarget::Alarm { .. } => Resource::Alarms,
        WatchTarget::StopTask { .. } => Resource::Tasks,
        WatchTarget::Invalidation { .. } => Resource::Distributions,
        WatchTarget::Host { .. } => Resource::Instances,
        WatchTarget::BlueGreen { .. } => Resource::BlueGreens,
    }
}

/// After new data for `env`: moves its watches on and says when one ends;
/// the end of each is recorded in the audit log (the effects returned).
pub(super) fn advance_watches(state: &mut State, env: usize) -> Vec<Effect> {
    let now = state.now;
    let mut ended: Vec<(String, bool, Option<String>)> = Vec::new();
    // A release (deploy, rollback, restart) that completed just now.
    let mut released = false;
    let mut effects = Vec::new();
    // Operations followed by a later change of this session to the same
    // service: when theirs is replaced, it was by the operator's own hand.
    let superseded: Vec<bool> = state
        .activity
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.op.service().is_some_and(|svc| {
                state.activity[i + 1..].iter().any(|later| {
                    later.env == a.env
                        && later.op.service() == Some(svc)
                        && !matches!(
                            later.status,
                            OpStatus::Failed { .. }
                                | OpStatus::DryRun { .. }
                                | OpStatus::NotApplied { .. }
                        )
                })
            })
        })
        .collect();
    {
        let Some(e) = state.envs.get(env) else {
            return Vec::new();
        };
        for (i, a) in state.activity.iter_mut().enumerate() {
            if a.env != env {
                continue;
            }
            let Some(w) = a.watch.as_mut() else {
                continue;
            };
            if w.update(e, now) {
                state.dirty = true;
                if superseded.get(i).copied().unwrap_or(false)
                    && let crate::watch::WatchStatus::RolledBack(text) = &w.status
                {
                    w.status = crate::watch::WatchStatus::Superseded(text.clone());
                }
                if w.status.is_final() {
                    // A failed rollout that nothing rolled back yet.
                    let service_change = (matches!(w.target, WatchTarget::Service { .. })
                        && !matches!(a.op, Operation::Scale { .. })
                        && matches!(w.status, crate::watch::WatchStatus::Failed(_))
                        && a.env == state.active)
                        .then(|| a.op.service().map(str::to_string))
                        .flatten();
                    released |= matches!(w.status, crate::watch::WatchStatus::Completed(_))
                        && matches!(
                            a.op,
                            Operation::DeployImage { .. }
                                | Operation::Rollback { .. }
                                | Operation::Restart { .. }
                        );
                    ended.push((
                        format!(
                            "{}: {} — {}",
                            a.op.title(),
                            w.status.word(),
                            w.status.text()
                        ),
                        w.status.is_failure(),
                        service_change,
                    ));
                    effects.push(Effect::AuditOutcome {
                        id: a.id.clone(),
                        env: a.env,
                        op: Box::new(a.op.clone()),
                        context: Box::new(a.context.clone()),
                        ended: w.status.word().to_string(),
                        detail: w.status.text().to_string(),
                        failure: w.status.is_failure(),
                    });
                }
            }
        }
    }
    let rollback_key = state.key_for(Command::Rollback);
    for (text, failed, service_change) in ended {
        if failed {
            // The key first: the message may be cut on a narrow terminal.
            // It names the service the key acts on (the bar offers the same).
            let hint = match (&service_change, &rollback_key) {
                (Some(service), Some(key)) => format!("{key} rolls back {service} · "),
                _ => String::new(),
            };
            flash(state, &format!("{hint}{text}"), Severity::Error);
        } else {
            flash(state, &text, Severity::Info);
        }
    }
    // A release that completed on a service behind CloudFront: the
    // invalidation is offered (named with its key), never sent by itself.
    if released
        && let Some(d) = state.offered_invalidation()
        && let Some(key) = state.key_for(Command::Invalidate)
    {
        let text = format!(
            "{key} invalidates CloudFront {} ({}) · {}",
            d.id,
            d.paths.join(" "),
            state.flash.as_ref().map_or("", |m| m.text.as_str())
        );
        flash(state, &text, Severity::Info);
    }
    effects
}

/// What the runner and the read-back say of a deploy that registered a
/// revision but did not move the service to it (they know no keys).
const ROLLBACK_LATER: &str = "a rollback can move it to";

/// `text` with the rollback key named where it advises a rollback (the
/// key of this view, so a remapped key shows as remapped).
fn name_the_rollback_key(state: &State, text: &str) -> String {
    match state.key_for(Command::Rollback) {
        Some(key) => text.replace(ROLLBACK_LATER, &format!("{key} can roll it to")),
        None => text.to_string(),
    }
}

/// The final record of a change was written (or not: say so, the audit
/// log is then missing how it ended).
pub(super) fn on_outcome_audited(
    state: &mut State,
    id: &str,
    result: Result<(), String>,
) -> Vec<Effect> {
    if let Err(e) = result {
        let title = state
            .activity
            .iter()
            .find(|a| a.id == id)
            .map_or_else(|| id.to_string(), |a| a.op.title());
        flash(
            state,
            &format!("how \"{title}\" ended could not be recorded in the audit log: {e}"),
            Severity::Error,
        );
    }
    Vec::new()
}

/// The quit key (or `:q`): at once, unless a change is being followed (an
/// operation still being sent, or accepted and not yet ended). Then the
/// first press says so and a second one while that message shows quits.
/// Returns whether to quit now. (ctrl-c and `:q!` always quit at once.)
pub(super) fn may_quit(state: &mut State) -> bool {
    let following: Vec<String> = state
        .activity
        .iter()
        .filter(|a| a.is_active())
        .map(|a| format!("{} in {}", a.op.title(), a.env_name))
        .collect();
    let Some(first) = following.first() else {
        return true;
    };
    let now = state.now;
    if state
        .quit_asked_at
        .is_some_and(|t| now - t <= TimeDelta::seconds(super::FLASH_SECS))
    {
        return true;
    }
    let key = state
        .keymap
        .keys_for(Command::Quit, state.key_context())
        .iter()
        .map(ToString::to_string)
        .find(|k| k != "ctrl-c")
        .unwrap_or_else(|| ":q".to_string());
    let what = match following.len() {
        1 => first.clone(),
        n => format!("{first} and {} more", n - 1),
    };
    state.quit_asked_at = Some(now);
    flash(
        state,
        // The key first: the message may be cut on a narrow terminal.
        &format!("{key} again to quit: a change is being followed ({what})"),
        Severity::Error,
    );
    false
}

/// On the clock: keeps watched data fresh (every few seconds rather than
/// the poller's interval) and gives up on watches that never end.
pub(super) fn on_tick(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    // Each resource a watch reads, at the shortest interval one asks for.
    let mut wanted: Vec<(usize, Resource, i64)> = Vec::new();
    let mut want = |env: usize, r: Resource, secs: i64| match wanted
        .iter_mut()
        .find(|(e, x, _)| *e == env && *x == r)
    {
        Some(w) => w.2 = w.2.min(secs),
        None => wanted.push((env, r, secs)),
    };
    for a in &state.activity {
        let Some(w) = &a.watch else {
            continue;
        };
        if w.status.is_final() {
            continue;
        }
        let r = watched_resource(&w.target);
        let secs = match w.target {
            WatchTarget::Recovery { .. } => RECOVERY_POLL_SECS,
            _ => WATCH_POLL_SECS,
        };
        want(a.env, r, secs);
        if r == Resource::Services {
            want(a.env, Resource::Tasks, secs);
        }
    }
    let mut effects = Vec::new();
    for (env, r, secs) in wanted {
        let due = state.envs.get(env).is_some_and(|e| {
            let m = e.panel_meta(r);
            !m.in_flight
                && m.loaded_at
                    .is_none_or(|t| now - t >= TimeDelta::seconds(secs))
        });
        if due {
            effects.extend(poll(state, env, r, false));
        }
        effects.extend(advance_watches(state, env));
    }
    effects
}

/// At start-up: every intent of an earlier session without a result (the
/// console was killed between the intent and the answer) is read back from
/// its resource, instead of staying "no result".
pub(super) fn reconcile_earlier(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    for r in &state.history {
        if r.phase != crate::audit::Phase::Intent
            || r.dry_run
            || state.history_checking.contains(&r.id)
        {
            continue;
        }
        let env = state
            .envs
            .iter()
            .position(|e| e.name == r.environment && (e.source == Source::Sim) == r.is_simulated());
        let Some(env) = env else {
            continue;
        };
        state.history_checking.push(r.id.clone());
        effects.push(Effect::Reconcile {
            env,
            record: Box::new(r.clone()),
        });
    }
    if !effects.is_empty() {
        let n = effects.len();
        let text = if n == 1 {
            "an operation of an earlier session has no result: reading it back…".to_string()
        } else {
            format!("{n} operations of earlier sessions have no result: reading them back…")
        };
        flash(state, &text, Severity::Error);
    }
    effects
}

/// An earlier intent was read back (and its result recorded), or could not
/// be: the activity view shows the result, the flash line says it.
pub(super) fn on_reconciled(
    state: &mut State,
    id: &str,
    result: Result<Box<crate::audit::Record>, String>,
) -> Vec<Effect> {
    state.history_checking.retain(|c| c != id);
    state.dirty = true;
    let Some(i) = state.history.iter().position(|r| r.id == id) else {
        return Vec::new();
    };
    let what = format!(
        "{} {} ({}, {})",
        state.history[i].operation,
        state.history[i].resource,
        state.history[i].environment,
        state.history[i].time.format("%Y-%m-%d %H:%M UTC")
    );
    match result {
        Ok(record) => {
            let text = match &record.read_back {
                Some(rb) => format!(
                    "earlier {what} had no result; read back: {} — {}",
                    rb.verdict.word(),
                    rb.evidence
                ),
                None => format!("earlier {what}: result recorded"),
            };
            let severity = match record.outcome {
                Some(crate::audit::Outcome::Success) => Severity::Info,
                _ => Severity::Error,
            };
            state.history[i] = *record;
            flash(state, &text, severity);
        }
        Err(e) => {
            flash(
                state,
                &format!("earlier {what} has no result and could not be checked: {e}"),
                Severity::Error,
            );
        }
    }
    Vec::new()
}
