//! ElastiCache (Redis): the replication groups of the environment (status,
//! engine, node type, Multi-AZ, automatic failover, nodes) with the
//! selected group's nodes and their trends below; a group's detail
//! (`enter`): its endpoints, nodes, the alarms on it and the charts of the
//! selected node.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{CacheHealth, CacheNode, Health, ReplicationGroup};
use crate::state::{EnvState, State, ViewKind};

use super::chart::{ChartSpec, draw_chart, draw_unloaded, trend_cell_up_to};
use super::widgets::{Keep, draw_table, fit, missing_detail, panel, placeholder};

/// How a cache's health is drawn.
pub fn health(h: CacheHealth) -> Health {
    match h {
        CacheHealth::Ok => Health::Ok,
        CacheHealth::Degraded => Health::Warning,
        CacheHealth::Failing => Health::Critical,
    }
}

fn status_style(status: &str, theme: &Theme) -> Style {
    match status {
        "available" => theme.ok,
        "creating" | "modifying" | "snapshotting" | "rebooting cache cluster nodes" => {
            theme.progressing
        }
        _ => theme.critical,
    }
}

/// `ap-northeast-1a` → `1a`.
fn short_az(az: &str) -> &str {
    az.rsplit('-').next().unwrap_or(az)
}

/// The metrics of a node the view shows: label, metric, scale ceiling.
const TRENDS: [(&str, &str, Option<f64>); 3] = [
    ("MEM", "DatabaseMemoryUsagePercentage", Some(100.0)),
    ("CPU", "EngineCPUUtilization", Some(100.0)),
    (
        "LAG",
        "ReplicationLag",
        Some(crate::state::REDIS_LAG_DEGRADED_SECS),
    ),
];

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let groups = state.visible_replication_groups();
    let selected = groups.get(state.selected(ViewKind::Redis)).copied();
    let node_rows = selected.map_or(2, |g| g.members.len().max(1) as u16);
    let rows_h = (groups.len().max(1) as u16 + 3).min(area.height / 2).max(4);
    let [table_area, detail_area, nodes_area] = Layout::vertical([
        Constraint::Length(rows_h),
        Constraint::Length(4),
        Constraint::Min(node_rows.min(4) + 3),
    ])
    .areas(area);

    let meta = env.panel_meta(Resource::ReplicationGroups);
    let block = panel(
        &format!("ElastiCache Redis ({})", groups.len()),
        Some(meta),
        state.now,
        theme,
        true,
    );
    let inner = block.inner(table_area);
    frame.render_widget(block, table_area);
    if groups.is_empty() {
        if env.has_redis() {
            placeholder(frame, inner, meta, "replication groups", theme);
        } else {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "no replication groups configured (elasticache_replication_groups)",
                    theme.dim,
                )),
                inner,
            );
        }
    } else {
        let wide = area.width >= 110;
        let mut header = vec![
            "ID", "STATUS", "ENGINE", "TYPE", "NODES", "MULTI-AZ", "FAILOVER",
        ];
        let mut widths = vec![
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(if wide { 13 } else { 11 }),
            Constraint::Length(if wide { 16 } else { 9 }),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(8),
        ];
        if wide {
            header.push("MEMORY");
            widths.push(Constraint::Length(18));
        }
        // Narrower than 80 columns: the engine and Multi-AZ are in the
        // detail below; the id keeps its room.
        let narrow = area.width < 80;
        drop_narrow(narrow, &mut header);
        drop_narrow(narrow, &mut widths);
        let rows = groups
            .iter()
            .map(|g| {
                let h = env.redis_health(g);
                let up = g
                    .members
                    .iter()
                    .filter(|m| m.health() == CacheHealth::Ok)
                    .count();
                let mut cells = vec![
                    Cell::from(Span::styled(
                        g.id.clone(),
                        if h == CacheHealth::Ok {
                            Style::default()
                        } else {
                            theme.health(health(h))
                        },
                    )),
                    Cell::from(Span::styled(
                        g.status.clone(),
                        status_style(&g.status, theme),
                    )),
                    Cell::from(g.engine_label()),
                    Cell::from(g.node_type.as_deref().map_or_else(
                        || "-".to_string(),
                        |t| {
                            if wide {
                                t.to_string()
                            } else {
                                t.trim_start_matches("cache.").to_string()
                            }
                        },
                    )),
                    Cell::from(Span::styled(
                        format!("{up}/{}", g.members.len()),
                        if up == g.members.len() {
                            theme.ok
                        } else {
                            theme.warning
                        },
                    )),
                    Cell::from(if g.multi_az { "yes" } else { "no" }),
                    Cell::from(Span::styled(
                        g.automatic_failover.clone(),
                        if g.failover_missing() {
                            theme.warning
                        } else {
                            Style::default()
                        },
                    )),
                ];
                if wide {
                    let primary = g.primary().or(g.members.first());
                    cells.push(Cell::from(match primary {
                        Some(p) => trend_cell_up_to(
                            env,
                            |d| d.redis(&p.cluster_id, "DatabaseMemoryUsagePercentage"),
                            18,
                            Some(100.0),
                            theme,
                        ),
                        None => Line::styled("-", theme.dim),
                    }));
                }
                drop_narrow(narrow, &mut cells);
                Row::new(cells)
            })
            .collect();
        super::widgets::draw_sorted_table(
            frame,
            inner,
            state,
            ViewKind::Redis,
            &header,
            rows,
            &widths,
            Some(state.selected(ViewKind::Redis)),
            theme,
        );
    }

    let block = panel(
        selected.map_or("Replication group", |g| g.id.as_str()),
        None,
        state.now,
        theme,
        false,
    );
    let inner = block.inner(detail_area);
    frame.render_widget(block, detail_area);
    if let Some(g) = selected {
        let width = usize::from(inner.width);
        frame.render_widget(Paragraph::new(summary_lines(env, g, width, theme)), inner);
    }

    let block = panel(
        &format!("Nodes ({})", selected.map_or(0, |g| g.members.len())),
        Some(env.panel_meta(Resource::Metrics)),
        state.now,
        theme,
        false,
    );
    let inner = block.inner(nodes_area);
    frame.render_widget(block, nodes_area);
    if let Some(g) = selected {
        draw_nodes(frame, inner, env, g, None, theme);
    }
}

/// The groups table's ENGINE and MULTI-AZ columns left out where narrow.
fn drop_narrow<T>(narrow: bool, columns: &mut Vec<T>) {
    if narrow && columns.len() > 5 {
        columns.remove(5);
        columns.remove(2);
    }
}

/// Two lines: what is wrong (or that nothing is), and the endpoints.
fn summary_lines<'a>(
    env: &EnvState,
    g: &ReplicationGroup,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let endpoint = match (&g.primary_endpoint, &g.configuration_endpoint) {
        (Some(p), _) => {
            let mut spans = vec![
                Span::styled("primary ", theme.dim),
                Span::raw(fit(&p.to_string(), width.saturating_sub(8), Keep::End)),
            ];
            if let Some(r) = &g.reader_endpoint
                && width >= 140
            {
                spans.push(Span::styled("  reader ", theme.dim));
                spans.push(Span::raw(r.to_string()));
            }
            Line::from(spans)
        }
        (None, Some(c)) => Line::from(vec![
            Span::styled("configuration ", theme.dim),
            Span::raw(fit(&c.to_string(), width.saturating_sub(14), Keep::End)),
        ]),
        (None, None) => Line::styled("no endpoint yet", theme.dim),
    };
    // What is wrong first: on a short screen it is the line that shows.
    vec![Line::from(problems(env, g, theme)), endpoint]
}

/// What is wrong with a group, worst first; `ok` when nothing is.
fn problems<'a>(env: &EnvState, g: &ReplicationGroup, theme: &Theme) -> Vec<Span<'a>> {
    let mut out: Vec<Span<'a>> = Vec::new();
    let mut say = |text: String, style: Style| {
        if !out.is_empty() {
            out.push(Span::styled(" · ", theme.dim));
        }
        out.push(Span::styled(text, style));
    };
    if g.status != "available" {
        say(
            format!("group {}", g.status),
            status_style(&g.status, theme),
        );
    }
    if !g.cluster_mode && g.primary().is_none() {
        say("no primary".to_string(), theme.critical);
    }
    for m in g.troubled_members() {
        say(
            format!("{} {}", m.cluster_id, m.status),
            theme.health(health(m.health())),
        );
    }
    for m in &g.members {
        let mut strain = env.redis_node_strain(m);
        if let Some(n) = env.redis_latest(m, "Evictions")
            && n > 0.0
        {
            strain.push(format!("{n:.0} evicted"));
        }
        if !strain.is_empty() {
            // `001` for `GROUP-001`: the group is named above.
            let node = m
                .cluster_id
                .strip_prefix(&format!("{}-", g.id))
                .unwrap_or(&m.cluster_id);
            say(format!("{node} {}", strain.join(", ")), theme.warning);
        }
    }
    if g.failover_missing() {
        say(
            format!("automatic failover {}", g.automatic_failover),
            theme.warning,
        );
    }
    for a in env.redis_alarms(g) {
        if a.state == crate::domain::AlarmState::Alarm {
            say(format!("ALARM {}", a.name), theme.critical);
        }
    }
    if out.is_empty() {
        out.push(Span::styled("ok", theme.ok));
        out.push(Span::styled(
            format!(
                "  {} node{}, {}",
                g.members.len(),
                if g.members.len() == 1 { "" } else { "s" },
                if g.multi_az { "Multi-AZ" } else { "one zone" }
            ),
            theme.dim,
        ));
    }
    out
}

/// The nodes of a group: role, zone, status and the trends of their
/// memory, engine CPU and replication lag.
fn draw_nodes(
    frame: &mut Frame,
    area: Rect,
    env: &EnvState,
    g: &ReplicationGroup,
    selected: Option<usize>,
    theme: &Theme,
) {
    let wide = area.width >= 110;
    let trend_w: u16 = if wide { 18 } else { 11 };
    let mut header = vec!["NODE", "ROLE", "AZ", "STATUS"];
    let mut widths = vec![
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(if wide { 15 } else { 3 }),
        Constraint::Length(if wide { 20 } else { 10 }),
    ];
    // Narrower than 80 columns: memory and lag (CPU is charted in the
    // detail).
    let trends: Vec<(&str, &str, Option<f64>)> = TRENDS
        .into_iter()
        .filter(|(label, _, _)| area.width >= 76 || *label != "CPU")
        .collect();
    for (label, _, _) in &trends {
        header.push(label);
        widths.push(Constraint::Length(trend_w));
    }
    // Members share the group's id: a long one keeps its end (`…-002`).
    let id_width = super::widgets::column_widths(area.width, &widths)
        .first()
        .copied()
        .unwrap_or(0);
    let rows = g
        .members
        .iter()
        .map(|m| {
            let h = env.redis_node_health(m);
            let az = m.availability_zone.clone().unwrap_or_else(|| "-".into());
            let mut cells = vec![
                Cell::from(Span::styled(
                    fit(&m.cluster_id, id_width, Keep::End),
                    if h == CacheHealth::Ok {
                        Style::default()
                    } else {
                        theme.health(health(h))
                    },
                )),
                Cell::from(m.role.clone().unwrap_or_else(|| "-".into())),
                Cell::from(if wide { az } else { short_az(&az).to_string() }),
                Cell::from(Span::styled(
                    m.status.clone(),
                    status_style(&m.status, theme),
                )),
            ];
            for &(_, metric, ceiling) in &trends {
                cells.push(Cell::from(
                    if metric == "ReplicationLag" && m.is_primary() {
                        Line::styled("-", theme.dim)
                    } else {
                        trend_cell_up_to(
                            env,
                            |d| d.redis(&m.cluster_id, metric),
                            usize::from(trend_w),
                            ceiling,
                            theme,
                        )
                    },
                ));
            }
            Row::new(cells)
        })
        .collect();
    draw_table(frame, area, &header, rows, &widths, selected, theme);
}

/// A replication group's detail: its summary, nodes (selectable), the
/// alarms on it and the charts of the selected node.
pub fn draw_group(frame: &mut Frame, area: Rect, state: &State, id: &str, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let Some(g) = state.replication_group(id) else {
        missing_detail(
            frame,
            area,
            ("replication group", id),
            env.replication_groups.data.is_some(),
            env.panel_meta(Resource::ReplicationGroups),
            state.now,
            theme,
        );
        return;
    };
    let alarms = env.redis_alarms(g);
    let nodes_h = g.members.len().max(1) as u16 + 3;
    let wanted_alarms = if alarms.is_empty() {
        0
    } else {
        (alarms.len() as u16 + 2).min(5)
    };
    // The summary and the nodes first; then the charts where at least 6
    // rows are left for them (beside the alarms where both fit), else the
    // alarms.
    let rest = area.height.saturating_sub(5 + nodes_h);
    let (alarms_h, charts_h) = if rest >= wanted_alarms + 6 {
        (wanted_alarms, rest - wanted_alarms)
    } else if rest >= 6 {
        (0, rest)
    } else if rest >= 3 {
        (wanted_alarms.min(rest), 0)
    } else {
        (0, 0)
    };
    let [info_area, nodes_area, alarms_area, charts_area, _] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Length(nodes_h),
        Constraint::Length(alarms_h),
        Constraint::Length(charts_h),
        Constraint::Min(0),
    ])
    .areas(area);

    let block = panel(
        &format!("{} · {}", g.id, g.engine_label()),
        Some(env.panel_meta(Resource::ReplicationGroups)),
        state.now,
        theme,
        true,
    );
    let inner = block.inner(info_area);
    frame.render_widget(block, info_area);
    let width = usize::from(inner.width);
    let mut lines = vec![Line::from(vec![
        Span::styled("status ", theme.dim),
        Span::styled(g.status.clone(), status_style(&g.status, theme)),
        Span::styled("  type ", theme.dim),
        Span::raw(g.node_type.clone().unwrap_or_else(|| "-".into())),
        Span::styled("  Multi-AZ ", theme.dim),
        Span::raw(if g.multi_az { "yes" } else { "no" }),
        Span::styled("  failover ", theme.dim),
        Span::styled(
            g.automatic_failover.clone(),
            if g.failover_missing() {
                theme.warning
            } else {
                Style::default()
            },
        ),
    ])];
    lines.extend(summary_lines(env, g, width, theme));
    frame.render_widget(Paragraph::new(lines), inner);

    let block = panel(
        &format!("Nodes ({})", g.members.len()),
        Some(env.panel_meta(Resource::Metrics)),
        state.now,
        theme,
        false,
    );
    let inner = block.inner(nodes_area);
    frame.render_widget(block, nodes_area);
    let selected = state.selected(ViewKind::RedisGroup);
    draw_nodes(frame, inner, env, g, Some(selected), theme);

    if alarms_h > 0 {
        let block = panel(
            &format!("Alarms ({})", alarms.len()),
            Some(env.panel_meta(Resource::Alarms)),
            state.now,
            theme,
            false,
        );
        let inner = block.inner(alarms_area);
        frame.render_widget(block, alarms_area);
        let lines: Vec<Line> = alarms
            .iter()
            .map(|a| {
                Line::from(vec![
                    Span::styled(
                        format!("{:<7} ", a.state.as_str()),
                        theme.alarm_state(a.state),
                    ),
                    Span::raw(a.name.clone()),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }

    if charts_h > 0
        && let Some(m) = g.members.get(selected)
    {
        draw_charts(frame, charts_area, env, m, state.now, theme);
    }
}

/// The charts of one node: memory, engine CPU, evictions, connections and
/// (a replica's) replication lag, as many as fit (about 36 columns each),
/// with the thresholds of the alarms on them.
fn draw_charts(
    frame: &mut Frame,
    area: Rect,
    env: &EnvState,
    m: &CacheNode,
    now: crate::domain::Timestamp,
    theme: &Theme,
) {
    // A replica's lag first: what makes its reads stale.
    let mut metrics: Vec<(&str, &str)> = Vec::new();
    if !m.is_primary() {
        metrics.push(("replication lag", "ReplicationLag"));
    }
    metrics.extend([
        ("memory", "DatabaseMemoryUsagePercentage"),
        ("engine CPU", "EngineCPUUtilization"),
    ]);
    metrics.extend([
        ("evictions", "Evictions"),
        ("connections", "CurrConnections"),
    ]);
    let n = usize::from(area.width / 36).clamp(2, metrics.len());
    metrics.truncate(n);
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, n as u32); n]).split(area);
    for ((title, metric), area) in metrics.iter().zip(areas.iter()) {
        let Some(data) = &env.metrics.data else {
            draw_unloaded(frame, *area, title, env, theme);
            continue;
        };
        let spec = ChartSpec {
            title: format!("{title} · {}", data.range.label()),
            series: data.redis(&m.cluster_id, metric),
            period_seconds: data.range.period_seconds(),
            start: data.start,
            end: data.end,
            threshold: threshold(env, &m.cluster_id, metric),
            alarm_periods: &[],
            age: super::chart::data_age(env, now, theme),
        };
        draw_chart(frame, *area, &spec, theme);
    }
}

/// The threshold of an alarm on this node's metric.
fn threshold(env: &EnvState, cluster: &str, metric: &str) -> Option<f64> {
    env.alarms.data.iter().flatten().find_map(|a| {
        let m = a.metric.as_ref()?;
        let on = m.namespace == "AWS/ElastiCache"
            && m.name == metric
            && m.dimensions
                .iter()
                .any(|(k, v)| k == "CacheClusterId" && v == cluster);
        if on { a.threshold } else { None }
    })
}
