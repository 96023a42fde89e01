//! The shared trail: the audit records and the timeline also go to a
//! CloudWatch Logs group, and read back as the local ones.

use crate::prelude::*;

/// The log events of a group's streams, oldest first, read raw from moto.
fn log_events(moto: &MotoAccount, group: &str) -> Vec<(String, String)> {
    let streams = moto.aws(
        "logs",
        "describe_log_streams",
        &format!(r#"{{"logGroupName":"{group}"}}"#),
    );
    let mut out = Vec::new();
    for s in streams.at("logStreams").as_array().expect("streams") {
        let name = s
            .at("logStreamName")
            .as_str()
            .expect("a stream name")
            .to_string();
        let events = moto.aws(
            "logs",
            "get_log_events",
            &format!(
                r#"{{"logGroupName":"{group}","logStreamName":"{name}","startFromHead":true}}"#
            ),
        );
        for e in events.at("events").as_array().expect("events") {
            out.push((
                name.clone(),
                e.at("message").as_str().expect("a message").to_string(),
            ));
        }
    }
    out
}

/// The timeline (derived events, the operation, a note, marks) goes to the
/// shared group too, and reading it back (`timeline export
/// --from-cloudwatch`) tells the same story as the local recording: the
/// same events and the same postmortem.
#[tokio::test]
async fn the_shared_timeline_reads_back_as_the_local_one() {
    let moto = MotoAccount::seeded("story", &[]);
    moto.aws(
        "logs",
        "create_log_group",
        r#"{"logGroupName":"/honban/audit"}"#,
    );
    let mut env = moto.env("production");
    env.audit_log_group = Some("/honban/audit".into());
    let since = chrono::Utc::now() - chrono::TimeDelta::minutes(5);
    let Console { mut app, .. } = moto.console(env.clone()).await;
    select(&mut app, '5', "story-web-cpu-high").await;
    press(&mut app, KeyCode::Char('m'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert!(accepted(last_activity(&app)));
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "note muted the CPU alarm while web scales");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    let local: Vec<honban::timeline::Event> = app.state.envs[0].timeline.iter().cloned().collect();
    assert!(local.iter().any(|e| e.kind == "note"), "{local:?}");
    assert!(local.iter().any(|e| e.kind == "operation"), "{local:?}");

    let backend = AwsBackend::connect(&env, moto.options()).await;
    // Shipping runs beside the operation and the note.
    let shared = eventually(
        "the shared timeline to hold as many events as the local one",
        Duration::from_secs(10),
        async || {
            honban::trail::fetch(&backend, "/honban/audit", "production", since, None)
                .await
                .expect("the shared timeline reads")
        },
        |shared| shared.len() >= local.len(),
    )
    .await;
    // Events of one instant may come back in any order (CloudWatch Logs
    // orders by time only): compare them in one order.
    let order = |events: &mut Vec<honban::timeline::Event>| {
        events.sort_by(|a, b| {
            (a.time, &a.kind, &a.resource, &a.text).cmp(&(b.time, &b.kind, &b.resource, &b.text))
        });
    };
    let mut shared = honban::trail::merge(shared);
    order(&mut shared);
    let mut local_sorted = local.clone();
    order(&mut local_sorted);
    assert_eq!(shared, local_sorted);

    // The same postmortem from either source.
    let args = honban::cli::ExportArgs {
        session: None,
        since: None,
        until: None,
        format: honban::cli::ExportFormat::Markdown,
        from_cloudwatch: false,
    };
    let now = chrono::Utc::now();
    let from_local = honban::recording::render_export(&local_sorted, None, &args, now, "local")
        .expect("local export");
    let from_shared = honban::recording::render_export(&shared, None, &args, now, "shared")
        .expect("shared export");
    assert_eq!(from_local, from_shared);
    assert!(from_shared.contains("muted the CPU alarm"), "{from_shared}");
}

/// With `audit_log_group` the audit records also go to CloudWatch Logs: the
/// team's shared trail. A group that does not exist is reported, and the
/// operation and the local log are unaffected.
#[tokio::test]
async fn audit_records_also_go_to_the_shared_log_group() {
    let moto = MotoAccount::seeded("trail", &[]);
    moto.aws(
        "logs",
        "create_log_group",
        r#"{"logGroupName":"/honban/audit"}"#,
    );
    let mut env = moto.env("production");
    env.audit_log_group = Some("/honban/audit".into());
    let Console { mut app, audit, .. } = moto.console(env).await;
    moto.reset_counts();
    select(&mut app, '5', "trail-web-cpu-high").await;
    press(&mut app, KeyCode::Char('m'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let a = last_activity(&app);
    assert!(accepted(a), "{:?}", a.status);
    let id = a.id.clone();

    // Shipping runs beside the operation: wait for both records. (The
    // shared timeline's events share the group: not audit records.)
    let events = eventually(
        "three audit records in the shared group",
        Duration::from_secs(10),
        async || {
            let mut events = log_events(&moto, "/honban/audit");
            events.retain(|(_, m)| !m.starts_with("{\"honban_timeline\""));
            events
        },
        |events| events.len() >= 3,
    )
    .await;
    // Intent, result, and (the mute reads back at once) how it ended.
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        events.iter().all(
            |(stream, _)| stream.starts_with("honban/") && stream.ends_with(&app.state.session)
        )
    );
    let shared: Vec<serde_json::Value> = events
        .iter()
        .map(|(_, m)| serde_json::from_str(m).expect("a JSON record"))
        .collect();
    assert_eq!(shared[0]["phase"], "intent");
    assert_eq!(shared[1]["phase"], "result");
    assert_eq!(shared[2]["phase"], "final");
    assert_eq!(shared[2]["ended"], "completed");
    assert!(shared.iter().all(|r| r["id"] == id.as_str()));
    assert_eq!(shared[1]["outcome"], "success");
    assert_eq!(shared[0]["operation"], "alarm-mute");
    // The same records as the local log.
    let local = audit_records(&audit);
    assert_eq!(local.len(), 3);
    assert_eq!(
        serde_json::to_value(&local[0]).expect("json"),
        shared[0].clone()
    );
    // The session's stream is created once (twice at most, when the
    // timeline's first put races the audit's; perhaps already by the first
    // load's timeline before counting started), never per record.
    let counts = moto.counts();
    let created = counts.get("logs:CreateLogStream").copied().unwrap_or(0);
    assert!(created <= 2, "{counts:?}");

    // A group that does not exist: the operator is told; the operation and
    // the local log are unaffected.
    let moto = MotoAccount::seeded("trail", &[]);
    let mut env = moto.env("production");
    env.audit_log_group = Some("/missing/group".into());
    let Console { mut app, audit, .. } = moto.console(env).await;
    select(&mut app, '5', "trail-web-cpu-high").await;
    press(&mut app, KeyCode::Char('m'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert!(accepted(last_activity(&app)));
    // Intent, result and final record, all in the local log.
    assert_eq!(audit_records(&audit).len(), 3);
    // The shipping fails beside the operation: the operator is told.
    let told = eventually(
        "the operator to be told of the missing group",
        Duration::from_secs(10),
        async || {
            app.drain();
            flash_text(&app)
        },
        |flash| flash.contains("/missing/group"),
    )
    .await;
    assert!(told.contains("local audit log has the record"), "{told}");
}
