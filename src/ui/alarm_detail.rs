//! One alarm: what it watches and why it is in its state, its metric over
//! the chart range with the threshold and the ALARM periods, its history
//! (where the server provides one), and the key to the resource it watches.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::action::Resource;
use crate::config::keys::Command;
use crate::config::theme::Theme;
use crate::metrics::{Watched, alarm_periods, watched};
use crate::state::{LoadState, State};

use super::chart::{ChartSpec, draw_chart, draw_unloaded};
use super::widgets::{age_since, missing_detail, panel};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, name: &str) {
    let Some(env) = state.env() else {
        return;
    };
    let meta = env.panel_meta(Resource::Alarms);
    let Some(alarm) = env.alarms.data.iter().flatten().find(|a| a.name == name) else {
        let listed = env.alarms.data.is_some();
        missing_detail(frame, area, ("alarm", name), listed, meta, state.now, theme);
        return;
    };
    let history = env.alarm_history.get(name);
    let history_rows = history
        .and_then(|h| h.data.as_ref())
        .map_or(1, |h| h.len().clamp(1, 8)) as u16;
    let tall = area.height >= 30;
    let [info_area, chart_area, history_area] = Layout::vertical([
        Constraint::Length(6),
        Constraint::Min(6),
        Constraint::Length(history_rows.min(if tall { 8 } else { 3 }) + 2),
    ])
    .areas(area);

    // What, why, and where enter leads.
    let key = |c: Command| state.key_for(c).unwrap_or_else(|| "-".to_string());
    let mut lines = vec![Line::from(vec![
        Span::styled(alarm.state.as_str(), theme.alarm_state(alarm.state)),
        Span::raw(format!("  {}", super::alarms::condition(alarm))),
        Span::styled(
            format!(
                " over {} × {}s",
                alarm.evaluation_periods.unwrap_or(1),
                alarm.period_seconds.unwrap_or(60)
            ),
            theme.dim,
        ),
        Span::styled(
            format!(
                "  since {} ago",
                age_since(state.now, Some(alarm.state_updated_at))
            ),
            theme.dim,
        ),
        if alarm.actions_enabled {
            Span::raw("")
        } else {
            Span::styled("  MUTED", theme.warning)
        },
    ])];
    if let Some(m) = &alarm.metric {
        let dims: Vec<String> = m
            .dimensions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let target = match watched(env, m) {
            Watched::Service(s) => format!("service {s}"),
            Watched::Database(d) => format!("database {d}"),
            Watched::Host(id) => format!("EC2 host {id}"),
            Watched::Redis(id) => format!("Redis {id}"),
            Watched::Other(what) => what,
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", key(Command::Select)), theme.key),
            Span::raw(format!("→ {target}  ")),
            Span::styled(
                format!(
                    "{} {} {}",
                    m.namespace,
                    m.statistic.as_deref().unwrap_or(""),
                    dims.join(" ")
                ),
                theme.dim,
            ),
        ]));
    }
    lines.push(Line::raw(alarm.state_reason.clone()));
    let block = panel(
        &format!("Alarm {name}"),
        Some(meta),
        state.now,
        theme,
        false,
    );
    let inner = block.inner(info_area);
    frame.render_widget(block, info_area);
    // Narrow: one line each (the reason is also in the alarms list).
    let info = Paragraph::new(lines);
    if area.width >= 120 {
        frame.render_widget(info.wrap(Wrap { trim: true }), inner);
    } else {
        frame.render_widget(info, inner);
    }

    // The metric, the threshold, the ALARM periods.
    let title = alarm
        .metric
        .as_ref()
        .map_or_else(|| "metric".to_string(), |m| m.name.clone());
    match &env.metrics.data {
        Some(data) if alarm.metric.is_some() => {
            let series = data.alarm(alarm);
            let period = series.map_or(60, |s| data.period_of(&s.id));
            let items = history.and_then(|h| h.data.as_deref());
            let periods = alarm_periods(alarm, items, series, period, data.start, data.end);
            let spec = ChartSpec {
                title: format!("{title} · last {}", data.range.label()),
                series,
                period_seconds: period,
                start: data.start,
                end: data.end,
                threshold: alarm.threshold,
                alarm_periods: &periods,
                age: super::chart::data_age(env, state.now, theme),
            };
            draw_chart(frame, chart_area, &spec, theme);
        }
        _ if alarm.metric.is_none() => {
            let block = panel("composite alarm", None, state.now, theme, false);
            let inner = block.inner(chart_area);
            frame.render_widget(block, chart_area);
            frame.render_widget(
                Paragraph::new(Line::styled(
                    alarm.description.clone().unwrap_or_default(),
                    theme.dim,
                ))
                .wrap(Wrap { trim: true }),
                inner,
            );
        }
        _ => draw_unloaded(frame, chart_area, &title, env, theme),
    }

    // History: state changes with their reasons, newest first.
    let block = panel("History", None, state.now, theme, true);
    let inner = block.inner(history_area);
    frame.render_widget(block, history_area);
    let Some(h) = history else {
        return;
    };
    let lines: Vec<Line> = match (&h.load, &h.data) {
        (LoadState::Failed(err), _) => vec![
            Line::styled("history not available from this server", theme.warning),
            Line::styled(err.to_string(), theme.dim),
        ],
        (_, Some(items)) if items.is_empty() => {
            vec![Line::styled("no state changes recorded", theme.dim)]
        }
        (_, Some(items)) => items
            .iter()
            .take(usize::from(inner.height))
            .map(|i| {
                let mut spans = vec![Span::styled(
                    format!(
                        "{} ",
                        super::widgets::in_zone(state.timezone, i.timestamp, "%m-%d %H:%M")
                    ),
                    theme.dim,
                )];
                match (i.old_state, i.new_state) {
                    (Some(o), Some(n)) => {
                        spans.push(Span::styled(
                            super::alarms::short_state(o),
                            theme.alarm_state(o),
                        ));
                        spans.push(Span::styled(" → ", theme.dim));
                        spans.push(Span::styled(
                            super::alarms::short_state(n),
                            theme.alarm_state(n),
                        ));
                        spans.push(Span::raw(format!(
                            "  {}",
                            i.reason.as_deref().unwrap_or(&i.summary)
                        )));
                    }
                    _ => spans.push(Span::raw(i.summary.clone())),
                }
                Line::from(spans)
            })
            .collect(),
        _ => vec![Line::styled("loading history…", theme.dim)],
    };
    frame.render_widget(Paragraph::new(lines), inner);
}
