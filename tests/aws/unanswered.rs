//! Unanswered changes: sent once, read back, said applied or not applied;
//! an intent without a result read back at the next start.

use crate::prelude::*;

/// The console as `honban` builds it, with the SDK's retries on (as in
/// production: reads retry, mutations must not) and a short deadline for
/// mutations.
async fn console_with_retries(moto: &MotoAccount, env: EnvironmentConfig) -> Console {
    let mut c = moto
        .console_with(
            env,
            |_, opts| {
                opts.aws.max_attempts = 3;
            },
            None,
        )
        .await;
    c.app.set_mutation_timeout(Duration::from_secs(2));
    c.app.set_read_back_pauses(vec![Duration::from_secs(1)]);
    c
}

/// The answers of UpdateService, RegisterTaskDefinition and CreateDBSnapshot
/// come too late (each was applied at once): exactly one request of each
/// reaches the server, and the console reads the change back and says it
/// was applied — on screen, in the activity and in the audit log — and
/// follows it as usual. A server error on UpdateService (not retried) reads
/// back as not applied.
#[tokio::test]
async fn unanswered_changes_are_sent_once_and_read_back() {
    let moto = MotoAccount::seeded("unans", &[]);
    let env = moto.env("staging");
    let Console { mut app, audit, .. } = console_with_retries(&moto, env).await;
    select(&mut app, '2', "web").await;
    let desired = app.state.service("web").expect("web").desired_count;

    // Scale: UpdateService applied, its answer 4 s late (the deadline is 2 s).
    moto.reset_counts();
    moto.inject_slow("ecs:UpdateService", 4.0, 1);
    press(&mut app, KeyCode::Char('s'));
    clear_input(&mut app);
    type_text(&mut app, &(desired + 1).to_string());
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ecs:UpdateService", 1)]),
        "sent once, never retried"
    );
    assert_eq!(
        moto.raw_service("web").at("desiredCount").as_u64(),
        Some(u64::from(desired + 1))
    );
    let a = last_activity(&app);
    let detail = accepted_detail(a);
    assert!(detail.contains("applied (read back)"), "{detail}");
    assert!(detail.contains("no answer within 2s"), "{detail}");
    let flash = flash_text(&app);
    assert!(flash.contains("applied"), "{flash}");
    assert!(
        !flash.contains("FAILED") && !flash.contains("failed"),
        "{flash}"
    );
    assert!(a.watch.is_some(), "the change is followed");
    let (result, rb) = read_back_of(&audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(rb.verdict, honban::reconcile::Verdict::Applied);
    assert!(
        rb.evidence
            .contains(&format!("desired count reads {}", desired + 1)),
        "{rb:?}"
    );
    assert_eq!(result.result["desiredCount"], desired + 1);

    // Deploy: RegisterTaskDefinition applied, its answer late. The revision
    // it registered is found; UpdateService goes to it, once.
    let base = app
        .state
        .service("web")
        .expect("web")
        .task_definition
        .clone();
    moto.reset_counts();
    moto.inject_slow("ecs:RegisterTaskDefinition", 4.0, 1);
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "v7.7.7");
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        confirming(&app),
        Some(Operation::DeployImage { .. })
    ));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ecs:RegisterTaskDefinition", 1), ("ecs:UpdateService", 1)]),
        "one registration, one update"
    );
    let deployed = moto
        .raw_service("web")
        .at("taskDefinition")
        .as_str()
        .expect("task definition")
        .to_string();
    assert_ne!(deployed, base);
    assert_eq!(
        moto.the_request("ecs:UpdateService")
            .at("taskDefinition")
            .as_str(),
        Some(deployed.as_str())
    );
    let a = last_activity(&app);
    let detail = accepted_detail(a);
    assert!(detail.contains("applied (read back)"), "{detail}");
    let (result, rb) = read_back_of(&audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(rb.verdict, honban::reconcile::Verdict::Applied);
    assert!(rb.unanswered.contains("RegisterTaskDefinition"), "{rb:?}");
    assert_eq!(result.result["registered"], deployed.as_str());

    // Scale with a server error (HTML 500): not retried, read back: not
    // applied; said so, not "FAILED".
    let desired = app.state.service("web").expect("web").desired_count;
    moto.reset_counts();
    moto.inject_fault("ecs:UpdateService", "500", 1);
    press(&mut app, KeyCode::Char('s'));
    clear_input(&mut app);
    type_text(&mut app, &(desired + 2).to_string());
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ecs:UpdateService", 1)]),
        "a 500 is not retried: the change may have been applied"
    );
    let a = last_activity(&app);
    match &a.status {
        OpStatus::NotApplied { detail, .. } => {
            assert!(detail.contains("read back: not applied"), "{detail}");
        }
        other => panic!("expected not applied, got {other:?}"),
    }
    let flash = flash_text(&app);
    assert!(flash.contains("not applied"), "{flash}");
    let (result, rb) = read_back_of(&audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert_eq!(rb.verdict, honban::reconcile::Verdict::NotApplied);
    let screen = {
        app.dispatch(Action::Command(honban::config::keys::Command::Activity));
        screen(&app, 120, 30)
    };
    assert!(screen.contains("not applied"), "{screen}");

    // Snapshot: CreateDBSnapshot applied, its answer late.
    moto.reset_counts();
    moto.inject_slow("rds:CreateDBSnapshot", 4.0, 1);
    select(&mut app, '4', "unans-db").await;
    press(&mut app, KeyCode::Char('n'));
    let Some(Operation::Snapshot { snapshot_id, .. }) = confirming(&app).cloned() else {
        panic!("expected a snapshot confirmation: {:?}", app.state.mode);
    };
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(moto.mutating_counts(), ops(&[("rds:CreateDBSnapshot", 1)]));
    let a = last_activity(&app);
    let detail = accepted_detail(a);
    assert!(detail.contains("applied (read back)"), "{detail}");
    let (result, rb) = read_back_of(&audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(rb.verdict, honban::reconcile::Verdict::Applied);
    assert!(rb.evidence.contains(&snapshot_id), "{rb:?}");
}

/// An intent written just before a kill -9 (no result): at the next start
/// the resource is read back — the scale that reached AWS reads *applied*,
/// the snapshot that was never sent *not applied* — and a result record
/// says so.
#[tokio::test]
async fn an_intent_without_a_result_is_read_back_at_the_next_start() {
    let moto = MotoAccount::seeded("kill9", &[]);
    let env = moto.env("staging");
    let Console { mut app, audit, .. } = moto.console(env).await;
    let web = app.state.service("web").expect("web").clone();
    let identity = app.state.envs[0].identity.data.clone().expect("identity");
    let intent = |id: &str, op: &Operation| Record {
        time: chrono::Utc::now() - chrono::TimeDelta::minutes(3),
        phase: Phase::Intent,
        id: id.to_string(),
        environment: "staging".into(),
        simulated: false,
        account: Some(identity.account.clone()),
        region: Some(REGION.into()),
        caller: Some(identity.arn.clone()),
        operation: op.name().to_string(),
        resource: op.resource().to_string(),
        calls: op.calls(),
        parameters: op.parameters(),
        before: Some(op.before_after().0),
        after: Some(op.before_after().1),
        dry_run: false,
        outcome: None,
        result: serde_json::Value::Null,
        error: None,
        ended: None,
        detail: None,
        read_back: None,
    };
    let scale = Operation::Scale {
        cluster: "kill9".into(),
        service: "web".into(),
        from: web.desired_count,
        to: web.desired_count + 1,
        scaling: None,
    };
    let snapshot = Operation::Snapshot {
        instance: "kill9-db".into(),
        snapshot_id: "kill9-db-honban-20261124-030405".into(),
    };
    let log = AuditLog::new(&audit);
    log.append(&intent("earlier-1", &scale)).expect("append");
    log.append(&intent("earlier-2", &snapshot)).expect("append");
    // The scale reached AWS before the kill; the snapshot never left.
    moto.aws(
        "ecs",
        "update_service",
        &format!(
            r#"{{"cluster": "kill9", "service": "web", "desiredCount": {}}}"#,
            web.desired_count + 1
        ),
    );

    // The next start: the history shows the intents; they are read back.
    let (records, _) = log.read_recent(100).expect("read");
    honban::setup::set_history(&mut app.state, records);
    moto.reset_counts();
    app.dispatch(Action::Start);
    assert_eq!(app.state.history_checking.len(), 2);
    app.settle().await;
    assert!(app.state.history_checking.is_empty());
    assert_eq!(moto.mutating_counts(), ops(&[]), "reads only");
    let verdict = |id: &str| {
        let r = app
            .state
            .history
            .iter()
            .find(|r| r.id == id)
            .expect("in the history");
        assert_eq!(r.phase, Phase::Result, "{r:?}");
        r.read_back.clone().expect("read back").verdict
    };
    assert_eq!(verdict("earlier-1"), honban::reconcile::Verdict::Applied);
    assert_eq!(verdict("earlier-2"), honban::reconcile::Verdict::NotApplied);
    let (r1, _) = read_back_of(&audit, "earlier-1");
    assert_eq!(r1.outcome, Some(Outcome::Success));
    let (r2, rb2) = read_back_of(&audit, "earlier-2");
    assert_eq!(r2.outcome, Some(Outcome::Error));
    assert!(rb2.evidence.contains("there is no snapshot"), "{rb2:?}");
    app.dispatch(Action::Command(honban::config::keys::Command::Activity));
    let screen = screen(&app, 120, 30);
    assert!(screen.contains("applied"), "{screen}");
    assert!(screen.contains("not applied"), "{screen}");
    assert!(
        !screen
            .lines()
            .any(|l| l.trim_end_matches('│').trim_end().ends_with("no result")),
        "no status says \"no result\" any more: {screen}"
    );
    // Read back once: the next start has nothing left to check.
    let (records, _) = log.read_recent(100).expect("read");
    honban::setup::set_history(&mut app.state, records);
    app.dispatch(Action::Start);
    assert!(app.state.history_checking.is_empty());
}
