//! ECS Exec: ExecuteCommand (answered by the test proxy: moto has none) and
//! the terminal handed to a stand-in session-manager-plugin.

use crate::prelude::*;

/// A stand-in `session-manager-plugin` in `dir`: answers `--version` with
/// `version`, records its arguments (one a line) and the session it finds
/// in `AWS_SSM_START_SESSION_RESPONSE` to `dir/calls.log`, and exits with
/// `exit`.
fn stand_in_plugin(dir: &std::path::Path, version: &str, exit: i32) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        "#!/bin/sh\n\
         here=$(dirname \"$0\")\n\
         if [ \"$1\" = \"--version\" ]; then echo {version}; exit 0; fi\n\
         {{ for a in \"$@\"; do printf 'ARG %s\\n' \"$a\"; done; \
         printf 'ENV %s\\n' \"$AWS_SSM_START_SESSION_RESPONSE\"; }} > \"$here/calls.log\"\n\
         exit {exit}\n"
    );
    let path = dir.join("session-manager-plugin");
    std::fs::write(&path, script).expect("write the stand-in plugin");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// What the stand-in recorded: its arguments and the session from the
/// environment.
fn plugin_calls(dir: &std::path::Path) -> (Vec<String>, String) {
    let text = std::fs::read_to_string(dir.join("calls.log")).expect("the plugin ran");
    let args = text
        .lines()
        .filter_map(|l| l.strip_prefix("ARG "))
        .map(str::to_string)
        .collect();
    let env = text
        .lines()
        .find_map(|l| l.strip_prefix("ENV "))
        .unwrap_or_default()
        .to_string();
    (args, env)
}

/// An account seeded as `name` with ECS Exec on web (one task started with
/// it, through the proxy) and the console on it: the account, the console,
/// the exec task's ARN and another RUNNING web task (started before exec
/// was enabled).
async fn exec_console(name: &str, read_only: bool) -> (MotoAccount, Console, String, String) {
    let moto = MotoAccount::seeded(name, &["--exec-through", &Moto::shared().endpoint]);
    let exec_task = moto.seeded.exec_tasks[0].clone();
    let mut env = moto.env(name);
    env.read_only = read_only;
    let console = moto.console(env).await;
    let other = console.app.state.envs[0]
        .tasks
        .data
        .as_ref()
        .expect("tasks")
        .iter()
        .find(|t| {
            t.service_name() == Some("web") && t.arn != exec_task && t.last_status == "RUNNING"
        })
        .expect("another running web task")
        .arn
        .clone();
    (moto, console, exec_task, other)
}

#[tokio::test]
async fn exec_by_keys_opens_a_session_hands_the_plugin_the_cli_arguments_and_audits_it() {
    let (moto, Console { mut app, audit, .. }, exec_task, _) = exec_console("execok", false).await;
    let plugin = tempfile::tempdir().expect("dir");
    stand_in_plugin(plugin.path(), "1.2.707.0", 0);
    app.set_plugin_search(plugin.path().as_os_str().to_owned());

    // What DescribeTasks says of the task (through the proxy's ECS Exec
    // fields): exec on, the agent running, a runtime id.
    let task = app.state.envs[0]
        .tasks
        .data
        .as_ref()
        .and_then(|v| v.iter().find(|t| t.arn == exec_task))
        .expect("the exec task")
        .clone();
    assert!(task.enable_execute_command);
    let web = &task.containers[0];
    assert_eq!(web.exec_agent.as_deref(), Some("RUNNING"));
    let runtime_id = web.runtime_id.clone().expect("a runtime id");

    // From the task detail: x, the command (default /bin/sh), the preview.
    select_task(&mut app, &exec_task).await;
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        app.state.view(),
        honban::state::View::TaskDetail { .. }
    ));
    moto.reset_counts();
    press(&mut app, KeyCode::Char('x'));
    match &app.state.mode {
        Mode::Dialog(Dialog::Input { input, .. }) => assert_eq!(input, "/bin/sh"),
        other => panic!("expected the command prompt, got {other:?}"),
    }
    press(&mut app, KeyCode::Enter);
    let Some(op @ Operation::Exec { .. }) = confirming(&app).cloned() else {
        panic!("expected the exec confirmation: {:?}", app.state.mode);
    };
    let screen = draw(&app);
    assert!(screen.contains("ecs:ExecuteCommand"), "{screen}");
    assert!(screen.contains("takes over this terminal"), "{screen}");
    // Enter does not send; y does, once.
    press(&mut app, KeyCode::Enter);
    assert!(confirming(&app).is_some());
    press(&mut app, KeyCode::Char('y'));
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    assert_eq!(moto.mutating_counts(), ops(&[("ecs:ExecuteCommand", 1)]));
    let sent = moto.the_request("ecs:ExecuteCommand");
    assert_eq!(sent.at("cluster").as_str(), Some("execok"));
    assert_eq!(sent.at("task").as_str(), Some(exec_task.as_str()));
    assert_eq!(sent.at("container").as_str(), Some("web"));
    assert_eq!(sent.at("command").as_str(), Some("/bin/sh"));
    assert_eq!(sent.at("interactive").as_bool(), Some(true));
    let a = last_activity(&app);
    assert_eq!(a.op, op);
    assert!(accepted(a), "{:?}", a.status);
    let id = a.id.clone();

    // The session waits for the terminal; the plugin runs and exits.
    assert!(app.state.handover.is_some());
    let end = app.run_handover_headless().await.expect("a session");
    assert_eq!(end.code, Some(0), "{end:?}");
    assert!(end.error.is_none());
    app.settle().await;
    assert!(
        flash_text(&app).contains("session ended"),
        "{}",
        flash_text(&app)
    );

    // The arguments the AWS CLI passes: the session (in the environment for
    // a plugin newer than 1.2.497.0), region, StartSession, profile (none),
    // the target, the endpoint.
    let (args, env) = plugin_calls(plugin.path());
    let task_id = exec_task.rsplit('/').next().expect("id");
    assert_eq!(
        args,
        vec![
            "AWS_SSM_START_SESSION_RESPONSE".to_string(),
            REGION.to_string(),
            "StartSession".to_string(),
            String::new(),
            format!(r#"{{"Target":"ecs:execok_{task_id}_{runtime_id}"}}"#),
            moto.endpoint().to_string(),
        ]
    );
    let session: Json = serde_json::from_str(&env).expect("the session JSON");
    let session_id = session.at("sessionId").as_str().expect("id").to_string();
    let token = session
        .at("tokenValue")
        .as_str()
        .expect("token")
        .to_string();
    assert!(
        session_id.starts_with("ecs-execute-command-"),
        "{session_id}"
    );
    assert!(
        session
            .at("streamUrl")
            .as_str()
            .is_some_and(|u| u.starts_with("wss://"))
    );

    // The audit log tells the session: intent, result (the session id),
    // and its end; never the token.
    let (intent, result) = audited(&app, &audit, &id);
    assert_eq!(intent.operation, "exec");
    assert_eq!(intent.parameters["container"], "web");
    assert_eq!(intent.parameters["command"], "/bin/sh");
    assert_eq!(result.outcome, Some(Outcome::Success));
    assert_eq!(result.result["sessionId"], session_id.as_str());
    let end_record = audit_records(&audit)
        .into_iter()
        .find(|r| r.id == id && r.phase == Phase::Final)
        .expect("the session's end");
    assert_eq!(end_record.ended.as_deref(), Some("session ended"));
    assert!(
        end_record
            .detail
            .as_deref()
            .is_some_and(|d| d.starts_with("exit status 0")),
        "{end_record:?}"
    );
    let text = std::fs::read_to_string(&audit).expect("audit log");
    assert!(
        !text.contains(&token),
        "the session token is never recorded"
    );
}

#[tokio::test]
async fn exec_refuses_with_the_reason_and_sends_nothing_it_should_not() {
    let (moto, Console { mut app, audit, .. }, exec_task, other) =
        exec_console("execno", false).await;
    let empty = tempfile::tempdir().expect("dir");
    app.set_plugin_search(empty.path().as_os_str().to_owned());
    moto.reset_counts();

    // A task started before exec was enabled: says so, and how to enable.
    select_task(&mut app, &other).await;
    press(&mut app, KeyCode::Char('x'));
    assert!(is_normal(&app), "{:?}", app.state.mode);
    let text = flash_text(&app);
    assert!(
        text.contains("not enabled when it started — enter shows how"),
        "{text}"
    );
    // The detail says it whole.
    press(&mut app, KeyCode::Enter);
    let screen = draw(&app);
    assert!(screen.contains("--enable-execute-command"), "{screen}");
    press(&mut app, KeyCode::Esc);

    // No plugin on PATH: nothing is sent; how to install it.
    select_task(&mut app, &exec_task).await;
    press(&mut app, KeyCode::Char('x'));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let a = last_activity(&app);
    let error = failed_with(a);
    assert!(
        error.contains("session-manager-plugin is not on PATH"),
        "{error}"
    );
    assert!(error.contains("install"), "{error}");
    assert!(
        flash_text(&app).contains("session-manager-plugin"),
        "{}",
        flash_text(&app)
    );
    let (intent, result) = audited(&app, &audit, &a.id);
    assert_eq!(intent.operation, "exec");
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert!(app.state.handover.is_none());
    assert_eq!(moto.mutating_counts(), ops(&[]));

    // ECS's own refusal (the proxy answers as ECS does) reads as what to do.
    let plugin = tempfile::tempdir().expect("dir");
    stand_in_plugin(plugin.path(), "1.2.707.0", 0);
    app.set_plugin_search(plugin.path().as_os_str().to_owned());
    let task = app.state.task(&other).expect("task").clone();
    app.state.mode = Mode::Dialog(Dialog::Confirm {
        env: 0,
        op: Operation::Exec {
            cluster: "execno".into(),
            task: other.clone(),
            service: Some("web".into()),
            container: "web".into(),
            runtime_id: task.containers[0].runtime_id.clone().unwrap_or_default(),
            command: "/bin/sh".into(),
        },
        typed: String::new(),
        error: None,
    });
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let error = failed_with(last_activity(&app));
    assert!(error.contains("execute command was not enabled"), "{error}");
    assert!(error.contains("--enable-execute-command"), "{error}");
    assert!(app.state.handover.is_none());
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("ecs:ExecuteCommand", 1)]),
        "sent once, refused by ECS"
    );
    assert!(
        !plugin.path().join("calls.log").exists(),
        "no session to attach to"
    );
}

#[tokio::test]
async fn exec_in_read_only_is_refused_by_the_key_and_by_the_guard() {
    let (moto, Console { mut app, audit, .. }, exec_task, _) = exec_console("execro", true).await;
    let plugin = tempfile::tempdir().expect("dir");
    stand_in_plugin(plugin.path(), "1.2.707.0", 0);
    app.set_plugin_search(plugin.path().as_os_str().to_owned());
    moto.reset_counts();
    select_task(&mut app, &exec_task).await;
    press(&mut app, KeyCode::Char('x'));
    assert!(is_normal(&app));
    assert!(
        flash_text(&app).contains("read-only"),
        "{}",
        flash_text(&app)
    );
    assert!(audit_records(&audit).is_empty());

    // Past the reducer: the backend's guard refuses, nothing is sent.
    let task = app.state.task(&exec_task).expect("task").clone();
    app.state.mode = Mode::Dialog(Dialog::Confirm {
        env: 0,
        op: Operation::Exec {
            cluster: "execro".into(),
            task: exec_task.clone(),
            service: Some("web".into()),
            container: "web".into(),
            runtime_id: task.containers[0].runtime_id.clone().expect("runtime id"),
            command: "/bin/sh".into(),
        },
        typed: String::new(),
        error: None,
    });
    press(&mut app, KeyCode::Char('y'));
    app.settle().await;
    let a = last_activity(&app);
    let error = failed_with(a);
    assert!(
        error.contains("read-only: ecs:ExecuteCommand was not sent"),
        "{error}"
    );
    let (_, result) = audited(&app, &audit, &a.id);
    assert_eq!(result.outcome, Some(Outcome::Error));
    assert!(app.state.handover.is_none());
    assert_eq!(moto.mutating_counts(), ops(&[]));
    assert!(!plugin.path().join("calls.log").exists());
}
