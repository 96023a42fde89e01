//! The logs view's part of the reducer: opening it for a service or a task,
//! the follow loop (a poll every few seconds on the clock tick, the next one
//! at once while a high-volume group is being caught up), pause, follow,
//! the filter pattern, the errors preset and jumping to a time.

use chrono::TimeDelta;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{flash, request_task_definitions};
use crate::backend::BackendError;
use crate::config::keys::Command;
use crate::domain::Timestamp;
use crate::effect::Effect;
use crate::logs::{
    ERROR_PATTERN, LogBatch, LogTarget, LogsState, POLL_SECS, Prompt, parse_jump, sources_of,
};
use crate::state::{Severity, State, View};

/// How long the view waits after a failed poll.
const RETRY_SECS: i64 = 10;

/// `l`: the logs of the selected service (or task, in the tasks view).
pub(super) fn open(state: &mut State) -> Vec<Effect> {
    let env = state.active;
    let sel = state.selected(state.view().kind());
    let target = match state.view().clone() {
        View::Overview | View::Services => state.visible_services().get(sel).map(|s| LogTarget {
            env,
            service: s.name.clone(),
            task: None,
            task_definition: s.task_definition.clone(),
        }),
        View::ServiceDetail { service } => state.service(&service).map(|s| LogTarget {
            env,
            service: s.name.clone(),
            task: None,
            task_definition: s.task_definition.clone(),
        }),
        View::Tasks => state
            .visible_tasks()
            .get(sel)
            .and_then(|t| LogTarget::of_task(env, t)),
        View::Logs => return Vec::new(),
        _ => None,
    };
    let Some(target) = target else {
        flash(
            state,
            "logs: select a service (or a task in the tasks view)",
            Severity::Info,
        );
        return Vec::new();
    };
    state.logs = Some(LogsState::new(target, state.logs_buffer_lines, state.now));
    state.views.push(View::Logs);
    state.dirty = true;
    let mut effects = resolve(state);
    effects.extend(poll_if_due(state));
    effects
}

/// Finds the sources in the cached task definition, or asks for it.
fn resolve(state: &mut State) -> Vec<Effect> {
    let Some(logs) = state.logs.as_mut() else {
        return Vec::new();
    };
    if !logs.sources.is_empty() {
        return Vec::new();
    }
    let env = logs.target.env;
    let Some(e) = state.envs.get_mut(env) else {
        return Vec::new();
    };
    match e.task_definitions.get(&logs.target.task_definition) {
        Some(td) => {
            logs.sources = sources_of(td, logs.target.task.as_deref());
            logs.tokens = vec![None; logs.sources.len()];
            Vec::new()
        }
        None => {
            if e.task_definitions_requested
                .contains(&logs.target.task_definition)
            {
                return Vec::new();
            }
            let arn = logs.target.task_definition.clone();
            e.task_definitions_requested.insert(arn.clone());
            let mut effects = vec![Effect::FetchTaskDefinition { env, arn }];
            effects.extend(request_task_definitions(e, env));
            effects
        }
    }
}

/// Starts a poll if the view is on screen, not paused, not waiting for
/// one, and it is time.
fn poll_if_due(state: &mut State) -> Vec<Effect> {
    if state.view() != &View::Logs {
        return Vec::new();
    }
    let now = state.now;
    let Some(logs) = state.logs.as_mut() else {
        return Vec::new();
    };
    if logs.paused
        || logs.in_flight
        || logs.sources.is_empty()
        || logs.next_poll.is_some_and(|t| now < t)
    {
        return Vec::new();
    }
    poll(logs)
}

fn poll(logs: &mut LogsState) -> Vec<Effect> {
    logs.generation += 1;
    logs.in_flight = true;
    logs.next_poll = None;
    vec![Effect::FetchLogs {
        env: logs.target.env,
        generation: logs.generation,
        queries: logs.queries(),
    }]
}

/// Every clock tick: resolve the sources once the task definition is
/// known, and poll when due.
pub(super) fn on_tick(state: &mut State) -> Vec<Effect> {
    if state.view() != &View::Logs || state.logs.is_none() {
        return Vec::new();
    }
    let had = state.logs.as_ref().is_some_and(|l| !l.sources.is_empty());
    let mut effects = resolve(state);
    if !had && state.logs.as_ref().is_some_and(|l| !l.sources.is_empty()) {
        state.dirty = true;
    }
    effects.extend(poll_if_due(state));
    effects
}

/// A poll's result: new lines in, the next poll scheduled (at once while
/// the group is being caught up).
pub(super) fn on_loaded(
    state: &mut State,
    generation: u64,
    at: Timestamp,
    result: Result<LogBatch, BackendError>,
) -> Vec<Effect> {
    let Some(logs) = state.logs.as_mut() else {
        return Vec::new();
    };
    if generation != logs.generation {
        return Vec::new();
    }
    logs.in_flight = false;
    match result {
        Ok(batch) => {
            logs.tokens = batch.tokens;
            logs.tokens.resize(logs.sources.len(), None);
            logs.ingest(batch.events);
            logs.error = None;
            logs.loaded_at = Some(at);
            logs.next_poll = Some(if logs.behind() {
                at
            } else {
                at + TimeDelta::seconds(POLL_SECS)
            });
        }
        Err(e) => {
            logs.error = Some(e);
            logs.next_poll = Some(at + TimeDelta::seconds(RETRY_SECS));
        }
    }
    if state.view() == &View::Logs {
        state.dirty = true;
    }
    Vec::new()
}

/// The view's own keys (space, f, t, e) and the prompt's text; `None`
/// lets the keymap have the key.
pub(super) fn on_key(state: &mut State, key: KeyEvent) -> Option<Vec<Effect>> {
    let now = state.now;
    let logs = state.logs.as_mut()?;
    if key.modifiers.contains(KeyModifiers::CONTROL) && logs.prompt.is_none() {
        return None;
    }
    if let Some(prompt) = logs.prompt.clone() {
        state.dirty = true;
        let (mut text, is_time) = match prompt {
            Prompt::Pattern(t) => (t, false),
            Prompt::Time(t) => (t, true),
        };
        match key.code {
            KeyCode::Esc => logs.prompt = None,
            KeyCode::Enter => {
                logs.prompt = None;
                return Some(if is_time {
                    match parse_jump(&text, now) {
                        Ok(t) => {
                            logs.start = t;
                            logs.follow = false;
                            logs.restart(now);
                            poll_if_due(state)
                        }
                        Err(msg) => {
                            flash(state, &msg, Severity::Error);
                            Vec::new()
                        }
                    }
                } else {
                    set_pattern(state, text.trim().to_string())
                });
            }
            KeyCode::Backspace => {
                text.pop();
                logs.prompt = Some(wrap(text, is_time));
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                text.push(c);
                logs.prompt = Some(wrap(text, is_time));
            }
            _ => {}
        }
        return Some(Vec::new());
    }
    match key.code {
        KeyCode::Char(' ') => {
            logs.paused = !logs.paused;
            if !logs.paused {
                logs.next_poll = Some(now);
            }
            state.dirty = true;
            Some(poll_if_due(state))
        }
        KeyCode::Char('f') => {
            logs.follow = !logs.follow;
            if logs.follow {
                logs.cursor = logs.lines.len().saturating_sub(1);
            }
            state.dirty = true;
            Some(Vec::new())
        }
        KeyCode::Char('t') => {
            logs.prompt = Some(Prompt::Time(String::new()));
            state.dirty = true;
            Some(Vec::new())
        }
        KeyCode::Char('e') => {
            let pattern = if logs.pattern == ERROR_PATTERN {
                String::new()
            } else {
                ERROR_PATTERN.to_string()
            };
            Some(set_pattern(state, pattern))
        }
        _ => None,
    }
}

fn wrap(text: String, is_time: bool) -> Prompt {
    if is_time {
        Prompt::Time(text)
    } else {
        Prompt::Pattern(text)
    }
}

/// A new filter pattern: the window is read again from its start.
fn set_pattern(state: &mut State, pattern: String) -> Vec<Effect> {
    let now = state.now;
    let Some(logs) = state.logs.as_mut() else {
        return Vec::new();
    };
    logs.pattern = pattern;
    logs.follow = true;
    logs.restart(now);
    state.dirty = true;
    poll_if_due(state)
}

/// Commands in the logs view: moving the cursor (up leaves follow, bottom
/// resumes it), `/` edits the pattern, refresh polls now. `None` leaves the
/// command to the generic handling (back, views, help, ...).
pub(super) fn on_command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let page = state.page_rows.max(1);
    let logs = state.logs.as_mut()?;
    let last = logs.lines.len().saturating_sub(1);
    match cmd {
        Command::Up => {
            logs.cursor = logs.cursor.saturating_sub(1);
            logs.follow = false;
        }
        Command::PageUp => {
            logs.cursor = logs.cursor.saturating_sub(page);
            logs.follow = false;
        }
        Command::Top => {
            logs.cursor = 0;
            logs.follow = false;
        }
        Command::Down => logs.cursor = (logs.cursor + 1).min(last),
        Command::PageDown => logs.cursor = (logs.cursor + page).min(last),
        Command::Bottom => {
            logs.cursor = last;
            logs.follow = true;
        }
        Command::Filter => {
            logs.prompt = Some(Prompt::Pattern(logs.pattern.clone()));
        }
        Command::Refresh => {
            if !logs.in_flight {
                logs.next_poll = Some(state.now);
            }
            state.dirty = true;
            return Some(poll_if_due(state));
        }
        Command::Logs | Command::Select => {}
        _ => return None,
    }
    state.dirty = true;
    Some(Vec::new())
}
