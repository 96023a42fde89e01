//! The overview: the environment at a glance, what is wrong first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{Alarm, AlarmState, Health};
use crate::state::{EnvSummary, ServiceHealth, State, ViewKind};

use super::widgets::{
    Keep, age_since, column_widths, draw_sorted_table, draw_table, ecs_placeholder, fit,
    health_span, keep_end, panel, placeholder, rollout_style, service_label,
};

/// The recent-events panel is worth drawing from this height (borders and
/// three events).
const MIN_EVENT_ROWS: u16 = 5;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    // Every alarm not OK, whatever the alarms view's filter hides: ALARM
    // first, then INSUFFICIENT_DATA, the newest change first.
    let mut firing: Vec<&Alarm> = env
        .alarms
        .data
        .iter()
        .flatten()
        .filter(|a| a.state != AlarmState::Ok)
        .collect();
    firing.sort_by(|a, b| {
        a.state
            .cmp(&b.state)
            .then_with(|| b.state_updated_at.cmp(&a.state_updated_at))
            .then_with(|| a.name.cmp(&b.name))
    });
    let resolved = super::alarms::resolved(env, state.now);
    let services = state.visible_services();
    let dbs = state.visible_databases();
    let mut alarm_rows = (firing.len() + resolved.len()).clamp(1, 6) as u16 + 3;
    let svc_rows = services.len().max(1) as u16 + 3;
    let db_rows = dbs.len().max(1) as u16 + 3;
    let side_by_side = area.width >= 110;
    // --- probes: the health checks follow the services (none: no panel).
    let mut probe_rows = super::probes::height(env);
    // A short terminal keeps a few lines of recent events: an empty alarms
    // panel takes one line, then passing health checks fold into the
    // summary line (`http 2/2`); what is failing always keeps its panel.
    let panels = |probe_rows: u16, alarm_rows: u16| {
        1 + alarm_rows
            + probe_rows
            + if side_by_side {
                svc_rows.max(db_rows)
            } else {
                svc_rows + db_rows
            }
    };
    let room = |rows: u16| area.height.saturating_sub(rows) >= MIN_EVENT_ROWS;
    if !room(panels(probe_rows, alarm_rows)) && firing.is_empty() && resolved.is_empty() {
        alarm_rows = 3;
    }
    if !room(panels(probe_rows, alarm_rows)) && !super::probes::any_failing(env) {
        probe_rows = 0;
    }
    // Still too short (60×15): the panels get their rows in the order of
    // what matters (services, failing alarms and checks, databases, an
    // all-OK alarms line); one too short to show a row is left out rather
    // than drawn as an empty frame.
    let (mut svc_h, mut db_h) = (svc_rows, db_rows);
    if !side_by_side && panels(probe_rows, alarm_rows) > area.height {
        let mut left = area.height.saturating_sub(1);
        let mut take = |want: u16, least: u16| -> u16 {
            let got = want.min(left);
            if got < least {
                0
            } else {
                left -= got;
                got
            }
        };
        let urgent = !firing.is_empty() || !resolved.is_empty();
        svc_h = take(svc_rows, 4);
        let alarm_first = if urgent { take(alarm_rows, 3) } else { 0 };
        probe_rows = if super::probes::any_failing(env) {
            take(probe_rows, 3)
        } else {
            0
        };
        db_h = take(db_rows, 4);
        alarm_rows = if urgent { alarm_first } else { take(3, 3) };
    }
    let mut constraints = vec![Constraint::Length(1)];
    if side_by_side {
        constraints.push(Constraint::Length(svc_rows.max(db_rows)));
        constraints.push(Constraint::Length(probe_rows));
    } else {
        constraints.push(Constraint::Length(svc_h));
        constraints.push(Constraint::Length(probe_rows));
        constraints.push(Constraint::Length(db_h));
    }
    constraints.push(Constraint::Length(alarm_rows));
    constraints.push(Constraint::Fill(1));
    let areas = Layout::vertical(constraints).split(area);
    let summary_area = areas[0];
    let (svc_area, probes_area, db_area, alarms_area, events_area) = if side_by_side {
        let [a, b] = Layout::horizontal([Constraint::Percentage(56), Constraint::Percentage(44)])
            .areas(areas[1]);
        (a, areas[2], b, areas[3], areas[4])
    } else {
        (areas[1], areas[2], areas[3], areas[4], areas[5])
    };

    // Counts by health.
    let s = env.summary(state.now);
    let count = |ok: usize, total: usize| {
        if ok == total {
            theme.ok
        } else {
            theme.critical
        }
    };
    let mut spans = vec![Span::styled(" svc ", theme.dim)];
    spans.extend(service_counts(&s, theme));
    // A narrow line keeps the alarms: `db 2/2` says enough.
    let narrow = area.width < 100;
    spans.extend([
        Span::styled("  tasks ", theme.dim),
        Span::styled(
            format!("{}/{}", s.tasks_running, s.tasks_desired),
            count(s.tasks_running.min(s.tasks_desired), s.tasks_desired),
        ),
        Span::styled("  db ", theme.dim),
        Span::styled(
            if narrow {
                format!("{}/{}", s.databases_available, s.databases_total)
            } else {
                format!("{}/{} available", s.databases_available, s.databases_total)
            },
            count(s.databases_available, s.databases_total),
        ),
        Span::styled("  alarms ", theme.dim),
    ]);
    if s.alarms_firing > 0 {
        spans.push(Span::styled(
            format!("{} ALARM", s.alarms_firing),
            theme.critical,
        ));
        if s.alarms_muted > 0 {
            spans.push(Span::styled(
                format!(" ({} MUTED)", s.alarms_muted),
                theme.warning,
            ));
        }
    } else if s.alarms_insufficient > 0 {
        spans.push(Span::styled("0 ALARM", theme.unknown));
    } else {
        spans.push(Span::styled("0 ALARM", theme.ok));
    }
    spans.push(Span::styled(format!(" of {}", s.alarms_total), theme.dim));
    if s.alarms_insufficient > 0 {
        spans.push(Span::styled(
            format!(", {} no data", s.alarms_insufficient),
            theme.unknown,
        ));
    }
    // EC2 hosts, where the environment has some: running with both checks
    // ok and healthy where they are targets, of all (`ec2 1/2 ok`).
    if env.has_ec2() {
        let hosts = env.instances.data.as_deref().unwrap_or_default();
        let ok = s.hosts_ok;
        let at = spans
            .iter()
            .position(|s| s.content == "  db ")
            .unwrap_or(spans.len());
        spans.splice(
            at..at,
            [
                Span::styled("  ec2 ", theme.dim),
                Span::styled(
                    if narrow {
                        format!("{ok}/{}", hosts.len())
                    } else {
                        format!("{ok}/{} ok", hosts.len())
                    },
                    count(ok, hosts.len()),
                ),
            ],
        );
    }
    // ElastiCache replication groups, where the environment has some:
    // those healthy (lag and alarms counted) of all (`redis 1/1 ok`).
    if env.has_redis() {
        let groups = env.replication_groups.data.as_deref().unwrap_or_default();
        let ok = groups
            .iter()
            .filter(|g| env.redis_health(g) == crate::domain::CacheHealth::Ok)
            .count();
        let at = spans
            .iter()
            .position(|s| s.content == "  alarms ")
            .unwrap_or(spans.len());
        spans.splice(
            at..at,
            [
                Span::styled("  redis ", theme.dim),
                Span::styled(
                    if narrow {
                        format!("{ok}/{}", groups.len())
                    } else {
                        format!("{ok}/{} ok", groups.len())
                    },
                    count(ok, groups.len()),
                ),
            ],
        );
    }
    // --- probes: before the alarms (a long alarm count is cut, not these).
    let at = spans
        .iter()
        .position(|s| s.content == "  alarms ")
        .unwrap_or(spans.len());
    spans.splice(at..at, super::probes::summary(env, theme));
    // Nothing loaded yet: zeros would read as "nothing there".
    let line = if s.services_known || s.databases_known || s.alarms_known {
        Line::from(spans)
    } else if env.errors().is_empty() {
        Line::from(Span::styled(" loading…", theme.dim))
    } else {
        Line::from(Span::styled(
            " no data yet (see the error above)",
            theme.error,
        ))
    };
    frame.render_widget(Paragraph::new(line), summary_area);
    super::probes::draw(frame, probes_area, state, env, theme);

    // Services.
    let block = panel(
        "Services",
        Some(env.panel_meta(Resource::Services)),
        state.now,
        theme,
        true,
    );
    let inner = block.inner(svc_area);
    frame.render_widget(block, svc_area);
    if services.is_empty() {
        ecs_placeholder(frame, inner, env, Resource::Services, "services", theme);
    } else {
        let widths = [
            Constraint::Fill(2),
            Constraint::Length(11),
            Constraint::Length(14),
            Constraint::Length(5),
            Constraint::Length(11),
        ];
        let name_w = column_widths(inner.width, &widths)
            .first()
            .copied()
            .unwrap_or(0);
        let rows = services
            .iter()
            .map(|s| {
                Row::new(vec![
                    Cell::from(fit(&service_label(env, s), name_w, Keep::Start)),
                    Cell::from(health_span(env.service_health(s, state.now), theme)),
                    // --- metrics: the CPU trend at a glance.
                    Cell::from(super::chart::trend_cell(
                        env,
                        |m| m.service_cpu(crate::domain::short_id(&s.cluster_arn), &s.name),
                        14,
                        theme,
                    )),
                    Cell::from(format!("{}/{}", s.running_count, s.desired_count)),
                    Cell::from(match super::blue_green::rollout_cell(env, s, theme) {
                        Some((text, style)) => Span::styled(text, style),
                        None => {
                            Span::styled(s.rollout().as_str(), rollout_style(s.rollout(), theme))
                        }
                    }),
                ])
            })
            .collect();
        draw_sorted_table(
            frame,
            inner,
            state,
            ViewKind::Overview,
            &["NAME", "HEALTH", "CPU", "TASKS", "ROLLOUT"],
            rows,
            &widths,
            Some(state.selected(ViewKind::Overview)),
            theme,
        );
    }

    // Databases.
    let block = panel(
        "Databases",
        Some(env.panel_meta(Resource::Databases)),
        state.now,
        theme,
        false,
    );
    let inner = block.inner(db_area);
    frame.render_widget(block, db_area);
    if dbs.is_empty() {
        placeholder(
            frame,
            inner,
            env.panel_meta(Resource::Databases),
            "databases",
            theme,
        );
    } else {
        // The ID column takes what the others leave (spacing included).
        let id_width = usize::from(inner.width.saturating_sub(7 + 10 + 12 + 3));
        let rows = dbs
            .iter()
            .map(|d| {
                Row::new(vec![
                    Cell::from(keep_end(&d.id, id_width)),
                    Cell::from(d.role().to_string()),
                    Cell::from(Span::styled(d.status.clone(), theme.health(d.health()))),
                    // --- metrics
                    Cell::from(super::chart::trend_cell(
                        env,
                        |m| m.db(&d.id, "CPUUtilization"),
                        12,
                        theme,
                    )),
                ])
            })
            .collect();
        draw_table(
            frame,
            inner,
            &["ID", "ROLE", "STATUS", "CPU"],
            rows,
            &[
                Constraint::Fill(1),
                Constraint::Length(7),
                Constraint::Length(10),
                Constraint::Length(12),
            ],
            None,
            theme,
        );
    }

    // Alarms not OK, ALARM first, then those resolved within the hour.
    let block = panel(
        if resolved.is_empty() {
            "Alarms not OK"
        } else {
            "Alarms not OK · resolved in 1h"
        },
        Some(env.panel_meta(Resource::Alarms)),
        state.now,
        theme,
        false,
    );
    let inner = block.inner(alarms_area);
    frame.render_widget(block, alarms_area);
    if env.alarms.data.is_none() {
        placeholder(
            frame,
            inner,
            env.panel_meta(Resource::Alarms),
            "alarms",
            theme,
        );
    } else if firing.is_empty() && resolved.is_empty() {
        // Only said when it is true: every alarm listed is OK.
        frame.render_widget(
            Paragraph::new(Line::styled("every alarm is OK", theme.health(Health::Ok))),
            inner,
        );
    } else {
        let mut rows: Vec<Row> = firing
            .iter()
            .map(|a| {
                Row::new(vec![
                    Cell::from(Span::styled(
                        super::alarms::short_state(a.state),
                        theme.alarm_state(a.state),
                    )),
                    Cell::from(super::alarms::name_line(env, a, true, theme)),
                    Cell::from(age_since(state.now, Some(a.state_updated_at))),
                    Cell::from(a.state_reason.clone()),
                ])
            })
            .collect();
        // Then what went back to OK within the hour.
        rows.extend(resolved.iter().map(|(a, at)| {
            Row::new(vec![
                Cell::from(Span::styled(super::alarms::RESOLVED, theme.ok)),
                Cell::from(a.name.clone()),
                Cell::from(age_since(state.now, Some(*at))),
                Cell::from(Span::styled(a.state_reason.clone(), theme.dim)),
            ])
        }));
        draw_table(
            frame,
            inner,
            &["STATE", "NAME", "SINCE", "REASON"],
            rows,
            &[
                Constraint::Length(8),
                Constraint::Fill(3),
                Constraint::Length(5),
                Constraint::Fill(2),
            ],
            None,
            theme,
        );
    }
    draw_events(frame, events_area, state, theme);
}

/// `2/4 ok 1 FAILING 1 deploying`: services by health, the worst first.
fn service_counts<'a>(s: &EnvSummary, theme: &Theme) -> Vec<Span<'a>> {
    let worst = s.worst_service_health().unwrap_or(ServiceHealth::Ok);
    let mut spans = vec![Span::styled(
        format!("{}/{} ok", s.services_healthy, s.services_total),
        theme.health(worst.style()),
    )];
    for (n, h) in [
        (s.services_failing, ServiceHealth::Failing),
        (s.services_degraded, ServiceHealth::Degraded),
        (s.services_deploying, ServiceHealth::Deploying),
        (s.services_scaled_to_zero, ServiceHealth::ScaledToZero),
    ] {
        if n > 0 {
            spans.push(Span::styled(
                format!(" {n} {}", h.word()),
                theme.health(h.style()),
            ));
        }
    }
    spans
}

/// The newest service events across the environment: what changed lately.
fn draw_events(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height < 3 {
        return;
    }
    let Some(services) = state.env().and_then(|e| e.services.data.as_ref()) else {
        return;
    };
    let block = panel("Recent events", None, state.now, theme, false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut events: Vec<&crate::domain::ServiceEvent> =
        services.iter().flat_map(|s| s.events.iter()).collect();
    events.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    if events.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no service events", theme.dim)),
            inner,
        );
        return;
    }
    let lines: Vec<Line> = events
        .iter()
        .take(usize::from(inner.height))
        .map(|e| {
            Line::from(vec![
                Span::styled(
                    format!("{:>4} ", age_since(state.now, Some(e.created_at))),
                    theme.dim,
                ),
                Span::raw(e.message.clone()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
