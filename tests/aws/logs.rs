//! The logs view against CloudWatch Logs (FilterLogEvents).

use crate::prelude::*;

/// Puts `(timestamp ms, message)` events into a stream with boto3.
pub fn put_events(moto: &MotoAccount, group: &str, stream: &str, events: &[(i64, String)]) {
    let list: Vec<String> = events
        .iter()
        .map(|(t, m)| format!(r#"{{"timestamp":{t},"message":{}}}"#, serde_json::json!(m)))
        .collect();
    moto.aws(
        "logs",
        "put_log_events",
        &format!(
            r#"{{"logGroupName":"{group}","logStreamName":"{stream}","logEvents":[{}]}}"#,
            list.join(",")
        ),
    );
}

/// Lets the logs view poll again (its next poll is due two seconds after
/// the last answer) and waits for the answer.
pub async fn next_poll(app: &mut App) {
    app.dispatch(Action::Tick(
        app.state.now.max(chrono::Utc::now()) + chrono::TimeDelta::seconds(3),
    ));
    app.settle().await;
}

pub fn log_lines(app: &App) -> Vec<String> {
    let logs = app.state.logs.as_ref().expect("a logs view");
    assert!(logs.error.is_none(), "{:?}", logs.error);
    logs.lines.iter().map(|e| e.message.clone()).collect()
}

/// The logs view of a service, against moto: events put with PutLogEvents
/// appear exactly once each across polls (new events between them; each
/// poll starts just before the newest event seen); the filter pattern is
/// sent to CloudWatch Logs; a burst is read page by page with nextToken,
/// and the buffer keeps only the configured number of lines.
#[tokio::test]
pub async fn logs_follow_each_event_once_and_send_the_pattern() {
    let moto = MotoAccount::seeded("tail", &[]);
    let Console { mut app, .. } = moto
        .console_with(
            moto.env("production"),
            |c, _| c.logs_buffer_lines = 1000,
            None,
        )
        .await;
    // Where the web service logs, from its task definition (awslogs).
    let web = app.state.service("web").expect("web").clone();
    let td = app.state.envs[0]
        .task_definitions
        .get(&web.task_definition)
        .expect("the task definition is cached")
        .clone();
    let c = td
        .containers
        .iter()
        .find(|c| c.log_group.is_some())
        .expect("an awslogs container");
    let group = c.log_group.clone().expect("group");
    let prefix = c.log_stream_prefix.clone().expect("prefix");
    let task = app.state.service_tasks("web")[0].id().to_string();
    let stream = format!("{prefix}/{}/{task}", c.name);
    moto.aws(
        "logs",
        "create_log_group",
        &format!(r#"{{"logGroupName":"{group}"}}"#),
    );
    moto.aws(
        "logs",
        "create_log_stream",
        &format!(r#"{{"logGroupName":"{group}","logStreamName":"{stream}"}}"#),
    );
    let now = chrono::Utc::now().timestamp_millis();
    put_events(
        &moto,
        &group,
        &stream,
        &[
            (now - 60_000, "INFO GET / 200".into()),
            (now - 50_000, "ERROR GET /api 502 upstream timeout".into()),
            (now - 40_000, "INFO GET /articles 200".into()),
        ],
    );
    moto.reset_counts();

    select(&mut app, '2', "web").await;
    press(&mut app, KeyCode::Char('l'));
    app.settle().await;
    assert_eq!(app.state.view(), &honban::state::View::Logs);
    assert_eq!(log_lines(&app).len(), 3, "{:?}", log_lines(&app));

    // New events between polls: each appears once.
    let now = chrono::Utc::now().timestamp_millis();
    put_events(
        &moto,
        &group,
        &stream,
        &[
            (now - 2_000, "INFO GET /users/1 200".into()),
            (now - 1_000, "ERROR GET /users/2 500 db".into()),
        ],
    );
    next_poll(&mut app).await;
    next_poll(&mut app).await;
    let lines = log_lines(&app);
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[3], "INFO GET /users/1 200");
    assert_eq!(lines[4], "ERROR GET /users/2 500 db");
    let sent = moto.requests("logs:FilterLogEvents");
    assert_eq!(sent.len(), 3, "{sent:?}");
    let start = |r: &Json| r.at("startTime").as_u64().expect("startTime");
    // The start moves: from the window's start to just before the newest.
    assert!(start(&sent[1]) > start(&sent[0]));
    assert!(start(&sent[2]) > start(&sent[1]));
    assert_eq!(sent[0].at("logGroupName").as_str(), Some(group.as_str()));
    assert_eq!(
        sent[0].at("logStreamNamePrefix").as_str(),
        Some(format!("{prefix}/{}/", c.name).as_str())
    );
    assert!(sent.iter().all(|r| r.get("filterPattern").is_none()));

    // A burst: read with nextToken, 500 a page; the buffer keeps 1000.
    moto.reset_counts();
    let now = chrono::Utc::now().timestamp_millis();
    let burst: Vec<(i64, String)> = (0..1100)
        .map(|i| (now - 1_100 + i, format!("INFO burst {i}")))
        .collect();
    put_events(&moto, &group, &stream, &burst);
    next_poll(&mut app).await;
    let sent = moto.requests("logs:FilterLogEvents");
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(sent[0].get("nextToken").is_none());
    assert!(sent[1].get("nextToken").is_some() && sent[2].get("nextToken").is_some());
    let logs = app.state.logs.as_ref().expect("logs");
    assert_eq!(logs.lines.len(), 1000);
    assert_eq!(logs.evicted, 105);
    assert_eq!(
        logs.lines.back().map(|e| e.message.as_str()),
        Some("INFO burst 1099")
    );
    let mut ids: Vec<&str> = logs.lines.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1000, "every line once");

    // The errors key: the pattern goes to the server, which filters.
    moto.reset_counts();
    press(&mut app, KeyCode::Char('e'));
    app.settle().await;
    let sent = moto.requests("logs:FilterLogEvents");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].at("filterPattern").as_str(), Some("ERROR"));
    assert_eq!(
        log_lines(&app),
        vec![
            "ERROR GET /api 502 upstream timeout".to_string(),
            "ERROR GET /users/2 500 db".to_string()
        ]
    );
}
