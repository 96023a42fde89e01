//! The `?` overlay, generated from the active keymap and the command list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::config::theme::Theme;
use crate::state::State;
use crate::update::COMMANDS;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    // A replay's keys in a replay, in place of the operations (refused
    // there); elsewhere not at all.
    let replay = state.replay.is_some();
    let mut rows: Vec<(String, &str)> = state.keymap.help_rows_of(|cmd| {
        if cmd.is_replay() {
            replay
        } else {
            !(replay && cmd.is_operation())
        }
    });
    // Below 110 columns: three columns with the first key of each command,
    // so that the whole list fits an 80×24 terminal; else two with all keys.
    let columns = if area.width < 110 { 3 } else { 2 };
    if columns == 3 {
        for (keys, _) in &mut rows {
            if let Some((first, _)) = keys.split_once(", ") {
                *keys = first.to_string();
            }
            *keys = keys.replace("pagedown", "pgdn").replace("pageup", "pgup");
        }
    }
    let per_column = rows.len().div_ceil(columns);
    let key_w = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(4)
        .min(16);
    // The popup's inner width, shared by the columns.
    let col_w = usize::from(area.width.saturating_sub(4).min(112)) / columns;
    let cell = |(keys, what): &(String, &'static str)| -> Vec<Span<'static>> {
        let text_w = col_w.saturating_sub(key_w + 3);
        let what: String = what.chars().take(text_w).collect();
        vec![
            Span::styled(format!(" {keys:<key_w$} "), theme.key),
            Span::styled(format!("{what:<text_w$} "), theme.base),
        ]
    };
    let mut lines: Vec<Line> = Vec::new();
    for i in 0..per_column {
        let mut spans = Vec::new();
        for c in 0..columns {
            if let Some(row) = rows.get(i + c * per_column) {
                spans.extend(cell(row));
            }
        }
        lines.push(Line::from(spans));
    }
    // Commands as one wrapped list: the whole overlay fits 80×24.
    let mut commands: Vec<String> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (cmd, what) in COMMANDS {
        // :seek moves a replay; :note and :mark add to a live timeline.
        let shown = if *cmd == "seek" {
            replay
        } else {
            !(replay && matches!(*cmd, "note" | "mark"))
        };
        if shown && !seen.contains(what) {
            seen.push(what);
            commands.push(if *cmd == "env" {
                ":env NAME".to_string()
            } else {
                format!(":{cmd}")
            });
        }
    }
    let text_w = usize::from(area.width.saturating_sub(6).min(110));
    let mut line = String::from(" Commands (tab completes):");
    for c in commands {
        if line.chars().count() + 1 + c.chars().count() > text_w {
            lines.push(Line::styled(std::mem::take(&mut line), theme.key));
            line.push(' ');
        }
        line.push(' ');
        line.push_str(&c);
    }
    lines.push(Line::styled(line, theme.key));
    lines.push(Line::styled(
        " Filters: words match any column; svc:web status:stopped health:unhealthy az:1a",
        theme.dim,
    ));

    let width = area.width.saturating_sub(2).min(114);
    let height = area.height.saturating_sub(2).min(lines.len() as u16 + 2);
    let [_, mid, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(width),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, popup, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height),
        Constraint::Fill(1),
    ])
    .areas(mid);
    frame.render_widget(Clear, popup);
    let title = match state.env() {
        Some(e) if e.read_only => format!(
            "Help · {} is read-only: operations unavailable · any key closes",
            e.name
        ),
        _ if state.dry_run => {
            "Help · dry run: operations are recorded, not sent · any key closes".to_string()
        }
        _ => "Help · any key closes".to_string(),
    };
    let block = super::widgets::panel(&title, None, state.now, theme, true);
    frame.render_widget(Paragraph::new(lines).block(block).style(theme.base), popup);
}
