//! Drawing: one file per view, all from `&State` only.
//!
//! The frame is: a header (environment, account/region, PRODUCTION marker,
//! data age, errors), the view, and a footer (command line, filter, a flash
//! message or key hints). Overlays (help) draw on top. Below a minimum size
//! a "terminal too small" message replaces everything.

mod activity;
mod alarm_detail;
mod alarms;
mod blue_green;
pub mod chart;
mod cloudfront;
mod databases;
mod diagnostics;
mod dialog;
mod fleet;
mod footer;
mod header;
mod help;
mod hosts;
mod redis;
// --- logs
mod logs;
mod overview;
mod probes;
mod service_detail;
mod services;
mod task_detail;
mod tasks;
mod timeline;
pub mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::config::theme::Theme;
use crate::state::{Mode, State, View};

/// How far the help overlay can scroll (see [`help::max_scroll`]).
pub fn help_max_scroll(state: &State) -> usize {
    help::max_scroll(state)
}

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
    let bar = ops_bar(state, theme);
    let [header_area, body, bar_area, footer_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(u16::from(bar.is_some())),
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
        View::TaskDetail { task } => task_detail::draw(frame, body, state, theme, task),
        View::Databases => databases::draw(frame, body, state, theme),
        View::Hosts => hosts::draw(frame, body, state, theme),
        View::Alarms => alarms::draw(frame, body, state, theme),
        View::Activity => activity::draw(frame, body, state, theme),
        // --- metrics
        View::AlarmDetail { alarm } => alarm_detail::draw(frame, body, state, theme, alarm),
        // --- logs
        View::Logs => logs::draw(frame, body, state, theme),
        // --- timeline
        View::Timeline => timeline::draw(frame, body, state, theme),
        // --- cloudfront
        View::CloudFront => cloudfront::draw(frame, body, state, theme),
        // --- elasticache
        View::Redis => redis::draw(frame, body, state, theme),
        View::RedisGroup { group } => redis::draw_group(frame, body, state, group, theme),
    }
    if let Some(bar) = bar {
        frame.render_widget(Paragraph::new(bar), bar_area);
    }
    footer::draw(frame, footer_area, state, theme);
    match &state.mode {
        Mode::Help => help::draw(frame, body, state, theme),
        Mode::Dialog(d) => dialog::draw(frame, body, state, theme, d),
        _ => {}
    }
}

/// One line about the operation that matters now: the newest one still
/// under way, or one that ended a moment ago. `None` hides the bar.
fn ops_bar<'a>(state: &State, theme: &Theme) -> Option<Line<'a>> {
    let (a, others) = state.bar_activity()?;
    let (word, style) = activity::live_status(a, theme);
    let mut spans = vec![
        Span::styled(format!(" {} ", a.op.name()), theme.title),
        Span::styled(format!("{} ", a.op.resource()), theme.base),
        Span::styled(format!("{word} "), style),
    ];
    // A rollout that is failing or failed: the way back first, naming the
    // service it acts on (the key acts on it, whatever is selected).
    if let Some((_, service)) = state.offered_rollback() {
        let key = state
            .key_for(crate::config::keys::Command::Rollback)
            .unwrap_or_else(|| ":".to_string());
        spans.push(Span::styled(
            format!("{key} rolls back {service} · "),
            theme.key,
        ));
    }
    spans.push(Span::styled(activity::live_detail(a), theme.dim));
    if a.env != state.active {
        spans.insert(1, Span::styled(format!("[{}] ", a.env_name), theme.dim));
    }
    if others > 0 {
        let key = state.key_or(crate::config::keys::Command::Activity, ":activity");
        spans.push(Span::styled(
            format!("  (+{others} more: {key})"),
            theme.dim,
        ));
    }
    Some(Line::from(spans))
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
