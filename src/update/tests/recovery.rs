//! Disaster recovery in the reducer: the restore dialog (snapshot or point
//! in time, the new identifier checked before anything is sent), the
//! promotion of a replica, their confirmations, the read-only refusal, and
//! the watch that follows the new instance to `available` against the RTO.

use super::*;
use crate::action::OpOutcome;
use crate::config::keys::Command;
use crate::domain::{DbInstance, DbSettings, DbSnapshot};
use crate::ops::Operation;
use crate::state::{Dialog, RestorePick};
use crate::watch::{WatchStatus, WatchTarget};

const PRIMARY: &str = "works-logue-prod-db";
const REPLICA: &str = "works-logue-prod-db-replica";

fn db(id: &str, status: &str, source: Option<&str>) -> DbInstance {
    DbInstance {
        id: id.into(),
        arn: format!("arn:aws:rds:ap-northeast-1:123456789012:db:{id}"),
        engine: "postgres".into(),
        engine_version: "16.4".into(),
        class: "db.r6g.large".into(),
        status: status.into(),
        multi_az: source.is_none(),
        availability_zone: Some("ap-northeast-1a".into()),
        secondary_availability_zone: None,
        allocated_storage_gib: 100,
        storage_type: Some("gp3".into()),
        backup_retention_days: if source.is_none() { 7 } else { 0 },
        endpoint: (status == "available")
            .then(|| format!("{id}.c7qz1kx4ba9e.ap-northeast-1.rds.amazonaws.com")),
        port: (status == "available").then_some(5432),
        replica_source: source.map(str::to_string),
        replicas: Vec::new(),
        pending_modifications: Vec::new(),
        latest_restorable_time: source
            .is_none()
            .then(|| t0() - chrono::TimeDelta::minutes(4)),
        created_at: Some(t0() - chrono::TimeDelta::days(400)),
        settings: DbSettings {
            subnet_group: Some("works-logue-prod-db-subnets".into()),
            security_groups: vec!["sg-0a1b2c3d4e5f60718".into()],
            parameter_group: Some("works-logue-pg16".into()),
            option_group: Some("default:postgres-16".into()),
            deletion_protection: true,
            tags: vec![("Project".into(), "works-logue".into())],
        },
    }
}

fn snapshot(id: &str, kind: &str, hours_ago: i64) -> DbSnapshot {
    DbSnapshot {
        id: id.into(),
        arn: format!("arn:aws:rds:ap-northeast-1:123456789012:snapshot:{id}"),
        instance_id: PRIMARY.into(),
        snapshot_type: kind.into(),
        status: "available".into(),
        percent_progress: Some(100),
        allocated_storage_gib: 100,
        created_at: Some(t0() - chrono::TimeDelta::hours(hours_ago)),
    }
}

/// Production (protected, RTO 60 minutes) on the databases view, the
/// primary selected.
fn on_databases() -> State {
    let mut s = state_of(&["production"], t0());
    s.envs[0].rto_minutes = Some(60);
    s.envs[0].databases.data = Some(vec![
        db(PRIMARY, "available", None),
        db(REPLICA, "available", Some(PRIMARY)),
    ]);
    s.envs[0].databases.loaded_at = Some(s.now);
    s.envs[0].snapshots.data = Some(vec![
        snapshot("works-logue-snapshot-20261121-012944", "manual", 50),
        snapshot("rds:works-logue-prod-db-2026-11-22-18-02", "automated", 9),
        snapshot("rds:works-logue-prod-db-2026-11-21-18-05", "automated", 33),
    ]);
    s.envs[0].snapshots.loaded_at = Some(s.now);
    s.page_rows = 20;
    update(&mut s, Action::Command(Command::Databases));
    s
}

fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn restore_dialog(s: &State) -> (RestorePick, String, Option<String>) {
    match &s.mode {
        Mode::Dialog(Dialog::Restore {
            from,
            target,
            error,
            ..
        }) => (from.clone(), target.clone(), error.clone()),
        other => panic!("expected the restore dialog, got {other:?}"),
    }
}

fn clear(s: &mut State, n: usize) {
    for _ in 0..n {
        press(s, code(KeyCode::Backspace));
    }
}

fn databases_loaded(s: &mut State, minutes: i64, dbs: Vec<DbInstance>) -> Vec<Effect> {
    s.now = t0() + chrono::TimeDelta::minutes(minutes);
    let generation = s.envs[0].databases.generation;
    s.envs[0].databases.in_flight = true;
    let at = s.now;
    update(
        s,
        Action::Loaded {
            env: 0,
            resource: Resource::Databases,
            generation,
            at,
            result: Ok(Data::Databases(dbs)),
        },
    )
}

#[test]
fn a_restore_from_the_newest_snapshot_is_checked_confirmed_sent_once_and_timed() {
    let mut s = on_databases();
    press(&mut s, key('u'));
    let (from, target, error) = restore_dialog(&s);
    assert_eq!(
        from,
        RestorePick::Snapshot {
            id: Some("rds:works-logue-prod-db-2026-11-22-18-02".into())
        },
        "the newest available snapshot"
    );
    assert_eq!(target, "works-logue-prod-db-restored-20261123-030000");
    assert_eq!(error, None);
    // ↓ chooses the next older one, ↑ back.
    press(&mut s, code(KeyCode::Down));
    assert_eq!(
        restore_dialog(&s).0,
        RestorePick::Snapshot {
            id: Some("rds:works-logue-prod-db-2026-11-21-18-05".into())
        }
    );
    press(&mut s, code(KeyCode::Up));
    // A bad identifier, then an existing one: said, nothing sent.
    clear(&mut s, target.len());
    typed(&mut s, "1-bad--id");
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    let (_, _, error) = restore_dialog(&s);
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("not a valid DB instance identifier")),
        "{error:?}"
    );
    clear(&mut s, "1-bad--id".len());
    typed(&mut s, REPLICA);
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    let (_, _, error) = restore_dialog(&s);
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("already exists")),
        "{error:?}"
    );
    clear(&mut s, REPLICA.len());
    typed(&mut s, "works-logue-restored");
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    let op = match &s.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => op.clone(),
        other => panic!("expected the confirmation, got {other:?}"),
    };
    match &op {
        Operation::RestoreSnapshot {
            source,
            snapshot,
            target,
            settings,
            ..
        } => {
            assert_eq!(source, PRIMARY);
            assert_eq!(snapshot, "rds:works-logue-prod-db-2026-11-22-18-02");
            assert_eq!(target, "works-logue-restored");
            assert_eq!(settings.class, "db.r6g.large");
            assert!(settings.multi_az && settings.deletion_protection);
            assert_eq!(
                settings.parameter_group.as_deref(),
                Some("works-logue-pg16")
            );
            assert_eq!(
                settings.option_group, None,
                "the engine's default is not named"
            );
        }
        other => panic!("{other:?}"),
    }
    // Protected: production/<the instance restored> typed, nothing else.
    typed(&mut s, "production/works-logue-restored");
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    assert!(dialog_error(&s).contains("is not production/works-logue-prod-db"));
    clear(&mut s, "production/works-logue-restored".len());
    typed(&mut s, "production/works-logue-prod-db");
    let effects = press(&mut s, code(KeyCode::Enter));
    assert_eq!(operations(&effects).len(), 1, "{effects:?}");
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        operations(&press(&mut s, code(KeyCode::Enter))).is_empty(),
        "sent once"
    );

    // Accepted: followed on the databases, timed from the confirmation.
    let id = s.activity[0].id.clone();
    s.now = t0() + chrono::TimeDelta::seconds(2);
    let at = s.now;
    let effects = update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Database(Box::new(db(
                "works-logue-restored",
                "creating",
                None,
            )))),
            read_back: None,
        },
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Fetch {
            resource: Resource::Databases,
            ..
        }
    )));
    let listed = |status: &str| {
        vec![
            db(PRIMARY, "available", None),
            db(REPLICA, "available", Some(PRIMARY)),
            db("works-logue-restored", status, None),
        ]
    };
    databases_loaded(&mut s, 5, listed("creating"));
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert_eq!(
        w.status,
        WatchStatus::InProgress {
            text: "creating · 5m 00s, within the 60-minute RTO".into(),
            progress: None,
            failed_tasks: 0,
        }
    );
    // Followed every 15 seconds (not every 3: it takes minutes to hours).
    let fetches = |effects: &[Effect]| {
        effects
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Effect::Fetch {
                        resource: Resource::Databases,
                        ..
                    }
                )
            })
            .count()
    };
    let at = |secs| t0() + chrono::TimeDelta::minutes(5) + chrono::TimeDelta::seconds(secs);
    assert_eq!(fetches(&update(&mut s, Action::Tick(at(5)))), 0);
    assert_eq!(fetches(&update(&mut s, Action::Tick(at(15)))), 1);
    s.envs[0].databases.in_flight = false;
    // An incident is open: the restore's end is recorded as its recovery.
    s.envs[0]
        .incident
        .marks
        .insert(crate::timeline::MarkKind::Detected, t0());
    let effects = databases_loaded(&mut s, 72, listed("available"));
    let recovery: Vec<&crate::timeline::Event> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record { events } => Some(events),
            _ => None,
        })
        .flatten()
        .filter(|e| e.kind == "recovery")
        .collect();
    assert_eq!(recovery.len(), 1, "{effects:?}");
    assert!(
        recovery[0].text.contains("OVER the 60-minute RTO"),
        "{}",
        recovery[0].text
    );
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert_eq!(
        w.status,
        WatchStatus::Completed(
            "works-logue-restored available at \
             works-logue-restored.c7qz1kx4ba9e.ap-northeast-1.rds.amazonaws.com:5432 · \
             1h 12m: 12m 00s OVER the 60-minute RTO"
                .into()
        )
    );
    // The end goes to the audit log, once.
    let audited: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::AuditOutcome { .. }))
        .collect();
    assert_eq!(audited.len(), 1, "{effects:?}");
}

#[test]
fn a_point_in_time_restore_wants_a_time_within_the_window() {
    let mut s = on_databases();
    press(&mut s, key('u'));
    press(&mut s, code(KeyCode::Tab));
    let (from, _, _) = restore_dialog(&s);
    assert_eq!(
        from,
        RestorePick::PointInTime {
            time: String::new(),
            on_time: true
        }
    );
    typed(&mut s, "2026-11-23 03:30");
    press(&mut s, code(KeyCode::Enter));
    let (_, _, error) = restore_dialog(&s);
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("after the latest restorable time 2026-11-23 02:56:00 UTC")),
        "{error:?}"
    );
    clear(&mut s, "2026-11-23 03:30".len());
    typed(&mut s, "2026-11-10 00:00");
    press(&mut s, code(KeyCode::Enter));
    let (_, _, error) = restore_dialog(&s);
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("before the restorable window")),
        "{error:?}"
    );
    clear(&mut s, "2026-11-10 00:00".len());
    typed(&mut s, "2026-11-23 01:15");
    press(&mut s, code(KeyCode::Enter));
    match &s.mode {
        Mode::Dialog(Dialog::Confirm {
            op: Operation::RestoreTime { time, target, .. },
            ..
        }) => {
            assert_eq!(
                time.map(|t| t.to_rfc3339()),
                Some("2026-11-23T01:15:00+00:00".into())
            );
            assert_eq!(target, "works-logue-prod-db-restored-20261123-030000");
        }
        other => panic!("expected the confirmation, got {other:?}"),
    }
    // Empty is the latest restorable time.
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, key('u'));
    press(&mut s, code(KeyCode::Tab));
    press(&mut s, code(KeyCode::Enter));
    assert!(matches!(
        &s.mode,
        Mode::Dialog(Dialog::Confirm {
            op: Operation::RestoreTime { time: None, .. },
            ..
        })
    ));
}

#[test]
fn promote_acts_on_a_replica_and_says_replication_stops_for_good() {
    let mut s = on_databases();
    // The primary: refused with the reason.
    assert!(press(&mut s, ctrl('p')).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("is not a read replica")),
        "{:?}",
        s.flash
    );
    press(&mut s, key('j'));
    press(&mut s, ctrl('p'));
    match &s.mode {
        Mode::Dialog(Dialog::Confirm {
            op: Operation::Promote { instance, source },
            ..
        }) => assert_eq!((instance.as_str(), source.as_str()), (REPLICA, PRIMARY)),
        other => panic!("expected the confirmation, got {other:?}"),
    }
    let screen = render(&s, 80, 24);
    assert!(
        screen.contains("replication from works-logue-prod-db stops for"),
        "{screen}"
    );
    typed(&mut s, "production/works-logue-prod-db-replica");
    let effects = press(&mut s, code(KeyCode::Enter));
    assert_eq!(operations(&effects).len(), 1);
    let id = s.activity[0].id.clone();
    let at = s.now;
    update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Database(Box::new(db(
                REPLICA,
                "modifying",
                Some(PRIMARY),
            )))),
            read_back: None,
        },
    );
    // Available while still a replica is not the end.
    databases_loaded(
        &mut s,
        1,
        vec![
            db(PRIMARY, "available", None),
            db(REPLICA, "available", Some(PRIMARY)),
        ],
    );
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert!(!w.status.is_final(), "{:?}", w.status);
    databases_loaded(
        &mut s,
        4,
        vec![
            db(PRIMARY, "available", None),
            db(REPLICA, "available", None),
        ],
    );
    let w = s.activity[0].watch.as_ref().expect("watched");
    assert!(
        matches!(&w.status, WatchStatus::Completed(t) if t.contains("standalone")
            && t.contains("4m 00s, within the 60-minute RTO")),
        "{:?}",
        w.status
    );
    assert!(matches!(
        w.target,
        WatchTarget::Recovery { promote: true, .. }
    ));
}

#[test]
fn recovery_keys_are_refused_in_a_read_only_environment() {
    let mut s = on_databases();
    s.envs[0].read_only = true;
    for k in [key('u'), ctrl('p')] {
        assert!(press(&mut s, k).is_empty());
        assert_eq!(s.mode, Mode::Normal);
        assert!(
            s.flash
                .as_ref()
                .is_some_and(|f| f.text.contains("read-only")),
            "{:?}",
            s.flash
        );
    }
}

#[test]
fn the_recovery_dialogs_at_80x24() {
    let mut s = on_databases();
    press(&mut s, key('u'));
    insta::assert_snapshot!("restore_dialog_80x24", render(&s, 80, 24));
    press(&mut s, code(KeyCode::Enter));
    // As the operator reads it, once it accepts keys.
    update(&mut s, Action::Drawn);
    insta::assert_snapshot!("restore_confirmation_80x24", render(&s, 80, 24));
    // Where there is room, the carried settings in words as well.
    insta::assert_snapshot!("restore_confirmation_100x40", render(&s, 100, 40));
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, key('u'));
    press(&mut s, code(KeyCode::Tab));
    typed(&mut s, "2026-11-23 01:15");
    insta::assert_snapshot!("restore_point_in_time_80x24", render(&s, 80, 24));
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, key('j'));
    press(&mut s, ctrl('p'));
    update(&mut s, Action::Drawn);
    insta::assert_snapshot!("promote_confirmation_80x24", render(&s, 80, 24));
}
