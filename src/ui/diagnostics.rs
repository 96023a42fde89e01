//! The console's own view of its requests: per environment and API, the
//! calls, the requests sent for them (SDK retries included), errors,
//! throttles and the rate each API is allowed now, and each panel's load
//! state and backoff.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::state::{LoadState, State, format_age};

use super::widgets::{draw_table, panel};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    // Cluster discovery is a panel only where no cluster is configured,
    // EC2 hosts and Redis only where some are.
    let resources: Vec<Resource> = Resource::ALL
        .into_iter()
        .filter(|r| *r != Resource::Clusters || env.discovers_clusters())
        .filter(|r| *r != Resource::Instances || env.has_ec2())
        .filter(|r| *r != Resource::ReplicationGroups || env.has_redis())
        .collect();
    let [panels_area, requests_area] = Layout::vertical([
        Constraint::Length(resources.len() as u16 + 3),
        Constraint::Min(3),
    ])
    .areas(area);

    let block = panel(
        &format!("Panels of {}", env.name),
        None,
        state.now,
        theme,
        false,
    );
    let inner = block.inner(panels_area);
    frame.render_widget(block, panels_area);
    let rows = resources
        .iter()
        .map(|r| {
            let m = env.panel_meta(*r);
            let (text, style) = match m.load {
                LoadState::Idle => ("idle".to_string(), theme.dim),
                LoadState::Loading => ("loading".to_string(), theme.progressing),
                LoadState::Loaded => ("ok".to_string(), theme.ok),
                LoadState::Failed(e) => (e.to_string(), theme.error),
            };
            let (fails, retry) = panel_backoff(env, *r, state);
            Row::new(vec![
                Cell::from(r.label()),
                Cell::from(
                    m.loaded_at
                        .map_or("-".to_string(), |t| format_age(state.now - t)),
                ),
                Cell::from(if m.in_flight { "yes" } else { "" }),
                Cell::from(fails),
                Cell::from(retry),
                Cell::from(Span::styled(text, style)),
            ])
        })
        .collect();
    draw_table(
        frame,
        inner,
        &["PANEL", "AGE", "BUSY", "FAILS", "RETRY IN", "STATE"],
        rows,
        &[
            Constraint::Length(13),
            Constraint::Length(4),
            Constraint::Length(4),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Fill(1),
        ],
        None,
        theme,
    );

    let calls: u64 = env.request_stats.values().map(|s| s.calls).sum();
    let sent: u64 = env.request_stats.values().map(|s| s.sent).sum();
    let block = panel(
        &format!(
            "Requests of {} ({sent} sent for {calls} calls, SDK retries included)",
            env.name
        ),
        None,
        state.now,
        theme,
        true,
    );
    let inner = block.inner(requests_area);
    frame.render_widget(block, requests_area);
    if env.request_stats.is_empty() {
        let text = if env.source == crate::config::Source::Sim {
            "a simulated environment sends no AWS requests"
        } else {
            "no request sent yet"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.dim)), inner);
        return;
    }
    let rows = env
        .request_stats
        .iter()
        .map(|(op, s)| {
            // Below the published rate: slowed down after throttles.
            let rate = if s.rate_per_min == 0 {
                String::new()
            } else {
                format!("{:.1}/s", f64::from(s.rate_per_min) / 60.0)
            };
            Row::new(vec![
                Cell::from(op.clone()),
                Cell::from(s.calls.to_string()),
                Cell::from(s.sent.to_string()),
                Cell::from(Span::styled(
                    s.errors.to_string(),
                    if s.errors > 0 { theme.error } else { theme.dim },
                )),
                Cell::from(Span::styled(
                    s.throttles.to_string(),
                    if s.throttles > 0 {
                        theme.warning
                    } else {
                        theme.dim
                    },
                )),
                Cell::from(format!("{} ms", s.last_ms)),
                Cell::from(rate),
            ])
        })
        .collect();
    draw_table(
        frame,
        inner,
        &[
            "API",
            "CALLS",
            "SENT",
            "ERRORS",
            "THROTTLED",
            "LAST",
            "RATE",
        ],
        rows,
        &[
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(7),
        ],
        None,
        theme,
    );
}

fn panel_backoff(env: &crate::state::EnvState, r: Resource, state: &State) -> (String, String) {
    let request = env.request_of(r);
    (
        if request.failures_in_row > 0 {
            request.failures_in_row.to_string()
        } else {
            String::new()
        },
        request
            .retry_at
            .filter(|t| *t > state.now)
            .map_or(String::new(), |t| format_age(t - state.now)),
    )
}
