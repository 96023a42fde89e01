//! Operations through the console: the real App (reducer, runner, audit
//! log, AWS SDK backend), built by `setup::build` exactly as `honban` builds
//! it (so the real read-only and dry-run guards apply), driven by key
//! presses against moto. What reached the server is counted and decoded at
//! the proxy, the effect is read back raw from moto, and the audit log is
//! read back from disk.

use crate::prelude::*;

/// Scaling in a protected environment, by keys: the typed name is required,
/// one request is sent however often the confirming key is pressed, the
/// count reads back, and the audit log pairs an intent with its result.
#[tokio::test]
async fn scaling_by_keys_in_a_protected_environment_is_typed_sent_once_and_audited() {
    let moto = MotoAccount::seeded("prot", &[]);
    let mut env = moto.env("production");
    env.protected = true;
    let Console { mut app, audit, .. } = moto.console(env).await;
    assert_eq!(app.state.service("web").map(|s| s.desired_count), Some(2));

    moto.reset_counts();
    select(&mut app, '2', "web").await;
    press(&mut app, KeyCode::Char('s'));
    match &app.state.mode {
        Mode::Dialog(Dialog::Input { input, .. }) => assert_eq!(input, "2", "prefilled"),
        other => panic!("expected the scale prompt, got {other:?}"),
    }
    clear_input(&mut app);
    type_text(&mut app, "5");
    press(&mut app, KeyCode::Enter);
    let op = confirming(&app).expect("a confirmation").clone();
    assert!(
        matches!(op, Operation::Scale { from: 2, to: 5, .. }),
        "{op:?}"
    );

    // Enter with no name, with the service's name alone (the same in every
    // environment), then with `y` added: the dialog stays and says why in
    // the dialog, nothing is sent, and `y` is typed text here.
    press(&mut app, KeyCode::Enter);
    assert!(confirming(&app).is_some(), "still confirming");
    let error = dialog_error(&app);
    assert!(error.contains("type production/web"), "{error}");
    type_text(&mut app, "web");
    press(&mut app, KeyCode::Enter);
    let error = dialog_error(&app);
    assert!(error.contains("\"web\" is not production/web"), "{error}");
    type_text(&mut app, "y");
    press(&mut app, KeyCode::Enter);
    assert!(confirming(&app).is_some(), "still confirming");
    app.settle().await;
    assert!(app.state.activity.is_empty());
    assert_eq!(moto.mutating_counts(), ops(&[]), "nothing sent");
    assert!(audit_records(&audit).is_empty(), "nothing audited");

    // ENV/NAME; then Enter again and `y` (a double press).
    for _ in 0..4 {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "production/web");
    assert_eq!(dialog_error(&app), "", "typing clears the error");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(app.state.activity.len(), 1, "one operation");
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:UpdateService", 1)]));
    let sent = moto.the_request("ecs:UpdateService");
    assert_eq!(sent.at("cluster").as_str(), Some("prot"));
    assert_eq!(sent.at("service").as_str(), Some("web"));
    assert_eq!(sent.at("desiredCount").as_u64(), Some(5));

    // Read back: raw from moto, and in the console (refreshed after the call).
    assert_eq!(moto.raw_service("web").at("desiredCount").as_u64(), Some(5));
    assert_eq!(app.state.service("web").map(|s| s.desired_count), Some(5));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    assert!(a.watch.is_some(), "followed to the end");

    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(audit_records(&audit).len(), 2);
    assert_eq!(intent.environment, "production");
    assert_eq!(intent.account.as_deref(), Some(moto.account.as_str()));
    let caller = moto.aws("sts", "get_caller_identity", "{}");
    assert_eq!(intent.caller.as_deref(), caller.at("Arn").as_str());
    assert_eq!(intent.operation, "scale");
    assert_eq!(intent.resource, "web");
    assert_eq!(intent.parameters["desiredCount"], 5);
    assert_eq!(intent.parameters["before"]["desiredCount"], 2);
    assert!(!intent.dry_run);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["desiredCount"], 5);
    assert_eq!(result.error, None);
}

/// Every operation key of a read-only environment.
const OPERATION_KEYS: [(char, char, &str); 8] = [
    ('2', 's', "web"),
    ('2', 'A', "web"),
    ('2', 'i', "web"),
    ('2', 'b', "web"),
    ('2', 'r', "web"),
    ('4', 'n', "-db"),
    ('4', 'F', "-db"),
    ('5', 'm', "-web-cpu-high"),
];

/// Read-only, from the environment's config and from `--read-only`: every
/// operation key is refused with the reason, and a confirmation forced into
/// the state is refused by the guard below the runner, audited as an error.
#[tokio::test]
async fn read_only_refuses_operation_keys_and_the_guard_refuses_a_forced_confirmation() {
    for flag in [false, true] {
        let name = if flag { "roflag" } else { "roconf" };
        let moto = MotoAccount::seeded(name, &[]);
        let mut env = moto.env(name);
        env.read_only = !flag;
        let Console { mut app, audit, .. } = moto
            .console_with(env, |_, o| o.read_only = flag, None)
            .await;
        assert!(app.state.envs[0].read_only);

        moto.reset_counts();
        for (view, key, row) in OPERATION_KEYS {
            let row = if row.starts_with('-') {
                format!("{name}{row}")
            } else {
                row.to_string()
            };
            select(&mut app, view, &row).await;
            press(&mut app, KeyCode::Char(key));
            assert!(is_normal(&app), "{key}: no dialog opens");
            let text = flash_text(&app);
            assert!(text.contains("read-only"), "{key}: {text}");
            press(&mut app, KeyCode::Char('y'));
            press(&mut app, KeyCode::Enter);
            app.settle().await;
        }
        assert!(app.state.activity.is_empty());
        assert!(audit_records(&audit).is_empty());

        // Past the reducer's refusal: a confirmation put into the state.
        let forced = [
            Operation::Scale {
                cluster: name.to_string(),
                service: "web".into(),
                from: 2,
                to: 7,
                scaling: Some((2, 10)),
            },
            Operation::Snapshot {
                instance: format!("{name}-db"),
                snapshot_id: format!("{name}-db-forced"),
            },
        ];
        for op in forced {
            app.state.mode = Mode::Dialog(Dialog::Confirm {
                env: 0,
                op: op.clone(),
                typed: String::new(),
                error: None,
            });
            press(&mut app, KeyCode::Char('y'));
            app.settle().await;
            let a = last_activity(&app);
            assert_eq!(a.op, op);
            let error = failed_with(a);
            assert!(error.contains("read-only"), "{error}");
            let (intent, result) = audited(&app, &audit, &a.id);
            assert_eq!(intent.operation, op.name());
            assert_eq!(result.outcome, Some(Outcome::Error));
            assert_eq!(result.error.as_deref(), Some(error.as_str()));
            assert!(!result.dry_run);
        }
        assert_eq!(
            moto.mutating_counts(),
            ops(&[]),
            "read_only from {}: nothing mutating reached the server",
            if flag { "--read-only" } else { "the config" }
        );
        assert_eq!(moto.raw_service("web").at("desiredCount").as_u64(), Some(2));
    }
}

/// `--dry-run`: a snapshot completed by keys is recorded, never sent.
#[tokio::test]
async fn a_dry_run_snapshot_by_keys_is_audited_and_sends_nothing() {
    let moto = MotoAccount::seeded("dry", &[]);
    let env = moto.env("dry");
    let Console { mut app, audit, .. } =
        moto.console_with(env, |_, o| o.dry_run = true, None).await;
    assert!(app.state.dry_run);
    let snapshots = |moto: &MotoAccount| -> Vec<String> {
        let raw = moto.aws(
            "rds",
            "describe_db_snapshots",
            r#"{"DBInstanceIdentifier": "dry-db"}"#,
        );
        raw.at("DBSnapshots")
            .as_array()
            .expect("snapshots")
            .iter()
            .filter_map(|s| s.at("DBSnapshotIdentifier").as_str().map(str::to_string))
            .collect()
    };
    let before = snapshots(&moto);

    moto.reset_counts();
    select(&mut app, '4', "dry-db").await;
    press(&mut app, KeyCode::Char('n'));
    let Some(Operation::Snapshot { snapshot_id, .. }) = confirming(&app).cloned() else {
        panic!("expected a snapshot confirmation: {:?}", app.state.mode);
    };
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;

    let a = last_activity(&app);
    assert!(
        matches!(a.status, OpStatus::DryRun { .. }),
        "{:?}",
        a.status
    );
    assert!(a.dry_run);
    assert!(flash_text(&app).contains("nothing was sent"));
    assert_eq!(moto.mutating_counts(), ops(&[]));
    let after = snapshots(&moto);
    assert_eq!(after, before);
    assert!(!after.contains(&snapshot_id));

    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "db-snapshot");
    assert_eq!(intent.resource, "dry-db");
    assert_eq!(
        intent.parameters["DBSnapshotIdentifier"],
        snapshot_id.as_str()
    );
    assert!(intent.dry_run && result.dry_run);
    assert_eq!(result.outcome, Some(Outcome::DryRun));
    assert_eq!(result.error, None);
}

/// A call that fails at the server (the instance was deleted behind the
/// console's back) ends failed with the typed error, audited as an error.
#[tokio::test]
async fn a_failing_operation_ends_failed_and_is_audited_as_an_error() {
    let moto = MotoAccount::seeded("gone", &[]);
    let env = moto.env("gone");
    let Console { mut app, audit, .. } = moto.console(env).await;

    moto.aws("rds",
        "modify_db_instance",
        r#"{"DBInstanceIdentifier": "gone-db-replica", "DeletionProtection": false, "ApplyImmediately": true}"#,
    );
    moto.aws(
        "rds",
        "delete_db_instance",
        r#"{"DBInstanceIdentifier": "gone-db-replica", "SkipFinalSnapshot": true}"#,
    );
    moto.reset_counts();
    select(&mut app, '4', "gone-db-replica").await;
    press(&mut app, KeyCode::Char('F'));
    let op = confirming(&app).cloned().expect("a confirmation");
    assert!(
        matches!(&op, Operation::Reboot { instance, .. } if instance == "gone-db-replica"),
        "{op:?}"
    );
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;

    let a = last_activity(&app);
    let error = failed_with(a);
    assert!(error.starts_with("not found:"), "{error}");
    assert!(error.contains("DBInstanceNotFound"), "{error}");
    assert!(
        flash_text(&app).contains(&error),
        "the error is shown: {}",
        flash_text(&app)
    );
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("rds:RebootDBInstance", 1)]),
        "sent once, not retried"
    );
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, op.name());
    assert_eq!(intent.resource, "gone-db-replica");
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert_eq!(result.error.as_deref(), Some(error.as_str()));
    assert!(result.result.is_null());
}

/// When the audit log cannot be written, nothing is sent.
#[tokio::test]
async fn an_unwritable_audit_log_sends_nothing() {
    let moto = MotoAccount::seeded("noaudit", &[]);
    let env = moto.env("noaudit");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").expect("write");
    // Its "directory" is a regular file.
    let path = file.join("audit.jsonl");
    let Console { mut app, .. } = moto.console_with(env, |_, _| {}, Some(path.clone())).await;

    moto.reset_counts();
    select(&mut app, '2', "web").await;
    press(&mut app, KeyCode::Char('s'));
    clear_input(&mut app);
    type_text(&mut app, "6");
    press(&mut app, KeyCode::Enter);
    assert!(confirming(&app).is_some());
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;

    let error = failed_with(last_activity(&app));
    assert!(
        error.contains("audit log") && error.contains("cannot be written"),
        "{error}"
    );
    assert!(error.contains("nothing was sent"), "{error}");
    assert_eq!(moto.mutating_counts(), ops(&[]));
    assert!(!path.exists());
    assert_eq!(moto.raw_service("web").at("desiredCount").as_u64(), Some(2));
}

/// Bounds, restart, deploy image and rollback, by keys, each sent once,
/// read back from moto and audited.
#[tokio::test]
async fn service_operations_by_keys_are_sent_once_read_back_and_audited() {
    let moto = MotoAccount::seeded("svcops", &[]);
    let env = moto.env("staging");
    let Console { mut app, audit, .. } = moto.console(env).await;
    select(&mut app, '2', "web").await;

    // Auto-scaling bounds.
    moto.reset_counts();
    press(&mut app, KeyCode::Char('A'));
    match &app.state.mode {
        Mode::Dialog(Dialog::Input { input, .. }) => assert_eq!(input, "2 10"),
        other => panic!("expected the bounds prompt, got {other:?}"),
    }
    clear_input(&mut app);
    type_text(&mut app, "3 12");
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        confirming(&app),
        Some(Operation::ScalingBounds { to: (3, 12), .. })
    ));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("application-autoscaling:RegisterScalableTarget", 1)])
    );
    let sent = moto.the_request("application-autoscaling:RegisterScalableTarget");
    assert_eq!(sent.at("ResourceId").as_str(), Some("service/svcops/web"));
    assert_eq!(sent.at("MinCapacity").as_u64(), Some(3));
    assert_eq!(sent.at("MaxCapacity").as_u64(), Some(12));
    let raw = moto.aws(
        "application-autoscaling",
        "describe_scalable_targets",
        r#"{"ServiceNamespace": "ecs", "ResourceIds": ["service/svcops/web"]}"#,
    );
    let target = &raw.at("ScalableTargets").as_array().expect("targets")[0];
    assert_eq!(target.at("MinCapacity").as_u64(), Some(3));
    assert_eq!(target.at("MaxCapacity").as_u64(), Some(12));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "scaling-bounds");
    assert_eq!(intent.parameters["minCapacity"], 3);
    assert_eq!(intent.parameters["maxCapacity"], 12);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["maxCapacity"], 12);

    // Restart: a forced new deployment.
    let before = moto.raw_service("web");
    moto.reset_counts();
    press(&mut app, KeyCode::Char('r'));
    assert!(matches!(confirming(&app), Some(Operation::Restart { .. })));
    // A double press: the dialog closed with the first.
    press(&mut app, KeyCode::Char('y'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:UpdateService", 1)]));
    let sent = moto.the_request("ecs:UpdateService");
    assert_eq!(sent.at("forceNewDeployment").as_bool(), Some(true));
    assert!(sent.get("desiredCount").is_none(), "{sent:?}");
    let after = moto.raw_service("web");
    let deployment = |s: &Json| {
        s.at("deployments").as_array().expect("deployments")[0]
            .at("id")
            .as_str()
            .map(str::to_string)
    };
    assert_ne!(deployment(&after), deployment(&before), "a new deployment");
    assert_eq!(after.at("taskDefinition"), before.at("taskDefinition"));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "restart");
    assert_eq!(intent.parameters["forceNewDeployment"], true);
    assert_eq!(result.outcome, Some(Outcome::Success));

    // Deploy an image: a tag typed, a new revision registered and deployed.
    let base = app
        .state
        .service("web")
        .expect("web")
        .task_definition
        .clone();
    let old_image = moto
        .raw_task_definition(&base)
        .at("taskDefinition")
        .at("containerDefinitions")
        .as_array()
        .expect("containers")[0]
        .at("image")
        .as_str()
        .expect("image")
        .to_string();
    moto.reset_counts();
    press(&mut app, KeyCode::Char('i'));
    assert!(
        matches!(
            &app.state.mode,
            Mode::Dialog(Dialog::Input { input, .. }) if input.is_empty()
        ),
        "{:?}",
        app.state.mode
    );
    type_text(&mut app, "v9.9.9");
    press(&mut app, KeyCode::Enter);
    let Some(Operation::DeployImage { to: image, .. }) = confirming(&app).cloned() else {
        panic!("expected a deploy confirmation: {:?}", app.state.mode);
    };
    assert!(image.ends_with("/works-logue/web:v9.9.9"), "{image}");
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ecs:RegisterTaskDefinition", 1), ("ecs:UpdateService", 1)])
    );
    let deployed = moto
        .raw_service("web")
        .at("taskDefinition")
        .as_str()
        .expect("task definition")
        .to_string();
    assert_ne!(deployed, base);
    assert!(
        deployed.ends_with("task-definition/svcops-web:4"),
        "{deployed}"
    );
    assert_eq!(
        moto.the_request("ecs:UpdateService")
            .at("taskDefinition")
            .as_str(),
        Some(deployed.as_str())
    );
    let raw = moto.raw_task_definition(&deployed);
    let new_image = raw
        .at("taskDefinition")
        .at("containerDefinitions")
        .as_array()
        .expect("containers")[0]
        .at("image")
        .as_str()
        .expect("image")
        .to_string();
    assert_eq!(new_image, image);
    assert_eq!(
        honban::ops::image_repository(&new_image),
        honban::ops::image_repository(&old_image)
    );
    assert_eq!(
        app.state.service("web").map(|s| s.task_definition.as_str()),
        Some(deployed.as_str())
    );
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "deploy-image");
    assert_eq!(intent.parameters["image"], image.as_str());
    assert_eq!(intent.parameters["before"]["image"], old_image.as_str());
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["registered"], deployed.as_str());

    // Roll back: the dialog preselects the revision before the current one.
    moto.reset_counts();
    press(&mut app, KeyCode::Char('b'));
    assert!(
        matches!(app.state.mode, Mode::Dialog(Dialog::Rollback { .. })),
        "{:?}",
        app.state.mode
    );
    app.settle().await;
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert!(is_normal(&app));
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:UpdateService", 1)]));
    let sent = moto.the_request("ecs:UpdateService");
    assert_eq!(sent.at("taskDefinition").as_str(), Some(base.as_str()));
    assert_eq!(
        moto.raw_service("web").at("taskDefinition").as_str(),
        Some(base.as_str())
    );
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "rollback");
    assert_eq!(intent.parameters["taskDefinition"], base.as_str());
    assert_eq!(
        intent.parameters["before"]["taskDefinition"],
        deployed.as_str()
    );
    assert_eq!(result.outcome, Some(Outcome::Success));

    assert_eq!(app.state.activity.len(), 4);
    assert_only_intents_results_and_finals(&app, &audit, 4);
}

/// Snapshot, failover reboot and mute, by keys, each sent once, read back
/// from moto and audited.
#[tokio::test]
async fn database_and_alarm_operations_by_keys_are_sent_once_read_back_and_audited() {
    let moto = MotoAccount::seeded("dbops", &[]);
    let env = moto.env("staging");
    let Console { mut app, audit, .. } = moto.console(env).await;

    // A manual snapshot of the primary.
    moto.reset_counts();
    select(&mut app, '4', "dbops-db").await;
    press(&mut app, KeyCode::Char('n'));
    let Some(Operation::Snapshot { snapshot_id, .. }) = confirming(&app).cloned() else {
        panic!("expected a snapshot confirmation: {:?}", app.state.mode);
    };
    assert!(snapshot_id.starts_with("dbops-db-honban-"), "{snapshot_id}");
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(moto.mutating_counts(), ops(&[("rds:CreateDBSnapshot", 1)]));
    let sent = moto.the_request("rds:CreateDBSnapshot");
    assert_eq!(sent.at("DBInstanceIdentifier").as_str(), Some("dbops-db"));
    assert_eq!(
        sent.at("DBSnapshotIdentifier").as_str(),
        Some(snapshot_id.as_str())
    );
    let raw = moto.aws(
        "rds",
        "describe_db_snapshots",
        &format!(r#"{{"DBSnapshotIdentifier": "{snapshot_id}"}}"#),
    );
    let snap = &raw.at("DBSnapshots").as_array().expect("snapshots")[0];
    assert_eq!(snap.at("DBInstanceIdentifier").as_str(), Some("dbops-db"));
    assert_eq!(snap.at("SnapshotType").as_str(), Some("manual"));
    assert!(
        app.state.envs[0]
            .snapshots
            .data
            .as_ref()
            .is_some_and(|v| v.iter().any(|s| s.id == snapshot_id)),
        "the console lists it"
    );
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "db-snapshot");
    assert_eq!(
        intent.parameters["DBSnapshotIdentifier"],
        snapshot_id.as_str()
    );
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["DBSnapshotIdentifier"], snapshot_id.as_str());

    // Reboot the Multi-AZ primary: with failover.
    moto.reset_counts();
    press(&mut app, KeyCode::Char('F'));
    assert_eq!(
        confirming(&app),
        Some(&Operation::Reboot {
            instance: "dbops-db".into(),
            failover: true,
        })
    );
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(moto.mutating_counts(), ops(&[("rds:RebootDBInstance", 1)]));
    let sent = moto.the_request("rds:RebootDBInstance");
    assert_eq!(sent.at("DBInstanceIdentifier").as_str(), Some("dbops-db"));
    assert_eq!(sent.at("ForceFailover").as_str(), Some("true"));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "db-reboot-failover");
    assert_eq!(intent.parameters["ForceFailover"], true);
    assert_eq!(result.outcome, Some(Outcome::Success));

    // Mute an alarm: its actions are disabled.
    let alarm = "dbops-web-cpu-high";
    moto.reset_counts();
    select(&mut app, '5', alarm).await;
    press(&mut app, KeyCode::Char('m'));
    assert_eq!(
        confirming(&app),
        Some(&Operation::AlarmActions {
            alarm: alarm.into(),
            enable: false,
        })
    );
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("cloudwatch:DisableAlarmActions", 1)])
    );
    let sent = moto.the_request("cloudwatch:DisableAlarmActions");
    assert_eq!(sent.at("AlarmNames"), &json!([alarm]));
    let raw = moto.aws(
        "cloudwatch",
        "describe_alarms",
        &format!(r#"{{"AlarmNames": ["{alarm}"]}}"#),
    );
    let muted = &raw.at("MetricAlarms").as_array().expect("alarms")[0];
    assert_eq!(muted.at("ActionsEnabled").as_bool(), Some(false));
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "alarm-mute");
    assert_eq!(intent.resource, alarm);
    assert_eq!(intent.parameters["actionsEnabled"], false);
    assert_eq!(result.outcome, Some(Outcome::Success));

    assert_only_intents_results_and_finals(&app, &audit, 3);
}

/// The server refuses: a scale fails with the typed error (throttled), and a
/// deploy whose UpdateService fails after its RegisterTaskDefinition says
/// what it left behind; each request sent once (not retried), each audited
/// as an error. (moto still updates a deleted service, so the failures are
/// injected at the proxy.)
#[tokio::test]
async fn refused_service_operations_fail_with_the_typed_error_and_are_audited() {
    let moto = MotoAccount::seeded("refuse", &["--minimal"]);
    let env = moto.env("refuse");
    let Console { mut app, audit, .. } = moto.console(env).await;
    select(&mut app, '2', "web").await;

    moto.reset_counts();
    moto.inject_fault("ecs:UpdateService", "throttle", 1);
    press(&mut app, KeyCode::Char('s'));
    clear_input(&mut app);
    type_text(&mut app, "4");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let a = last_activity(&app);
    let error = failed_with(a);
    assert!(error.starts_with("throttled:"), "{error}");
    assert!(flash_text(&app).contains(&error), "{}", flash_text(&app));
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:UpdateService", 1)]));
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "scale");
    assert_eq!(intent.resource, "web");
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert_eq!(result.error.as_deref(), Some(error.as_str()));
    assert_eq!(moto.raw_service("web").at("desiredCount").as_u64(), Some(2));

    moto.reset_counts();
    moto.inject_fault("ecs:UpdateService", "500", 1);
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "v2");
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        confirming(&app),
        Some(Operation::DeployImage { .. })
    ));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    // A server error may hide an applied change: it is read back.
    let a = last_activity(&app);
    let error = match &a.status {
        OpStatus::NotApplied { detail, .. } => detail.clone(),
        other => panic!("expected the deploy read back as not applied, got {other:?}"),
    };
    assert!(
        error.starts_with("unavailable: ecs:UpdateService:"),
        "{error}"
    );
    assert!(
        error.contains(
            "read back: not applied — refuse-web:2 was registered, but web still runs \
             refuse-web:1 (DescribeServices); a rollback can move it to refuse-web:2 once the cause is fixed"
        ),
        "{error:?}"
    );
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ecs:RegisterTaskDefinition", 1), ("ecs:UpdateService", 1)])
    );
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "deploy-image");
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert_eq!(result.error.as_deref(), Some(error.as_str()));
    assert!(
        moto.raw_service("web")
            .at("taskDefinition")
            .as_str()
            .is_some_and(|td| td.ends_with("refuse-web:1")),
        "the service was not changed"
    );
}
