//! ECS Exec in the reducer: the key that opens a shell in a task's
//! container (which container, which command), the checks that say why
//! not before anything is sent (simulated, not RUNNING, exec not enabled,
//! no agent), the session opened (the terminal is then handed over by the
//! event loop) and its end (recorded in the audit log).
//!
//! The confirmation, the read-only refusal, the audit intent and result are
//! those of every operation (`operate.rs`); the backend's read-only guard
//! refuses `ExecuteCommand` again below.

use crossterm::event::{KeyCode, KeyEvent};

use super::flash;
use crate::config::Source;
use crate::domain::{Task, Timestamp, short_id};
use crate::effect::Effect;
use crate::exec::{Handover, SessionEnd};
use crate::ops::{self, Operation};
use crate::state::{Dialog, InputPurpose, Mode, Selection, Severity, State, View};
use crate::watch::OpStatus;

/// The command a session runs unless the operator types another.
pub const DEFAULT_COMMAND: &str = "/bin/sh";

/// The exec key (the environment is not read-only: `operate::start` has
/// refused that already).
pub(super) fn start(state: &mut State, env: usize) -> Vec<Effect> {
    let task = match (state.view(), state.selection()) {
        (View::TaskDetail { task }, _) => state
            .task(task)
            .cloned()
            .ok_or_else(|| Selection::Lost(task.clone())),
        (View::Tasks | View::ServiceDetail { .. }, Selection::Id(arn)) => {
            state.task(&arn).cloned().ok_or(Selection::Lost(arn))
        }
        (View::Tasks | View::ServiceDetail { .. }, other) => Err(other),
        _ => Err(Selection::None),
    };
    let task = match task {
        Ok(task) => task,
        Err(selection) => {
            let text = selection.refusal(
                "a task",
                ":tasks, or a service's detail",
                &state.move_keys(),
            );
            flash(state, &text, Severity::Error);
            return Vec::new();
        }
    };
    // One session at a time per task while its request is being sent.
    if super::operate::refuse_busy(state, ops::task_label(&task.arn)) {
        return Vec::new();
    }
    match exec_containers(state, env, &task) {
        Ok(containers) => match containers.as_slice() {
            [] => {}
            [(container, _)] => open_command(state, env, &task.arn, container),
            _ => {
                state.mode = Mode::Dialog(Dialog::ExecContainer {
                    env,
                    task: task.arn.clone(),
                    containers,
                    index: 0,
                });
            }
        },
        Err(why) => flash(state, &why, Severity::Error),
    }
    Vec::new()
}

/// The containers of `task` a shell can be opened in (name, image), or why
/// there is none: first what is wrong, then where the whole reason is (the
/// message line is one line on an 80-column terminal).
fn exec_containers(
    state: &State,
    env: usize,
    task: &Task,
) -> Result<Vec<(String, String)>, String> {
    let Some(e) = state.envs.get(env) else {
        return Err("the environment is gone".to_string());
    };
    if e.source == Source::Sim {
        return Err(format!(
            "no exec in the simulation: simulated tasks have no shell (task {}); against AWS, \
             ECS Exec opens one",
            ops::task_label(&task.arn)
        ));
    }
    crate::exec::readiness(task).map_err(|u| {
        let more = u.detail != u.short && !u.detail.starts_with("the task is");
        match state.view() {
            _ if !more => u.short,
            View::TaskDetail { .. } => format!("{} — see exec below", u.short),
            _ => format!(
                "{} — {} shows how",
                u.short,
                state.key_or(crate::config::keys::Command::Select, "the task's detail")
            ),
        }
    })
}

fn open_command(state: &mut State, env: usize, task: &str, container: &str) {
    state.mode = Mode::Dialog(Dialog::Input {
        env,
        purpose: InputPurpose::ExecCommand {
            task: task.to_string(),
            container: container.to_string(),
        },
        input: DEFAULT_COMMAND.to_string(),
        error: None,
    });
}

/// A key in the container picker.
pub(super) fn on_container_key(
    state: &mut State,
    env: usize,
    task: String,
    containers: Vec<(String, String)>,
    index: usize,
    key: &KeyEvent,
) {
    match key.code {
        KeyCode::Enter => {
            if let Some((container, _)) = containers.get(index) {
                let container = container.clone();
                open_command(state, env, &task, &container);
            }
        }
        KeyCode::Up | KeyCode::Char('k' | 'j') | KeyCode::Down => {
            let index = if matches!(key.code, KeyCode::Up | KeyCode::Char('k')) {
                index.saturating_sub(1)
            } else {
                (index + 1).min(containers.len().saturating_sub(1))
            };
            state.mode = Mode::Dialog(Dialog::ExecContainer {
                env,
                task,
                containers,
                index,
            });
        }
        _ => {}
    }
}

/// Enter on the command: checked (again, on fresh data), then confirmed.
pub(super) fn submit_command(
    state: &mut State,
    env: usize,
    task_arn: &str,
    container: &str,
    input: &str,
) -> Result<Operation, String> {
    let command = input.trim();
    if command.is_empty() {
        return Err(format!(
            "type the command to run (e.g. {DEFAULT_COMMAND}, /bin/bash)"
        ));
    }
    let Some(task) = state.task(task_arn).cloned() else {
        return Err(format!(
            "task {} is no longer listed",
            ops::task_label(task_arn)
        ));
    };
    exec_containers(state, env, &task)?;
    let Some(c) = task.containers.iter().find(|c| c.name == container) else {
        return Err(format!("container {container} is not in the task"));
    };
    let Some(runtime_id) = c.runtime_id.clone() else {
        return Err(format!("container {container} has no runtime id yet"));
    };
    Ok(Operation::Exec {
        cluster: short_id(&task.cluster_arn).to_string(),
        service: task.service_name().map(str::to_string),
        task: task.arn.clone(),
        container: container.to_string(),
        runtime_id,
        command: command.to_string(),
    })
}

/// ExecuteCommand opened a session: the terminal is handed over after the
/// next frame (the event loop takes `state.handover`).
pub(super) fn on_session_opened(
    state: &mut State,
    i: usize,
    at: Timestamp,
    session: crate::exec::ExecSession,
) -> Vec<Effect> {
    let Some(a) = state.activity.get_mut(i) else {
        return Vec::new();
    };
    let command = match &a.op {
        Operation::Exec { command, .. } => command.clone(),
        _ => return Vec::new(),
    };
    a.status = OpStatus::Accepted {
        at,
        detail: format!("session {} open", session.session_id),
    };
    let title = a.op.title();
    state.handover = Some(Handover {
        id: a.id.clone(),
        env: a.env,
        session,
        command,
    });
    flash(
        state,
        &format!("{title}: session open; handing the terminal to session-manager-plugin…"),
        Severity::Info,
    );
    Vec::new()
}

/// The plugin exited: the console has the terminal again. The session's
/// end goes to the audit log as the operation's final record.
pub(super) fn on_session_ended(state: &mut State, id: &str, end: &SessionEnd) -> Vec<Effect> {
    state.dirty = true;
    let Some(a) = state.activity.iter_mut().find(|a| a.id == id) else {
        return Vec::new();
    };
    let detail = end.describe();
    if let OpStatus::Accepted { detail: d, .. } = &mut a.status {
        *d = format!("{d} · ended: {detail}");
    }
    let effect = Effect::AuditOutcome {
        id: a.id.clone(),
        env: a.env,
        op: Box::new(a.op.clone()),
        context: Box::new(a.context.clone()),
        ended: "session ended".to_string(),
        detail: detail.clone(),
        failure: end.error.is_some(),
    };
    let title = a.op.title();
    let severity = if end.error.is_some() {
        Severity::Error
    } else {
        Severity::Info
    };
    flash(
        state,
        &format!("{title}: session ended ({detail}); back in the console"),
        severity,
    );
    vec![effect]
}
