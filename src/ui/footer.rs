//! The footer: the command line, the filter line, a flash message, or hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::keys::Command;
use crate::config::theme::Theme;
use crate::state::{Mode, Severity, State, View};
use crate::update::completions;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    // An error said while a prompt is open (a paste cut to the prompt's
    // size, say) is shown beside it rather than hidden until it closes.
    let prompt_error = state
        .flash
        .as_ref()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.text.as_str());
    let line = match &state.mode {
        Mode::Command { input } => {
            let hints = completions(state, input);
            let tail = match prompt_error {
                Some(text) => Span::styled(format!("   {text}"), theme.error),
                None if !hints.is_empty() && (hints.len() != 1 || hints[0] != *input) => {
                    Span::styled(format!("   {}", hints.join("  ")), theme.dim)
                }
                None => Span::raw(""),
            };
            prompt_line(
                ":",
                input,
                state.prompt_back,
                theme.command_line,
                tail,
                area.width,
                theme,
            )
        }
        Mode::Filter { input } => {
            let tail = match prompt_error {
                Some(text) => Span::styled(format!("   {text}"), theme.error),
                None if state.filter_replace => Span::styled(
                    "   typing replaces it · ← edits · enter keep · esc clear",
                    theme.dim,
                ),
                None => Span::styled(
                    "   enter keep · esc clear · !word excludes · svc: status: health: az:",
                    theme.dim,
                ),
            };
            prompt_line(
                "/",
                input,
                state.prompt_back,
                theme.filter,
                tail,
                area.width,
                theme,
            )
        }
        _ => match &state.flash {
            Some(f) => Line::styled(
                format!(" {}", f.text),
                if f.severity == Severity::Error {
                    theme.error
                } else {
                    theme.dim
                },
            ),
            None => hints(state, area.width, theme),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// A prompt: its sign, the input with its cursor (the cursor kept in view
/// when the input is wider than the line: `…` marks what is cut), then
/// `tail` (hints or an error) where there is room.
fn prompt_line<'a>(
    sign: &'a str,
    input: &str,
    back: usize,
    style: ratatui::style::Style,
    tail: Span<'a>,
    width: u16,
    theme: &Theme,
) -> Line<'a> {
    use unicode_width::UnicodeWidthStr;
    let width = usize::from(width);
    // Room for the input: the sign and the cursor take one column each;
    // an error keeps at least half of the line.
    let keep_for_tail = if tail.style == theme.error {
        tail.content.width().min(width / 2)
    } else {
        0
    };
    let room = width.saturating_sub(2 + keep_for_tail).max(1);
    let (shown, back) = super::widgets::input_window(input, back, room);
    let mut spans = vec![Span::styled(sign, theme.key)];
    spans.extend(super::widgets::cursor_spans(&shown, back, style));
    spans.push(tail);
    Line::from(spans)
}

/// The key hints of the view, as many as fit `width`: what operates on the
/// view first; `filter`, `cmd` and `quit` give way on a narrow terminal,
/// `help` (which lists everything) stays.
fn hints<'a>(state: &State, width: u16, theme: &Theme) -> Line<'a> {
    let key = |c: Command| state.key_for(c).unwrap_or_else(|| "-".to_string());
    // The logs view shows its own keys (`/` is its pattern) in its panel.
    let logs = state.view() == &View::Logs;
    // (key, what, drop rank: 0 stays, higher goes first).
    let mut items: Vec<(String, &str, u8)> = vec![(key(Command::CommandLine), "cmd", 2)];
    if !logs {
        items.push((key(Command::Filter), "filter", 3));
    }
    // A replay: its own keys (operations are refused there).
    if state.replay.is_some() {
        let paused = state.replay.as_ref().is_some_and(|r| r.paused);
        let pair = |a: Command, b: Command| format!("{}{}", key(a), key(b));
        items.push((key(Command::Select), "open", 4));
        items.extend([
            (
                key(Command::ReplayPause),
                if paused { "play" } else { "pause" },
                0,
            ),
            (
                pair(Command::ReplaySlower, Command::ReplayFaster),
                "speed",
                0,
            ),
            (key(Command::ReplaySeek), "seek", 0),
            (
                pair(Command::ReplayPreviousEvent, Command::ReplayNextEvent),
                "event",
                0,
            ),
            (
                pair(Command::ReplayPreviousMark, Command::ReplayNextMark),
                "mark",
                1,
            ),
        ]);
        items.push((key(Command::Help), "help", 0));
        items.push((key(Command::Quit), "quit", 1));
        return hint_line(state, items, width, theme);
    }
    // Where operations apply, their keys replace the navigation hints.
    let read_only = state.env().is_none_or(|e| e.read_only);
    // ECS Exec: only where tasks are real (simulated ones have no shell).
    let exec = state
        .env()
        .is_some_and(|e| e.source != crate::config::Source::Sim);
    let ops: &[(Command, &str)] = match state.view() {
        // A stopped (or stopping) task has nothing left to stop.
        View::TaskDetail { task }
            if read_only
                || state
                    .task(task)
                    .is_none_or(|t| t.desired_status == "STOPPED") =>
        {
            &[(Command::Logs, "logs"), (Command::Back, "back")]
        }
        _ if read_only => &[],
        // A CODE_DEPLOY service: what CodeDeploy lets be done now.
        View::Overview | View::Services | View::ServiceDetail { .. }
            if pointed_service(state).is_some_and(crate::domain::Service::is_code_deploy) =>
        {
            match pointed_service(state)
                .and_then(|s| state.env()?.blue_green(&s.name))
                .and_then(crate::domain::BlueGreen::active)
            {
                Some(d) if d.waits() => &[
                    (Command::ContinueDeployment, "continue"),
                    (Command::Rollback, "stop+rollback"),
                    (Command::Scale, "scale"),
                    (Command::Logs, "logs"),
                ],
                Some(_) => &[
                    (Command::Rollback, "stop+rollback"),
                    (Command::Scale, "scale"),
                    (Command::Logs, "logs"),
                ],
                None => &[
                    (Command::Scale, "scale"),
                    (Command::DeployImage, "image (CodeDeploy)"),
                    (Command::Logs, "logs"),
                ],
            }
        }
        View::Overview | View::Services | View::ServiceDetail { .. } => &[
            (Command::Scale, "scale"),
            (Command::DeployImage, "image"),
            (Command::Rollback, "rollback"),
            (Command::Restart, "restart"),
            (Command::Logs, "logs"),
        ],
        View::Tasks if exec => &[
            (Command::Select, "detail"),
            (Command::Logs, "logs"),
            (Command::Exec, "exec"),
            (Command::StopTask, "stop"),
        ],
        View::Tasks => &[
            (Command::Select, "detail"),
            (Command::Logs, "logs"),
            (Command::StopTask, "stop"),
        ],
        View::TaskDetail { .. } if exec => &[
            (Command::Logs, "logs"),
            (Command::Exec, "exec"),
            (Command::StopTask, "stop"),
            (Command::Back, "back"),
        ],
        View::TaskDetail { .. } => &[
            (Command::Logs, "logs"),
            (Command::StopTask, "stop"),
            (Command::Back, "back"),
        ],
        View::Databases => &[
            (Command::Snapshot, "snapshot"),
            (Command::Reboot, "reboot"),
            (Command::Restore, "restore"),
            (Command::Promote, "promote"),
        ],
        View::Alarms => &[(Command::MuteAlarm, "mute")],
        View::CloudFront => &[(Command::Invalidate, "invalidate")],
        View::RedisGroup { .. } => &[(Command::MetricRange, "range"), (Command::Back, "back")],
        View::Hosts => &[
            (Command::Reboot, "reboot"),
            (Command::StopHost, "stop"),
            (Command::StartHost, "start"),
        ],
        View::AlarmDetail { .. } => &[
            (Command::Select, "go to"),
            (Command::MuteAlarm, "mute"),
            (Command::MetricRange, "range"),
            (Command::Back, "back"),
        ],
        _ => &[],
    };
    if ops.is_empty() {
        // enter opens nothing in the logs view, esc is in its panel.
        if !logs {
            items.push((key(Command::Select), "open", 0));
            items.push((key(Command::Back), "back", 0));
        }
        items.push((key(Command::Refresh), "refresh", 0));
        if state.envs.len() > 1 {
            items.push((key(Command::NextEnvironment), "env", 0));
        }
    } else {
        items.extend(ops.iter().map(|(c, what)| (key(*c), *what, 0)));
    }
    if read_only {
        items.push(("·".to_string(), "read-only", 0));
    }
    items.push((key(Command::Help), "help", 0));
    items.push((key(Command::Quit), "quit", 1));
    hint_line(state, items, width, theme)
}

/// The service a service key would act on here (the detail's, or the
/// selected row's).
fn pointed_service(state: &State) -> Option<&crate::domain::Service> {
    match state.view() {
        View::ServiceDetail { service } => state.service(service),
        View::Overview | View::Services => state.selected_service_row().ok(),
        _ => None,
    }
}

/// The hints that fit `width`, dropping the highest ranks first.
fn hint_line<'a>(
    state: &State,
    mut items: Vec<(String, &str, u8)>,
    width: u16,
    theme: &Theme,
) -> Line<'a> {
    let filter = state.filters.get(&state.view().kind());
    let cost = |(k, what, _): &(String, &str, u8)| k.chars().count() + what.chars().count() + 3;
    let room = usize::from(width).saturating_sub(filter.map_or(0, |f| f.chars().count() + 10));
    for rank in [4, 3, 2, 1] {
        if items.iter().map(cost).sum::<usize>() <= room {
            break;
        }
        items.retain(|i| i.2 != rank);
    }
    let mut spans = Vec::new();
    for (k, what, _) in items {
        spans.push(Span::styled(format!(" {k}"), theme.key));
        spans.push(Span::styled(format!(" {what} "), theme.dim));
    }
    if let Some(filter) = filter {
        spans.push(Span::styled(format!("  filter: {filter}"), theme.filter));
    }
    Line::from(spans)
}
