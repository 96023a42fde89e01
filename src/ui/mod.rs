//! Drawing: one file per view, all from `&State` only.
//!
//! The frame is: a header (environment, account/region, PRODUCTION marker,
//! data age, errors), the view, and a footer (command line, filter, a flash
//! message or key hints). Overlays (help) draw on top. Below a minimum size
//! a "terminal too small" message replaces everything.

mod alarms;
mod databases;
mod diagnostics;
mod fleet;
mod footer;
mod header;
mod help;
mod overview;
mod service_detail;
mod services;
mod tasks;
pub mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::config::theme::Theme;
use crate::state::{Mode, State, View};

/// Smallest terminal the console draws its views in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    frame.render_widget(ratatui::widgets::Block::new().style(theme.base), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area, theme);
        return;
    }
    let [header_area, body, footer_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);

    header::draw(frame, header_area, state, theme);
    match state.view() {
        View::Fleet => fleet::draw(frame, body, state, theme),
        View::Diagnostics => diagnostics::draw(frame, body, state, theme),
        View::Overview => overview::draw(frame, body, state, theme),
        View::Services => services::draw(frame, body, state, theme),
        View::ServiceDetail { service } => service_detail::draw(frame, body, state, theme, service),
        View::Tasks => tasks::draw(frame, body, state, theme),
        View::Databases => databases::draw(frame, body, state, theme),
        View::Alarms => alarms::draw(frame, body, state, theme),
    }
    footer::draw(frame, footer_area, state, theme);
    if state.mode == Mode::Help {
        help::draw(frame, body, state, theme);
    }
}

fn draw_too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = vec![
        Line::styled("terminal too small", theme.warning),
        Line::styled(
            format!(
                "{}×{} — needs {MIN_WIDTH}×{MIN_HEIGHT}",
                area.width, area.height
            ),
            theme.dim,
        ),
        Line::styled("q quits", theme.dim),
    ];
    let h = (text.len() as u16).min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    frame.render_widget(
        Paragraph::new(text)
            .alignment(ratatui::layout::Alignment::Center)
            .wrap(Wrap { trim: true }),
        Rect::new(area.x, y, area.width, h),
    );
}
