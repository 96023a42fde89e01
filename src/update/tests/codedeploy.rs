//! Blue/green deployments in the reducer: `b` on a CODE_DEPLOY service
//! with a deployment under way stops it with a rollback, `C` continues one
//! that waits, `i` deploys through CodeDeploy; each previewed with its
//! exact calls, confirmed (typed in a protected environment), refused in
//! a read-only environment, never confirmed by keys typed ahead, and what
//! UpdateService cannot do to such a service refused with the reason.

use super::*;
use crate::action::OpOutcome;
use crate::domain::{
    BgTaskSet, BlueGreen, CdDeployment, CdRollback, ContainerDefinition, DeploymentController,
    EcsTarget, LifecycleEvent, LoadBalancerRef, TaskDefinition,
};
use crate::ops::Operation;
use crate::state::Dialog;
use crate::watch::{BlueGreenGoal, OpStatus, WatchStatus, WatchTarget};

const TD28: &str = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/backend:28";
const TD29: &str = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/backend:29";

fn backend_service() -> Service {
    let mut s = service("backend", 28, 2, 2);
    s.deployment_controller = DeploymentController::CodeDeploy;
    s.deployments = Vec::new();
    s.load_balancers = vec![LoadBalancerRef {
        target_group_arn: Some("arn:aws:elasticloadbalancing:tg/backend-1/1".into()),
        container_name: Some("backend".into()),
        container_port: Some(8000),
    }];
    s
}

fn deployment(id: &str, status: &str, traffic: f64) -> CdDeployment {
    let set = |label: &str, td: &str, weight: f64| BgTaskSet {
        id: format!("ecs-svc/{label}"),
        label: Some(label.into()),
        status: "ACTIVE".into(),
        desired: 2,
        running: 2,
        pending: 0,
        traffic_weight: weight,
        target_group: Some(format!("backend-{label}")),
        task_definition: Some(td.into()),
    };
    CdDeployment {
        id: id.into(),
        status: status.into(),
        creator: Some("user".into()),
        description: None,
        created_at: Some(t0()),
        completed_at: None,
        error: None,
        rollback: None,
        status_messages: Vec::new(),
        task_definition: Some(TD29.into()),
        target: Some(EcsTarget {
            status: status.into(),
            task_sets: vec![
                set("Blue", TD28, 100.0 - traffic),
                set("Green", TD29, traffic),
            ],
            lifecycle_events: vec![LifecycleEvent {
                name: "AllowTraffic".into(),
                status: if status == "Ready" {
                    "Pending"
                } else {
                    "InProgress"
                }
                .into(),
                started_at: None,
                ended_at: None,
                diagnostics: None,
            }],
        }),
    }
}

fn group(d: Option<CdDeployment>) -> BlueGreen {
    BlueGreen {
        id: "prod/backend".into(),
        cluster: "prod".into(),
        service: "backend".into(),
        application: "AppECS-prod-backend".into(),
        deployment_group: "DgpECS-prod-backend".into(),
        deployment_config: "CodeDeployDefault.ECSCanary10Percent5Minutes".into(),
        ready_wait_minutes: Some(60),
        termination_wait_minutes: Some(5),
        auto_rollback: true,
        deployment: d,
    }
}

fn load_groups(s: &mut State, d: Option<CdDeployment>, secs: i64) -> Vec<Effect> {
    s.now = t0() + chrono::TimeDelta::seconds(secs);
    let generation = s.envs[0].blue_greens.generation;
    s.envs[0].blue_greens.in_flight = true;
    let at = s.now;
    update(
        s,
        Action::Loaded {
            env: 0,
            resource: Resource::BlueGreens,
            generation,
            at,
            result: Ok(Data::BlueGreens(vec![group(d)])),
        },
    )
}

/// `name` with backend (CODE_DEPLOY) and its group loaded, on the
/// services view with backend selected.
fn on_backend(name: &str, d: Option<CdDeployment>) -> State {
    let mut s = state_of(&[name], t0());
    let effects = load_services(&mut s, vec![backend_service()]);
    // The services named a CODE_DEPLOY service: its groups are asked for
    // at once.
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::Fetch {
                resource: Resource::BlueGreens,
                ..
            }
        )),
        "{effects:?}"
    );
    load_groups(&mut s, d, 0);
    update(&mut s, Action::Command(Command::Services));
    s
}

fn confirm_op(s: &State) -> Operation {
    match &s.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => op.clone(),
        other => panic!("expected the confirmation, got {other:?}"),
    }
}

fn flash_text(s: &State) -> String {
    s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default()
}

#[test]
fn b_on_a_code_deploy_service_under_way_stops_it_with_a_rollback() {
    let mut s = on_backend(
        "staging",
        Some(deployment("d-ABC123XYZ", "InProgress", 10.0)),
    );
    press(&mut s, key('b'));
    let op = confirm_op(&s);
    let Operation::CodeDeployStop {
        deployment: stopping,
        traffic,
        original,
        ..
    } = &op
    else {
        panic!("expected a stop, got {op:?}");
    };
    assert_eq!(stopping, "d-ABC123XYZ");
    assert_eq!(*traffic, 10);
    assert_eq!(original, TD28);
    assert_eq!(
        op.calls(),
        vec![
            "codedeploy:StopDeployment deploymentId=d-ABC123XYZ autoRollbackEnabled=true"
                .to_string(),
            "then codedeploy:GetDeployment deploymentId=d-ABC123XYZ (read back)".to_string(),
        ]
    );
    assert!(op.is_dangerous());
    let effects = press(&mut s, key('y'));
    let sent = operations(&effects);
    assert_eq!(sent.len(), 1, "sent once: {effects:?}");
    assert_eq!(sent[0].0, &op, "what was previewed is what is sent");
    // Accepted: read back Stopped with its rollback, followed until the
    // rollback deployment succeeds.
    let id = s.activity[0].id.clone();
    let mut stopped = deployment("d-ABC123XYZ", "Stopped", 10.0);
    stopped.rollback = Some(CdRollback {
        deployment_id: Some("d-ROLLBACK1".into()),
        triggering_deployment_id: None,
        message: None,
    });
    let at = s.now;
    let effects = update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::CodeDeploy {
                task_definition: None,
                deployment: Box::new(stopped),
            }),
            read_back: None,
        },
    );
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::Fetch {
                resource: Resource::BlueGreens,
                ..
            }
        )),
        "the group is read at once: {effects:?}"
    );
    let watch = s.activity[0].watch.as_ref().expect("followed");
    assert_eq!(
        watch.target,
        WatchTarget::BlueGreen {
            service: "backend".into(),
            deployment: "d-ABC123XYZ".into(),
            goal: BlueGreenGoal::RolledBack,
        }
    );
    let mut rollback = deployment("d-ROLLBACK1", "InProgress", 100.0);
    rollback.creator = Some("codeDeployRollback".into());
    rollback.rollback = Some(CdRollback {
        deployment_id: None,
        triggering_deployment_id: Some("d-ABC123XYZ".into()),
        message: None,
    });
    load_groups(&mut s, Some(rollback.clone()), 5);
    assert!(!s.activity[0].watch.as_ref().expect("w").status.is_final());
    rollback.status = "Succeeded".into();
    load_groups(&mut s, Some(rollback), 40);
    let status = &s.activity[0].watch.as_ref().expect("w").status;
    assert!(
        matches!(status, WatchStatus::Completed(t) if t.contains("rolled back")),
        "{status:?}"
    );
    // The timeline has the deployments' steps.
    let steps: Vec<&str> = s.envs[0]
        .timeline
        .iter()
        .filter(|e| e.kind == "bluegreen")
        .map(|e| e.text.as_str())
        .collect();
    assert!(
        steps.contains(&"CodeDeploy d-ROLLBACK1 of backend started (a rollback)"),
        "{steps:?}"
    );
    assert!(
        steps.contains(&"CodeDeploy d-ROLLBACK1 of backend succeeded"),
        "{steps:?}"
    );
}

#[test]
fn a_protected_stop_wants_the_name_typed() {
    let mut s = on_backend("production", Some(deployment("d-ABC123XYZ", "Ready", 0.0)));
    press(&mut s, key('b'));
    assert!(matches!(confirm_op(&s), Operation::CodeDeployStop { .. }));
    assert!(operations(&press(&mut s, key('y'))).is_empty());
    press(&mut s, code(KeyCode::Backspace));
    typed(&mut s, "production/backend");
    let sent = press(&mut s, code(KeyCode::Enter));
    assert_eq!(operations(&sent).len(), 1);
}

#[test]
fn c_continues_a_waiting_deployment_and_refuses_when_nothing_waits() {
    let mut s = on_backend("staging", Some(deployment("d-WAITING01", "Ready", 0.0)));
    press(&mut s, key('C'));
    let op = confirm_op(&s);
    assert_eq!(
        op.calls(),
        vec![
            "codedeploy:ContinueDeployment deploymentId=d-WAITING01 \
             deploymentWaitType=READY_WAIT"
                .to_string(),
            "then codedeploy:GetDeployment deploymentId=d-WAITING01 (read back)".to_string(),
        ]
    );
    let sent = press(&mut s, key('y'));
    assert_eq!(operations(&sent).len(), 1);
    // Under way, nothing waits: C says so and opens nothing.
    let mut s = on_backend(
        "staging",
        Some(deployment("d-SHIFTING1", "InProgress", 10.0)),
    );
    assert!(press(&mut s, key('C')).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        flash_text(&s).contains("nothing waits for a continue"),
        "{}",
        flash_text(&s)
    );
    // None at all.
    let mut s = on_backend("staging", None);
    assert!(press(&mut s, key('C')).is_empty());
    assert!(
        flash_text(&s).contains("nothing waits"),
        "{}",
        flash_text(&s)
    );
    // A rolling ECS service: C is not for it.
    let mut s = on_services(false);
    assert!(press(&mut s, key('C')).is_empty());
    assert!(
        flash_text(&s).contains("deployed by ECS"),
        "{}",
        flash_text(&s)
    );
}

#[test]
fn a_read_only_environment_refuses_stop_and_continue_before_any_dialog() {
    for k in ['b', 'C', 'i'] {
        let mut s = on_backend("staging", Some(deployment("d-WAITING01", "Ready", 0.0)));
        s.envs[0].read_only = true;
        assert!(press(&mut s, key(k)).is_empty(), "{k}");
        assert_eq!(s.mode, Mode::Normal, "{k}");
        assert!(
            flash_text(&s).contains("read-only"),
            "{k}: {}",
            flash_text(&s)
        );
    }
}

#[test]
fn keys_typed_ahead_never_reach_the_confirmation() {
    let mut s = on_backend("staging", Some(deployment("d-WAITING01", "Ready", 0.0)));
    // b and y in one burst, before a frame showed the preview.
    update(&mut s, key('b'));
    let effects = update(&mut s, key('y'));
    assert!(operations(&effects).is_empty(), "{effects:?}");
    assert!(matches!(confirm_op(&s), Operation::CodeDeployStop { .. }));
    // Once read, y sends it.
    let effects = press(&mut s, key('y'));
    assert_eq!(operations(&effects).len(), 1);
}

#[test]
fn update_service_cannot_change_a_code_deploy_service_and_says_so() {
    // No deployment under way: b would be an UpdateService to an older
    // revision, which ECS refuses for CODE_DEPLOY: refused here.
    let mut s = on_backend("staging", None);
    assert!(press(&mut s, key('b')).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        flash_text(&s).contains("UpdateService cannot move a CODE_DEPLOY service"),
        "{}",
        flash_text(&s)
    );
    // A forced new deployment neither.
    assert!(press(&mut s, key('r')).is_empty());
    assert!(
        flash_text(&s).contains("UpdateService cannot force"),
        "{}",
        flash_text(&s)
    );
    // A deploy while one is under way: one at a time.
    let mut s = on_backend(
        "staging",
        Some(deployment("d-SHIFTING1", "InProgress", 10.0)),
    );
    assert!(press(&mut s, key('i')).is_empty());
    assert!(
        flash_text(&s).contains("one deployment at a time"),
        "{}",
        flash_text(&s)
    );
}

#[test]
fn a_deploy_goes_through_create_deployment_never_update_service() {
    let mut s = on_backend("staging", None);
    // Its task definition, one container.
    let td = TaskDefinition {
        arn: TD28.into(),
        family: "backend".into(),
        revision: 28,
        status: "ACTIVE".into(),
        cpu: None,
        memory: None,
        network_mode: None,
        requires_compatibilities: Vec::new(),
        task_role_arn: None,
        execution_role_arn: None,
        containers: vec![ContainerDefinition {
            name: "backend".into(),
            image: "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/backend:v1".into(),
            essential: true,
            cpu: None,
            memory: None,
            port_mappings: vec![8000],
            secrets: Vec::new(),
            log_group: None,
            log_stream_prefix: None,
        }],
        registered_at: None,
    };
    update(
        &mut s,
        Action::TaskDefinitionLoaded {
            env: 0,
            arn: TD28.into(),
            result: Ok(td),
        },
    );
    press(&mut s, key('i'));
    typed(&mut s, "v2");
    press(&mut s, code(KeyCode::Enter));
    let op = confirm_op(&s);
    let Operation::DeployImage { via: Some(via), .. } = &op else {
        panic!("expected a deploy through CodeDeploy, got {op:?}");
    };
    assert_eq!(via.application, "AppECS-prod-backend");
    assert_eq!((via.lb_container.as_str(), via.lb_port), ("backend", 8000));
    let calls = op.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("ecs:RegisterTaskDefinition"))
    );
    assert!(
        calls.iter().any(|c| c.starts_with(
            "codedeploy:CreateDeployment applicationName=AppECS-prod-backend \
             deploymentGroupName=DgpECS-prod-backend revision=AppSpecContent"
        )),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.contains("UpdateService")),
        "{calls:?}"
    );
    let sent = press(&mut s, key('y'));
    assert_eq!(operations(&sent).len(), 1);
    // Accepted: followed until the replacement is ready for a continue.
    let id = s.activity[0].id.clone();
    let at = s.now;
    update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::CodeDeploy {
                task_definition: Some(TD29.into()),
                deployment: Box::new(deployment("d-NEWDEPLOY", "Created", 0.0)),
            }),
            read_back: None,
        },
    );
    assert!(matches!(s.activity[0].status, OpStatus::Accepted { .. }));
    load_groups(&mut s, Some(deployment("d-NEWDEPLOY", "Ready", 0.0)), 60);
    let status = &s.activity[0].watch.as_ref().expect("followed").status;
    assert!(
        matches!(status, WatchStatus::Completed(t) if t.contains("waiting for a continue")),
        "{status:?}"
    );
}

/// CodeDeploy's own rollback under way is not stopped by `b`: that would
/// leave production traffic on the replacement it is taking it from.
#[test]
fn b_refuses_to_stop_codedeploys_own_rollback() {
    let mut rollback = deployment("d-RB0000001", "InProgress", 40.0);
    rollback.creator = Some("codeDeployRollback".into());
    rollback.rollback = Some(CdRollback {
        deployment_id: None,
        triggering_deployment_id: Some("d-FAILED001".into()),
        message: None,
    });
    let mut s = on_backend("staging", Some(rollback));
    let effects = press(&mut s, key('b'));
    assert!(matches!(s.mode, Mode::Normal), "{:?}", s.mode);
    assert!(operations(&effects).is_empty(), "{effects:?}");
    let text = flash_text(&s);
    assert!(
        text.contains("d-RB0000001") && text.contains("rollback of d-FAILED001"),
        "{text}"
    );
}

/// The group is the one of the service's own cluster: a same-named
/// service's group in another cluster (not listed here) is never acted on.
#[test]
fn the_deployment_group_is_the_one_of_the_services_cluster() {
    let mut s = on_backend("staging", None);
    let mut other = group(Some(deployment("d-OTHERCLU1", "Ready", 0.0)));
    other.id = "dev/backend".into();
    other.cluster = "dev".into();
    other.application = "AppECS-dev-backend".into();
    let mut ours = group(Some(deployment("d-OURCLUS1", "Ready", 0.0)));
    let cluster = crate::domain::short_id(
        &s.envs[0].services.data.as_ref().expect("services")[0].cluster_arn,
    )
    .to_string();
    ours.id = format!("{cluster}/backend");
    ours.cluster = cluster;
    // The other cluster's group sorts first.
    let generation = s.envs[0].blue_greens.generation;
    s.envs[0].blue_greens.in_flight = true;
    let at = s.now;
    update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::BlueGreens,
            generation,
            at,
            result: Ok(Data::BlueGreens(vec![other, ours])),
        },
    );
    press(&mut s, key('C'));
    match confirm_op(&s) {
        Operation::CodeDeployContinue { deployment, .. } => assert_eq!(deployment, "d-OURCLUS1"),
        op => panic!("expected a continue, got {op:?}"),
    }
}
