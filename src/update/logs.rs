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
use crate::request::Ask;
use crate::state::{Severity, State, View};

/// How long the view waits after a failed poll.
const RETRY_SECS: i64 = 10;

/// `l`: the logs of the selected service (or task, in the tasks view).
pub(super) fn open(state: &mut State) -> Vec<Effect> {
    let env = state.active;
    let selection = state.selection();
    let target = match state.view().clone() {
        View::Overview | View::Services => state.selected_service_row().ok().map(|s| LogTarget {
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
        View::Tasks => match &selection {
            crate::state::Selection::Id(arn) => state
                .visible_tasks()
                .into_iter()
                .find(|t| &t.arn == arn)
                .and_then(|t| LogTarget::of_task(env, t)),
            _ => None,
        },
        View::TaskDetail { task } => state.task(&task).and_then(|t| LogTarget::of_task(env, t)),
        View::Logs => return Vec::new(),
        _ => None,
    };
    let Some(target) = target else {
        let text = selection.refusal(
            "a service (or a task in the tasks view)",
            "logs",
            &state.move_keys(),
        );
        flash(state, &text, Severity::Info);
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
    let now = state.now;
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
            logs.error = None;
            Vec::new()
        }
        // After a failed fetch: again once the retry is due, not every tick.
        None if logs.error.is_some() && logs.next_poll.is_some_and(|t| now < t) => Vec::new(),
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

/// The task definition the view is waiting for could not be fetched: the
/// view says why and asks again after `RETRY_SECS`.
pub(super) fn on_task_definition_failed(
    state: &mut State,
    env: usize,
    arn: &str,
    err: BackendError,
) {
    let now = state.now;
    let Some(logs) = state.logs.as_mut() else {
        return;
    };
    if logs.target.env != env || logs.target.task_definition != arn || !logs.sources.is_empty() {
        return;
    }
    logs.error = Some(err);
    logs.next_poll = Some(now + TimeDelta::seconds(RETRY_SECS));
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
    if logs.paused || logs.sources.is_empty() || logs.next_poll.is_some_and(|t| now < t) {
        return Vec::new();
    }
    // One poll at a time, however long it takes (each is bounded).
    let Some(generation) = logs.request.try_begin(now, Ask::WhenIdle) else {
        return Vec::new();
    };
    logs.next_poll = None;
    vec![Effect::FetchLogs {
        env: logs.target.env,
        generation,
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
    if !logs.request.accept(generation) {
        return Vec::new();
    }
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

/// The text typed into the view's prompt (pattern, time); `None` lets the
/// keymap have the key.
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
            _ => {
                if crate::prompt::edit(&mut text, &mut state.prompt_back, &key)
                    != crate::prompt::Edit::NotAnEdit
                {
                    logs.prompt = Some(wrap(text, is_time));
                }
            }
        }
        return Some(Vec::new());
    }
    None
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
        // --- the view's own commands (space, f, e, t, w by default)
        Command::LogsPause => {
            logs.paused = !logs.paused;
            if logs.paused {
                // A paused view does not move: a poll in flight is dropped
                // (the next one after resuming asks again from the newest
                // line).
                if logs.in_flight {
                    logs.request.supersede();
                }
            } else {
                logs.next_poll = Some(state.now);
            }
            state.dirty = true;
            return Some(poll_if_due(state));
        }
        Command::LogsFollow => {
            logs.follow = !logs.follow;
            if logs.follow {
                logs.cursor = last;
            }
        }
        Command::LogsJump => logs.prompt = Some(Prompt::Time(String::new())),
        Command::LogsWrap => logs.wrap = !logs.wrap,
        Command::LogsErrors => {
            let pattern = if logs.pattern == ERROR_PATTERN {
                String::new()
            } else {
                ERROR_PATTERN.to_string()
            };
            return Some(set_pattern(state, pattern));
        }
        Command::Logs | Command::Select => {}
        _ => return None,
    }
    state.dirty = true;
    Some(Vec::new())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::action::{Action, Data, Resource};
    use crate::config::Config;
    use crate::config::keys::Keymap;
    use crate::domain::{
        ContainerDefinition, Listing, LogEvent, LogQuery, Service, Task, TaskDefinition,
    };
    use crate::logs::{DEFAULT_LOOKBACK_MINS, OVERLAP_SECS, PAGE_LIMIT};
    use crate::update::update;

    const TD: &str = "arn:aws:ecs:ap-northeast-1:1:task-definition/web:7";
    const GROUP: &str = "/ecs/works-logue-prod/web";
    const TASK: &str = "arn:aws:ecs:ap-northeast-1:1:task/prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0";

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0)
            .single()
            .expect("valid time")
    }

    fn secs(n: i64) -> Timestamp {
        t0() + TimeDelta::seconds(n)
    }

    fn state() -> State {
        crate::update::tests::state_of(&["production"], t0())
    }

    fn service() -> Service {
        Service {
            arn: "arn:aws:ecs:ap-northeast-1:1:service/prod/web".into(),
            name: "web".into(),
            cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/prod".into(),
            status: "ACTIVE".into(),
            desired_count: 2,
            running_count: 2,
            pending_count: 0,
            launch_type: Some("FARGATE".into()),
            task_definition: TD.into(),
            deployments: Vec::new(),
            events: Vec::new(),
            load_balancers: Vec::new(),
            created_at: None,
            circuit_breaker: None,
            deployment_controller: crate::domain::DeploymentController::Ecs,
            strategy: None,
            service_deployment: None,
        }
    }

    fn container(name: &str, group: Option<&str>, prefix: Option<&str>) -> ContainerDefinition {
        ContainerDefinition {
            name: name.into(),
            image: format!("example/{name}:1"),
            essential: true,
            cpu: None,
            memory: None,
            port_mappings: Vec::new(),
            secrets: Vec::new(),
            log_group: group.map(Into::into),
            log_stream_prefix: prefix.map(Into::into),
        }
    }

    /// `app` logs to the group with prefix `ecs`; `nginx` to the same
    /// group; `xray` has no awslogs configuration.
    fn task_definition() -> TaskDefinition {
        TaskDefinition {
            arn: TD.into(),
            family: "web".into(),
            revision: 7,
            status: "ACTIVE".into(),
            cpu: None,
            memory: None,
            network_mode: Some("awsvpc".into()),
            requires_compatibilities: vec!["FARGATE".into()],
            task_role_arn: None,
            execution_role_arn: None,
            containers: vec![
                container("app", Some(GROUP), Some("ecs")),
                container("nginx", Some(GROUP), Some("ecs")),
                container("xray", None, None),
            ],
            registered_at: None,
        }
    }

    fn task(group: Option<&str>) -> Task {
        Task {
            arn: TASK.into(),
            cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/prod".into(),
            task_definition: TD.into(),
            group: group.map(Into::into),
            last_status: "RUNNING".into(),
            desired_status: "RUNNING".into(),
            health_status: "HEALTHY".into(),
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
            enable_execute_command: false,
            containers: Vec::new(),
        }
    }

    fn load(state: &mut State, resource: Resource, data: Data) -> Vec<Effect> {
        let mut effects = update(state, Action::PollDue { env: 0, resource });
        let generation = match resource {
            Resource::Tasks => state.envs[0].tasks.generation,
            _ => state.envs[0].services.generation,
        };
        effects.extend(update(
            state,
            Action::Loaded {
                env: 0,
                resource,
                generation,
                at: state.now,
                result: Ok(data),
            },
        ));
        effects
    }

    fn td_loaded(state: &mut State) -> Vec<Effect> {
        update(
            state,
            Action::TaskDefinitionLoaded {
                env: 0,
                arn: TD.into(),
                result: Ok(task_definition()),
            },
        )
    }

    /// The services view with `web` and its task definition loaded.
    fn on_services() -> State {
        let mut s = state();
        load(
            &mut s,
            Resource::Services,
            Data::Services(Listing::complete(vec![service()])),
        );
        td_loaded(&mut s);
        update(&mut s, Action::Command(Command::Services));
        s
    }

    fn press(state: &mut State, code: KeyCode) -> Vec<Effect> {
        update(state, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn key(state: &mut State, c: char) -> Vec<Effect> {
        press(state, KeyCode::Char(c))
    }

    fn type_text(state: &mut State, text: &str) -> Vec<Effect> {
        text.chars().flat_map(|c| key(state, c)).collect()
    }

    fn tick(state: &mut State, at: Timestamp) -> Vec<Effect> {
        update(state, Action::Tick(at))
    }

    /// The one logs fetch among `effects`: its generation and queries.
    fn fetch(effects: &[Effect]) -> (u64, Vec<LogQuery>) {
        let fetches: Vec<_> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::FetchLogs {
                    env: 0,
                    generation,
                    queries,
                } => Some((*generation, queries.clone())),
                _ => None,
            })
            .collect();
        match fetches.as_slice() {
            [one] => one.clone(),
            other => panic!("expected one logs fetch, got {other:?} in {effects:?}"),
        }
    }

    fn no_fetch(effects: &[Effect]) -> bool {
        !effects
            .iter()
            .any(|e| matches!(e, Effect::FetchLogs { .. }))
    }

    fn event(id: &str, at: Timestamp, message: &str) -> LogEvent {
        LogEvent {
            id: id.into(),
            timestamp: at,
            ingested: Some(at),
            stream: "ecs/app/0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
            message: message.into(),
        }
    }

    fn answer(state: &mut State, generation: u64, at: Timestamp, events: Vec<LogEvent>) {
        let tokens = vec![None; state.logs.as_ref().map_or(0, |l| l.sources.len())];
        let effects = update(
            state,
            Action::LogsLoaded {
                generation,
                at,
                result: Ok(LogBatch { events, tokens }),
            },
        );
        assert!(effects.is_empty(), "a result asks for nothing: {effects:?}");
    }

    fn logs(state: &State) -> &LogsState {
        state.logs.as_ref().expect("a logs view")
    }

    fn ids(state: &State) -> Vec<&str> {
        logs(state).lines.iter().map(|e| e.id.as_str()).collect()
    }

    fn query(prefix: &str, pattern: Option<&str>, start: Timestamp) -> LogQuery {
        LogQuery {
            group: GROUP.into(),
            stream_prefix: Some(prefix.into()),
            filter_pattern: pattern.map(Into::into),
            start,
            end: None,
            limit: PAGE_LIMIT,
            next_token: None,
        }
    }

    /// The logs of `web`, opened from the services view, first poll sent.
    fn opened() -> (State, u64) {
        let mut s = on_services();
        let (generation, _) = fetch(&key(&mut s, 'l'));
        (s, generation)
    }

    #[test]
    fn a_service_is_read_from_each_awslogs_container_of_its_task_definition() {
        let mut s = on_services();
        let effects = key(&mut s, 'l');
        assert_eq!(s.view(), &View::Logs);
        assert_eq!(s.views, vec![View::Overview, View::Services, View::Logs]);
        let start = t0() - TimeDelta::minutes(DEFAULT_LOOKBACK_MINS);
        assert_eq!(
            effects,
            vec![Effect::FetchLogs {
                env: 0,
                generation: 1,
                queries: vec![
                    query("ecs/app/", None, start),
                    query("ecs/nginx/", None, start),
                ],
            }],
            "one query per container with awslogs, none for xray"
        );
        let l = logs(&s);
        assert_eq!(l.target.service, "web");
        assert_eq!(l.target.task, None);
        assert!(l.in_flight);
        assert!(l.follow);
        // No second poll while the first is in flight.
        assert!(no_fetch(&tick(&mut s, secs(5))));
    }

    #[test]
    fn a_task_is_read_from_its_own_streams() {
        let mut s = state();
        load(
            &mut s,
            Resource::Services,
            Data::Services(Listing::complete(vec![service()])),
        );
        td_loaded(&mut s);
        load(
            &mut s,
            Resource::Tasks,
            Data::Tasks(Listing::complete(vec![task(Some("service:web"))])),
        );
        update(&mut s, Action::Command(Command::Tasks));
        let (_, queries) = fetch(&key(&mut s, 'l'));
        let id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
        let start = t0() - TimeDelta::minutes(DEFAULT_LOOKBACK_MINS);
        assert_eq!(
            queries,
            vec![
                query(&format!("ecs/app/{id}"), None, start),
                query(&format!("ecs/nginx/{id}"), None, start),
            ]
        );
        assert_eq!(logs(&s).target.task.as_deref(), Some(id));
        assert_eq!(logs(&s).target.label(), "web task 0f1e2d3c");
        assert_eq!(logs(&s).target.service, "web");
    }

    #[test]
    fn a_task_started_outside_a_service_has_no_logs_view() {
        let mut s = state();
        load(
            &mut s,
            Resource::Tasks,
            Data::Tasks(Listing::complete(vec![task(None)])),
        );
        update(&mut s, Action::Command(Command::Tasks));
        let effects = key(&mut s, 'l');
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(s.view(), &View::Tasks);
        assert!(s.logs.is_none());
        assert!(
            s.flash
                .as_ref()
                .is_some_and(|f| f.text.contains("select a service")),
            "{:?}",
            s.flash
        );
    }

    #[test]
    fn an_unknown_task_definition_is_fetched_then_polled_on_the_next_tick() {
        let mut s = state();
        // The services listing asks for the task definition once...
        let effects = load(
            &mut s,
            Resource::Services,
            Data::Services(Listing::complete(vec![service()])),
        );
        assert!(effects.contains(&Effect::FetchTaskDefinition {
            env: 0,
            arn: TD.into()
        }));
        update(&mut s, Action::Command(Command::Services));
        // ...so opening the logs waits for that answer and asks nothing.
        let effects = key(&mut s, 'l');
        assert!(effects.is_empty(), "{effects:?}");
        assert!(logs(&s).sources.is_empty());
        assert!(no_fetch(&tick(&mut s, secs(1))));
        td_loaded(&mut s);
        let (_, queries) = fetch(&tick(&mut s, secs(2)));
        assert_eq!(queries.len(), 2);
        assert_eq!(logs(&s).sources.len(), 2);
    }

    #[test]
    fn an_unrequested_task_definition_is_asked_for_by_the_view() {
        let mut s = state();
        load(
            &mut s,
            Resource::Services,
            Data::Services(Listing::complete(vec![service()])),
        );
        // The listing's fetch failed: nothing is pending any more.
        update(
            &mut s,
            Action::TaskDefinitionLoaded {
                env: 0,
                arn: TD.into(),
                result: Err(BackendError::Throttled {
                    message: "Rate exceeded".into(),
                }),
            },
        );
        update(&mut s, Action::Command(Command::Services));
        let effects = key(&mut s, 'l');
        assert_eq!(
            effects,
            vec![Effect::FetchTaskDefinition {
                env: 0,
                arn: TD.into()
            }]
        );
        // Asked once: the next tick does not ask again while it is pending.
        assert!(tick(&mut s, secs(1)).is_empty());
    }

    #[test]
    fn results_are_appended_once_each_across_polls() {
        let (mut s, g1) = opened();
        answer(
            &mut s,
            g1,
            secs(0),
            vec![
                event("e2", secs(-30), "GET /api/works 200"),
                event("e1", secs(-40), "GET /health 200"),
            ],
        );
        assert_eq!(ids(&s), ["e1", "e2"], "in time order");
        assert_eq!(logs(&s).loaded_at, Some(secs(0)));
        assert!(!logs(&s).in_flight);
        // The next poll waits for POLL_SECS.
        assert!(no_fetch(&tick(&mut s, secs(1))));
        let (g2, queries) = fetch(&tick(&mut s, secs(POLL_SECS)));
        assert!(g2 > g1);
        // Follow: the start moves up to just before the newest event.
        assert!(
            queries
                .iter()
                .all(|q| q.start == secs(-30 - OVERLAP_SECS) && q.next_token.is_none()),
            "{queries:?}"
        );
        // The overlap brings e2 again: it is not added twice.
        answer(
            &mut s,
            g2,
            secs(POLL_SECS),
            vec![
                event("e2", secs(-30), "GET /api/works 200"),
                event("e3", secs(1), "POST /api/login 302"),
            ],
        );
        assert_eq!(ids(&s), ["e1", "e2", "e3"]);
        assert_eq!(logs(&s).cursor, 2, "following: the newest line");
        let (_, queries) = fetch(&tick(&mut s, secs(2 * POLL_SECS)));
        assert_eq!(queries[0].start, secs(1 - OVERLAP_SECS));
    }

    #[test]
    fn a_result_for_an_older_poll_is_dropped() {
        let (mut s, g1) = opened();
        // A new pattern supersedes the poll in flight.
        let (g2, _) = fetch(&key(&mut s, 'e'));
        answer(&mut s, g1, secs(0), vec![event("old", secs(-5), "GET /")]);
        assert!(logs(&s).lines.is_empty());
        assert!(logs(&s).in_flight, "still waiting for the newer poll");
        answer(&mut s, g2, secs(0), vec![event("new", secs(-5), "ERROR x")]);
        assert_eq!(ids(&s), ["new"]);
    }

    /// A recording keeps the error lines read by default, nothing of the
    /// text with `recording_logs = "counts"`, every line with "all".
    #[test]
    fn a_recording_keeps_the_log_lines_its_config_says() {
        use crate::config::RecordingLogs;
        let (mut s, g1) = opened();
        let action = Action::LogsLoaded {
            generation: g1,
            at: secs(0),
            result: Ok(LogBatch {
                events: vec![
                    event("a", secs(-5), "GET / 200"),
                    event("b", secs(-4), "ERROR db timeout"),
                ],
                tokens: vec![None],
            }),
        };
        let kept = |s: &State| {
            crate::recording::capture(s, &action)
                .and_then(|c| c.kept_log_lines())
                .expect("a logs line")
        };
        assert_eq!(kept(&s), (2, vec!["ERROR db timeout".to_string()]));
        s.recording_logs = RecordingLogs::Counts;
        assert_eq!(kept(&s), (2, Vec::new()));
        s.recording_logs = RecordingLogs::All;
        assert_eq!(kept(&s).1.len(), 2);
    }

    #[test]
    fn a_capped_poll_continues_at_once_with_its_token() {
        let (mut s, g1) = opened();
        let from = t0() - TimeDelta::minutes(DEFAULT_LOOKBACK_MINS);
        update(
            &mut s,
            Action::LogsLoaded {
                generation: g1,
                at: secs(0),
                result: Ok(LogBatch {
                    events: vec![event("e1", secs(-600), "GET /")],
                    tokens: vec![Some(("page-5".into(), from)), None],
                }),
            },
        );
        assert!(logs(&s).behind());
        // No waiting for POLL_SECS while catching up.
        let (_, queries) = fetch(&tick(&mut s, secs(0)));
        assert_eq!(queries[0].next_token.as_deref(), Some("page-5"));
        assert_eq!(queries[0].start, from, "the token's own query");
        assert_eq!(queries[1].next_token, None);
        assert_eq!(queries[1].start, secs(-600 - OVERLAP_SECS));
    }

    #[test]
    fn pause_stops_polling_and_resume_polls_at_once() {
        let (mut s, g1) = opened();
        answer(&mut s, g1, secs(0), vec![event("e1", secs(-1), "GET /")]);
        assert!(key(&mut s, ' ').is_empty());
        assert!(logs(&s).paused);
        for n in 1..30 {
            assert!(no_fetch(&tick(&mut s, secs(n))), "paused at +{n}s");
        }
        // ctrl-r does not poll either while paused.
        assert!(no_fetch(&update(&mut s, Action::Command(Command::Refresh))));
        let (_, queries) = fetch(&key(&mut s, ' '));
        assert!(!logs(&s).paused);
        assert_eq!(
            queries[0].start,
            secs(-1 - OVERLAP_SECS),
            "from where it was"
        );
        assert_eq!(ids(&s), ["e1"], "pause and resume keep the lines");
    }

    #[test]
    fn a_pattern_is_sent_with_the_next_query_and_reads_the_window_again() {
        let (mut s, g1) = opened();
        answer(&mut s, g1, secs(0), vec![event("e1", secs(-1), "GET /")]);
        key(&mut s, 'f');
        assert!(!logs(&s).follow);
        // `/` opens the prompt with the current pattern; esc cancels.
        key(&mut s, '/');
        assert_eq!(logs(&s).prompt, Some(Prompt::Pattern(String::new())));
        type_text(&mut s, "abc");
        press(&mut s, KeyCode::Esc);
        assert_eq!(logs(&s).prompt, None);
        assert_eq!(logs(&s).pattern, "");
        assert_eq!(s.view(), &View::Logs, "esc in the prompt stays in the view");
        assert_eq!(ids(&s), ["e1"]);
        // Typed keys go to the prompt, not to the view (`e`, space, `q`).
        key(&mut s, '/');
        assert!(type_text(&mut s, "\"time out\" -q").is_empty());
        press(&mut s, KeyCode::Backspace);
        key(&mut s, 'e');
        assert!(!s.quit);
        assert!(!logs(&s).paused);
        assert_eq!(
            logs(&s).prompt,
            Some(Prompt::Pattern("\"time out\" -e".into()))
        );
        let (_, queries) = fetch(&press(&mut s, KeyCode::Enter));
        let start = t0() - TimeDelta::minutes(DEFAULT_LOOKBACK_MINS);
        assert_eq!(
            queries[0],
            query("ecs/app/", Some("\"time out\" -e"), start),
            "the whole window again, with the pattern"
        );
        let l = logs(&s);
        assert!(l.lines.is_empty(), "lines of the old pattern are dropped");
        assert_eq!(l.seen_len(), 0);
        assert!(l.follow, "a new pattern follows again");
        assert_eq!(l.prompt, None);
        // An empty pattern removes it.
        let g = logs(&s).generation;
        answer(&mut s, g, secs(0), vec![event("t1", secs(-2), "time out")]);
        key(&mut s, '/');
        for _ in 0.."\"time out\" -e".len() {
            press(&mut s, KeyCode::Backspace);
        }
        type_text(&mut s, "   ");
        let (_, queries) = fetch(&press(&mut s, KeyCode::Enter));
        assert_eq!(queries[0].filter_pattern, None);
        assert_eq!(logs(&s).pattern, "");
    }

    #[test]
    fn the_views_keys_follow_the_keymap() {
        let (mut s, g1) = opened();
        answer(&mut s, g1, secs(0), vec![event("e1", secs(-1), "GET /")]);
        let config: Config = toml::from_str(
            "[keys]\nlogs_errors = [\"z\"]\nlogs_pause = [\"p\"]\nlogs_wrap = [\"W\"]",
        )
        .expect("config");
        s.keymap = Keymap::from_config(&config).expect("keymap");
        // The default keys no longer act.
        assert!(no_fetch(&key(&mut s, 'e')));
        assert_eq!(logs(&s).pattern, "");
        key(&mut s, ' ');
        assert!(!logs(&s).paused);
        // Their new keys do.
        let (_, queries) = fetch(&key(&mut s, 'z'));
        assert_eq!(queries[0].filter_pattern.as_deref(), Some(ERROR_PATTERN));
        key(&mut s, 'p');
        assert!(logs(&s).paused);
        key(&mut s, 'W');
        assert!(logs(&s).wrap);
        // Elsewhere the view's keys do nothing.
        press(&mut s, KeyCode::Esc);
        assert_ne!(s.view(), &View::Logs);
        assert!(key(&mut s, 'z').is_empty());
    }

    #[test]
    fn the_errors_key_toggles_the_error_pattern() {
        let (mut s, g1) = opened();
        answer(&mut s, g1, secs(0), vec![event("e1", secs(-1), "GET /")]);
        let (_, queries) = fetch(&key(&mut s, 'e'));
        assert!(
            queries
                .iter()
                .all(|q| q.filter_pattern.as_deref() == Some(ERROR_PATTERN))
        );
        assert_eq!(logs(&s).pattern, ERROR_PATTERN);
        assert!(logs(&s).lines.is_empty());
        let g = logs(&s).generation;
        answer(&mut s, g, secs(0), vec![event("x", secs(-3), "ERROR boom")]);
        // Again: every line.
        let (_, queries) = fetch(&key(&mut s, 'e'));
        assert!(queries.iter().all(|q| q.filter_pattern.is_none()));
        assert_eq!(logs(&s).pattern, "");
        // From a custom pattern, `e` switches to the errors preset.
        key(&mut s, '/');
        type_text(&mut s, "timeout");
        press(&mut s, KeyCode::Enter);
        let (_, queries) = fetch(&key(&mut s, 'e'));
        assert_eq!(queries[0].filter_pattern.as_deref(), Some(ERROR_PATTERN));
    }

    #[test]
    fn jumping_to_a_time_reads_from_there_without_following() {
        let (mut s, g1) = opened();
        answer(&mut s, g1, secs(0), vec![event("e1", secs(-1), "GET /")]);
        key(&mut s, 't');
        assert_eq!(logs(&s).prompt, Some(Prompt::Time(String::new())));
        let (_, queries) = {
            type_text(&mut s, "2h");
            fetch(&press(&mut s, KeyCode::Enter))
        };
        let two_hours_ago = t0() - TimeDelta::hours(2);
        assert!(queries.iter().all(|q| q.start == two_hours_ago));
        let l = logs(&s);
        assert_eq!(l.start, two_hours_ago);
        assert!(!l.follow, "a jump shows the lines from that time");
        assert!(l.lines.is_empty());
        let g = l.generation;
        answer(
            &mut s,
            g,
            secs(0),
            vec![
                event("a", two_hours_ago, "first"),
                event("b", secs(-60), "later"),
            ],
        );
        assert_eq!(logs(&s).cursor, 0, "the view stays at the jumped-to time");
        // HH:MM is a UTC time of day, the last such moment.
        key(&mut s, 't');
        type_text(&mut s, "02:30");
        fetch(&press(&mut s, KeyCode::Enter));
        assert_eq!(logs(&s).start, t0() - TimeDelta::minutes(30));
        key(&mut s, 't');
        type_text(&mut s, "04:00");
        fetch(&press(&mut s, KeyCode::Enter));
        assert_eq!(
            logs(&s).start,
            t0() - TimeDelta::hours(23),
            "a time later today means yesterday"
        );
    }

    #[test]
    fn a_time_that_does_not_parse_keeps_the_view_and_says_why() {
        let (mut s, g1) = opened();
        answer(&mut s, g1, secs(0), vec![event("e1", secs(-1), "GET /")]);
        let before = logs(&s).clone();
        for text in ["soon", "25:00", "99999d", ""] {
            key(&mut s, 't');
            type_text(&mut s, text);
            let effects = press(&mut s, KeyCode::Enter);
            assert!(effects.is_empty(), "{text}: {effects:?}");
            assert_eq!(logs(&s), &before, "{text}: nothing changes");
            assert!(
                s.flash
                    .as_ref()
                    .is_some_and(|f| f.severity == Severity::Error),
                "{text}: {:?}",
                s.flash
            );
        }
    }

    #[test]
    fn the_buffer_keeps_the_newest_logs_buffer_lines() {
        let mut s = on_services();
        s.logs_buffer_lines = 3;
        let (g1, _) = fetch(&key(&mut s, 'l'));
        answer(
            &mut s,
            g1,
            secs(0),
            (1..=5)
                .map(|i| event(&format!("e{i}"), secs(i - 10), "x"))
                .collect(),
        );
        assert_eq!(ids(&s), ["e3", "e4", "e5"]);
        assert_eq!(logs(&s).evicted, 2);
        let (g2, _) = fetch(&tick(&mut s, secs(POLL_SECS)));
        answer(
            &mut s,
            g2,
            secs(POLL_SECS),
            (5..=8)
                .map(|i| event(&format!("e{i}"), secs(i - 10), "x"))
                .collect(),
        );
        assert_eq!(ids(&s), ["e6", "e7", "e8"], "e5 once, the oldest dropped");
        assert_eq!(logs(&s).evicted, 5);
        assert_eq!(logs(&s).cursor, 2);
        // Scrolled up, the cursor stays on its line as older ones go.
        update(&mut s, Action::Command(Command::Up));
        assert_eq!(logs(&s).cursor, 1);
        let (g3, _) = fetch(&tick(&mut s, secs(2 * POLL_SECS)));
        answer(&mut s, g3, secs(4), vec![event("e9", secs(0), "x")]);
        assert_eq!(ids(&s), ["e7", "e8", "e9"]);
        assert_eq!(logs(&s).lines[logs(&s).cursor].id, "e7");
    }

    #[test]
    fn a_failed_poll_is_shown_keeps_the_lines_and_retries_later() {
        let (mut s, g1) = opened();
        answer(&mut s, g1, secs(0), vec![event("e1", secs(-1), "GET /")]);
        let (g2, _) = fetch(&tick(&mut s, secs(POLL_SECS)));
        s.dirty = false;
        update(
            &mut s,
            Action::LogsLoaded {
                generation: g2,
                at: secs(POLL_SECS),
                result: Err(BackendError::Unauthorized {
                    message: "ExpiredToken".into(),
                    hint: Some("run `aws sso login`".into()),
                }),
            },
        );
        assert!(s.dirty, "the error is drawn");
        let l = logs(&s);
        assert!(matches!(l.error, Some(BackendError::Unauthorized { .. })));
        assert_eq!(ids(&s), ["e1"], "the lines stay");
        assert!(!logs(&s).in_flight);
        assert_eq!(logs(&s).loaded_at, Some(secs(0)), "the last good poll");
        // No hammering: the retry waits RETRY_SECS.
        assert!(no_fetch(&tick(&mut s, secs(POLL_SECS + 2))));
        let (g3, _) = fetch(&tick(&mut s, secs(POLL_SECS + RETRY_SECS)));
        answer(&mut s, g3, secs(12), vec![event("e2", secs(11), "GET /")]);
        assert_eq!(logs(&s).error, None, "a good poll clears the error");
        assert_eq!(ids(&s), ["e1", "e2"]);
    }

    #[test]
    fn esc_goes_back_and_polling_stops() {
        let (mut s, g1) = opened();
        answer(&mut s, g1, secs(0), vec![event("e1", secs(-1), "GET /")]);
        press(&mut s, KeyCode::Esc);
        assert_eq!(s.view(), &View::Services);
        for n in 1..10 {
            assert!(no_fetch(&tick(&mut s, secs(n))));
        }
        // A result arriving after leaving is harmless.
        update(
            &mut s,
            Action::LogsLoaded {
                generation: 99,
                at: secs(9),
                result: Ok(LogBatch {
                    events: Vec::new(),
                    tokens: Vec::new(),
                }),
            },
        );
        assert_eq!(s.view(), &View::Services);
        // Opening again starts afresh.
        let (_, queries) = fetch(&key(&mut s, 'l'));
        assert!(logs(&s).lines.is_empty());
        assert_eq!(
            queries[0].start,
            secs(9) - TimeDelta::minutes(DEFAULT_LOOKBACK_MINS)
        );
    }

    #[test]
    fn esc_from_a_service_detail_goes_back_to_it() {
        let mut s = on_services();
        update(&mut s, Action::Command(Command::Select));
        let detail = View::ServiceDetail {
            service: "web".into(),
        };
        assert_eq!(s.view(), &detail);
        fetch(&key(&mut s, 'l'));
        assert_eq!(logs(&s).target.service, "web");
        // `l` again in the logs view does not stack a second view.
        assert!(key(&mut s, 'l').is_empty());
        press(&mut s, KeyCode::Esc);
        assert_eq!(s.view(), &detail);
    }

    #[test]
    fn moving_up_leaves_follow_and_bottom_resumes_it() {
        let (mut s, g1) = opened();
        answer(
            &mut s,
            g1,
            secs(0),
            (1..=4)
                .map(|i| event(&format!("e{i}"), secs(-i), "x"))
                .collect(),
        );
        assert_eq!(logs(&s).cursor, 3);
        key(&mut s, 'k');
        assert!(!logs(&s).follow);
        assert_eq!(logs(&s).cursor, 2);
        key(&mut s, 'g');
        assert_eq!(logs(&s).cursor, 0);
        // New lines do not move a scrolled view.
        let (g2, _) = fetch(&tick(&mut s, secs(POLL_SECS)));
        answer(&mut s, g2, secs(2), vec![event("e5", secs(1), "x")]);
        assert_eq!(logs(&s).cursor, 0);
        key(&mut s, 'G');
        assert!(logs(&s).follow);
        assert_eq!(logs(&s).cursor, 4);
    }

    #[test]
    fn a_poll_in_flight_when_pausing_does_not_move_the_view() {
        let (mut s, g1) = opened();
        answer(&mut s, g1, secs(0), vec![event("e1", secs(-1), "GET /")]);
        let (g2, _) = fetch(&tick(&mut s, secs(POLL_SECS)));
        key(&mut s, ' ');
        answer(&mut s, g2, secs(3), vec![event("e2", secs(2), "GET /")]);
        assert_eq!(ids(&s), ["e1"], "paused: nothing is added");
        // Resuming asks again from the newest line seen: e2 comes back.
        let (g3, queries) = fetch(&key(&mut s, ' '));
        assert_eq!(queries[0].start, secs(-1 - OVERLAP_SECS));
        answer(&mut s, g3, secs(4), vec![event("e2", secs(2), "GET /")]);
        assert_eq!(ids(&s), ["e1", "e2"]);
    }

    #[test]
    fn switching_environment_closes_the_logs_of_the_previous_one() {
        let mut s = state();
        let mut staging = s.envs[0].clone();
        staging.name = "staging".into();
        s.envs.push(staging);
        load(
            &mut s,
            Resource::Services,
            Data::Services(Listing::complete(vec![service()])),
        );
        td_loaded(&mut s);
        update(&mut s, Action::Command(Command::Services));
        fetch(&key(&mut s, 'l'));
        update(&mut s, Action::Command(Command::NextEnvironment));
        assert_eq!(s.active, 1);
        assert_eq!(
            s.view(),
            &View::Services,
            "production's logs are not shown under staging"
        );
        assert!(no_fetch(&tick(&mut s, secs(5))));
    }

    #[test]
    fn a_task_definition_that_cannot_be_read_is_shown_and_retried_later() {
        let mut s = state();
        load(
            &mut s,
            Resource::Services,
            Data::Services(Listing::complete(vec![service()])),
        );
        let denied = || Action::TaskDefinitionLoaded {
            env: 0,
            arn: TD.into(),
            result: Err(BackendError::Unauthorized {
                message: "not authorized to perform ecs:DescribeTaskDefinition".into(),
                hint: None,
            }),
        };
        update(&mut s, denied());
        update(&mut s, Action::Command(Command::Services));
        assert_eq!(key(&mut s, 'l').len(), 1, "asked again on opening");
        update(&mut s, denied());
        assert!(
            matches!(logs(&s).error, Some(BackendError::Unauthorized { .. })),
            "the view says why it has no lines"
        );
        let fetches_td = |effects: &[Effect]| {
            effects
                .iter()
                .any(|e| matches!(e, Effect::FetchTaskDefinition { .. }))
        };
        for n in 1..RETRY_SECS {
            assert!(!fetches_td(&tick(&mut s, secs(n))), "no retry at +{n}s");
        }
        assert!(fetches_td(&tick(&mut s, secs(RETRY_SECS))));
        td_loaded(&mut s);
        let (_, queries) = fetch(&tick(&mut s, secs(RETRY_SECS + 1)));
        assert_eq!(queries.len(), 2);
        assert_eq!(logs(&s).error, None);
    }
}
