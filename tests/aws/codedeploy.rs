//! CodeDeploy blue/green against moto (and the proxy's double of the
//! engine moto lacks: StopDeployment, ContinueDeployment,
//! BatchGetDeploymentTargets, BatchGetDeploymentGroups, and a deployment's
//! status past `Created`): a CODE_DEPLOY service's group found by its
//! ecsServices and its deployment read with its ECS target; a stop with
//! rollback sent once and read back Stopped with its rollback deployment;
//! a continue read back Succeeded with the service on the new revision; a
//! new revision deployed through CreateDeployment and read back; ECS
//! refusing UpdateService's task definition on such a service; read-only
//! refusing every change with nothing sent.

use std::sync::Arc;

use crate::prelude::*;
use honban::backend::CdCreate;
use honban::backend::prelude::*;
use honban::domain::{DeploymentController, appspec};

const CLUSTER: &str = "bg";
const SERVICE: &str = "backend";
const APP: &str = "AppECS-bg-backend";
const GROUP: &str = "DgpECS-bg-backend";

/// A CODE_DEPLOY service with revisions 1 (running) and 2, its CodeDeploy
/// application and group (waiting up to 60 minutes for a continue when
/// `waits`), and a deployment of revision 2 made behind the product's
/// back; returns the account and the deployment's id.
fn blue_green(waits: bool) -> (MotoAccount, String) {
    let moto = MotoAccount::empty();
    moto.aws(
        "ecs",
        "create_cluster",
        &format!(r#"{{"clusterName": "{CLUSTER}"}}"#),
    );
    for tag in ["v1", "v2"] {
        moto.aws(
            "ecs",
            "register_task_definition",
            &format!(
                r#"{{"family": "{SERVICE}", "containerDefinitions": [{{
                    "name": "{SERVICE}", "memory": 512, "essential": true,
                    "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/{SERVICE}:{tag}",
                    "portMappings": [{{"containerPort": 8000}}]}}]}}"#
            ),
        );
    }
    moto.aws(
        "ecs",
        "create_service",
        &format!(
            r#"{{"cluster": "{CLUSTER}", "serviceName": "{SERVICE}",
                "taskDefinition": "{SERVICE}:1", "desiredCount": 2,
                "deploymentController": {{"type": "CODE_DEPLOY"}},
                "loadBalancers": [{{"targetGroupArn":
                    "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/bg-1/0123456789abcdef",
                    "containerName": "{SERVICE}", "containerPort": 8000}}]}}"#
        ),
    );
    moto.aws(
        "codedeploy",
        "create_application",
        &format!(r#"{{"applicationName": "{APP}", "computePlatform": "ECS"}}"#),
    );
    let ready = if waits {
        r#""deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 60},"#
    } else {
        r#""deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},"#
    };
    moto.aws(
        "codedeploy",
        "create_deployment_group",
        &format!(
            r#"{{"applicationName": "{APP}", "deploymentGroupName": "{GROUP}",
                "serviceRoleArn": "arn:aws:iam::123456789012:role/CodeDeployECS",
                "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
                "ecsServices": [{{"serviceName": "{SERVICE}", "clusterName": "{CLUSTER}"}}],
                "deploymentStyle": {{"deploymentType": "BLUE_GREEN",
                                     "deploymentOption": "WITH_TRAFFIC_CONTROL"}},
                "blueGreenDeploymentConfiguration": {{{ready}
                    "terminateBlueInstancesOnDeploymentSuccess":
                        {{"action": "TERMINATE", "terminationWaitTimeInMinutes": 5}}}},
                "autoRollbackConfiguration": {{"enabled": true,
                    "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]}},
                "loadBalancerInfo": {{"targetGroupPairInfoList": [{{
                    "targetGroups": [{{"name": "bg-1"}}, {{"name": "bg-2"}}],
                    "prodTrafficRoute": {{"listenerArns": ["arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:listener/app/bg/1/2"]}}}}]}}}}"#
        ),
    );
    let td2 = format!(
        "arn:aws:ecs:ap-northeast-1:{}:task-definition/{SERVICE}:2",
        moto.account
    );
    let content = serde_json::to_string(&appspec(&td2, SERVICE, 8000)).expect("json");
    let out = moto.aws(
        "codedeploy",
        "create_deployment",
        &format!(
            r#"{{"applicationName": "{APP}", "deploymentGroupName": "{GROUP}",
                "revision": {{"revisionType": "AppSpecContent",
                              "appSpecContent": {{"content": {content}}}}}}}"#
        ),
    );
    let id = out
        .at("deploymentId")
        .as_str()
        .expect("deployment id")
        .to_string();
    (moto, id)
}

/// The service as moto holds it.
fn raw_service(moto: &MotoAccount) -> Json {
    let raw = moto.aws(
        "ecs",
        "describe_services",
        &format!(r#"{{"cluster": "{CLUSTER}", "services": ["{SERVICE}"]}}"#),
    );
    raw.at("services").as_array().expect("services")[0].clone()
}

#[tokio::test]
async fn the_group_is_found_by_its_service_and_the_deployment_read_with_its_target() {
    let (moto, id) = blue_green(true);
    let b = moto.backend_for(CLUSTER).await;
    let services = b.services(CLUSTER).await.expect("services");
    let svc = services
        .items
        .iter()
        .find(|s| s.name == SERVICE)
        .expect("the service");
    assert_eq!(svc.deployment_controller, DeploymentController::CodeDeploy);

    moto.reset_counts();
    let groups = b.blue_greens(&[CLUSTER.to_string()]).await.expect("groups");
    assert_eq!(groups.len(), 1, "{groups:?}");
    let g = &groups[0];
    assert_eq!(
        (g.application.as_str(), g.deployment_group.as_str()),
        (APP, GROUP)
    );
    assert_eq!(g.service, SERVICE);
    assert_eq!(g.ready_wait_minutes, Some(60));
    assert_eq!(g.termination_wait_minutes, Some(5));
    assert!(g.auto_rollback);
    let d = g.deployment.as_ref().expect("the deployment");
    assert_eq!(d.id, id);
    assert_eq!(d.status, "Ready", "{d:?}");
    assert!(
        d.task_definition
            .as_deref()
            .is_some_and(|t| t.ends_with(":2"))
    );
    let target = d.target.as_ref().expect("its ECS target");
    let green = target.replacement().expect("the replacement");
    assert_eq!((green.running, green.desired), (2, 2));
    assert!(green.traffic_weight.abs() < f64::EPSILON, "{green:?}");
    assert_eq!(green.target_group.as_deref(), Some("bg-2"));
    assert_eq!(target.lifecycle_events.len(), 8);
    assert_eq!(target.lifecycle_events[6].status, "Pending");
    // The discovery and the reads, nothing else; the batches are reads.
    assert!(moto.mutating_counts().is_empty(), "{:?}", moto.counts());
    for op in [
        "codedeploy:ListApplications",
        "codedeploy:BatchGetApplications",
        "codedeploy:ListDeploymentGroups",
        "codedeploy:BatchGetDeploymentGroups",
        "codedeploy:ListDeployments",
        "codedeploy:BatchGetDeployments",
        "codedeploy:BatchGetDeploymentTargets",
    ] {
        assert_eq!(moto.count(op), 1, "{op}: {:?}", moto.counts());
    }
    // Another cluster's services have no group.
    let none = b.blue_greens(&["other".to_string()]).await.expect("groups");
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_stop_with_rollback_is_sent_once_and_reads_back_stopped_and_rolled_back() {
    let (moto, id) = blue_green(true);
    let b = moto.backend_for(CLUSTER).await;
    moto.reset_counts();
    let said = b.stop_deployment(&id, true).await.expect("stopped");
    assert!(said.starts_with("Succeeded"), "{said}");
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("codedeploy:StopDeployment", 1)]),
        "sent once"
    );
    let sent = moto.the_request("codedeploy:StopDeployment");
    assert_eq!(sent.at("deploymentId").as_str(), Some(id.as_str()));
    assert_eq!(sent.at("autoRollbackEnabled").as_bool(), Some(true));
    let d = b
        .deployment(&id, Some((CLUSTER, SERVICE)))
        .await
        .expect("GetDeployment");
    assert_eq!(d.status, "Stopped");
    let rollback = d
        .rollback
        .as_ref()
        .and_then(|r| r.deployment_id.clone())
        .expect("its rollback deployment");
    // The group's newest is the rollback, done; nothing is active.
    let g = b.blue_greens(&[]).await.expect("groups").remove(0);
    let newest = g.deployment.expect("newest");
    assert_eq!(newest.id, rollback);
    assert_eq!(newest.creator.as_deref(), Some("codeDeployRollback"));
    assert_eq!(newest.status, "Succeeded");
    // Stopped: a second stop is refused as CodeDeploy refuses it.
    let again = b.stop_deployment(&id, true).await;
    assert!(
        matches!(&again, Err(BackendError::Invalid { message }) if message.contains("completed")),
        "{again:?}"
    );
    // The service still runs the original.
    let raw = raw_service(&moto);
    assert!(
        raw.at("taskDefinition")
            .as_str()
            .is_some_and(|t| t.ends_with(":1")),
        "{raw:?}"
    );
}

#[tokio::test]
async fn a_continue_reads_back_succeeded_with_the_service_on_the_new_revision() {
    let (moto, id) = blue_green(true);
    let b = moto.backend_for(CLUSTER).await;
    moto.reset_counts();
    b.continue_deployment(&id).await.expect("continued");
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("codedeploy:ContinueDeployment", 1)]),
        "sent once"
    );
    assert_eq!(
        moto.the_request("codedeploy:ContinueDeployment")
            .at("deploymentWaitType")
            .as_str(),
        Some("READY_WAIT")
    );
    let d = b
        .deployment(&id, Some((CLUSTER, SERVICE)))
        .await
        .expect("read");
    assert_eq!(d.status, "Succeeded");
    assert_eq!(d.traffic_shifted(), Some(100.0));
    let svc = b
        .services(CLUSTER)
        .await
        .expect("services")
        .items
        .into_iter()
        .find(|s| s.name == SERVICE)
        .expect("backend");
    assert!(
        svc.task_definition.ends_with(":2"),
        "{}",
        svc.task_definition
    );
    // Nothing waits any more.
    let again = b.continue_deployment(&id).await;
    assert!(
        matches!(&again, Err(BackendError::Invalid { message }) if message.contains("Ready")),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_new_revision_goes_through_create_deployment_and_reads_back() {
    let (moto, first) = blue_green(false);
    let b = moto.backend_for(CLUSTER).await;
    // The group does not wait: the first deployment went through.
    let d = b.deployment(&first, None).await.expect("read");
    assert_eq!(d.status, "Succeeded");
    // UpdateService cannot change a CODE_DEPLOY service's task definition.
    let refused = b
        .update_service(
            CLUSTER,
            SERVICE,
            ServiceUpdate {
                task_definition: Some(format!("{SERVICE}:1")),
                ..ServiceUpdate::default()
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(BackendError::Invalid { message }) if message.contains("CODE_DEPLOY")),
        "{refused:?}"
    );
    moto.reset_counts();
    let td = b
        .register_task_definition(ImageChange {
            base: format!("{SERVICE}:2"),
            images: vec![(
                SERVICE.to_string(),
                format!("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/{SERVICE}:v3"),
            )],
        })
        .await
        .expect("registered");
    let create = CdCreate {
        application: APP.into(),
        deployment_group: GROUP.into(),
        appspec: appspec(&td.arn, SERVICE, 8000),
        description: "honban deploy-image honban-test-1".into(),
    };
    let id = b.create_deployment(&create).await.expect("created");
    assert_eq!(
        moto.mutating_counts(),
        ops(&[
            ("codedeploy:CreateDeployment", 1),
            ("ecs:RegisterTaskDefinition", 1)
        ]),
        "each sent once"
    );
    let sent = moto.the_request("codedeploy:CreateDeployment");
    assert_eq!(
        sent.at("revision").at("revisionType").as_str(),
        Some("AppSpecContent")
    );
    let content = sent
        .at("revision")
        .at("appSpecContent")
        .at("content")
        .as_str()
        .expect("the AppSpec")
        .to_string();
    assert!(content.contains(&td.arn), "{content}");
    assert!(content.contains("\"ContainerPort\":8000"), "{content}");
    let d = b
        .deployment(&id, Some((CLUSTER, SERVICE)))
        .await
        .expect("read");
    assert_eq!(d.status, "Succeeded");
    assert_eq!(d.task_definition.as_deref(), Some(td.arn.as_str()));
    // Found again by its description (how a lost answer is read back),
    // among the deployments since the change was sent (two hours back: an
    // intent read back by a later session).
    let found = b
        .find_deployment(
            APP,
            GROUP,
            &create.description,
            chrono::Utc::now() - chrono::TimeDelta::hours(2),
        )
        .await
        .expect("read back")
        .expect("found");
    assert_eq!(found.id, id);
    let svc = raw_service(&moto);
    assert_eq!(svc.at("taskDefinition").as_str(), Some(td.arn.as_str()));
}

#[tokio::test]
async fn read_only_refuses_every_codedeploy_change_and_nothing_is_sent() {
    let (moto, id) = blue_green(true);
    let aws = Arc::new(moto.backend_for(CLUSTER).await);
    let guarded = honban::backend::guard::ReadOnly::new(aws, "ro");
    moto.reset_counts();
    let groups = guarded
        .codedeploy()
        .expect("reads pass")
        .blue_greens(&[])
        .await
        .expect("groups");
    assert_eq!(groups.len(), 1);
    let changes = guarded.codedeploy_changes().expect("refusals");
    let stop = changes.stop_deployment(&id, true).await;
    assert_eq!(
        stop,
        Err(BackendError::ReadOnly {
            operation: "codedeploy:StopDeployment".into()
        })
    );
    assert!(changes.continue_deployment(&id).await.is_err());
    assert!(moto.mutating_counts().is_empty(), "{:?}", moto.counts());
}

/// ECS-native blue/green (no CodeDeploy): the strategy and the current
/// stage are read with the service (ListServiceDeployments,
/// DescribeServiceDeployments); a rolling service asks for none.
#[tokio::test]
async fn an_ecs_native_blue_green_service_shows_its_strategy_and_stage() {
    let moto = MotoAccount::empty();
    moto.aws("ecs", "create_cluster", r#"{"clusterName": "native"}"#);
    moto.aws(
        "ecs",
        "register_task_definition",
        r#"{"family": "web", "containerDefinitions": [{"name": "web", "memory": 512,
            "image": "nginx:1.27", "essential": true}]}"#,
    );
    for (name, strategy) in [("web", "BLUE_GREEN"), ("worker", "ROLLING")] {
        moto.aws_via_proxy(
            "ecs",
            "create_service",
            &format!(
                r#"{{"cluster": "native", "serviceName": "{name}", "taskDefinition": "web:1",
                    "desiredCount": 1,
                    "deploymentConfiguration": {{"strategy": "{strategy}", "bakeTimeInMinutes": 10}}}}"#
            ),
        );
    }
    let b = moto.backend_for("native").await;
    moto.reset_counts();
    let services = b.services("native").await.expect("services").items;
    let web = services.iter().find(|s| s.name == "web").expect("web");
    assert!(web.is_ecs_blue_green(), "{web:?}");
    let d = web.service_deployment.as_ref().expect("its deployment");
    assert_eq!(d.status, "IN_PROGRESS");
    assert_eq!(d.lifecycle_stage.as_deref(), Some("BAKE_TIME"));
    assert_eq!(d.production_traffic, Some(100.0));
    let worker = services
        .iter()
        .find(|s| s.name == "worker")
        .expect("worker");
    assert_eq!(worker.strategy.as_deref(), Some("ROLLING"));
    assert!(worker.service_deployment.is_none());
    assert_eq!(
        moto.count("ecs:ListServiceDeployments"),
        1,
        "{:?}",
        moto.counts()
    );
    assert_eq!(moto.count("ecs:DescribeServiceDeployments"), 1);
}

/// A moto seeded after seed 003 (`--codedeploy`): the console shows the
/// backend's blue/green deployment waiting for a continue; `C` and `y`
/// send ContinueDeployment once, read it back Succeeded, follow it to its
/// end and audit it; the service then runs the new revision.
#[tokio::test]
async fn the_seeded_backend_is_continued_by_keys_and_read_back() {
    let moto = MotoAccount::seeded("cdstg", &["--codedeploy"]);
    let env = moto.env("cdstg");
    let Console { mut app, audit, .. } = moto.console(env).await;
    select(&mut app, '2', "backend").await;
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    // The first poll asked for the groups once the services named a
    // CODE_DEPLOY one.
    let g = app
        .state
        .env()
        .and_then(|e| e.blue_green("backend"))
        .cloned()
        .expect("the group, read");
    let d = g.deployment.expect("its deployment");
    assert_eq!(d.status, "Ready", "{d:?}");
    let screen = draw(&app);
    assert!(screen.contains("Ready: waits for a continue"), "{screen}");
    moto.reset_counts();
    press(&mut app, KeyCode::Char('C'));
    assert!(
        matches!(confirming(&app), Some(Operation::CodeDeployContinue { .. })),
        "{:?}",
        app.state.mode
    );
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("codedeploy:ContinueDeployment", 1)]),
        "sent once"
    );
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    assert!(
        accepted_detail(a).contains("Succeeded"),
        "{}",
        accepted_detail(a)
    );
    let id = a.id.clone();
    let ended = eventually(
        "the watch to end",
        Duration::from_secs(30),
        async || {
            app.dispatch(Action::Tick(app.state.now + chrono::TimeDelta::seconds(5)));
            app.settle().await;
            last_activity(&app).watch.as_ref().map(|w| w.status.clone())
        },
        |s| s.as_ref().is_some_and(honban::watch::WatchStatus::is_final),
    )
    .await;
    assert!(
        matches!(&ended, Some(honban::watch::WatchStatus::Completed(t)) if t.contains("succeeded")),
        "{ended:?}"
    );
    let (intent, result) = audited(&app, &audit, &id);
    assert_eq!(intent.operation, "codedeploy-continue");
    assert_eq!(intent.parameters["deploymentId"], d.id.as_str());
    assert_eq!(result.result["status"], "Succeeded");
    let raw = moto.aws(
        "ecs",
        "describe_services",
        r#"{"cluster": "cdstg", "services": ["backend"]}"#,
    );
    let td = raw.at("services").as_array().expect("services")[0]
        .at("taskDefinition")
        .as_str()
        .expect("td")
        .to_string();
    assert!(td.ends_with("cdstg-backend:2"), "{td}");
}

/// A CreateDeployment whose answer was lost is read back by the
/// description unique to it: not there, not applied; there, applied with
/// the deployment found (ListDeployments, BatchGetDeployments); a stop
/// is read back with GetDeployment.
#[tokio::test]
async fn unanswered_codedeploy_changes_are_read_back() {
    use honban::reconcile::{Verdict, read_back};
    let (moto, first) = blue_green(true);
    let b = moto.backend_for(CLUSTER).await;
    let since = chrono::Utc::now() - chrono::TimeDelta::minutes(1);
    let stop = Operation::CodeDeployStop {
        cluster: CLUSTER.into(),
        service: SERVICE.into(),
        deployment: first.clone(),
        status: "Ready".into(),
        traffic: 0,
        original: format!("{SERVICE}:1"),
        replacement: Some(format!("{SERVICE}:2")),
    };
    let found = read_back(&b, &stop, since, None).await.expect("read");
    assert_eq!(found.verdict, Verdict::NotApplied, "{found:?}");
    b.stop_deployment(&first, true).await.expect("stopped");
    let found = read_back(&b, &stop, since, None).await.expect("read");
    assert_eq!(found.verdict, Verdict::Applied, "{found:?}");
    assert!(found.evidence.contains("Stopped"), "{}", found.evidence);
    // A continue of a deployment that is now Stopped was not shown to
    // have happened: unknown, never "applied".
    let cont = Operation::CodeDeployContinue {
        cluster: CLUSTER.into(),
        service: SERVICE.into(),
        deployment: first.clone(),
        replacement: Some(format!("{SERVICE}:2")),
        config: "CodeDeployDefault.ECSAllAtOnce".into(),
    };
    let found = read_back(&b, &cont, since, None).await.expect("read");
    assert_eq!(found.verdict, Verdict::Unknown, "{found:?}");

    let td2 = format!(
        "arn:aws:ecs:ap-northeast-1:{}:task-definition/{SERVICE}:2",
        moto.account
    );
    let description = "honban deploy-image honban-lost-20261201T230000000Z-1a2b3c4d";
    let deploy = Operation::DeployImage {
        cluster: CLUSTER.into(),
        service: SERVICE.into(),
        base: format!("{SERVICE}:1"),
        container: SERVICE.into(),
        from: "v1".into(),
        to: "v2".into(),
        via: Some(Box::new(honban::ops::ViaCodeDeploy {
            application: APP.into(),
            deployment_group: GROUP.into(),
            lb_container: SERVICE.into(),
            lb_port: 8000,
            description: description.into(),
            ready_wait_minutes: Some(60),
        })),
    };
    let found = read_back(&b, &deploy, since, Some(&td2))
        .await
        .expect("read");
    assert_eq!(found.verdict, Verdict::NotApplied, "{found:?}");
    let id = b
        .create_deployment(&CdCreate {
            application: APP.into(),
            deployment_group: GROUP.into(),
            appspec: appspec(&td2, SERVICE, 8000),
            description: description.into(),
        })
        .await
        .expect("created");
    let found = read_back(&b, &deploy, since, Some(&td2))
        .await
        .expect("read");
    assert_eq!(found.verdict, Verdict::Applied, "{found:?}");
    assert!(
        matches!(
            &found.outcome,
            Some(honban::action::OpOutcome::CodeDeploy { deployment, .. }) if deployment.id == id
        ),
        "{found:?}"
    );
    assert!(moto.count("codedeploy:ListDeployments") > 0);
}
