//! CloudWatch alarms: ALARM first, then INSUFFICIENT_DATA, then OK.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Wrap};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{Alarm, AlarmState, Timestamp};
use crate::state::{EnvState, State, ViewKind};

use super::widgets::{age_since, num, panel, placeholder};

/// A state label that fits a narrow column.
pub fn short_state(s: AlarmState) -> &'static str {
    match s {
        AlarmState::Alarm => "ALARM",
        AlarmState::InsufficientData => "NO DATA",
        AlarmState::Ok => "OK",
    }
}

/// The state label of an alarm that went from ALARM back to OK lately.
pub const RESOLVED: &str = "RESOLVED";

/// Alarms of `env` that this session saw going from ALARM back to OK
/// within the last hour, with when; the most recent first.
pub fn resolved(env: &EnvState, now: Timestamp) -> Vec<(&Alarm, Timestamp)> {
    let mut rows: Vec<(&Alarm, Timestamp)> = env
        .alarms
        .data
        .iter()
        .flatten()
        .filter(|a| a.state == AlarmState::Ok)
        .filter_map(|a| Some((a, env.alarm_watch.resolved_at(&a.name, now)?)))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.name.cmp(&b.0.name)));
    rows
}

/// An alarm's name, after `NEW` while it fired unseen and, with `muted`,
/// before `MUTED` while its actions are disabled (it is counted all the
/// same; the alarms view has a column for that).
pub fn name_line<'a>(env: &EnvState, a: &Alarm, muted: bool, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    if env.alarm_watch.is_new(&a.name) {
        spans.push(Span::styled("NEW ", theme.critical));
    }
    spans.push(Span::raw(a.name.clone()));
    if muted && !a.actions_enabled && a.state != AlarmState::Ok {
        spans.push(Span::styled(" MUTED", theme.warning));
    }
    Line::from(spans)
}

/// `CPUUtilization > 80` (or the composite rule).
pub fn condition(a: &Alarm) -> String {
    match (&a.metric, a.threshold) {
        (Some(m), Some(t)) => {
            let value = if m.unit.as_deref() == Some("Bytes") || m.name.ends_with("Space") {
                super::widgets::human_bytes(t)
            } else if m.unit.as_deref() == Some("Percent") {
                format!("{}%", num(t))
            } else {
                num(t)
            };
            format!("{} {} {value}", m.name, a.comparison_symbol())
        }
        (Some(m), None) => m.name.clone(),
        (None, _) if a.composite => "composite".to_string(),
        _ => "-".to_string(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let meta = env.panel_meta(Resource::Alarms);
    let alarms = state.visible_alarms();
    let total = env.alarms.data.as_ref().map_or(0, Vec::len);
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(6)]).areas(area);
    // The counts are the environment's, whatever the filter shows.
    let s = env.summary(state.now);
    let mut title = format!(
        "Alarms ({}{}) · {} in ALARM",
        alarms.len(),
        if alarms.len() == total {
            String::new()
        } else {
            format!("/{total}")
        },
        s.alarms_firing
    );
    if s.alarms_muted > 0 {
        title.push_str(&format!(" ({} muted)", s.alarms_muted));
    }
    let resolved = resolved(env, state.now).len();
    if resolved > 0 {
        title.push_str(&format!(" · {resolved} resolved in 1h"));
    }
    let block = panel(&title, Some(meta), state.now, theme, true);
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    if alarms.is_empty() {
        if total > 0 {
            frame.render_widget(
                Paragraph::new(Span::styled("no alarm matches the filter", theme.dim)),
                inner,
            );
        } else {
            placeholder(frame, inner, meta, "alarms", theme);
        }
    } else {
        let wide = area.width >= 110;
        let (start, end, selected) =
            super::widgets::window(alarms.len(), Some(state.selected(ViewKind::Alarms)), inner);
        let rows = alarms[start..end]
            .iter()
            .map(|a| {
                let state_cell = match env.alarm_watch.resolved_at(&a.name, state.now) {
                    Some(_) if a.state == AlarmState::Ok => Span::styled(RESOLVED, theme.ok),
                    _ => Span::styled(short_state(a.state), theme.alarm_state(a.state)),
                };
                let mut cells = vec![
                    Cell::from(state_cell),
                    Cell::from(name_line(env, a, false, theme)),
                ];
                if wide {
                    cells.push(Cell::from(condition(a)));
                }
                cells.extend([
                    Cell::from(age_since(state.now, Some(a.state_updated_at))),
                    Cell::from(if a.actions_enabled {
                        Span::styled("on", theme.dim)
                    } else {
                        Span::styled("MUTED", theme.warning)
                    }),
                ]);
                Row::new(cells)
            })
            .collect();
        let (header, widths): (Vec<&str>, Vec<Constraint>) = if wide {
            (
                vec!["STATE", "NAME", "CONDITION", "SINCE", "ACTIONS"],
                vec![
                    Constraint::Length(8),
                    Constraint::Fill(3),
                    Constraint::Fill(2),
                    Constraint::Length(5),
                    Constraint::Length(7),
                ],
            )
        } else {
            (
                vec!["STATE", "NAME", "SINCE", "ACTIONS"],
                vec![
                    Constraint::Length(8),
                    Constraint::Fill(1),
                    Constraint::Length(5),
                    Constraint::Length(7),
                ],
            )
        };
        super::widgets::draw_sorted_table(
            frame,
            inner,
            state,
            ViewKind::Alarms,
            &header,
            rows,
            &widths,
            selected,
            theme,
        );
    }

    let selected = alarms.get(state.selected(ViewKind::Alarms)).copied();
    let block = panel(
        selected.map_or("Reason", |a| a.name.as_str()),
        None,
        state.now,
        theme,
        false,
    );
    let inner = block.inner(detail_area);
    frame.render_widget(block, detail_area);
    if let Some(a) = selected {
        let mut lines = vec![Line::from(vec![
            Span::styled(a.state.as_str(), theme.alarm_state(a.state)),
            if !a.actions_enabled && a.state != AlarmState::Ok {
                Span::styled(" MUTED", theme.warning)
            } else {
                Span::raw("")
            },
            Span::raw(format!("  {}", condition(a))),
            Span::styled(
                format!(
                    " since {}",
                    super::widgets::stamp(state, a.state_updated_at)
                ),
                theme.dim,
            ),
            Span::styled(
                a.metric.as_ref().map_or(String::new(), |m| {
                    let dims: Vec<String> = m
                        .dimensions
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    format!("  {} {}", m.namespace, dims.join(" "))
                }),
                theme.dim,
            ),
        ])];
        lines.push(Line::raw(a.state_reason.clone()));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
    }
}
