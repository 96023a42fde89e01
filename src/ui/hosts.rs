//! The EC2 hosts of the environment: state, type, zone, address, uptime
//! and the two status checks; the selected host's details below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use crate::action::Resource;
use crate::config::theme::Theme;
use crate::domain::{CheckStatus, Health, Instance, InstanceHealth};
use crate::state::{State, ViewKind};

use super::widgets::{age_since, panel, placeholder};

fn state_style(i: &Instance, theme: &Theme) -> Style {
    match i.state.as_str() {
        "running" => theme.ok,
        "pending" | "stopping" => theme.progressing,
        _ => theme.critical,
    }
}

fn check_style(c: CheckStatus, theme: &Theme) -> Style {
    match c {
        CheckStatus::Ok => theme.ok,
        CheckStatus::Impaired => theme.critical,
        CheckStatus::Initializing => theme.progressing,
        CheckStatus::InsufficientData => theme.unknown,
        CheckStatus::NotApplicable => theme.dim,
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(env) = state.env() else {
        return;
    };
    let hosts = state.visible_instances();
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(4)]).areas(area);

    let meta = env.panel_meta(Resource::Instances);
    let block = panel(
        &format!("EC2 hosts ({})", hosts.len()),
        Some(meta),
        state.now,
        theme,
        true,
    );
    let inner = block.inner(table_area);
    frame.render_widget(block, table_area);
    if hosts.is_empty() {
        if env.has_ec2() {
            placeholder(frame, inner, meta, "EC2 hosts", theme);
        } else {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "no EC2 hosts configured (ec2_instances / ec2_tags)",
                    theme.dim,
                )),
                inner,
            );
        }
    } else {
        let wide = area.width >= 110;
        let mut header = vec!["NAME", "ID", "STATE"];
        let mut widths = vec![
            Constraint::Fill(1),
            Constraint::Length(19),
            Constraint::Length(8),
        ];
        if wide {
            header.push("TYPE");
            widths.push(Constraint::Length(11));
        }
        header.extend(["AZ", "IP", "UP", "CHECKS"]);
        widths.extend([
            Constraint::Length(if wide { 15 } else { 3 }),
            Constraint::Length(if wide { 15 } else { 13 }),
            Constraint::Length(4),
            Constraint::Length(12),
        ]);
        let rows = hosts
            .iter()
            .map(|i| {
                let failing = i.health() == InstanceHealth::Failing;
                let name = Span::styled(
                    i.name.clone().unwrap_or_else(|| "-".into()),
                    if failing {
                        theme.critical
                    } else {
                        Style::default()
                    },
                );
                let mut cells = vec![
                    Cell::from(name),
                    Cell::from(i.id.clone()),
                    Cell::from(Span::styled(i.state.clone(), state_style(i, theme))),
                ];
                if wide {
                    cells.push(Cell::from(i.instance_type.clone()));
                }
                let az = i.availability_zone.clone().unwrap_or_else(|| "-".into());
                cells.extend([
                    // Narrow: the zone's letter and digit (`1a`) say it.
                    Cell::from(if wide { az } else { short_az(&az).to_string() }),
                    Cell::from(i.private_ip.clone().unwrap_or_else(|| "-".into())),
                    Cell::from(age_since(state.now, i.launched_at)),
                    Cell::from(Span::styled(
                        i.checks_summary(),
                        theme.health(checks_health(i)),
                    )),
                ]);
                Row::new(cells)
            })
            .collect();
        super::widgets::draw_sorted_table(
            frame,
            inner,
            state,
            ViewKind::Hosts,
            &header,
            rows,
            &widths,
            Some(state.selected(ViewKind::Hosts)),
            theme,
        );
    }

    let selected = hosts.get(state.selected(ViewKind::Hosts)).copied();
    let block = panel(
        selected.map_or("Host", Instance::display_name),
        None,
        state.now,
        theme,
        false,
    );
    let inner = block.inner(detail_area);
    frame.render_widget(block, detail_area);
    if let Some(i) = selected {
        frame.render_widget(Paragraph::new(detail_lines(i, state, theme)), inner);
    }
}

/// The checks' column: ok when both are, failing when one is impaired.
fn checks_health(i: &Instance) -> Health {
    let both = [i.system_status, i.instance_status];
    if both.contains(&CheckStatus::Impaired) {
        Health::Critical
    } else if both.iter().all(|c| *c == CheckStatus::Ok) {
        Health::Ok
    } else if both.contains(&CheckStatus::Initializing) {
        Health::Progressing
    } else {
        Health::Unknown
    }
}

/// `ap-northeast-1a` → `1a`.
fn short_az(az: &str) -> &str {
    az.rsplit('-').next().unwrap_or(az)
}

fn detail_lines<'a>(i: &Instance, state: &State, theme: &Theme) -> Vec<Line<'a>> {
    let first = vec![
        Span::styled("type ", theme.dim),
        Span::raw(i.instance_type.clone()),
        Span::styled("  az ", theme.dim),
        Span::raw(i.availability_zone.clone().unwrap_or_else(|| "-".into())),
        Span::styled("  launched ", theme.dim),
        Span::raw(i.launched_at.map_or_else(
            || "-".into(),
            |t| {
                format!(
                    "{} {} ({} ago)",
                    super::widgets::in_zone(state.timezone, t, "%Y-%m-%d %H:%M"),
                    super::widgets::zone_label(state.timezone, state.now),
                    age_since(state.now, Some(t))
                )
            },
        )),
    ];
    let checks = vec![
        Span::styled("system check ", theme.dim),
        Span::styled(i.system_status.word(), check_style(i.system_status, theme)),
        Span::styled("  instance check ", theme.dim),
        Span::styled(
            i.instance_status.word(),
            check_style(i.instance_status, theme),
        ),
    ];
    vec![Line::from(first), Line::from(checks)]
}
