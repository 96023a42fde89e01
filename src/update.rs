//! The reducer: `update(&mut State, Action) -> Vec<Effect>`.
//!
//! Pure: no I/O, no awaits, no clock reads (time arrives in actions). Every
//! branch is covered by reducer tests at the bottom of this file and in
//! `tests/app.rs`.

use chrono::TimeDelta;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::action::{Action, Data, Resource};
use crate::config::keys::{Command, KeyContext};
use crate::domain::task_definition_label;
use crate::effect::Effect;
use crate::kind::{Kind, Registered, with_kind};
use crate::request::Ask;
use crate::state::{
    Dialog, EnvState, Flash, LoadState, Mode, Panel, Severity, State, View, ViewKind,
};

/// How long a flash message stays.
const FLASH_SECS: i64 = 6;
#[cfg(test)]
pub(crate) use crate::request::STUCK_AFTER_SECS;

/// The `:` commands and what they complete to.
pub const COMMANDS: &[(&str, &str)] = &[
    ("overview", "the environment at a glance"),
    ("svc", "services"),
    ("services", "services"),
    ("tasks", "tasks (optionally :tasks SERVICE)"),
    ("db", "databases and snapshots"),
    ("databases", "databases and snapshots"),
    ("hosts", "EC2 hosts: state and status checks"),
    ("alarms", "CloudWatch alarms"),
    ("env", "switch environment (:env NAME)"),
    ("fleet", "every environment side by side"),
    ("diag", "requests, errors and throttles per API"),
    ("activity", "operations of this session and the audit log"),
    (
        "cloudfront",
        "CloudFront distributions and their invalidations",
    ),
    (
        "redis",
        "ElastiCache Redis: replication groups, nodes, metrics",
    ),
    (
        "elasticache",
        "ElastiCache Redis: replication groups, nodes, metrics",
    ),
    (
        "timeline",
        "events, operations, notes and marks (:timeline fleet: every environment)",
    ),
    ("note", "a note on the timeline (:note TEXT)"),
    (
        "seek",
        "replay: go to a time (:seek HH:MM[:SS] UTC, +5m, -90s)",
    ),
    (
        "mark",
        "an incident mark (:mark impact [HH:MM] | mitigated | recovered)",
    ),
    (
        "sort",
        "sort the table (:sort COLUMN [asc|desc]; :sort alone: default order)",
    ),
    ("help", "key bindings"),
    ("q", "quit"),
    ("quit", "quit"),
];

/// Applies one action to the state and returns the effects it asks for.
///
/// Afterwards the current view's highlight is put back on its selected
/// resource (by identity): whatever re-sorted or refreshed, a key acts on
/// the resource the operator sees highlighted.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    // A frame was drawn: nothing changed but what the operator has seen
    // (and a movement burst's selection is read once per frame).
    if matches!(action, Action::Drawn) {
        state.settle_selection();
        return apply_action(state, action);
    }
    let was_confirming = state.mode.is_confirmation();
    let prompt_before = prompt_slot(state);
    // Movement keys leave the identity of the selection to be read once
    // (see `State::settle_selection`); anything else reads it first.
    if !matches!(action, Action::Key(_) | Action::Command(_)) {
        state.settle_selection();
    }
    let phases = timeline::phases(state);
    let mut effects = apply_action(state, action);
    // --- timeline: operations whose status moved.
    effects.extend(timeline::operations(state, &phases));
    if state.mode.is_confirmation() && !was_confirming {
        // A new confirmation: only keys read after it is drawn answer it.
        state.confirm_shown = false;
    }
    if prompt_slot(state) != prompt_before {
        // Another prompt: its cursor starts at the end of its text.
        state.prompt_back = 0;
    }
    if let Some(id) = state.anchor_selection() {
        let text = format!(
            "{} is no longer listed; the highlight stays in place — select a row ({}) before acting",
            crate::domain::short_id(&id),
            state.move_keys()
        );
        flash(state, &text, Severity::Error);
    }
    // An alarm on screen has been seen, however the view was reached.
    health::mark_seen(state);
    // --- drills: the first look at an affected resource.
    crate::drill::observe(state);
    effects
}

/// Which prompt is open, if any (its cursor is reset when this changes).
fn prompt_slot(state: &State) -> Option<(u8, Option<crate::state::InputPurpose>)> {
    match &state.mode {
        Mode::Command { .. } => Some((1, None)),
        Mode::Filter { .. } => Some((2, None)),
        Mode::Dialog(Dialog::Input { purpose, .. }) => Some((3, Some(purpose.clone()))),
        Mode::Dialog(Dialog::Confirm { .. }) => Some((4, None)),
        Mode::Dialog(Dialog::Rollback { .. }) => Some((5, None)),
        // The identifier and the time are two prompts.
        Mode::Dialog(Dialog::Restore { from, .. }) => match from {
            crate::state::RestorePick::PointInTime { on_time: true, .. } => Some((9, None)),
            _ => Some((8, None)),
        },
        Mode::Normal if state.views.last() == Some(&View::Logs) => {
            match state.logs.as_ref().and_then(|l| l.prompt.as_ref()) {
                Some(crate::logs::Prompt::Pattern(_)) => Some((6, None)),
                Some(crate::logs::Prompt::Time(_)) => Some((7, None)),
                None => None,
            }
        }
        _ => None,
    }
}

fn apply_action(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => on_key(state, key),
        Action::Paste(text) => on_paste(state, &text),
        Action::Drawn => {
            if state.mode.is_confirmation() && !state.confirm_shown {
                // It accepts keys now, and says so.
                state.confirm_shown = true;
                state.dirty = true;
            }
            Vec::new()
        }
        Action::Command(cmd) => on_command(state, cmd),
        Action::Resize(w, h) => {
            // Header, panel borders, footer and table header take ~8 rows.
            state.page_rows = usize::from(h.saturating_sub(8)).max(1);
            state.screen = (w, h);
            if state.mode == Mode::Help {
                state.help_scroll = state.help_scroll.min(crate::ui::help_max_scroll(state));
            }
            state.dirty = true;
            Vec::new()
        }
        Action::Tick(now) => {
            let mut effects = on_tick(state, now);
            effects.extend(crate::drill::on_tick(state));
            effects
        }
        // --- drills
        Action::DrillChecked(status) => crate::drill::on_checked(state, status),
        Action::PollDue { env, resource } => poll(state, env, resource, false),
        Action::Loaded {
            env,
            resource,
            generation,
            at,
            result,
        } => on_loaded(state, env, resource, generation, at, result),
        Action::TaskDefinitionLoaded { env, arn, result } => {
            let Some(e) = state.envs.get_mut(env) else {
                return Vec::new();
            };
            e.task_definitions_requested.remove(&arn);
            match result {
                Ok(td) => {
                    e.task_definitions.insert(arn, td);
                }
                Err(err) => {
                    tracing::warn!(env = %e.name, %arn, error = %err, "task definition fetch failed");
                    // --- logs
                    logs::on_task_definition_failed(state, env, &arn, err);
                }
            }
            state.dirty = true;
            Vec::new()
        }
        Action::Stats { env, stats } => {
            if let Some(e) = state.envs.get_mut(env) {
                e.request_stats = stats;
                if state.view() == &View::Diagnostics {
                    state.dirty = true;
                }
            }
            Vec::new()
        }
        Action::OperationDone {
            id,
            at,
            result,
            read_back,
        } => operate::on_done(state, &id, at, result, read_back),
        Action::OperationUnanswered { id, at, error } => {
            operate::on_unanswered(state, &id, at, error)
        }
        Action::Start => operate::reconcile_earlier(state),
        // --- replay
        Action::TimelineReplayed { env, event } => {
            timeline::replayed(state, env, *event);
            Vec::new()
        }
        Action::AuditReplayed(record) => {
            let mut records = std::mem::take(&mut state.history);
            records.push(*record);
            state.history = crate::audit::latest_per_operation(records);
            state.dirty = true;
            Vec::new()
        }
        Action::Reconciled { id, result } => operate::on_reconciled(state, &id, result),
        Action::OutcomeAudited { id, result } => operate::on_outcome_audited(state, &id, result),
        Action::ExecEnded { id, end } => exec::on_session_ended(state, &id, &end),
        Action::ImageChecked { env, image, result } => {
            operate::on_image_checked(state, env, image, result)
        }
        Action::Notice { text, error } => {
            let severity = if error {
                Severity::Error
            } else {
                Severity::Info
            };
            flash(state, &text, severity);
            Vec::new()
        }
        Action::RevisionsLoaded {
            env,
            family,
            generation,
            at,
            result,
        } => {
            let Some(e) = state.envs.get_mut(env) else {
                return Vec::new();
            };
            let Some(panel) = e.revisions.get_mut(&family) else {
                return Vec::new();
            };
            if !panel.apply(generation, at, result.map(|v| (v, Vec::new()))) {
                return Vec::new();
            }
            state.dirty = true;
            // An open rollback dialog shows the image and age of each revision.
            let current = match &state.mode {
                Mode::Dialog(Dialog::Rollback {
                    env: e,
                    service,
                    family: f,
                    ..
                }) if *e == env && *f == family => {
                    state.service(service).map(|s| s.task_definition.clone())
                }
                _ => None,
            };
            match current {
                Some(current) => operate::describe_candidates(state, env, &family, &current),
                None => Vec::new(),
            }
        }
        // --- probes
        Action::ProbeDue { env, probe } => probes::due(state, env, probe, false),
        Action::ProbeDone {
            env,
            probe,
            generation,
            at,
            report,
        } => {
            let was_failing = state
                .envs
                .get(env)
                .and_then(|e| e.probes.get(probe))
                .is_some_and(|p| p.consecutive_failures > 0);
            let mut effects = probes::done(state, env, probe, generation, at, &report);
            // --- timeline
            effects.extend(timeline::check_changed(state, env, probe, was_failing));
            effects
        }
        // --- metrics
        Action::AlarmHistoryLoaded {
            env,
            alarm,
            generation,
            at,
            result,
        } => metrics::on_history(state, env, &alarm, generation, at, result),
        // --- logs
        Action::LogsLoaded {
            generation,
            at,
            result,
        } => logs::on_loaded(state, generation, at, result),
    }
}

fn on_tick(state: &mut State, now: chrono::DateTime<chrono::Utc>) -> Vec<Effect> {
    let before = visible_clock_label(state);
    state.now = now;
    if let Some(flash) = &state.flash
        && now - flash.at > TimeDelta::seconds(FLASH_SECS)
    {
        state.flash = None;
        state.dirty = true;
    }
    if visible_clock_label(state) != before {
        state.dirty = true;
    }
    let mut effects = operate::on_tick(state);
    // --- logs
    effects.extend(logs::on_tick(state));
    effects
}

/// What the screen shows that depends on the clock: the data ages.
fn visible_clock_label(state: &State) -> Vec<String> {
    let Some(env) = state.env() else {
        return Vec::new();
    };
    Resource::ALL
        .iter()
        .filter_map(|r| env.panel_meta(*r).loaded_at)
        .map(|t| crate::state::format_age(state.now - t))
        // The header's clock (HH:MM).
        .chain(std::iter::once(state.now.format("%H:%M").to_string()))
        .collect()
}

/// Starts a fetch of `resource` for environment `env` unless one is in
/// flight (a poller tick and a manual refresh are both skipped then, unless
/// the request has been lost: [`crate::request::STUCK_AFTER_SECS`]). A poller also waits
/// out the backoff after failures; a manual refresh does not, and its
/// failure does not add to it.
fn poll(state: &mut State, env: usize, resource: Resource, manual: bool) -> Vec<Effect> {
    if !state.polls(resource) {
        return Vec::new();
    }
    // --- metrics
    if resource == Resource::Metrics {
        let trigger = if manual {
            metrics::Trigger::Manual
        } else {
            metrics::Trigger::Poller
        };
        return metrics::poll(state, env, trigger);
    }
    let now = state.now;
    let Some(e) = state.envs.get_mut(env) else {
        return Vec::new();
    };
    if !e.reads(resource) {
        return Vec::new();
    }
    // Services, scaling and tasks are read per cluster: the configured
    // ones, else those discovered (an environment that names none polls
    // `Resource::Clusters`, whose first answer starts these at once).
    let clusters = if resource.per_cluster() {
        match e.ecs_clusters() {
            Some(c) => c.to_vec(),
            None => return Vec::new(),
        }
    } else {
        Vec::new()
    };
    let target_arns = if resource == Resource::Targets {
        e.target_group_arns()
    } else {
        Vec::new()
    };
    // After failures a poller backs off (a manual refresh does not).
    let ask = if manual { Ask::Manual } else { Ask::Poller };
    let begun = with_kind!(resource, K => K::panel_mut(&mut e.panels).try_begin(now, ask));
    let Some(generation) = begun else {
        return Vec::new();
    };
    if env == state.active {
        state.dirty = true;
    }
    if resource == Resource::Targets {
        return vec![Effect::FetchTargets {
            env,
            generation,
            arns: target_arns,
        }];
    }
    vec![Effect::Fetch {
        env,
        resource,
        generation,
        clusters,
    }]
}

/// A panel whose server could not be reached (refused, timed out, a
/// server error) tries again at its own interval, never later: it is the
/// probe that notices the server is back within one interval. Its
/// requests stay at the steady rate (one per interval, one in flight).
/// Throttling and credential errors keep their exponential backoff.
fn cap_outage_backoff<T>(panel: &mut Panel<T>, at: crate::domain::Timestamp, interval: TimeDelta) {
    if matches!(
        panel.load,
        LoadState::Failed(crate::backend::BackendError::Unavailable { .. })
    ) {
        panel.request.cap_backoff(at, interval);
    }
}

/// An answer from the environment: its other panels backing off after an
/// outage or a credentials error try again at their pollers' next turn,
/// each at its own interval: recovery within one interval, and no burst
/// (the pollers keep their rhythm). A throttled API stays backed off
/// (another API's answer says nothing of it), and so does a panel whose
/// request was refused as invalid or not found.
fn release_backoffs(e: &mut EnvState) {
    fn release<T>(panel: &mut Panel<T>) {
        if matches!(
            panel.load,
            LoadState::Failed(
                crate::backend::BackendError::Unavailable { .. }
                    | crate::backend::BackendError::Unauthorized { .. }
            )
        ) {
            panel.request.release();
        }
    }
    for r in Resource::ALL {
        with_kind!(r, K => release(K::panel_mut(&mut e.panels)));
    }
}

/// Applies a fetch's answer to the panel of kind `K` (unless it is stale
/// or of another kind: then `false`, nothing changed); a panel whose
/// server could not be reached tries again within its `interval`.
fn take<K: Kind>(
    e: &mut EnvState,
    env: usize,
    generation: u64,
    at: chrono::DateTime<chrono::Utc>,
    result: Result<Data, crate::backend::BackendError>,
    interval: TimeDelta,
) -> bool {
    let panel = K::panel_mut(&mut e.panels);
    if !panel.request.is_current(generation) {
        tracing::debug!(env, resource = ?K::RESOURCE, generation, "dropping a stale result");
        return false;
    }
    let result = match result.map(K::unwrap) {
        Ok(Ok(data)) => Ok(K::held(data)),
        Ok(Err(other)) => {
            tracing::error!(resource = ?K::RESOURCE, got = ?std::mem::discriminant(&other), "result of the wrong kind");
            return false;
        }
        Err(err) => Err(err),
    };
    panel.apply(generation, at, result);
    cap_outage_backoff(panel, at, interval);
    true
}

fn on_loaded(
    state: &mut State,
    env: usize,
    resource: Resource,
    generation: u64,
    at: chrono::DateTime<chrono::Utc>,
    result: Result<Data, crate::backend::BackendError>,
) -> Vec<Effect> {
    let health_only = state.health_only;
    // A replay shows the recorded events instead of deriving them again.
    let replaying = state.replay.is_some();
    let succeeded = result.is_ok();
    let Some(e) = state.envs.get_mut(env) else {
        return Vec::new();
    };
    let clusters_before = match resource {
        Resource::Clusters => e.discovered_clusters.data.clone(),
        _ => None,
    };
    // --- timeline: what changed, read before the new data replaces the old
    // (kept only if the result is applied).
    let events = if replaying {
        Vec::new()
    } else {
        timeline::derive(e, resource, at, &result)
    };
    let interval = TimeDelta::from_std(resource.interval(&e.intervals)).unwrap_or(TimeDelta::MAX);
    if !with_kind!(resource, K => take::<K>(e, env, generation, at, result, interval)) {
        return Vec::new();
    }
    let mut effects = Vec::new();
    if resource == Resource::Services {
        if !health_only {
            effects.extend(request_task_definitions(e, env));
        }
        // Target health waits for the services (they name the groups): the
        // first time they are known it is asked for at once, not at the
        // poller's next turn.
        let first_targets = e.targets.requested_at.is_none() && !e.target_group_arns().is_empty();
        if first_targets {
            effects.extend(poll(state, env, Resource::Targets, false));
        }
        // So are the CodeDeploy groups, once a CODE_DEPLOY service shows.
        if let Some(e) = state.envs.get(env)
            && e.blue_greens.requested_at.is_none()
            && e.has_code_deploy()
        {
            effects.extend(poll(state, env, Resource::BlueGreens, false));
        }
    } else if resource == Resource::Clusters && e.discovered_clusters.data != clusters_before {
        // The first cluster list, or a changed one, is read at once rather
        // than at the pollers' next turn (a new cluster shows up promptly).
        for r in [Resource::Services, Resource::Scaling, Resource::Tasks] {
            effects.extend(poll(state, env, r, false));
        }
    }
    if succeeded && let Some(e) = state.envs.get_mut(env) {
        release_backoffs(e);
    }
    if succeeded && resource != Resource::Identity {
        effects.extend(reread_identity(state, env));
    }
    effects.extend(operate::advance_watches(state, env));
    // --- health: shortfalls, fired and resolved alarms, the bell.
    effects.extend(health::after_load(state, env, resource, at));
    // --- metrics
    effects.extend(metrics::after_load(state, env, resource));
    // --- timeline
    if !replaying {
        effects.extend(timeline::record(state, env, events));
    }
    if env == state.active {
        state.dirty = true;
    }
    effects
}

/// At most this often is the caller identity re-read because other calls
/// succeed while it stays unauthorized.
const IDENTITY_REREAD_SECS: i64 = 10;

/// A call of the environment succeeded while its caller identity had failed
/// for want of credentials: they have been fixed, so the identity (the
/// account, the "unauthorized" banner) is read again at once rather than at
/// its next poll minutes later.
fn reread_identity(state: &mut State, env: usize) -> Vec<Effect> {
    let Some(id) = state.envs.get(env).map(|e| &e.identity) else {
        return Vec::new();
    };
    let unauthorized = matches!(
        id.load,
        LoadState::Failed(crate::backend::BackendError::Unauthorized { .. })
    );
    let lately = id
        .requested_at
        .is_some_and(|t| state.now - t < TimeDelta::seconds(IDENTITY_REREAD_SECS));
    if !unauthorized || id.in_flight || lately {
        return Vec::new();
    }
    poll(state, env, Resource::Identity, true)
}

/// Asks for every task definition the services refer to that is not cached.
fn request_task_definitions(e: &mut EnvState, env: usize) -> Vec<Effect> {
    let Some(services) = &e.services.data else {
        return Vec::new();
    };
    let mut wanted: Vec<String> = Vec::new();
    for s in services {
        for arn in std::iter::once(&s.task_definition)
            .chain(s.deployments.iter().map(|d| &d.task_definition))
        {
            if !e.task_definitions.contains_key(arn)
                && !e.task_definitions_requested.contains(arn)
                && !wanted.contains(arn)
            {
                wanted.push(arn.clone());
            }
        }
    }
    wanted
        .into_iter()
        .map(|arn| {
            e.task_definitions_requested.insert(arn.clone());
            Effect::FetchTaskDefinition { env, arn }
        })
        .collect()
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    // ctrl-c always quits, whatever the mode and the keymap.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return quit(state);
    }
    if state.mode != Mode::Normal {
        state.settle_selection();
    }
    // A confirmation answers only keys read after the operator could see
    // it: keys typed ahead (or queued behind a frame) are dropped, esc
    // excepted (cancelling is always safe).
    if state.mode.is_confirmation() && !state.confirm_shown && key.code != KeyCode::Esc {
        flash(
            state,
            "a key pressed before the confirmation could be read was ignored: read it, then answer",
            Severity::Error,
        );
        return Vec::new();
    }
    match state.mode.clone() {
        // --- logs: the logs view's own keys come first.
        Mode::Normal
            if state.view() == &View::Logs
                && let Some(effects) = logs::on_key(state, key) =>
        {
            effects
        }
        Mode::Normal => match state.keymap.command_for(&key, state.key_context()) {
            Some(cmd) => on_command(state, cmd),
            // k9s habit: shift + a column's letter sorts by it.
            None => match crate::sort::column_for_key(state.key_context(), &state.keymap, &key) {
                Some(column) => sort_by(state, column, None),
                None => Vec::new(),
            },
        },
        Mode::Dialog(dialog) => operate::on_key(state, dialog, key),
        Mode::Help => {
            state.dirty = true;
            // Movement keys scroll a help that does not fit; any other key
            // closes it (quit also quits).
            let max = crate::ui::help_max_scroll(state);
            let page = state.page_rows.max(1);
            let scroll = state.help_scroll;
            let ctx = state.key_context();
            let moved = match state.keymap.command_for(&key, ctx) {
                Some(Command::Down) => Some(scroll + 1),
                Some(Command::Up) => Some(scroll.saturating_sub(1)),
                Some(Command::PageDown) => Some(scroll + page),
                Some(Command::PageUp) => Some(scroll.saturating_sub(page)),
                Some(Command::Top) => Some(0),
                Some(Command::Bottom) => Some(max),
                _ => None,
            };
            // A help that fits has nothing to scroll: any key closes it.
            if let Some(to) = moved.filter(|_| max > 0) {
                state.help_scroll = to.min(max);
                return Vec::new();
            }
            state.mode = Mode::Normal;
            match state.keymap.command_for(&key, ctx) {
                Some(Command::Quit) => quit_asked(state),
                _ => Vec::new(),
            }
        }
        Mode::Command { mut input } => {
            match key.code {
                KeyCode::Esc => state.mode = Mode::Normal,
                KeyCode::Enter => {
                    state.mode = Mode::Normal;
                    state.dirty = true;
                    return run_command_line(state, &input);
                }
                KeyCode::Tab => {
                    input = complete(state, &input);
                    state.mode = Mode::Command { input };
                }
                // Backspace on an empty line closes it.
                KeyCode::Backspace if input.is_empty() => state.mode = Mode::Normal,
                _ => match crate::prompt::edit(&mut input, &mut state.prompt_back, &key) {
                    crate::prompt::Edit::NotAnEdit => return Vec::new(),
                    _ => state.mode = Mode::Command { input },
                },
            }
            state.dirty = true;
            Vec::new()
        }
        Mode::Filter { mut input } => {
            let kind = state.view().kind();
            let replace = std::mem::take(&mut state.filter_replace);
            match key.code {
                KeyCode::Esc => {
                    state.filters.remove(&kind);
                    state.mode = Mode::Normal;
                }
                KeyCode::Enter => {
                    if input.trim().is_empty() {
                        state.filters.remove(&kind);
                    } else {
                        state.filters.insert(kind, input);
                    }
                    state.mode = Mode::Normal;
                }
                KeyCode::Down | KeyCode::Up => {
                    // Move the selection while typing (the old text is
                    // still replaced by what is typed next).
                    state.filter_replace = replace;
                    let cmd = if key.code == KeyCode::Down {
                        Command::Down
                    } else {
                        Command::Up
                    };
                    return on_command(state, cmd);
                }
                _ => {
                    // `/` starts a new filter: a character typed first
                    // replaces the old one.
                    if replace
                        && matches!(key.code, KeyCode::Char(_))
                        && !key
                            .modifiers
                            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                    {
                        input.clear();
                        state.prompt_back = 0;
                    }
                    match crate::prompt::edit(&mut input, &mut state.prompt_back, &key) {
                        crate::prompt::Edit::NotAnEdit => {
                            state.filter_replace = replace;
                            return Vec::new();
                        }
                        _ => state.mode = Mode::Filter { input },
                    }
                }
            }
            check_filter(state, kind);
            state.reselect_or_top();
            state.dirty = true;
            Vec::new()
        }
    }
}

/// A filter naming a field its view does not have says which fields
/// exist (beside the filter line while typing, after it closes too); the
/// message goes once the filter is right.
fn check_filter(state: &mut State, kind: ViewKind) {
    const PREFIX: &str = "unknown filter field";
    match crate::state::Filter::parse(state.filter(kind)).unknown_field(kind) {
        Some(text) => flash(state, &text, Severity::Error),
        None => {
            if state
                .flash
                .as_ref()
                .is_some_and(|f| f.text.starts_with(PREFIX))
            {
                state.flash = None;
            }
        }
    }
}

/// The longest text a paste may put into a prompt.
pub const PASTE_MAX_CHARS: usize = crate::prompt::MAX_CHARS;

/// A bracketed paste: inserted into the prompt being typed (control
/// characters and surrounding blanks removed, cut at [`PASTE_MAX_CHARS`]),
/// ignored with a message anywhere else.
fn on_paste(state: &mut State, text: &str) -> Vec<Effect> {
    state.dirty = true;
    let clean: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let total = clean.chars().count();
    let back = state.prompt_back;
    let insert = |input: &mut String| -> usize { crate::prompt::insert_str(input, back, &clean) };
    let replace = std::mem::take(&mut state.filter_replace);
    let inserted = match &mut state.mode {
        Mode::Command { input } => Some(insert(input)),
        Mode::Filter { input } => {
            if replace {
                input.clear();
            }
            Some(insert(input))
        }
        Mode::Dialog(Dialog::Input { input, error, .. }) => {
            *error = None;
            Some(insert(input))
        }
        Mode::Dialog(Dialog::Restore {
            from,
            target,
            error,
            ..
        }) => {
            *error = None;
            match from {
                crate::state::RestorePick::PointInTime {
                    time,
                    on_time: true,
                } => Some(insert(time)),
                _ => Some(insert(target)),
            }
        }
        Mode::Dialog(Dialog::Confirm { .. } | Dialog::Rollback { .. }) => {
            flash(
                state,
                "paste ignored: type the confirmation yourself",
                Severity::Error,
            );
            return Vec::new();
        }
        Mode::Dialog(Dialog::PickContainer { .. } | Dialog::ExecContainer { .. }) | Mode::Help => {
            None
        }
        Mode::Normal => match state.logs.as_mut().and_then(|l| l.prompt.as_mut()) {
            Some(crate::logs::Prompt::Pattern(input) | crate::logs::Prompt::Time(input))
                if state.views.last() == Some(&View::Logs) =>
            {
                Some(insert(input))
            }
            _ => None,
        },
    };
    match inserted {
        None => {
            let text = format!(
                "paste ignored ({total} characters): paste into a prompt (: / or a dialog's value)"
            );
            flash(state, &text, Severity::Info);
        }
        Some(n) if n < total => {
            let text = format!(
                "pasted {n} of {total} characters: a prompt holds at most {PASTE_MAX_CHARS}"
            );
            flash(state, &text, Severity::Error);
        }
        Some(_) => {}
    }
    if matches!(state.mode, Mode::Filter { .. }) {
        let kind = state.view().kind();
        check_filter(state, kind);
        state.reselect_or_top();
    }
    Vec::new()
}

fn quit(state: &mut State) -> Vec<Effect> {
    state.quit = true;
    crate::drill::on_quit(state);
    vec![Effect::Quit]
}

/// `q` / `:q`: asks again while a change is being followed.
fn quit_asked(state: &mut State) -> Vec<Effect> {
    if operate::may_quit(state) {
        quit(state)
    } else {
        Vec::new()
    }
}

fn on_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    state.dirty = true;
    // --- logs
    if state.view() == &View::Logs
        && let Some(effects) = logs::on_command(state, cmd)
    {
        return effects;
    }
    let movement = matches!(
        cmd,
        Command::Up
            | Command::Down
            | Command::Top
            | Command::Bottom
            | Command::PageUp
            | Command::PageDown
    );
    if !movement {
        state.settle_selection();
    }
    let kind = state.view().kind();
    let rows = if movement { state.row_count() } else { 0 };
    let sel = state.selected(kind);
    let last = rows.saturating_sub(1);
    match cmd {
        Command::Quit => return quit_asked(state),
        Command::Back => {
            if state.filters.remove(&kind).is_some() {
                state.reselect_or_top();
            } else if state.views.len() > 1 {
                state.views.pop();
            }
        }
        Command::Up => state.move_selection(sel.saturating_sub(1), rows),
        Command::Down => state.move_selection((sel + 1).min(last), rows),
        Command::Top => state.move_selection(0, rows),
        Command::Bottom => state.move_selection(last, rows),
        Command::PageUp => state.move_selection(sel.saturating_sub(state.page_rows), rows),
        Command::PageDown => state.move_selection((sel + state.page_rows).min(last), rows),
        Command::Select => return drill_down(state),
        Command::Filter => {
            let input = state.filters.get(&kind).cloned().unwrap_or_default();
            state.filter_replace = !input.is_empty();
            state.mode = Mode::Filter { input };
        }
        Command::CommandLine => {
            state.mode = Mode::Command {
                input: String::new(),
            };
        }
        Command::Help => {
            state.help_scroll = 0;
            state.mode = Mode::Help;
        }
        Command::Sort => {
            state.mode = Mode::Command {
                input: "sort ".to_string(),
            };
        }
        Command::Refresh if state.replay.is_some() => {
            flash(
                state,
                "a replay reads nothing: the data is the recording's",
                Severity::Info,
            );
        }
        Command::Refresh => return refresh_all(state),
        Command::NextEnvironment => {
            if !state.envs.is_empty() {
                let next = (state.active + 1) % state.envs.len();
                return switch_env(state, next);
            }
        }
        Command::Overview => go(state, View::Overview),
        Command::Services => go(state, View::Services),
        Command::Tasks => {
            go(state, View::Tasks);
            select_failed_task(state);
        }
        Command::Databases => go(state, View::Databases),
        Command::Hosts => go(state, View::Hosts),
        Command::Alarms => go(state, View::Alarms),
        Command::Fleet => go(state, View::Fleet),
        Command::Activity => go(state, View::Activity),
        Command::CloudFront => go(state, View::CloudFront),
        Command::Redis => go(state, View::Redis),
        // --- timeline
        Command::Timeline => {
            // From the fleet view, the fleet's timeline.
            state.timeline_fleet = state.view() == &View::Fleet;
            go(state, View::Timeline);
        }
        Command::Note => {
            state.mode = Mode::Command {
                input: "note ".to_string(),
            };
        }
        Command::Scale
        | Command::ScalingBounds
        | Command::DeployImage
        | Command::Rollback
        | Command::Restart
        | Command::Snapshot
        | Command::Reboot
        | Command::Restore
        | Command::Promote
        | Command::MuteAlarm
        | Command::StopTask
        | Command::Invalidate
        | Command::StopHost
        | Command::StartHost
        | Command::ContinueDeployment
        | Command::Exec => return operate::start(state, cmd),
        // --- metrics
        Command::MetricRange => return metrics::switch_range(state),
        Command::Copy => copy::copy(state),
        // --- logs
        Command::Logs if state.replay.is_some() => {
            let key = state
                .keymap
                .key_for(Command::Logs, KeyContext::live(kind))
                .map_or_else(String::new, |k| format!(" ({k} in the console)"));
            let text = format!(
                "the logs view is not replayed (a recording keeps at most the error lines read): read the logs live{key} or in CloudWatch Logs"
            );
            flash(state, &text, Severity::Info);
        }
        Command::Logs => return logs::open(state),
        // The logs view's own keys mean nothing elsewhere (and other views
        // may bind the same keys to their own commands).
        Command::LogsPause
        | Command::LogsFollow
        | Command::LogsErrors
        | Command::LogsJump
        | Command::LogsWrap => state.dirty = false,
        // --- replay
        Command::ReplayPause
        | Command::ReplayFaster
        | Command::ReplaySlower
        | Command::ReplaySeek
        | Command::ReplayNextEvent
        | Command::ReplayPreviousEvent
        | Command::ReplayNextMark
        | Command::ReplayPreviousMark => replay_command(state, cmd),
    }
    Vec::new()
}

/// A replay key: a request for the player, or (outside a replay) why not.
fn replay_command(state: &mut State, cmd: Command) {
    use crate::state::ReplayRequest as R;
    if state.replay.is_none() {
        let text = format!(
            "\"{}\" works in a replay: honban replay [SESSION] plays a recorded session",
            cmd.description()
        );
        flash(state, &text, Severity::Info);
        return;
    }
    state.replay_request = Some(match cmd {
        Command::ReplayPause => R::Pause,
        Command::ReplayFaster => R::Faster,
        Command::ReplaySlower => R::Slower,
        Command::ReplayNextEvent => R::NextEvent,
        Command::ReplayPreviousEvent => R::PreviousEvent,
        Command::ReplayNextMark => R::NextMark,
        Command::ReplayPreviousMark => R::PreviousMark,
        _ => {
            state.mode = Mode::Command {
                input: "seek ".to_string(),
            };
            return;
        }
    });
    state.dirty = true;
}

/// `:seek TIME` in a replay: `HH:MM[:SS]` (UTC, the recorded day), or an
/// offset from the replayed moment (`+5m`, `-90s`, `+1h`).
fn seek(state: &mut State, arg: &str) {
    if state.replay.is_none() {
        flash(
            state,
            "seek works in a replay (honban replay)",
            Severity::Info,
        );
        return;
    }
    if let Some(t) = parse_seek(arg, state.now) {
        state.replay_request = Some(crate::state::ReplayRequest::Seek(t));
        state.dirty = true;
    } else {
        let text = format!(
            "\"{arg}\" is not a time: write HH:MM or HH:MM:SS (UTC) or an offset like +5m, -90s, +1h"
        );
        flash(state, &text, Severity::Error);
    }
}

/// A seek target: `HH:MM[:SS]` on the day of `now` (UTC), or `now` ±
/// an offset in s, m or h.
pub fn parse_seek(text: &str, now: crate::domain::Timestamp) -> Option<crate::domain::Timestamp> {
    let t = text.trim();
    if let Some(sign) = t.chars().next().filter(|c| *c == '+' || *c == '-') {
        let body = &t[1..];
        let split = body
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(body.len());
        let (digits, unit) = body.split_at(split);
        let n: i64 = digits.parse().ok()?;
        let d = match unit {
            "" | "s" => TimeDelta::try_seconds(n)?,
            "m" => TimeDelta::try_minutes(n)?,
            "h" => TimeDelta::try_hours(n)?,
            _ => return None,
        };
        return if sign == '+' {
            now.checked_add_signed(d)
        } else {
            now.checked_sub_signed(d)
        };
    }
    let time = chrono::NaiveTime::parse_from_str(t, "%H:%M:%S")
        .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M"))
        .ok()?;
    Some(now.date_naive().and_time(time).and_utc())
}

/// Opens a top-level view (replacing the stack above the overview).
fn go(state: &mut State, view: View) {
    state.views.truncate(1);
    if view != View::Overview {
        state.views.push(view);
    }
    state.mode = Mode::Normal;
}

fn drill_down(state: &mut State) -> Vec<Effect> {
    match state.view().clone() {
        View::Fleet => {
            let index = match state.selection() {
                crate::state::Selection::Id(name) => state.envs.iter().position(|e| e.name == name),
                _ => None,
            };
            let Some(index) = index else {
                return Vec::new();
            };
            let effects = switch_env(state, index);
            go(state, View::Overview);
            return effects;
        }
        View::Overview | View::Services => {
            let name = state.selected_service_row().ok().map(|s| s.name.clone());
            if let Some(service) = name {
                return open_service(state, &service);
            }
        }
        // --- metrics: an alarm opens its detail (chart, history), from
        // which `enter` jumps to the resource it watches.
        View::Alarms => return metrics::open_alarm(state),
        // --- timeline: an event leads to its resource.
        View::Timeline => return timeline::open_event(state),
        View::AlarmDetail { alarm } => return metrics::jump(state, &alarm),
        // A task (of the tasks view or a service's) opens its detail.
        View::ServiceDetail { .. } | View::Tasks => open_task(state),
        View::TaskDetail { .. }
        | View::Databases
        | View::Hosts
        | View::Diagnostics
        | View::Activity
        | View::Logs
        | View::CloudFront
        | View::RedisGroup { .. } => {}
        // --- elasticache: a replication group opens its nodes and charts.
        View::Redis => {
            if let crate::state::Selection::Id(group) = state.selection()
                && state.replication_group(&group).is_some()
            {
                state.views.push(View::RedisGroup { group });
            }
        }
    }
    Vec::new()
}

/// While a followed rollout is failing (the bar offers its rollback), the
/// tasks view opens on the newest task of that service that failed, so
/// that `enter` shows why: `3`, `enter` from a failed deploy to the exit
/// code and the reason.
fn select_failed_task(state: &mut State) {
    let Some((_, service)) = state.offered_rollback() else {
        return;
    };
    let failed = state
        .visible_tasks()
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            t.service_name() == Some(service.as_str())
                && t.last_status == "STOPPED"
                && matches!(
                    t.stop_code.as_deref(),
                    Some("EssentialContainerExited" | "TaskFailedToStart")
                )
        })
        .max_by_key(|(_, t)| t.stopped_at)
        .map(|(i, t)| (i, crate::ops::task_label(&t.arn).to_string()));
    if let Some((index, label)) = failed {
        state.select_row(index);
        let key = state
            .key_for(Command::Select)
            .unwrap_or_else(|| "enter".to_string());
        flash(
            state,
            &format!("task {label} of {service} failed: {key} shows why"),
            Severity::Info,
        );
    }
}

/// `enter` on a task: its detail, by its ARN. A lost selection is refused
/// like an operation's.
fn open_task(state: &mut State) {
    let selection = state.selection();
    match &selection {
        crate::state::Selection::Id(arn) if state.task(arn).is_some() => {
            state.views.push(View::TaskDetail { task: arn.clone() });
        }
        _ => {
            let text = selection.refusal(
                "a task",
                &format!(
                    "{} opens its detail",
                    state.key_or(Command::Select, "select (no key bound)")
                ),
                &state.move_keys(),
            );
            flash(state, &text, Severity::Info);
        }
    }
}

fn open_service(state: &mut State, service: &str) -> Vec<Effect> {
    state.views.push(View::ServiceDetail {
        service: service.to_string(),
    });
    state.select_row(0);
    let env = state.active;
    let mut effects = Vec::new();
    let family = state.service(service).map(|s| {
        let label = task_definition_label(&s.task_definition);
        label.split(':').next().unwrap_or(label).to_string()
    });
    if let (Some(family), Some(e)) = (family, state.envs.get_mut(env)) {
        let now = state.now;
        let panel = e.revisions.entry(family.clone()).or_default();
        if let Some(generation) = panel.try_begin(now, Ask::WhenIdle) {
            effects.push(Effect::FetchRevisions {
                env,
                family,
                generation,
            });
        }
        effects.extend(request_task_definitions(e, env));
    }
    effects
}

fn refresh_all(state: &mut State) -> Vec<Effect> {
    let env = state.active;
    let mut effects = Vec::new();
    for r in Resource::ALL {
        effects.extend(poll(state, env, r, true));
    }
    effects.extend(probes::refresh(state, env));
    flash(state, "refreshing…", Severity::Info);
    effects
}

fn switch_env(state: &mut State, index: usize) -> Vec<Effect> {
    if index >= state.envs.len() {
        return Vec::new();
    }
    state.active = index;
    // Detail views (and the logs view) refer to resources of the previous
    // environment.
    state.views.retain(|v| {
        !matches!(
            v,
            View::ServiceDetail { .. }
                | View::TaskDetail { .. }
                | View::AlarmDetail { .. }
                | View::Logs
        )
    });
    if state.views.is_empty() {
        state.views.push(View::Overview);
    }
    state.selected.clear();
    state.selected_id.clear();
    state.selection_lost = None;
    let name = state.envs[index].name.clone();
    flash(state, &format!("environment {name}"), Severity::Info);
    // Show fresh data at once for a panel that never loaded.
    let mut effects = Vec::new();
    for r in Resource::ALL {
        if state.envs[index].panel_meta(r).loaded_at.is_none() {
            effects.extend(poll(state, index, r, false));
        }
    }
    effects
}

fn run_command_line(state: &mut State, input: &str) -> Vec<Effect> {
    let mut words = input.split_whitespace();
    let Some(cmd) = words.next() else {
        return Vec::new();
    };
    let arg: Vec<&str> = words.collect();
    let arg = arg.join(" ");
    match cmd {
        "q" | "quit" => quit_asked(state),
        "q!" | "quit!" => quit(state),
        "overview" | "o" | "home" => {
            go(state, View::Overview);
            Vec::new()
        }
        "svc" | "services" | "service" | "s" => {
            go(state, View::Services);
            if !arg.is_empty() {
                state.filters.insert(ViewKind::Services, arg);
            }
            Vec::new()
        }
        "tasks" | "task" | "t" => {
            // A service that is not there is said, not shown as no tasks.
            if !arg.is_empty()
                && let Some(env) = state.env()
                && let Some(services) = &env.services.data
                && !services.iter().any(|s| s.name == arg)
            {
                let mut names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
                names.sort_unstable();
                let text = format!(
                    "no service \"{arg}\" in {}; services: {}",
                    env.name,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                );
                flash(state, &text, Severity::Error);
                return Vec::new();
            }
            go(state, View::Tasks);
            if arg.is_empty() {
                state.filters.remove(&ViewKind::Tasks);
            } else {
                state.filters.insert(ViewKind::Tasks, format!("svc:{arg}"));
            }
            Vec::new()
        }
        "db" | "databases" | "rds" => {
            go(state, View::Databases);
            Vec::new()
        }
        "hosts" | "host" | "ec2" => {
            go(state, View::Hosts);
            Vec::new()
        }
        "alarms" | "alarm" | "al" => {
            go(state, View::Alarms);
            Vec::new()
        }
        "fleet" | "envs" | "f" => {
            go(state, View::Fleet);
            Vec::new()
        }
        "activity" | "audit" | "ops" => {
            go(state, View::Activity);
            Vec::new()
        }
        "cloudfront" | "cf" | "cdn" => {
            go(state, View::CloudFront);
            Vec::new()
        }
        "redis" | "elasticache" | "cache" => {
            go(state, View::Redis);
            Vec::new()
        }
        // --- timeline
        "timeline" | "tl" => {
            state.timeline_fleet = matches!(arg.as_str(), "fleet" | "all");
            go(state, View::Timeline);
            Vec::new()
        }
        "note" | "mark" if state.replay.is_some() => {
            flash(
                state,
                "a replay shows the recorded notes and marks; add yours in the console",
                Severity::Info,
            );
            Vec::new()
        }
        "note" => timeline::note(state, &arg),
        "mark" => timeline::mark(state, &arg),
        "seek" | "goto" => {
            seek(state, &arg);
            Vec::new()
        }
        "diag" | "diagnostics" | "stats" => {
            go(state, View::Diagnostics);
            Vec::new()
        }
        "help" | "h" => {
            state.help_scroll = 0;
            state.mode = Mode::Help;
            Vec::new()
        }
        "sort" | "order" => sort_command(state, &arg),
        "env" | "ctx" => {
            if arg.is_empty() {
                let names: Vec<&str> = state.envs.iter().map(|e| e.name.as_str()).collect();
                let text = format!("environments: {}", names.join(", "));
                flash(state, &text, Severity::Info);
                return Vec::new();
            }
            if let Some(i) = state.envs.iter().position(|e| e.name == arg) {
                switch_env(state, i)
            } else {
                let names: Vec<&str> = state.envs.iter().map(|e| e.name.as_str()).collect();
                let text = format!(
                    "unknown environment \"{arg}\"; configured: {}",
                    names.join(", ")
                );
                flash(state, &text, Severity::Error);
                Vec::new()
            }
        }
        other => {
            let text = format!(
                "unknown command \"{other}\" (tab completes; {} for help)",
                state.key_or(Command::Help, ":help")
            );
            flash(state, &text, Severity::Error);
            Vec::new()
        }
    }
}

/// Candidates for the command line's current input.
pub fn completions(state: &State, input: &str) -> Vec<String> {
    let trimmed = input.trim_start();
    if let Some(rest) = trimmed.strip_prefix("env ") {
        return state
            .envs
            .iter()
            .filter(|e| e.name.starts_with(rest.trim()))
            .map(|e| format!("env {}", e.name))
            .collect();
    }
    if let Some(rest) = trimmed.strip_prefix("sort ") {
        let rest = rest.trim_start().to_lowercase();
        return crate::sort::columns(state.view().kind())
            .iter()
            .map(|c| c.to_lowercase().replace(' ', "-"))
            .filter(|c| c.starts_with(&rest))
            .map(|c| format!("sort {c}"))
            .collect();
    }
    if let Some(rest) = trimmed.strip_prefix("tasks ") {
        return state
            .env()
            .and_then(|e| e.services.data.as_ref())
            .map(|svcs| {
                svcs.iter()
                    .filter(|s| s.name.starts_with(rest.trim()))
                    .map(|s| format!("tasks {}", s.name))
                    .collect()
            })
            .unwrap_or_default();
    }
    COMMANDS
        .iter()
        .filter(|(c, _)| c.starts_with(trimmed))
        .map(|(c, _)| (*c).to_string())
        .collect()
}

/// Tab: complete to the next candidate after the current input.
fn complete(state: &State, input: &str) -> String {
    let candidates = completions(state, input);
    match candidates.as_slice() {
        [] => input.to_string(),
        [only] => {
            if only == "env" || only == "tasks" || only == "sort" {
                format!("{only} ")
            } else {
                only.clone()
            }
        }
        many => {
            // The longest common prefix, or cycle when already there.
            let prefix = common_prefix(many);
            if prefix.len() > input.len() {
                prefix
            } else {
                let pos = many.iter().position(|c| c == input);
                match pos {
                    Some(i) => many[(i + 1) % many.len()].clone(),
                    None => many[0].clone(),
                }
            }
        }
    }
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in &words[1..] {
        len = len.min(
            first
                .chars()
                .zip(w.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a.len_utf8())
                .sum(),
        );
    }
    first[..len].to_string()
}

/// Sorts the current view's table by `column`: `descending` as asked, or
/// (from a key) ascending, and flipped when it is already sorted by it.
/// The highlighted resource stays highlighted (the selection is an
/// identity, anchored after every action).
fn sort_by(state: &mut State, column: &'static str, descending: Option<bool>) -> Vec<Effect> {
    let kind = state.view().kind();
    state.settle_selection();
    let descending = descending.unwrap_or_else(|| {
        state
            .sort(kind)
            .is_some_and(|s| s.column == column && !s.descending)
    });
    let sort = crate::sort::Sort { column, descending };
    state.sorts.insert(kind, sort);
    flash(
        state,
        &format!("sorted by {}", sort.describe()),
        Severity::Info,
    );
    Vec::new()
}

/// `:sort COLUMN [asc|desc]`; `:sort` alone goes back to the default order.
fn sort_command(state: &mut State, arg: &str) -> Vec<Effect> {
    let kind = state.view().kind();
    let columns = crate::sort::columns(kind);
    if columns.is_empty() {
        flash(state, "this view has no table to sort", Severity::Error);
        return Vec::new();
    }
    let mut words: Vec<&str> = arg.split_whitespace().collect();
    let descending = match words.last().map(|w| w.to_ascii_lowercase()).as_deref() {
        Some("asc" | "ascending" | "up") => Some(false),
        Some("desc" | "descending" | "down") => Some(true),
        _ => None,
    };
    if descending.is_some() {
        words.pop();
    }
    let name = words.join(" ");
    // `:sort desc`: the column sorted by now, the other way.
    if name.is_empty()
        && let (Some(d), Some(current)) = (descending, state.sort(kind))
    {
        return sort_by(state, current.column, Some(d));
    }
    if name.is_empty() && descending.is_none() {
        state.settle_selection();
        state.sorts.remove(&kind);
        flash(state, "default order", Severity::Info);
        return Vec::new();
    }
    if let Some(column) = crate::sort::column(kind, &name) {
        sort_by(state, column, descending)
    } else {
        let names: Vec<String> = columns
            .iter()
            .map(|c| c.to_lowercase().replace(' ', "-"))
            .collect();
        let text = format!(
            "no column \"{name}\" to sort by here: columns are {}",
            names.join(" ")
        );
        flash(state, &text, Severity::Error);
        Vec::new()
    }
}

pub(crate) fn flash(state: &mut State, text: &str, severity: Severity) {
    state.flash = Some(Flash {
        text: text.to_string(),
        severity,
        at: state.now,
    });
    state.dirty = true;
}

mod copy;
mod exec;
mod metrics;
// --- timeline
mod timeline;
// --- health
mod health;
// --- logs
mod logs;
mod operate;
pub use metrics::window as metric_window;
pub use operate::{restorable_from, watched_resource};
mod probes;

#[cfg(test)]
mod tests;
