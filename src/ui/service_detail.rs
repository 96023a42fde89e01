//! One service: its state, deployments with rollout progress, tasks,
//! task-definition revision and images, auto-scaling bounds, events.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{Service, task_definition_label};
use crate::state::{EnvState, State, ViewKind};

use super::chart::{ChartSpec, draw_chart, draw_unloaded, format_value, trend_cell_up_to};
use super::tasks::draw_task_table;
use super::widgets::{
    Keep, age_since, column_widths, draw_table, fit, health_span, missing_detail, panel,
    placeholder, progress_bar, rollout_style,
};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, name: &str) {
    let Some(env) = state.env() else {
        return;
    };
    let meta = env.panel_meta(Resource::Services);
    let Some(service) = state.service(name) else {
        let listed = env.services.data.is_some();
        missing_detail(
            frame,
            area,
            ("service", name),
            listed,
            meta,
            state.now,
            theme,
        );
        return;
    };

    let tasks = state.visible_service_tasks(name);
    let all_tasks = state.service_tasks(name).len();
    // The view's filter applies to its tasks and its events.
    let filter = crate::state::Filter::parse(state.filter(ViewKind::ServiceDetail));
    let events: Vec<&crate::domain::ServiceEvent> = service
        .events
        .iter()
        .filter(|e| filter.matches_event_message(&e.message))
        .collect();
    let deployments = service.deployments.len().max(1) as u16;
    // A CODE_DEPLOY service: its CodeDeploy deployment instead of ECS's.
    let blue_green = service.is_code_deploy().then(|| {
        super::blue_green::lines(
            state,
            env,
            service,
            theme,
            usize::from(area.width.saturating_sub(2)),
        )
    });
    let wide = area.width >= 140;
    let info = info_lines(
        env,
        service,
        state.now,
        theme,
        (area.width < 120, usize::from(area.width.saturating_sub(2))),
    );
    // --- metrics: charts with axes where there is room, else sparklines
    // beside the events.
    let charts_h = if area.height >= 34 { 10 } else { 0 };
    let [info_area, deploy_area, charts_area, rest] = Layout::vertical([
        Constraint::Length(info.len() as u16 + 2),
        Constraint::Length(match &blue_green {
            Some(lines) => lines.len() as u16 + 2,
            None => deployments + 3,
        }),
        Constraint::Length(charts_h),
        Constraint::Min(4),
    ])
    .areas(area);
    // Tasks take what they need (up to about half), events the rest.
    let task_rows = (tasks.len().max(1) as u16 + 3).min(rest.height / 2).max(4);
    let (tasks_area, events_area) = if wide {
        let [a, b] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(rest);
        (a, b)
    } else if rest.height < task_rows + 3 {
        // A short terminal: the tasks only (events and trends need rows).
        (rest, Rect::new(rest.x, rest.y + rest.height, rest.width, 0))
    } else {
        let [a, b] =
            Layout::vertical([Constraint::Length(task_rows), Constraint::Min(3)]).areas(rest);
        (a, b)
    };

    // Summary.
    let block = panel(
        &format!("Service {name}"),
        Some(meta),
        state.now,
        theme,
        false,
    );
    let inner = block.inner(info_area);
    frame.render_widget(block, info_area);
    frame.render_widget(Paragraph::new(info), inner);

    // Deployments (a CODE_DEPLOY service's are CodeDeploy's).
    if let Some(lines) = blue_green {
        let block = panel(
            &super::blue_green::title(env, service),
            Some(env.panel_meta(Resource::BlueGreens)),
            state.now,
            theme,
            false,
        );
        let inner = block.inner(deploy_area);
        frame.render_widget(block, deploy_area);
        frame.render_widget(Paragraph::new(lines), inner);
    } else {
        draw_deployments(frame, deploy_area, state, service, theme);
    }

    // Tasks of the service.
    let block = panel(
        &if tasks.len() == all_tasks {
            format!("Tasks ({all_tasks})")
        } else {
            format!("Tasks ({}/{all_tasks})", tasks.len())
        },
        Some(env.panel_meta(Resource::Tasks)),
        state.now,
        theme,
        true,
    );
    let inner = block.inner(tasks_area);
    frame.render_widget(block, tasks_area);
    if tasks.is_empty() && all_tasks > 0 {
        frame.render_widget(
            Paragraph::new(Span::styled("no task matches the filter", theme.dim)),
            inner,
        );
    } else if tasks.is_empty() {
        placeholder(
            frame,
            inner,
            env.panel_meta(Resource::Tasks),
            "tasks",
            theme,
        );
    } else {
        draw_task_table(
            frame,
            inner,
            state,
            theme,
            &tasks,
            ViewKind::ServiceDetail,
            Some(state.selected(ViewKind::ServiceDetail)),
        );
    }

    // --- metrics
    let events_area = if charts_h > 0 {
        draw_charts(frame, charts_area, env, service, state.now, theme);
        events_area
    } else {
        let [metrics_area, events_area] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(events_area);
        draw_trends(frame, metrics_area, state, env, service, theme);
        events_area
    };

    // Events, newest first.
    let title = if events.len() == service.events.len() {
        "Events".to_string()
    } else {
        format!("Events ({}/{})", events.len(), service.events.len())
    };
    let block = panel(&title, None, state.now, theme, false);
    let inner = block.inner(events_area);
    frame.render_widget(block, events_area);
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
    if lines.is_empty() {
        let text = if service.events.is_empty() {
            "no events"
        } else {
            "no event matches the filter"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.dim)), inner);
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// The ECS deployments of a service with their rollout.
fn draw_deployments(
    frame: &mut Frame,
    deploy_area: Rect,
    state: &State,
    service: &Service,
    theme: &Theme,
) {
    let block = panel("Deployments", None, state.now, theme, false);
    let inner = block.inner(deploy_area);
    frame.render_widget(block, deploy_area);
    let deploy_widths = [
        Constraint::Length(8),
        Constraint::Length(24),
        Constraint::Length(11),
        Constraint::Length(14),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Fill(1),
    ];
    let cols = column_widths(inner.width, &deploy_widths);
    let col = |i: usize| cols.get(i).copied().unwrap_or(0);
    let rows = service
        .deployments
        .iter()
        .map(|d| {
            let reason = fit(
                d.rollout_state_reason.as_deref().unwrap_or_default(),
                col(7),
                Keep::Start,
            );
            Row::new(vec![
                Cell::from(d.status.clone()),
                // The revision is what tells two deployments apart.
                Cell::from(fit(
                    task_definition_label(&d.task_definition),
                    col(1),
                    Keep::End,
                )),
                Cell::from(Span::styled(
                    d.rollout_state.as_str(),
                    rollout_style(d.rollout_state, theme),
                )),
                Cell::from(Span::styled(
                    progress_bar(d.running_count, d.desired_count, 8),
                    theme.gauge,
                )),
                Cell::from(d.pending_count.to_string()),
                Cell::from(Span::styled(
                    d.failed_tasks.to_string(),
                    if d.failed_tasks > 0 {
                        theme.critical
                    } else {
                        theme.dim
                    },
                )),
                Cell::from(age_since(state.now, Some(d.updated_at))),
                Cell::from(Span::styled(reason, theme.dim)),
            ])
        })
        .collect();
    draw_table(
        frame,
        inner,
        &[
            "STATUS", "TASK DEF", "ROLLOUT", "RUNNING", "PEND", "FAIL", "UPD", "REASON",
        ],
        rows,
        &deploy_widths,
        None,
        theme,
    );
}

fn info_lines<'a>(
    env: &EnvState,
    s: &Service,
    now: crate::domain::Timestamp,
    theme: &Theme,
    (narrow, width): (bool, usize),
) -> Vec<Line<'a>> {
    let td = env.task_definitions.get(&s.task_definition);
    let verdict = env.service_verdict(s, now);
    let mut lines = Vec::new();
    let mut first = vec![
        Span::styled("health ", theme.dim),
        health_span(verdict.health, theme),
    ];
    // Why it is not ok comes first: the counts are on the next line then.
    if let Some(why) = &verdict.why {
        first.push(Span::styled(
            format!(": {why}"),
            theme.health(verdict.health.style()),
        ));
        lines.push(Line::from(first));
        first = Vec::new();
    } else {
        first.push(Span::raw("  "));
    }
    first.extend([
        Span::styled("status ", theme.dim),
        Span::raw(s.status.clone()),
        Span::styled("  tasks ", theme.dim),
        Span::raw(format!(
            "{} running / {} desired / {} pending",
            s.running_count, s.desired_count, s.pending_count
        )),
    ]);
    lines.push(Line::from(first));
    let mut rev = vec![
        Span::styled("task def ", theme.dim),
        Span::raw(task_definition_label(&s.task_definition).to_string()),
    ];
    if let Some(td) = td {
        rev.push(Span::styled(
            format!(
                "  cpu {} mem {}",
                td.cpu.as_deref().unwrap_or("-"),
                td.memory.as_deref().unwrap_or("-")
            ),
            theme.dim,
        ));
    }
    let family = task_definition_label(&s.task_definition)
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string();
    if let Some(revs) = env.revisions.get(&family).and_then(|p| p.data.as_ref()) {
        let list: Vec<&str> = revs
            .iter()
            .take(5)
            .map(|a| task_definition_label(a).rsplit(':').next().unwrap_or(""))
            .collect();
        rev.push(Span::styled(
            format!("  revisions {}", list.join(" ")),
            theme.dim,
        ));
    }
    lines.push(Line::from(rev));
    if let Some(line) = super::blue_green::info_line(s, theme) {
        lines.push(line);
    }
    match td {
        Some(td) => {
            for c in &td.containers {
                let label = format!("image {} ", c.name);
                let room = width.saturating_sub(label.chars().count());
                let image = if narrow {
                    without_registry(&c.image)
                } else {
                    c.image.as_str()
                };
                // The tag is what matters: a cut keeps the end.
                lines.push(Line::from(vec![
                    Span::styled(label, theme.dim),
                    Span::raw(fit(image, room, Keep::End)),
                ]));
            }
        }
        None => lines.push(Line::styled("image …", theme.dim)),
    }
    let mut scaling = vec![Span::styled("auto scaling ", theme.dim)];
    match env.scaling_of(s) {
        Some(t) => {
            scaling.push(Span::raw(format!("{}–{}", t.min_capacity, t.max_capacity)));
            for p in &t.policies {
                scaling.push(Span::styled(
                    format!("  {} {}", p.metric, super::widgets::num(p.target_value)),
                    theme.dim,
                ));
            }
        }
        None if env.scaling.data.is_some() => scaling.push(Span::raw("none")),
        None => scaling.push(Span::styled("…", theme.dim)),
    }
    if let Some(cb) = s.circuit_breaker {
        scaling.push(Span::styled("  circuit breaker ", theme.dim));
        scaling.push(Span::raw(match (cb.enable, cb.rollback) {
            (true, true) => "on, rolls back",
            (true, false) => "on",
            _ => "off",
        }));
    }
    lines.push(Line::from(scaling));
    for tg in env.targets_for(s) {
        let healthy = tg.healthy();
        let total = tg.targets.len();
        let mut spans = vec![
            Span::styled("targets ", theme.dim),
            Span::styled(
                format!("{healthy}/{total} healthy"),
                if healthy == total && total > 0 {
                    theme.ok
                } else {
                    theme.warning
                },
            ),
            Span::styled(
                format!(
                    "  {} {}",
                    tg.name,
                    tg.health_check_path.as_deref().unwrap_or("")
                ),
                theme.dim,
            ),
        ];
        // The healthy targets on the same line (the count says how many if
        // it is cut), each other one on its own line with why.
        for t in tg.targets.iter().filter(|t| t.state == "healthy") {
            spans.push(Span::styled(format!("  {}", target_label(t)), theme.dim));
        }
        lines.push(Line::from(spans));
        let others: Vec<_> = tg.targets.iter().filter(|t| t.state != "healthy").collect();
        for t in others.iter().take(MAX_TARGET_LINES) {
            let style = theme.health(if t.state == "unhealthy" {
                crate::domain::Health::Critical
            } else {
                crate::domain::Health::Progressing
            });
            let why = match (t.reason.as_deref(), t.description.as_deref()) {
                (Some(r), Some(d)) => format!("{r}: {d}"),
                (Some(r), None) => r.to_string(),
                (None, Some(d)) => d.to_string(),
                (None, None) => String::new(),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("  {} ", target_label(t)), theme.dim),
                Span::styled(t.state.clone(), style),
                Span::styled(format!("  {why}"), theme.dim),
            ]));
        }
        if others.len() > MAX_TARGET_LINES {
            lines.push(Line::styled(
                format!("  +{} more not healthy", others.len() - MAX_TARGET_LINES),
                theme.dim,
            ));
        }
    }
    lines
}

/// Targets not healthy listed one a line, at most.
const MAX_TARGET_LINES: usize = 4;

/// `10.0.3.41:3000 1a`: a target's address, port and zone.
fn target_label(t: &crate::domain::TargetHealth) -> String {
    let port = t.port.map(|p| format!(":{p}")).unwrap_or_default();
    let az = t
        .availability_zone
        .as_deref()
        .map(|z| format!(" {}", z.rsplit('-').next().unwrap_or(z)))
        .unwrap_or_default();
    format!("{}{port}{az}", t.id)
}

/// `123.dkr.ecr.ap-northeast-1.amazonaws.com/app/web:1` → `app/web:1`.
fn without_registry(image: &str) -> &str {
    match image.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') => rest,
        _ => image,
    }
}

// --- metrics

/// One metric of a service on its charts and trends.
struct ServiceMetric {
    /// Chart title / trend label.
    title: &'static str,
    label: &'static str,
    namespace: &'static str,
    name: &'static str,
    /// The dimension that names the resource (alarms on it are matched by it).
    dimension: (&'static str, String),
}

/// CPU and memory of the service, then (behind a load balancer) the 5XX,
/// response time and requests of its target group, most useful first.
fn service_metrics(s: &Service) -> Vec<ServiceMetric> {
    let mut out = vec![
        ServiceMetric {
            title: "CPU",
            label: "cpu",
            namespace: "AWS/ECS",
            name: "CPUUtilization",
            dimension: ("ServiceName", s.name.clone()),
        },
        ServiceMetric {
            title: "memory",
            label: "mem",
            namespace: "AWS/ECS",
            name: "MemoryUtilization",
            dimension: ("ServiceName", s.name.clone()),
        },
    ];
    if let Some(tg) = s
        .load_balancers
        .iter()
        .find_map(|lb| lb.target_group_arn.as_deref())
    {
        let tg = crate::metrics::target_group_dimension(tg).to_string();
        for (title, label, name) in [
            ("5XX", "5xx", "HTTPCode_Target_5XX_Count"),
            ("latency", "lat", "TargetResponseTime"),
            ("requests", "req", "RequestCount"),
        ] {
            out.push(ServiceMetric {
                title,
                label,
                namespace: "AWS/ApplicationELB",
                name,
                dimension: ("TargetGroup", tg.clone()),
            });
        }
    }
    out
}

impl ServiceMetric {
    fn series<'a>(
        &self,
        data: &'a crate::metrics::MetricsData,
        s: &Service,
    ) -> Option<&'a crate::domain::MetricSeries> {
        let cluster = crate::domain::short_id(&s.cluster_arn);
        match self.name {
            "CPUUtilization" => data.service_cpu(cluster, &s.name),
            "MemoryUtilization" => data.service_memory(cluster, &s.name),
            name => data.target_group(&self.dimension.1, name),
        }
    }

    /// The threshold of the first alarm on this metric of this resource.
    fn threshold(&self, env: &EnvState) -> Option<f64> {
        env.alarms.data.iter().flatten().find_map(|a| {
            let m = a.metric.as_ref()?;
            let on = m.namespace == self.namespace
                && m.name == self.name
                && m.dimensions
                    .iter()
                    .any(|(k, v)| k == self.dimension.0 && *v == self.dimension.1);
            if on { a.threshold } else { None }
        })
    }

    fn unit(&self) -> Option<&'static str> {
        crate::metrics::known_unit(self.namespace, self.name)
    }
}

/// The metrics of the service over the chart range, side by side (as many
/// as fit, about 40 columns each), with the thresholds of the alarms on them.
fn draw_charts(
    frame: &mut Frame,
    area: Rect,
    env: &EnvState,
    s: &Service,
    now: crate::domain::Timestamp,
    theme: &Theme,
) {
    let mut metrics = service_metrics(s);
    // Requests stay a trend line; the charts are for what alarms watch.
    metrics.retain(|m| m.name != "RequestCount");
    let n = usize::from(area.width / 40).clamp(2, metrics.len());
    metrics.truncate(n);
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, n as u32); n]).split(area);
    for (m, area) in metrics.iter().zip(areas.iter()) {
        let Some(data) = &env.metrics.data else {
            draw_unloaded(frame, *area, m.title, env, theme);
            continue;
        };
        let spec = ChartSpec {
            title: format!("{} · last {}", m.title, data.range.label()),
            series: m.series(data, s),
            period_seconds: data.range.period_seconds(),
            start: data.start,
            end: data.end,
            threshold: m.threshold(env),
            alarm_periods: &[],
            age: super::chart::data_age(env, now, theme),
        };
        draw_chart(frame, *area, &spec, theme);
    }
}

/// Where a chart does not fit: one sparkline line per metric.
fn draw_trends(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    env: &EnvState,
    s: &Service,
    theme: &Theme,
) {
    let range = env
        .metrics
        .data
        .as_ref()
        .map_or(state.metric_range, |d| d.range);
    let block = panel(
        &format!("Metrics · last {}", range.label()),
        Some(env.panel_meta(Resource::Metrics)),
        state.now,
        theme,
        false,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width.saturating_sub(5));
    let metrics = service_metrics(s);
    // The alarm thresholds get their own lines only where there is room.
    let thresholds: Vec<Option<f64>> = metrics.iter().map(|m| m.threshold(env)).collect();
    let with_thresholds =
        metrics.len() + thresholds.iter().flatten().count() <= usize::from(inner.height);
    let mut lines = Vec::new();
    for (m, threshold) in metrics.iter().zip(thresholds) {
        let cell = trend_cell_up_to(env, |d| m.series(d, s), width, threshold, theme);
        let mut spans = vec![Span::styled(format!("{:<4} ", m.label), theme.dim)];
        spans.extend(cell.spans);
        lines.push(Line::from(spans));
        if let Some(t) = threshold
            && with_thresholds
        {
            lines.push(Line::styled(
                format!("     alarm above {}", format_value(t, m.unit())),
                theme.dim,
            ));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
