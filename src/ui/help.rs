//! The `?` overlay, generated from the active keymap and the command list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::config::theme::Theme;
use crate::state::State;
use crate::update::COMMANDS;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let rows = state.keymap.help_rows();
    let key_w = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(4);
    let mut lines: Vec<Line> = Vec::new();
    lines.push(Line::styled("Keys", theme.title));
    for (keys, what) in &rows {
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<key_w$}  "), theme.key),
            Span::styled(*what, theme.base),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Commands (type : then tab to complete)", theme.title));
    let mut seen = Vec::new();
    for (cmd, what) in COMMANDS {
        if seen.contains(what) {
            continue;
        }
        seen.push(what);
        lines.push(Line::from(vec![
            Span::styled(format!("  :{cmd:<key_w$} "), theme.key),
            Span::styled(*what, theme.base),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Filters: words match any column; svc:web status:stopped health:unhealthy az:1a",
        theme.dim,
    ));

    let width = area.width.saturating_sub(4).min(76);
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
    let block = super::widgets::panel("Help · any key closes", None, state.now, theme, true);
    frame.render_widget(Paragraph::new(lines).block(block).style(theme.base), popup);
}
