//! Disaster recovery against moto, through the proxy (tests/moto/proxy.py):
//! a restore from a snapshot and to a point in time, each sent once with
//! every setting carried from its source and read back; a read replica
//! promoted (read back without its source); the whole path from the
//! databases view by keys, followed to `available` and found in the audit
//! log. Each test has its own moto account.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use honban::action::{Action, Resource};
use honban::app::App;
use honban::audit::{AuditLog, Outcome, Phase, Record};
use honban::backend::aws::{AwsBackend, ConnectOptions};
use honban::backend::prelude::*;
use honban::backend::{Backend, BackendError, DbRestore, RestoreFrom};
use honban::clock::Clock;
use honban::config::{Config, EnvironmentConfig};
use honban::domain::{DbInstance, RestoreSettings};
use honban::ops::Operation;
use honban::setup::Options;
use honban::state::{Dialog, Mode};
use honban::watch::WatchStatus;
use support::moto::{ACCOUNT_HEADER, Json, Moto, fresh_account};

const REGION: &str = "ap-northeast-1";

fn env_config(name: &str, endpoint: &str) -> EnvironmentConfig {
    EnvironmentConfig {
        name: name.to_string(),
        region: Some(REGION.to_string()),
        endpoint_url: Some(endpoint.to_string()),
        ..Default::default()
    }
}

fn options(account: &str) -> ConnectOptions {
    ConnectOptions {
        max_attempts: 1,
        operation_timeout: Duration::from_secs(5),
        static_credentials: Some(("testing".into(), "testing".into())),
        extra_headers: vec![(ACCOUNT_HEADER.to_string(), account.to_string())],
        ..ConnectOptions::default()
    }
}

async fn backend(moto: &Moto, account: &str) -> AwsBackend {
    AwsBackend::connect(&env_config("test", &moto.endpoint), options(account)).await
}

/// The mutating requests the proxy counted for `account`.
fn mutating_counts(moto: &Moto, account: &str) -> BTreeMap<String, u64> {
    moto.counts(account)
        .into_iter()
        .filter(|(op, _)| {
            op.split(':')
                .nth(1)
                .is_some_and(|o| !["Describe", "List", "Get"].iter().any(|r| o.starts_with(r)))
        })
        .collect()
}

fn ops(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs
        .iter()
        .map(|(op, n)| ((*op).to_string(), *n))
        .collect()
}

/// The one `operation` request `account` sent since the counts were reset.
fn the_request(moto: &Moto, account: &str, operation: &str) -> Json {
    let mut sent = moto.requests(account, operation);
    assert_eq!(sent.len(), 1, "{operation} requests: {sent:?}");
    sent.remove(0)
}

fn text<'a>(sent: &'a Json, key: &str) -> Option<&'a str> {
    sent.get(key).and_then(Json::as_str)
}

/// A primary as a production team sets it up: its own subnet group,
/// security group and parameter group, Multi-AZ, gp3, deletion protection,
/// two tags, seven days of backups; and a manual snapshot of it.
fn production_primary(moto: &Moto, account: &str, id: &str) -> String {
    let subnets = moto.aws(account, "ec2", "describe_subnets", "{}");
    let subnets: Vec<String> = subnets["Subnets"]
        .as_array()
        .expect("subnets")
        .iter()
        .take(2)
        .map(|s| s["SubnetId"].as_str().expect("id").to_string())
        .collect();
    let groups = moto.aws(account, "ec2", "describe_security_groups", "{}");
    let sg = groups["SecurityGroups"].as_array().expect("groups")[0]["GroupId"]
        .as_str()
        .expect("group id")
        .to_string();
    moto.aws(
        account,
        "rds",
        "create_db_subnet_group",
        &format!(
            r#"{{"DBSubnetGroupName": "{id}-subnets", "DBSubnetGroupDescription": "db",
                "SubnetIds": ["{}", "{}"]}}"#,
            subnets[0], subnets[1]
        ),
    );
    moto.aws(
        account,
        "rds",
        "create_db_parameter_group",
        &format!(
            r#"{{"DBParameterGroupName": "{id}-pg16", "DBParameterGroupFamily": "postgres16",
                "Description": "db"}}"#
        ),
    );
    moto.aws(
        account,
        "rds",
        "create_db_instance",
        &format!(
            r#"{{"DBInstanceIdentifier": "{id}", "DBInstanceClass": "db.r6g.large",
                "Engine": "postgres", "EngineVersion": "16.4", "MasterUsername": "app",
                "MasterUserPassword": "not-a-real-password", "AllocatedStorage": 100,
                "StorageType": "gp3", "MultiAZ": true, "BackupRetentionPeriod": 7,
                "DeletionProtection": true, "DBSubnetGroupName": "{id}-subnets",
                "VpcSecurityGroupIds": ["{sg}"], "DBParameterGroupName": "{id}-pg16",
                "Tags": [{{"Key": "Project", "Value": "works-logue"}},
                         {{"Key": "Environment", "Value": "production"}}]}}"#
        ),
    );
    moto.aws(
        account,
        "rds",
        "create_db_snapshot",
        &format!(r#"{{"DBSnapshotIdentifier": "{id}-nightly", "DBInstanceIdentifier": "{id}"}}"#),
    );
    sg
}

async fn instance(b: &AwsBackend, id: &str) -> DbInstance {
    b.db_instances(&[id.to_string()])
        .await
        .expect("databases")
        .into_iter()
        .find(|d| d.id == id)
        .unwrap_or_else(|| panic!("{id} is not listed"))
}

/// What a restore must carry, as read back from the new instance.
fn assert_carried(restored: &DbInstance, source: &DbInstance) {
    assert_eq!(restored.class, source.class);
    assert_eq!(restored.multi_az, source.multi_az);
    assert_eq!(restored.storage_type, source.storage_type);
    let (r, s) = (&restored.settings, &source.settings);
    assert_eq!(r.subnet_group, s.subnet_group);
    assert_eq!(r.security_groups, s.security_groups);
    assert_eq!(r.parameter_group, s.parameter_group);
    assert_eq!(r.deletion_protection, s.deletion_protection);
    let mut tags = r.tags.clone();
    tags.sort();
    let mut want = s.tags.clone();
    want.sort();
    assert_eq!(tags, want);
}

#[tokio::test]
async fn a_restore_from_a_snapshot_is_sent_once_with_every_carried_setting() {
    let moto = Moto::shared();
    let account = fresh_account();
    let sg = production_primary(moto, &account, "dr");
    let b = backend(moto, &account).await;
    let source = instance(&b, "dr").await;
    // What DescribeDBInstances says of it is what a restore copies.
    assert_eq!(source.settings.subnet_group.as_deref(), Some("dr-subnets"));
    assert_eq!(source.settings.security_groups, vec![sg.clone()]);
    assert_eq!(source.settings.parameter_group.as_deref(), Some("dr-pg16"));
    assert!(source.settings.deletion_protection);
    assert_eq!(source.settings.tags.len(), 2);
    let settings = RestoreSettings::of(&source);
    assert_eq!(
        settings.option_group, None,
        "the engine's default is not named"
    );

    moto.reset_counts(&account);
    let restore = DbRestore {
        target: "dr-restored".into(),
        from: RestoreFrom::Snapshot("dr-nightly".into()),
        settings: settings.clone(),
    };
    let created = b.restore_db_instance(&restore).await.expect("restore");
    assert_eq!(created.id, "dr-restored");
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:RestoreDBInstanceFromDBSnapshot", 1)])
    );
    let sent = the_request(moto, &account, "rds:RestoreDBInstanceFromDBSnapshot");
    for (key, value) in [
        ("DBInstanceIdentifier", "dr-restored"),
        ("DBSnapshotIdentifier", "dr-nightly"),
        ("DBInstanceClass", "db.r6g.large"),
        ("MultiAZ", "true"),
        ("StorageType", "gp3"),
        ("DBSubnetGroupName", "dr-subnets"),
        ("VpcSecurityGroupIds.VpcSecurityGroupId.1", sg.as_str()),
        ("DBParameterGroupName", "dr-pg16"),
        ("DeletionProtection", "true"),
    ] {
        assert_eq!(text(&sent, key), Some(value), "{key} in {sent:?}");
    }
    assert!(sent.get("OptionGroupName").is_none(), "{sent:?}");
    assert!(text(&sent, "Tags.Tag.1.Key").is_some(), "{sent:?}");

    // Read back: the new instance, with its source's settings.
    let restored = instance(&b, "dr-restored").await;
    assert_eq!(restored.status, "available", "moto restores at once");
    assert!(restored.endpoint.is_some());
    assert_eq!(restored.replica_source, None);
    assert_carried(&restored, &source);

    // The same identifier again, a snapshot that is not there: typed
    // errors, and nothing more was created.
    match b.restore_db_instance(&restore).await {
        Err(BackendError::Invalid { message }) => {
            assert!(message.contains("AlreadyExists"), "{message}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    let missing = DbRestore {
        target: "dr-other".into(),
        from: RestoreFrom::Snapshot("no-such-snapshot".into()),
        settings,
    };
    match b.restore_db_instance(&missing).await {
        Err(BackendError::NotFound { .. }) => {}
        other => panic!("expected not found, got {other:?}"),
    }
    assert_eq!(b.db_instances(&[]).await.expect("databases").len(), 2);
}

#[tokio::test]
async fn a_point_in_time_restore_sends_the_time_or_the_latest() {
    let moto = Moto::shared();
    let account = fresh_account();
    production_primary(moto, &account, "pitr");
    let b = backend(moto, &account).await;
    let source = instance(&b, "pitr").await;
    assert!(source.latest_restorable_time.is_some());

    moto.reset_counts(&account);
    let latest = DbRestore {
        target: "pitr-latest".into(),
        from: RestoreFrom::PointInTime {
            source: "pitr".into(),
            time: None,
        },
        settings: RestoreSettings::of(&source),
    };
    b.restore_db_instance(&latest).await.expect("restore");
    let sent = the_request(moto, &account, "rds:RestoreDBInstanceToPointInTime");
    assert_eq!(text(&sent, "SourceDBInstanceIdentifier"), Some("pitr"));
    assert_eq!(
        text(&sent, "TargetDBInstanceIdentifier"),
        Some("pitr-latest")
    );
    assert_eq!(text(&sent, "UseLatestRestorableTime"), Some("true"));
    assert!(sent.get("RestoreTime").is_none(), "{sent:?}");
    assert_eq!(text(&sent, "DBSubnetGroupName"), Some("pitr-subnets"));
    let restored = instance(&b, "pitr-latest").await;
    assert_eq!(restored.class, source.class);
    assert_eq!(restored.replica_source, None);

    moto.reset_counts(&account);
    let time: honban::domain::Timestamp = "2026-11-23T01:15:00Z".parse().expect("time");
    let at = DbRestore {
        target: "pitr-at".into(),
        from: RestoreFrom::PointInTime {
            source: "pitr".into(),
            time: Some(time),
        },
        settings: RestoreSettings::of(&source),
    };
    b.restore_db_instance(&at).await.expect("restore");
    let sent = the_request(moto, &account, "rds:RestoreDBInstanceToPointInTime");
    assert_eq!(text(&sent, "RestoreTime"), Some("2026-11-23T01:15:00Z"));
    assert!(sent.get("UseLatestRestorableTime").is_none(), "{sent:?}");
    instance(&b, "pitr-at").await;
}

#[tokio::test]
async fn a_promoted_replica_reads_back_without_its_source() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "promo"]);
    let b = backend(moto, &account).await;
    let replica = instance(&b, "promo-db-replica").await;
    assert_eq!(replica.replica_source.as_deref(), Some("promo-db"));

    moto.reset_counts(&account);
    let answered = b
        .promote_read_replica("promo-db-replica")
        .await
        .expect("promote");
    assert_eq!(answered.id, "promo-db-replica");
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:PromoteReadReplica", 1)])
    );
    let sent = the_request(moto, &account, "rds:PromoteReadReplica");
    assert_eq!(
        text(&sent, "DBInstanceIdentifier"),
        Some("promo-db-replica")
    );
    let promoted = instance(&b, "promo-db-replica").await;
    assert_eq!(promoted.replica_source, None, "no source any more");
    assert!(instance(&b, "promo-db").await.replicas.is_empty());

    // (moto answers a missing instance with a 500, AWS with
    // DBInstanceNotFound: an error either way, nothing promoted.)
    assert!(b.promote_read_replica("promo-nope").await.is_err());
}

/// Read-only below the UI: the guard every read-only environment's backend
/// is wrapped in refuses the three calls, and nothing reaches the server.
#[tokio::test]
async fn read_only_sends_no_restore_and_no_promotion() {
    let moto = Moto::shared();
    let account = fresh_account();
    moto.seed(&account, &["--name", "ro"]);
    let inner = Arc::new(backend(moto, &account).await);
    let source = instance(inner.as_ref(), "ro-db").await;
    let guarded = honban::backend::guard::ReadOnly::new(inner, "production");
    moto.reset_counts(&account);
    let restore = |from| DbRestore {
        target: "ro-db-restored".into(),
        from,
        settings: RestoreSettings::of(&source),
    };
    let refused = [
        guarded
            .rds_changes()
            .expect("capability")
            .restore_db_instance(&restore(RestoreFrom::Snapshot(
                "ro-db-before-pg16-upgrade".into(),
            )))
            .await
            .err(),
        guarded
            .rds_changes()
            .expect("capability")
            .restore_db_instance(&restore(RestoreFrom::PointInTime {
                source: "ro-db".into(),
                time: None,
            }))
            .await
            .err(),
        guarded
            .rds_changes()
            .expect("capability")
            .promote_read_replica("ro-db-replica")
            .await
            .err(),
    ];
    let names: Vec<String> = refused
        .iter()
        .map(|e| match e {
            Some(BackendError::ReadOnly { operation }) => operation.clone(),
            other => panic!("expected read-only, got {other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        vec![
            "rds:RestoreDBInstanceFromDBSnapshot",
            "rds:RestoreDBInstanceToPointInTime",
            "rds:PromoteReadReplica"
        ]
    );
    assert_eq!(mutating_counts(moto, &account), BTreeMap::new());
}

/// A key pressed by an operator who reads the screen first.
fn press(app: &mut App, code: KeyCode) {
    app.dispatch(Action::Drawn);
    app.dispatch(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn records_of(path: &std::path::Path, id: &str) -> Vec<Record> {
    let (records, skipped) = AuditLog::new(path)
        .read_recent(1000)
        .expect("read audit log");
    assert_eq!(skipped, 0);
    records.into_iter().filter(|r| r.id == id).collect()
}

/// The issue's "done when", against moto: from the databases view, restore
/// production's primary from its latest snapshot to a new instance, watch
/// it become available with its endpoint and the time taken against the
/// RTO, and find the whole story in the audit log. `rds_instances` names
/// the two instances of the environment: the new one is read all the same.
#[tokio::test]
async fn production_is_restored_from_the_console_and_the_story_is_audited() {
    let moto = Moto::shared();
    let account = fresh_account();
    production_primary(moto, &account, "prod-db");
    let mut env = env_config("production", &moto.endpoint);
    env.protected = true;
    env.rto_minutes = Some(60);
    env.rds_instances = vec!["prod-db".into()];
    let mut config: Config = toml::from_str("").expect("empty config");
    config.environments.push(env);
    let opts = Options {
        aws: options(&account),
        ..Options::default()
    };
    let clock = Clock::Wall;
    let (state, runtimes) = honban::setup::build(&config, &opts, clock.clone(), "test.toml")
        .await
        .expect("setup");
    let dir = tempfile::tempdir().expect("tempdir");
    let audit: PathBuf = dir.path().join("audit.jsonl");
    let mut app =
        App::new(state, runtimes, clock).with_audit(Arc::new(AuditLog::new(audit.clone())));
    for resource in [Resource::Identity, Resource::Databases, Resource::Snapshots] {
        app.dispatch(Action::PollDue { env: 0, resource });
    }
    app.settle().await;
    press(&mut app, KeyCode::Char('4'));
    app.settle().await;

    moto.reset_counts(&account);
    press(&mut app, KeyCode::Char('u'));
    let target = match &app.state.mode {
        Mode::Dialog(Dialog::Restore { target, .. }) => target.clone(),
        other => panic!("expected the restore dialog, got {other:?}"),
    };
    assert!(target.starts_with("prod-db-restored-"), "{target}");
    // A bad identifier, then a time outside the restorable window: said in
    // the dialog, nothing sent.
    let ctrl_u = |app: &mut App| {
        app.dispatch(Action::Drawn);
        app.dispatch(Action::Key(KeyEvent::new(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
        )));
    };
    let dialog_error = |app: &App| match &app.state.mode {
        Mode::Dialog(Dialog::Restore { error, .. }) => error.clone().unwrap_or_default(),
        other => panic!("expected the restore dialog, got {other:?}"),
    };
    ctrl_u(&mut app);
    type_text(&mut app, "1-bad--id");
    press(&mut app, KeyCode::Enter);
    assert!(
        dialog_error(&app).contains("not a valid DB instance identifier"),
        "{}",
        dialog_error(&app)
    );
    ctrl_u(&mut app);
    type_text(&mut app, &target);
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "2020-01-01 00:00");
    press(&mut app, KeyCode::Enter);
    assert!(
        dialog_error(&app).contains("before the restorable window"),
        "{}",
        dialog_error(&app)
    );
    press(&mut app, KeyCode::Tab);
    app.settle().await;
    assert_eq!(mutating_counts(moto, &account), BTreeMap::new());
    press(&mut app, KeyCode::Enter);
    match &app.state.mode {
        Mode::Dialog(Dialog::Confirm {
            op: Operation::RestoreSnapshot { snapshot, .. },
            ..
        }) => assert_eq!(snapshot, "prod-db-nightly"),
        other => panic!("expected the confirmation, got {other:?}"),
    }
    type_text(&mut app, "production/prod-db");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    // The watch asks for the databases at once; moto restores at once.
    app.settle().await;
    assert_eq!(
        mutating_counts(moto, &account),
        ops(&[("rds:RestoreDBInstanceFromDBSnapshot", 1)])
    );
    let a = app.state.activity.last().expect("the restore");
    let w = a.watch.as_ref().expect("followed");
    let WatchStatus::Completed(text) = &w.status else {
        panic!("expected the restore to end, it is {:?}", w.status);
    };
    assert!(
        text.contains(&format!("{target} available at {target}."))
            && text.contains(":5432 · ")
            && text.contains("within the 60-minute RTO"),
        "{text}"
    );
    assert!(
        app.state.envs[0]
            .databases
            .data
            .iter()
            .flatten()
            .any(|d| d.id == target),
        "the new instance is listed beside the configured one"
    );
    let records = records_of(&audit, &a.id);
    let phases: Vec<Phase> = records.iter().map(|r| r.phase).collect();
    assert_eq!(phases, vec![Phase::Intent, Phase::Result, Phase::Final]);
    assert_eq!(records[0].operation, "db-restore-snapshot");
    assert_eq!(records[0].resource, target);
    assert!(
        records[0].calls[0].starts_with("rds:RestoreDBInstanceFromDBSnapshot"),
        "{:?}",
        records[0].calls
    );
    assert_eq!(
        records[0].parameters["settings"]["subnet_group"],
        "prod-db-subnets"
    );
    assert_eq!(records[1].outcome, Some(Outcome::Success));
    assert!(
        records[2]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("within the 60-minute RTO")),
        "{:?}",
        records[2]
    );
}
