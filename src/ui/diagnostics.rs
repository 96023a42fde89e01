//! The console's own view of its requests: per environment and API, the
//! calls, errors and throttles, and each panel's load state and backoff.

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
    // Cluster discovery is a panel only where no cluster is configured.
    let resources: Vec<Resource> = Resource::ALL
        .into_iter()
        .filter(|r| *r != Resource::Clusters || env.discovers_clusters())
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

    let total: u64 = env.request_stats.values().map(|s| s.calls).sum();
    let block = panel(
        &format!("Requests of {} ({total} sent)", env.name),
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
            Row::new(vec![
                Cell::from(op.clone()),
                Cell::from(s.calls.to_string()),
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
            ])
        })
        .collect();
    draw_table(
        frame,
        inner,
        &["API", "CALLS", "ERRORS", "THROTTLED", "LAST"],
        rows,
        &[
            Constraint::Fill(1),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Length(8),
        ],
        None,
        theme,
    );
}

fn panel_backoff(env: &crate::state::EnvState, r: Resource, state: &State) -> (String, String) {
    macro_rules! of {
        ($p:expr) => {
            (
                if $p.failures_in_row > 0 {
                    $p.failures_in_row.to_string()
                } else {
                    String::new()
                },
                $p.retry_at
                    .filter(|t| *t > state.now)
                    .map_or(String::new(), |t| format_age(t - state.now)),
            )
        };
    }
    match r {
        Resource::Identity => of!(env.identity),
        Resource::Clusters => of!(env.discovered_clusters),
        Resource::Services => of!(env.services),
        Resource::Scaling => of!(env.scaling),
        Resource::Tasks => of!(env.tasks),
        Resource::Databases => of!(env.databases),
        Resource::Snapshots => of!(env.snapshots),
        Resource::Alarms => of!(env.alarms),
        Resource::Targets => of!(env.targets),
        // --- metrics
        Resource::Metrics => of!(env.metrics),
    }
}
