//! The overview: the environment at a glance, what is wrong first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{AlarmState, Health};
use crate::state::{State, ViewKind};

use super::widgets::{age_since, draw_table, health_span, panel, placeholder, rollout_style};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let firing: Vec<_> = state
        .visible_alarms()
        .into_iter()
        .filter(|a| a.state != AlarmState::Ok)
        .collect();
    let alarm_rows = firing.len().clamp(1, 6) as u16;
    let [summary_area, middle, alarms_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(alarm_rows + 3),
    ])
    .areas(area);

    // Counts by health.
    let s = env.summary();
    let count = |ok: usize, total: usize| if ok == total { theme.ok } else { theme.critical };
    let mut spans = vec![
        Span::styled(" services ", theme.dim),
        Span::styled(
            format!("{}/{} healthy", s.services_healthy, s.services_total),
            if s.services_healthy + s.services_deploying == s.services_total {
                theme.ok
            } else {
                theme.critical
            },
        ),
    ];
    if s.services_deploying > 0 {
        spans.push(Span::styled(
            format!(" ({} deploying)", s.services_deploying),
            theme.progressing,
        ));
    }
    spans.extend([
        Span::styled("  tasks ", theme.dim),
        Span::styled(
            format!("{}/{}", s.tasks_running, s.tasks_desired),
            count(s.tasks_running.min(s.tasks_desired), s.tasks_desired),
        ),
        Span::styled("  databases ", theme.dim),
        Span::styled(
            format!("{}/{} available", s.databases_available, s.databases_total),
            count(s.databases_available, s.databases_total),
        ),
        Span::styled("  alarms ", theme.dim),
    ]);
    if s.alarms_firing > 0 {
        spans.push(Span::styled(format!("{} ALARM", s.alarms_firing), theme.critical));
    } else {
        spans.push(Span::styled("none firing", theme.ok));
    }
    spans.push(Span::styled(format!(" of {}", s.alarms_total), theme.dim));
    frame.render_widget(Paragraph::new(Line::from(spans)), summary_area);

    let [svc_area, db_area] =
        Layout::horizontal([Constraint::Percentage(56), Constraint::Percentage(44)]).areas(middle);

    // Services.
    let block = panel("Services", Some(env.panel_meta(Resource::Services)), state.now, theme, true);
    let inner = block.inner(svc_area);
    frame.render_widget(block, svc_area);
    let services = state.visible_services();
    if services.is_empty() {
        placeholder(frame, inner, env.panel_meta(Resource::Services), "services", theme);
    } else {
        let rows = services
            .iter()
            .map(|s| {
                Row::new(vec![
                    Cell::from(s.name.clone()),
                    Cell::from(health_span(s.health(), theme)),
                    Cell::from(format!("{}/{}", s.running_count, s.desired_count)),
                    Cell::from(Span::styled(s.rollout().as_str(), rollout_style(s.rollout(), theme))),
                ])
            })
            .collect();
        draw_table(
            frame,
            inner,
            &["NAME", "HEALTH", "TASKS", "ROLLOUT"],
            rows,
            &[
                Constraint::Fill(2),
                Constraint::Length(9),
                Constraint::Length(5),
                Constraint::Length(11),
            ],
            Some(state.selected(ViewKind::Overview)),
            theme,
        );
    }

    // Databases.
    let block = panel("Databases", Some(env.panel_meta(Resource::Databases)), state.now, theme, false);
    let inner = block.inner(db_area);
    frame.render_widget(block, db_area);
    let dbs = state.visible_databases();
    if dbs.is_empty() {
        placeholder(frame, inner, env.panel_meta(Resource::Databases), "databases", theme);
    } else {
        let rows = dbs
            .iter()
            .map(|d| {
                Row::new(vec![
                    Cell::from(d.id.clone()),
                    Cell::from(d.role().to_string()),
                    Cell::from(Span::styled(d.status.clone(), theme.health(d.health()))),
                ])
            })
            .collect();
        draw_table(
            frame,
            inner,
            &["ID", "ROLE", "STATUS"],
            rows,
            &[Constraint::Fill(1), Constraint::Length(7), Constraint::Length(10)],
            None,
            theme,
        );
    }

    // Alarms not OK, ALARM first.
    let block = panel(
        "Alarms not OK",
        Some(env.panel_meta(Resource::Alarms)),
        state.now,
        theme,
        false,
    );
    let inner = block.inner(alarms_area);
    frame.render_widget(block, alarms_area);
    if env.alarms.data.is_none() {
        placeholder(frame, inner, env.panel_meta(Resource::Alarms), "alarms", theme);
    } else if firing.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("every alarm is OK", theme.health(Health::Ok))),
            inner,
        );
    } else {
        let rows = firing
            .iter()
            .map(|a| {
                Row::new(vec![
                    Cell::from(Span::styled(super::alarms::short_state(a.state), theme.alarm_state(a.state))),
                    Cell::from(a.name.clone()),
                    Cell::from(age_since(state.now, Some(a.state_updated_at))),
                    Cell::from(a.state_reason.clone()),
                ])
            })
            .collect();
        draw_table(
            frame,
            inner,
            &["STATE", "NAME", "SINCE", "REASON"],
            rows,
            &[
                Constraint::Length(9),
                Constraint::Fill(2),
                Constraint::Length(5),
                Constraint::Fill(3),
            ],
            None,
            theme,
        );
    }
}
