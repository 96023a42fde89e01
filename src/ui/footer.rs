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
            None => hints(state, theme),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn hints<'a>(state: &State, theme: &Theme) -> Line<'a> {
    let key = |c: Command| {
        state
            .keymap
            .keys_for(c)
            .first()
            .map_or_else(|| "-".to_string(), ToString::to_string)
    };
    let mut spans = Vec::new();
    let mut push = |k: String, what: &str| {
        spans.push(Span::styled(format!(" {k}"), theme.key));
        spans.push(Span::styled(format!(" {what} "), theme.dim));
    };
    push(key(Command::CommandLine), "cmd");
    push(key(Command::Filter), "filter");
    // Where operations apply, their keys replace the navigation hints.
    let read_only = state.env().is_none_or(|e| e.read_only);
    let ops: &[(Command, &str)] = match state.view() {
        _ if read_only => &[],
        View::Overview | View::Services | View::ServiceDetail { .. } => &[
            (Command::Scale, "scale"),
            (Command::DeployImage, "image"),
            (Command::Rollback, "rollback"),
            (Command::Restart, "restart"),
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
        push(key(Command::Select), "open");
        push(key(Command::Back), "back");
        push(key(Command::Refresh), "refresh");
        if state.envs.len() > 1 {
            push(key(Command::NextEnvironment), "env");
        }
    } else {
        for (c, what) in ops {
            push(key(*c), what);
        }
    }
    if read_only {
        push("·".to_string(), "read-only");
    }
    push(key(Command::Help), "help");
    push(key(Command::Quit), "quit");
    if let Some(filter) = state.filters.get(&state.view().kind()) {
        spans.push(Span::styled(format!("  filter: {filter}"), theme.filter));
    }
    Line::from(spans)
}
