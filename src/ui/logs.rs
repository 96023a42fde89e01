//! The logs view: a service's or a task's log lines, newest at the bottom
//! while following, the filter pattern's terms highlighted. Only the lines
//! that fit are built, whatever the buffer holds.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::theme::Theme;
use crate::logs::{LogsState, Pattern, Prompt, highlight};
use crate::state::State;

use super::widgets::{age_since, panel};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(logs) = &state.logs else {
        return;
    };
    let mut block = panel(
        &format!("Logs {}", logs.target.label()),
        None,
        state.now,
        theme,
        true,
    );
    let (word, style) = if logs.paused {
        ("PAUSED", theme.warning)
    } else if logs.follow {
        ("following", theme.ok)
    } else {
        ("scrolled", theme.dim)
    };
    let mut status = vec![Span::styled(format!(" {word} "), style)];
    if logs.behind() {
        status.push(Span::styled("catching up… ", theme.progressing));
    }
    if let Some(t) = logs.loaded_at {
        status.push(Span::styled(
            format!("{} ago ", age_since(state.now, Some(t))),
            theme.dim,
        ));
    }
    block = block.title(Line::from(status).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 3 || inner.width < 10 {
        return;
    }
    let [info_area, body, hint_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(info_line(logs, state, theme)), info_area);
    draw_lines(frame, body, logs, state, theme);
    frame.render_widget(Paragraph::new(hint_line(logs, theme)), hint_area);
}

fn info_line<'a>(logs: &LogsState, state: &State, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    match logs.sources.as_slice() {
        [] => {}
        [one] => spans.push(Span::styled(
            format!(
                "{} {}",
                one.group,
                one.stream_prefix.as_deref().unwrap_or("")
            ),
            theme.base,
        )),
        [first, rest @ ..] => spans.push(Span::styled(
            format!("{} (+{} more)", first.group, rest.len()),
            theme.base,
        )),
    }
    spans.push(Span::styled(
        format!(" · from {} UTC", logs.start.format("%H:%M")),
        theme.dim,
    ));
    if !logs.pattern.is_empty() {
        spans.push(Span::styled(" · pattern ", theme.dim));
        spans.push(Span::styled(logs.pattern.clone(), theme.filter));
    }
    let count = if logs.evicted > 0 {
        format!(
            " · {} lines (last {}; {} older dropped)",
            logs.lines.len(),
            logs.capacity,
            logs.evicted
        )
    } else {
        format!(" · {} lines", logs.lines.len())
    };
    spans.push(Span::styled(count, theme.dim));
    let _ = state;
    Line::from(spans)
}

fn hint_line<'a>(logs: &LogsState, theme: &Theme) -> Line<'a> {
    match &logs.prompt {
        Some(Prompt::Pattern(text)) => Line::from(vec![
            Span::styled("pattern: ", theme.key),
            Span::styled(format!("{text}▏"), theme.command_line),
            Span::styled("  enter apply · esc cancel", theme.dim),
        ]),
        Some(Prompt::Time(text)) => Line::from(vec![
            Span::styled("jump to: ", theme.key),
            Span::styled(format!("{text}▏"), theme.command_line),
            Span::styled("  15m · 2h · HH:MM (UTC)", theme.dim),
        ]),
        None => {
            let mut spans = Vec::new();
            for (k, what) in [
                ("space", if logs.paused { "resume" } else { "pause" }),
                ("f", "follow"),
                ("e", "errors"),
                ("/", "pattern"),
                ("t", "time"),
                ("esc", "back"),
            ] {
                spans.push(Span::styled(k.to_string(), theme.key));
                spans.push(Span::styled(format!(" {what}  "), theme.dim));
            }
            Line::from(spans)
        }
    }
}

fn draw_lines(frame: &mut Frame, area: Rect, logs: &LogsState, state: &State, theme: &Theme) {
    let height = usize::from(area.height);
    if logs.lines.is_empty() {
        let text = if let Some(e) = &logs.error {
            Line::styled(format!("{e}"), theme.error)
        } else if logs.sources.is_empty() {
            let known = state.envs.get(logs.target.env).is_some_and(|e| {
                e.task_definitions
                    .contains_key(&logs.target.task_definition)
            });
            if known {
                Line::styled(
                    format!(
                        "no awslogs configuration in {}",
                        crate::domain::task_definition_label(&logs.target.task_definition)
                    ),
                    theme.warning,
                )
            } else {
                Line::styled("reading the task definition…", theme.dim)
            }
        } else if logs.loaded_at.is_none() {
            Line::styled("loading…", theme.dim)
        } else {
            Line::styled(
                format!("no events since {} UTC", logs.start.format("%H:%M")),
                theme.dim,
            )
        };
        frame.render_widget(Paragraph::new(text), area);
        return;
    }
    let len = logs.lines.len();
    let cursor = logs.cursor.min(len - 1);
    let first = if cursor >= height {
        cursor + 1 - height
    } else {
        0
    };
    let pattern = Pattern::parse(&logs.pattern);
    let terms = pattern.highlights();
    let mark = theme
        .filter
        .add_modifier(Modifier::REVERSED | Modifier::BOLD);
    let width = usize::from(area.width);
    let mut lines: Vec<Line> = Vec::with_capacity(height);
    // An error line (if any) takes the first row, above the newest lines.
    let mut rows = height;
    if let Some(e) = &logs.error {
        lines.push(Line::styled(format!("{e}"), theme.error));
        rows = rows.saturating_sub(1);
    }
    let first = if logs.error.is_some() && cursor >= rows {
        cursor + 1 - rows.max(1)
    } else {
        first
    };
    for (i, e) in logs.lines.iter().enumerate().skip(first).take(rows) {
        let task = e.stream.rsplit('/').next().unwrap_or("");
        let task: String = task.chars().take(8).collect();
        let level = if e.message.contains("ERROR") || e.message.contains("FATAL") {
            theme.critical
        } else if e.message.contains("WARN") {
            theme.warning
        } else {
            theme.base
        };
        let selected = !logs.follow && i == cursor;
        let row_style = if selected {
            theme.selected
        } else {
            Style::default()
        };
        let mut spans = vec![
            Span::styled(format!("{} ", e.timestamp.format("%H:%M:%S")), theme.dim),
            Span::styled(format!("{task:<8} "), theme.dim),
        ];
        // Only what fits the width is styled and drawn.
        let room = width.saturating_sub(18);
        let message: String = e
            .message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(room)
            .collect();
        for (text, hit) in highlight(&message, &terms) {
            spans.push(Span::styled(
                text.to_string(),
                if hit { mark } else { level },
            ));
        }
        lines.push(Line::from(spans).style(row_style));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
