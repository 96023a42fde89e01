//! The timeline of the active environment: the incident's marks with TTD /
//! TTM / TTR, then events, operations, notes and marks, newest first, and
//! the selected one in full.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

use crate::config::theme::Theme;
use crate::state::{State, ViewKind};
use crate::timeline::{Event, Incident, MarkKind, Severity, format_duration};

use super::widgets::{Keep, draw_table, fit, panel, window};

fn style_of(e: &Event, theme: &Theme) -> Style {
    match (e.mark.is_some(), e.severity) {
        (true, _) => theme.warning,
        (_, Severity::Error) => theme.critical,
        (_, Severity::Warning) => theme.warning,
        (_, Severity::Info) => theme.base,
    }
}

/// `detected 03:12:04 · first action 03:15:40 · TTD 4m 02s · TTM …`, or
/// what to do while nothing was detected.
pub fn incident_line<'a>(
    incident: &Incident,
    now: crate::domain::Timestamp,
    theme: &Theme,
) -> Line<'a> {
    if incident.marks.is_empty() {
        return Line::styled(
            "no incident: the first ALARM or failing check marks one · :mark impact [HH:MM] · N adds a note",
            theme.dim,
        );
    }
    let mut spans = Vec::new();
    let state = if incident.is_open() {
        "OPEN · "
    } else {
        "closed · "
    };
    spans.push(Span::styled(
        state,
        if incident.is_open() {
            theme.critical
        } else {
            theme.ok
        },
    ));
    for m in [
        MarkKind::ImpactStarted,
        MarkKind::Detected,
        MarkKind::FirstAction,
        MarkKind::Mitigated,
        MarkKind::Recovered,
    ] {
        if let Some(t) = incident.get(m) {
            spans.push(Span::styled(
                format!("{} {} · ", m.label(), t.format("%H:%M:%S")),
                theme.base,
            ));
        }
    }
    let ttd = incident.ttd().map_or_else(
        || "TTD ? (:mark impact HH:MM)".to_string(),
        |d| format!("TTD {}", format_duration(d)),
    );
    let ttm = incident
        .ttm(now)
        .map_or_else(String::new, |d| format!(" · TTM {}", format_duration(d)));
    let ttr = incident
        .ttr(now)
        .map_or_else(String::new, |d| format!(" · TTR {}", format_duration(d)));
    spans.push(Span::styled(format!("{ttd}{ttm}{ttr}"), theme.key));
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let [summary_area, list_area, detail_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(4),
        Constraint::Length(4),
    ])
    .areas(area);
    let recording = state
        .recording_path
        .as_deref()
        .map_or_else(|| "not recorded".to_string(), |p| format!("recording: {p}"));
    let mut summary = Vec::new();
    if state.timeline_fleet {
        // The environment with an incident (an open one first).
        let mut with: Vec<&crate::state::EnvState> = state
            .envs
            .iter()
            .filter(|e| !e.incident.marks.is_empty())
            .collect();
        with.sort_by_key(|e| !e.incident.is_open());
        match with.first() {
            Some(e) => {
                let mut line = incident_line(&e.incident, state.now, theme);
                line.spans
                    .insert(0, Span::styled(format!("{}: ", e.name), theme.title));
                summary.push(line);
            }
            None => summary.push(incident_line(&env.incident, state.now, theme)),
        }
    } else {
        summary.push(incident_line(&env.incident, state.now, theme));
    }
    summary.push(Line::styled(recording, theme.dim));
    frame.render_widget(Paragraph::new(summary), summary_area);

    let rows = state.visible_timeline();
    let title = if state.timeline_fleet {
        format!("Timeline of the fleet ({} events)", rows.len())
    } else {
        format!("Timeline of {} ({} events)", env.name, env.timeline.len())
    };
    let block = panel(&title, None, state.now, theme, true);
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    if rows.is_empty() {
        let text = if env.timeline.is_empty() {
            "nothing yet: deployments, scaling, stopped tasks, alarm and DB changes, \
             health checks and operations appear here as they happen"
                .to_string()
        } else {
            format!(
                "no event matches the filter ({} clears it)",
                state.key_or(crate::config::keys::Command::Back, "/ then esc")
            )
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim)).wrap(Wrap { trim: true }),
            inner,
        );
    } else {
        let selected = state.selected(ViewKind::Timeline);
        let (start, end, sel) = window(rows.len(), Some(selected), inner);
        // Over a day old: the date too.
        let old = rows[start..end]
            .iter()
            .any(|(_, e)| state.now - e.time >= chrono::TimeDelta::days(1));
        let zone = super::widgets::zone_label(state.timezone, state.now);
        let widths = [
            Constraint::Length(if old { 19 } else { 8 }),
            Constraint::Length(20),
            Constraint::Length(22),
            Constraint::Fill(1),
        ];
        let cols = super::widgets::column_widths(inner.width, &widths);
        let col = |i: usize| cols.get(i).copied().unwrap_or(0);
        let table_rows = rows[start..end]
            .iter()
            .map(|(_, e)| {
                let style = style_of(e, theme);
                let resource = crate::timeline::resource_label(&e.resource);
                let resource = if state.timeline_fleet {
                    format!("{}/{resource}", e.env)
                } else {
                    resource.to_string()
                };
                Row::new(vec![
                    Cell::from(super::widgets::clock(state, e.time)),
                    Cell::from(Span::styled(e.kind.replace('_', " "), style)),
                    // Alarm and database names share their start: the
                    // end tells them apart. The detail reads from the left
                    // (the panel below has it whole).
                    Cell::from(fit(&resource, col(2), Keep::End)),
                    Cell::from(Span::styled(fit(&e.text, col(3), Keep::Start), style)),
                ])
            })
            .collect();
        draw_table(
            frame,
            inner,
            &[zone.as_str(), "WHAT", "RESOURCE", "DETAIL"],
            table_rows,
            &widths,
            sel,
            theme,
        );
    }
    let detail: Vec<Line> = match rows.get(state.selected(ViewKind::Timeline)) {
        Some((_, e)) => {
            let mut lines = vec![Line::styled(
                format!(
                    "{} {} · {} · {}",
                    super::widgets::in_zone(state.timezone, e.time, "%Y-%m-%d %H:%M:%S"),
                    super::widgets::zone_label(state.timezone, state.now),
                    e.kind.replace('_', " "),
                    if e.resource.is_empty() {
                        &e.env
                    } else {
                        &e.resource
                    }
                ),
                theme.title,
            )];
            lines.push(Line::styled(e.text.clone(), style_of(e, theme)));
            if let Some(c) = &e.caller {
                lines.push(Line::styled(format!("by {c}"), theme.dim));
            }
            for call in &e.calls {
                lines.push(Line::styled(call.clone(), theme.dim));
            }
            lines
        }
        None => Vec::new(),
    };
    frame.render_widget(
        Paragraph::new(detail).wrap(Wrap { trim: true }),
        detail_area,
    );
}
