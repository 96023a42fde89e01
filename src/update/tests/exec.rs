//! ECS Exec in the reducer: why not (before anything is sent), the
//! container and command asked, the confirmation, the session handed over
//! and its end recorded.

use super::*;
use crate::action::OpOutcome;
use crate::config::keys::Command;
use crate::domain::{Container, Task};
use crate::exec::{ExecSession, SessionEnd};
use crate::ops::Operation;
use crate::state::{Dialog, InputPurpose};

const TASK: &str = "arn:aws:ecs:ap-northeast-1:123456789012:task/prod/0123456789abcdef";

fn container(name: &str, agent: Option<&str>) -> Container {
    Container {
        name: name.into(),
        image: format!("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/{name}:1"),
        image_digest: None,
        last_status: "RUNNING".into(),
        health_status: None,
        exit_code: None,
        reason: None,
        runtime_id: Some(format!("0123456789abcdef-{name}")),
        exec_agent: agent.map(str::to_string),
    }
}

fn task(last: &str, exec: bool, containers: Vec<Container>) -> Task {
    Task {
        arn: TASK.into(),
        cluster_arn: "arn:aws:ecs:ap-northeast-1:123456789012:cluster/prod".into(),
        task_definition: "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:3".into(),
        group: Some("service:web".into()),
        last_status: last.into(),
        desired_status: if last == "STOPPED" {
            "STOPPED"
        } else {
            "RUNNING"
        }
        .into(),
        health_status: "UNKNOWN".into(),
        availability_zone: None,
        launch_type: Some("FARGATE".into()),
        cpu: None,
        memory: None,
        created_at: None,
        started_at: None,
        stopped_at: None,
        stop_code: None,
        stopped_reason: None,
        stopping_at: None,
        platform_version: None,
        private_ip: None,
        eni: None,
        enable_execute_command: exec,
        containers,
    }
}

/// A real (AWS) staging environment showing the detail of `t`.
fn showing(t: Task, source: Source) -> State {
    let mut s = state_of(&["staging"], t0());
    s.envs[0].source = source;
    s.envs[0].tasks.data = Some(vec![t]);
    s.envs[0].tasks.loaded_at = Some(s.now);
    s.views.push(View::TaskDetail { task: TASK.into() });
    s
}

fn flash_of(s: &State) -> String {
    s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default()
}

#[test]
fn exec_says_why_not_before_anything_is_sent() {
    let agent = || vec![container("web", Some("RUNNING"))];
    let cases = [
        (
            showing(task("RUNNING", true, agent()), Source::Sim),
            "no exec in the simulation",
        ),
        (
            showing(task("STOPPED", true, agent()), Source::Aws),
            "a shell opens only in a RUNNING task",
        ),
        (
            showing(task("RUNNING", false, agent()), Source::Aws),
            "no ECS Exec on task 01234567: not enabled when it started — see exec below",
        ),
        (
            showing(
                task(
                    "RUNNING",
                    true,
                    vec![container("web", Some("PENDING")), container("log", None)],
                ),
                Source::Aws,
            ),
            "no ECS Exec agent RUNNING in task 01234567 — see exec below",
        ),
    ];
    for (mut s, why) in cases {
        let effects = update(&mut s, Action::Command(Command::Exec));
        assert!(effects.is_empty(), "{why}: {effects:?}");
        assert!(matches!(s.mode, Mode::Normal), "{why}: {:?}", s.mode);
        let text = flash_of(&s);
        assert!(text.contains(why), "{why}: {text}");
    }
    // The detail says it whole: what to do.
    let not_enabled =
        crate::exec::readiness(&task("RUNNING", false, agent())).expect_err("not enabled");
    assert!(
        not_enabled.detail.contains(
            "aws ecs update-service --cluster prod --service web --enable-execute-command \
             --force-new-deployment"
        ),
        "{not_enabled:?}"
    );
    let no_agent = crate::exec::readiness(&task(
        "RUNNING",
        true,
        vec![container("web", Some("PENDING")), container("log", None)],
    ))
    .expect_err("no agent");
    assert!(
        no_agent.detail.contains("(web PENDING, log no agent)"),
        "{no_agent:?}"
    );
    // Read-only: refused by the key (and below, by the backend's guard).
    let mut s = showing(task("RUNNING", true, agent()), Source::Aws);
    s.envs[0].read_only = true;
    assert!(update(&mut s, Action::Command(Command::Exec)).is_empty());
    assert!(flash_of(&s).contains("read-only"), "{}", flash_of(&s));
}

#[test]
fn exec_asks_the_container_and_command_confirms_hands_over_and_records_the_end() {
    let mut s = showing(
        task(
            "RUNNING",
            true,
            vec![
                container("web", Some("RUNNING")),
                container("log-router", None),
                container("sidecar", Some("RUNNING")),
            ],
        ),
        Source::Aws,
    );
    assert!(update(&mut s, Action::Command(Command::Exec)).is_empty());
    // Only the containers whose agent runs are offered.
    match &s.mode {
        Mode::Dialog(Dialog::ExecContainer { containers, .. }) => {
            let names: Vec<&str> = containers.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["web", "sidecar"]);
        }
        other => panic!("expected the container picker: {other:?}"),
    }
    press(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)),
    );
    press(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    match &s.mode {
        Mode::Dialog(Dialog::Input {
            purpose: InputPurpose::ExecCommand { container, .. },
            input,
            ..
        }) => {
            assert_eq!(container, "sidecar");
            assert_eq!(input, "/bin/sh");
        }
        other => panic!("expected the command: {other:?}"),
    }
    // An empty command is refused in the dialog.
    for _ in 0.."/bin/sh".len() {
        press(
            &mut s,
            Action::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
        );
    }
    press(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(
        matches!(&s.mode, Mode::Dialog(Dialog::Input { error: Some(e), .. }) if e.contains("type the command")),
        "{:?}",
        s.mode
    );
    for c in "/bin/bash".chars() {
        press(&mut s, key(c));
    }
    press(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let Mode::Dialog(Dialog::Confirm { op, .. }) = &s.mode else {
        panic!("expected the confirmation: {:?}", s.mode);
    };
    let want = Operation::Exec {
        cluster: "prod".into(),
        task: TASK.into(),
        service: Some("web".into()),
        container: "sidecar".into(),
        runtime_id: "0123456789abcdef-sidecar".into(),
        command: "/bin/bash".into(),
    };
    assert_eq!(op, &want);
    assert!(
        op.calls()[1].contains("Target=ecs:prod_0123456789abcdef_0123456789abcdef-sidecar"),
        "{:?}",
        op.calls()
    );
    update(&mut s, Action::Drawn);
    let effects: Vec<Effect> = press(&mut s, key('y'))
        .into_iter()
        .filter(|e| !matches!(e, Effect::Record { .. }))
        .collect();
    let id = match effects.as_slice() {
        [Effect::Operate { id, op, .. }] => {
            assert_eq!(**op, want);
            id.clone()
        }
        other => panic!("expected one Operate: {other:?}"),
    };

    // A second exec into the task waits for the first's answer.
    assert!(update(&mut s, Action::Command(Command::Exec)).is_empty());
    assert!(matches!(s.mode, Mode::Normal), "{:?}", s.mode);
    assert!(flash_of(&s).contains("being sent"), "{}", flash_of(&s));

    // The session opened: handed over after the next frame, no watch.
    let session = ExecSession {
        cluster_arn: "arn:aws:ecs:ap-northeast-1:123456789012:cluster/prod".into(),
        task_arn: TASK.into(),
        container: "sidecar".into(),
        runtime_id: "0123456789abcdef-sidecar".into(),
        session_id: "ecs-execute-command-1".into(),
        stream_url: "wss://x".into(),
        token_value: "t".into(),
        region: "ap-northeast-1".into(),
        profile: String::new(),
        ssm_endpoint: "https://ssm.ap-northeast-1.amazonaws.com".into(),
    };
    let at = s.now;
    let effects = update(
        &mut s,
        Action::OperationDone {
            id: id.clone(),
            at,
            result: Ok(OpOutcome::Exec(Box::new(session.clone()))),
            read_back: None,
        },
    );
    assert!(
        effects.iter().all(|e| matches!(e, Effect::Record { .. })),
        "{effects:?}"
    );
    let h = s
        .handover
        .clone()
        .expect("a session to hand the terminal to");
    assert_eq!(h.id, id);
    assert_eq!(h.session, session);
    assert_eq!(h.command, "/bin/bash");
    assert!(s.activity[0].watch.is_none());
    assert!(!s.activity[0].is_active(), "quitting does not wait for it");

    // Its end is recorded as the operation's final record.
    s.handover = None;
    let effects = update(
        &mut s,
        Action::ExecEnded {
            id: id.clone(),
            end: SessionEnd {
                code: Some(0),
                error: None,
                seconds: 75,
            },
        },
    );
    let effects: Vec<Effect> = effects
        .into_iter()
        .filter(|e| !matches!(e, Effect::Record { .. }))
        .collect();
    match effects.as_slice() {
        [
            Effect::AuditOutcome {
                id: audited,
                ended,
                detail,
                failure,
                ..
            },
        ] => {
            assert_eq!(audited, &id);
            assert_eq!(ended, "session ended");
            assert_eq!(detail, "exit status 0 after 1m 15s");
            assert!(!failure);
        }
        other => panic!("expected the session's end audited: {other:?}"),
    }
    assert!(flash_of(&s).contains("session ended"), "{}", flash_of(&s));
}
