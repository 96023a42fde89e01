//! RDS instances (primaries followed by their replicas) and the snapshots
//! of the selected instance.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{DbInstance, DbRole};
use crate::state::{State, ViewKind};

use super::widgets::{age_since, draw_table, keep_end, panel, placeholder};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let dbs = state.visible_databases();
    let rows_h = (dbs.len().max(1) as u16 + 3).min(area.height / 2);
    // --- metrics: charts of the selected instance where there is room.
    let charts_h = area.height.saturating_sub(rows_h + 5 + 4).min(10);
    let charts_h = if charts_h >= 5 { charts_h } else { 0 };
    let [db_area, detail_area, charts_area, snap_area] = Layout::vertical([
        Constraint::Length(rows_h),
        Constraint::Length(5),
        Constraint::Length(charts_h),
        Constraint::Min(4),
    ])
    .areas(area);

    let meta = env.panel_meta(Resource::Databases);
    let block = panel(
        &format!("Databases ({})", dbs.len()),
        Some(meta),
        state.now,
        theme,
        true,
    );
    let inner = block.inner(db_area);
    frame.render_widget(block, db_area);
    if dbs.is_empty() {
        placeholder(frame, inner, meta, "databases", theme);
    } else {
        let wide = area.width >= 110;
        let mut header = vec!["ID", "ROLE"];
        let mut widths = vec![Constraint::Fill(3), Constraint::Length(7)];
        if wide {
            header.push("ENGINE");
            widths.push(Constraint::Fill(1));
        }
        header.extend(["CLASS", "STATUS", "MULTI-AZ", "STORAGE", "BACKUP"]);
        widths.extend([
            Constraint::Length(11),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(6),
        ]);
        if wide {
            header.push("CPU");
            widths.push(Constraint::Length(16));
        }
        // The ID column's width, as the table will lay it out: a long id
        // keeps its end (replicas share the primary's prefix).
        let id_width = Layout::horizontal(widths.clone())
            .spacing(1)
            .split(Rect::new(0, 0, inner.width, 1))
            .first()
            .map_or(0, |r| usize::from(r.width));
        let rows = dbs
            .iter()
            .map(|d| {
                let id = match d.role() {
                    DbRole::Primary => keep_end(&d.id, id_width),
                    DbRole::Replica => format!("└ {}", keep_end(&d.id, id_width.saturating_sub(2))),
                };
                let mut cells = vec![Cell::from(id), Cell::from(d.role().to_string())];
                if wide {
                    cells.push(Cell::from(format!("{} {}", d.engine, d.engine_version)));
                }
                cells.extend([
                    Cell::from(d.class.trim_start_matches("db.").to_string()),
                    Cell::from(Span::styled(d.status.clone(), theme.health(d.health()))),
                    Cell::from(if d.multi_az { "yes" } else { "no" }),
                    Cell::from(format!("{} GiB", d.allocated_storage_gib)),
                    Cell::from(format!("{}d", d.backup_retention_days)),
                ]);
                // --- metrics (narrow: the charts below show it)
                if wide {
                    cells.push(Cell::from(super::chart::trend_cell(
                        env,
                        |m| m.db(&d.id, "CPUUtilization"),
                        16,
                        theme,
                    )));
                }
                Row::new(cells)
            })
            .collect();
        super::widgets::draw_sorted_table(
            frame,
            inner,
            state,
            ViewKind::Databases,
            &header,
            rows,
            &widths,
            Some(state.selected(ViewKind::Databases)),
            theme,
        );
    }

    let selected = dbs.get(state.selected(ViewKind::Databases)).copied();
    let block = panel(
        selected.map_or("Instance", |d| d.id.as_str()),
        None,
        state.now,
        theme,
        false,
    );
    let inner = block.inner(detail_area);
    frame.render_widget(block, detail_area);
    if let Some(d) = selected {
        frame.render_widget(Paragraph::new(detail_lines(d, state, theme)), inner);
    }

    // --- metrics
    if charts_h > 0
        && let Some(d) = selected
    {
        draw_charts(frame, charts_area, env, d, state.now, theme);
    }

    let smeta = env.panel_meta(Resource::Snapshots);
    let snaps = selected
        .map(|d| state.snapshots_of(&d.id))
        .unwrap_or_default();
    let block = panel(
        &format!("Snapshots ({})", snaps.len()),
        Some(smeta),
        state.now,
        theme,
        false,
    );
    let inner = block.inner(snap_area);
    frame.render_widget(block, snap_area);
    if snaps.is_empty() {
        if env.snapshots.data.is_some() {
            frame.render_widget(
                Paragraph::new(Line::styled("no snapshots of this instance", theme.dim)),
                inner,
            );
        } else {
            placeholder(frame, inner, smeta, "snapshots", theme);
        }
        return;
    }
    // The creation time only when there is room: the age says it too, and
    // generated identifiers are long.
    let wide = inner.width >= 120;
    let rows = snaps
        .iter()
        .map(|s| {
            let progress = match (s.status.as_str(), s.percent_progress) {
                ("available", _) => "100%".to_string(),
                (_, Some(p)) => format!("{p}%"),
                _ => "-".to_string(),
            };
            let mut cells = vec![
                Cell::from(s.id.clone()),
                Cell::from(s.snapshot_type.clone()),
                Cell::from(Span::styled(
                    s.status.clone(),
                    if s.status == "available" {
                        theme.ok
                    } else {
                        theme.progressing
                    },
                )),
                Cell::from(progress),
                Cell::from(format!("{} GiB", s.allocated_storage_gib)),
            ];
            if wide {
                cells.push(Cell::from(s.created_at.map_or_else(
                    || "-".into(),
                    |t| {
                        format!(
                            "{} {}",
                            super::widgets::in_zone(state.timezone, t, "%Y-%m-%d %H:%M"),
                            super::widgets::zone_label(state.timezone, state.now)
                        )
                    },
                )));
            }
            cells.push(Cell::from(age_since(state.now, s.created_at)));
            Row::new(cells)
        })
        .collect();
    let mut header = vec!["SNAPSHOT", "TYPE", "STATUS", "PROG", "SIZE"];
    let mut widths = vec![
        Constraint::Fill(3),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(8),
    ];
    if wide {
        header.push("CREATED");
        widths.push(Constraint::Length(20));
    }
    header.push("AGE");
    widths.push(Constraint::Length(4));
    draw_table(frame, inner, &header, rows, &widths, None, theme);
}

fn detail_lines<'a>(d: &DbInstance, state: &State, theme: &Theme) -> Vec<Line<'a>> {
    let mut first = vec![
        Span::styled("engine ", theme.dim),
        Span::raw(format!("{} {}", d.engine, d.engine_version)),
        Span::styled("  az ", theme.dim),
        Span::raw(d.availability_zone.clone().unwrap_or_else(|| "-".into())),
    ];
    if let Some(s) = &d.secondary_availability_zone {
        first.push(Span::styled("  standby ", theme.dim));
        first.push(Span::raw(s.clone()));
    }
    if let Some(t) = &d.storage_type {
        first.push(Span::styled("  storage ", theme.dim));
        first.push(Span::raw(t.clone()));
    }
    let endpoint = vec![
        Span::styled("endpoint ", theme.dim),
        Span::raw(match (&d.endpoint, d.port) {
            (Some(e), Some(p)) => format!("{e}:{p}"),
            (Some(e), None) => e.clone(),
            _ => "-".into(),
        }),
    ];
    let mut third = Vec::new();
    if let Some(src) = &d.replica_source {
        third.push(Span::styled("replica of ", theme.dim));
        third.push(Span::raw(src.rsplit(':').next().unwrap_or(src).to_string()));
        third.push(Span::raw("  "));
    }
    if !d.replicas.is_empty() {
        let names: Vec<&str> = d
            .replicas
            .iter()
            .map(|r| r.rsplit(':').next().unwrap_or(r))
            .collect();
        third.push(Span::styled("replicas ", theme.dim));
        third.push(Span::raw(names.join(", ")));
        third.push(Span::raw("  "));
    }
    third.push(Span::styled("restorable to ", theme.dim));
    third.push(Span::raw(d.latest_restorable_time.map_or_else(
        || "-".into(),
        |t| format!("{} ago", age_since(state.now, Some(t))),
    )));
    if !d.pending_modifications.is_empty() {
        third.push(Span::styled("  pending ", theme.warning));
        third.push(Span::styled(
            d.pending_modifications.join(", "),
            theme.warning,
        ));
    }
    vec![Line::from(first), Line::from(endpoint), Line::from(third)]
}

// --- metrics

/// CPU, connections and free storage (replication lag for a replica) of
/// an instance over the chart range, with the thresholds of its alarms.
fn draw_charts(
    frame: &mut Frame,
    area: Rect,
    env: &crate::state::EnvState,
    d: &DbInstance,
    now: crate::domain::Timestamp,
    theme: &Theme,
) {
    let third = Layout::horizontal([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .split(area);
    let metrics: [(&str, &str); 3] = match d.role() {
        DbRole::Primary => [
            ("CPU", "CPUUtilization"),
            ("connections", "DatabaseConnections"),
            ("free storage", "FreeStorageSpace"),
        ],
        DbRole::Replica => [
            ("CPU", "CPUUtilization"),
            ("connections", "DatabaseConnections"),
            ("replica lag", "ReplicaLag"),
        ],
    };
    let Some(data) = &env.metrics.data else {
        for (i, (title, _)) in metrics.iter().enumerate() {
            super::chart::draw_unloaded(frame, third[i], title, env, theme);
        }
        return;
    };
    for (i, (title, metric)) in metrics.iter().enumerate() {
        let threshold = env.alarms.data.iter().flatten().find_map(|a| {
            let m = a.metric.as_ref()?;
            let on = m.namespace == "AWS/RDS"
                && m.name == *metric
                && m.dimensions
                    .iter()
                    .any(|(k, v)| k == "DBInstanceIdentifier" && *v == d.id);
            if on { a.threshold } else { None }
        });
        let spec = super::chart::ChartSpec {
            title: format!("{title} · {}", data.range.label()),
            series: data.db(&d.id, metric),
            period_seconds: data.range.period_seconds(),
            start: data.start,
            end: data.end,
            threshold,
            alarm_periods: &[],
            age: super::chart::data_age(env, now, theme),
        };
        super::chart::draw_chart(frame, third[i], &spec, theme);
    }
}
