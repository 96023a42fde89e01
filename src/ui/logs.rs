//! The logs view: a service's or a task's log lines, newest at the bottom
//! while following, the filter pattern's terms highlighted. Only the lines
//! that fit are built, whatever the buffer holds.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::config::keys::Command;
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
    if let Some(e) = &logs.error {
        status.push(Span::styled(format!("{} ", e.kind()), theme.error));
    }
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
    let width = usize::from(inner.width);
    frame.render_widget(
        Paragraph::new(info_line(logs, state, width, theme)),
        info_area,
    );
    draw_lines(frame, body, logs, state, theme);
    frame.render_widget(
        Paragraph::new(hint_line(logs, state, width, theme)),
        hint_area,
    );
}

/// Where the lines come from, since when, how many and the pattern; the
/// source is shortened first so that the rest stays readable.
fn info_line<'a>(logs: &LogsState, state: &State, width: usize, theme: &Theme) -> Line<'a> {
    let source = match logs.sources.as_slice() {
        [] => String::new(),
        [one] => format!(
            "{} {}",
            one.group,
            one.stream_prefix.as_deref().unwrap_or("")
        )
        .trim_end()
        .to_string(),
        [first, rest @ ..] => format!("{} (+{} more)", first.group, rest.len()),
    };
    let mut tail = vec![Span::styled(
        format!(
            " · from {} {}",
            super::widgets::in_zone(state.timezone, logs.start, "%H:%M"),
            super::widgets::zone_label(state.timezone, state.now)
        ),
        theme.dim,
    )];
    let count = if logs.evicted > 0 {
        format!(
            " · {} lines, {} older dropped",
            logs.lines.len(),
            logs.evicted
        )
    } else {
        format!(" · {} lines", logs.lines.len())
    };
    tail.push(Span::styled(count, theme.dim));
    if !logs.pattern.is_empty() {
        tail.push(Span::styled(" · pattern ", theme.dim));
        tail.push(Span::styled(logs.pattern.clone(), theme.filter));
    }
    let room = width.saturating_sub(tail.iter().map(Span::width).sum());
    let mut spans = vec![Span::styled(shorten(&source, room), theme.base)];
    spans.extend(tail);
    Line::from(spans)
}

/// `text` cut to `room` columns, an ellipsis marking the cut.
fn shorten(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let mut out: String = text.chars().take(room.saturating_sub(1)).collect();
    if room > 0 {
        out.push('…');
    }
    out
}

/// The prompt being typed, or the view's keys: as many as fit the width,
/// the least needed dropped first.
fn hint_line<'a>(logs: &LogsState, state: &State, width: usize, theme: &Theme) -> Line<'a> {
    match &logs.prompt {
        Some(Prompt::Pattern(text)) => Line::from(
            vec![Span::styled("pattern: ", theme.key)]
                .into_iter()
                .chain(super::widgets::cursor_spans(
                    text,
                    state.prompt_back,
                    theme.command_line,
                ))
                .chain([Span::styled("  enter apply · esc cancel", theme.dim)])
                .collect::<Vec<_>>(),
        ),
        Some(Prompt::Time(text)) => Line::from(
            vec![Span::styled("jump to: ", theme.key)]
                .into_iter()
                .chain(super::widgets::cursor_spans(
                    text,
                    state.prompt_back,
                    theme.command_line,
                ))
                .chain([Span::styled("  15m · 2h · HH:MM (UTC)", theme.dim)])
                .collect::<Vec<_>>(),
        ),
        None => {
            let key =
                |c: Command, default: &str| state.key_for(c).unwrap_or_else(|| default.to_string());
            // (key, what, priority: the lowest is dropped first)
            let mut hints = vec![
                (
                    key(Command::LogsPause, "space"),
                    if logs.paused { "resume" } else { "pause" },
                    5,
                ),
                (key(Command::LogsFollow, "f"), "follow", 1),
                (key(Command::LogsErrors, "e"), "errors", 3),
                (key(Command::Filter, "/"), "pattern", 2),
                (key(Command::LogsJump, "t"), "time", 0),
                (
                    key(Command::LogsWrap, "w"),
                    if logs.wrap { "cut" } else { "wrap" },
                    0,
                ),
                (key(Command::Back, "esc"), "back", 4),
            ];
            let fits = |hints: &[(String, &str, u8)], sep: usize| {
                hints
                    .iter()
                    .map(|(k, what, _)| k.chars().count() + 1 + what.len())
                    .sum::<usize>()
                    + sep * hints.len().saturating_sub(1)
                    <= width
            };
            let sep = if fits(&hints, 2) { 2 } else { 1 };
            while !fits(&hints, sep) && hints.len() > 1 {
                let lowest = hints
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, h)| h.2)
                    .map_or(0, |(i, _)| i);
                hints.remove(lowest);
            }
            let mut spans = Vec::new();
            for (i, (k, what, _)) in hints.into_iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw(" ".repeat(sep)));
                }
                spans.push(Span::styled(k, theme.key));
                spans.push(Span::styled(format!(" {what}"), theme.dim));
            }
            Line::from(spans)
        }
    }
}

fn draw_lines(frame: &mut Frame, area: Rect, logs: &LogsState, state: &State, theme: &Theme) {
    let height = usize::from(area.height);
    if logs.lines.is_empty() {
        if let Some(e) = &logs.error {
            let lines = error_lines(e, usize::from(area.width), height, theme);
            frame.render_widget(Paragraph::new(lines), area);
            return;
        }
        let text = if logs.sources.is_empty() {
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
                format!(
                    "no events since {} {}",
                    super::widgets::in_zone(state.timezone, logs.start, "%H:%M"),
                    super::widgets::zone_label(state.timezone, state.now)
                ),
                theme.dim,
            )
        };
        frame.render_widget(Paragraph::new(text), area);
        return;
    }
    let len = logs.lines.len();
    let cursor = logs.cursor.min(len - 1);
    let pattern = Pattern::parse(&logs.pattern);
    let terms = pattern.highlights();
    let mark = theme
        .filter
        .add_modifier(Modifier::REVERSED | Modifier::BOLD);
    let width = usize::from(area.width);
    // An error (if any) takes the first rows (two at most while there is
    // room for lines), above the lines kept from the last good polls.
    let mut lines: Vec<Line> = match &logs.error {
        Some(e) => error_lines(e, width, if height >= 6 { 2 } else { 1 }, theme),
        None => Vec::new(),
    };
    let rows = height.saturating_sub(lines.len());
    // Several containers log into the view: each line names its own.
    let containers = logs.sources.len() > 1;
    let prefix_of = |e: &crate::domain::LogEvent| {
        let mut parts = e.stream.rsplit('/');
        let task: String = parts.next().unwrap_or("").chars().take(8).collect();
        let container = if containers {
            parts.next().map(|c| format!("{c} ")).unwrap_or_default()
        } else {
            String::new()
        };
        (task, container)
    };
    // Time, task and the container (if shown) before each message.
    let prefix_w = |e: &crate::domain::LogEvent| 18 + prefix_of(e).1.chars().count();
    let room_of = |e: &crate::domain::LogEvent| width.saturating_sub(prefix_w(e)).max(1);
    // Rows an event takes: one, or (wrapped) as many as its message needs.
    let rows_of = |e: &crate::domain::LogEvent| {
        if logs.wrap {
            e.message.chars().count().div_ceil(room_of(e)).max(1)
        } else {
            1
        }
    };
    // The first event shown: the cursor's line at the bottom when the lines
    // below it do not all fit.
    let mut first = cursor;
    let mut used = logs.lines.get(cursor).map_or(1, rows_of);
    while first > 0 {
        let more = logs.lines.get(first - 1).map_or(1, rows_of);
        if used + more > rows {
            break;
        }
        used += more;
        first -= 1;
    }
    let mut drawn = 0;
    for (i, e) in logs.lines.iter().enumerate().skip(first) {
        if drawn >= rows {
            break;
        }
        let (task, container) = prefix_of(e);
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
            Span::styled(
                format!(
                    "{} ",
                    super::widgets::in_zone(state.timezone, e.timestamp, "%H:%M:%S")
                ),
                theme.dim,
            ),
            Span::styled(format!("{task:<8} "), theme.dim),
            Span::styled(container, theme.dim),
        ];
        // Only what is drawn is styled: the first row's worth, or (wrapped)
        // the rows that are left.
        let room = room_of(e);
        let take = room * rows_of(e).min(rows - drawn);
        let message: Vec<char> = e
            .message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(take)
            .collect();
        let indent = " ".repeat(prefix_w(e));
        for (n, chunk) in message.chunks(room).enumerate() {
            if drawn >= rows {
                break;
            }
            let chunk: String = chunk.iter().collect();
            if n > 0 {
                spans = vec![Span::raw(indent.clone())];
            }
            for (text, hit) in highlight(&chunk, &terms) {
                spans.push(Span::styled(
                    text.to_string(),
                    if hit { mark } else { level },
                ));
            }
            lines.push(Line::from(std::mem::take(&mut spans)).style(row_style));
            drawn += 1;
        }
        if message.is_empty() {
            lines.push(Line::from(spans).style(row_style));
            drawn += 1;
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// A backend error, wrapped at spaces to `width` on at most `max_rows`
/// rows (the last one ending in an ellipsis when cut).
fn error_lines<'a>(
    e: &crate::backend::BackendError,
    width: usize,
    max_rows: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let width = width.max(1);
    let max_rows = max_rows.max(1);
    let text: String = e
        .to_string()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = row.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= width {
                if gap > 0 {
                    row.push(' ');
                }
                row.extend(word.iter());
                break;
            }
            if used > 0 {
                rows.push(std::mem::take(&mut row));
                continue;
            }
            // A word longer than the row: cut it.
            let rest = word.split_off(width);
            rows.push(word.iter().collect());
            word = rest;
        }
    }
    if !row.is_empty() {
        rows.push(row);
    }
    if rows.len() > max_rows {
        rows.truncate(max_rows);
        if let Some(last) = rows.last_mut() {
            let mut cut: String = last.chars().take(width.saturating_sub(1)).collect();
            cut.push('…');
            *last = cut;
        }
    }
    rows.into_iter()
        .map(|r| Line::styled(r, theme.error))
        .collect()
}
