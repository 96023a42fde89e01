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
    let line = match &state.mode {
        Mode::Command { input } => {
            let mut spans = vec![
                Span::styled(":", theme.key),
                Span::styled(input.clone(), theme.command_line),
                Span::styled("█", theme.command_line),
            ];
            let hints = completions(state, input);
            if !hints.is_empty() && (hints.len() != 1 || hints[0] != *input) {
                spans.push(Span::styled(format!("   {}", hints.join("  ")), theme.dim));
            }
            Line::from(spans)
        }
        Mode::Filter { input } => Line::from(vec![
            Span::styled("/", theme.key),
            Span::styled(input.clone(), theme.filter),
            Span::styled("█", theme.filter),
            Span::styled(
                "   enter keep · esc clear · svc: status: health: az:",
                theme.dim,
            ),
        ]),
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

/// The key hints of the view, as many as fit `width`: what operates on the
/// view first; `filter`, `cmd` and `quit` give way on a narrow terminal,
/// `help` (which lists everything) stays.
fn hints<'a>(state: &State, width: u16, theme: &Theme) -> Line<'a> {
    let key = |c: Command| {
        state
            .keymap
            .keys_for(c)
            .first()
            .map_or_else(|| "-".to_string(), ToString::to_string)
    };
    // The logs view shows its own keys (`/` is its pattern) in its panel.
    let logs = state.view() == &View::Logs;
    // (key, what, drop rank: 0 stays, higher goes first).
    let mut items: Vec<(String, &str, u8)> = vec![(key(Command::CommandLine), "cmd", 2)];
    if !logs {
        items.push((key(Command::Filter), "filter", 3));
    }
    // Where operations apply, their keys replace the navigation hints.
    let read_only = state.env().is_none_or(|e| e.read_only);
    let ops: &[(Command, &str)] = match state.view() {
        _ if read_only => &[],
        View::Overview | View::Services | View::ServiceDetail { .. } => &[
            (Command::Scale, "scale"),
            (Command::DeployImage, "image"),
            (Command::Rollback, "rollback"),
            (Command::Restart, "restart"),
            (Command::Logs, "logs"),
        ],
        View::Databases => &[(Command::Snapshot, "snapshot"), (Command::Reboot, "reboot")],
        View::Alarms => &[(Command::MuteAlarm, "mute")],
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
    let filter = state.filters.get(&state.view().kind());
    let cost = |(k, what, _): &(String, &str, u8)| k.chars().count() + what.chars().count() + 3;
    let room = usize::from(width).saturating_sub(filter.map_or(0, |f| f.chars().count() + 10));
    for rank in [3, 2, 1] {
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
